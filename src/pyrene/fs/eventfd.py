"""eventfd, timerfd and epoll: Pyrene's open file descriptions over host objects of the
same kind, held by the instance and always non-blocking on the host side.

Why host objects rather than counters and timers in Python: the host eventfd already has
every rule a program can observe (EFD_SEMAPHORE reads, the 0xfffffffffffffffe ceiling,
EINVAL for reads under 8 bytes), the host timerfd counts expirations for every clock and
TFD_TIMER_ABSTIME/CANCEL_ON_SET, and both are plain fds whose readiness the event loop
(kernel/waits.py) waits on like a pipe's. They also survive the instance's fork (DESIGN.md
decision 1), so a parent and child sharing an eventfd share the counter with no RPC.

As with pipes, the app's O_NONBLOCK lives in the description's flags: a read or write the
host answers with EAGAIN is EAGAIN for a non-blocking description and parks the task
(WouldBlock on the host fd) for a blocking one.

epoll is a host epoll instance too. The app's interest list is keyed as Linux keys it, by
(open file description, fd number); each entry registers its own host dup of the file's
host fd (`OpenFile.host_poll_fd`), so the host's epoll key is unique even when two app fds
share a description, and level/edge triggering, EPOLLONESHOT, EPOLLEXCLUSIVE and the
rules about nesting epoll sets (ELOOP) are the host's. A file with no host fd (synthesized
/proc and /dev files) cannot be watched: EPERM, as Linux says for a file without poll.
Linux drops an entry when its description is closed for the last time; we do the same
lazily, when the set is next waited on (the dup kept the host file alive until then).
"""

from __future__ import annotations

import errno

from ..abi.flags import OpenFlags
from ..abi.structs import Stat
from ..errors import Errno, WouldBlock
from ..pal import linux as pal
from .file import OpenFile

POLLIN, POLLOUT = 0x1, 0x4
_NONBLOCK = int(OpenFlags.O_NONBLOCK)


class HostWaitable(OpenFile):
    """A description over a non-blocking host fd whose reads and writes may have to wait."""

    def __init__(self, fd: int, flags: int, path: str) -> None:
        super().__init__(flags, path)
        self.fd = fd

    def release(self) -> None:
        pal.close(self.fd)

    def stat(self) -> Stat:
        return pal.fstat(self.fd)

    def host_poll_fd(self) -> int | None:
        return self.fd

    def read(self, size: int) -> bytes:
        try:
            return pal.read(self.fd, size)
        except Errno as e:
            raise self._wait(e, POLLIN) from None

    def write(self, data: bytes) -> int:
        try:
            return pal.write(self.fd, data)
        except Errno as e:
            raise self._wait(e, POLLOUT) from None

    def _wait(self, e: Errno, events: int) -> Exception:
        if e.errno != errno.EAGAIN or self.flags & _NONBLOCK:
            return e
        return WouldBlock(((self.fd, events),))


EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC = 0x1, int(OpenFlags.O_NONBLOCK), int(OpenFlags.O_CLOEXEC)


class EventFd(HostWaitable):
    pass


def make_eventfd(initval: int, flags: int) -> EventFd:
    if flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC):
        raise Errno(errno.EINVAL)
    fd = pal.eventfd(initval, flags & EFD_SEMAPHORE)
    return EventFd(fd, int(OpenFlags.O_RDWR) | (flags & EFD_NONBLOCK), "anon_inode:[eventfd]")


class TimerFd(HostWaitable):
    def settime(self, flags: int, new: bytes) -> bytes:
        return pal.timerfd_settime(self.fd, flags, new)

    def gettime(self) -> bytes:
        return pal.timerfd_gettime(self.fd)


TFD_NONBLOCK, TFD_CLOEXEC = EFD_NONBLOCK, EFD_CLOEXEC


def make_timerfd(clock: int, flags: int) -> TimerFd:
    if flags & ~(TFD_NONBLOCK | TFD_CLOEXEC):
        raise Errno(errno.EINVAL)
    fd = pal.timerfd_create(clock, 0)
    return TimerFd(fd, int(OpenFlags.O_RDWR) | (flags & TFD_NONBLOCK), "anon_inode:[timerfd]")


class Interest:
    """One entry of an epoll interest list."""

    __slots__ = ("file", "fd", "host_fd", "data")

    def __init__(self, file: OpenFile, fd: int, host_fd: int, data: int) -> None:
        self.file = file
        self.fd = fd
        self.host_fd = host_fd  # our own dup of the file's host fd, registered in the host epoll
        self.data = data  # the app's epoll_data, returned as is


class EpollFile(OpenFile):
    """An epoll instance (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(int(OpenFlags.O_RDWR), "anon_inode:[eventpoll]")
        self.epoll = pal.Epoll()
        self.interests: dict[tuple[int, int], Interest] = {}  # (id(file), fd) -> entry
        self.by_host_fd: dict[int, Interest] = {}

    def release(self) -> None:
        for entry in self.interests.values():
            pal.close(entry.host_fd)
        self.interests.clear()
        self.by_host_fd.clear()
        self.epoll.close()

    def stat(self) -> Stat:
        return pal.fstat(self.epoll.fd)

    def host_poll_fd(self) -> int | None:
        return self.epoll.fd

    def add(self, file: OpenFile, fd: int, events: int, data: int) -> None:
        key = (id(file), fd)
        if key in self.interests:
            raise Errno(errno.EEXIST)
        target = file.host_poll_fd()
        if target is None:
            raise Errno(errno.EPERM)
        host_fd = pal.dup(target)
        try:
            self.epoll.ctl("add", host_fd, events)
        except Errno:
            pal.close(host_fd)
            raise
        entry = Interest(file, fd, host_fd, data)
        self.interests[key] = entry
        self.by_host_fd[host_fd] = entry

    def modify(self, file: OpenFile, fd: int, events: int, data: int) -> None:
        entry = self._entry(file, fd)
        self.epoll.ctl("mod", entry.host_fd, events)
        entry.data = data

    def delete(self, file: OpenFile, fd: int) -> None:
        self._drop(self._entry(file, fd))

    def ready(self, maxevents: int) -> list[tuple[int, int]]:
        """(events, data) of the entries ready now, at most `maxevents`."""
        for entry in [e for e in self.interests.values() if e.file.refs <= 0]:
            self._drop(entry)  # its description was closed: Linux forgets it then
        return [(events, self.by_host_fd[fd].data) for fd, events in self.epoll.ready(maxevents)
                if fd in self.by_host_fd]

    def _entry(self, file: OpenFile, fd: int) -> Interest:
        entry = self.interests.get((id(file), fd))
        if entry is None or entry.file is not file:
            raise Errno(errno.ENOENT)
        return entry

    def _drop(self, entry: Interest) -> None:
        del self.interests[(id(entry.file), entry.fd)]
        del self.by_host_fd[entry.host_fd]
        try:
            self.epoll.ctl("del", entry.host_fd)
        except Errno:
            pass
        pal.close(entry.host_fd)
