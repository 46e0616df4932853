"""Scheduling and accounting: nice values, scheduling policies, getrusage and times.

Nice values and policies are virtual, per process, with Linux's permission rules; the
host process is only ever made nicer (raise_host_nice), never given more CPU, and every
policy runs as the host's SCHED_OTHER. Usage figures are the host's accounting of the
app's host process: the app's CPU time is its own, whatever Pyrene spends serving it."""

from __future__ import annotations

import errno
import struct

from ..abi.flags import CAP_SYS_NICE, Rlimit
from ..abi.types import Int, Ptr
from ..errors import Errno, RunOnHost
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Process, Task
from ..pal import linux as pal

PRIO_PROCESS, PRIO_PGRP, PRIO_USER = 0, 1, 2
MIN_NICE, MAX_NICE = -20, 19
SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE = 0, 1, 2, 3, 5, 6
SCHED_RESET_ON_FORK = 0x40000000
REALTIME = (SCHED_FIFO, SCHED_RR)
SCHED_PARAM = struct.Struct("<i")


# -- nice -------------------------------------------------------------------------------

def prio_targets(t: Task, which: int, who: int) -> list[Process]:
    """The processes (of this instance) that getpriority/setpriority's `which`/`who` name."""
    if which not in (PRIO_PROCESS, PRIO_PGRP, PRIO_USER):
        raise Errno(errno.EINVAL)
    p = t.proc
    if which == PRIO_USER:
        targets = [p] if p.creds.ruid == (who or p.creds.ruid) else []
    else:
        targets = [p] if who in (0, p.vpid) else []  # each process leads its own group for now
    if not targets:
        raise Errno(errno.ESRCH)
    return targets


@syscall("getpriority", Int, Int, support=PARTIAL, note="the calling process only (its group and user too)")
def getpriority(t: Task, which: int, who: int) -> int:
    """The kernel's form: 20 - nice, so that no success is negative (glibc undoes it)."""
    return max(20 - p.nice for p in prio_targets(t, which, who))


@syscall("setpriority", Int, Int, Int, support=PARTIAL, note="the calling process only (its group and user too)")
def setpriority(t: Task, which: int, who: int, niceval: int) -> int:
    nice = min(max(niceval, MIN_NICE), MAX_NICE)
    creds = t.proc.creds
    for p in prio_targets(t, which, who):
        if creds.euid not in (p.creds.ruid, p.creds.euid) and not creds.capable(CAP_SYS_NICE):
            raise Errno(errno.EPERM)
        if nice < p.nice and not may_lower_nice(p, nice):
            raise Errno(errno.EACCES)
        p.nice = nice
        pal.raise_host_nice(p.host_pid, nice)
    return 0


def may_lower_nice(p: Process, nice: int) -> bool:
    """can_nice(): RLIMIT_NICE's soft limit (as 20 - nice) or CAP_SYS_NICE."""
    return 20 - nice <= p.rlimits[Rlimit.RLIMIT_NICE][0] or p.creds.capable(CAP_SYS_NICE)


# -- policies ---------------------------------------------------------------------------

def sched_target(t: Task, pid: int) -> Process:
    if pid < 0:
        raise Errno(errno.EINVAL)
    if pid not in (0, t.proc.vpid) and t.instance.thread(pid) is None:  # a thread's tid: its process's values
        raise Errno(errno.ESRCH)
    return t.proc


@syscall("sched_getscheduler", Int, support=PARTIAL, note="the calling process only (other pids: ESRCH)")
def sched_getscheduler(t: Task, pid: int) -> int:
    return sched_target(t, pid).sched_policy


@syscall("sched_setscheduler", Int, Int, Ptr, support=PARTIAL,
         note="SCHED_OTHER/BATCH/IDLE (virtual); real-time policies EPERM; the calling process only")
def sched_setscheduler(t: Task, pid: int, policy: int, param: int) -> int:
    if not param or pid < 0:
        raise Errno(errno.EINVAL)
    priority = SCHED_PARAM.unpack(t.mem.read(param, SCHED_PARAM.size))[0]
    p = sched_target(t, pid)
    policy &= ~SCHED_RESET_ON_FORK
    if policy not in (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, *REALTIME):
        raise Errno(errno.EINVAL)
    check_priority(policy, priority)
    if policy in REALTIME:
        raise Errno(errno.EPERM)  # the host's real-time classes are not the sandbox's to hand out
    if p.sched_policy == SCHED_IDLE and policy != SCHED_IDLE and not may_lower_nice(p, p.nice):
        raise Errno(errno.EPERM)  # leaving SCHED_IDLE is raising one's priority
    p.sched_policy = policy
    return 0


def check_priority(policy: int, priority: int) -> None:
    low, high = priority_range(policy)
    if not low <= priority <= high:
        raise Errno(errno.EINVAL)


def priority_range(policy: int) -> tuple[int, int]:
    if policy in REALTIME:
        return 1, 99
    if policy in (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE):
        return 0, 0
    raise Errno(errno.EINVAL)


@syscall("sched_getparam", Int, Ptr, support=PARTIAL, note="the calling process only (other pids: ESRCH)")
def sched_getparam(t: Task, pid: int, param: int) -> int:
    if not param or pid < 0:
        raise Errno(errno.EINVAL)
    sched_target(t, pid)
    t.mem.write(param, SCHED_PARAM.pack(0))
    return 0


@syscall("sched_setparam", Int, Ptr, support=PARTIAL, note="the calling process only (other pids: ESRCH)")
def sched_setparam(t: Task, pid: int, param: int) -> int:
    if not param or pid < 0:
        raise Errno(errno.EINVAL)
    priority = SCHED_PARAM.unpack(t.mem.read(param, SCHED_PARAM.size))[0]
    check_priority(sched_target(t, pid).sched_policy, priority)
    return 0


@syscall("sched_get_priority_max", Int)
def sched_get_priority_max(t: Task, policy: int) -> int:
    return priority_range(policy)[1]


@syscall("sched_get_priority_min", Int)
def sched_get_priority_min(t: Task, policy: int) -> int:
    return priority_range(policy)[0]


# -- accounting -------------------------------------------------------------------------

@syscall("getrusage", Int, Ptr)
def getrusage(t: Task, who: int, buf: int) -> int:
    """The host accounts the app's process and threads, and its children once it has
    waited for them (they are its host children, and its waits are the host's)."""
    raise RunOnHost()


@syscall("times", Ptr)
def times(t: Task, buf: int) -> int:
    """As getrusage; the return value is the host's tick clock, as natively."""
    raise RunOnHost()
