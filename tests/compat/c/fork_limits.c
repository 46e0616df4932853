/* Process limits: RLIMIT_NPROC, counted per real uid, ends a fork loop with EAGAIN, and
 * forks work again once the children are reaped. With an argument: only the fork loop,
 * as the caller (for pyrene.max_processes and sys.disallow_subprocesses). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NOBODY 65534

static void fork_until_refused(void) {
    int gate[2];
    CHECK(pipe(gate) == 0);
    int made = 0, err = 0;
    for (int i = 0; i < 10; i++) {
        pid_t c = fork();
        if (c == 0) {  /* wait until the parent closes the gate */
            char b;
            close(gate[1]);
            (void)!read(gate[0], &b, 1);
            _exit(0);
        }
        if (c < 0) {
            err = errno;
            break;
        }
        made++;
    }
    printf("forked %d, then: %s\n", made, err ? strerror(err) : "no error");
    close(gate[1]);
    while (wait(NULL) > 0) {
    }
    pid_t c = fork();
    if (c == 0) _exit(7);
    int st;
    if (c < 0) {
        printf("after reaping them: %s\n", strerror(errno));
        return;
    }
    CHECK(waitpid(c, &st, 0) == c);
    printf("after reaping them: fork works, status %d\n", WEXITSTATUS(st));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) { /* "loop": as the caller is, for a sandbox-wide limit */
        fork_until_refused();
        return 0;
    }
    pid_t p = fork();
    if (p == 0) {
        CHECK(setgid(NOBODY) == 0);
        CHECK(setuid(NOBODY) == 0);
        struct rlimit r = {4, 4};
        CHECK(setrlimit(RLIMIT_NPROC, &r) == 0);
        fork_until_refused();
        _exit(0);
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    printf("unprivileged child: exited %d\n", WEXITSTATUS(st));
    /* root is not limited by RLIMIT_NPROC */
    struct rlimit r = {1, 1};
    CHECK(setrlimit(RLIMIT_NPROC, &r) == 0);
    pid_t c = fork();
    if (c == 0) _exit(3);
    CHECK(c > 0 && waitpid(c, &st, 0) == c);
    printf("root past RLIMIT_NPROC: status %d\n", WEXITSTATUS(st));
    return 0;
}
