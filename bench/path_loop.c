/*
 * path_loop: N path lookups of a file four directories deep; print "N FAILS".
 *
 * Usage: path_loop stat N    stat("/usr/lib/x86_64-linux-gnu/libc.so.6")
 *        path_loop open N    open + close of the same file
 *
 * What a compiler or an interpreter does thousands of times (gcc's headers and its
 * realpath, Python's imports). bench/run.py takes the slope between N=0 and N=n.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH "/usr/lib/x86_64-linux-gnu/libc.so.6"

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "stat") && strcmp(argv[1], "open"))) {
        fprintf(stderr, "usage: %s stat|open N\n", argv[0]);
        return 2;
    }
    int use_open = !strcmp(argv[1], "open");
    long n = strtol(argv[2], NULL, 10), fails = 0;
    struct stat st;
    for (long i = 0; i < n; i++) {
        if (use_open) {
            int fd = open(PATH, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                fails++;
            else
                close(fd);
        } else if (stat(PATH, &st) != 0) {
            fails++;
        }
    }
    printf("%ld %ld\n", n, fails);
    return 0;
}
