/* poll, ppoll, select and pselect over pipes: ready, not ready, timeouts (with the time
 * left written back), POLLHUP once the writer is gone, POLLNVAL for fds that are not
 * open, EBADF from select. Prints only run-independent facts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    int p[2];
    if (pipe(p)) return 1;
    struct pollfd fds[4] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}, {99, POLLIN, 0}};

    int n = poll(fds, 4, 0);
    printf("empty: n=%d r=%#x w=%#x neg=%#x bad=%#x\n", n, fds[0].revents, fds[1].revents, fds[2].revents,
           fds[3].revents);

    double t0 = now();
    n = poll(fds, 1, 150);
    double dt = now() - t0;
    printf("timeout: n=%d waited>=0.14 %d\n", n, dt >= 0.14);

    write(p[1], "x", 1);
    n = poll(fds, 2, -1);
    printf("data: n=%d r=%#x w=%#x\n", n, fds[0].revents, fds[1].revents);

    struct timespec ts = {0, 100 * 1000 * 1000};
    n = ppoll(fds, 1, &ts, NULL);
    printf("ppoll ready: n=%d r=%#x\n", n, fds[0].revents);
    char c;
    read(p[0], &c, 1);
    ts.tv_sec = 0;
    ts.tv_nsec = 50 * 1000 * 1000;
    sigset_t empty;
    sigemptyset(&empty);
    n = ppoll(fds, 1, &ts, &empty);
    printf("ppoll timeout: n=%d left=%ld.%09ld\n", n, (long)ts.tv_sec, ts.tv_nsec);

    /* select */
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(p[0], &rs);
    FD_SET(p[1], &ws);
    struct timeval tv = {0, 100000};
    n = select(p[1] + 1, &rs, &ws, NULL, &tv);
    printf("select: n=%d r=%d w=%d left>0 %d\n", n, FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws),
           tv.tv_sec > 0 || tv.tv_usec > 0);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv.tv_sec = 0;
    tv.tv_usec = 120000;
    t0 = now();
    n = select(p[0] + 1, &rs, NULL, NULL, &tv);
    dt = now() - t0;
    printf("select timeout: n=%d r=%d left=%ld.%06ld waited>=0.11 %d\n", n, FD_ISSET(p[0], &rs), (long)tv.tv_sec,
           (long)tv.tv_usec, dt >= 0.11);
    FD_ZERO(&rs);
    FD_SET(50, &rs);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    n = select(51, &rs, NULL, NULL, &tv);
    printf("select bad fd: n=%d errno=%s\n", n, n < 0 ? strerrorname_np(errno) : "-");

    struct timespec pts = {0, 30 * 1000 * 1000};
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    n = pselect(p[0] + 1, &rs, NULL, NULL, &pts, &empty);
    printf("pselect timeout: n=%d\n", n);

    /* the writer goes away: POLLHUP for the reader, readable for select */
    write(p[1], "yz", 2);
    close(p[1]);
    fds[0].revents = 0;
    n = poll(fds, 1, -1);
    printf("data+hup: n=%d r=%#x\n", n, fds[0].revents);
    char buf[8];
    printf("read %zd\n", read(p[0], buf, sizeof buf));
    n = poll(fds, 1, -1);
    printf("hup: n=%d r=%#x\n", n, fds[0].revents);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    n = select(p[0] + 1, &rs, NULL, NULL, NULL);
    printf("select hup: n=%d r=%d\n", n, FD_ISSET(p[0], &rs));

    /* the reader goes away: POLLERR for the writer */
    int q[2];
    pipe(q);
    close(q[0]);
    struct pollfd w = {q[1], POLLOUT, 0};
    n = poll(&w, 1, 0);
    printf("no reader: n=%d w=%#x\n", n, w.revents);

    /* a regular file is always ready */
    int f = open("/proc/self/exe", O_RDONLY);
    struct pollfd rf = {f, POLLIN | POLLOUT, 0};
    n = poll(&rf, 1, -1);
    printf("file: n=%d r=%#x\n", n, rf.revents);
    return 0;
}
