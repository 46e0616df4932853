/* A child's exit ends its parent's wait: 100 times, the parent waits in ppoll() with
 * no fds and no timeout while its child exits, SIGCHLD blocked except during the wait
 * (so a child that exits first is no race); SIGCHLD must end it (EINTR) every time. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_chld(int sig) { (void)sig; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t chld, none;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int interrupted = 0;
    for (int i = 0; i < 100; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            usleep(i % 10 * 100);
            _exit(7);
        }
        if (ppoll(NULL, 0, NULL, &none) < 0 && errno == EINTR)
            interrupted++;
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
            printf("child %d: status %#x\n", i, status);
    }
    printf("interrupted %d of 100\n", interrupted);
    return 0;
}
