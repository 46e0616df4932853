"""Memory of the app performed on its behalf, through syscall injection.

File mappings (DESIGN.md decision 4): when the file's data lives in a host file, the
app maps that very file, so MAP_SHARED is really shared and coherent with read/write.
The app must hold the host fd only for the length of the mmap call: we inject
pidfd_open(instance) and pidfd_getfd(pidfd, host_fd) to get a copy of the instance's fd
(no path is involved, so nothing can be raced), map it, and close both. A file with no
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


def page_up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


def page_down(n: int) -> int:
    return n & ~(PAGE - 1)


def checked(result: int) -> int:
    if -4096 < result < 0:
        raise Errno(-result)
    return result


def map_anonymous(tr: Tracee, addr: int, length: int, prot: int, flags: int) -> int:
    flags = (flags & ~MapFlags.MAP_SHARED_VALIDATE) | MapFlags.MAP_PRIVATE | MapFlags.MAP_ANONYMOUS
    return checked(tr.inject(NR_MMAP, addr, length, prot, flags, -1, 0))


def protect(tr: Tracee, addr: int, length: int, prot: int) -> None:
    checked(tr.inject(NR_MPROTECT, addr, length, prot))


def map_file(tr: Tracee, addr: int, length: int, prot: int, flags: int, file: OpenFile, offset: int) -> int:
    """mmap(addr, length, prot, flags, <file>, offset) in the tracee; returns the address."""
    host_fd = file.host_fd()
    if host_fd is not None:
        result = map_host_fd(tr, addr, length, prot, flags, host_fd, offset)
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


def map_host_fd(tr: Tracee, addr: int, length: int, prot: int, flags: int, host_fd: int, offset: int) -> int | None:
    """Map the instance's `host_fd` in the tracee; None if the host refused pidfd_getfd."""
    pidfd = tr.inject(NR_PIDFD_OPEN, os.getpid(), 0)
    if pidfd < 0:
        return None
    fd = tr.inject(NR_PIDFD_GETFD, pidfd, host_fd, 0)
    tr.inject(NR_CLOSE, pidfd)
    if fd < 0:
        return None
    try:
        return tr.inject(NR_MMAP, addr, length, prot, flags, fd, offset)
    finally:
        tr.inject(NR_CLOSE, fd)
