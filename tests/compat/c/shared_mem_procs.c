/* Memory and files shared across fork: MAP_SHARED anonymous and /dev/shm mappings, a
 * process-shared semaphore and a named one ping-ponged between parent and child (futex
 * waits on shared memory), an inherited file offset and O_APPEND from two processes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 200

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    /* anonymous MAP_SHARED and an unnamed process-shared semaphore in it */
    struct shared {
        sem_t ping, pong;
        int counter;
    } *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED);
    CHECK(sem_init(&s->ping, 1, 0) == 0 && sem_init(&s->pong, 1, 0) == 0);
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < ROUNDS; i++) {
            sem_wait(&s->ping);
            s->counter++;
            sem_post(&s->pong);
        }
        _exit(0);
    }
    for (int i = 0; i < ROUNDS; i++) {
        s->counter++;
        sem_post(&s->ping);
        sem_wait(&s->pong);
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st));
    printf("anonymous shared: counter %d\n", s->counter);

    /* a /dev/shm object mapped after fork in both, and a named semaphore */
    char name[64], semname[64];
    snprintf(name, sizeof name, "/pyrene-procs-%d", getpid());
    snprintf(semname, sizeof semname, "/pyrene-procs-sem-%d", getpid());
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
    sem_t *sem = sem_open(semname, O_CREAT | O_EXCL, 0600, 0);
    CHECK(sem != SEM_FAILED);
    p = fork();
    if (p == 0) {
        int cfd = shm_open(name, O_RDWR, 0);
        char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
        if (m == MAP_FAILED) _exit(1);
        strcpy(m, "written by the child");
        sem_t *csem = sem_open(semname, 0);
        sem_post(csem);
        _exit(0);
    }
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    sem_wait(sem);
    printf("/dev/shm: %s\n", m);
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(shm_unlink(name) == 0 && sem_unlink(semname) == 0);

    /* an inherited description shares its offset; O_APPEND from two processes */
    int f = open("shared.txt", O_CREAT | O_TRUNC | O_RDWR, 0644);
    int a = open("append.txt", O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
    CHECK(f >= 0 && a >= 0);
    CHECK(write(f, "parent1 ", 8) == 8);
    p = fork();
    if (p == 0) {
        (void)!write(f, "child ", 6);
        int b = open("append.txt", O_WRONLY | O_APPEND);
        for (int i = 0; i < 50; i++) (void)!write(b, "c", 1);
        _exit(0);
    }
    for (int i = 0; i < 50; i++) CHECK(write(a, "p", 1) == 1);
    CHECK(waitpid(p, &st, 0) == p);
    CHECK(write(f, "parent2", 7) == 7);
    char buf[64] = {0};
    CHECK(pread(f, buf, sizeof buf - 1, 0) == 21);
    printf("shared offset: %s (offset now %ld)\n", buf, (long)lseek(f, 0, SEEK_CUR));
    struct stat sb;
    CHECK(fstat(a, &sb) == 0);
    printf("O_APPEND from two processes: %ld bytes\n", (long)sb.st_size);
    return 0;
}
