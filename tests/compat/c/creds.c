/* Credentials as root gives them up: the uid/gid families, supplementary groups, the fs
 * ids, capabilities and prctl's keepcaps/bounding set, and what file access follows.
 * Starts as root in a cwd owned by 1000:1000 (the test sets it up); writes only there,
 * and removes what it made. */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void ids(const char *when) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    gid_t groups[64];
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    int n = getgroups(64, groups);
    printf("%s: uid %u %u %u gid %u %u %u uid()=%u euid()=%u groups", when, r, e, s, gr, ge, gs,
           getuid(), geteuid());
    for (int i = 0; i < n; i++)
        printf(" %u", groups[i]);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) == 0)
        printf(" caps eff %08x%08x prm %08x%08x inh %08x%08x\n", d[1].effective, d[0].effective,
               d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
    else
        printf(" capget %s\n", strerrorname_np(errno));
}

static void status(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7) ||
            !strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs:", 11))
            fputs(line, stdout);
    if (f)
        fclose(f);
}

static void owner(const char *name) {
    struct stat st;
    if (stat(name, &st) == 0)
        printf("%s owned by %u:%u\n", name, st.st_uid, st.st_gid);
    else
        printf("stat %s: %s\n", name, strerrorname_np(errno));
}

static int capset_self(uint64_t eff, uint64_t prm, uint64_t inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
    };
    return syscall(SYS_capset, &h, d);
}

static uint64_t permitted(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    return (uint64_t)d[1].permitted << 32 | d[0].permitted;
}

static uint64_t effective(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    return (uint64_t)d[1].effective << 32 | d[0].effective;
}

static void make(const char *name, mode_t mode, gid_t gid) {
    int fd = open(name, O_CREAT | O_WRONLY | O_EXCL, mode);
    if (fd < 0 || fchown(fd, 0, gid) != 0)
        printf("make %s: %s\n", name, strerrorname_np(errno));
    close(fd);
}

static void try_open(const char *name, int flags) {
    int fd = open(name, flags);
    if (fd < 0)
        printf("open %s %s: %s\n", name, flags == O_RDONLY ? "r" : "w", strerrorname_np(errno));
    else
        printf("open %s %s: ok\n", name, flags == O_RDONLY ? "r" : "w");
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    ids("start");

    /* capget's version handshake */
    struct __user_cap_header_struct probe = {0x12345678, 0};
    CHECK(syscall(SYS_capget, &probe, NULL));
    printf("preferred version %#x\n", probe.version);
    probe.version = 0x12345678;
    struct __user_cap_data_struct one[2];
    CHECK(syscall(SYS_capget, &probe, one));
    probe.version = _LINUX_CAPABILITY_VERSION_3;
    probe.pid = -1;
    CHECK(syscall(SYS_capget, &probe, one));

    int fd = open("rootfile", O_CREAT | O_WRONLY | O_EXCL, 0600);
    CHECK(fd);
    close(fd);
    owner("rootfile");
    make("groupfile", 0640, 3000);
    make("othergroup", 0640, 4000);
    /* a version 1 capget sees the low 32 bits only */
    struct __user_cap_header_struct v1 = {_LINUX_CAPABILITY_VERSION_1, 0};
    struct __user_cap_data_struct low[2] = {{0}};
    CHECK(syscall(SYS_capget, &v1, low));
    printf("v1: eff %08x second word %08x\n", low[0].effective, low[1].effective);

    gid_t groups[] = {2000, 1000, 3000};
    CHECK(setgroups(3, groups));
    CHECK(setgroups(1, (gid_t[]){(gid_t)-1}));
    ids("groups");

    /* the fs uid alone: the filesystem capabilities leave the effective set */
    CHECK(setfsuid(1000));
    CHECK(setfsuid(1000));
    CHECK(setfsgid(1000));
    ids("fsuid 1000");
    status();
    CHECK(open("rootfile", O_RDONLY));
    CHECK(fd = open("fsfile", O_CREAT | O_WRONLY | O_EXCL, 0644));
    close(fd);
    owner("fsfile");
    try_open("groupfile", O_RDONLY);
    try_open("groupfile", O_WRONLY);
    try_open("othergroup", O_RDONLY);
    /* CAP_DAC_READ_SEARCH alone: reading, not writing */
    CHECK(capset_self(effective() | 1ULL << CAP_DAC_READ_SEARCH, permitted(), 0));
    try_open("rootfile", O_RDONLY);
    try_open("rootfile", O_WRONLY);
    CHECK(capset_self(effective() & ~(1ULL << CAP_DAC_READ_SEARCH), permitted(), 0));
    CHECK(setfsuid(0));
    CHECK(setfsgid(0));
    ids("fsuid back");
    CHECK(fd = open("rootfile", O_RDONLY));
    close(fd);

    /* keepcaps across giving up root as the real and effective uid */
    CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    CHECK(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
    CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    CHECK(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    CHECK(setresuid(1000, 1000, 0));
    ids("resuid 1000 1000 0");
    CHECK(open("rootfile", O_RDONLY));
    CHECK(setresuid(-1, 0, -1));
    ids("euid 0 again");
    CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
    CHECK(prctl(PR_CAPBSET_READ, 99, 0, 0, 0));
    CHECK(prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
    CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));

    /* capset: drop CAP_NET_RAW; raising it back is refused */
    uint64_t prm = permitted() & ~(1ULL << CAP_NET_RAW);
    CHECK(capset_self(prm, prm, 0));
    CHECK(capset_self(prm | 1ULL << CAP_NET_RAW, prm | 1ULL << CAP_NET_RAW, 0));
    CHECK(capset_self(prm, prm & ~(1ULL << CAP_CHOWN), 0));
    ids("capset");

    /* ambient capabilities: only what is permitted and inheritable */
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
    CHECK(capset_self(effective(), permitted(), 1ULL << CAP_NET_BIND_SERVICE | 1ULL << CAP_KILL));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_KILL, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 99, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
    CHECK(prctl(PR_CAP_AMBIENT, 9, 0, 0, 0));
    status();

    CHECK(setresgid(1000, 1000, 1000));
    CHECK(setreuid(1000, 1000));
    ids("all 1000, keepcaps");
    CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0));

    /* with the permitted set kept, the capabilities can be made effective again */
    CHECK(setresuid(0, 0, 0));
    CHECK(capset_self(permitted(), permitted(), 0));
    CHECK(setresuid(0, 0, 0));
    ids("root again");
    status();
    CHECK(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));

    /* unprivileged setuid moves only the effective id, to the real or saved one */
    CHECK(setreuid(-1, 1000));
    ids("setreuid -1 1000");
    CHECK(setuid(0));
    ids("setuid 0 as the real uid");
    CHECK(setuid(1000));
    ids("setuid 1000");
    status();
    CHECK(setuid(0));
    CHECK(setresuid(-1, 0, -1));
    CHECK(setreuid(0, -1));
    CHECK(setgid(0));
    CHECK(setregid(-1, 0));
    CHECK(setgroups(0, NULL));
    CHECK(setfsuid(0));
    CHECK(setfsuid(-1));
    CHECK(setfsgid(0));
    CHECK(setfsgid(-1));
    CHECK(capset_self(1ULL << CAP_CHOWN, 1ULL << CAP_CHOWN, 0));
    CHECK(prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0));
    CHECK(setuid(-1));
    ids("user");
    CHECK(open("rootfile", O_RDONLY));
    CHECK(chown("rootfile", 1000, 1000));
    CHECK(fd = open("userfile", O_CREAT | O_WRONLY | O_EXCL, 0600));
    close(fd);
    owner("userfile");
    CHECK(chown("userfile", 0, -1));
    CHECK(chown("userfile", -1, 2000));
    owner("userfile");
    /* a process that changed its ids is not dumpable: its /proc files belong to root */
    owner("/proc/self/status");
    CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    owner("/proc/self/status");
    CHECK(setresgid(2000, 2000, 2000));
    CHECK(setresuid(1000, 1000, 1000));

    CHECK(unlink("rootfile"));
    CHECK(unlink("fsfile"));
    CHECK(unlink("userfile"));
    CHECK(unlink("groupfile"));
    CHECK(unlink("othergroup"));
    return 0;
}
