/* execve: the errors that come back to the caller, then fork + exec + wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char *argv[] = {"echo", "from", "echo", NULL};
    char *envp[] = {"A=1", NULL};
    CHECK(execve("./no-such-program", argv, envp));
    CHECK(execve("/etc/passwd", argv, envp));
    int fd = open("notelf", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    CHECK(write(fd, "this is not a program\n", 22));
    close(fd);
    CHECK(execve("./notelf", argv, envp));
    CHECK(execve("/", argv, envp));
    size_t big = 200 * 1024;
    char *huge = malloc(big);
    memset(huge, 'x', big - 1);
    huge[big - 1] = 0;
    char *bigv[] = {"echo", huge, NULL};
    CHECK(execve("/bin/echo", bigv, envp));
    /* the fd table after exec: a close-on-exec fd is gone, another is kept */
    int keep = open("notelf", O_RDONLY);
    int gone = open("notelf", O_RDONLY | O_CLOEXEC);
    pid_t p = fork();
    if (p == 0) {
        char k[32], g[32];
        snprintf(k, sizeof k, "/proc/self/fd/%d", keep);
        snprintf(g, sizeof g, "/proc/self/fd/%d", gone);
        char *lsv[] = {"ls", "-d", k, g, NULL};
        execve("/bin/ls", lsv, envp);
        _exit(99);
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    printf("ls status %d\n", WEXITSTATUS(st));
    p = fork();
    if (p == 0) {
        execve("/bin/echo", argv, envp);
        _exit(99);
    }
    CHECK(waitpid(p, &st, 0) == p);
    printf("echo status %d\n", WEXITSTATUS(st));
    p = vfork();
    if (p == 0) {
        execve("/bin/sh", (char *[]){"sh", "-c", "echo vforked sh; exit 4", NULL}, envp);
        _exit(99);
    }
    CHECK(waitpid(p, &st, 0) == p);
    printf("sh status %d\n", WEXITSTATUS(st));
    execve("/bin/echo", (char *[]){"echo", "the", "end", NULL}, envp);
    return 1;
}
