/* System V IPC between processes: a message queue with a blocking msgrcv by type and a
 * blocking msgsnd to a full queue, a semaphore ping-pong with blocking semop, GETNCNT
 * of a waiting process, SEM_UNDO applied when the process exits, a shared memory
 * segment written by the child and read by the parent, shm_nattch across fork and exit,
 * IPC_RMID while another process is attached. Objects are IPC_PRIVATE (no key can
 * collide with another run) and removed at the end. Pids are printed as "parent" or
 * "child"; stdout is unbuffered and the processes take turns through pipes. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int to_child[2], to_parent[2];
static pid_t parent, child;

static void say(int pipe_fds[2]) { (void)!write(pipe_fds[1], "x", 1); }

static void hear(int pipe_fds[2])
{
    char c;
    if (read(pipe_fds[0], &c, 1) != 1) {
        printf("pipe closed\n");
        exit(1);
    }
}

static const char *who(pid_t pid)
{
    return pid == parent ? "parent" : pid == child && child ? "child" : pid == 0 ? "none" : "another";
}

static void reap(void)
{
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    if (WIFEXITED(status))
        printf("child exited %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("child killed by %s\n", sigabbrev_np(WTERMSIG(status)));
}

struct msg {
    long mtype;
    char text[32];
};

static void receive(int q, long type, int flags)
{
    struct msg m = {0};
    ssize_t n = msgrcv(q, &m, sizeof m.text, type, flags);
    if (n < 0)
        printf("msgrcv(type %ld) = -1 %s\n", type, strerrorname_np(errno));
    else
        printf("msgrcv(type %ld) = %zd: type %ld \"%.*s\"\n", type, n, m.mtype, (int)n, m.text);
}

static int send(int q, long type, const char *text, int flags)
{
    struct msg m = {.mtype = type};
    snprintf(m.text, sizeof m.text, "%s", text);
    return msgsnd(q, &m, strlen(text), flags);
}

static void semops(int s, unsigned short num, short op, short flg)
{
    struct sembuf b = {.sem_num = num, .sem_op = op, .sem_flg = flg};
    if (semop(s, &b, 1) < 0)
        printf("semop(%u, %d) = -1 %s\n", num, op, strerrorname_np(errno));
}

static void messages(void)
{
    puts("-- message queue: msgrcv by type waits for the producer");
    int q;
    CHECK_ID(q, msgget(IPC_PRIVATE, 0600));
    child = fork();
    if (child == 0) {
        say(to_parent);
        receive(q, 2, 0); /* waits: the parent sends type 1 first, then type 2 */
        receive(q, 1, 0);
        receive(q, 0, IPC_NOWAIT);
        say(to_parent);
        hear(to_child);
        /* the queue is full (qbytes 10): this send waits for the parent's msgrcv */
        int sent = send(q, 4, "67890", 0);
        say(to_parent);
        hear(to_child);
        printf("child: blocking msgsnd = %d\n", sent);
        _exit(0);
    }
    hear(to_parent);
    usleep(100000); /* the child really waits (the output does not depend on it) */
    int first = send(q, 1, "first", 0), second = send(q, 2, "second", 0);
    hear(to_parent);
    printf("parent: msgsnd = %d, %d\n", first, second);
    struct msqid_ds ds;
    CHECK(msgctl(q, IPC_STAT, &ds));
    printf("qnum %lu lspid %s lrpid %s\n", (unsigned long)ds.msg_qnum, who(ds.msg_lspid), who(ds.msg_lrpid));
    ds.msg_qbytes = 10;
    CHECK(msgctl(q, IPC_SET, &ds));
    CHECK(send(q, 3, "12345", 0));
    CHECK(send(q, 3, "12345", IPC_NOWAIT)); /* 10 bytes: room for exactly this */
    say(to_child);
    usleep(100000);
    receive(q, 3, 0);
    hear(to_parent);
    say(to_child);
    reap();
    receive(q, 3, 0);
    receive(q, 4, 0);
    CHECK(msgctl(q, IPC_STAT, &ds));
    printf("qnum %lu lspid %s lrpid %s\n", (unsigned long)ds.msg_qnum, who(ds.msg_lspid), who(ds.msg_lrpid));

    puts("-- IPC_RMID ends a wait with EIDRM");
    child = fork();
    if (child == 0) {
        say(to_parent);
        receive(q, 0, 0);
        _exit(0);
    }
    hear(to_parent);
    usleep(100000);
    int removed = msgctl(q, IPC_RMID, NULL);
    reap();
    printf("msgctl(IPC_RMID) = %d\n", removed);
}

static void semaphores(void)
{
    puts("-- semaphores: ping-pong with blocking semop");
    int s;
    CHECK_ID(s, semget(IPC_PRIVATE, 4, 0600));
    child = fork();
    if (child == 0) {
        for (int i = 0; i < 3; i++) {
            semops(s, 0, -1, 0);
            printf("child: ping %d\n", i);
            semops(s, 1, 1, 0);
        }
        _exit(0);
    }
    for (int i = 0; i < 3; i++) {
        semops(s, 0, 1, 0);
        semops(s, 1, -1, 0);
        printf("parent: pong %d\n", i);
    }
    reap();
    printf("sem 1 pid %s\n", who(semctl(s, 1, GETPID)));

    puts("-- GETNCNT and GETZCNT count the waiting process");
    CHECK(semctl(s, 3, SETVAL, 1));
    child = fork();
    if (child == 0) {
        semops(s, 2, -1, 0);
        printf("child: got sem 2\n");
        semops(s, 3, 0, 0);
        printf("child: sem 3 is zero\n");
        _exit(0);
    }
    int n = 0;
    for (int i = 0; i < 500 && (n = semctl(s, 2, GETNCNT)) != 1; i++)
        usleep(10000);
    printf("GETNCNT sem 2 = %d\n", n);
    semops(s, 2, 1, 0);
    for (int i = 0; i < 500 && (n = semctl(s, 3, GETZCNT)) != 1; i++)
        usleep(10000);
    printf("GETZCNT sem 3 = %d, GETNCNT sem 2 = %d\n", n, semctl(s, 2, GETNCNT));
    int zeroed = semctl(s, 3, SETVAL, 0);
    reap();
    printf("semctl(SETVAL 0) = %d\n", zeroed);

    puts("-- SEM_UNDO is applied when the child exits");
    CHECK(semctl(s, 2, SETVAL, 5));
    child = fork();
    if (child == 0) {
        semops(s, 2, 3, SEM_UNDO);
        semops(s, 3, 2, SEM_UNDO);
        semops(s, 3, -1, 0); /* no undo for this one */
        say(to_parent);
        hear(to_child);
        _exit(0);
    }
    hear(to_parent);
    printf("while the child lives: sem 2 = %d, sem 3 = %d, pid %s\n", semctl(s, 2, GETVAL), semctl(s, 3, GETVAL),
           who(semctl(s, 2, GETPID)));
    semops(s, 3, -1, 0); /* 1 -> 0: the undo of +2 would go below zero and stops at 0 */
    say(to_child);
    reap();
    printf("after its exit: sem 2 = %d, sem 3 = %d, pid %s\n", semctl(s, 2, GETVAL), semctl(s, 3, GETVAL),
           who(semctl(s, 2, GETPID)));

    puts("-- IPC_RMID ends a semop wait with EIDRM");
    child = fork();
    if (child == 0) {
        say(to_parent);
        semops(s, 0, -1, 0);
        _exit(0);
    }
    hear(to_parent);
    usleep(100000);
    int removed = semctl(s, 0, IPC_RMID);
    reap();
    printf("semctl(IPC_RMID) = %d\n", removed);
}

static void shared_memory(void)
{
    puts("-- shared memory: the child's writes, nattch across processes");
    int m;
    CHECK_ID(m, shmget(IPC_PRIVATE, 10000, 0600));
    char *p = shmat(m, NULL, 0);
    struct shmid_ds ds;
    child = fork();
    if (child == 0) {
        CHECK(shmctl(m, IPC_STAT, &ds));
        printf("child: nattch %lu (inherited)\n", (unsigned long)ds.shm_nattch);
        char *q = shmat(m, NULL, 0);
        strcpy(q + 5000, "written by the child");
        strcpy(p, "through the inherited attach");
        CHECK(shmctl(m, IPC_STAT, &ds));
        printf("child: nattch %lu\n", (unsigned long)ds.shm_nattch);
        say(to_parent);
        hear(to_child);
        _exit(0);
    }
    hear(to_parent);
    printf("parent reads: \"%s\", \"%s\"\n", p, p + 5000);
    CHECK(shmctl(m, IPC_STAT, &ds));
    printf("nattch %lu cpid %s lpid %s\n", (unsigned long)ds.shm_nattch, who(ds.shm_cpid), who(ds.shm_lpid));
    puts("-- IPC_RMID while the child is attached");
    CHECK(shmctl(m, IPC_RMID, NULL));
    CHECK(shmctl(m, IPC_STAT, &ds));
    printf("nattch %lu key %s dest %s\n", (unsigned long)ds.shm_nattch, ds.shm_perm.__key ? "kept" : "private",
           ds.shm_perm.mode & SHM_DEST ? "yes" : "no");
    say(to_child);
    reap();
    CHECK(shmctl(m, IPC_STAT, &ds));
    printf("after the child's exit: nattch %lu lpid %s\n", (unsigned long)ds.shm_nattch, who(ds.shm_lpid));
    CHECK(shmdt(p));
    CHECK(shmctl(m, IPC_STAT, &ds));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    parent = getpid();
    CHECK(pipe(to_child));
    CHECK(pipe(to_parent));
    messages();
    semaphores();
    shared_memory();
    return 0;
}
