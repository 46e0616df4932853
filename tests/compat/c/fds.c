/* close_range and the dup family at their edges: EBADF/EINVAL/EMFILE, against a
 * lowered RLIMIT_NOFILE so that running out of fds is quick. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

static void open_fds(const char *what)
{
    printf("%s:", what);
    for (int fd = 0; fd < 64; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0)
            printf(" %d%s", fd, flags & FD_CLOEXEC ? "c" : "");
    }
    printf("\n");
}

int main(void)
{
    struct rlimit rl = {32, 32};
    CHECK(setrlimit(RLIMIT_NOFILE, &rl));
    for (int i = 0; i < 10; i++)
        open("/dev/null", O_RDONLY);
    open_fds("start");

    puts("-- close_range");
    CHECK(close_range(5, 6, 0));
    open_fds("5-6 closed");
    CHECK(close_range(7, 9, CLOSE_RANGE_CLOEXEC));
    open_fds("7-9 cloexec");
    CHECK(close_range(9, 7, 0));
    CHECK(close_range(7, 9, 0x80));
    CHECK(close_range(11, ~0U, CLOSE_RANGE_UNSHARE));
    open_fds("11- closed");
    CHECK(close_range(40, 50, 0));

    puts("-- dup family");
    CHECK(dup(99));
    CHECK(dup(-1));
    CHECK(dup2(3, 3));
    CHECK(dup2(99, 3));
    CHECK(dup2(99, 99));
    CHECK(dup2(3, -1));
    CHECK(dup2(3, 32));
    CHECK(dup2(3, 31));
    CHECK(dup3(3, 3, 0));
    CHECK(dup3(3, 4, 0x1));
    CHECK(dup3(3, 4, O_CLOEXEC));
    CHECK(dup3(3, 32, 0));
    CHECK(dup3(99, 4, 0));
    CHECK(fcntl(3, F_DUPFD, 32));
    CHECK(fcntl(3, F_DUPFD, 20));
    CHECK(fcntl(3, F_DUPFD_CLOEXEC, 25));
    CHECK(fcntl(99, F_DUPFD, 0));
    open_fds("after dups");

    puts("-- running out");
    int got = 0;
    while (dup(0) >= 0)
        got++;
    printf("dup until %s after %d more\n", strerrorname_np(errno), got);
    CHECK(fcntl(0, F_DUPFD, 0));
    CHECK(open("/dev/null", O_RDONLY));
    CHECK(memfd_create("x", 0));
    CHECK(close(30));
    int p[2] = {-1, -1};
    CHECK(pipe(p)); /* room for one end only: no fd may leak */
    printf("pipe fds %d %d\n", p[0], p[1]);
    CHECK(dup(0));
    CHECK(close_range(3, ~0U, 0));
    open_fds("end");
    return 0;
}
