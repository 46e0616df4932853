/* File locks between processes: POSIX record locks, OFD locks and flock seen across
 * fork, waits that end when the holder unlocks, EDEADLK, and the release of a
 * process's locks when it exits or is killed. Parent and child take turns through
 * pipes so that the printed order does not depend on scheduling; stdout is unbuffered
 * and both processes print to it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define FILE_NAME "locks_procs.tmp"

static int to_child[2], to_parent[2];

static void say(int pipe_fds[2]) { (void)!write(pipe_fds[1], "x", 1); }

static void hear(int pipe_fds[2])
{
    char c;
    if (read(pipe_fds[0], &c, 1) != 1) {
        printf("pipe closed\n");
        exit(1);
    }
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

/* F_GETLK or F_OFD_GETLK of [start, start+len): who would block a write lock */
static void getlk(const char *who, int fd, int cmd, off_t start, off_t len, pid_t parent, pid_t child)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) < 0) {
        printf("%s: getlk -1 %s\n", who, strerrorname_np(errno));
        return;
    }
    if (fl.l_type == F_UNLCK) {
        printf("%s: [%ld,+%ld) unlocked\n", who, (long)start, (long)len);
        return;
    }
    const char *pid = fl.l_pid == parent ? "the parent" : fl.l_pid == child && child ? "the child"
                    : fl.l_pid == -1 ? "-1 (OFD)" : "another pid";
    printf("%s: [%ld,+%ld) %s-locked [%ld,+%ld) by %s\n", who, (long)start, (long)len,
           fl.l_type == F_RDLCK ? "read" : "write", (long)fl.l_start, (long)fl.l_len, pid);
}

static void reap(pid_t pid)
{
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status))
        printf("child exited %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("child killed by %s\n", sigabbrev_np(WTERMSIG(status)));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t parent = getpid(), child;
    CHECK(pipe(to_child));
    CHECK(pipe(to_parent));
    int fd = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(write(fd, "0123456789", 10));

    puts("-- a POSIX lock of the parent, seen by the child; F_SETLKW waits for it");
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
    child = fork();
    if (child == 0) {
        getlk("child", fd, F_GETLK, 0, 1, parent, 0);
        CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
        CHECK(setlk(fd, F_SETLK, F_RDLCK, 5, 1));
        CHECK(setlk(fd, F_SETLK, F_WRLCK, 20, 5)); /* beyond the parent's: granted */
        say(to_parent);
        CHECK(setlk(fd, F_SETLKW, F_WRLCK, 0, 1)); /* returns once the parent unlocks */
        getlk("child after the wait", fd, F_GETLK, 0, 10, parent, 0);
        say(to_parent);
        hear(to_child);
        _exit(0);
    }
    hear(to_parent);
    getlk("parent", fd, F_GETLK, 20, 1, parent, child); /* the child's, not inherited back */
    getlk("parent", fd, F_GETLK, 0, 10, parent, child);  /* its own: no conflict */
    usleep(100000); /* let the child really wait (the output does not depend on it) */
    puts("parent: unlocks [0,10)");
    int unlocked = setlk(fd, F_SETLK, F_UNLCK, 0, 10); /* printed once the child is done */
    hear(to_parent);
    printf("parent: unlock = %d\n", unlocked);
    getlk("parent", fd, F_GETLK, 0, 1, parent, child);
    say(to_child);
    reap(child);
    getlk("parent after the child's exit", fd, F_GETLK, 0, 100, parent, child);

    puts("-- the child does not inherit POSIX locks");
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
    child = fork();
    if (child == 0) {
        CHECK(setlk(fd, F_SETLK, F_UNLCK, 0, 1)); /* not its lock: nothing to drop */
        int again = open(FILE_NAME, O_RDWR);
        CHECK(close(again)); /* nor to release by a close */
        _exit(0);
    }
    reap(child);
    getlk("parent's lock is still there: other open", open(FILE_NAME, O_RDONLY), F_OFD_GETLK, 0, 1, parent, child);
    CHECK(setlk(fd, F_SETLK, F_UNLCK, 0, 1));

    puts("-- flock: the description is shared across fork, another open conflicts");
    CHECK(flock(fd, LOCK_EX));
    child = fork();
    if (child == 0) {
        CHECK(flock(fd, LOCK_EX | LOCK_NB)); /* the same lock */
        int other = open(FILE_NAME, O_RDONLY);
        CHECK(flock(other, LOCK_SH | LOCK_NB));
        _exit(0); /* its copy goes; the parent's keeps the lock */
    }
    reap(child);
    int other = open(FILE_NAME, O_RDONLY);
    CHECK(flock(other, LOCK_SH | LOCK_NB));
    child = fork();
    if (child == 0) {
        int mine = open(FILE_NAME, O_RDONLY);
        say(to_parent);
        CHECK(flock(mine, LOCK_SH)); /* waits for the parent's LOCK_UN */
        puts("child: got the shared lock");
        _exit(0);
    }
    hear(to_parent);
    usleep(100000);
    puts("parent: LOCK_UN");
    unlocked = flock(fd, LOCK_UN);
    reap(child);
    printf("parent: LOCK_UN = %d\n", unlocked);
    CHECK(flock(other, LOCK_EX | LOCK_NB));
    CHECK(close(other));

    puts("-- OFD locks belong to the description, in both processes");
    CHECK(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 1));
    child = fork();
    if (child == 0) {
        getlk("child, same description", fd, F_OFD_GETLK, 0, 1, parent, 0);
        int mine = open(FILE_NAME, O_RDWR);
        getlk("child, own open", mine, F_OFD_GETLK, 0, 1, parent, 0);
        getlk("child, POSIX", mine, F_GETLK, 0, 1, parent, 0);
        CHECK(setlk(mine, F_OFD_SETLK, F_WRLCK, 0, 1));
        say(to_parent);
        CHECK(setlk(mine, F_OFD_SETLKW, F_WRLCK, 0, 1));
        puts("child: got the OFD lock");
        _exit(0); /* its last close releases it */
    }
    hear(to_parent);
    usleep(100000);
    puts("parent: unlocks its OFD lock");
    unlocked = setlk(fd, F_OFD_SETLK, F_UNLCK, 0, 1);
    reap(child);
    printf("parent: unlock = %d\n", unlocked);
    getlk("parent", fd, F_OFD_GETLK, 0, 1, parent, child);

    puts("-- EDEADLK: each process waits for the other's lock");
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
    child = fork();
    if (child == 0) {
        CHECK(setlk(fd, F_SETLK, F_WRLCK, 1, 1));
        say(to_parent);
        int r = setlk(fd, F_SETLKW, F_WRLCK, 0, 1);
        char result = r == 0 ? 'g' : errno == EDEADLK ? 'd' : 'e';
        if (r < 0)
            setlk(fd, F_SETLK, F_UNLCK, 1, 1); /* give way */
        (void)!write(to_parent[1], &result, 1);
        _exit(0);
    }
    hear(to_parent);
    int r = setlk(fd, F_SETLKW, F_WRLCK, 1, 1);
    char mine = r == 0 ? 'g' : errno == EDEADLK ? 'd' : 'e';
    if (r < 0)
        setlk(fd, F_SETLK, F_UNLCK, 0, 1); /* give way */
    char theirs;
    CHECK(read(to_parent[0], &theirs, 1));
    printf("one EDEADLK and one granted: %s\n",
           (mine == 'd' && theirs == 'g') || (mine == 'g' && theirs == 'd') ? "yes" : "no");
    reap(child);
    CHECK(setlk(fd, F_SETLK, F_UNLCK, 0, 0));

    puts("-- the locks of a process that exits or is killed are released");
    for (int killed = 0; killed < 2; killed++) {
        child = fork();
        if (child == 0) {
            CHECK(setlk(fd, F_SETLK, F_WRLCK, 5, 1));
            int mine = open(FILE_NAME, O_RDONLY);
            CHECK(flock(mine, LOCK_EX));
            CHECK(setlk(mine, F_OFD_SETLK, F_RDLCK, 7, 1));
            say(to_parent);
            hear(to_child);
            if (killed)
                raise(SIGKILL);
            _exit(0);
        }
        hear(to_parent);
        getlk("parent", fd, F_GETLK, 0, 10, parent, child);
        getlk("parent", fd, F_GETLK, 6, 4, parent, child);
        other = open(FILE_NAME, O_RDONLY);
        CHECK(flock(other, LOCK_SH | LOCK_NB));
        say(to_child);
        reap(child);
        getlk("parent", fd, F_GETLK, 0, 10, parent, child);
        CHECK(flock(other, LOCK_SH | LOCK_NB));
        CHECK(close(other));
    }

    unlink(FILE_NAME);
    return 0;
}
