"""Signals. Until the multi-process work lands, dispositions and delivery are the host
kernel's, confined to the app process itself."""

from __future__ import annotations

import errno
import signal
import struct

from ..abi.types import Int, Ptr, SizeT
from ..errors import Errno, RunOnHost
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task

NOTE = "host dispositions for the app's own process"


@syscall("rt_sigaction", Int, Ptr, Ptr, SizeT, support=PARTIAL, note=NOTE)
def rt_sigaction(t: Task, sig: int, act: int, oldact: int, size: int) -> int:
    """The host applies it; Pyrene notes the handler and SA_RESTART first, which decide
    how a signal ends a task parked in Pyrene (kernel/waits.py)."""
    if act and size == 8 and 1 <= sig <= 64 and sig not in (signal.SIGKILL, signal.SIGSTOP):
        handler, flags = struct.unpack("<QQ", t.mem.read(act, 16))
        t.instance.waits.record_sigaction(sig, handler, flags)
    raise RunOnHost()


@syscall("rt_sigsuspend", Ptr, SizeT, support=PARTIAL, note=NOTE)
def rt_sigsuspend(t: Task, mask: int, size: int) -> int:
    raise RunOnHost()


@syscall("kill", Int, Int, support=PARTIAL, note="to the app's own process only")
def kill(t: Task, pid: int, sig: int) -> int:
    if pid not in (t.proc.vpid, 0, -1, -t.proc.vpid):
        raise Errno(errno.ESRCH)
    if not 0 <= sig <= 64:
        raise Errno(errno.EINVAL)
    if sig:
        t.instance.app_signal(t, sig)
    return 0


@syscall("tgkill", Int, Int, Int, support=PARTIAL, note="to the threads of the caller's process only")
def tgkill(t: Task, tgid: int, tid: int, sig: int) -> int:
    if tgid <= 0 or tid <= 0 or not 0 <= sig <= 64:
        raise Errno(errno.EINVAL)
    if tgid != t.proc.vpid:
        raise Errno(errno.ESRCH)
    return tkill(t, tid, sig)


@syscall("tkill", Int, Int, support=PARTIAL, note="to the threads of the caller's process only")
def tkill(t: Task, tid: int, sig: int) -> int:
    """A signal to one thread: the virtual tid names a task of this instance."""
    if tid <= 0 or not 0 <= sig <= 64:
        raise Errno(errno.EINVAL)
    target = t.instance.thread(tid)
    if target is None:
        raise Errno(errno.ESRCH)
    if sig:
        t.instance.thread_signal(target, sig)
    return 0


@syscall("restart_syscall")
def restart_syscall(t: Task) -> int:
    """The host resumes what a signal interrupted (a futex or host-run wait with a
    timeout: ERESTART_RESTARTBLOCK); calls parked in Pyrene never leave a restart block."""
    raise RunOnHost()
