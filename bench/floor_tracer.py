"""floor_tracer.py: the cheapest tracer this design can have in Python + ctypes.

    python3 bench/floor_tracer.py PROG [ARGS...]

The twin of floor_tracer.c, line for line: getppid traps (seccomp RET_TRACE), the
tracer reads the registers, skips the host syscall (orig_rax = -1), makes it return
FAKE_PPID and resumes; everything else runs natively. The C version is the floor of the
design; this one is the floor of the design *in Python*: four host calls per trapped
syscall (waitpid, GETREGS, SETREGS, CONT) and no decision logic. What Pyrene costs above
it is Pyrene's own work (dispatch, handler); what it costs above the C floor is
CPython's and ctypes' (bench/run.py prints both ratios).

Stdlib only; no import of pyrene, so that nothing but the round trip is measured.
"""

import ctypes
import os
import signal
import struct
import sys

FAKE_PPID = 1  # as in floor_tracer.c: bench/run.py checks that getppid returned it

PTRACE_TRACEME, PTRACE_CONT, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_SETOPTIONS = 0, 7, 12, 13, 0x4200
PTRACE_O_TRACESECCOMP, PTRACE_O_TRACEEXEC, PTRACE_O_EXITKILL = 0x80, 0x10, 0x100000
PTRACE_EVENT_SECCOMP = 7
PR_SET_NO_NEW_PRIVS, SYS_SECCOMP, SECCOMP_SET_MODE_FILTER = 38, 317, 1
SYS_GETPPID, X32_SYSCALL_BIT, AUDIT_ARCH_X86_64 = 110, 0x40000000, 0xC000003E
RET_KILL_PROCESS, RET_TRACE, RET_ALLOW = 0x80000000, 0x7FF00000, 0x7FFF0000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH = 0, 4
SECCOMP_STOP = signal.SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)
MINUS_ONE = (1 << 64) - 1

libc = ctypes.CDLL(None, use_errno=True)
ptrace = libc.ptrace


class Regs(ctypes.Structure):
    """struct user_regs_struct (sys/user.h)."""
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def die(what: str) -> None:
    err = ctypes.get_errno()
    print(f"{what}: {os.strerror(err)}", file=sys.stderr)
    os._exit(127)


def insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def install_filter() -> None:
    """Trap getppid, allow everything else; kill on a foreign ABI (as floor_tracer.c)."""
    program = b"".join([
        insn(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
        insn(BPF_JEQ_K, AUDIT_ARCH_X86_64, jt=1),
        insn(BPF_RET_K, RET_KILL_PROCESS),
        insn(BPF_LD_W_ABS, SECCOMP_DATA_NR),
        insn(BPF_JGE_K, X32_SYSCALL_BIT, jf=1),
        insn(BPF_RET_K, RET_KILL_PROCESS),
        insn(BPF_JEQ_K, SYS_GETPPID, jf=1),
        insn(BPF_RET_K, RET_TRACE),
        insn(BPF_RET_K, RET_ALLOW),
    ])
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(fprog)) != 0:
        die("seccomp(SECCOMP_SET_MODE_FILTER)")


def run_child(argv: list[str]) -> None:
    """Become traced, stop until the parent has set its options, filter, exec."""
    if ptrace(PTRACE_TRACEME, 0, 0, 0) != 0:
        die("ptrace(PTRACE_TRACEME)")
    os.kill(os.getpid(), signal.SIGSTOP)
    install_filter()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"{argv[0]}: {exc.strerror}", file=sys.stderr)
    os._exit(127)


def trace(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    if not os.WIFSTOPPED(status):
        die("waitpid(initial stop)")
    if ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC) != 0:
        die("ptrace(PTRACE_SETOPTIONS)")
    regs = Regs()
    regs_ref = ctypes.byref(regs)
    waitpid = os.waitpid
    inject = 0  # the initial SIGSTOP is swallowed
    while True:
        if ptrace(PTRACE_CONT, pid, 0, inject) != 0:
            die("ptrace(PTRACE_CONT)")
        inject = 0
        _, status = waitpid(pid, 0)
        if os.WIFEXITED(status):
            return os.WEXITSTATUS(status)
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        if status >> 8 == SECCOMP_STOP:
            # one seccomp stop: the work Pyrene's tracer does for a call it serves itself
            if ptrace(PTRACE_GETREGS, pid, 0, regs_ref) != 0:
                die("ptrace(PTRACE_GETREGS)")
            regs.orig_rax = MINUS_ONE  # skip the host syscall...
            regs.rax = FAKE_PPID       # ...and return this instead
            if ptrace(PTRACE_SETREGS, pid, 0, regs_ref) != 0:
                die("ptrace(PTRACE_SETREGS)")
        elif status >> 16 == 0:
            inject = os.WSTOPSIG(status)  # a real signal: deliver it
        # other event stops (exec): just resume


def main() -> int:
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} PROG [ARGS...]", file=sys.stderr)
        return 2
    pid = os.fork()
    if pid == 0:
        run_child(sys.argv[1:])
    return trace(pid)


if __name__ == "__main__":
    sys.exit(main())
