"""File-backed mmap, performed on the app's behalf (anonymous mmap runs natively)."""

from __future__ import annotations

import errno

from ..abi.flags import MapFlags, Prot
from ..abi.types import Fd, Int, Long, MapFlagsArg, Offset, ProtArg, Ptr, SizeT
from ..errors import Errno, RunOnHost
from ..kernel import memory
from ..kernel.table import syscall
from ..kernel.task import Task


@syscall("mmap", Ptr, SizeT, ProtArg, MapFlagsArg, Fd, Offset, ret=Ptr)
def mmap(t: Task, addr: int, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    if flags & MapFlags.MAP_ANONYMOUS:  # only if someone injected it here: run it as is
        return memory.map_anonymous(t.tracee, addr, length, prot, flags)
    if offset % memory.PAGE or length == 0:
        raise Errno(errno.EINVAL)
    file = t.files.get(fd)
    if not file.readable:
        raise Errno(errno.EACCES)
    if flags & MapFlags.MAP_SHARED and prot & Prot.PROT_WRITE and not file.writable:
        raise Errno(errno.EACCES)
    return memory.map_file(t.tracee, addr, length, prot, flags, file, offset)


@syscall("msync", Ptr, SizeT, Int)
def msync(t: Task, addr: int, length: int, flags: int) -> int:
    """Host-backed mappings are real host mappings: the host syncs them."""
    raise RunOnHost()
