"""Signals: dispositions and delivery are the host kernel's; Pyrene chooses whom a
signal reaches in the sandbox and keeps the siginfo the receiver sees virtual
(kernel/signals.py)."""

from __future__ import annotations

import errno
import signal
import struct

from ..abi.types import Fd, Int, Ptr, SizeT, UInt
from ..errors import Errno, RunOnHost
from ..fs.pidfd import PidFd
from ..fs.signalfd import SignalFd
from ..kernel import signals
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task

NOTE = "host dispositions for the app's own process"
KILL_NOTE = "pid 1 gets no init protection: it is killable as natively (kernel/signals.py)"
NSIG = 64


@syscall("rt_sigaction", Int, Ptr, Ptr, SizeT, support=PARTIAL, note=NOTE)
def rt_sigaction(t: Task, sig: int, act: int, oldact: int, size: int) -> int:
    """The host applies it; Pyrene notes the handler and SA_RESTART first, which decide
    how a signal ends a task parked in Pyrene (kernel/waits.py)."""
    if act and size == 8 and 1 <= sig <= 64 and sig not in (signal.SIGKILL, signal.SIGSTOP):
        handler, flags = struct.unpack("<QQ", t.mem.read(act, 16))
        t.instance.waits.record_sigaction(sig, handler, flags)
    raise RunOnHost()


@syscall("rt_sigsuspend", Ptr, SizeT)
def rt_sigsuspend(t: Task, mask: int, size: int) -> int:
    """Waits in the host kernel: every signal Pyrene sends is a host signal, which ends it."""
    raise RunOnHost()


@syscall("rt_sigtimedwait", Ptr, Ptr, Ptr, SizeT)
def rt_sigtimedwait(t: Task, sigset: int, info: int, timeout: int, size: int) -> int:
    """Waits in the host kernel (as rt_sigsuspend); the siginfo it returns is made virtual."""
    def post(task: Task, result: int) -> int:
        if result > 0:
            signals.fix_app_siginfo(task, info)
        return result

    raise RunOnHost(post=post)


def check_signal(sig: int) -> None:
    if not 0 <= sig <= NSIG:
        raise Errno(errno.EINVAL)


@syscall("kill", Int, Int, support=PARTIAL, note=KILL_NOTE)
def kill(t: Task, pid: int, sig: int) -> int:
    check_signal(sig)
    if pid == -(1 << 31):  # INT_MIN: -pid overflows, Linux says ESRCH
        raise Errno(errno.ESRCH)
    signals.kill(t, pid, sig)
    return 0


def thread_target(t: Task, tgid: int, tid: int, sig: int) -> tuple[int, int, int]:
    """(host pid, host tid, instance pid) of thread `tid` of process `tgid` (0: any
    process, for tkill). Threads of our own process are ours; the leader knows the others'."""
    if tgid in (0, t.proc.vpid):
        task = t.instance.thread(tid)
        if task is not None and task.proc is t.proc:
            return t.proc.host_pid, task.tid, 0
        if tgid:
            raise Errno(errno.ESRCH)
    return signals.resolve_thread(t, tgid, tid, sig)


def send_to_thread(t: Task, tgid: int, tid: int, sig: int, info: bytes | None) -> int:
    check_signal(sig)
    if tid <= 0 or tgid < 0:
        raise Errno(errno.EINVAL)
    host_pid, host_tid, instance_pid = thread_target(t, tgid, tid, sig)
    if sig:
        if info is None:
            info = signals.siginfo(sig, signals.SI_QUEUE, t.proc.vpid, t.proc.creds.ruid, signals.TKILL_MARK)
        signals.queue(t, host_pid, instance_pid, sig, info, host_tid)
    return 0


@syscall("tgkill", Int, Int, Int)
def tgkill(t: Task, tgid: int, tid: int, sig: int) -> int:
    if tgid <= 0:
        raise Errno(errno.EINVAL)
    return send_to_thread(t, tgid, tid, sig, None)


@syscall("tkill", Int, Int)
def tkill(t: Task, tid: int, sig: int) -> int:
    return send_to_thread(t, 0, tid, sig, None)


def user_siginfo(t: Task, target_is_self: bool, sig: int, uinfo: int) -> bytes:
    """The app's siginfo for rt_(tg)sigqueueinfo, with Linux's rule: only to itself may a
    process send a non-negative si_code (or SI_TKILL). SI_USER/SI_TKILL sent to itself
    travel marked, as kill's do (kernel/signals.py)."""
    data = bytearray(t.mem.read(uinfo, signals.pal.SIGINFO_SIZE))
    code = struct.unpack_from("<i", data, 8)[0]
    if (code >= 0 or code == signals.SI_TKILL) and not target_is_self:
        raise Errno(errno.EPERM)
    struct.pack_into("<i", data, 0, sig)  # the kernel sets si_signo itself
    if code in (signals.SI_USER, signals.SI_TKILL):
        mark = signals.KILL_MARK if code == signals.SI_USER else signals.TKILL_MARK
        struct.pack_into("<i", data, 8, signals.SI_QUEUE)
        struct.pack_into("<q", data, 24, mark)
    return bytes(data)


@syscall("rt_sigqueueinfo", Int, Int, Ptr, support=PARTIAL, note=KILL_NOTE)
def rt_sigqueueinfo(t: Task, pid: int, sig: int, uinfo: int) -> int:
    check_signal(sig)
    if pid <= 0:
        raise Errno(errno.ESRCH)  # Linux looks the pid up as it is: no process there
    info = user_siginfo(t, pid == t.proc.vpid, sig, uinfo)
    signals.kill(t, pid, sig, info)
    return 0


@syscall("rt_tgsigqueueinfo", Int, Int, Int, Ptr, support=PARTIAL, note=KILL_NOTE)
def rt_tgsigqueueinfo(t: Task, tgid: int, tid: int, sig: int, uinfo: int) -> int:
    if tgid <= 0 or tid <= 0:
        raise Errno(errno.EINVAL)
    check_signal(sig)
    info = user_siginfo(t, tgid == t.proc.vpid, sig, uinfo)
    return send_to_thread(t, tgid, tid, sig, info)


@syscall("pidfd_send_signal", Fd, Int, Ptr, UInt)
def pidfd_send_signal(t: Task, fd: int, sig: int, uinfo: int, flags: int) -> int:
    """kill(2) of the process a pidfd names (fs/pidfd.py), with rt_sigqueueinfo's rule
    for an `info` of the app's own."""
    file = t.files.get(fd)
    if not isinstance(file, PidFd):
        raise Errno(errno.EBADF)
    if flags:
        raise Errno(errno.EINVAL)
    check_signal(sig)
    info = user_siginfo(t, file.vpid == t.proc.vpid, sig, uinfo) if uinfo and sig else None
    signals.kill(t, file.vpid, sig, info)
    return 0


# -- signalfd ---------------------------------------------------------------------------------

SFD_NONBLOCK, SFD_CLOEXEC = 0o4000, 0o2000000
UNQUEUEABLE = (1 << (signal.SIGKILL - 1)) | (1 << (signal.SIGSTOP - 1))


@syscall("signalfd4", Int, Ptr, SizeT, Int, ret=Fd, support=PARTIAL,
         note="reads dequeue the process's first thread's signals; no poll/epoll readiness (fs/signalfd.py)")
def signalfd4(t: Task, fd: int, mask_ptr: int, size: int, flags: int) -> int:
    if size != 8 or flags & ~(SFD_NONBLOCK | SFD_CLOEXEC):
        raise Errno(errno.EINVAL)
    mask = struct.unpack("<Q", t.mem.read(mask_ptr, 8))[0] & ~UNQUEUEABLE
    if fd != -1:
        file = t.files.get(fd)
        if not isinstance(file, SignalFd):
            raise Errno(errno.EINVAL)
        file.mask = mask
        return fd
    instance = t.instance

    def dequeue(wanted: int) -> bytes | None:
        """The reader: the process's first thread (in this instance, after any fork)."""
        reader = next((task for task in instance.tasks.values() if task.proc is instance.process), None)
        return None if reader is None else signals.dequeue(reader, wanted)

    file = SignalFd(mask, flags, dequeue)
    try:
        return t.files.install(file, cloexec=bool(flags & SFD_CLOEXEC))
    except Errno:
        file.release()
        raise


@syscall("signalfd", Int, Ptr, SizeT, ret=Fd)
def signalfd(t: Task, fd: int, mask_ptr: int, size: int) -> int:
    return signalfd4(t, fd, mask_ptr, size, 0)


@syscall("rt_sigpending", Ptr, SizeT)
def rt_sigpending(t: Task, set_ptr: int, size: int) -> int:
    """The host's pending sets are the app's own."""
    raise RunOnHost()


@syscall("restart_syscall")
def restart_syscall(t: Task) -> int:
    """The host resumes what a signal interrupted (a futex or host-run wait with a
    timeout: ERESTART_RESTARTBLOCK); calls parked in Pyrene never leave a restart block."""
    raise RunOnHost()
