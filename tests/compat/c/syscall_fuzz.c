/* UNDER PYRENE ONLY: system calls with hostile arguments, to show that nothing an app
 * passes makes Pyrene crash (a bad value is an errno, never a dead instance or leader).
 *
 *   syscall_fuzz sweep VALUE      every syscall once, all six arguments VALUE
 *   syscall_fuzz random SEED N    N children, each making 25 random calls whose
 *                                 arguments mix edge values, pointers into a buffer,
 *                                 small fds (of real pipes, sockets, epoll sets...),
 *                                 paths, and random words
 *
 * Each call runs in a forked child with an alarm, so a call that blocks or kills its
 * caller ends only that child. Calls that would end or replace the whole program, or
 * change its memory map or signal handling (exit, fork, execve, kill, mmap, sigaction,
 * ...), are left out, and so are those that would fill the host's disk through a real
 * fd (fallocate, copy_file_range, sendfile, splice). It refuses to run unless it is pid 1: natively, as root, these
 * calls would do to the host what they do to the sandbox. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NR 460

static char buf[65536];
static const char *paths[] = {"/etc/passwd", "/tmp", "/tmp/f", ".", "./f", "/proc/self/fd/3", "/proc/self/status",
                              "/dev/null", "/dev/ptmx", "/proc/1/cwd", "f", "d/e", "/", "..", "/dev/shm/x",
                              "/nonexistent/a", "/proc/self/task", "/etc", ""};
static const int skip[] = {
    SYS_exit, SYS_exit_group, SYS_fork, SYS_vfork, SYS_clone, SYS_clone3, SYS_execve, SYS_execveat, SYS_kill,
    SYS_tkill, SYS_tgkill, SYS_reboot, SYS_rt_sigreturn, SYS_ptrace, SYS_setsid, SYS_setpgid, SYS_rt_sigqueueinfo,
    SYS_rt_tgsigqueueinfo, SYS_pidfd_send_signal, SYS_vhangup, SYS_munmap, SYS_mremap, SYS_brk, SYS_mmap,
    SYS_mprotect, SYS_pkey_mprotect, SYS_remap_file_pages, SYS_madvise, SYS_arch_prctl, SYS_set_tid_address,
    SYS_prctl, SYS_seccomp, SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_sigaltstack, SYS_rt_sigsuspend, SYS_pause,
    SYS_setrlimit, SYS_prlimit64, SYS_shmat, SYS_shmdt, SYS_io_uring_setup, SYS_close_range,
    /* real file descriptors make these write gigabytes to the host's disk (a random
     * length of 2^40): left out, not to fill the machine */
    SYS_fallocate, SYS_copy_file_range, SYS_sendfile, SYS_splice, -1};
static unsigned long long rng;

static unsigned long long next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int skipped(long nr)
{
    for (int i = 0; skip[i] >= 0; i++)
        if (skip[i] == nr)
            return 1;
    return 0;
}

static long pick(void)
{
    static const long edges[] = {0, 1, 2, 3, 4, 8, 64, 4096, 65536, -1, -2, -100, -4096, 0x7fffffff, 0x80000000L,
                                 0xffffffffL, 0x7fffffffffffffffL, (long)0x8000000000000000UL, 0x7ffffffff000L,
                                 1L << 40, O_CREAT | O_RDWR, O_DIRECTORY, O_PATH};
    switch (next() % 8) {
    case 0: case 1: return edges[next() % (sizeof edges / sizeof edges[0])];
    case 2: case 3: return (long)(next() % 24);
    case 4: return (long)paths[next() % (sizeof paths / sizeof paths[0])];
    case 5: return (long)buf + (long)(next() % 8) * 512;
    case 6: return (long)buf + (long)(next() % sizeof buf);
    default: return (long)next();
    }
}

/* fds of many kinds for the random calls to meet */
static void open_things(void)
{
    int p[2], s[2];
    pipe(p);
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    eventfd(1, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {0}};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    timerfd_create(CLOCK_MONOTONIC, 0);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    signalfd(-1, &m, 0);
    memfd_create("fuzz", 0);
    open("/etc/passwd", O_RDONLY);
    open(".", O_DIRECTORY);
    open("f", O_CREAT | O_RDWR, 0644);
    socket(AF_UNIX, SOCK_DGRAM, 0);
    syscall(SYS_pidfd_open, getpid(), 0);
}

static int run_child(unsigned long long seed, long sweep_value, long sweep_nr)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        alarm(3);
        if (sweep_nr >= 0) {
            syscall(sweep_nr, sweep_value, sweep_value, sweep_value, sweep_value, sweep_value, sweep_value);
            _exit(0);
        }
        rng = seed | 1;
        open_things();
        for (int k = 0; k < 25; k++) {
            long nr = (long)(next() % MAX_NR);
            if (skipped(nr))
                continue;
            long a[6];
            for (int i = 0; i < 6; i++)
                a[i] = pick();
            syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        }
        _exit(0);
    }
    int status;
    return waitpid(pid, &status, 0) == pid ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (getpid() != 1) {
        fprintf(stderr, "syscall_fuzz: refusing to run outside a sandbox (pid %d, not 1)\n", getpid());
        return 2;
    }
    if (argc < 3)
        return 2;
    memset(buf, 'A', sizeof buf);
    mkdir("d", 0755);
    int calls = 0;
    if (strcmp(argv[1], "sweep") == 0) {
        long value = strtol(argv[2], NULL, 0);
        for (long nr = 0; nr < MAX_NR; nr++) {
            if (skipped(nr))
                continue;
            if (run_child(0, value, nr) < 0)
                return 1;
            calls++;
        }
    } else {
        rng = strtoull(argv[2], NULL, 0) * 2654435761ULL + 7;
        int children = argc > 3 ? atoi(argv[3]) : 50;
        for (int c = 0; c < children; c++) {
            if (run_child(next(), 0, -1) < 0)
                return 1;
            calls++;
        }
    }
    printf("%d children done\n", calls);
    return 0;
}
