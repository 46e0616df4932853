/*
 * pipe_pingpong N: a parent and its child bounce one byte N times over two pipes;
 * print "N".
 *
 * Each round trip is a write and a blocking read in each process, so every round trip
 * wakes the other process twice: under a tracer, that is four trapped calls and two
 * hand-offs between processes (and between their tracers). bench/run.py times N=0 and
 * N=n and takes the slope, as for getppid_loop, so the per-round-trip cost excludes
 * startup and the fork.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    int ping[2], pong[2];
    if (pipe(ping) || pipe(pong))
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    char c = 'x';
    if (pid == 0) {
        close(ping[1]);
        close(pong[0]);
        for (long i = 0; i < n; i++) {
            if (read(ping[0], &c, 1) != 1)
                die("child read");
            if (write(pong[1], &c, 1) != 1)
                die("child write");
        }
        _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
    for (long i = 0; i < n; i++) {
        if (write(ping[1], &c, 1) != 1)
            die("parent write");
        if (read(pong[0], &c, 1) != 1)
            die("parent read");
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        die("child failed");
    printf("%ld\n", n);
    return 0;
}
