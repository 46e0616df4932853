/* File-descriptor and path syscalls on a file in the current directory and
 * on read-only host paths. Every result is printed in a form that does not
 * depend on the run (no inode numbers, times or pids), so the output of a
 * native run and of a run under Pyrene can be compared line by line.
 *
 * Only the current directory is written to; host paths are only read (the
 * default Pyrene sandbox mounts the host / read-only). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List a directory with raw getdents64, sorted (the on-disk order is not
 * part of what we compare), with the d_type of each entry. */
static void list_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        printf("open(%s) failed: %s\n", path, strerrorname_np(errno));
        return;
    }
    char buf[4096];
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        long nread = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (nread < 0) {
            printf("getdents64 failed: %s\n", strerrorname_np(errno));
            break;
        }
        if (nread == 0)
            break;
        for (long off = 0; off < nread;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                names = realloc(names, cap * sizeof *names);
            }
            if (asprintf(&names[n++], "%s type=%d", d->d_name, d->d_type) < 0)
                abort();
            off += d->d_reclen;
        }
    }
    close(fd);
    qsort(names, n, sizeof *names, cmp);
    printf("listing of %s: %zu entries\n", path, n);
    for (size_t i = 0; i < n; i++) {
        printf("  %s\n", names[i]);
        free(names[i]);
    }
    free(names);
}

static void show_stat(const char *what, const struct stat *st)
{
    printf("%s: size=%lld mode=%o nlink=%lu\n", what, (long long)st->st_size,
           (unsigned)st->st_mode, (unsigned long)st->st_nlink);
}

int main(void)
{
    char buf[256];
    struct stat st;

    /* open / write / lseek / read */
    int fd = open("data.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd);
    CHECK(write(fd, "hello, files\n", 13));
    CHECK(lseek(fd, 0, SEEK_CUR));
    CHECK(lseek(fd, 0, SEEK_SET));
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, sizeof buf));
    printf("read: %s", buf);
    CHECK(read(fd, buf, sizeof buf)); /* at EOF */
    CHECK(lseek(fd, -6, SEEK_END));
    CHECK(lseek(fd, 100, SEEK_END));
    CHECK(lseek(fd, -1, SEEK_SET)); /* EINVAL */

    /* pread / pwrite do not move the offset */
    CHECK(lseek(fd, 2, SEEK_SET));
    CHECK(pwrite(fd, "J", 1, 0));
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 5, 0));
    printf("pread: %s\n", buf);
    CHECK(lseek(fd, 0, SEEK_CUR));

    /* writev / readv */
    struct iovec wv[3] = {{"ab", 2}, {"", 0}, {"cdef\n", 5}};
    CHECK(lseek(fd, 0, SEEK_END));
    CHECK(writev(fd, wv, 3));
    char r1[4] = {0}, r2[64] = {0};
    struct iovec rv[2] = {{r1, 3}, {r2, sizeof r2 - 1}};
    CHECK(lseek(fd, 0, SEEK_SET));
    CHECK(readv(fd, rv, 2));
    printf("readv: [%s] [%s]", r1, r2);

    /* fstat */
    CHECK(fstat(fd, &st));
    show_stat("fstat data.txt", &st);
    CHECK(stat("data.txt", &st));
    show_stat("stat data.txt", &st);
    CHECK(stat("/etc/passwd", &st));
    printf("/etc/passwd is regular = %d\n", S_ISREG(st.st_mode));
    CHECK(lstat("/bin", &st));
    printf("/bin is symlink = %d\n", S_ISLNK(st.st_mode));
    CHECK(stat("no-such-file", &st));

    /* dup family and fcntl */
    int d1 = dup(fd);
    CHECK(d1);
    CHECK(dup2(fd, 20));
    CHECK(dup3(fd, 21, O_CLOEXEC));
    CHECK(dup3(fd, fd, 0)); /* EINVAL */
    CHECK(dup2(fd, fd));
    CHECK(fcntl(fd, F_DUPFD, 30));
    CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 30));
    CHECK(fcntl(21, F_GETFD));
    CHECK(fcntl(20, F_GETFD));
    CHECK(fcntl(20, F_SETFD, FD_CLOEXEC));
    CHECK(fcntl(20, F_GETFD));
    CHECK(fcntl(fd, F_GETFL));
    CHECK(fcntl(fd, F_SETFL, O_APPEND));
    CHECK(fcntl(d1, F_GETFL)); /* shared open file description */
    CHECK(lseek(d1, 0, SEEK_CUR) == lseek(fd, 0, SEEK_CUR));
    CHECK(fcntl(99, F_GETFD)); /* EBADF */
    CHECK(close(20));
    CHECK(close(20)); /* EBADF */
    CHECK(close(21));
    CHECK(close(30));
    CHECK(close(31));
    CHECK(close(d1));
    CHECK(close(fd));
    int ro = open("data.txt", O_RDONLY);
    CHECK(ro);
    CHECK(write(ro, "x", 1)); /* EBADF */
    CHECK(fcntl(ro, F_GETFL));
    CHECK(close(ro));
    CHECK(open("no-such-dir/x", O_RDONLY));
    CHECK(open("data.txt", O_RDONLY | O_DIRECTORY));
    CHECK(open("data.txt", O_WRONLY | O_CREAT | O_EXCL, 0644));

    /* directories */
    list_dir("/etc");

    /* symlinks */
    ssize_t len = readlink("/bin", buf, sizeof buf - 1);
    CHECK(len);
    if (len >= 0)
        printf("/bin -> %.*s\n", (int)len, buf);
    len = readlink("/lib64/ld-linux-x86-64.so.2", buf, sizeof buf - 1);
    CHECK(len);
    if (len >= 0)
        printf("/lib64/ld-linux-x86-64.so.2 -> %.*s\n", (int)len, buf);
    CHECK(readlink("/etc/passwd", buf, sizeof buf)); /* EINVAL */
    CHECK(readlinkat(AT_FDCWD, "/bin", buf, 3)); /* truncated */

    /* cwd */
    char cwd[4096], here[4096];
    if (getcwd(here, sizeof here) == NULL)
        printf("getcwd failed: %s\n", strerrorname_np(errno));
    int dot = open(".", O_RDONLY | O_DIRECTORY);
    CHECK(dot);
    CHECK(chdir("/etc"));
    if (getcwd(cwd, sizeof cwd))
        printf("cwd after chdir: %s\n", cwd);
    CHECK(access("passwd", R_OK)); /* relative to the new cwd */
    CHECK(chdir("no-such-dir"));
    CHECK(chdir("/etc/passwd")); /* ENOTDIR */
    CHECK(fchdir(dot));
    if (getcwd(cwd, sizeof cwd))
        printf("back where we started = %d\n", strcmp(cwd, here) == 0);
    CHECK(access("data.txt", F_OK));
    CHECK(close(dot));

    /* access / faccessat */
    CHECK(access("/etc/passwd", R_OK));
    CHECK(access("/bin/sh", X_OK));
    CHECK(access("/etc/passwd", X_OK)); /* EACCES even for root: no x bit */
    CHECK(access("/no/such/file", F_OK));
    int etc = open("/etc", O_RDONLY | O_DIRECTORY);
    CHECK(faccessat(etc, "passwd", R_OK, 0));
    CHECK(faccessat(etc, "nonexistent", F_OK, 0));
    CHECK(faccessat(AT_FDCWD, "data.txt", R_OK | W_OK, 0));
    CHECK(close(etc));

    /* identity */
    struct utsname u;
    CHECK(uname(&u));
    printf("sysname=%s machine=%s\n", u.sysname, u.machine);
    printf("getpid() > 0 = %d\n", getpid() > 0);
    printf("getppid() >= 0 = %d\n", getppid() >= 0);

    CHECK(unlink("data.txt"));
    CHECK(unlink("data.txt"));
    return 0;
}
