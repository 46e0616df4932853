/* /proc/self as a program sees it: every line printed is the same on Linux and under
 * Pyrene. Values that differ between runs (pids, inodes, times, addresses) are not
 * printed; what is printed is whether they agree with each other and with the syscalls
 * (the pid in /proc/self/stat is getpid(), the Uid line is getuid(), ...). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

static char buf[1 << 20];

/* The whole content of a file, read in `chunk`-byte pieces. */
static ssize_t slurp(const char *path, size_t chunk) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, chunk);
        if (n < 0) {
            close(fd);
            return -errno;
        }
        if (n == 0)
            break;
        len += n;
    }
    buf[len] = 0;
    close(fd);
    return len;
}

/* The value of "Key:" in a status-like text, or NULL. */
static char *field(char *text, const char *key) {
    static char value[4096];
    size_t k = strlen(key);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, k) == 0 && line[k] == ':') {
            char *v = line + k + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t n = strcspn(v, "\n");
            memcpy(value, v, n);
            value[n] = 0;
            return value;
        }
    }
    return NULL;
}

static void check(const char *what, int ok) { printf("%s: %s\n", what, ok ? "ok" : "WRONG"); }

static void stat_file(void) {
    if (slurp("/proc/self/stat", 4096) < 0)
        return check("read /proc/self/stat", 0);
    char *close_paren = strrchr(buf, ')');
    int pid = atoi(buf);
    char state;
    int ppid, pgrp, session;
    sscanf(close_paren + 2, "%c %d %d %d", &state, &ppid, &pgrp, &session);
    int fields = 2;
    for (char *p = close_paren + 1; *p; p++)
        if (*p == ' ')
            fields++;
    char comm[64];
    snprintf(comm, sizeof comm, "(%.*s)", (int)(close_paren - strchr(buf, '(') - 1), strchr(buf, '(') + 1);
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    char want[32];
    snprintf(want, sizeof want, "(%s)", name);
    check("stat: pid is getpid()", pid == getpid());
    check("stat: comm is PR_GET_NAME", strcmp(comm, want) == 0);
    check("stat: state is running", state == 'R');
    check("stat: ppid is getppid()", ppid == getppid());
    check("stat: pgrp is getpgrp()", pgrp == getpgrp());
    check("stat: session is getsid()", session == getsid(0));
    printf("stat: %d fields\n", fields);
}

static void status_file(void) {
    if (slurp("/proc/self/status", 7) < 0)
        return check("read /proc/self/status", 0);
    static const char *keys[] = {"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid",
                                 "Gid", "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "VmPeak",
                                 "VmSize", "VmRSS", "VmData", "VmStk", "VmExe", "VmLib", "Threads", "SigQ",
                                 "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff",
                                 "CapBnd", "CapAmb", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed_list",
                                 "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", NULL};
    for (const char **k = keys; *k; k++)
        if (!field(buf, *k))
            printf("status: no %s\n", *k);
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    check("status: Name", strcmp(field(buf, "Name"), name) == 0);
    check("status: State", strcmp(field(buf, "State"), "R (running)") == 0);
    check("status: Pid", atoi(field(buf, "Pid")) == getpid());
    check("status: Tgid", atoi(field(buf, "Tgid")) == getpid());
    check("status: PPid", atoi(field(buf, "PPid")) == getppid());
    check("status: TracerPid", atoi(field(buf, "TracerPid")) == 0);
    char want[128];
    snprintf(want, sizeof want, "%d\t%d\t%d\t%d", getuid(), geteuid(), getuid(), getuid());
    check("status: Uid", strcmp(field(buf, "Uid"), want) == 0);
    snprintf(want, sizeof want, "%d\t%d\t%d\t%d", getgid(), getegid(), getgid(), getgid());
    check("status: Gid", strcmp(field(buf, "Gid"), want) == 0);
    check("status: Threads", atoi(field(buf, "Threads")) == 1);
    check("status: VmRSS in kB", strstr(field(buf, "VmRSS"), " kB") != NULL && atoi(field(buf, "VmRSS")) > 0);
    mode_t mask = umask(022);
    umask(mask);
    check("status: Umask", strtol(field(buf, "Umask"), NULL, 8) == mask);
    /* Cpus_allowed_list against sched_getaffinity */
    cpu_set_t set;
    sched_getaffinity(0, sizeof set, &set);
    int listed = 0, lo, hi;
    for (char *p = field(buf, "Cpus_allowed_list"); *p;) {
        int n = sscanf(p, "%d-%d", &lo, &hi);
        listed += n == 2 ? hi - lo + 1 : 1;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    check("status: Cpus_allowed_list is the affinity", listed == CPU_COUNT(&set));
}

static void links(const char *argv0) {
    char link[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check("exe is the program", realpath(argv0, real) && strcmp(link, real) == 0);
    n = readlink("/proc/self/cwd", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check("cwd is getcwd()", getcwd(cwd, sizeof cwd) && strcmp(link, cwd) == 0);
    n = readlink("/proc/self/root", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("root -> %s\n", link);
    snprintf(real, sizeof real, "%d", getpid());
    n = readlink("/proc/self", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check("/proc/self is the pid", strcmp(link, real) == 0);
    struct stat a, b;
    snprintf(real, sizeof real, "/proc/%d/status", getpid());
    check("/proc/PID is /proc/self", stat(real, &a) == 0 && stat("/proc/self/status", &b) == 0 &&
                                          a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    check("status has size 0", S_ISREG(b.st_mode) && b.st_size == 0);
    check("/proc/self/fd is a directory", stat("/proc/self/fd", &a) == 0 && S_ISDIR(a.st_mode));
    check("/proc/self/exe is a link", lstat("/proc/self/exe", &a) == 0 && S_ISLNK(a.st_mode));
    check("/proc/self/exe follows to the program", stat("/proc/self/exe", &a) == 0 && stat(argv0, &b) == 0 &&
                                                       a.st_ino == b.st_ino && a.st_dev == b.st_dev);
}

static void cmdline(int argc, char **argv) {
    ssize_t n = slurp("/proc/self/cmdline", 3);
    char want[4096];
    size_t len = 0;
    for (int i = 0; i < argc; i++) {
        strcpy(want + len, argv[i]);
        len += strlen(argv[i]) + 1;
    }
    check("cmdline is argv", n == (ssize_t)len && memcmp(buf, want, len) == 0);
    n = slurp("/proc/self/environ", 5);
    check("environ ends with NUL", n > 0 && buf[n - 1] == 0);
    check("environ has PATH", memmem(buf, n, "\0PATH=", 6) != NULL || strncmp(buf, "PATH=", 5) == 0);
}

static void comm(void) {
    slurp("/proc/self/comm", 100);
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    check("comm is PR_GET_NAME", strncmp(buf, name, strlen(name)) == 0 && buf[strlen(name)] == '\n');
    int fd = open("/proc/self/comm", O_WRONLY);
    check("comm is writable", fd >= 0 && write(fd, "renamed\n", 8) == 8);
    close(fd);
    prctl(PR_GET_NAME, name);
    printf("after writing comm: %s\n", name);
    prctl(PR_SET_NAME, "procself");
    slurp("/proc/self/comm", 100);
    printf("comm after PR_SET_NAME: %s", buf);
    fd = open("/proc/self/status", O_WRONLY);
    errno = 0;
    printf("writing status: %s\n", fd >= 0 && write(fd, "x", 1) < 0 ? strerror(errno) : "no error");
    close(fd);
}

static void fds(const char *self) {
    int fd = open(self, O_RDONLY);
    char path[64], link[PATH_MAX], real[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check("fd link is the file's path", realpath(self, real) && strcmp(link, real) == 0);
    struct stat a, b;
    check("fd link follows to the file", stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino);
    check("fd link is a link", lstat(path, &a) == 0 && S_ISLNK(a.st_mode) && (a.st_mode & 0777) == 0500);
    char head[4];
    read(fd, head, 3);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    slurp(path, 4);
    check("fdinfo pos", atoi(field(buf, "pos")) == 3);
    check("fdinfo flags", strtol(field(buf, "flags"), NULL, 8) == (fcntl(fd, F_GETFL) & ~O_CLOEXEC));
    check("fdinfo has mnt_id", field(buf, "mnt_id") != NULL);
    check("fdinfo ino", field(buf, "ino") && strtoull(field(buf, "ino"), NULL, 10) == b.st_ino);
    int cfd = open(self, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", cfd);
    slurp(path, 4096);
    check("fdinfo flags show O_CLOEXEC", strtol(field(buf, "flags"), NULL, 8) & O_CLOEXEC);
    /* the listing of fd/ is the fd table (plus the directory's own fd) */
    DIR *d = opendir("/proc/self/fd");
    int count = 0, saw_fd = 0, types_ok = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        count++;
        saw_fd |= atoi(e->d_name) == fd;
        types_ok &= e->d_type == DT_LNK;
    }
    closedir(d);
    printf("fd/ has %d entries, all links: %s, has our fd: %s\n", count, types_ok ? "yes" : "no",
           saw_fd ? "yes" : "no");
    close(cfd);
    close(fd);
}

static void listing(void) {
    /* d_type and d_ino of /proc/self entries agree with lstat */
    DIR *d = opendir("/proc/self");
    struct dirent *e;
    int agree = 1, n = 0;
    char path[512];
    static const char *want[] = {"cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "limits",
                                 "maps", "mountinfo", "mounts", "root", "stat", "statm", "status", "task",
                                 "cgroup", "oom_score_adj", "loginuid", NULL};
    int found[32] = {0};
    while ((e = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "/proc/self/%s", e->d_name);
        if (lstat(path, &st) < 0 || IFTODT(st.st_mode) != e->d_type)
            agree = 0;
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && st.st_ino != e->d_ino)
            agree = 0;
        for (int i = 0; want[i]; i++)
            if (!strcmp(want[i], e->d_name))
                found[i] = 1;
        n++;
    }
    closedir(d);
    check("/proc/self: d_type and d_ino agree with lstat", agree);
    for (int i = 0; want[i]; i++)
        if (!found[i])
            printf("/proc/self has no %s\n", want[i]);
    /* task/ holds one thread, whose id is the pid */
    d = opendir("/proc/self/task");
    int tasks = 0, tid = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            tasks++;
            tid = atoi(e->d_name);
        }
    closedir(d);
    check("task/ is the one thread", tasks == 1 && tid == gettid());
}

/* telldir/seekdir: an offset taken during a listing leads back to the same entry, even
 * when fds were opened in between (so fd/ changed) */
static void offsets(const char *path) {
    DIR *d = opendir(path);
    struct dirent *e;
    char names[64][256];
    long offs[64];
    int n = 0;
    while (n < 64 && (offs[n] = telldir(d), e = readdir(d))) {
        snprintf(names[n], sizeof names[n], "%s", e->d_name);
        n++;
        if (n == 3)
            open("/dev/null", O_RDONLY); /* a new fd, and so a new entry in /proc/self/fd */
    }
    int ok = n > 2;
    for (int i = n - 1; i >= 0; i--) {
        seekdir(d, offs[i]);
        e = readdir(d);
        ok &= e && strcmp(e->d_name, names[i]) == 0;
    }
    closedir(d);
    printf("%s: seekdir back to each of its entries: %s\n", path, ok ? "ok" : "WRONG");
}

static void chunks(void) {
    /* one open, one snapshot: chunked reads and one big read give the same text */
    static char whole[1 << 16];
    ssize_t n = slurp("/proc/self/mountinfo", sizeof whole);
    memcpy(whole, buf, n + 1);
    ssize_t m = slurp("/proc/self/mountinfo", 1);
    check("mountinfo read byte by byte", n > 0 && n == m && memcmp(whole, buf, n) == 0);
    int fd = open("/proc/self/maps", O_RDONLY);
    char a[64], b[64];
    ssize_t r1 = pread(fd, a, 40, 10);
    lseek(fd, 10, SEEK_SET);
    ssize_t r2 = read(fd, b, 40);
    check("maps pread is read at the offset", r1 == 40 && r2 == 40 && memcmp(a, b, 40) == 0);
    close(fd);
}

static void mounts(void) {
    slurp("/proc/self/mounts", 4096);
    int lines = 0, ok = 1, root = 0, proc = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char src[256], dir[256], type[64], opts[256];
        int freq, pass;
        ok &= sscanf(line, "%255s %255s %63s %255s %d %d", src, dir, type, opts, &freq, &pass) == 6;
        root |= strcmp(dir, "/") == 0;
        proc |= strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0;
        lines++;
    }
    check("mounts: six fields a line", lines > 0 && ok);
    check("mounts: / and /proc", root && proc);
    slurp("/proc/self/mountinfo", 4096);
    int ids[256], parents[256], count = 0;
    ok = 1;
    for (char *line = strtok(buf, "\n"); line && count < 256; line = strtok(NULL, "\n")) {
        unsigned maj, min;
        char root_[256], dir[256], opts[256];
        ok &= sscanf(line, "%d %d %u:%u %255s %255s %255s", &ids[count], &parents[count], &maj, &min, root_,
                     dir, opts) == 7;
        ok &= strstr(line, " - ") != NULL;
        if (strcmp(dir, "/proc") == 0) {
            struct stat st;
            stat("/proc", &st);
            check("mountinfo: /proc's dev is stat's", major(st.st_dev) == maj && minor(st.st_dev) == min);
        }
        count++;
    }
    check("mountinfo: parses", count > 0 && ok);
    int orphans = 0;
    for (int i = 0; i < count; i++) {
        int found = 0;
        for (int j = 0; j < count; j++)
            found |= ids[j] == parents[i];
        orphans += !found;
    }
    check("mountinfo: one mount (the root) has its parent outside", orphans == 1);
}

static void maps(void) {
    slurp("/proc/self/maps", 100);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    unsigned long here = (unsigned long)&maps;
    int ok = 1, main_mapped = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long lo, hi, off, ino;
        char perms[8];
        unsigned maj, min;
        int name_at = 0;
        ok &= sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &lo, &hi, perms, &off, &maj, &min, &ino, &name_at) == 7;
        if (lo <= here && here < hi)
            main_mapped = strcmp(line + name_at, exe) == 0 && strchr(perms, 'x');
    }
    check("maps: parses", ok);
    check("maps: our code is mapped from /proc/self/exe", main_mapped);
    /* smaps: the same header lines, each followed by its counters */
    slurp("/proc/self/smaps", 4096);
    int headers = 0, rss = 0;
    main_mapped = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long lo, hi;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %*s %*x %*x:%*x %*u %n", &lo, &hi, &name_at) == 2 && name_at) {
            headers++;
            if (lo <= here && here < hi)
                main_mapped = strcmp(line + name_at, exe) == 0;
        }
        rss += strncmp(line, "Rss:", 4) == 0;
    }
    check("smaps: a Rss line for each mapping", headers > 0 && rss == headers);
    check("smaps: our code is mapped from /proc/self/exe", main_mapped);
    slurp("/proc/self/smaps_rollup", 4096);
    check("smaps_rollup: [rollup] and Rss", strstr(buf, "[rollup]\n") && strstr(buf, "\nRss:"));
}

static void limits(void) {
    slurp("/proc/self/limits", 10);
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    printf("limits: %d lines, header: %.*s|\n", lines, (int)strcspn(buf, "\n"), buf);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    char *line = strstr(buf, "Max open files");
    check("limits: open files is getrlimit's", line && strtoul(line + 26, NULL, 10) == rl.rlim_cur &&
                                                  strtoul(line + 47, NULL, 10) == rl.rlim_max);
}

static void misc(void) {
    slurp("/proc/self/cgroup", 100);
    check("cgroup ends with the unified line", strstr(buf, "0::/") != NULL);
    slurp("/proc/self/oom_score_adj", 100);
    printf("oom_score_adj: %s", buf);
    slurp("/proc/self/statm", 100);
    long v[7];
    slurp("/proc/loadavg", 3);
    float load[3];
    int running, total, last;
    check("loadavg: three loads, running/total, last pid",
          sscanf(buf, "%f %f %f %d/%d %d", load, load + 1, load + 2, &running, &total, &last) == 6 &&
              running >= 1 && total >= running && last >= getpid());
    slurp("/proc/uptime", 2);
    double up, idle;
    check("uptime: two numbers", sscanf(buf, "%lf %lf", &up, &idle) == 2 && up > 0);
    slurp("/proc/self/statm", 100);
    check("statm: seven numbers", sscanf(buf, "%ld %ld %ld %ld %ld %ld %ld", v, v + 1, v + 2, v + 3, v + 4,
                                         v + 5, v + 6) == 7);
}

int main(int argc, char **argv) {
    stat_file();
    status_file();
    links(argv[0]);
    cmdline(argc, argv);
    fds(argv[0]);
    listing();
    offsets("/proc/self");
    offsets("/proc/self/fd");
    offsets("/dev");
    chunks();
    mounts();
    maps();
    limits();
    misc();
    comm();
    return 0;
}
