/* System V shared memory: shmget/shmat/shmdt/shmctl in one process. Two attaches of one
 * segment see each other's writes; SHM_RDONLY, SHM_RND, address hints and SHM_REMAP;
 * IPC_RMID of an attached segment is deferred until the last shmdt. Ids are printed
 * only relative to each other (the host's differ); every segment is removed at the end,
 * natively they live in the host's IPC namespace. */
#define _GNU_SOURCE
#include <signal.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "check.h"

static int ids[4] = {-1, -1, -1, -1};

static void cleanup(void)
{
    for (int i = 0; i < 4; i++)
        if (ids[i] >= 0)
            shmctl(ids[i], IPC_RMID, NULL);
}

static sigjmp_buf fault;
static void on_segv(int sig) { (void)sig; siglongjmp(fault, 1); }

static void show(int id, const char *what)
{
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) < 0) {
        printf("%s: stat %s\n", what, strerrorname_np(errno));
        return;
    }
    printf("%s: key %s size %zu mode %o nattch %lu cpid==me %d lpid==me %d uid==me %d\n", what,
           ds.shm_perm.__key == IPC_PRIVATE ? "private" : "set", ds.shm_segsz, ds.shm_perm.mode,
           (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid(), ds.shm_lpid == getpid(),
           ds.shm_perm.uid == getuid());
}

int main(int argc, char **argv)
{
    atexit(cleanup);
    key_t key = ftok(argc > 1 ? argv[1] : ".", 's');
    struct shmid_ds ds;

    CHECK(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
    CHECK(shmget(IPC_PRIVATE, (size_t)1 << 63, IPC_CREAT | 0600));  /* EINVAL: no file that big */
    CHECK(shmget(IPC_PRIVATE, ~(size_t)0 - (1 << 24), IPC_CREAT | 0600));  /* EINVAL: SHMMAX itself */
    CHECK(shmget(key, 100, 0600));  /* ENOENT: no IPC_CREAT */
    CHECK_ID(ids[0], shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600));
    CHECK(shmget(key, 100, IPC_CREAT | IPC_EXCL | 0600));
    printf("same key, same id: %d\n", shmget(key, 100, 0600) == ids[0]);
    CHECK(shmget(key, 20000, 0600));  /* EINVAL: bigger than the segment */
    show(ids[0], "fresh");

    char *a = shmat(ids[0], NULL, 0);
    char *b = shmat(ids[0], NULL, 0);
    printf("attach: %s %s, distinct %d\n", a == (void *)-1 ? "fail" : "ok", b == (void *)-1 ? "fail" : "ok", a != b);
    if (a == (void *)-1 || b == (void *)-1)
        return 1;
    printf("zero-filled: %d\n", a[0] == 0 && a[9999] == 0);
    strcpy(a, "written through a");
    strcpy(b + 5000, "written through b");
    printf("b sees: %s\na sees: %s\n", b, a + 5000);
    show(ids[0], "two attaches");

    /* read-only attach: reads the data, faults on write */
    char *r = shmat(ids[0], NULL, SHM_RDONLY);
    printf("rdonly sees: %s\n", r == (void *)-1 ? "fail" : r);
    signal(SIGSEGV, on_segv);
    if (sigsetjmp(fault, 1) == 0) {
        r[0] = 'X';
        printf("rdonly write: no fault\n");
    } else {
        printf("rdonly write: SIGSEGV\n");
    }
    CHECK(shmdt(r));

    /* munmap of an attach ends it: nattch drops, and shmdt no longer knows the address */
    char *e = shmat(ids[0], NULL, 0);
    show(ids[0], "three attaches");
    CHECK(munmap(e, 10000));
    show(ids[0], "after munmap");
    CHECK(shmdt(e));

    /* address hints: unaligned without SHM_RND is EINVAL; with it, rounded down */
    char *hint = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hint, 8 * 4096);
    CHECK(shmat(ids[0], hint + 100, 0));
    char *c = shmat(ids[0], hint + 100, SHM_RND);
    printf("SHM_RND: at hint %d, sees: %s\n", c == hint, c == (void *)-1 ? "fail" : c);
    CHECK(shmat(ids[0], hint, 0));               /* EINVAL: something is mapped there */
    char *d = shmat(ids[0], hint, SHM_REMAP);
    printf("SHM_REMAP: at hint %d\n", d == hint);
    CHECK(shmat(ids[0], NULL, SHM_REMAP));       /* EINVAL: SHM_REMAP needs an address */
    CHECK(shmdt(hint + 1));                      /* EINVAL: not an attach address */
    CHECK(shmdt(hint + 4096 * 7));
    show(ids[0], "four attaches");
    CHECK(shmdt(hint));
    CHECK(shmdt(hint));                          /* EINVAL: already detached */

    /* IPC_RMID while attached: kept (mode shows SHM_DEST, key private) until the last shmdt */
    CHECK(shmctl(ids[0], IPC_RMID, NULL));
    show(ids[0], "removed, attached");
    CHECK(shmget(key, 100, 0600));               /* ENOENT: the key is gone */
    printf("still readable: %s\n", a);
    CHECK(shmdt(a));
    show(ids[0], "one attach left");
    CHECK(shmdt(b));
    show(ids[0], "none left");
    int gone = ids[0];
    ids[0] = -1;
    CHECK(shmctl(gone, IPC_STAT, &ds));
    CHECK(shmat(gone, NULL, 0));

    /* IPC_SET and permissions */
    CHECK_ID(ids[1], shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0640));
    CHECK(shmctl(ids[1], IPC_STAT, &ds));
    ds.shm_perm.mode = 0400;
    CHECK(shmctl(ids[1], IPC_SET, &ds));
    show(ids[1], "after IPC_SET");
    CHECK(shmctl(ids[1], SHM_LOCK, NULL));
    CHECK(shmctl(ids[1], SHM_UNLOCK, NULL));
    CHECK(shmctl(ids[1], 999, &ds));
    CHECK(shmctl(-1, IPC_STAT, &ds));

    /* a second private segment gets another id, and SHM_STAT finds it by index */
    CHECK_ID(ids[2], shmget(IPC_PRIVATE, 1, IPC_CREAT | 0600));
    printf("distinct ids: %d\n", ids[2] != ids[1]);
    printf("SHM_STAT by index: %d\n", shmctl(ids[2] % 32768, SHM_STAT, &ds) == ids[2]);

    struct shminfo info;
    CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0);
    printf("shmmni %lu shmmin %lu\n", info.shmmni, info.shmmin);

    CHECK(shmctl(ids[1], IPC_RMID, NULL));
    ids[1] = -1;
    CHECK(shmctl(ids[2], IPC_RMID, NULL));
    ids[2] = -1;
    CHECK(shmctl(ids[2], IPC_RMID, NULL));
    return 0;
}
