"""Sleeping and timers: nanosleep/clock_nanosleep, pause, alarm/setitimer, timerfd_*.

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
from dataclasses import dataclass

from ..abi.structs import TIMESPEC
from ..abi.types import Fd, Int, Ptr, UInt
from ..errors import Errno, RunOnHost, WouldBlock
from ..fs.eventfd import TimerFd, make_timerfd
from ..kernel import signals
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from ..kernel.waits import Timer

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


def real_timer(t: Task, value_ns: int, interval_ns: int) -> tuple[int, int]:
    """Set the process's ITIMER_REAL (alarm and setitimer share it, as on Linux): SIGALRM
    after `value_ns` (0 disarms), then every `interval_ns`. Returns the old (value left,
    interval)."""
    waits = t.instance.waits
    old = (0, 0)
    if waits.alarm is not None:
        old = (max(1, time_left(waits.alarm.deadline)), waits.alarm.interval)
        waits.cancel(waits.alarm)
        waits.alarm = None
    if value_ns:
        waits.alarm = waits.add_timer(time.monotonic_ns() + value_ns,
                                      lambda: signals.raise_own(t, signal.SIGALRM, signals.SI_KERNEL), interval_ns)
    return old


@syscall("alarm", UInt)
def alarm(t: Task, seconds: int) -> int:
    """Returns the seconds left of the previous timer, rounded as Linux does (to nearest,
    at least 1)."""
    left, _ = real_timer(t, seconds * NS, 0)
    return max(1, (left + NS // 2) // NS) if left else 0


ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF = 0, 1, 2
ITIMERVAL = struct.Struct("<qqqq")  # it_interval, it_value as timevals


def pack_itimerval(value_ns: int, interval_ns: int) -> bytes:
    isec, ins = divmod(interval_ns, NS)
    vsec, vns = divmod(value_ns, NS)
    return ITIMERVAL.pack(isec, ins // 1000, vsec, (vns + 999) // 1000 if value_ns else 0)


@syscall("setitimer", Int, Ptr, Ptr, support=PARTIAL, note="ITIMER_REAL in the event loop; VIRTUAL/PROF on the host")
def setitimer(t: Task, which: int, new_ptr: int, old_ptr: int) -> int:
    if which in (ITIMER_VIRTUAL, ITIMER_PROF):
        raise RunOnHost()  # CPU-time timers: the host counts the app's CPU time
    if which != ITIMER_REAL:
        raise Errno(errno.EINVAL)
    isec = ius = vsec = vus = 0
    if new_ptr:
        isec, ius, vsec, vus = ITIMERVAL.unpack(t.mem.read(new_ptr, ITIMERVAL.size))
    if min(isec, vsec, ius, vus) < 0 or max(ius, vus) >= 1_000_000:
        raise Errno(errno.EINVAL)
    value, interval = vsec * NS + vus * 1000, isec * NS + ius * 1000
    old_value, old_interval = real_timer(t, value, interval)
    if old_ptr:
        t.mem.write(old_ptr, pack_itimerval(old_value, old_interval))
    return 0


@syscall("getitimer", Int, Ptr, support=PARTIAL, note="as setitimer")
def getitimer(t: Task, which: int, ptr: int) -> int:
    if which in (ITIMER_VIRTUAL, ITIMER_PROF):
        raise RunOnHost()
    if which != ITIMER_REAL:
        raise Errno(errno.EINVAL)
    timer = t.instance.waits.alarm
    value, interval = (0, 0) if timer is None else (max(1, time_left(timer.deadline)), timer.interval)
    t.mem.write(ptr, pack_itimerval(value, interval))
    return 0


@syscall("pause")
def pause(t: Task) -> int:
    """Wait for a signal: parked with nothing to wake it but one (always EINTR)."""
    raise WouldBlock(restartable=False)


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


# -- POSIX timers: timer_create and friends ------------------------------------------------
#
# Timers of the instance's event loop (kernel/waits.py), as alarm's: when one fires, the
# signal is queued to the app with a SI_TIMER siginfo (si_timerid, si_value), as the
# kernel's would be. Not inherited by fork (Waits.reset_after_fork clears them).

SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID = 0, 1, 2, 4
SIGEVENT = struct.Struct("<qiii")  # sigev_value, sigev_signo, sigev_notify, _tid
TIMER_CLOCKS = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI}
ITIMERSPEC = struct.Struct("<qqqq")  # it_interval, it_value as timespecs
TIMER_NOTE = "CPU-time and alarm clocks are unsupported; overruns are not counted; exec does not delete timers"


@dataclass(eq=False)
class PosixTimer:
    clock: int
    signo: int
    notify: int
    value: int
    host_tid: int  # the thread of SIGEV_THREAD_ID; 0: the process
    armed: Timer | None = None


def posix_timers(t: Task) -> dict[int, PosixTimer]:
    return t.instance.waits.posix_timers


@syscall("timer_create", Int, Ptr, Ptr, support=PARTIAL, note=TIMER_NOTE)
def timer_create(t: Task, clock: int, sevp: int, id_ptr: int) -> int:
    if clock not in TIMER_CLOCKS:
        raise Errno(errno.EPERM if clock in (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM) else errno.EINVAL)
    timers = posix_timers(t)
    timer_id = next(i for i in range(len(timers) + 1) if i not in timers)
    if sevp:
        value, signo, notify, tid = SIGEVENT.unpack(t.mem.read(sevp, SIGEVENT.size))
    else:
        value, signo, notify, tid = timer_id, signal.SIGALRM, SIGEV_SIGNAL, 0
    host_tid = 0
    if notify == SIGEV_THREAD_ID:
        host_tid = next((task.tid for task in t.instance.tasks.values() if task.vtid == tid and task.proc is t.proc), 0)
        if not host_tid:
            raise Errno(errno.EINVAL)
    elif notify not in (SIGEV_SIGNAL, SIGEV_NONE):
        raise Errno(errno.EINVAL)  # SIGEV_THREAD is the libc's (a thread and SIGEV_THREAD_ID)
    if notify != SIGEV_NONE and not 1 <= signo <= 64:
        raise Errno(errno.EINVAL)
    t.mem.write(id_ptr, struct.pack("<i", timer_id))
    timers[timer_id] = PosixTimer(clock, signo, notify, value, host_tid)
    return 0


def posix_timer(t: Task, timer_id: int) -> PosixTimer:
    timer = posix_timers(t).get(timer_id)
    if timer is None:
        raise Errno(errno.EINVAL)
    return timer


def timer_left(timer: PosixTimer) -> tuple[int, int]:
    """(ns until the next expiration, interval) of an armed timer; (0, 0) if disarmed."""
    if timer.armed is None:
        return 0, 0
    return max(1, time_left(timer.armed.deadline)), timer.armed.interval


def fire(t: Task, timer_id: int, timer: PosixTimer) -> None:
    if timer.armed is not None and not timer.armed.interval:
        timer.armed = None
    if timer.notify == SIGEV_NONE:
        return
    info = signals.siginfo(timer.signo, signals.SI_TIMER, timer_id, 0, timer.value)
    try:
        signals.queue(t, t.proc.host_pid, 0, timer.signo, info, timer.host_tid)
    except Errno:
        pass  # the thread is gone


@syscall("timer_settime", Int, Int, Ptr, Ptr, support=PARTIAL, note=TIMER_NOTE)
def timer_settime(t: Task, timer_id: int, flags: int, new_ptr: int, old_ptr: int) -> int:
    timer = posix_timer(t, timer_id)
    isec, ins, vsec, vns = ITIMERSPEC.unpack(t.mem.read(new_ptr, ITIMERSPEC.size))
    if min(isec, ins, vsec, vns) < 0 or max(ins, vns) >= NS:
        raise Errno(errno.EINVAL)
    old = timer_left(timer)
    waits = t.instance.waits
    if timer.armed is not None:
        waits.cancel(timer.armed)
        timer.armed = None
    value, interval = vsec * NS + vns, isec * NS + ins
    if value:
        if flags & TIMER_ABSTIME:
            value = max(0, value - time.clock_gettime_ns(timer.clock))
        timer.armed = waits.add_timer(time.monotonic_ns() + value, lambda: fire(t, timer_id, timer), interval)
    if old_ptr:
        t.mem.write(old_ptr, ITIMERSPEC.pack(*divmod(old[1], NS), *divmod(old[0], NS)))
    return 0


@syscall("timer_gettime", Int, Ptr, support=PARTIAL, note=TIMER_NOTE)
def timer_gettime(t: Task, timer_id: int, cur_ptr: int) -> int:
    value, interval = timer_left(posix_timer(t, timer_id))
    t.mem.write(cur_ptr, ITIMERSPEC.pack(*divmod(interval, NS), *divmod(value, NS)))
    return 0


@syscall("timer_getoverrun", Int, support=PARTIAL, note=TIMER_NOTE)
def timer_getoverrun(t: Task, timer_id: int) -> int:
    posix_timer(t, timer_id)
    return 0


@syscall("timer_delete", Int)
def timer_delete(t: Task, timer_id: int) -> int:
    timer = posix_timers(t).pop(timer_id, None)
    if timer is None:
        raise Errno(errno.EINVAL)
    if timer.armed is not None:
        t.instance.waits.cancel(timer.armed)
    return 0
