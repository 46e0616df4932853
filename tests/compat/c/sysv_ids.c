/* System V ids and usage counts in a fresh IPC namespace (natively run under
 * `unshare --ipc`, so the values are the same as in Pyrene's new sandbox): ids are
 * seq * 32768 + index with the lowest free index; *_INFO return the highest index in use
 * and count the objects, messages, semaphores and pages in use. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "check.h"

static void msg_usage(void)
{
    struct msginfo info;
    int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
    printf("MSG_INFO = %d: queues %d messages %d bytes %d\n", max, info.msgpool, info.msgmap, info.msgtql);
}

static void sem_usage(void)
{
    struct seminfo info;
    int max = semctl(0, 0, SEM_INFO, &info);
    printf("SEM_INFO = %d: sets %d semaphores %d\n", max, info.semusz, info.semaem);
}

static void shm_usage(void)
{
    struct shm_info info;
    int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
    printf("SHM_INFO = %d: segments %d pages %lu\n", max, info.used_ids, info.shm_tot);
}

int main(void)
{
    struct { long mtype; char text[8]; } m = {1, "1234567"};
    int q[3], s[2], h[2];
    msg_usage();
    for (int i = 0; i < 3; i++)
        CHECK(q[i] = msgget(IPC_PRIVATE, 0600));
    CHECK(msgsnd(q[1], &m, 7, 0));
    CHECK(msgsnd(q[2], &m, 3, 0));
    msg_usage();
    CHECK(msgctl(q[0], IPC_RMID, NULL));
    msg_usage();
    CHECK(q[0] = msgget(IPC_PRIVATE, 0600));   /* index 0 again, next sequence */
    CHECK(msgctl(q[2], IPC_RMID, NULL));
    CHECK(q[2] = msgget(IPC_PRIVATE, 0600));
    msg_usage();
    for (int i = 0; i < 3; i++)
        CHECK(msgctl(q[i], IPC_RMID, NULL));
    msg_usage();

    CHECK(s[0] = semget(IPC_PRIVATE, 3, 0600));
    CHECK(s[1] = semget(IPC_PRIVATE, 5, 0600));
    sem_usage();
    CHECK(semctl(s[0], 0, IPC_RMID));
    CHECK(s[0] = semget(IPC_PRIVATE, 1, 0600));
    sem_usage();
    CHECK(semctl(s[0], 0, IPC_RMID));
    CHECK(semctl(s[1], 0, IPC_RMID));

    CHECK(h[0] = shmget(IPC_PRIVATE, 10000, 0600));
    CHECK(h[1] = shmget(IPC_PRIVATE, 1, 0600));
    shm_usage();
    CHECK(shmctl(h[0], IPC_RMID, NULL));
    CHECK(shmctl(h[1], IPC_RMID, NULL));
    shm_usage();
    return 0;
}
