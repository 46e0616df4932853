"""fork/vfork: the instance forks with its app process (DESIGN.md decision 1).

The app's fork runs on the host with PTRACE_O_TRACEFORK/TRACEVFORK set, so the kernel
attaches the child to this instance and stops it before its first instruction. Then
the handover of "Techniques worth knowing" in DESIGN.md, so that no instruction of the
child runs untraced:

  1. at the child's first stop: save its registers and park it in a futex wait with a
     timeout at the stub's `syscall; int3` (`_park`). DESIGN.md suggests spinning on a
     poked `jmp .`; a spinning child whose new instance never comes (Pyrene killed at
     that moment) would spin forever untraced, while this one dies at the `int3`;
  2. ask the leader for the child's virtual pid, handing it the new instance's socket;
  3. detach the child (it waits in the futex) and fork the instance as a sibling
     (clone with CLONE_PARENT, `libc.fork_sibling`), so that the new instance is the
     leader's child: PR_SET_PDEATHSIG then ties it to the leader, not to this instance,
     which may end first;
  4. the new instance PTRACE_SEIZEs and PTRACE_INTERRUPTs the child, puts the
     registers back, resets what is per-instance (tasks, parked calls, timers, the
     wakeup pipe), and serves the child from its run loop;
  5. this instance tells the leader which instance serves the child (`Started`) and lets
     the parent's fork return, with the child's virtual pid.

The new instance is a copy of this one (os.fork): fd table, cwd, mounts, credentials,
signal dispositions are inherited for free, as Linux's fork inherits them.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import struct
import sys
from collections.abc import Callable

from ..errors import Errno
from ..log import INFO, WARNING, get_logger
from ..pal import linux as pal
from ..ipc.client import LeaderClient, socket_pair
from ..abi.flags import CAP_SYS_ADMIN, CAP_SYS_RESOURCE, Rlimit
from ..ipc.messages import NewProcess, NewThread, PidGiven, Refused, Started
from ..platform import libc, spawn
from ..platform.stub import SYSCALL_SITE
from ..platform.tracee import Tracee
from .task import Task

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from .instance import Instance

log = get_logger("pyrene.kernel")

MASK64 = (1 << 64) - 1
NR_FUTEX, FUTEX_WAIT_PRIVATE = 202, 0 | 128
PARK_TIMEOUT_S = 10  # how long a forked child waits for its new instance before it dies
ALL_SIGNALS = MASK64  # a signal mask blocking every signal (SIGKILL and SIGSTOP stay unblockable)
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_VFORK, CLONE_PARENT, CLONE_THREAD = 0x4000, 0x8000, 0x10000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x1000000
CLONE_SETTLS = 0x80000
# what a process-creating clone may ask for here: its exit signal, the tid writes, and
# CLONE_VM only together with CLONE_VFORK (posix_spawn's vfork)
PROCESS_CLONE_FLAGS = 0xFF | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_VFORK | CLONE_VM
CLONE_NR, CLONE3_NR = 56, 435
CLONE_SYSVSEM, CLONE_DETACHED = 0x40000, 0x400000
# a thread as glibc's pthread_create makes it (CLONE_DETACHED is ignored by Linux)
THREAD_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD
THREAD_OPTIONAL = CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID \
    | CLONE_DETACHED
CLONE_ARGS_SIZE_VER0 = 64  # struct clone_args up to tls


def check_clone_flags(flags: int) -> None:
    """EINVAL (logged by the caller) for the clones that are not a fork or vfork yet."""
    if flags & ~PROCESS_CLONE_FLAGS or (flags & CLONE_VM and not flags & CLONE_VFORK):
        raise Errno(errno.EINVAL, f"clone flags {flags:#x}: threads and shared-state clones are not supported yet")


def is_thread_clone(flags: int) -> bool:
    """A clone that makes a thread: EINVAL (with the reason) for the thread-like sharing
    combinations other than pthread_create's."""
    shares = flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES)
    if not shares and not (flags & CLONE_VM and not flags & CLONE_VFORK):
        return False
    # the exit signal (low byte) is ignored for a thread, as Linux ignores it
    if flags & THREAD_FLAGS != THREAD_FLAGS or flags & ~(THREAD_FLAGS | THREAD_OPTIONAL | 0xFF):
        log.warning("clone flags %#x: only threads (CLONE_VM|FS|FILES|SIGHAND|THREAD) and processes sharing "
                    "nothing are supported (EINVAL)", flags)
        raise Errno(errno.EINVAL)
    return True


def clone_args(t: Task) -> tuple[int, int, int]:
    """(flags, parent_tid, child_tid) of the clone or clone3 `t` is stopped in."""
    regs = t.tracee.get_regs()
    if regs.orig_rax == CLONE3_NR:
        flags, _pidfd, child_tid, parent_tid = struct.unpack("<QQQQ", t.tracee.read(regs.rdi, 32))
        return flags, parent_tid, child_tid
    return regs.rdi, regs.rdx, regs.r10


def thread_started(_t: Task, host_result: int) -> int:
    """Post hook of a thread's clone: a host tid reaching here has no task (the clone
    event replaces this hook with the virtual tid), so the thread was killed."""
    return host_result if host_result <= 0 else -errno.EAGAIN


def new_thread(instance: "Instance", parent: Task, tid: int) -> None:
    """At the PTRACE_EVENT_CLONE stop of a thread's clone: the new thread (auto-attached,
    stopped before its first instruction) becomes a task of the parent's process with a
    virtual tid from the leader, written where CLONE_PARENT_SETTID/CHILD_SETTID asked
    before either thread runs on (glibc keeps it for pthread_kill and raise)."""
    try:
        _first_stop(instance, tid)
    except Errno as exc:
        log.warning("clone: the new thread died before its first stop: %s", exc)
        parent.tracee.resume_to_syscall_exit()
        return
    leader = instance.leader
    assert leader is not None
    answer = leader.request(NewThread(parent.proc.vpid, tid))
    assert isinstance(answer, PidGiven)
    vtid = answer.vpid
    task = Task(Tracee(tid), vtid, parent.proc, instance)
    instance.tasks[tid] = task
    flags, parent_tid, child_tid = clone_args(parent)
    for flag, addr in ((CLONE_PARENT_SETTID, parent_tid), (CLONE_CHILD_SETTID, child_tid)):
        if flags & flag:
            try:
                parent.tracee.write(addr, vtid.to_bytes(4, "little"))
            except Errno:
                pass
    instance.post_hooks[parent.tid] = lambda _t, result: vtid if result > 0 else result
    if instance.strace is not None:
        instance.strace.event(parent.proc.vpid, f"+++ thread {vtid} created +++")
    task.tracee.resume()
    parent.tracee.resume_to_syscall_exit()


def check_may_fork(t: Task) -> None:
    """sys.disallow_subprocesses: every new process fails with EAGAIN, as in Gramine
    (programs such as Python fall back when they cannot spawn). Logged once."""
    instance = t.instance
    if instance.config.disallow_subprocesses:
        if not instance.fork_refused:
            instance.fork_refused = True
            log.warning("the app tried to create a process; sys.disallow_subprocesses = true")
        raise Errno(errno.EAGAIN)


def nproc_limit(t: Task) -> int:
    """The RLIMIT_NPROC the leader applies to this fork: -1 for a privileged parent
    (real uid 0, CAP_SYS_ADMIN or CAP_SYS_RESOURCE), as Linux exempts them."""
    creds = t.proc.creds
    if creds.ruid == 0 or creds.capable(CAP_SYS_ADMIN) or creds.capable(CAP_SYS_RESOURCE):
        return -1
    soft = t.proc.rlimits[Rlimit.RLIMIT_NPROC][0]
    return -1 if soft >= 1 << 63 else soft


def fork_child(instance: "Instance", parent: Task) -> None:
    """At the parent's PTRACE_EVENT_FORK/VFORK/CLONE stop: a thread becomes a task here
    (`new_thread`); a process is handed to a new instance and the parent's call
    finishes (its post hook turns the host pid into the vpid)."""
    child_pid = parent.tracee.event_message()
    if instance.post_hooks.get(parent.tid) is thread_started:
        new_thread(instance, parent, child_pid)
        return
    # every handler module, imported here once rather than by each new instance
    instance.table.complete()
    try:
        if _hand_over(instance, parent, child_pid):
            return  # this is the new instance, serving the child
    except (Errno, OSError) as exc:  # the fork fails with EAGAIN (`forked`): no untraced child
        log.log(INFO if isinstance(exc, Errno) and exc.errno == errno.EAGAIN else WARNING,
                "fork: cannot hand the child over to a new instance: %s", exc)
        try:
            os.kill(child_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    parent.tracee.resume_to_syscall_exit()


def _hand_over(instance: "Instance", parent: Task, child_pid: int) -> bool:
    """True in the new instance, False in this one."""
    _first_stop(instance, child_pid)
    child = Tracee(child_pid)
    saved = libc.UserRegs.from_buffer_copy(child.get_regs())
    mask = child.signal_mask()
    _park(child)
    leader = instance.leader
    assert leader is not None
    ours, theirs = socket_pair()
    try:
        answer = leader.request(NewProcess(parent.proc.vpid, child_pid, nproc_limit(parent)),
                                (theirs.fileno(),))
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    if isinstance(answer, Refused):
        ours.close()
        raise Errno(answer.errno, answer.why)
    assert isinstance(answer, PidGiven)
    vpid = answer.vpid
    libc.ptrace(libc.PTRACE_DETACH, child_pid, 0, 0)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = libc.fork_sibling()
    except BaseException:
        ours.close()  # the leader counts the child as killed
        raise
    if pid == 0:
        try:
            _become_child(instance, LeaderClient(ours), child, vpid, parent.proc.vpid, parent.proc.host_pid,
                          saved, mask)
            return True  # back in the run loop, as the new instance
        except BaseException:  # noqa: BLE001 - the new instance failed to start: the child dies with it
            os.kill(child_pid, signal.SIGKILL)
            os._exit(1)
    # said here rather than by the new instance, whose every first step costs page copies
    leader.send(Started(vpid, child_pid, pid))
    # Let the new instance go first when it shares our CPU: until it has written a page
    # or exited, every page we write is copied (copy-on-write); after, we write our own.
    # A short-lived child (fork+exec+exit) then costs ~1/4 less CPU (bench/README.md).
    os.sched_yield()
    ours.close()
    instance.children[vpid] = child_pid
    instance.waits.watch_child(child_pid)
    return False


def _park(child: Tracee) -> None:
    """Make the detached child wait, harmlessly, for the new instance: a futex wait (the
    filter lets futex run untraced) with a timeout, at the stub's `syscall; int3`. The new
    instance interrupts the wait long before the timeout; if it never comes (Pyrene was
    killed in between), the wait ends and the `int3` kills the untraced child with
    SIGTRAP, so nothing is left behind. The timespec goes below the child's stack
    pointer (its own memory after fork; after vfork, the sleeping parent's unused stack).

    Every signal is blocked meanwhile: one sent to the new pid now (its parent may kill
    it as soon as fork returns) would end the wait early, run its handler untraced and
    hit the `int3`. It stays pending until the new instance restores the mask."""
    child.set_signal_mask(ALL_SIGNALS)
    regs = child.regs
    timespec = (regs.rsp - 512) & ~0xF
    child.write(timespec, struct.pack("<qq", PARK_TIMEOUT_S, 0))
    word = int.from_bytes(child.read(SYSCALL_SITE, 4), "little")
    regs.rip, regs.orig_rax, regs.rax = SYSCALL_SITE, MASK64, NR_FUTEX
    regs.rdi, regs.rsi, regs.rdx, regs.r10 = SYSCALL_SITE, FUTEX_WAIT_PRIVATE, word, timespec
    child.set_regs()


def _first_stop(instance: "Instance", pid: int) -> None:
    """Wait for the auto-attached child's first stop, unless the run loop has seen it."""
    if instance.early_stops.pop(pid, None) is not None:
        return
    _, status = os.waitpid(pid, libc.WALL)
    if not os.WIFSTOPPED(status):
        raise Errno(errno.EAGAIN, "the forked child died before its first stop")


def _become_child(instance: "Instance", client: LeaderClient, tracee: Tracee, vpid: int, ppid: int,
                  parent_host_pid: int, saved: libc.UserRegs, mask: int) -> None:
    """In the new instance (the leader's child): tie our life to the leader's, seize the
    waiting app process (`tracee`, made by the parent instance) and make this instance
    its kernel."""
    child_pid = tracee.pid
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != instance.leader_pid:  # the leader died before the prctl
        _abandon(child_pid)
    if instance.leader is not None:
        instance.leader.close()
    instance.leader = client
    instance.reset_after_fork(vpid, ppid, child_pid)
    instance.parent_host_pid = parent_host_pid
    cpu = instance.config.cpu
    if cpu is None:  # DESIGN.md decision 2: with its app on one CPU; instances spread by vpid
        allowed = instance.config.visible_cpus
        cpu = allowed[vpid % len(allowed)]
    os.sched_setaffinity(0, {cpu})
    os.sched_setaffinity(child_pid, {cpu})
    libc.ptrace(libc.PTRACE_SEIZE, child_pid, 0, spawn.TRACE_OPTIONS)
    libc.ptrace(libc.PTRACE_INTERRUPT, child_pid, 0, 0)
    while True:
        _, status = os.waitpid(child_pid, libc.WALL)
        if not os.WIFSTOPPED(status):
            os._exit(1)
        if status >> 16 == libc.PTRACE_EVENT_STOP:
            break
        libc.ptrace(libc.PTRACE_CONT, child_pid, 0, 0)  # not ours to deliver: it spins on
    ctypes.memmove(tracee.regs_addr, ctypes.addressof(saved), ctypes.sizeof(saved))
    tracee.set_regs()
    tracee.set_signal_mask(mask)  # signals sent meanwhile are delivered now (`_park`)
    if saved.orig_rax == CLONE_NR and saved.rdi & CLONE_CHILD_SETTID:
        try:  # glibc keeps the thread's tid there (raise, pthread_kill): the virtual one
            tracee.write(saved.r10, vpid.to_bytes(4, "little"))
        except Errno:
            pass
    task = Task(tracee, vpid, instance.process, instance)
    instance.tasks[child_pid] = task
    if instance.strace is not None:
        instance.strace.event(vpid, f"+++ forked from {ppid} +++")
    tracee.resume()


def _abandon(child_pid: int) -> None:
    """The leader is gone before this new instance took the child: end both now (the
    child would wait out its park timeout, untraced)."""
    try:
        os.kill(child_pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os._exit(1)


# -- what the handlers of syscalls/process.py use ------------------------------------------

ARG_REGS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")
P_ALL, P_PID, P_PGID, P_PIDFD = 0, 1, 2, 3
WNOWAIT = 0x01000000
SI_PID = 16  # offset of si_pid in siginfo_t
SI_CODE = 8
CLD_NOT_GONE = (4, 5, 6)  # CLD_TRAPPED, CLD_STOPPED, CLD_CONTINUED: the child stays waitable


def set_arg(t: Task, index: int, value: int) -> None:
    """Rewrite argument `index` of the call `t` is stopped at, before it runs on the host."""
    regs = t.tracee.regs
    setattr(regs, ARG_REGS[index], value & MASK64)
    t.tracee.set_regs()


def child_vpid(t: Task, host_pid: int) -> int | None:
    for vpid, host in t.instance.children.items():
        if host == host_pid:
            return vpid
    return None


def forked(t: Task, host_result: int) -> int:
    """Post hook of fork/vfork/clone in the parent: the child's virtual pid (also where
    CLONE_PARENT_SETTID asked for it)."""
    if host_result <= 0:
        return host_result
    vpid = child_vpid(t, host_result)
    if vpid is None:
        return -errno.EAGAIN  # the handover failed and the child was killed
    regs = t.tracee.get_regs()
    if regs.orig_rax == CLONE_NR and regs.rdi & CLONE_PARENT_SETTID:
        try:
            t.tracee.write(regs.rdx, vpid.to_bytes(4, "little"))
        except Errno:
            pass
    return vpid


def host_wait_target(t: Task, pid: int) -> int:
    """wait4's pid argument for the host: a virtual child pid becomes its host pid; any
    child (-1) and the caller's group (0) stay; other groups are the one group there is."""
    if pid > 0:
        host = t.instance.children.get(pid)
        if host is None:
            raise Errno(errno.ECHILD)
        return host
    return -1 if pid == -1 else 0


def reaped(t: Task, host_result: int, keep: bool = False) -> int:
    """The virtual pid of the child a host wait reported; forgotten once reaped."""
    if host_result <= 0:
        return host_result
    vpid = child_vpid(t, host_result)
    if vpid is None:
        return host_result
    if not keep:
        del t.instance.children[vpid]
        t.instance.forget_child(vpid)
        t.instance.waits.unwatch_child(host_result)
    return vpid


RESTARTS = (-512, -513, -514, -516)  # ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK


def after_host_wait(app_args: dict[int, int], done: Callable[[Task, int], int]) -> Callable[[Task, int], int]:
    """The post hook of a host wait whose arguments were rewritten (`app_args`: the app's
    own, by index): a signal that interrupts it makes the kernel restart it, and the
    restarted call traps again, so the arguments must be the app's again (else a host pid
    is taken for a vpid)."""
    def post(t: Task, host_result: int) -> int:
        if host_result in RESTARTS:
            for index, value in app_args.items():
                set_arg(t, index, value)
            return host_result
        return done(t, host_result)
    return post


def waitid_done(t: Task, host_result: int) -> int:
    """Post hook of waitid: si_pid in the app's siginfo becomes the virtual pid."""
    if host_result != 0:
        return host_result
    regs = t.tracee.get_regs()
    infop, options = regs.rdx, regs.r10
    if infop:
        try:
            host_pid = int.from_bytes(t.tracee.read(infop + SI_PID, 4), "little")
            code = int.from_bytes(t.tracee.read(infop + SI_CODE, 4), "little")
            if host_pid:
                vpid = reaped(t, host_pid, keep=bool(options & WNOWAIT) or code in CLD_NOT_GONE)
                t.tracee.write(infop + SI_PID, vpid.to_bytes(4, "little"))
        except Errno:
            pass
    return host_result


def parent_vpid(t: Task) -> int:
    """getppid: the parent's virtual pid while the parent lives, then 1 (orphans are
    re-parented to the first process, as in Gramine). The host re-parents an orphan to
    the leader (a subreaper), which is how its death is seen here."""
    ppid = t.proc.ppid
    if ppid <= 1 or pal.host_parent(t.proc.host_pid) == t.instance.parent_host_pid:
        return ppid
    t.proc.ppid = 1
    return 1
