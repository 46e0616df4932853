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
import sys

import floor_child  # bench/, this script's directory

FAKE_PPID = 1  # as in floor_tracer.c: bench/run.py checks that getppid returned it

PTRACE_TRACEME, PTRACE_CONT, PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_SETOPTIONS = 0, 7, 12, 13, 0x4200
PTRACE_O_TRACESECCOMP, PTRACE_O_TRACEEXEC, PTRACE_O_EXITKILL = 0x80, 0x10, 0x100000
PTRACE_EVENT_SECCOMP = 7
SECCOMP_STOP = signal.SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)
MINUS_ONE = (1 << 64) - 1

libc = ctypes.CDLL(None, use_errno=True)
ptrace = libc.ptrace


class Regs(ctypes.Structure):
    """struct user_regs_struct (sys/user.h)."""
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]


def die(what: str) -> None:
    floor_child.die(what, ctypes.get_errno())


def run_child(argv: list[str]) -> None:
    """Become traced, stop until the parent has set its options, filter, exec."""
    if ptrace(PTRACE_TRACEME, 0, 0, 0) != 0:
        die("ptrace(PTRACE_TRACEME)")
    os.kill(os.getpid(), signal.SIGSTOP)
    floor_child.install_filter(floor_child.RET_TRACE)
    floor_child.exec_program(argv)


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
