/* System V permissions for a non-root user (uid/gid 1000: natively the test drops to
 * it, under Pyrene the manifest says so): the creator keeps control after giving an
 * object away with IPC_SET, the mode bits decide msgsnd/IPC_STAT/shmat/semop/SETVAL, and
 * raising a queue's byte limit needs privilege. IPC_PRIVATE objects, all removed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "check.h"

static int q = -1, s = -1, h = -1;

static void cleanup(void)
{
    if (q >= 0)
        msgctl(q, IPC_RMID, NULL);
    if (s >= 0)
        semctl(s, 0, IPC_RMID);
    if (h >= 0)
        shmctl(h, IPC_RMID, NULL);
}

static void show(void)
{
    struct msqid_ds ds;
    if (msgctl(q, IPC_STAT, &ds) < 0)
        printf("IPC_STAT: %s\n", strerrorname_np(errno));
    else
        printf("uid %d gid %d cuid %d cgid %d mode %o\n", ds.msg_perm.uid, ds.msg_perm.gid, ds.msg_perm.cuid,
               ds.msg_perm.cgid, ds.msg_perm.mode);
}

int main(void)
{
    atexit(cleanup);
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("uid %d gid %d\n", getuid(), getgid());
    struct { long mtype; char text[4]; } m = {1, "abc"};
    struct msqid_ds ds;

    CHECK_ID(q, msgget(IPC_PRIVATE, 0600));
    show();
    CHECK(msgsnd(q, &m, 3, IPC_NOWAIT));
    CHECK(msgctl(q, IPC_STAT, &ds));
    ds.msg_perm.uid = 2000;
    ds.msg_perm.gid = 2000;
    ds.msg_perm.mode = 0066;
    CHECK(msgctl(q, IPC_SET, &ds));                   /* given away: the creator still may */
    show();                                            /* EACCES: the creator is an owner */
    CHECK(msgsnd(q, &m, 3, IPC_NOWAIT));
    ds.msg_perm.mode = 0600;
    CHECK(msgctl(q, IPC_SET, &ds));
    show();
    CHECK(msgsnd(q, &m, 3, IPC_NOWAIT));
    CHECK(msgctl(q, IPC_STAT, &ds));
    ds.msg_qbytes = ds.msg_qbytes * 2;
    CHECK(msgctl(q, IPC_SET, &ds));                   /* EPERM: above msgmnb needs privilege */
    ds.msg_qbytes = 100;
    CHECK(msgctl(q, IPC_SET, &ds));

    CHECK_ID(s, semget(IPC_PRIVATE, 1, 0400));
    CHECK(semctl(s, 0, GETVAL));
    CHECK(semctl(s, 0, SETVAL, 1));                   /* EACCES: read-only */
    struct sembuf up = {0, 1, IPC_NOWAIT}, zero = {0, 0, IPC_NOWAIT};
    CHECK(semop(s, &up, 1));
    CHECK(semop(s, &zero, 1));

    CHECK_ID(h, shmget(IPC_PRIVATE, 4096, 0400));
    CHECK(shmat(h, NULL, 0) == (void *)-1 ? -1 : 0); /* EACCES: read-only */
    char *p = shmat(h, NULL, SHM_RDONLY);
    printf("read-only attach: %s\n", p == (void *)-1 ? strerrorname_np(errno) : "ok");
    if (p != (void *)-1)
        CHECK(shmdt(p));
    CHECK(shmctl(h, SHM_LOCK, NULL));                 /* the owner may */

    CHECK(msgctl(q, IPC_RMID, NULL));
    q = -1;
    CHECK(semctl(s, 0, IPC_RMID));
    s = -1;
    CHECK(shmctl(h, IPC_RMID, NULL));
    h = -1;
    return 0;
}
