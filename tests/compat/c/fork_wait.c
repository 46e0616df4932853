/* fork, vfork and the wait family: pids, statuses and errors as the parent sees them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void show(const char *what, int st) {
    printf("%s: exited=%d code=%d signaled=%d sig=%d stopped=%d stopsig=%d\n", what, WIFEXITED(st),
           WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0,
           WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();
    int codes[] = {0, 3, 255};
    for (int i = 0; i < 3; i++) {
        pid_t p = fork();
        if (p == 0) {
            if (getppid() != me) _exit(100);
            _exit(codes[i]);
        }
        int st;
        pid_t w = waitpid(p, &st, 0);
        printf("fork %d: waited the child: %d\n", i, w == p && p > 0 && p != me);
        show("exit", st);
    }
    int sigs[] = {SIGKILL, SIGTERM, SIGUSR1};
    for (int i = 0; i < 3; i++) {
        pid_t p = fork();
        if (p == 0) {
            raise(sigs[i]);
            _exit(9);
        }
        int st;
        CHECK(waitpid(p, &st, 0) == p);
        show("signal", st);
    }
    /* WNOHANG on a running child, then wait4(-1) */
    int go[2];
    CHECK(pipe(go));
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(go[1]);
        read(go[0], &c, 1);
        _exit(42);
    }
    close(go[0]);
    int st = 0;
    CHECK(waitpid(p, &st, WNOHANG));
    CHECK(write(go[1], "x", 1));
    CHECK(wait4(-1, &st, 0, NULL) == p);
    show("wait4(-1)", st);
    CHECK(waitpid(-1, &st, WNOHANG));
    CHECK(waitpid(4242, &st, 0));
    /* waitid with P_PID and WNOWAIT, then P_ALL */
    p = fork();
    if (p == 0) _exit(17);
    siginfo_t si = {0};
    CHECK(waitid(P_PID, p, &si, WEXITED | WNOWAIT));
    printf("waitid: pid ok %d code %d status %d\n", si.si_pid == p, si.si_code == CLD_EXITED, si.si_status);
    CHECK(waitid(P_ALL, 0, &si, WEXITED));
    printf("waitid: pid ok %d status %d\n", si.si_pid == p, si.si_status);
    CHECK(waitid(P_ALL, 0, &si, WEXITED));
    /* vfork: the parent waits until the child has exited, and sees its writes */
    volatile int shared = 0;
    p = vfork();
    if (p == 0) {
        shared = 5;
        _exit(6);
    }
    printf("vfork: shared %d\n", shared);
    CHECK(waitpid(p, &st, 0) == p);
    show("vfork", st);
    /* the child is in its parent's process group and session */
    p = fork();
    if (p == 0) _exit(getpgrp() == getpgid(getppid()) && getsid(0) == getsid(getppid()) ? 0 : 1);
    CHECK(waitpid(p, &st, 0) == p);
    show("same group", st);
    /* a grandchild: the child forks and waits too */
    p = fork();
    if (p == 0) {
        pid_t q = fork();
        if (q == 0) _exit(1);
        int s2;
        if (waitpid(q, &s2, 0) != q) _exit(50);
        _exit(WEXITSTATUS(s2) + 20);
    }
    CHECK(waitpid(p, &st, 0) == p);
    show("grandchild", st);
    return 0;
}
