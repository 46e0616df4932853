/*
 * proc_loop: N times, fork a child and wait for it; print "N FAILS".
 *
 * Usage: proc_loop fork N    the child calls _exit(0)
 *        proc_loop exec N    the child execs /bin/true (static here: no libc startup noise
 *                            beyond what /bin/true itself costs)
 *
 * bench/run.py times N=0 and N=n and takes the slope, as for getppid_loop, so the
 * per-iteration cost excludes startup.  FAILS counts children that did not exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "fork") && strcmp(argv[1], "exec"))) {
        fprintf(stderr, "usage: %s fork|exec N\n", argv[0]);
        return 2;
    }
    int exec = !strcmp(argv[1], "exec");
    long n = strtol(argv[2], NULL, 10), fails = 0;
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            if (exec)
                execl("/bin/true", "true", (char *)NULL);
            _exit(exec ? 127 : 0);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
            fails++;
    }
    printf("%ld %ld\n", n, fails);
    return 0;
}
