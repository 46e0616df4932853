/*
 * floor_tracer: the cheapest tracer this design can have, written in C.
 *
 * Usage: floor_tracer PROG [ARGS...]
 *
 * Pyrene serves every trapped syscall from a Python tracer: a seccomp filter
 * returns SECCOMP_RET_TRACE, the tracee stops, the tracer reads the registers,
 * decides a result, writes the registers back and resumes the tracee.  This
 * program does exactly that round trip with no decision logic at all, so the
 * time it takes per trapped syscall is the floor that Pyrene's per-syscall
 * cost is compared with (bench/run.py reports the ratio).
 *
 * Only getppid traps; it is "emulated" by skipping the host syscall
 * (orig_rax = -1) and returning FAKE_PPID.  Every other syscall runs natively.
 * Only the first process is traced (no TRACEFORK/TRACECLONE): a child of the
 * program inherits the filter but no tracer, so its getppid fails with ENOSYS,
 * which is fine for the single-threaded benchmark loop this is meant for.
 *
 * Exit status: the program's, or 128+signal if it was killed by a signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the emulated getppid returns; bench/getppid_loop prints the last value
 * it got, so bench/run.py can check that the calls were really trapped. */
#define FAKE_PPID 1

#define X32_SYSCALL_BIT 0x40000000

static void die(const char *what)
{
    perror(what);
    exit(127);
}

/* Trap getppid, allow everything else; kill on a foreign ABI so that a
 * 32-bit or x32 syscall cannot slip past the number check. */
static void install_filter(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
        .len = sizeof(filter) / sizeof(filter[0]),
        .filter = filter,
    };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        die("seccomp(SECCOMP_SET_MODE_FILTER)");
}

/* The child: become traced, wait for the parent to set options, then filter
 * and exec.  Stopping before the filter exists means the parent has set
 * PTRACE_O_TRACESECCOMP before any RET_TRACE can fire (without the option a
 * RET_TRACE with no seccomp-aware tracer fails the syscall with ENOSYS). */
static void run_child(char **argv)
{
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
        die("ptrace(PTRACE_TRACEME)");
    raise(SIGSTOP);
    install_filter();
    execvp(argv[0], argv);
    die(argv[0]);
}

/* One seccomp stop: the same work Pyrene's tracer does for a syscall it
 * serves itself (read registers, skip the host syscall, set the result). */
static void serve_getppid(pid_t pid)
{
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
        die("ptrace(PTRACE_GETREGS)");
    regs.orig_rax = -1;     /* skip the host syscall... */
    regs.rax = FAKE_PPID;   /* ...and return this instead */
    if (ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0)
        die("ptrace(PTRACE_SETREGS)");
}

static int trace(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
        die("waitpid(initial stop)");
    /* TRACEEXEC only so that exec gives an event stop, not a stray SIGTRAP. */
    long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC;
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, opts) != 0)
        die("ptrace(PTRACE_SETOPTIONS)");
    int inject = 0;   /* the initial SIGSTOP is swallowed */
    for (;;) {
        if (ptrace(PTRACE_CONT, pid, 0, inject) != 0)
            die("ptrace(PTRACE_CONT)");
        inject = 0;
        if (waitpid(pid, &status, 0) != pid) {
            if (errno == EINTR)
                continue;
            die("waitpid");
        }
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
            return 128 + WTERMSIG(status);
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)))
            serve_getppid(pid);
        else if (status >> 16 == 0)
            inject = WSTOPSIG(status);   /* a real signal: deliver it */
        /* other event stops (exec): just resume */
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROG [ARGS...]\n", argv[0]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        run_child(argv + 1);
    return trace(pid);
}
