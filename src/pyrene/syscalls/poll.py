"""Waiting for fds: poll/ppoll, select/pselect6, epoll_*, and eventfd.

Each call looks at the fds once, without waiting (the host's poll(2) with timeout 0 over
the files' host fds, `OpenFile.host_poll_fd`; a file without one is always ready, as
Linux's files without a poll method). If nothing is ready and time is left, it parks the
task on those host fds and its deadline (WouldBlock, kernel/waits.py) and runs again from
the top when one is ready, the deadline passes, or ends with EINTR when a signal with a
handler arrives (these calls are never restarted after a handler, as on Linux). The
deadline of a re-run is the first run's (`waits.deadline`), so timeouts are not stretched.

select, pselect6 and ppoll write the time left back into the caller's timeout, as Linux
does. The sigmask of ppoll/pselect6/epoll_pwait decides which signals end the wait, and
a signal it unblocks is delivered with it in force and the caller's mask restored after
the handler, as on Linux (kernel/waits.py does it with PTRACE_SETSIGMASK and the frame).
"""

from __future__ import annotations

import errno
import struct

from ..abi.structs import TIMESPEC, TIMEVAL
from ..abi.types import Fd, Int, Ptr, SizeT, UInt
from ..errors import Errno, WouldBlock
from ..fs.eventfd import EpollFile, make_eventfd
from ..kernel.table import syscall
from ..kernel.task import Task
from ..pal import linux as pal
from .time import read_timeout, time_left

POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND = 0x40, 0x80, 0x100, 0x200
ALWAYS_READY = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM  # Linux's DEFAULT_POLLMASK
POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR  # what select counts as readable
POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR
POLLEX_SET = POLLPRI
POLLFD = struct.Struct("<ihh")
EPOLL_EVENT = struct.Struct("<IQ")  # packed on x86-64
EP_MAX_EVENTS = 0x7FFFFFFF // EPOLL_EVENT.size
EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
EPOLL_CLOEXEC = 0o2000000
SIGSET_SIZE = 8
PSELECT_SIGMASK = struct.Struct("<QQ")  # pselect6's 6th argument: {const sigset_t *, size_t}


def readiness(t: Task, wanted: list[tuple[int, int]]) -> tuple[list[int], dict[int, int]]:
    """revents for each (fd, events), and the host fds {fd: events} to wait on.

    A negative fd is skipped (revents 0), an fd that is not open is POLLNVAL."""
    files = t.files.entries
    revents = [0] * len(wanted)
    host: dict[int, int] = {}
    where: list[int | None] = [None] * len(wanted)
    for i, (fd, events) in enumerate(wanted):
        if fd < 0:
            continue
        entry = files.get(fd)
        if entry is None:
            revents[i] = POLLNVAL
            continue
        host_fd = entry.file.host_poll_fd()
        if host_fd is None:
            revents[i] = ALWAYS_READY & (events | POLLERR | POLLHUP)
            continue
        host[host_fd] = host.get(host_fd, 0) | events
        where[i] = host_fd
    if host:
        ready = pal.poll(host)
        for i, host_fd in enumerate(where):
            if host_fd is not None:
                revents[i] = ready.get(host_fd, 0) & (wanted[i][1] | POLLERR | POLLHUP | POLLNVAL)
    return revents, host


def read_sigmask(t: Task, ptr: int, size: int) -> int | None:
    if not ptr:
        return None
    if size != SIGSET_SIZE:
        raise Errno(errno.EINVAL)
    return int.from_bytes(t.mem.read(ptr, SIGSET_SIZE), "little")


def expired(deadline: int | None) -> bool:
    return deadline is not None and time_left(deadline) == 0


# -- poll, ppoll --------------------------------------------------------------------------

def do_poll(t: Task, fds_ptr: int, nfds: int, deadline: int | None, write_left, sigmask: int | None) -> int:  # type: ignore[no-untyped-def]
    if nfds > t.files.limit:
        raise Errno(errno.EINVAL)
    raw = t.mem.read(fds_ptr, nfds * POLLFD.size)
    wanted = [POLLFD.unpack_from(raw, i * POLLFD.size)[:2] for i in range(nfds)]
    wanted = [(fd, events & 0xFFFF) for fd, events in wanted]
    revents, host = readiness(t, wanted)
    count = sum(1 for r in revents if r)
    if count or expired(deadline):
        out = bytearray(raw)
        for i, r in enumerate(revents):
            struct.pack_into("<H", out, i * POLLFD.size + 6, r)
        t.mem.write(fds_ptr, bytes(out))
        write_left()
        return count
    raise WouldBlock(tuple(host.items()), deadline, restartable=False, on_eintr=write_left, sigmask=sigmask)


@syscall("poll", Ptr, UInt, Int)
def poll(t: Task, fds_ptr: int, nfds: int, timeout_ms: int) -> int:
    deadline = t.instance.waits.deadline(t, None if timeout_ms < 0 else timeout_ms * 1_000_000)
    return do_poll(t, fds_ptr, nfds, deadline, lambda: None, None)


@syscall("ppoll", Ptr, UInt, Ptr, Ptr, SizeT)
def ppoll(t: Task, fds_ptr: int, nfds: int, ts_ptr: int, mask_ptr: int, mask_size: int) -> int:
    deadline = t.instance.waits.deadline(t, read_timeout(t, ts_ptr, TIMESPEC, 1))
    sigmask = read_sigmask(t, mask_ptr, mask_size)
    return do_poll(t, fds_ptr, nfds, deadline, lambda: write_time_left(t, ts_ptr, TIMESPEC, 1, deadline), sigmask)


def write_time_left(t: Task, ptr: int, layout: struct.Struct, unit_ns: int, deadline: int | None) -> None:
    """Linux writes the time left back into select's timeval / ppoll's timespec."""
    if ptr and deadline is not None:
        sec, rest = divmod(time_left(deadline), 1_000_000_000)
        t.mem.write(ptr, layout.pack(sec, rest // unit_ns))


# -- select, pselect6 ---------------------------------------------------------------------

def do_select(t: Task, nfds: int, sets: tuple[int, int, int], deadline: int | None, write_left,  # type: ignore[no-untyped-def]
              sigmask: int | None) -> int:
    if nfds < 0:
        raise Errno(errno.EINVAL)
    nfds = min(nfds, t.files.limit)
    nbytes = (nfds + 63) // 64 * 8
    bits = [int.from_bytes(t.mem.read(p, nbytes), "little") if p and nbytes else 0 for p in sets]
    wanted: list[tuple[int, int]] = []
    for fd in range(nfds):
        events = ((POLLIN_SET if bits[0] >> fd & 1 else 0) | (POLLOUT_SET if bits[1] >> fd & 1 else 0)
                  | (POLLEX_SET if bits[2] >> fd & 1 else 0))
        if events:
            if fd not in t.files.entries:
                raise Errno(errno.EBADF)
            wanted.append((fd, events))
    revents, host = readiness(t, wanted)
    out = [0, 0, 0]
    count = 0
    for (fd, events), r in zip(wanted, revents):
        for i, kind in enumerate((POLLIN_SET, POLLOUT_SET, POLLEX_SET)):
            if events & kind and r & kind:
                out[i] |= 1 << fd
                count += 1
    if count or expired(deadline):
        for p, value in zip(sets, out):
            if p and nbytes:
                t.mem.write(p, value.to_bytes(nbytes, "little"))
        write_left()
        return count
    raise WouldBlock(tuple(host.items()), deadline, restartable=False, on_eintr=write_left, sigmask=sigmask)


@syscall("select", Int, Ptr, Ptr, Ptr, Ptr)
def select_(t: Task, nfds: int, rp: int, wp: int, ep: int, tv_ptr: int) -> int:
    deadline = t.instance.waits.deadline(t, read_timeout(t, tv_ptr, TIMEVAL, 1000))
    return do_select(t, nfds, (rp, wp, ep), deadline, lambda: write_time_left(t, tv_ptr, TIMEVAL, 1000, deadline),
                     None)


@syscall("pselect6", Int, Ptr, Ptr, Ptr, Ptr, Ptr)
def pselect6(t: Task, nfds: int, rp: int, wp: int, ep: int, ts_ptr: int, sig_ptr: int) -> int:
    deadline = t.instance.waits.deadline(t, read_timeout(t, ts_ptr, TIMESPEC, 1))
    sigmask = None
    if sig_ptr:
        mask_ptr, mask_size = PSELECT_SIGMASK.unpack(t.mem.read(sig_ptr, PSELECT_SIGMASK.size))
        sigmask = read_sigmask(t, mask_ptr, mask_size)
    return do_select(t, nfds, (rp, wp, ep), deadline, lambda: write_time_left(t, ts_ptr, TIMESPEC, 1, deadline),
                     sigmask)


# -- epoll ----------------------------------------------------------------------------------

@syscall("epoll_create", Int, ret=Fd)
def epoll_create(t: Task, size: int) -> int:
    if size <= 0:
        raise Errno(errno.EINVAL)
    return t.files.install_new(EpollFile(), False)


@syscall("epoll_create1", Int, ret=Fd)
def epoll_create1(t: Task, flags: int) -> int:
    if flags & ~EPOLL_CLOEXEC:
        raise Errno(errno.EINVAL)
    return t.files.install_new(EpollFile(), bool(flags & EPOLL_CLOEXEC))


def epoll_of(t: Task, epfd: int) -> EpollFile:
    ep = t.files.get(epfd)
    if not isinstance(ep, EpollFile):
        raise Errno(errno.EINVAL)
    return ep


@syscall("epoll_ctl", Fd, Int, Fd, Ptr)
def epoll_ctl(t: Task, epfd: int, op: int, fd: int, event_ptr: int) -> int:
    events = data = 0
    if op != EPOLL_CTL_DEL:
        events, data = EPOLL_EVENT.unpack(t.mem.read(event_ptr, EPOLL_EVENT.size))
    ep_file = t.files.get(epfd)
    target = t.files.get(fd)
    if target.host_poll_fd() is None:
        raise Errno(errno.EPERM)
    if ep_file is target or not isinstance(ep_file, EpollFile):
        raise Errno(errno.EINVAL)
    if op == EPOLL_CTL_ADD:
        ep_file.add(target, fd, events, data)
    elif op == EPOLL_CTL_MOD:
        ep_file.modify(target, fd, events, data)
    elif op == EPOLL_CTL_DEL:
        ep_file.delete(target, fd)
    else:
        raise Errno(errno.EINVAL)
    return 0


def do_epoll_wait(t: Task, epfd: int, events_ptr: int, maxevents: int, timeout_ns: int | None,
                  sigmask: int | None) -> int:
    if maxevents <= 0 or maxevents > EP_MAX_EVENTS:
        raise Errno(errno.EINVAL)
    ep = epoll_of(t, epfd)
    deadline = t.instance.waits.deadline(t, timeout_ns)
    ready = ep.ready(maxevents)
    if ready:
        t.mem.write(events_ptr, b"".join(EPOLL_EVENT.pack(events, data) for events, data in ready))
        return len(ready)
    if expired(deadline):
        return 0
    raise WouldBlock(((ep.epoll.fd, POLLIN),), deadline, restartable=False, sigmask=sigmask)


@syscall("epoll_wait", Fd, Ptr, Int, Int)
def epoll_wait(t: Task, epfd: int, events_ptr: int, maxevents: int, timeout_ms: int) -> int:
    return do_epoll_wait(t, epfd, events_ptr, maxevents, None if timeout_ms < 0 else timeout_ms * 1_000_000, None)


@syscall("epoll_pwait", Fd, Ptr, Int, Int, Ptr, SizeT)
def epoll_pwait(t: Task, epfd: int, events_ptr: int, maxevents: int, timeout_ms: int, mask_ptr: int,
                mask_size: int) -> int:
    sigmask = read_sigmask(t, mask_ptr, mask_size)
    return do_epoll_wait(t, epfd, events_ptr, maxevents, None if timeout_ms < 0 else timeout_ms * 1_000_000, sigmask)


@syscall("epoll_pwait2", Fd, Ptr, Int, Ptr, Ptr, SizeT)
def epoll_pwait2(t: Task, epfd: int, events_ptr: int, maxevents: int, ts_ptr: int, mask_ptr: int,
                 mask_size: int) -> int:
    sigmask = read_sigmask(t, mask_ptr, mask_size)
    return do_epoll_wait(t, epfd, events_ptr, maxevents, read_timeout(t, ts_ptr, TIMESPEC, 1), sigmask)


# -- eventfd ----------------------------------------------------------------------------------

@syscall("eventfd2", UInt, Int, ret=Fd)
def eventfd2(t: Task, initval: int, flags: int) -> int:
    return t.files.install_new(make_eventfd(initval, flags), bool(flags & 0o2000000))


@syscall("eventfd", UInt, ret=Fd)
def eventfd(t: Task, initval: int) -> int:
    return t.files.install_new(make_eventfd(initval, 0), False)

