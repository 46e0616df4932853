/* fallocate, the sync family, readahead/fadvise, sendfile, copy_file_range,
 * splice and O_TMPFILE, on files in the current directory (and /etc/passwd, read
 * only, as a source on another mount under Pyrene). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static void show(const char *what, int fd)
{
    struct stat st;
    char buf[64] = {0};
    fstat(fd, &st);
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == 0)
            buf[i] = '.';
    printf("%s: size %ld pos %ld data [%s]\n", what, (long)st.st_size, (long)lseek(fd, 0, SEEK_CUR),
           n > 0 ? buf : "");
}

int main(void)
{
    int p[2];
    pipe(p);
    int devnull = open("/dev/null", O_RDWR);

    puts("-- fallocate");
    int f = open("f.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(write(f, "abcdefghijklmnop", 16));
    CHECK(fallocate(f, 0, 0, 32));
    show("mode 0", f);
    CHECK(fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 100000));
    show("keep size", f);
    CHECK(fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 4));
    show("punch", f);
    CHECK(fallocate(f, FALLOC_FL_PUNCH_HOLE, 2, 4));
    CHECK(fallocate(f, 0, -1, 4));
    CHECK(fallocate(f, 0, 0, 0));
    CHECK(fallocate(p[1], 0, 0, 4));
    CHECK(fallocate(devnull, 0, 0, 4));
    int ro = open("f.tmp", O_RDONLY);
    CHECK(fallocate(ro, 0, 0, 4));
    CHECK(fallocate(99, 0, 0, 4));

    puts("-- sync family and advice");
    CHECK(fsync(f));
    CHECK(fdatasync(f));
    CHECK(syncfs(f));
    CHECK(sync_file_range(f, 0, 0, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
    CHECK(sync_file_range(f, 0, 0, 0x10));
    CHECK(sync_file_range(f, -1, 0, 0));
    CHECK(sync_file_range(p[0], 0, 0, 0));
    CHECK(syncfs(99));
    CHECK(readahead(f, 0, 4096));
    CHECK(readahead(p[0], 0, 4096));
    int wo = open("f.tmp", O_WRONLY);
    CHECK(readahead(wo, 0, 4096));
    CHECK(posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL) == 0 ? 0 : -1);
    printf("fadvise bad advice: %s\n", strerrorname_np(posix_fadvise(f, 0, 0, 42)));
    printf("fadvise pipe: %s\n", strerrorname_np(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL)));
    printf("fadvise negative len: %s\n", strerrorname_np(posix_fadvise(f, 0, -1, POSIX_FADV_NORMAL)));

    puts("-- sendfile");
    int src = open("src.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(write(src, "0123456789ABCDEFGHIJ", 20));
    int dst = open("dst.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    off_t off = 5;
    CHECK(sendfile(dst, src, &off, 4));
    printf("offset now %ld\n", (long)off);
    show("src", src);
    show("dst", dst);
    CHECK(lseek(src, 10, SEEK_SET));
    CHECK(sendfile(dst, src, NULL, 100));
    show("src", src);
    show("dst", dst);
    CHECK(sendfile(p[1], src, &off, 3));
    char buf[64] = {0};
    CHECK(read(p[0], buf, sizeof buf));
    printf("through the pipe: %s\n", buf);
    CHECK(write(p[1], "piped", 5));
    CHECK(sendfile(dst, p[0], NULL, 5));
    show("dst", dst);
    CHECK(write(p[1], "piped", 5));
    CHECK(sendfile(dst, p[0], &off, 5));
    CHECK(read(p[0], buf, sizeof buf));
    CHECK(sendfile(wo, wo, NULL, 5));
    CHECK(sendfile(ro, src, NULL, 5));
    int app = open("dst.tmp", O_WRONLY | O_APPEND);
    CHECK(sendfile(app, src, NULL, 5));
    off = -1;
    CHECK(sendfile(dst, src, &off, 5));
    CHECK(sendfile(dst, src, (off_t *)8, 5));
    int etc = open("/etc/passwd", O_RDONLY);
    CHECK(sendfile(devnull, etc, NULL, 1 << 20) > 0);

    puts("-- copy_file_range");
    off_t in = 2, out = 0;
    int cp = open("cp.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(copy_file_range(src, &in, cp, &out, 6, 0));
    printf("offsets %ld %ld\n", (long)in, (long)out);
    show("cp", cp);
    CHECK(lseek(src, 0, SEEK_SET));
    CHECK(copy_file_range(src, NULL, cp, NULL, 3, 0));
    show("src", src);
    show("cp", cp);
    in = 15;
    CHECK(copy_file_range(src, &in, cp, NULL, 100, 0)); /* stops at EOF */
    CHECK(copy_file_range(src, &in, cp, NULL, 100, 0));
    show("cp", cp);
    in = 0, out = 4;
    CHECK(copy_file_range(cp, &in, cp, &out, 6, 0)); /* overlapping */
    out = 10;
    CHECK(copy_file_range(cp, &in, cp, &out, 6, 0));
    show("cp", cp);
    CHECK(copy_file_range(src, NULL, cp, NULL, 3, 1));
    CHECK(copy_file_range(p[0], NULL, cp, NULL, 3, 0));
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(copy_file_range(dir, NULL, cp, NULL, 3, 0));
    CHECK(copy_file_range(src, NULL, app, NULL, 3, 0));
    CHECK(copy_file_range(wo, NULL, cp, NULL, 3, 0));
    CHECK(copy_file_range(src, NULL, ro, NULL, 3, 0));
    CHECK(copy_file_range(99, NULL, cp, NULL, 3, 0));
    in = 0;
    CHECK(copy_file_range(etc, &in, cp, NULL, 9, 0)); /* across mounts (file systems) */

    puts("-- splice");
    CHECK(write(p[1], "spliced!", 8));
    out = 0;
    CHECK(splice(p[0], NULL, cp, &out, 100, 0));
    show("cp", cp);
    in = 0;
    CHECK(splice(src, &in, p[1], NULL, 4, 0));
    CHECK(read(p[0], buf, sizeof buf));
    CHECK(splice(src, NULL, cp, NULL, 4, 0));
    CHECK(splice(p[0], &in, cp, NULL, 4, 0));
    CHECK(splice(p[0], NULL, cp, NULL, 4, SPLICE_F_NONBLOCK));

    puts("-- tee");
    int q[2];
    pipe(q);
    CHECK(write(p[1], "teed", 4));
    CHECK(tee(p[0], q[1], 100, 0));
    memset(buf, 0, sizeof buf);
    CHECK(read(q[0], buf, sizeof buf));
    printf("copy: %s\n", buf);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf));
    printf("original: %s\n", buf);
    CHECK(tee(p[0], q[1], 100, SPLICE_F_NONBLOCK));
    CHECK(tee(p[0], p[1], 100, SPLICE_F_NONBLOCK));
    CHECK(tee(src, q[1], 100, 0));
    CHECK(tee(q[1], p[1], 100, 0));

    puts("-- O_TMPFILE");
    int tmp = open(".", O_TMPFILE | O_RDWR, 0666);
    CHECK(tmp >= 0 ? 0 : -1);
    CHECK(write(tmp, "unnamed", 7));
    struct stat st;
    CHECK(fstat(tmp, &st));
    printf("regular %d nlink %ld mode %o size %ld\n", S_ISREG(st.st_mode), (long)st.st_nlink,
           st.st_mode & 07777, (long)st.st_size);
    show("tmpfile", tmp);
    CHECK(fcntl(tmp, F_GETFL));
    char link[64], target[300];
    snprintf(link, sizeof link, "/proc/self/fd/%d", tmp);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("link ends with (deleted): %d\n", n > 10 && strcmp(target + n - 10, " (deleted)") == 0);
    CHECK(open(".", O_TMPFILE | O_RDONLY, 0600));
    CHECK(open("f.tmp", O_TMPFILE | O_RDWR, 0600));
    CHECK(close(tmp));

    unlink("f.tmp");
    unlink("src.tmp");
    unlink("dst.tmp");
    unlink("cp.tmp");
    return 0;
}
