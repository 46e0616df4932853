/* A child's exit ends the parent's infinite wait, every time: the parent waits in
 * poll() or epoll_wait() with no timeout for the byte its SIGCHLD handler writes to a
 * pipe (the self-pipe pattern, as multiprocessing's forkserver does), many times over,
 * so that a child's exit lands at every moment of the waiter's loop. Under Pyrene the
 * parent's wait is parked in its instance, which must notice the child's exit itself.
 * An alarm turns a missed exit into a SIGALRM death instead of a hang. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 150

static int self_pipe[2];

static void on_sigchld(int sig) {
    int saved = errno;
    (void)sig;
    (void)!write(self_pipe[1], "c", 1);
    errno = saved;
}

/* Wait with no timeout until the handler's byte is there. */
static void wait_for_byte(int epfd) {
    for (;;) {
        int n;
        if (epfd >= 0) {
            struct epoll_event ev;
            n = epoll_wait(epfd, &ev, 1, -1);
        } else {
            struct pollfd p = {self_pipe[0], POLLIN, 0};
            n = poll(&p, 1, -1);
        }
        if (n > 0) break;
        if (n < 0 && errno == EINTR) continue;
        perror("wait");
        exit(1);
    }
    char c;
    while (read(self_pipe[0], &c, 1) == 1) {}
}

int main(void) {
    if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK)) return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = self_pipe[0]};
    epoll_ctl(epfd, EPOLL_CTL_ADD, self_pipe[0], &ev);
    alarm(60);
    for (int use_epoll = 0; use_epoll < 2; use_epoll++) {
        int statuses = 0;
        for (int i = 0; i < ROUNDS; i++) {
            pid_t pid = fork();
            if (pid < 0) return 2;
            if (pid == 0) {
                if (i % 3 == 1) usleep(200 * (i % 7)); /* exits at varied moments */
                _exit(i % 100);
            }
            wait_for_byte(use_epoll ? epfd : -1);
            int status;
            if (waitpid(pid, &status, 0) != pid) return 3;
            statuses += WIFEXITED(status) && WEXITSTATUS(status) == i % 100;
        }
        printf("%s: %d children, %d right statuses\n", use_epoll ? "epoll_wait" : "poll", ROUNDS, statuses);
    }
    return 0;
}
