/* Blocking calls ended by a signal: SIGALRM from alarm() interrupts a read() on an empty
 * pipe (no SA_RESTART: EINTR), a nanosleep (EINTR and the time left), and a poll (EINTR
 * even with SA_RESTART, as Linux does for poll). With SA_RESTART a read() is restarted:
 * the handler writes into the pipe, so the restarted read returns that byte. An interval
 * setitimer() ends pause() three times. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static int pipe_w = -1;

static void on_alarm(int sig) {
    (void)sig;
    hits++;
    if (pipe_w >= 0) write(pipe_w, "!", 1);
}

static void handle(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

int main(void) {
    int p[2];
    if (pipe(p)) return 1;
    char c;

    handle(0);
    printf("alarm(1) -> %u\n", alarm(1));
    ssize_t n = read(p[0], &c, 1);
    printf("read: %zd %s hits=%d\n", n, n < 0 ? strerrorname_np(errno) : "-", hits);

    alarm(1);
    struct timespec req = {5, 0}, rem = {0, 0};
    int rc = nanosleep(&req, &rem);
    printf("nanosleep: %d %s hits=%d rem in (3,5): %d\n", rc, rc < 0 ? strerrorname_np(errno) : "-", hits,
           rem.tv_sec >= 3 && rem.tv_sec < 5);

    printf("alarm(5) -> %u\n", alarm(5));
    printf("alarm(0) -> %u\n", alarm(0));

    handle(SA_RESTART);
    alarm(1);
    struct pollfd pf = {p[0], POLLIN, 0};
    rc = poll(&pf, 1, 5000);
    printf("poll (SA_RESTART): %d %s hits=%d\n", rc, rc < 0 ? strerrorname_np(errno) : "-", hits);

    pipe_w = p[1];
    alarm(1);
    n = read(p[0], &c, 1);
    printf("read (SA_RESTART): %zd %c hits=%d\n", n, n == 1 ? c : '?', hits);

    /* a signal that is blocked does not interrupt */
    pipe_w = -1;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, &old);
    alarm(1);
    rc = poll(&pf, 1, 1500);
    printf("poll with SIGALRM blocked: %d hits=%d\n", rc, hits);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("after unblock: hits=%d\n", hits);

    /* a blocking eventfd read ends with EINTR too */
    handle(0);
    int efd = eventfd(0, 0);
    uint64_t v;
    alarm(1);
    n = read(efd, &v, 8);
    printf("eventfd read: %zd %s hits=%d\n", n, n < 0 ? strerrorname_np(errno) : "-", hits);

    /* the pselect pattern: SIGALRM blocked except while waiting; the handler runs during
     * the wait and the mask is the caller's again afterwards */
    sigprocmask(SIG_BLOCK, &set, &old);
    int before_p = hits;
    alarm(1);
    rc = pselect(0, NULL, NULL, NULL, NULL, &old);
    sigset_t now_mask;
    sigprocmask(SIG_BLOCK, NULL, &now_mask);
    printf("pselect: %d %s handler ran %d, still blocked %d\n", rc, strerrorname_np(errno), hits - before_p,
           sigismember(&now_mask, SIGALRM));
    alarm(1);
    struct timespec five = {5, 0};
    rc = ppoll(NULL, 0, &five, &old);
    sigprocmask(SIG_BLOCK, NULL, &now_mask);
    printf("ppoll: %d %s handler ran %d, still blocked %d\n", rc, strerrorname_np(errno), hits - before_p,
           sigismember(&now_mask, SIGALRM));
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* setitimer: an interval timer ends pause() each time; alarm() sees its time left */
    handle(0);
    struct itimerval it = {{0, 100000}, {0, 100000}}, cur;
    printf("setitimer: %d\n", setitimer(ITIMER_REAL, &it, NULL));
    getitimer(ITIMER_REAL, &cur);
    printf("getitimer interval: %ld.%06ld armed %d\n", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec,
           cur.it_value.tv_sec > 0 || cur.it_value.tv_usec > 0);
    int before = hits;
    for (int i = 0; i < 3; i++) {
        rc = pause();
        printf("pause: %d %s\n", rc, strerrorname_np(errno));
    }
    printf("hits +3: %d\n", hits - before == 3);
    printf("alarm(0) after setitimer -> %u\n", alarm(0));
    getitimer(ITIMER_REAL, &cur);
    printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
    it.it_value.tv_usec = 1000000;
    rc = setitimer(ITIMER_REAL, &it, NULL);
    printf("setitimer bad usec: %d %s\n", rc, strerrorname_np(errno));
    return 0;
}
