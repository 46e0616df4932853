"""Starting the picoprocess: a host child that runs nothing but Pyrene's stub.

The child is forked from the instance and, before it can run any app code:
  * dies with the instance (PR_SET_PDEATHSIG, and PTRACE_O_EXITKILL on the tracer side);
  * is pinned to the instance's CPU (DESIGN.md decision 2: a ptrace round trip costs
    ~4-7 us on one CPU and ~45 us across CPUs here);
  * waits until the instance has PTRACE_SEIZEd it;
  * installs the seccomp filter (with no_new_privs);
  * closes every host fd (the app holds none: all its fds are virtual);
  * fexecve()s the stub from a close-on-exec memfd, so the stub is not even a host path.
The exec itself traps (the filter traps execve), and the instance lets that one through.
"""

from __future__ import annotations

import fcntl
import os
import signal

from ..errors import PyreneError
from . import libc, seccomp, stub

TRACE_OPTIONS = (
    libc.PTRACE_O_TRACESECCOMP
    | libc.PTRACE_O_TRACEEXEC
    | libc.PTRACE_O_TRACESYSGOOD
    | libc.PTRACE_O_EXITKILL
    | libc.PTRACE_O_TRACEFORK  # fork/vfork: the child is ours from its first instruction
    | libc.PTRACE_O_TRACEVFORK
    | libc.PTRACE_O_TRACECLONE
)


def stub_memfd() -> int:
    """A sealed, close-on-exec memfd holding the stub ELF."""
    fd = os.memfd_create("pyrene-stub", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, stub.build())
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    return fd


def choose_cpu() -> int:
    """The CPU for this instance and its app when none is asked for: spread by pid."""
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[os.getpid() % len(allowed)]


def spawn_stub(stub_fd: int, cpu: int) -> int:
    """Fork the picoprocess, seize it, and run it up to the stop after exec of the stub.

    Returns the host pid, stopped at the seccomp stop of the stub's first instruction
    (`syscall` with rax = 0 as execve left it). That is a clean syscall-entry stop from
    which syscalls can be injected; at the exec stop itself they cannot, because the
    kernel still writes execve's return value into rax on the way out.
    """
    os.sched_setaffinity(0, {cpu})
    prog = seccomp.build_filter()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(go_w)
            libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() == 1:
                os._exit(127)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTSTP,
                        signal.SIGTTIN, signal.SIGTTOU):
                signal.signal(sig, signal.SIG_DFL)
            os.read(go_r, 1)  # the tracer has seized us
            os.close(go_r)
            seccomp.install(prog)
            os.closerange(0, stub_fd)
            os.closerange(stub_fd + 1, 1 << 20)
            os.execve(stub_fd, ["pyrene-stub"], {})
        finally:
            os._exit(127)
    os.close(go_r)
    try:
        libc.ptrace(libc.PTRACE_SEIZE, pid, 0, TRACE_OPTIONS)
    except OSError as exc:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise PyreneError(
            f"pyrene: cannot trace the program: ptrace(PTRACE_SEIZE) failed: {os.strerror(exc.errno or 0)}. Pyrene serves "
            "the program's system calls with ptrace: run it outside strace or a debugger (a traced process "
            "cannot trace), and where /proc/sys/kernel/yama/ptrace_scope is 3 or a container forbids "
            "ptrace, grant CAP_SYS_PTRACE (docker: --cap-add SYS_PTRACE)", 126) from None
    os.write(go_w, b"x")
    os.close(go_w)
    # The seccomp stop of the stub's own execveat (let it run), the exec stop, then the
    # stub's first syscall.
    exec_seen = False
    while True:
        _, status = os.waitpid(pid, libc.WALL)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            raise OSError("the picoprocess died before starting the stub "
                          "(seccomp or ptrace refused? Pyrene needs ptrace and seccomp: "
                          "run outside a container that forbids them, or with CAP_SYS_PTRACE)")
        sig = (status >> 8) & 0xFF
        event = status >> 16
        if event == libc.PTRACE_EVENT_EXEC:
            exec_seen = True
            libc.ptrace(libc.PTRACE_CONT, pid, 0, 0)
        elif event == libc.PTRACE_EVENT_SECCOMP and exec_seen:
            return pid
        elif event == libc.PTRACE_EVENT_SECCOMP or event == libc.PTRACE_EVENT_STOP:
            libc.ptrace(libc.PTRACE_CONT, pid, 0, 0)
        else:
            libc.ptrace(libc.PTRACE_CONT, pid, 0, sig)
