/* A signal sent to a child right after fork() reaches it (handled, once), however soon
 * it comes: 200 forks, each child signalled by its parent at once. (Under Pyrene the
 * child waits for its new instance meanwhile: the signal must wait too.) */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig) { (void)sig; got++; }

int main(void)
{
    signal(SIGUSR1, on_usr1);
    int lost = 0, killed = 0;
    for (int i = 0; i < 200; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int n = 0; n < 5000 && !got; n++)
                usleep(1000);
            _exit(got == 1 ? 0 : 1);
        }
        kill(pid, SIGUSR1);
        int status;
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status)) {
            if (!killed++)
                printf("child killed by %s\n", strsignal(WTERMSIG(status)));
        }
        else if (WEXITSTATUS(status))
            lost++;
    }
    printf("lost %d, killed %d\n", lost, killed);
    return 0;
}
