"""Pipes (pipe/pipe2): each end is an open file description of Pyrene's, whose data lives
in a host pipe that the instance holds.

Why a host pipe rather than a buffer in Python: the kernel's pipe already has every rule
a program can observe (64 KiB default capacity, F_SETPIPE_SZ rounding to a power-of-two
number of pages and EBUSY when shrinking below the content, PIPE_BUF atomicity, O_DIRECT
packet mode, EOF once every writer is gone, EPIPE once every reader is), its fstat is what
a native program sees (S_IFIFO, st_blksize 4096, a stable pipefs inode), and it survives
the instance's fork (DESIGN.md decision 1): two instances that inherit the ends share the
pipe, as two Linux processes do. The app never holds the host fds.

Both host ends are non-blocking: the instance must never sleep in a read or write (DESIGN.md
decision 6). The app's O_NONBLOCK lives in the description's flags. A non-blocking end
gets EAGAIN when the host says so; a *blocking* end that would wait parks the task
(WouldBlock on the host fd's readiness, kernel/waits.py) and the call runs again when the
pipe is readable or writable. A blocking write that only partly fits returns the bytes
written (a short write, which Linux only does when a signal interrupts it; callers that
loop on write see no difference).
"""

from __future__ import annotations

import errno

from ..abi.flags import OpenFlags
from ..abi.structs import Stat
from ..errors import Errno, WouldBlock
from ..pal import linux as pal
from .file import OpenFile

FIONREAD = 0x541B
POLLIN, POLLOUT = 0x1, 0x4
PIPE_BUF = 4096


class PipeEnd(OpenFile):
    """One end of a pipe: the read end (O_RDONLY) or the write end (O_WRONLY)."""

    def __init__(self, fd: int, flags: int) -> None:
        super().__init__(flags, "")
        self.fd = fd
        self.path = f"pipe:[{self.stat().ino}]"  # what /proc/self/fd/N shows

    def release(self) -> None:
        pal.close(self.fd)

    def stat(self) -> Stat:
        return pal.fstat(self.fd)

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        try:
            return pal.read(self.fd, size)
        except Errno as e:
            raise self._would_block(e, events=POLLIN) from None

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise Errno(errno.EBADF)
        done = 0
        while True:
            try:
                done += pal.write(self.fd, data[done:] if done else data)
            except Errno as e:
                if done:
                    return done
                raise self._would_block(e, events=POLLOUT) from None
            if done == len(data) or self.flags & OpenFlags.O_NONBLOCK:
                return done

    def _would_block(self, e: Errno, nonblock: bool | None = None, events: int | None = None) -> Exception:
        if nonblock is None:
            nonblock = bool(self.flags & OpenFlags.O_NONBLOCK)
        if e.errno != errno.EAGAIN or nonblock:
            return e
        if events is None:
            events = POLLIN if self.readable else POLLOUT
        return WouldBlock(((self.fd, events),))

    def tee(self, dst: "PipeEnd", count: int, nonblock: bool) -> int:
        """tee(2): copy up to `count` bytes of this pipe into `dst` without consuming them."""
        if not self.readable or not dst.writable:
            raise Errno(errno.EBADF)
        if self.stat().ino == dst.stat().ino:
            raise Errno(errno.EINVAL)
        try:
            return pal.tee(self.fd, dst.fd, count)
        except Errno as e:
            if e.errno != errno.EAGAIN or nonblock:
                raise
        # wait for what is missing: data in this pipe, or room in the other
        if pal.bytes_readable(self.fd):
            raise WouldBlock(((dst.fd, POLLOUT),))
        raise WouldBlock(((self.fd, POLLIN),))

    def ioctl(self, t: object, request: int, arg: int) -> int:
        if request != FIONREAD:
            raise Errno(errno.ENOTTY)
        t.mem.write(arg, pal.bytes_readable(self.fd).to_bytes(4, "little", signed=True))  # type: ignore[attr-defined]
        return 0

    def pipe_size(self, size: int | None) -> int:
        return pal.pipe_size(self.fd, size)

    def host_poll_fd(self) -> int | None:
        return self.fd


def make_pipe(flags: int) -> tuple[PipeEnd, PipeEnd]:
    """The two ends of a new pipe; `flags` are pipe2's (O_NONBLOCK, O_DIRECT)."""
    read_fd, write_fd = pal.pipe(flags & OpenFlags.O_DIRECT)
    nonblock = flags & OpenFlags.O_NONBLOCK  # O_DIRECT shows on the write end only, as on Linux
    return (PipeEnd(read_fd, int(nonblock)),
            PipeEnd(write_fd, nonblock | (flags & OpenFlags.O_DIRECT) | OpenFlags.O_WRONLY))


class FifoEnd(PipeEnd):
    """An opened FIFO (a named pipe in a host mount): a pipe end over the FIFO's own host
    fd, so two processes of the sandbox (or one in the sandbox and one on the host, for a
    FIFO in a shared mount) meet in the host kernel. Like every pipe end of Pyrene's the
    host fd is non-blocking and the app's O_NONBLOCK is the description's; it may be
    O_RDWR, as Linux allows for FIFOs. (fs/host.py opens it: a blocking open waits for its
    peer in a thread, never in the instance.)"""

    def __init__(self, fd: int, flags: int, path: str) -> None:
        pal.set_nonblocking(fd)
        OpenFile.__init__(self, flags, path)
        self.fd = fd
