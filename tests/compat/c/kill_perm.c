/* kill(2) permissions between processes with different uids (run as root): a child
 * that became uid 1000 may not signal its root parent (EPERM), except SIGCONT in its
 * session; it may signal itself and its own uid-1000 child; root may signal it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%-36s = %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
    fflush(stdout);
}

int main(void)
{
    signal(SIGCONT, SIG_IGN);
    pid_t parent = getpid();
    pid_t sibling = fork(); /* root, in a process group of its own */
    if (sibling == 0) {
        setpgid(0, 0);
        pause();
        _exit(0);
    }
    setpgid(sibling, sibling);
    int go[2], ready[2];
    if (pipe(go) < 0 || pipe(ready) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        close(go[1]);
        close(ready[0]);
        if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
            return 2;
        show("kill(parent, 0)", kill(parent, 0));
        show("kill(parent, SIGUSR1)", kill(parent, SIGUSR1));
        show("kill(parent, SIGCONT) same session", kill(parent, SIGCONT));
        show("tgkill(parent, parent, 0)", syscall(SYS_tgkill, parent, parent, 0));
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_code = SI_QUEUE;
        show("rt_sigqueueinfo(parent, SIGUSR1)", syscall(SYS_rt_sigqueueinfo, parent, SIGUSR1, &si));
        show("kill(self, 0)", kill(getpid(), 0));
        pid_t grandchild = fork();
        if (grandchild == 0) {
            pause();
            _exit(0);
        }
        show("kill(own child, SIGTERM)", kill(grandchild, SIGTERM));
        int status;
        waitpid(grandchild, &status, 0);
        printf("own child: %s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
        if (setpgid(0, 0) < 0)
            return 3;
        show("kill(-root's group, SIGUSR1)", kill(-sibling, SIGUSR1));
        write(ready[1], "r", 1); /* everything is printed and flushed */
        char c;
        read(go[0], &c, 1); /* the parent kills us */
        return 4;
    }
    close(go[0]);
    close(ready[1]);
    int status;
    char c;
    /* the child's SIGUSR1s must not have arrived: they would have killed us */
    if (read(ready[0], &c, 1) != 1)
        return 5;
    show("root: kill(child, SIGKILL)", kill(child, SIGKILL));
    waitpid(child, &status, 0);
    printf("child: %s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
    show("root: kill(-root's group, SIGTERM)", kill(-sibling, SIGTERM));
    waitpid(sibling, &status, 0);
    printf("sibling: %s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
    return 0;
}
