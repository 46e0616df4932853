"""The one ctypes choke point for host calls Python's `os` module does not offer.

Every function raises `HostError` with the errno on failure; nothing else in Pyrene
calls ctypes for host syscalls.
"""

from __future__ import annotations

import ctypes
import os
import sys

from ..errors import HostError

# libc.so.6 by soname: ctypes.util.find_library would run ldconfig (~100 ms at startup)
_libc = ctypes.CDLL("libc.so.6", use_errno=True)

# ptrace requests and options (linux/ptrace.h)
PTRACE_TRACEME = 0
PTRACE_PEEKDATA = 2
PTRACE_PEEKUSER = 3
PTRACE_POKEDATA = 5
PTRACE_POKEUSER = 6
PTRACE_CONT = 7
PTRACE_KILL = 8
PTRACE_SINGLESTEP = 9
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_ATTACH = 16
PTRACE_DETACH = 17
PTRACE_SYSCALL = 24
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETEVENTMSG = 0x4201
PTRACE_GETSIGINFO = 0x4202
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GETSIGMASK = 0x420A
PTRACE_SETSIGMASK = 0x420B

WALL = 0x40000000  # __WALL: wait for threads and clones too

PTRACE_O_TRACESYSGOOD = 0x01
PTRACE_O_TRACEFORK = 0x02
PTRACE_O_TRACEVFORK = 0x04
PTRACE_O_TRACECLONE = 0x08
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACEVFORKDONE = 0x20
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_VFORK_DONE = 5
PTRACE_EVENT_EXIT = 6
PTRACE_EVENT_SECCOMP = 7
PTRACE_EVENT_STOP = 128

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SYS_seccomp = 317
SYS_openat2 = 437


class UserRegs(ctypes.Structure):
    """struct user_regs_struct of x86-64 (sys/user.h), in kernel order."""

    _fields_ = [
        (name, ctypes.c_ulonglong)
        for name in (
            "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
            "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
            "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
        )
    ]


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_ptrace = _libc.ptrace
_ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
_ptrace.restype = ctypes.c_long

# Hot-path entry points: no argtypes. ctypes' argument conversion costs about 1 us per
# call here (as much as the syscall), so these take only small ints and byref() objects
# prepared once, and return a C int (0/-1, or a byte count below 2**31).
_ptrace_fast = ctypes.CDLL("libc.so.6", use_errno=True).ptrace
_process_vm_readv = ctypes.CDLL("libc.so.6", use_errno=True).process_vm_readv
_process_vm_writev = ctypes.CDLL("libc.so.6", use_errno=True).process_vm_writev

_syscall = _libc.syscall
_syscall.restype = ctypes.c_long

_prctl = _libc.prctl
_prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_prctl.restype = ctypes.c_int


def _fail(what: str) -> HostError:
    return HostError.from_errno(ctypes.get_errno(), what)


def ptrace(request: int, pid: int, addr: int = 0, data: int = 0) -> int:
    """ptrace(2). PEEK* results cannot be told from errors, so we use GETREGS/process_vm_*."""
    result = _ptrace(request, pid, addr, data)
    if result == -1:
        err = ctypes.get_errno()
        if err:
            raise HostError.from_errno(err, f"ptrace({request})")
    return result


# ptrace without conversion or error check, for the hot path (callers test `== -1`):
# `addr` must be a small int and `data` a small int or a ctypes byref().
ptrace_raw_fn = _ptrace_fast


def ptrace_raw(request: int, pid: int, addr: int, data: object) -> int:
    return _ptrace_fast(request, pid, addr, data)


def last_errno() -> int:
    return ctypes.get_errno()


class VmCopier:
    """process_vm_readv/writev of one local and one remote range, with the two iovecs
    allocated once per tracee (this is on the path of every read and write)."""

    __slots__ = ("pid", "local", "remote", "local_ref", "remote_ref")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.local = IoVec()
        self.remote = IoVec()
        self.local_ref = ctypes.byref(self.local)
        self.remote_ref = ctypes.byref(self.remote)

    def read(self, local: int, remote: int, length: int) -> int:
        """Copy `length` bytes from the tracee; returns bytes copied (short at an unmapped page)."""
        self.local.base, self.local.len = local, length
        self.remote.base, self.remote.len = remote, length
        n = _process_vm_readv(self.pid, self.local_ref, 1, self.remote_ref, 1, 0)
        if n < 0:
            raise _fail("process_vm_readv")
        return n

    def write(self, local: int, remote: int, length: int) -> int:
        self.local.base, self.local.len = local, length
        self.remote.base, self.remote.len = remote, length
        n = _process_vm_writev(self.pid, self.local_ref, 1, self.remote_ref, 1, 0)
        if n < 0:
            raise _fail("process_vm_writev")
        return n


def prctl(option: int, a2: int = 0, a3: int = 0, a4: int = 0, a5: int = 0) -> int:
    result = _prctl(option, a2, a3, a4, a5)
    if result < 0:
        raise _fail(f"prctl({option})")
    return result


def seccomp_set_filter(prog_addr: int) -> None:
    """seccomp(SECCOMP_SET_MODE_FILTER, 0, &sock_fprog)."""
    if _syscall(ctypes.c_long(SYS_seccomp), ctypes.c_long(SECCOMP_SET_MODE_FILTER), ctypes.c_long(0),
                ctypes.c_void_p(prog_addr)) < 0:
        raise _fail("seccomp(SECCOMP_SET_MODE_FILTER)")


class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: bytes, flags: int, mode: int, resolve: int) -> int:
    """openat2(2): the confined open used by host-backed mounts."""
    how = OpenHow(flags, mode, resolve)
    fd = _syscall(ctypes.c_long(SYS_openat2), ctypes.c_long(dirfd), ctypes.c_char_p(path),
                  ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def file_syscall(name: str, *args: int) -> int:
    """A host file syscall Python's `os` lacks (fallocate, syncfs, sync_file_range), with
    integer arguments; raises OSError like `os` does."""
    from ..abi import sysnum

    result = _syscall(ctypes.c_long(sysnum.BY_NAME[name]), *(ctypes.c_long(a) for a in args))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


# -- file calls Python's os module lacks (renameat2 flags, UTIME_OMIT, f_type) ---------

SYS_renameat2 = 316
SYS_utimensat = 280
SYS_fstatfs = 138
STATFS_SIZE = 120  # struct statfs on x86-64


def _check(rc: int, what: bytes | str) -> int:
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), what)
    return rc


def renameat2(olddirfd: int, old: bytes, newdirfd: int, new: bytes, flags: int) -> None:
    _check(_syscall(ctypes.c_long(SYS_renameat2), ctypes.c_long(olddirfd), ctypes.c_char_p(old),
                    ctypes.c_long(newdirfd), ctypes.c_char_p(new), ctypes.c_ulong(flags)), old)


def utimensat(dirfd: int, path: bytes, times: tuple[tuple[int, int], tuple[int, int]] | None, flags: int) -> None:
    """utimensat(2) with raw timespecs, so UTIME_NOW and UTIME_OMIT keep their meaning."""
    arg = None
    if times is not None:
        arg = (ctypes.c_long * 4)(times[0][0], times[0][1], times[1][0], times[1][1])
    _check(_syscall(ctypes.c_long(SYS_utimensat), ctypes.c_long(dirfd), ctypes.c_char_p(path),
                    arg, ctypes.c_long(flags)), path)


def fstatfs(fd: int) -> bytes:
    """The raw struct statfs of the file system holding `fd`."""
    buf = ctypes.create_string_buffer(STATFS_SIZE)
    _check(_syscall(ctypes.c_long(SYS_fstatfs), ctypes.c_long(fd), buf), "fstatfs")
    return buf.raw


# -- fork_sibling: an os.fork() whose child is our parent's child ----------------------------

SYS_clone = 56
CLONE_PARENT = 0x8000
SIGCHLD = 17
# PyDLL: the GIL stays held across the clone, as os.fork() holds it across fork()
_clone_syscall = ctypes.PyDLL("libc.so.6", use_errno=True).syscall
_clone_syscall.restype = ctypes.c_long
_py_before_fork = ctypes.pythonapi.PyOS_BeforeFork
_py_after_fork_parent = ctypes.pythonapi.PyOS_AfterFork_Parent
_py_after_fork_child = ctypes.pythonapi.PyOS_AfterFork_Child
for _hook in (_py_before_fork, _py_after_fork_parent, _py_after_fork_child):
    _hook.argtypes, _hook.restype = (), None


def fork_sibling() -> int:
    """os.fork(), except that the child is made with clone(CLONE_PARENT): it is a child of
    our parent, not of us (kernel/fork.py: a new instance must be the leader's child, so
    that PR_SET_PDEATHSIG ties it to the leader, without the cost of a second fork and of
    an intermediate process's exit). The child's exit signal is its parent's (SIGCHLD
    for an instance). Returns 0 in the child, its pid in the parent; raises HostError.

    With one thread (the instance's usual state), nothing else runs: the clone alone.
    Python's fork bookkeeping (PyOS_BeforeFork/AfterFork_*) is there for other threads:
    it re-creates the GIL, the import lock and every lock of threading and logging that
    another thread might hold at the fork, and reseeds `random` (Pyrene does not use
    it); with one thread no lock is held by anyone else and the interpreter's state is
    whole in the child. It costs a new instance about 200 page copies (copy-on-write
    faults: ~1 ms here), more than the clone itself. With other threads (a blocking
    FIFO open of pal.background), it runs as in os.fork(), the GIL held across the clone
    so that no other thread is inside the interpreter meanwhile (glibc's fork() adds
    only its own locks for threads: malloc, stdio)."""
    threading = sys.modules.get("threading")  # not imported: no thread was ever started
    if threading is None or threading.active_count() == 1:
        pid = _clone_syscall(ctypes.c_long(SYS_clone), ctypes.c_long(CLONE_PARENT | SIGCHLD), ctypes.c_long(0),
                             ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
        if pid < 0:
            raise HostError.from_errno(ctypes.get_errno(), "clone(CLONE_PARENT)")
        return pid
    _py_before_fork()
    pid = _clone_syscall(ctypes.c_long(SYS_clone), ctypes.c_long(CLONE_PARENT | SIGCHLD), ctypes.c_long(0),
                         ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
    if pid == 0:
        _py_after_fork_child()
        return 0
    err = ctypes.get_errno()
    _py_after_fork_parent()
    if pid < 0:
        raise HostError.from_errno(err, "clone(CLONE_PARENT)")
    return pid
