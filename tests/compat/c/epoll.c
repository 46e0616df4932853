/* epoll over an eventfd, a timerfd and a pipe: level and edge triggering, EPOLLONESHOT,
 * epoll_ctl and epoll_wait errors; eventfd counter and semaphore modes; timerfd one-shot
 * and interval timers (counts printed as bounds: only run-independent facts). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char *err(int rc) { return rc < 0 ? strerrorname_np(errno) : "ok"; }

static void show(const char *what, int n, struct epoll_event *ev) {
    printf("%s: n=%d", what, n);
    for (int i = 0; i < n; i++) printf(" [data=%llu ev=%#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
}

int main(void) {
    struct epoll_event ev, out[8];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int efd = eventfd(0, 0);
    int p[2];
    pipe(p);
    printf("epoll_create1(bad flags): %s\n", err(epoll_create1(1)));
    printf("epoll_create(0): %s\n", err(epoll_create(0)));

    /* eventfd: counter mode */
    uint64_t v = 3;
    write(efd, &v, 8);
    v = 4;
    write(efd, &v, 8);
    read(efd, &v, 8);
    printf("eventfd read: %llu\n", (unsigned long long)v);
    printf("eventfd short read: %s\n", err(read(efd, &v, 4)));
    int nb = eventfd(0, EFD_NONBLOCK);
    printf("eventfd empty nonblock read: %s\n", err(read(nb, &v, 8)));
    v = UINT64_MAX;
    printf("eventfd write max: %s\n", err(write(nb, &v, 8)));
    printf("eventfd2 bad flags: %s\n", err(eventfd(0, 0x100)));

    /* semaphore mode */
    int sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 4; i++) {
        int rc = read(sem, &v, 8);
        printf("sem read %d: %s %llu\n", i, err(rc), rc == 8 ? (unsigned long long)v : 0ULL);
    }

    /* epoll_ctl */
    ev.events = EPOLLIN;
    ev.data.u64 = 1;
    printf("add eventfd: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev)));
    printf("add again: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev)));
    printf("mod absent: %s\n", err(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev)));
    printf("del absent: %s\n", err(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev)));
    printf("add self: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev)));
    printf("bad op: %s\n", err(epoll_ctl(ep, 7, efd, &ev)));
    printf("bad fd: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, 77, &ev)));
    printf("not epoll: %s\n", err(epoll_ctl(efd, EPOLL_CTL_ADD, p[0], &ev)));
    int reg = open("/proc/self/exe", O_RDONLY);
    printf("regular file: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev)));
    printf("wait maxevents 0: %s\n", err(epoll_wait(ep, out, 0, 0)));
    printf("wait on non-epoll: %s\n", err(epoll_wait(efd, out, 1, 0)));

    /* level triggered: reported while readable */
    show("empty", epoll_wait(ep, out, 8, 0), out);
    v = 1;
    write(efd, &v, 8);
    show("lt 1", epoll_wait(ep, out, 8, 0), out);
    show("lt 2", epoll_wait(ep, out, 8, -1), out);
    read(efd, &v, 8);
    show("lt drained", epoll_wait(ep, out, 8, 10), out);

    /* edge triggered pipe */
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    write(p[1], "ab", 2);
    show("et 1", epoll_wait(ep, out, 8, 0), out);
    show("et 2", epoll_wait(ep, out, 8, 0), out);
    write(p[1], "c", 1);
    show("et new data", epoll_wait(ep, out, 8, 0), out);
    char buf[8];
    read(p[0], buf, sizeof buf);

    /* oneshot */
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 3;
    printf("mod oneshot: %s\n", err(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev)));
    write(p[1], "d", 1);
    show("oneshot 1", epoll_wait(ep, out, 8, 0), out);
    show("oneshot 2", epoll_wait(ep, out, 8, 0), out);
    epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
    show("rearmed", epoll_wait(ep, out, 8, 0), out);
    read(p[0], buf, sizeof buf);
    printf("del pipe: %s\n", err(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL)));

    /* timerfd: one shot, then interval */
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    printf("timerfd bad clock: %s\n", err(timerfd_create(123, 0)));
    printf("timerfd bad flags: %s\n", err(timerfd_create(CLOCK_MONOTONIC, 1)));
    struct itimerspec its = {{0, 0}, {0, 100 * 1000 * 1000}}, cur;
    printf("settime: %s\n", err(timerfd_settime(tfd, 0, &its, NULL)));
    timerfd_gettime(tfd, &cur);
    printf("gettime armed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0);
    ev.events = EPOLLIN;
    ev.data.u64 = 4;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    show("timer wait", epoll_wait(ep, out, 8, 5000), out);
    read(tfd, &v, 8);
    printf("timer expirations: %llu\n", (unsigned long long)v);
    its.it_interval.tv_nsec = 50 * 1000 * 1000;
    its.it_value.tv_nsec = 50 * 1000 * 1000;
    timerfd_settime(tfd, 0, &its, NULL);
    struct timespec nap = {0, 250 * 1000 * 1000};
    nanosleep(&nap, NULL);
    read(tfd, &v, 8);
    printf("interval expirations >= 3: %d\n", v >= 3);
    read(tfd, &v, 8); /* blocks until the next one */
    printf("blocking read: %llu\n", (unsigned long long)v);
    its.it_value.tv_nsec = 0;
    timerfd_settime(tfd, 0, &its, &cur);
    printf("disarm, old interval: %ld\n", cur.it_interval.tv_nsec);
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_nsec += 50 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) { abs.tv_sec++; abs.tv_nsec -= 1000000000; }
    int rt = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    struct itimerspec at = {{0, 0}, abs};
    printf("abstime: %s\n", err(timerfd_settime(rt, TFD_TIMER_ABSTIME, &at, NULL)));
    printf("read before: %s\n", err(read(rt, &v, 8)));
    struct pollfd pf = {rt, POLLIN, 0};
    printf("poll timerfd: %d\n", poll(&pf, 1, 5000));
    printf("read after: %s %llu\n", err(read(rt, &v, 8)), (unsigned long long)v);
    printf("settime on eventfd: %s\n", err(timerfd_settime(efd, 0, &its, NULL)));

    /* eventfd + pipe at once, and a blocking eventfd read woken by nothing but the timer */
    v = 5;
    write(efd, &v, 8);
    write(p[1], "e", 1);
    ev.events = EPOLLIN;
    ev.data.u64 = 5;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    int n = epoll_wait(ep, out, 8, 1000);
    printf("two ready: n=%d\n", n);
    show("maxevents 1", epoll_wait(ep, out, 1, 0), out);

    /* two fds of one description are two entries */
    int d = dup(p[0]);
    ev.data.u64 = 6;
    printf("add dup: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev)));
    read(efd, &v, 8);
    show("pipe and its dup", epoll_wait(ep, out, 8, 0), out);

    /* an epoll set inside another */
    int outer = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u64 = 7;
    printf("nest: %s\n", err(epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev)));
    show("outer", epoll_wait(outer, out, 8, 0), out);
    printf("loop: %s\n", err(epoll_ctl(ep, EPOLL_CTL_ADD, outer, &ev)));

    /* a closed fd leaves the set once its description is gone */
    close(p[0]);
    show("one fd closed", epoll_wait(ep, out, 8, 0), out);
    close(d);
    show("after close", epoll_wait(ep, out, 8, 0), out);
    show("outer after close", epoll_wait(outer, out, 8, 0), out);
    return 0;
}
