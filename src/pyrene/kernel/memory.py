"""Memory of the app performed on its behalf, through syscall injection.

File mappings (DESIGN.md decision 4): when the file's data lives in a host file, the
app maps that very file, so MAP_SHARED is really shared and coherent with read/write.
The app must hold the host fd only for the length of the mmap call (or of the loading
of a program): we inject pidfd_open(instance) and pidfd_getfd(pidfd, host_fd) to get a
copy of the instance's fd (no path is involved, so nothing can be raced), map it, and
close both (`AppFds`). A file with no
host backing (a synthesized /proc file) is copied into an anonymous mapping instead.
The ELF loader and the mmap syscall share `map_file`.
"""

from __future__ import annotations

import errno
import os

from ..abi import sysnum
from ..abi.flags import MapFlags, Prot
from ..errors import Errno
from ..fs.file import OpenFile
from ..platform.tracee import Tracee

PAGE = 4096
NR_MMAP = sysnum.BY_NAME["mmap"]
NR_MPROTECT = sysnum.BY_NAME["mprotect"]
NR_MUNMAP = sysnum.BY_NAME["munmap"]
NR_CLOSE = sysnum.BY_NAME["close"]
NR_PIDFD_OPEN = sysnum.BY_NAME["pidfd_open"]
NR_PIDFD_GETFD = sysnum.BY_NAME["pidfd_getfd"]
NR_CLOSE_RANGE = sysnum.BY_NAME["close_range"]


def page_up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


def page_down(n: int) -> int:
    return n & ~(PAGE - 1)


def checked(result: int) -> int:
    if -4096 < result < 0:
        raise Errno(-result)
    return result


# as plain ints: IntFlag arithmetic costs microseconds per operation
NOT_SHARED_VALIDATE = ~int(MapFlags.MAP_SHARED_VALIDATE)
PRIVATE_ANONYMOUS = int(MapFlags.MAP_PRIVATE | MapFlags.MAP_ANONYMOUS)


def map_anonymous(tr: Tracee, addr: int, length: int, prot: int, flags: int) -> int:
    flags = (int(flags) & NOT_SHARED_VALIDATE) | PRIVATE_ANONYMOUS
    return checked(tr.inject(NR_MMAP, addr, length, prot, flags, -1, 0))


def protect(tr: Tracee, addr: int, length: int, prot: int) -> None:
    checked(tr.inject(NR_MPROTECT, addr, length, prot))


class AppFds:
    """Copies of instance host fds in the app, for the injected calls of one operation (an
    mmap call, the loading of a program): pidfd_open(instance) once, pidfd_getfd once per
    host fd, and all closed together at the end, so the app holds them only during the
    operation (DESIGN.md decision 4). The loader maps 8 or so segments of two files:
    fetching each fd once makes that ~14 injected calls rather than 5 per segment.

    Use as a context manager; `get` is None when the host refuses (Yama ptrace_scope:
    `error` says why), and the caller copies the data instead."""

    __slots__ = ("tr", "pidfd", "fds", "error")

    def __init__(self, tr: Tracee) -> None:
        self.tr = tr
        self.pidfd = -1
        self.fds: dict[int, int] = {}  # instance host fd -> the app's copy
        self.error = 0  # the errno of the host's refusal

    def __enter__(self) -> "AppFds":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, host_fd: int) -> int | None:
        """The app's copy of the instance's `host_fd`; None if the host refuses."""
        fd = self.fds.get(host_fd)
        if fd is not None or self.error:
            return fd
        if self.pidfd < 0:
            pidfd = self.tr.inject(NR_PIDFD_OPEN, os.getpid(), 0)
            if pidfd < 0:
                self.error = -pidfd
                return None
            self.pidfd = pidfd
        fd = self.tr.inject(NR_PIDFD_GETFD, self.pidfd, host_fd, 0)
        if fd < 0:
            self.error = -fd
            return None
        self.fds[host_fd] = fd
        return fd

    def close(self) -> None:
        """Close every fd we put in the app: one close_range when they are consecutive
        (they are the lowest free numbers, so in practice always), else one by one."""
        held = sorted(self.fds.values()) + ([self.pidfd] if self.pidfd >= 0 else [])
        self.forget()
        if len(held) > 1 and sorted(held) == list(range(min(held), max(held) + 1)):
            self.tr.inject(NR_CLOSE_RANGE, min(held), max(held), 0)
        else:
            for fd in held:
                self.tr.inject(NR_CLOSE, fd)

    def forget(self) -> None:
        """The fds are gone without us (an exec closed them: pidfds and pidfd_getfd
        copies are close-on-exec)."""
        self.fds.clear()
        self.pidfd = -1


def map_file(tr: Tracee, addr: int, length: int, prot: int, flags: int, file: OpenFile, offset: int,
             fds: AppFds | None = None) -> int:
    """mmap(addr, length, prot, flags, <file>, offset) in the tracee; returns the address.
    `fds`: the operation's fd copies in the app (else this call's own)."""
    host_fd = file.host_fd()
    if host_fd is not None:
        result = map_host_fd(tr, addr, length, prot, flags, host_fd, offset, fds)
        if result is not None:
            return checked(result)
    if flags & MapFlags.MAP_SHARED and prot & Prot.PROT_WRITE:
        raise Errno(errno.ENODEV, "shared writable mapping of a file without host backing")
    start = map_anonymous(tr, addr, length, prot | Prot.PROT_WRITE, flags & MapFlags.MAP_FIXED)
    data = file.pread(length, offset)
    tr.write(start, data)
    if not prot & Prot.PROT_WRITE:
        protect(tr, start, length, prot)
    return start


def map_host_fd(tr: Tracee, addr: int, length: int, prot: int, flags: int, host_fd: int, offset: int,
                fds: AppFds | None = None) -> int | None:
    """Map the instance's `host_fd` in the tracee; None if the host refused pidfd_getfd."""
    if fds is None:
        with AppFds(tr) as own:
            return map_host_fd(tr, addr, length, prot, flags, host_fd, offset, own)
    fd = fds.get(host_fd)
    if fd is None:
        return None
    return tr.inject(NR_MMAP, addr, length, prot, flags, fd, offset)
