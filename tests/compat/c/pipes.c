/* pipe and pipe2 within one process: flags, capacity and F_SETPIPE_SZ rounding,
 * PIPE_BUF atomicity, FIONREAD, fstat and /proc/self/fd, O_DIRECT packets, EOF,
 * EPIPE, and finally death by SIGPIPE. Nothing blocks: a single-threaded process
 * reading an empty pipe it can write to would wait forever on Linux too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static char buf[1 << 20];

int main(void)
{
    int p[2], q[2], n;
    CHECK(pipe(p));
    CHECK(fcntl(p[0], F_GETFL));
    CHECK(fcntl(p[1], F_GETFL));
    CHECK(fcntl(p[0], F_GETFD));
    CHECK(pipe2(q, O_CLOEXEC | O_NONBLOCK));
    CHECK(fcntl(q[0], F_GETFL));
    CHECK(fcntl(q[1], F_GETFD));
    CHECK(pipe2(q + 0, 0x1000000)); /* unknown flag */
    CHECK(syscall(SYS_pipe, 8L)); /* bad pointer */

    /* write then read; FIONREAD in between */
    CHECK(write(p[1], "hello, pipe", 11));
    CHECK(ioctl(p[0], FIONREAD, &n));
    printf("FIONREAD %d\n", n);
    CHECK(read(p[0], buf, 5));
    CHECK(read(p[0], buf, sizeof buf));
    printf("data %.6s\n", buf);
    /* readv returns what the pipe holds, even when it fills only the first buffers */
    char v1[3], v2[10];
    struct iovec iov[2] = {{v1, sizeof v1}, {v2, sizeof v2}};
    CHECK(write(p[1], "abc", 3));
    CHECK(readv(p[0], iov, 2));
    CHECK(lseek(p[0], 0, SEEK_CUR));
    CHECK(pread(p[0], buf, 1, 0));
    CHECK(read(p[1], buf, 1)); /* the write end is not readable */
    CHECK(write(p[0], "x", 1));

    /* an empty non-blocking pipe */
    CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK));
    CHECK(read(p[0], buf, 10));
    CHECK(fcntl(p[0], F_GETFL));

    /* sizes */
    CHECK(fcntl(p[0], F_GETPIPE_SZ));
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 5000));
    CHECK(fcntl(p[0], F_GETPIPE_SZ));
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 100));
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 1 << 20));
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 0));
    CHECK(fcntl(0 + p[1], F_GETPIPE_SZ));
    int f = open("pipes.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fcntl(f, F_GETPIPE_SZ));
    CHECK(fcntl(f, F_SETPIPE_SZ, 4096));

    /* fill it: writes are non-blocking now */
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 65536));
    CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK));
    memset(buf, 'z', sizeof buf);
    CHECK(write(p[1], buf, 65536 - 100));
    CHECK(write(p[1], buf, 4096)); /* <= PIPE_BUF and no room: all or nothing */
    CHECK(write(p[1], buf, 8192)); /* > PIPE_BUF: partial */
    CHECK(write(p[1], buf, 1));
    CHECK(ioctl(p[0], FIONREAD, &n));
    printf("FIONREAD %d\n", n);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096)); /* cannot shrink below the content */
    long total = 0, r;
    while ((r = read(p[0], buf, sizeof buf)) > 0)
        total += r;
    printf("drained %ld, then %s\n", total, strerrorname_np(errno));

    /* fstat and /proc/self/fd */
    struct stat a, b;
    CHECK(fstat(p[0], &a));
    CHECK(fstat(p[1], &b));
    printf("fifo %d blksize %ld same ino %d nlink %ld size %ld\n", S_ISFIFO(a.st_mode),
           (long)a.st_blksize, a.st_ino == b.st_ino, (long)a.st_nlink, (long)a.st_size);
    char link[64], target[64], want[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", p[1]);
    ssize_t len = readlink(link, target, sizeof target - 1);
    target[len < 0 ? 0 : len] = 0;
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)a.st_ino);
    printf("link is pipe:[ino]: %d\n", strcmp(target, want) == 0);

    /* O_DIRECT: packets */
    int d[2];
    CHECK(pipe2(d, O_DIRECT | O_NONBLOCK));
    CHECK(fcntl(d[0], F_GETFL));
    CHECK(write(d[1], "first", 5));
    CHECK(write(d[1], "second", 6));
    CHECK(read(d[0], buf, 100));
    CHECK(read(d[0], buf, 100));

    /* dup keeps the write end open; EOF only when the last writer goes */
    int w2 = dup(p[1]);
    CHECK(write(p[1], "tail", 4));
    CHECK(close(p[1]));
    CHECK(read(p[0], buf, 100));
    CHECK(read(p[0], buf, 100));
    CHECK(close(w2));
    CHECK(read(p[0], buf, 100));

    /* no reader: EPIPE (SIGPIPE ignored), then the default action */
    CHECK(close(q[0]));
    signal(SIGPIPE, SIG_IGN);
    CHECK(write(q[1], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    close(f);
    unlink("pipes.tmp");
    fflush(stdout);
    write(q[1], "x", 1);
    printf("not reached\n");
    return 0;
}
