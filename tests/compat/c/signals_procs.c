/* Signals between processes, process groups and sessions, job-control statuses.
 *
 * Everything runs in a child that first makes its own process group, so that kill(0)
 * and kill(-pgid) natively never reach the test runner. Pids differ between runs: only
 * relations between them are printed (si_pid == the sender's getpid(), ...). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int report_w = -1;  /* a child's handler reports through this pipe */
static volatile sig_atomic_t got;

static void say(const char *msg) { write(report_w, msg, strlen(msg)); }

static void on_usr1(int sig) { (void)sig; say("handler: SIGUSR1\n"); }
static void count(int sig) { (void)sig; got++; }

static void on_info(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    char buf[200];
    snprintf(buf, sizeof buf, "siginfo: sig %s code %d value %d pid-is-parent %d\n", sig == SIGRTMIN ? "RTMIN" : "USR2",
             si->si_code, si->si_value.sival_int, si->si_pid == getppid());
    say(buf);
}

static void handle(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void status(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(st)));
    else if (WIFSTOPPED(st))
        printf("%s: stopped by %s\n", what, sigabbrev_np(WSTOPSIG(st)));
    else if (WIFCONTINUED(st))
        printf("%s: continued\n", what);
}

static void reap(const char *what, pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        printf("%s: waitpid: %s\n", what, strerrorname_np(errno));
        return;
    }
    status(what, st);
}

/* Copy what the children reported into our stdout, in order. */
static void relay(int r) {
    char buf[512];
    ssize_t n;
    fflush(stdout);
    while ((n = read(r, buf, sizeof buf)) > 0) write(1, buf, n);
}

/* A child that says it is ready (one byte on `ready`), then waits for signals. */
static pid_t waiting_child(int ready_w, void (*setup)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        if (setup) setup();
        write(ready_w, "r", 1);
        for (;;) pause();
    }
    return pid;
}

static void usr1_handler(void) { handle(SIGUSR1, on_usr1, 0); }

static void info_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
}

static void between_processes(void) {
    int rep[2], ready[2];
    char c;
    pipe(rep);
    pipe(ready);
    report_w = rep[1];

    pid_t a = waiting_child(ready[1], usr1_handler);
    read(ready[0], &c, 1);
    CHECK(kill(a, SIGUSR1));
    CHECK(kill(a, 0));
    usleep(100000);
    CHECK(kill(a, SIGTERM));
    reap("child with a USR1 handler, then SIGTERM", a);

    pid_t b = waiting_child(ready[1], info_handlers);
    read(ready[0], &c, 1);
    union sigval v = {.sival_int = 42};
    CHECK(sigqueue(b, SIGRTMIN, v));
    usleep(100000);
    CHECK(kill(b, SIGUSR2));
    usleep(100000);
    kill(b, SIGKILL);
    reap("sigqueue child", b);

    /* groups: two children in a new group led by the first, killed with kill(-pgid) */
    pid_t g1 = waiting_child(ready[1], NULL);
    pid_t g2 = waiting_child(ready[1], NULL);
    read(ready[0], &c, 1);
    read(ready[0], &c, 1);
    CHECK(setpgid(g1, 0));
    CHECK(setpgid(g2, g1));
    printf("getpgid(g2) == g1: %d\n", getpgid(g2) == g1);
    printf("getpgid(g1) == g1: %d\n", getpgid(g1) == g1);
    printf("own group unchanged: %d\n", getpgid(0) == getpid());
    CHECK(setpgid(g2, 0x3ffffff0));
    CHECK(setpgid(g2, -1));
    CHECK(kill(-g1, SIGHUP));
    int st;
    pid_t first = waitpid(-g1, &st, 0);
    printf("waitpid(-pgid) got one of the group: %d\n", first == g1 || first == g2);
    status("group member", st);
    pid_t second = waitpid(-g1, &st, 0);
    printf("second is the other: %d\n", second == (first == g1 ? g2 : g1));
    status("group member", st);
    CHECK(waitpid(-g1, &st, WNOHANG));

    /* kill(0): our own group, ourselves included */
    pid_t m = waiting_child(ready[1], usr1_handler);
    read(ready[0], &c, 1);
    handle(SIGUSR1, count, 0);
    CHECK(kill(0, SIGUSR1));
    printf("we got our own group's signal: %d\n", (int)got);
    usleep(100000);
    kill(m, SIGKILL);
    CHECK(waitpid(0, &st, 0) == m);
    status("group-0 child", st);

    CHECK(kill(0x3ffffff0, 0));
    CHECK(kill(0x3ffffff0, SIGTERM));
    CHECK(kill(getpid(), 65));
    CHECK(setpgid(getppid(), 0));

    close(rep[1]);
    report_w = -1;
    relay(rep[0]);
    close(rep[0]);
    close(ready[0]);
    close(ready[1]);
}

static void stop_and_continue(void) {
    int st;
    pid_t p = fork();
    if (p == 0) {
        for (;;) pause();
    }
    CHECK(kill(p, SIGSTOP));
    CHECK(waitpid(p, &st, WUNTRACED) == p);
    status("after SIGSTOP", st);
    CHECK(kill(p, SIGCONT));
    CHECK(waitpid(p, &st, WCONTINUED) == p);
    status("after SIGCONT", st);
    CHECK(kill(p, SIGKILL));
    reap("stopped child", p);
}

static void broken_pipe(void) {
    int fds[2], go[2];
    char c;
    pipe(fds);
    pipe(go);
    pid_t p = fork();
    if (p == 0) {
        close(fds[0]);
        close(go[1]);
        read(go[0], &c, 1); /* EOF once the parent has closed its ends */
        write(fds[1], "x", 1);
        _exit(0);
    }
    close(fds[0]);
    close(fds[1]);
    close(go[1]);
    close(go[0]);
    reap("writer to a pipe without readers", p);
}

/* A child blocked in read() on a pipe, hit by a signal from its parent. */
static void interrupted_read(int flags) {
    int data[2], rep[2];
    pipe(data);
    pipe(rep);
    pid_t p = fork();
    if (p == 0) {
        report_w = rep[1];
        handle(SIGUSR1, on_usr1, flags);
        char buf[16];
        ssize_t n = read(data[0], buf, sizeof buf);
        char line[80];
        snprintf(line, sizeof line, "read = %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
        say(line);
        _exit(0);
    }
    close(rep[1]);
    usleep(300000);
    CHECK(kill(p, SIGUSR1));
    usleep(300000);
    write(data[1], "data", 4);
    reap(flags ? "read with SA_RESTART" : "read without SA_RESTART", p);
    relay(rep[0]);
    close(rep[0]);
    close(data[0]);
    close(data[1]);
}

static void sessions(void) {
    int rep[2];
    pipe(rep);
    pid_t p = fork();
    if (p == 0) {
        report_w = rep[1];
        char line[200];
        pid_t sid = setsid();
        snprintf(line, sizeof line, "setsid == getpid: %d, getsid == getpid: %d, getpgid == getpid: %d, getpgrp == getpid: %d\n",
                 sid == getpid(), getsid(0) == getpid(), getpgid(0) == getpid(), getpgrp() == getpid());
        say(line);
        errno = 0;
        int r = setsid();
        snprintf(line, sizeof line, "setsid again: %d %s\n", r, strerrorname_np(errno));
        say(line);
        errno = 0;
        r = setpgid(0, 0);
        snprintf(line, sizeof line, "setpgid as session leader: %d %s\n", r, strerrorname_np(errno));
        say(line);
        _exit(0);
    }
    close(rep[1]);
    reap("session child", p);
    relay(rep[0]);
    printf("a child starts in our session: ");
    pid_t q = fork();
    if (q == 0) _exit(getsid(0) == getsid(getppid()) ? 0 : 1);
    reap("same session", q);
    /* a child that has exec'd can no longer be moved */
    pid_t e = fork();
    if (e == 0) {
        execl("/bin/sleep", "sleep", "5", (char *)NULL);
        _exit(127);
    }
    usleep(300000);
    CHECK(setpgid(e, e));
    kill(e, SIGKILL);
    reap("exec'd child", e);
}

static void waiting_for_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t si;
    CHECK(kill(getpid(), SIGUSR1));
    CHECK(sigwaitinfo(&set, &si));
    printf("sigwaitinfo: code %d pid-is-self %d\n", si.si_code, si.si_pid == getpid());
    pid_t p = fork();
    if (p == 0) {
        union sigval v = {.sival_int = 7};
        sigqueue(getppid(), SIGUSR2, v);
        _exit(0);
    }
    struct timespec ts = {5, 0};
    CHECK(sigtimedwait(&set, &si, &ts));
    printf("sigtimedwait: code %d value %d pid-is-child %d\n", si.si_code, si.si_value.sival_int, si.si_pid == p);
    reap("sigqueue sender", p);
    struct timespec short_ts = {0, 50000000};
    CHECK(sigtimedwait(&set, &si, &short_ts));

    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    printf("signalfd: %d\n", sfd >= 0);
    p = fork();
    if (p == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    struct signalfd_siginfo ssi;
    CHECK(read(sfd, &ssi, sizeof ssi));
    printf("signalfd read: sig %s code %d pid-is-child %d\n", sigabbrev_np(ssi.ssi_signo), ssi.ssi_code,
           ssi.ssi_pid == (unsigned)p);
    reap("signalfd sender", p);
    fcntl(sfd, F_SETFL, O_NONBLOCK);
    CHECK(read(sfd, &ssi, sizeof ssi));
    close(sfd);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void posix_timers(void) {
    timer_t timer;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    got = 0;
    handle(SIGALRM, count, 0);
    CHECK(timer_create(CLOCK_MONOTONIC, &sev, &timer));
    struct itimerspec its = {{0, 20000000}, {0, 20000000}};
    CHECK(timer_settime(timer, 0, &its, NULL));
    while (got < 5) pause();
    struct itimerspec cur;
    CHECK(timer_gettime(timer, &cur));
    printf("interval kept: %ld\n", cur.it_interval.tv_nsec);
    CHECK(timer_delete(timer));
    printf("SIGALRMs counted: at least 5: %d\n", got >= 5);
    CHECK(timer_delete(timer));

    sev.sigev_notify = SIGEV_NONE;
    CHECK(timer_create(CLOCK_REALTIME, &sev, &timer));
    struct itimerspec one = {{0, 0}, {100, 0}};
    CHECK(timer_settime(timer, 0, &one, NULL));
    CHECK(timer_gettime(timer, &cur));
    printf("SIGEV_NONE timer runs: %d\n", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100);
    CHECK(timer_delete(timer));
}

static void on_death(int sig) {
    (void)sig;
    say("parent death signal: USR1\n");
    _exit(0);
}

/* PR_SET_PDEATHSIG: a grandchild hears of its parent's exit. */
static void parent_death(void) {
    int rep[2], ready[2];
    char c;
    pipe(rep);
    pipe(ready);
    pid_t middle = fork();
    if (middle == 0) {
        if (fork() == 0) {
            report_w = rep[1];
            handle(SIGUSR1, on_death, 0);
            prctl(PR_SET_PDEATHSIG, SIGUSR1);
            int sig = 0;
            prctl(PR_GET_PDEATHSIG, &sig);
            write(ready[1], sig == SIGUSR1 ? "y" : "n", 1);
            for (;;) pause();
        }
        read(ready[0], &c, 1);
        printf("pdeathsig set: %c\n", c);
        _exit(0);
    }
    reap("middle process", middle);
    close(rep[1]);
    relay(rep[0]);
    close(rep[0]);
    close(ready[0]);
    close(ready[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* every default action as a fresh process has it: a runner started under nohup
     * (SIGHUP ignored, and inherited) would keep kill(-pgid, SIGHUP) from ending a group */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    pid_t top = fork();
    if (top == 0) {
        CHECK(setpgid(0, 0));
        between_processes();
        stop_and_continue();
        broken_pipe();
        interrupted_read(0);
        interrupted_read(SA_RESTART);
        sessions();
        waiting_for_signals();
        posix_timers();
        parent_death();
        _exit(0);
    }
    reap("test process", top);
    return 0;
}
