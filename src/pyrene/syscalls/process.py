"""Process identity and exit. fork/exec/wait come with the multi-process work."""

from __future__ import annotations

import errno

from ..abi.flags import CAP_SYS_RESOURCE, RLIM_INFINITY, Rlimit
from ..abi.structs import RLIMIT
from ..abi.types import Int, Ptr, enum_type
from ..errors import Errno, RunOnHost
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task

RlimitArg = enum_type(Rlimit)


@syscall("getpid")
def getpid(t: Task) -> int:
    return t.proc.vpid


@syscall("gettid")
def gettid(t: Task) -> int:
    return t.vtid


@syscall("getppid")
def getppid(t: Task) -> int:
    return t.proc.ppid


@syscall("getpgrp")
def getpgrp(t: Task) -> int:
    return t.proc.vpid


@syscall("getpgid", Int)
@syscall("getsid", Int)
def getsid(t: Task, pid: int) -> int:
    if pid not in (0, t.proc.vpid):
        raise Errno(errno.ESRCH)
    return t.proc.vpid


def limits_of(t: Task, pid: int) -> dict[int, tuple[int, int]]:
    if pid not in (0, t.proc.vpid):
        raise Errno(errno.ESRCH)
    return t.proc.rlimits


def set_limit(t: Task, resource: int, soft: int, hard: int) -> None:
    if soft > hard and hard != RLIM_INFINITY:
        raise Errno(errno.EINVAL)
    old_soft, old_hard = t.proc.rlimits[resource]
    if hard > old_hard and not t.proc.creds.capable(CAP_SYS_RESOURCE):
        raise Errno(errno.EPERM)
    t.proc.rlimits[resource] = (soft, hard)
    if resource == Rlimit.RLIMIT_NOFILE:
        t.files.limit = min(soft, 1 << 20)


@syscall("prlimit64", Int, RlimitArg, Ptr, Ptr)
def prlimit64(t: Task, pid: int, resource: int, new: int, old: int) -> int:
    limits = limits_of(t, pid)
    if resource not in limits:
        raise Errno(errno.EINVAL)
    if old:
        t.mem.write(old, RLIMIT.pack(*limits[resource]))
    if new:
        set_limit(t, resource, *RLIMIT.unpack(t.mem.read(new, RLIMIT.size)))
    return 0


@syscall("getrlimit", RlimitArg, Ptr)
def getrlimit(t: Task, resource: int, old: int) -> int:
    return prlimit64(t, 0, resource, 0, old)


@syscall("setrlimit", RlimitArg, Ptr)
def setrlimit(t: Task, resource: int, new: int) -> int:
    return prlimit64(t, 0, resource, new, 0)


@syscall("exit_group", Int)
def exit_group(t: Task, status: int) -> int:
    t.proc.exit_status = status & 0xFF
    raise RunOnHost()


@syscall("exit", Int, support=PARTIAL, note="single-threaded processes")
def exit_(t: Task, status: int) -> int:
    raise RunOnHost()


@syscall("set_tid_address", Ptr)
def set_tid_address(t: Task, ptr: int) -> int:
    """The host records the clear-child-tid address; the app gets its virtual tid."""
    raise RunOnHost(post=lambda task, _host_result: task.vtid)
