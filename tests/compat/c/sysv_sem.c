/* System V semaphores in one process: semget keys and sizes, semop/semtimedop with
 * IPC_NOWAIT and atomic multi-operation arrays (all or nothing), SEM_UNDO bookkeeping,
 * semctl GETVAL/SETVAL/GETALL/SETALL/GETPID/GETNCNT/GETZCNT/IPC_STAT/IPC_SET/IPC_RMID/
 * IPC_INFO/SEM_STAT. Ids are printed only relative to each other; every set is removed,
 * also on failure (natively they live in the host's IPC namespace). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static int ids[3] = {-1, -1, -1};

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        if (ids[i] >= 0)
            semctl(ids[i], 0, IPC_RMID);
}

static void values(int id, const char *what)
{
    unsigned short v[4] = {0};
    if (semctl(id, 0, GETALL, (union semun){.array = v}) < 0) {
        printf("%s: GETALL %s\n", what, strerrorname_np(errno));
        return;
    }
    printf("%s: %u %u %u %u, pid==me %d\n", what, v[0], v[1], v[2], v[3], semctl(id, 1, GETPID) == getpid());
}

static void op(int id, const char *what, struct sembuf *ops, size_t n)
{
    errno = 0;
    int r = semop(id, ops, n);
    printf("semop %s = %s\n", what, r < 0 ? strerrorname_np(errno) : "0");
}

int main(int argc, char **argv)
{
    atexit(cleanup);
    key_t key = ftok(argc > 1 ? argv[1] : ".", 'e');
    struct semid_ds ds;

    CHECK(semget(key, 4, 0600));
    CHECK(semget(key, 0, IPC_CREAT | 0600));            /* EINVAL: a new set needs semaphores */
    CHECK(semget(key, 100000, IPC_CREAT | 0600));       /* EINVAL: above semmsl */
    CHECK_ID(ids[0], semget(key, 4, IPC_CREAT | IPC_EXCL | 0600));
    CHECK(semget(key, 4, IPC_CREAT | IPC_EXCL | 0600));
    printf("same key: %d %d\n", semget(key, 0, 0) == ids[0], semget(key, 2, 0) == ids[0]);
    CHECK(semget(key, 5, 0));                            /* EINVAL: more than the set has */
    values(ids[0], "fresh");
    CHECK(semctl(ids[0], 1, GETPID));

    CHECK(semctl(ids[0], 0, SETVAL, (union semun){.val = 3}));
    CHECK(semctl(ids[0], 0, SETVAL, (union semun){.val = 40000}));
    CHECK(semctl(ids[0], 0, SETVAL, (union semun){.val = -1}));
    CHECK(semctl(ids[0], 9, SETVAL, (union semun){.val = 1}));
    CHECK(semctl(ids[0], 0, GETVAL));
    unsigned short all[4] = {1, 2, 0, 5};
    CHECK(semctl(ids[0], 0, SETALL, (union semun){.array = all}));
    values(ids[0], "after SETALL");

    struct sembuf down_up[] = {{0, -1, 0}, {1, +2, 0}};
    op(ids[0], "down 0, up 1", down_up, 2);
    values(ids[0], "");
    struct sembuf blocked[] = {{1, +1, 0}, {0, -1, IPC_NOWAIT}};   /* 0 is zero: all or nothing */
    op(ids[0], "up 1 then down 0 (would wait)", blocked, 2);
    values(ids[0], "unchanged");
    struct sembuf wait_zero[] = {{2, 0, IPC_NOWAIT}, {3, 0, IPC_NOWAIT}};
    op(ids[0], "wait for zero on 2 and 3", wait_zero, 2);
    op(ids[0], "wait for zero on 2", wait_zero, 1);
    struct sembuf too_far[] = {{4, 1, 0}};
    op(ids[0], "semaphore 4", too_far, 1);
    struct sembuf overflow[] = {{3, 32767, 0}};
    op(ids[0], "above semvmx", overflow, 1);
    op(ids[0], "no operations", down_up, 0);
    struct sembuf undo[] = {{3, -2, SEM_UNDO}, {2, +7, SEM_UNDO | IPC_NOWAIT}};
    op(ids[0], "with SEM_UNDO", undo, 2);
    values(ids[0], "");
    struct timespec ts = {0, 1000};
    CHECK(semtimedop(ids[0], wait_zero, 1, &ts));
    ts.tv_nsec = -1;
    CHECK(semtimedop(ids[0], undo, 1, &ts));
    CHECK(semctl(ids[0], 0, GETNCNT));
    CHECK(semctl(ids[0], 0, GETZCNT));

    CHECK(semctl(ids[0], 0, IPC_STAT, (union semun){.buf = &ds}));
    printf("stat: key %s mode %o nsems %lu otime %s uid==me %d\n", ds.sem_perm.__key ? "set" : "private",
           ds.sem_perm.mode, (unsigned long)ds.sem_nsems, ds.sem_otime ? "set" : "zero", ds.sem_perm.uid == getuid());
    ds.sem_perm.mode = 0444;
    CHECK(semctl(ids[0], 0, IPC_SET, (union semun){.buf = &ds}));
    CHECK(semctl(ids[0], 0, IPC_STAT, (union semun){.buf = &ds}));
    printf("mode after IPC_SET: %o\n", ds.sem_perm.mode);

    CHECK_ID(ids[1], semget(IPC_PRIVATE, 1, 0600));
    CHECK_ID(ids[2], semget(IPC_PRIVATE, 2, 0600));
    printf("distinct ids: %d, SEM_STAT by index: %d\n", ids[1] != ids[2],
           semctl(ids[2] % 32768, 0, SEM_STAT, (union semun){.buf = &ds}) == ids[2]);
    CHECK(semctl(ids[2], 0, IPC_STAT, (union semun){.buf = &ds}));
    printf("private: key %d nsems %lu otime %ld\n", ds.sem_perm.__key, (unsigned long)ds.sem_nsems, (long)ds.sem_otime);

    struct seminfo info;
    CHECK(semctl(0, 0, IPC_INFO, (union semun){.__buf = &info}) >= 0);
    printf("semmsl %d semmns %d semopm %d semmni %d semvmx %d\n", info.semmsl, info.semmns, info.semopm,
           info.semmni, info.semvmx);
    CHECK(semctl(ids[0], 0, 999));
    CHECK(semctl(-1, 0, GETVAL));

    for (int i = 0; i < 3; i++) {
        CHECK(semctl(ids[i], 0, IPC_RMID));
        int gone = ids[i];
        ids[i] = -1;
        CHECK(semctl(gone, 0, GETVAL));
        op(gone, "on a removed set", down_up, 1);
    }
    return 0;
}
