"""Sleeping and timers: nanosleep/clock_nanosleep, alarm, timerfd_*.

A sleep parks the task until its deadline (WouldBlock, kernel/waits.py) instead of
sleeping on the host, so a signal Pyrene sends (a forwarded SIGINT, an alarm's SIGALRM)
ends it with EINTR and the time left, as on Linux. alarm(2) is a timer of the instance's
event loop that sends SIGALRM to the app: a host alarm would fire while the task may be
parked in Pyrene, where the host's signal could not interrupt the wait. timerfds are host
timerfds (fs/eventfd.py).
"""

from __future__ import annotations

import errno
import signal
import struct
import time

from ..abi.structs import TIMESPEC
from ..abi.types import Fd, Int, Ptr, UInt
from ..errors import Errno, WouldBlock
from ..fs.eventfd import TimerFd, make_timerfd
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task

NS = 1_000_000_000
TIMER_ABSTIME = 1
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID = 0, 1, 2, 3
CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI = 7, 8, 9, 11
SLEEP_CLOCKS = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI}
ITIMERSPEC_SIZE = 32


def read_timeout(t: Task, ptr: int, layout: struct.Struct, unit_ns: int) -> int | None:
    """A timespec (unit_ns 1) or timeval (1000) as nanoseconds; None for a NULL pointer."""
    if not ptr:
        return None
    sec, frac = layout.unpack(t.mem.read(ptr, layout.size))
    if sec < 0 or not 0 <= frac < NS // unit_ns:
        raise Errno(errno.EINVAL)
    return sec * NS + frac * unit_ns


def time_left(deadline: int) -> int:
    return max(0, deadline - time.monotonic_ns())


def sleep_until(t: Task, deadline: int, rem_ptr: int) -> int:
    if time_left(deadline) == 0:
        return 0

    def write_rem() -> None:
        if rem_ptr:
            t.mem.write(rem_ptr, TIMESPEC.pack(*divmod(time_left(deadline), NS)))

    raise WouldBlock(deadline=deadline, restartable=False, on_eintr=write_rem)


@syscall("nanosleep", Ptr, Ptr)
def nanosleep(t: Task, req: int, rem: int) -> int:
    ns = read_timeout(t, req, TIMESPEC, 1)
    if ns is None:
        raise Errno(errno.EFAULT)
    deadline = t.instance.waits.deadline(t, ns)
    assert deadline is not None
    return sleep_until(t, deadline, rem)


@syscall("clock_nanosleep", Int, Int, Ptr, Ptr, support=PARTIAL,
         note="CPU-time clocks are EINVAL; an absolute REALTIME sleep ignores clock changes made meanwhile")
def clock_nanosleep(t: Task, clock: int, flags: int, req: int, rem: int) -> int:
    if clock not in SLEEP_CLOCKS:
        raise Errno(errno.EOPNOTSUPP if clock in (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM) else errno.EINVAL)
    ns = read_timeout(t, req, TIMESPEC, 1)
    if ns is None:
        raise Errno(errno.EFAULT)
    if flags & TIMER_ABSTIME:  # no time left is written back for an absolute sleep
        return sleep_until(t, time.monotonic_ns() + ns - time.clock_gettime_ns(clock), 0)
    deadline = t.instance.waits.deadline(t, ns)
    assert deadline is not None
    return sleep_until(t, deadline, rem)


@syscall("alarm", UInt)
def alarm(t: Task, seconds: int) -> int:
    """Arm (or with 0 cancel) the process's SIGALRM timer; returns the seconds that were
    left of the previous one, rounded as Linux does (to nearest, at least 1)."""
    waits = t.instance.waits
    left = 0
    if waits.alarm is not None:
        ns = time_left(waits.alarm.deadline)
        left = max(1, (ns + NS // 2) // NS)
        waits.cancel(waits.alarm)
        waits.alarm = None
    if seconds:
        waits.alarm = waits.add_timer(time.monotonic_ns() + seconds * NS,
                                      lambda: t.instance.app_signal(t, signal.SIGALRM))
    return left


# -- timerfd -------------------------------------------------------------------------------

@syscall("timerfd_create", Int, Int, ret=Fd)
def timerfd_create(t: Task, clock: int, flags: int) -> int:
    file = make_timerfd(clock, flags)
    try:
        return t.files.install(file, cloexec=bool(flags & 0o2000000))
    except Errno:
        file.release()
        raise


def timerfd_of(t: Task, fd: int) -> TimerFd:
    file = t.files.get(fd)
    if not isinstance(file, TimerFd):
        raise Errno(errno.EINVAL)
    return file


@syscall("timerfd_settime", Fd, Int, Ptr, Ptr)
def timerfd_settime(t: Task, fd: int, flags: int, new_ptr: int, old_ptr: int) -> int:
    file = timerfd_of(t, fd)
    old = file.settime(flags, t.mem.read(new_ptr, ITIMERSPEC_SIZE))
    if old_ptr:
        t.mem.write(old_ptr, old)
    return 0


@syscall("timerfd_gettime", Fd, Ptr)
def timerfd_gettime(t: Task, fd: int, cur_ptr: int) -> int:
    t.mem.write(cur_ptr, timerfd_of(t, fd).gettime())
    return 0
