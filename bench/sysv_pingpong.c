/* Round trips between two processes: a System V message queue ping-pong (msgsnd of
 * type 1, msgrcv of type 2 in the parent; the reverse in the child), and the same over
 * two pipes for comparison. Prints the mean round-trip time of each in microseconds.
 * Usage: sysv_pingpong [ROUNDS] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct msg {
    long mtype;
    char text[8];
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double msg_rounds(int rounds)
{
    int q = msgget(IPC_PRIVATE, 0600);
    struct msg m = {.mtype = 1};
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < rounds; i++) {
            msgrcv(q, &m, sizeof m.text, 1, 0);
            m.mtype = 2;
            msgsnd(q, &m, sizeof m.text, 0);
        }
        _exit(0);
    }
    double start = now();
    for (int i = 0; i < rounds; i++) {
        m.mtype = 1;
        msgsnd(q, &m, sizeof m.text, 0);
        msgrcv(q, &m, sizeof m.text, 2, 0);
    }
    double elapsed = now() - start;
    waitpid(child, NULL, 0);
    msgctl(q, IPC_RMID, NULL);
    return elapsed;
}

static double pipe_rounds(int rounds)
{
    int there[2], back[2];
    char c = 'x';
    if (pipe(there) || pipe(back))
        exit(1);
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < rounds; i++) {
            (void)!read(there[0], &c, 1);
            (void)!write(back[1], &c, 1);
        }
        _exit(0);
    }
    double start = now();
    for (int i = 0; i < rounds; i++) {
        (void)!write(there[1], &c, 1);
        (void)!read(back[0], &c, 1);
    }
    double elapsed = now() - start;
    waitpid(child, NULL, 0);
    return elapsed;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1000;
    printf("msg round trip: %.1f us\n", msg_rounds(rounds) / rounds * 1e6);
    printf("pipe round trip: %.1f us\n", pipe_rounds(rounds) / rounds * 1e6);
    return 0;
}
