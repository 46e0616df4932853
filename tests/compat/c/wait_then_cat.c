/* Print "ready", wait for one byte on stdin, then copy each file named in argv to stdout
 * (or print the open error as "PATH: strerror"): lets a test change a file between the
 * program's start and its open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char c, buf[4096];
    ssize_t n;
    int status = 0;

    write(1, "ready\n", 6);
    if (read(0, &c, 1) != 1)
        return 3;
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        while ((n = read(fd, buf, sizeof buf)) > 0)
            write(1, buf, n);
        close(fd);
    }
    return status;
}
