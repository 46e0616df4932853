/*
 * getppid_loop: make N getppid syscalls, then print "N LAST" (LAST is the
 * value the last call returned).
 *
 * Usage: getppid_loop N
 *
 * getppid is the cheapest syscall there is, and one that every tracer here
 * traps (floor_tracer, Pyrene, runsc's ptrace platform), so the time per call
 * is almost entirely the cost of trapping it.  It goes through syscall(2)
 * rather than the libc wrapper so no libc can cache or inline it away.
 * Build it static (gcc -static -O2): dynamic loading would add startup noise,
 * and bench/run.py subtracts startup anyway by timing two values of N.
 *
 * LAST lets the harness check that a tracer really served the calls
 * (floor_tracer makes getppid return 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    long last = -1;
    for (long i = 0; i < n; i++)
        last = syscall(SYS_getppid);
    printf("%ld %ld\n", n, last);
    return 0;
}
