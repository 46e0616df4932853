/* flock, POSIX record locks and OFD record locks inside one process, on a file in
 * the current directory. Only calls that cannot block are made (a conflicting
 * F_SETLKW or blocking flock in one process would wait forever on Linux). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "check.h"

static int setlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

/* F_OFD_GETLK / F_GETLK for [start, start+len) and what it reports */
static void getlk(const char *what, int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    int r = fcntl(fd, cmd, &fl);
    if (r < 0) {
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
        return;
    }
    if (fl.l_type == F_UNLCK)
        printf("%s: unlocked\n", what);
    else
        printf("%s: %s start %ld len %ld pid %s\n", what, fl.l_type == F_RDLCK ? "read" : "write",
               (long)fl.l_start, (long)fl.l_len,
               fl.l_pid == getpid() ? "self" : fl.l_pid == -1 ? "-1" : "other");
}

int main(void)
{
    int a = open("locks.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    int b = open("locks.tmp", O_RDWR);
    int ro = open("locks.tmp", O_RDONLY);
    int wo = open("locks.tmp", O_WRONLY);
    CHECK(write(a, "0123456789", 10));

    puts("-- flock");
    CHECK(flock(a, LOCK_EX | LOCK_NB));
    CHECK(flock(b, LOCK_SH | LOCK_NB));
    CHECK(flock(b, LOCK_EX | LOCK_NB));
    int a2 = dup(a);
    CHECK(flock(a2, LOCK_EX | LOCK_NB)); /* same description: a conversion */
    CHECK(flock(a, LOCK_SH | LOCK_NB));
    CHECK(flock(b, LOCK_SH | LOCK_NB)); /* two shared locks */
    CHECK(flock(ro, LOCK_EX | LOCK_NB));
    CHECK(flock(b, LOCK_UN));
    CHECK(flock(a, LOCK_UN));
    CHECK(flock(ro, LOCK_EX | LOCK_NB)); /* read-only fds may flock */
    CHECK(close(ro));
    ro = open("locks.tmp", O_RDONLY);
    CHECK(flock(b, LOCK_EX | LOCK_NB)); /* the last close released ro's lock */
    CHECK(flock(a, LOCK_SH | LOCK_NB));
    CHECK(close(a2));
    CHECK(flock(b, LOCK_UN));
    CHECK(flock(a, 0));
    CHECK(flock(a, LOCK_SH | LOCK_EX));
    CHECK(flock(-1, LOCK_SH));

    puts("-- POSIX locks never conflict within a process");
    CHECK(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 100));
    CHECK(setlk(b, F_SETLK, F_WRLCK, SEEK_SET, 50, 10));
    getlk("F_GETLK b", b, F_GETLK, F_WRLCK, 0, 0);
    puts("-- but they do against OFD locks");
    getlk("OFD_GETLK b", b, F_OFD_GETLK, F_RDLCK, 0, 0);
    CHECK(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    CHECK(setlk(a, F_SETLK, F_UNLCK, SEEK_SET, 20, 20)); /* punch a hole */
    getlk("OFD_GETLK [20,40)", b, F_OFD_GETLK, F_WRLCK, 20, 20);
    getlk("OFD_GETLK [30,100)", b, F_OFD_GETLK, F_WRLCK, 30, 70);
    CHECK(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 25, 10));
    getlk("F_GETLK a [25,35)", a, F_GETLK, F_RDLCK, 25, 10);
    getlk("F_GETLK a [0,10)", a, F_GETLK, F_RDLCK, 0, 10);
    CHECK(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, 30, 1));
    CHECK(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));

    puts("-- closing any fd of the file drops the process's POSIX locks");
    getlk("before", b, F_OFD_GETLK, F_RDLCK, 0, 0);
    int c = open("locks.tmp", O_RDONLY);
    CHECK(close(c));
    getlk("after", b, F_OFD_GETLK, F_RDLCK, 0, 0);

    puts("-- merging, SEEK_CUR/SEEK_END, negative lengths");
    CHECK(setlk(a, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
    CHECK(setlk(a, F_SETLK, F_RDLCK, SEEK_SET, 10, 10));
    getlk("merged", b, F_OFD_GETLK, F_WRLCK, 0, 0);
    CHECK(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, 5, 3));
    getlk("split", b, F_OFD_GETLK, F_WRLCK, 0, 0);
    getlk("split [5,8)", b, F_OFD_GETLK, F_RDLCK, 4, 4);
    CHECK(setlk(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
    CHECK(lseek(a, 4, SEEK_SET));
    CHECK(setlk(a, F_SETLK, F_WRLCK, SEEK_CUR, 2, -3));
    getlk("SEEK_CUR 2 len -3", b, F_OFD_GETLK, F_RDLCK, 0, 0);
    CHECK(setlk(a, F_SETLK, F_WRLCK, SEEK_END, -2, 0));
    getlk("SEEK_END -2", b, F_OFD_GETLK, F_RDLCK, 7, 100);
    CHECK(setlk(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
    getlk("all unlocked", b, F_OFD_GETLK, F_WRLCK, 0, 0);

    puts("-- OFD locks belong to the description");
    CHECK(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    CHECK(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    a2 = dup(a);
    CHECK(close(a));
    CHECK(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    CHECK(close(a2));
    CHECK(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    getlk("POSIX vs OFD read", wo, F_GETLK, F_WRLCK, 0, 1);

    puts("-- errors");
    CHECK(setlk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    CHECK(setlk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    CHECK(setlk(b, F_SETLK, 7, SEEK_SET, 0, 1));
    CHECK(setlk(b, F_SETLK, F_RDLCK, 9, 0, 1));
    CHECK(setlk(b, F_SETLK, F_RDLCK, SEEK_SET, -5, 1));
    CHECK(setlk(b, F_SETLK, F_RDLCK, SEEK_SET, 2, -5));
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
    CHECK(fcntl(b, F_OFD_SETLK, &fl));
    getlk("GETLK F_UNLCK", b, F_GETLK, F_UNLCK, 0, 1);
    CHECK(fcntl(b, F_SETLK, (void *)8));
    int path = open("locks.tmp", O_PATH);
    CHECK(setlk(path, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    CHECK(flock(path, LOCK_SH));

    unlink("locks.tmp");
    return 0;
}
