/* Permission checks for a non-root user, in a tree the test prepares in the
 * current directory (see test_vfs.py: make_perm_tree). Prints each result as
 * "expr = 0/fd" or "expr = -1 ERRNAME"; nothing that depends on the run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        if (r_ < 0)                                                            \
            printf("%s = -1 %s\n", #expr, strerrorname_np(errno));             \
        else                                                                   \
            printf("%s = ok\n", #expr);                                        \
    } while (0)

#define OPEN(expr)                                                             \
    do {                                                                       \
        errno = 0;                                                             \
        int fd_ = (expr);                                                      \
        if (fd_ < 0)                                                           \
            printf("%s = -1 %s\n", #expr, strerrorname_np(errno));             \
        else {                                                                 \
            printf("%s = fd\n", #expr);                                        \
            close(fd_);                                                        \
        }                                                                      \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct stat st;
    printf("uid %d gid %d\n", getuid(), getgid());

    puts("== open");
    OPEN(open("own", O_RDWR));
    OPEN(open("other", O_RDONLY));
    OPEN(open("other", O_WRONLY));
    OPEN(open("other-r", O_RDONLY));
    OPEN(open("other-r", O_RDWR));
    OPEN(open("other-r", O_RDONLY | O_TRUNC));
    OPEN(open("other-r", O_PATH));
    OPEN(open("group-rw", O_RDWR));
    OPEN(open("noread", O_RDONLY));
    OPEN(open("nosearch/file", O_RDONLY));
    OPEN(open("nosearch/file", O_PATH));
    OPEN(open("nosearch", O_RDONLY | O_DIRECTORY));
    OPEN(open("noread-dir", O_RDONLY | O_DIRECTORY));
    OPEN(open("noread-dir/file", O_RDONLY));
    OPEN(open("rootdir/new", O_WRONLY | O_CREAT, 0644));
    OPEN(open("rootdir/file", O_WRONLY | O_CREAT, 0644));
    OPEN(open("own", O_WRONLY | O_CREAT | O_EXCL, 0644));

    puts("== stat and access");
    CHECK(stat("nosearch/file", &st));
    CHECK(stat("nosearch", &st));
    CHECK(stat("nosearch/.", &st));
    CHECK(stat("nosearch/", &st));
    CHECK(stat("./nosearch/./.", &st));
    CHECK(lstat("nosearch/../own", &st));
    CHECK(access("own", R_OK | W_OK));
    CHECK(access("own", X_OK));
    CHECK(access("exec", X_OK));
    CHECK(access("other", R_OK));
    CHECK(access("other-r", R_OK));
    CHECK(access("other-r", W_OK));
    CHECK(access("group-rw", R_OK | W_OK));
    CHECK(access("nosearch/file", F_OK));
    CHECK(access("/ro/file", W_OK));
    CHECK(access("/ro/file", R_OK));
    CHECK(access("/ro", W_OK));
    CHECK(mkdir("/ro/x", 0755));
    CHECK(unlink("/ro/file"));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "other-r", R_OK, AT_EACCESS));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "other", R_OK, AT_EACCESS));
    CHECK(chdir("nosearch"));
    CHECK(chdir("noread-dir"));
    CHECK(chdir(".."));

    puts("== names");
    CHECK(mkdir("rootdir/d", 0755));
    CHECK(mkdir("nosearch/d", 0755));
    CHECK(symlink("x", "rootdir/l"));
    CHECK(mknod("rootdir/fifo", S_IFIFO | 0644, 0));
    CHECK(unlink("rootdir/file"));
    CHECK(rmdir("rootdir/sub"));
    CHECK(rename("rootdir/file", "moved"));
    CHECK(rename("own", "rootdir/own"));
    CHECK(unlink("sticky/theirs"));
    CHECK(rename("sticky/theirs", "sticky/x"));
    CHECK(unlink("sticky/mine"));
    CHECK(link("other", "other-link"));
    CHECK(link("group-rw", "group-link"));
    CHECK(link("own", "own-link"));
    CHECK(unlink("own-link"));
    CHECK(symlink("own", "own-sym"));
    CHECK(unlink("own-sym"));

    puts("== what the user makes is the user's");
    int fd = open("mine", O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(write(fd, "x", 1));
    close(fd);
    OPEN(open("mine", O_RDONLY));
    CHECK(mkdir("mydir", 0700));
    CHECK(symlink("mine", "mylink"));
    CHECK(mknod("myfifo", S_IFIFO | 0600, 0));
    CHECK(mkdir("sgid/sub", 0700));
    fd = open("sgid/file", O_WRONLY | O_CREAT | O_EXCL, 0600);
    close(fd);
    const char *made[] = {"mine", "mydir", "mylink", "myfifo", "sgid/sub", "sgid/file", NULL};
    for (const char **p = made; *p; p++) {
        CHECK(lstat(*p, &st));
        printf("%s: mode %o uid %d gid %d\n", *p, st.st_mode, st.st_uid, st.st_gid);
    }
    CHECK(write(open("mydir/f", O_WRONLY | O_CREAT, 0600), "y", 1));
    CHECK(rename("mine", "mydir/mine"));
    CHECK(unlink("mydir/mine"));

    puts("== metadata");
    CHECK(chmod("own", 0600));
    CHECK(chmod("other-r", 0666));
    CHECK(chown("own", 0, -1));
    CHECK(chown("own", -1, 1000));
    CHECK(chown("own", -1, 0));
    CHECK(chown("own", 1000, 1000));
    CHECK(chown("other-r", -1, 1000));
    CHECK(utimensat(AT_FDCWD, "other-r", NULL, 0));
    CHECK(utimensat(AT_FDCWD, "group-rw", NULL, 0));
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    CHECK(utimensat(AT_FDCWD, "group-rw", ts, 0));
    CHECK(utimensat(AT_FDCWD, "own", ts, 0));
    CHECK(truncate("other-r", 0));
    CHECK(truncate("group-rw", 1));
    CHECK(truncate("own", 1));
    CHECK(lstat("own", &st));
    printf("own: mode %o size %ld\n", st.st_mode, (long)st.st_size);
    return 0;
}
