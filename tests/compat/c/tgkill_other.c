/* tgkill and tkill to a thread of another process: the child's second thread (which
 * blocks nothing) gets the signal, while the child's main thread blocks it; a tid
 * named with the wrong process is ESRCH. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int report[2];
static volatile pid_t worker_tid;

static void on_usr(int sig)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%s in the %s thread\n", sig == SIGUSR1 ? "USR1" : "USR2",
                     syscall(SYS_gettid) == worker_tid ? "second" : "main");
    write(report[1], line, n);
}

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = syscall(SYS_gettid);
    pid_t tid = worker_tid;
    write(report[1], &tid, sizeof tid);
    for (;;)
        pause();
    return NULL;
}

static void show(const char *what, long r)
{
    printf("%-32s = %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
    fflush(stdout);
}

int main(void)
{
    if (pipe(report) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        signal(SIGUSR1, on_usr);
        signal(SIGUSR2, on_usr);
        sigset_t both;
        sigemptyset(&both);
        sigaddset(&both, SIGUSR1);
        sigaddset(&both, SIGUSR2);
        pthread_t th;
        pthread_create(&th, NULL, worker, NULL); /* it starts with the mask below unset */
        pthread_sigmask(SIG_BLOCK, &both, NULL);
        for (;;)
            pause();
    }
    pid_t tid;
    if (read(report[0], &tid, sizeof tid) != sizeof tid)
        return 2;
    char line[64];
    show("tgkill(child, thread, SIGUSR1)", syscall(SYS_tgkill, child, tid, SIGUSR1));
    ssize_t n = read(report[0], line, sizeof line);
    printf("%.*s", (int)n, line);
    show("tkill(thread, SIGUSR2)", syscall(SYS_tkill, tid, SIGUSR2));
    n = read(report[0], line, sizeof line);
    printf("%.*s", (int)n, line);
    show("tgkill(self, thread, 0)", syscall(SYS_tgkill, getpid(), tid, 0));
    show("tgkill(child, child, 0)", syscall(SYS_tgkill, child, child, 0));
    show("tgkill(child, self, 0)", syscall(SYS_tgkill, child, getpid(), 0));
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    show("tkill(thread, 0) after its end", syscall(SYS_tkill, tid, 0));
    return 0;
}
