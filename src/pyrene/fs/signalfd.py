"""signalfd: reads dequeue the reading process's pending signals (syscalls/signal.py).

A signal is the app process's: only a syscall made by the app itself can dequeue it. So
a read runs rt_sigtimedwait with a zero timeout in the app (injected: `dequeue`, given
by the kernel layer) and returns each siginfo in signalfd's layout. A host signalfd with
the same mask is kept only for what fstat and /proc show of the description.

Waiting: nothing on the host turns readable when the app gets a signal, so a blocking
read parks with `wake=True` (Pyrene's own signals wake the instance: kernel/signals.py)
and also looks again every RECHECK_NS, for signals from outside Pyrene (the terminal,
the host's SIGCHLD). poll/epoll on a signalfd are not supported (no host fd to watch).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable

from ..abi.flags import OpenFlags
from ..abi.structs import Stat
from ..errors import Errno, WouldBlock
from ..pal import linux as pal
from .file import OpenFile

SIGNALFD_SIGINFO_SIZE = 128
RECHECK_NS = 50_000_000
_NONBLOCK = int(OpenFlags.O_NONBLOCK)


class SignalFd(OpenFile):
    def __init__(self, mask: int, flags: int, dequeue: Callable[[int], bytes | None]) -> None:
        super().__init__(int(OpenFlags.O_RDWR) | (flags & _NONBLOCK), "anon_inode:[signalfd]")
        self.mask = mask
        self.dequeue = dequeue  # mask -> one signalfd_siginfo, or None if none is pending
        self.fd = pal.signalfd(tuple(s for s in range(1, 65) if mask & (1 << (s - 1))))

    def release(self) -> None:
        pal.close(self.fd)

    def stat(self) -> Stat:
        return pal.fstat(self.fd)

    def read(self, size: int) -> bytes:
        count = size // SIGNALFD_SIGINFO_SIZE
        if not count:
            raise Errno(errno.EINVAL)
        out = b""
        while len(out) < count * SIGNALFD_SIGINFO_SIZE:
            info = self.dequeue(self.mask)
            if info is None:
                break
            out += info
        if out:
            return out
        if self.flags & _NONBLOCK:
            raise Errno(errno.EAGAIN)
        raise WouldBlock(deadline=time.monotonic_ns() + RECHECK_NS, wake=True)
