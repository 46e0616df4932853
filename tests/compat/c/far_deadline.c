/* Waits whose deadline is decades away end as natively when a signal comes: a
 * sigsuspend with alarm(UINT_MAX) armed, and a ppoll of 2^40 s. (Pyrene's event loop
 * polls up to the earliest deadline; poll(2)'s timeout is an int of milliseconds.)
 * SIGUSR1 is blocked until the wait unblocks it, so the child's kill cannot come early. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

static void poke(void)
{
    pid_t parent = getpid();
    if (fork() == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);

    printf("alarm: %u\n", alarm(4294967295u));
    poke();
    int r = sigsuspend(&none);
    printf("sigsuspend: %d %s\n", r, strerror(errno));
    wait(NULL);

    struct timespec far = {(time_t)1 << 40, 0};
    poke();
    r = ppoll(NULL, 0, &far, &none);
    printf("ppoll: %d %s\n", r, strerror(errno));
    wait(NULL);
    printf("alarm left > 4e9: %d\n", alarm(0) > 4000000000u);
    return 0;
}
