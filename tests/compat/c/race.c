/* Opens /mnt/d/file over and over while the test swaps the host directory
 * behind /mnt/d for a symlink that points out of the mount, and back. Counts
 * what each open read: the inside file, nothing (an error), or the secret
 * outside the mount (an escape, which must never happen). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1000;
    int inside = 0, failed = 0, escaped = 0;
    const char *paths[] = {"/mnt/d/file", "/mnt/d/../d/file", "/mnt/d/sub/../file"};
    for (int i = 0; i < rounds; i++) {
        int fd = open(paths[i % 3], O_RDONLY);
        if (fd < 0) {
            failed++;
            continue;
        }
        char buf[16] = "";
        if (read(fd, buf, sizeof buf - 1) > 0 && strncmp(buf, "SECRET", 6) == 0)
            escaped++;
        else
            inside++;
        close(fd);
    }
    printf("inside %d failed %d escaped %d\n", inside, failed, escaped);
    return escaped != 0;
}
