/* POSIX shared memory and named semaphores (glibc's shm_open/sem_open over /dev/shm):
 * two MAP_SHARED mappings of one object see each other's writes, and a named semaphore
 * placed there works (sem_post/sem_trywait/sem_timedwait/sem_getvalue). Names carry the
 * pid, and everything is unlinked at the end (natively /dev/shm is the host's). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static char shm_name[64], sem_name[64];

static void cleanup(void)
{
    shm_unlink(shm_name);
    sem_unlink(sem_name);
}

int main(void)
{
    snprintf(shm_name, sizeof shm_name, "/pyrene-posix-shm-%d", getpid());
    snprintf(sem_name, sizeof sem_name, "/pyrene-posix-sem-%d", getpid());
    atexit(cleanup);
    struct stat st;
    int value;

    CHECK(shm_open(shm_name, O_RDWR, 0600));                     /* ENOENT */
    int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK(shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600));  /* EEXIST */
    CHECK(ftruncate(fd, 8192));
    CHECK(fstat(fd, &st));
    printf("size %ld mode %o\n", (long)st.st_size, st.st_mode & 07777);
    int fd2 = shm_open(shm_name, O_RDONLY, 0);
    CHECK(fd2 >= 0);
    char *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd2, 0);
    if (a == MAP_FAILED || b == MAP_FAILED) {
        printf("mmap failed: %s\n", strerrorname_np(errno));
        return 1;
    }
    strcpy(a + 4100, "shared page");
    printf("second mapping sees: %s\n", b + 4100);
    char buf[16] = {0};
    CHECK(pread(fd2, buf, 11, 4100));
    printf("read sees: %s\n", buf);
    CHECK(munmap(a, 8192));
    CHECK(munmap(b, 8192));
    CHECK(close(fd2));
    CHECK(close(fd));
    CHECK(shm_unlink(shm_name));
    CHECK(shm_unlink(shm_name));                                 /* ENOENT */

    sem_t *s = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 2);
    printf("sem_open: %s\n", s == SEM_FAILED ? strerrorname_np(errno) : "ok");
    if (s == SEM_FAILED)
        return 1;
    sem_t *again = sem_open(sem_name, 0);
    printf("sem_open again: %s\n", again == SEM_FAILED ? strerrorname_np(errno) : "ok");
    CHECK(sem_getvalue(s, &value));
    printf("value %d\n", value);
    CHECK(sem_trywait(s));
    CHECK(sem_wait(again));
    CHECK(sem_trywait(s));                                       /* EAGAIN */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    CHECK(sem_timedwait(s, &ts));                                /* ETIMEDOUT */
    CHECK(sem_post(again));
    CHECK(sem_getvalue(s, &value));
    printf("value %d\n", value);
    CHECK(sem_close(again));
    CHECK(sem_close(s));
    CHECK(sem_unlink(sem_name));
    CHECK(sem_unlink(sem_name));                                 /* ENOENT */
    return 0;
}
