"""Signals between app processes: whom kill(2) reaches, and the siginfo the receiver sees.

Delivery stays the host kernel's (dispositions, masks, handler frames). Pyrene chooses
the targets, sends, and keeps the receiver's view of the sender virtual:

* Targets come from the namespace leader, which knows every process, group and session
  (ipc/leader.py `signal_targets`): a pid, the caller's group (0), a group (-pgid), or
  every process but pid 1 and the caller (-1). Nothing outside the sandbox is ever
  reached: Pyrene signals host pids the leader handed out, one by one, never a host
  process group (Pyrene's own processes are in the first one).
* A signal is queued with rt_sigqueueinfo from the instance, never kill(2), which would
  show the receiver the instance's host pid as si_pid. The kernel lets a process queue a
  siginfo of its own making to another process only with a negative si_code, so kill's
  SI_USER and tgkill's SI_TKILL travel as SI_QUEUE with a marker in si_value
  (`KILL_MARK`, `TKILL_MARK`); the receiving instance turns them back at the
  signal-delivery stop (PTRACE_GETSIGINFO/SETSIGINFO: `make_virtual`), and in the
  siginfo rt_sigtimedwait returns. A SIGCHLD the host sends carries the child's host
  pid: it becomes the child's virtual pid the same way.
* After sending to another process, its instance is woken (waits.wake_instance), so a
  task parked there in Pyrene sees the signal and ends its call with EINTR or restarts
  it; a signal to our own process sets `Waits.signalled` directly.

Permissions are Linux's, on the virtual ids the leader keeps of every process (EPERM:
`may_signal` in ipc/leader.py). Pid 1 is not protected as a namespace's init is (a signal
it has no handler for still acts): the first program behaves as it would natively, so
that, say, abort() or kill(getpid(), SIGTERM) end it with the status they end it with
outside the sandbox.
"""

from __future__ import annotations

import ctypes
import errno
import signal
import struct

from ..errors import Errno
from ..ipc.messages import SignalQuery, Targets
from ..pal import linux as pal
from ..platform import libc
from .waits import wake_instance

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from .task import Task

SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL = 0, 0x80, -1, -2, -6
CLD_EXITED, CLD_CONTINUED = 1, 6
KILL_MARK = 0x4C4B_454E_4552_5950  # "PYRENEKL" in si_value: this SI_QUEUE was a kill()
TKILL_MARK = KILL_MARK + 1  # ... a tgkill()/tkill()
KERNEL_MARK = KILL_MARK + 2  # ... a signal from the kernel (an itimer's SIGALRM: SI_KERNEL)
MARKS = {KILL_MARK: SI_USER, TKILL_MARK: SI_TKILL, KERNEL_MARK: SI_KERNEL}
SIGINFO = struct.Struct("<iiiiiIq")  # signo, errno, code, pad, pid, uid, value (rt/kill layout)
SI_TIMERID = struct.Struct("<iii")  # timers: signo, errno, code, pad, tid, overrun, value
PTRACE_GETSIGINFO, PTRACE_SETSIGINFO = 0x4202, 0x4203


def siginfo(sig: int, code: int, pid: int, uid: int, value: int = 0) -> bytes:
    return SIGINFO.pack(sig, 0, code, 0, pid, uid, value).ljust(pal.SIGINFO_SIZE, b"\0")


def resolve(t: "Task", target: int, sig: int = 0) -> tuple[tuple[int, int, int], ...]:
    """(vpid, host pid, instance pid) of each process kill(`target`, `sig`) reaches; ESRCH
    if there is none, EPERM if the caller may signal none of them (none at all for -1:
    success, as Linux)."""
    leader = t.instance.leader
    if leader is None:  # no leader (a bare instance): only our own process exists
        if target in (t.proc.vpid, 0, -1, -t.proc.vpid):
            return ((t.proc.vpid, t.proc.host_pid, 0),)
        raise Errno(errno.ESRCH)
    answer = leader.request(SignalQuery(t.proc.vpid, target, sig))
    assert isinstance(answer, Targets)
    if answer.error:
        raise Errno(answer.error)
    return answer.targets


def resolve_thread(t: "Task", tgid: int, tid: int, sig: int = 0) -> tuple[int, int, int]:
    """(host pid, host tid, instance pid) of thread `tid` of another process `tgid` (0:
    whichever process it is in), as tgkill(2) names it."""
    leader = t.instance.leader
    if leader is None:  # no leader (a bare instance): only our own process exists
        raise Errno(errno.ESRCH)
    answer = leader.request(SignalQuery(t.proc.vpid, tgid, sig, tid))
    assert isinstance(answer, Targets)
    if answer.error:
        raise Errno(answer.error)
    (_vpid, host_pid, instance_pid), = answer.targets
    return host_pid, answer.host_tid, instance_pid


def queue(t: "Task", host_pid: int, instance_pid: int, sig: int, info: bytes, host_tid: int = 0) -> None:
    """Queue `sig` with `info` to one app process (or one of its threads) and make its
    instance look at its parked tasks."""
    pal.host_sigqueue(host_pid, sig, info, host_tid)
    if host_pid == t.proc.host_pid:
        t.instance.waits.note_signal()
    elif instance_pid > 0:
        wake_instance(instance_pid)


def raise_own(t: "Task", sig: int, code: int = SI_USER) -> None:
    """A signal Pyrene sends the app's own process where Linux's kernel would, with the
    siginfo Linux gives it: SIGPIPE is SI_USER from the process itself, an itimer's
    SIGALRM is SI_KERNEL with no sender (never the instance's host pid)."""
    if code == SI_KERNEL:
        info = siginfo(sig, SI_QUEUE, 0, 0, KERNEL_MARK)
    else:
        info = siginfo(sig, SI_QUEUE, t.proc.vpid, t.proc.creds.ruid, KILL_MARK)
    queue(t, t.proc.host_pid, 0, sig, info)


def kill(t: "Task", target: int, sig: int, info: bytes | None = None) -> None:
    """kill(2) (or rt_sigqueueinfo with the app's `info`) of `target` as kill(2) takes it."""
    targets = resolve(t, target, sig)
    if not sig or not targets:
        return
    if info is None:
        info = siginfo(sig, SI_QUEUE, t.proc.vpid, t.proc.creds.ruid, KILL_MARK)
    sent = 0
    for _vpid, host_pid, instance_pid in targets:
        try:
            queue(t, host_pid, instance_pid, sig, info)
            sent += 1
        except Errno:
            pass  # the process exited meanwhile
    if not sent:
        raise Errno(errno.ESRCH)


def make_virtual(t: "Task", info: bytearray) -> bool:
    """Turn a siginfo the host filled into the app's view (module doc); True if changed."""
    sig, _err, code, _pad, pid, uid, value = SIGINFO.unpack_from(info)
    if code == SI_QUEUE and value in MARKS:
        SIGINFO.pack_into(info, 0, sig, 0, MARKS[value], 0, pid, uid, 0)
        return True
    if sig == signal.SIGCHLD and CLD_EXITED <= code <= CLD_CONTINUED:
        for vpid, host in t.instance.children.items():
            if host == pid:
                struct.pack_into("<i", info, 16, vpid)
                return True
    return False


def fix_delivery(t: "Task") -> None:
    """At a signal-delivery stop: make the siginfo the handler will see virtual."""
    buf = (ctypes.c_char * pal.SIGINFO_SIZE)()
    try:
        libc.ptrace(PTRACE_GETSIGINFO, t.tid, 0, ctypes.addressof(buf))
    except OSError:
        return
    info = bytearray(buf.raw)
    if make_virtual(t, info):
        ctypes.memmove(buf, bytes(info), len(info))
        try:
            libc.ptrace(PTRACE_SETSIGINFO, t.tid, 0, ctypes.addressof(buf))
        except OSError:
            pass


def fix_app_siginfo(t: "Task", addr: int) -> None:
    """The same for a siginfo the host wrote into the app's memory (rt_sigtimedwait)."""
    if not addr:
        return
    try:
        info = bytearray(t.mem.read(addr, SIGINFO.size))
        if make_virtual(t, info):
            t.mem.write(addr, bytes(info))
    except Errno:
        pass


# -- dequeuing in the app (signalfd reads) ---------------------------------------------------

NR_RT_SIGTIMEDWAIT = 128
SIGNALFD_SIGINFO = struct.Struct("<IiiIIiIIIIiiQQQQ")  # up to ssi_addr; the rest is zero
SCRATCH_BELOW_SP = 1024  # below the red zone and whatever the libc keeps under rsp


def dequeue(t: "Task", mask: int) -> bytes | None:
    """Take one signal of `mask` pending for `t` (rt_sigtimedwait with a zero timeout,
    injected into the app thread) as a signalfd_siginfo; None if none is pending."""
    own, shared, _blocked = pal.signal_sets(t.tid)
    if not (own | shared) & mask:
        return None
    scratch = (t.tracee.regs.rsp - SCRATCH_BELOW_SP) & ~0xF
    t.mem.write(scratch, struct.pack("<Q8xqq", mask, 0, 0))
    sig = t.tracee.inject(NR_RT_SIGTIMEDWAIT, scratch, scratch + 32, scratch + 16, 8)
    if sig <= 0:
        return None
    info = bytearray(t.mem.read(scratch + 32, pal.SIGINFO_SIZE))
    make_virtual(t, info)
    return signalfd_siginfo(info)


def signalfd_siginfo(info: bytes) -> bytes:
    """A siginfo_t in signalfd's layout (fs/signalfd.c signalfd_copyinfo)."""
    sig, err, code, _pad, pid, uid, value = SIGINFO.unpack_from(info)
    utime, stime = struct.unpack_from("<qq", info, 32)
    tid = overrun = status = 0
    if code == SI_TIMER:
        tid, overrun, pid, uid = pid, uid, 0, 0
    if sig == signal.SIGCHLD and code > 0:
        status = value & 0xFFFFFFFF
        status -= (status >> 31) << 32
    else:
        utime = stime = 0
    as_int = (value & 0xFFFFFFFF) - ((value >> 31 & 1) << 32)
    out = SIGNALFD_SIGINFO.pack(sig, err, code, pid & 0xFFFFFFFF, uid, 0, tid, 0, overrun, 0, status, as_int,
                                value & 0xFFFFFFFFFFFFFFFF, utime & (2**64 - 1), stime & (2**64 - 1), 0)
    return out.ljust(128, b"\0")
