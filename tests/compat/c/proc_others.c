/* /proc/PID of another process: a child that names itself, then execs `sleep 1`.
 * The parent reads the child's stat, status, cmdline, environ, comm and exe, and prints
 * only what is the same in every run: whether the pids agree with getpid() and fork()'s result,
 * the names and command line, the state once the child is a zombie, its absence once reaped. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];
static pid_t child;

static void check(const char *what, int ok) { printf("%s: %s\n", what, ok ? "ok" : "WRONG"); }

/* the child's /proc/PID/name into buf; its length, or -1 with errno */
static ssize_t slurp(const char *name) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", child, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = 0, r;
    while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    close(fd);
    buf[n] = 0;
    return r < 0 ? -1 : n;
}

static const char *field(const char *key) {
    static char value[256];
    size_t len = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t n = strcspn(v, "\n");
            snprintf(value, sizeof value, "%.*s", (int)n, v);
            return value;
        }
    return "";
}

/* state, ppid, pgrp, session of the child's stat; the comm into `comm` */
static int read_stat(char *state, int *pid, int *ppid, int *pgrp, int *session, char *comm, size_t size) {
    if (slurp("stat") < 0)
        return -1;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren)
        return -1;
    *pid = atoi(buf);
    snprintf(comm, size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    return sscanf(close_paren + 2, "%c %d %d %d", state, ppid, pgrp, session) == 4 ? 0 : -1;
}

static int listed(pid_t pid) {
    char name[16];
    snprintf(name, sizeof name, "%d", pid);
    DIR *d = opendir("/proc");
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        found |= strcmp(e->d_name, name) == 0;
    if (d)
        closedir(d);
    return found;
}

int main(void) {
    int named[2], go[2], exec_pipe[2];
    if (pipe(named) || pipe(go) || pipe2(exec_pipe, O_CLOEXEC))
        return 1;
    child = fork();
    if (child == 0) {
        close(named[0]);
        close(go[1]);
        close(exec_pipe[0]);
        prctl(PR_SET_NAME, "renamed");
        char c = 'n';
        write(named[1], &c, 1);
        read(go[0], &c, 1);
        char *env[] = {"PROC_OTHERS=yes", "LC_ALL=C", NULL};
        execle("/bin/sleep", "sleep", "1", (char *)NULL, env);
        _exit(127);
    }
    close(named[1]);
    close(go[0]);
    close(exec_pipe[1]);
    char c, state, comm[64];
    int pid, ppid, pgrp, session;

    /* named, before the exec */
    read(named[0], &c, 1);
    check("child listed in /proc", listed(child));
    check("self listed in /proc", listed(getpid()));
    if (slurp("comm") >= 0)
        printf("comm before exec: %s", buf);
    if (read_stat(&state, &pid, &ppid, &pgrp, &session, comm, sizeof comm) == 0) {
        printf("stat comm before exec: %s\n", comm);
        check("stat: pid is fork()'s", pid == child);
        check("stat: ppid is getpid()", ppid == getpid());
        check("stat: pgrp is getpgid(child)", pgrp == getpgid(child));
        check("stat: session is getsid(child)", session == getsid(child));
        check("stat: state R or S", state == 'R' || state == 'S');
    } else {
        check("read stat before exec", 0);
    }

    /* after the exec: the close-on-exec pipe ends; the kernel may still be building the
     * new stack, so wait for the command line to appear */
    write(go[1], "g", 1);
    while (read(exec_pipe[0], &c, 1) > 0)
        ;
    for (int i = 0; i < 100 && slurp("cmdline") <= 0; i++)
        usleep(5000);
    ssize_t n = slurp("cmdline");
    printf("cmdline: %zd bytes, is \"sleep\\0" "1\\0\": %s\n", n,
           n == 8 && memcmp(buf, "sleep\0" "1\0", 8) == 0 ? "ok" : "WRONG");
    n = slurp("environ");
    printf("environ: %zd bytes, is the exec's: %s\n", n,
           n == 25 && memcmp(buf, "PROC_OTHERS=yes\0LC_ALL=C\0", 25) == 0 ? "ok" : "WRONG");
    if (slurp("comm") >= 0)
        printf("comm: %s", buf);
    if (read_stat(&state, &pid, &ppid, &pgrp, &session, comm, sizeof comm) == 0) {
        printf("stat comm: %s\n", comm);
        check("stat: pid is fork()'s", pid == child);
        check("stat: ppid is getpid()", ppid == getpid());
        check("stat: state R or S", state == 'R' || state == 'S');
    } else {
        check("read stat", 0);
    }
    if (slurp("status") >= 0) {
        printf("status Name: %s\n", field("Name"));
        check("status: Pid", atoi(field("Pid")) == child);
        check("status: Tgid", atoi(field("Tgid")) == child);
        check("status: PPid", atoi(field("PPid")) == getpid());
        check("status: NSpid", atoi(field("NSpid")) == child);
        check("status: Uid", atoi(field("Uid")) == (int)getuid());
        check("status: State present", field("State")[0] != 0);
        check("status: Threads 1", atoi(field("Threads")) == 1);
        check("status: VmRSS present", field("VmRSS")[0] != 0);
    } else {
        check("read status", 0);
    }
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/%d/exe", child);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len >= 0)
        printf("exe: %.*s\n", (int)len, target);
    long statm[7];
    check("statm: 7 numbers", slurp("statm") > 0 && sscanf(buf, "%ld %ld %ld %ld %ld %ld %ld", &statm[0], &statm[1],
                                                         &statm[2], &statm[3], &statm[4], &statm[5], &statm[6]) == 7);

    /* exited, not yet waited for: a zombie */
    siginfo_t info;
    if (waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0 &&
        read_stat(&state, &pid, &ppid, &pgrp, &session, comm, sizeof comm) == 0) {
        printf("zombie: state %c, comm %s\n", state, comm);
        check("zombie: ppid is getpid()", ppid == getpid());
        check("zombie: still listed", listed(child));
        if (slurp("status") >= 0)
            printf("zombie status State: %s\n", field("State"));
        printf("zombie cmdline: %zd bytes\n", slurp("cmdline"));
    } else {
        check("zombie stat", 0);
    }

    /* reaped: gone */
    int status;
    waitpid(child, &status, 0);
    printf("child exit: %d\n", WEXITSTATUS(status));
    errno = 0;
    n = slurp("stat");
    printf("stat after reaping: %zd %s\n", n, strerrorname_np(errno));
    check("reaped: not listed", !listed(child));
    return 0;
}
