/*
 * thread_pingpong: two threads hand a token back and forth N times through
 * futex wait/wake on one shared word, then print "N".
 *
 * Usage: thread_pingpong N
 *
 * futex runs natively under Pyrene (the seccomp filter allows it), so this
 * measures what threads cost a tracer that lets them run: thread creation
 * once, then context switches between two threads of one process with no
 * trapped syscall.  Build it static (gcc -static -O2 -pthread); bench/run.py
 * subtracts startup by timing two values of N.
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int token;  /* whose turn: 0 = main, 1 = the other thread */
static long rounds;

static void futex_wait(int expected)
{
    syscall(SYS_futex, &token, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(void)
{
    syscall(SYS_futex, &token, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void play(int me, long n)
{
    for (long i = 0; i < n; i++) {
        int v;
        while ((v = atomic_load(&token)) != me)
            futex_wait(v);
        atomic_store(&token, !me);
        futex_wake();
    }
}

static void *other(void *arg)
{
    play(1, (long)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    rounds = strtol(argv[1], NULL, 10);
    pthread_t th;
    if (pthread_create(&th, NULL, other, (void *)rounds) != 0) {
        perror("pthread_create");
        return 1;
    }
    play(0, rounds);
    pthread_join(th, NULL);
    printf("%ld\n", rounds);
    return 0;
}
