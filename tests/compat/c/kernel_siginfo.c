/* The siginfo of signals the kernel itself sends, which Pyrene sends in its place: SIGPIPE
 * on a write to a pipe without readers (SI_USER from the process itself) and an itimer's
 * SIGALRM, from alarm and setitimer (SI_KERNEL, no sender). Never a host pid. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t code, sender, done;

static void handler(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)ctx;
    code = info->si_code;
    sender = info->si_pid == getpid() ? 1 : info->si_pid == 0 ? 0 : -1;
    done = 1;
}

static void show(const char *what) {
    printf("%s: si_code %d, sender %s\n", what, (int)code, sender == 1 ? "itself" : sender == 0 ? "none" : "ANOTHER PID");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGPIPE, &sa, NULL) == 0 && sigaction(SIGALRM, &sa, NULL) == 0);
    int p[2];
    CHECK(pipe(p) == 0 && close(p[0]) == 0);
    CHECK(write(p[1], "x", 1) == -1);
    show("SIGPIPE");
    done = 0;
    alarm(1);
    while (!done) pause();
    show("SIGALRM from alarm");
    done = 0;
    struct itimerval it = {{0, 0}, {0, 100000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    while (!done) pause();
    show("SIGALRM from setitimer");
    return 0;
}
