"""Parking blocked tasks, timers, and the instance's event loop (DESIGN.md decision 6).

A handler that has to wait raises `WouldBlock(fds, deadline)` (errors.py). The dispatcher
then leaves the task where it is, in its seccomp stop with its registers untouched, and
`park` records what it waits for: host fds (readable or writable: every waitable object of
Pyrene, pipes, eventfds, timerfds, epoll sets, host ttys, has its data behind a host fd the
instance holds) and/or a deadline. Nothing of the app runs meanwhile, so "waiting" costs
the app nothing and costs the instance one poll(2) over the parked fds.

The run loop has two modes:

  * nothing parked, no timer armed: a plain blocking `waitpid(-1, __WALL)` per stop, as
    before this module existed. The hot path pays one attribute test (`busy`) per stop
    and no syscall.
  * something parked or a timer armed (`busy`): `next_stop` polls the parked fds, a wakeup
    fd and the earliest deadline. A ptrace stop of another task must also end that wait:
    the kernel sends the tracer SIGCHLD for every stop, so while busy the instance catches
    SIGCHLD with a no-op Python handler and `signal.set_wakeup_fd` makes the C-level
    handler write a byte to the wakeup pipe. Then `waitpid(-1, __WALL|WNOHANG)` until
    empty. The order (install the handler, then WNOHANG, then poll) loses no stop: a stop
    after the WNOHANG raises SIGCHLD, whose byte ends the poll. Outside busy mode SIGCHLD
    is back to SIG_DFL, so the hot path pays no signal delivery per stop. (A signalfd
    would need SIGCHLD blocked, and the picoprocess inherits the mask at spawn; the wakeup
    fd also wakes us for the forwarded signals, which a signalfd would not.)

When a parked task's fd is ready or its deadline passes, its handler runs again from the
top (restart semantics: the registers still hold the call). `deadline(t, timeout)` gives a
re-run the deadline of its first run, so a poll(1000) woken early does not wait 1000 ms
more. A handler whose deadline has passed returns its timeout result itself.

Signals are still delivered by the host kernel, but Pyrene must notice the ones that end a
wait, as Linux's signal_pending() check does. Every signal Pyrene sends (a forwarded
SIGINT/SIGTERM/..., an alarm's SIGALRM, kill() by the app) sets `signalled`; so does every
park (a signal may already be pending). Then the pending and blocked sets of each parked
thread are read from /proc/<tid>/status and, for the first deliverable signal:

  * a handler without SA_RESTART, or any handler for a non-restartable call (poll,
    select, epoll_wait, nanosleep: ERESTARTNOHAND) -> the call returns EINTR;
  * a handler with SA_RESTART on a restartable call (read, write: ERESTARTSYS), or a
    default action that stops or kills -> the call is restarted: rip goes back over the
    2-byte `syscall` and rax gets the number again, the call is skipped, the host
    delivers the signal (runs the handler, or kills/stops the process), and on return
    the app executes the same syscall again, which traps anew;
  * ignored -> the wait goes on.

A signal sent from outside Pyrene (a host user's kill of the app's host pid) is announced
to nobody: the kernel only queues it while the task sits in its ptrace stop. So while
something is parked the loop also looks every SIGNAL_RECHECK_NS (0.1 s): a parked read
then ends at such a SIGTERM within that time, where it would wait for its fd forever.

Waking another instance. An instance that changes something other instances may wait
for (it sent their app process a signal, released a lock, posted to a semaphore) wakes
them with `wake_instance(instance_pid)`: the host signal WAKE_SIGNAL, which every
instance catches with a handler that sets `woken` and `signalled`; the wakeup fd ends a
poll in progress. Woken, the loop checks the parked tasks' signals and runs again every
handler parked with `WouldBlock(wake=True)`. A wake is only a hint ("look again"): it
carries no data, so a lost or extra one costs nothing but a re-check.

Dispositions come from rt_sigaction, which records the handler and SA_RESTART bit here
(`sigactions`) before the host applies them (syscalls/signal.py).

ppoll, pselect6 and epoll_pwait wait with a temporary signal mask. Which signals end the
wait is decided with that mask. When the signal that ends it is blocked by the thread's
own mask (the classic pselect pattern: block SIGCHLD, wait with it unblocked), the host
would not deliver it, so Linux's trick is done by hand: the temporary mask is installed
(PTRACE_SETSIGMASK) before the call returns EINTR, the signal-delivery stop is resumed
with PTRACE_SINGLESTEP, which stops again at the handler's first instruction once the
kernel has built the signal frame, and the thread's own mask is written into the frame's
uc_sigmask, so that rt_sigreturn restores it after the handler. If no handler frame was
built (a default action), the own mask is put back with PTRACE_SETSIGMASK instead.

A child's exit is a signal Pyrene does not send: the host kernel queues SIGCHLD to the
app's process, which sits in a ptrace stop, so nothing tells the instance (make parks in
pselect until SIGCHLD ends it). So the instance holds a pidfd of each child (`watch_child`,
from kernel/fork.py) and polls the pidfds while something is parked. A pidfd is readable
once the child is a zombie, but a traced child's exit reaches its parent only when its
tracer (the child's own instance) has waited for it; until `pal.exit_reported` says so, the
pidfd is left out of the poll and looked at again every EXIT_RECHECK_NS. Then `signalled`
is set and the pending SIGCHLD ends the wait as any other signal does. A child reaped
by the app (fork.reaped) is no longer watched.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import time
from collections.abc import Callable

from ..errors import Errno, TaskExit, WouldBlock
from ..pal import linux as pal
from ..platform import libc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any

    from .instance import Instance
    from .table import SyscallSpec
    from .task import Task

WNOHANG_WALL = os.WNOHANG | libc.WALL
SIG_DFL, SIG_IGN = 0, 1
SA_RESTART = 0x10000000
# signals whose default action is to do nothing: they never interrupt a wait
DEFAULT_IGNORED = frozenset({signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH, signal.SIGCONT})
EINTR, RESTART = "eintr", "restart"
PTRACE_SINGLESTEP = 9
UC_SIGMASK = 304  # offset of uc.uc_sigmask in x86-64's struct rt_sigframe (after pretcode)
POLL_ANY = select.POLLHUP | select.POLLERR | select.POLLNVAL
WAKE_SIGNAL = signal.SIGRTMAX  # instance -> instance: "look again" (see "Waking" above)
EXIT_RECHECK_NS = 1_000_000  # how soon a child's exit not yet reported to us is looked at again
SIGNAL_RECHECK_NS = 100_000_000  # how often parked tasks look for signals no one told us of
MAX_UNSWEPT_CHILDREN = 256  # watched children before the dead ones are swept
MAX_POLL_MS = 2**31 - 1  # poll(2)'s timeout is an int: a later deadline is waited for in parts


class Parked:
    """A task waiting in a syscall, and what ends the wait."""

    __slots__ = ("task", "block", "spec", "args")

    def __init__(self, task: Task, block: WouldBlock, spec: SyscallSpec, args: list[Any] | None) -> None:
        self.task = task
        self.block = block
        self.spec = spec
        self.args = args


class Timer:
    """Run `fire` at `deadline` (time.monotonic_ns), then every `interval` ns if not 0."""

    __slots__ = ("deadline", "fire", "interval")

    def __init__(self, deadline: int, fire: Callable[[], None], interval: int = 0) -> None:
        self.deadline = deadline
        self.fire = fire
        self.interval = interval


class Waits:
    """The parked tasks and armed timers of one instance, and the loop that serves them."""

    def __init__(self, instance: "Instance") -> None:
        self.instance = instance
        self.parked: dict[int, Parked] = {}  # by host tid
        self.timers: list[Timer] = []  # sorted by deadline
        self.busy = False  # anything parked or armed: the run loop calls next_stop()
        self.signalled = False  # a signal may have arrived for a parked task
        self.woken = False  # another instance woke us: re-run the wake=True waits
        self.rerun: Parked | None = None  # the parked call whose handler runs again now
        self.sigactions: dict[int, tuple[int, int]] = {}  # signal -> (handler, sa_flags)
        self.alarm: Timer | None = None  # the process's ITIMER_REAL: alarm(2) and setitimer(2)
        self.posix_timers: dict[int, Any] = {}  # timer_create's timers, by id (syscalls/time.py)
        self._wakeup: tuple[int, int] | None = None
        self.signals_checked_ns = 0  # when the parked tasks' signals were last looked at
        # tid -> (the thread's own mask, delivering signal or 0): see "ppoll, pselect6" above
        self.mask_fixes: dict[int, tuple[int, int]] = {}
        # the app's children: host pid -> pidfd, and those dead but not yet reported to
        # the app (see "A child's exit" above)
        self.child_pidfds: dict[int, int] = {}
        self.exiting: set[int] = set()
        # stops (pid, status) taken by waitpid(-1) while one thread waited for its own (an
        # exec in a thread group, kernel/exec.py); the loop serves them first
        self.deferred: list[tuple[int, int]] = []

    # -- set-up ----------------------------------------------------------------------

    def start(self) -> None:
        """Catch WAKE_SIGNAL (a forked instance inherits the handler) and make the wakeup pipe."""
        self._open_wakeup()
        signal.signal(WAKE_SIGNAL, self._woken)

    def _open_wakeup(self) -> None:
        """The pipe that signals caught by Python write a byte into (signal.set_wakeup_fd):
        it ends the event loop's poll. A forked instance makes its own when it first has
        something to wait for (`_update_busy`): most never do, and every step of a new
        instance costs copy-on-write faults."""
        self._wakeup = pal.pipe(0)
        signal.set_wakeup_fd(self._wakeup[1], warn_on_full_buffer=False)

    def _woken(self, _sig: int, _frame: object) -> None:
        self.woken = self.signalled = True

    def close(self) -> None:
        if self._wakeup is not None:
            pal.set_signal_handler(WAKE_SIGNAL, signal.SIG_IGN)  # a late wake must not kill an instance ending
            signal.set_wakeup_fd(-1)
            for fd in self._wakeup:
                pal.close(fd)
            self._wakeup = None
        if self.busy:
            pal.set_signal_handler(signal.SIGCHLD, signal.SIG_DFL)
            self.busy = False

    # -- what handlers use -----------------------------------------------------------

    def deadline(self, t: "Task", timeout_ns: int | None) -> int | None:
        """The deadline of `t`'s call: now + timeout at the first run, the same value when
        the handler runs again after a wakeup. None means no timeout."""
        rerun = self.rerun
        if rerun is not None and rerun.task is t:
            return rerun.block.deadline
        return None if timeout_ns is None else time.monotonic_ns() + timeout_ns

    def progress(self, t: "Task") -> int:
        """What `t`'s call did before it parked (WouldBlock.progress); 0 at the first run."""
        rerun = self.rerun
        return rerun.block.progress if rerun is not None and rerun.task is t else 0

    def add_timer(self, deadline: int, fire: Callable[[], None], interval: int = 0) -> Timer:
        timer = Timer(deadline, fire, interval)
        self._insert(timer)
        return timer

    def _insert(self, timer: Timer) -> None:
        self.timers.append(timer)
        self.timers.sort(key=lambda tm: tm.deadline)
        self._update_busy()

    def cancel(self, timer: Timer) -> None:
        if timer in self.timers:
            self.timers.remove(timer)
            self._update_busy()

    def note_signal(self) -> None:
        """A signal was sent to the app: parked calls may have to end (see module doc)."""
        self.signalled = True

    def record_sigaction(self, sig: int, handler: int, flags: int) -> None:
        self.sigactions[sig] = (handler, flags)

    # -- the dispatcher's side ---------------------------------------------------------

    def park(self, t: "Task", block: WouldBlock, spec: "SyscallSpec", args: list[Any] | None) -> None:
        self.parked[t.tid] = Parked(t, block, spec, args)
        self.signalled = True  # a signal pending now must end the wait at once
        self._update_busy()

    def forget(self, tid: int) -> None:
        """The task is gone."""
        self.mask_fixes.pop(tid, None)
        if self.parked.pop(tid, None) is not None:
            self._update_busy()

    def defer(self, pid: int, status: int) -> None:
        """A stop for the run loop to serve later (see `deferred`)."""
        self.deferred.append((pid, status))
        self._update_busy()

    def _update_busy(self) -> None:
        busy = bool(self.parked or self.timers or self.deferred)
        if busy != self.busy:
            if busy and self._wakeup is None:
                self._open_wakeup()  # before the SIGCHLD handler, whose byte must reach the poll
            self.busy = busy
            pal.set_signal_handler(signal.SIGCHLD, _sigchld if busy else signal.SIG_DFL)

    # -- the loop -----------------------------------------------------------------------

    def next_stop(self) -> tuple[int, int]:
        """The next ptrace stop (pid, status), serving timers and parked tasks until one
        comes. (0, 0) when nothing is parked or armed any more: the caller goes back to a
        blocking waitpid. (-1, 0) when there is no child left."""
        if self.deferred:
            stop = self.deferred.pop(0)
            self._update_busy()
            return stop
        while True:
            try:
                pid, status = os.waitpid(-1, WNOHANG_WALL)
            except ChildProcessError:
                return -1, 0
            if pid:
                return pid, status
            self._fire_timers()
            if self.parked:
                self._check_exits()  # before the signals: a child's reported exit is one
            if self.signalled:
                self.signalled = False
                self._deliver_signals()
            if not self.busy:
                return 0, 0
            self._wait()

    def _fire_timers(self) -> None:
        now = time.monotonic_ns()
        while self.timers and self.timers[0].deadline <= now:
            timer = self.timers.pop(0)
            if timer.interval:  # overruns are not counted: one signal, as Linux sends
                while timer.deadline <= now:
                    timer.deadline += timer.interval
                self._insert(timer)
            elif timer is self.alarm:
                self.alarm = None
            timer.fire()
        self._update_busy()

    def _wait(self) -> None:
        """One poll over the wakeup pipe and the parked fds, up to the earliest deadline;
        then run again the handlers whose fds are ready or whose deadline has passed."""
        assert self._wakeup is not None
        wakeup = self._wakeup[0]
        poller = select.poll()
        poller.register(wakeup, select.POLLIN)
        wanted: dict[int, int] = {}
        deadlines = [tm.deadline for tm in self.timers]
        if self.parked:
            for pid, pidfd in self.child_pidfds.items():
                if pid not in self.exiting:
                    poller.register(pidfd, select.POLLIN)
            if self.exiting:
                deadlines.append(time.monotonic_ns() + EXIT_RECHECK_NS)
            deadlines.append(self.signals_checked_ns + SIGNAL_RECHECK_NS)
        for p in self.parked.values():
            for fd, events in p.block.fds:
                wanted[fd] = wanted.get(fd, 0) | events
            if p.block.deadline is not None:
                deadlines.append(p.block.deadline)
        for fd, events in wanted.items():
            poller.register(fd, events)
        timeout = None
        if deadlines:
            timeout = min(MAX_POLL_MS, max(0, -(-(min(deadlines) - time.monotonic_ns()) // 1_000_000)))
        if self.woken or self.signalled:
            # woken before the wakeup pipe existed (`_open_wakeup`): no byte is coming; or
            # something noted a signal since next_stop looked (next_stop checks children's
            # reported exits itself, just before: a report found there, after the last
            # look, would have left the SIGCHLD pending with no byte or pidfd to say so)
            timeout = 0
        ready = dict(poller.poll(timeout))
        if wakeup in ready:
            pal.drain(wakeup)
        woken, self.woken = self.woken, False
        if self.parked:
            self.exiting.update(pid for pid, pidfd in self.child_pidfds.items() if pidfd in ready)
            self._check_exits()
        now = time.monotonic_ns()
        if self.parked and now >= self.signals_checked_ns + SIGNAL_RECHECK_NS:
            self.signalled = True  # (see "sent from outside Pyrene" above)
        for p in list(self.parked.values()):
            block = p.block
            due = block.deadline is not None and now >= block.deadline
            if due or (woken and block.wake) or any(ready.get(fd, 0) & (events | POLL_ANY) for fd, events in block.fds):
                self._run_again(p)

    def _run_again(self, p: Parked) -> None:
        if self.parked.get(p.task.tid) is not p:
            return
        del self.parked[p.task.tid]
        self.rerun = p
        try:
            self.instance.dispatch(p.task)
        except TaskExit:
            pass
        finally:
            self.rerun = None
            self._update_busy()

    # -- signals ----------------------------------------------------------------------

    def _deliver_signals(self) -> None:
        if not self.parked:
            return
        self.signals_checked_ns = time.monotonic_ns()
        taken = self._taken_by_running()
        for p in list(self.parked.values()):
            action, sig, own_mask = self._signal_action(p, taken)
            if action is None:
                continue
            taken |= 1 << (sig - 1)  # a process-wide signal ends one wait, not every thread's
            del self.parked[p.task.tid]
            try:
                if p.block.sigmask is not None and own_mask & (1 << (sig - 1)):
                    p.task.tracee.set_signal_mask(p.block.sigmask)
                    self.mask_fixes[p.task.tid] = (own_mask, 0)
                if p.block.progress:  # a partly done call returns what it did (a short write)
                    self.instance.finish(p.task, p.spec, p.args, p.block.progress)
                elif action == EINTR:
                    if p.block.on_eintr is not None:
                        try:
                            p.block.on_eintr()
                        except Errno:
                            pass
                    self.instance.finish(p.task, p.spec, p.args, -errno.EINTR)
                else:
                    self.instance.restart(p.task, p.spec)
            except TaskExit:
                pass
        self._update_busy()

    def _taken_by_running(self) -> int:
        """The process-wide signals a thread that is not parked will take (any it does not
        block): Linux gives such a signal to one thread, so it ends no parked wait."""
        taken = 0
        for task in self.instance.tasks.values():
            if task.tid not in self.parked:
                taken |= ~pal.signal_sets(task.tid)[2]
        return taken & ((1 << 64) - 1)

    def _signal_action(self, p: Parked, taken: int) -> tuple[str | None, int, int]:
        """What the signals pending for the parked task do to its call (module doc): the
        action, the signal that decides it, and the thread's own mask. Process-wide
        signals in `taken` are another thread's to take."""
        own, shared, own_mask = pal.signal_sets(p.task.tid)
        pending = own | (shared & ~taken)
        blocked = own_mask
        if p.block.sigmask is not None:
            blocked = p.block.sigmask
        deliverable = pending & ~blocked
        sig = 0
        while deliverable:
            sig += 1
            bit = 1 << (sig - 1)
            if not deliverable & bit:
                continue
            deliverable &= ~bit
            handler, flags = self.sigactions.get(sig, (SIG_DFL, 0))
            if handler == SIG_IGN or (handler == SIG_DFL and sig in DEFAULT_IGNORED):
                continue
            if handler == SIG_DFL:
                return RESTART, sig, own_mask  # the host kills or stops the process; a stop resumes into the call
            return (RESTART if p.block.restartable and flags & SA_RESTART else EINTR), sig, own_mask
        return None, 0, own_mask

    def fix_frame_mask(self, t: "Task", sig: int) -> None:
        """At a signal-delivery stop of a thread in `mask_fixes` (see the module doc):
        first step into the handler, then put the thread's own mask in its frame."""
        own_mask, delivering = self.mask_fixes[t.tid]
        if not delivering:
            self.mask_fixes[t.tid] = (own_mask, sig)
            libc.ptrace(PTRACE_SINGLESTEP, t.tid, 0, sig)
            return
        del self.mask_fixes[t.tid]
        regs = t.tracee.get_regs()
        handler = self.sigactions.get(delivering, (SIG_DFL, 0))[0]
        if sig == signal.SIGTRAP and handler not in (SIG_DFL, SIG_IGN) and regs.rip == handler:
            t.tracee.write(regs.rsp + UC_SIGMASK, own_mask.to_bytes(8, "little"))
            t.tracee.resume()
        else:
            t.tracee.set_signal_mask(own_mask)
            t.tracee.resume(0 if sig == signal.SIGTRAP else sig)

    # -- children's exits -------------------------------------------------------------

    def watch_child(self, host_pid: int) -> None:
        """Wake parked calls when this new child of the app exits (see the module doc).
        Children nobody waits for (SIGCHLD ignored: the host reaps them) are dropped once
        there are many, so an app that never parks does not pile up pidfds."""
        if len(self.child_pidfds) >= MAX_UNSWEPT_CHILDREN:
            for pid in [pid for pid in self.child_pidfds if pal.exit_reported(pid)]:
                self.unwatch_child(pid)  # its SIGCHLD, if any, is already the app's
        try:
            self.child_pidfds[host_pid] = pal.pidfd_open(host_pid)
        except Errno:
            pass  # already reaped: nothing will come from it

    def unwatch_child(self, host_pid: int) -> None:
        """The app has reaped the child."""
        self.exiting.discard(host_pid)
        pidfd = self.child_pidfds.pop(host_pid, None)
        if pidfd is not None:
            pal.close(pidfd)

    def _check_exits(self) -> None:
        """Children whose exit has reached the app now: their SIGCHLD is pending."""
        for pid in [pid for pid in self.exiting if pal.exit_reported(pid)]:
            self.unwatch_child(pid)
            self.signalled = True

    def reset_after_fork(self) -> None:
        """In a new instance made by fork: the parent's parked calls and timers are not
        ours (alarms are not inherited by fork(2)), and the wakeup pipe must be our own."""
        self.parked.clear()
        self.timers.clear()
        self.alarm = None
        self.posix_timers.clear()
        self.mask_fixes.clear()
        self.deferred.clear()
        self.rerun = None
        self.signalled = self.woken = False
        for pid in list(self.child_pidfds):  # the parent's children, not ours
            self.unwatch_child(pid)
        if self._wakeup is not None:  # the parent's: ours is made when we first wait
            signal.set_wakeup_fd(-1)
            for fd in self._wakeup:
                pal.close(fd)
            self._wakeup = None
        self._update_busy()


def wake_instance(instance_pid: int) -> None:
    """Tell the instance `instance_pid` to look again at its parked calls (module doc)."""
    pal.host_kill(instance_pid, WAKE_SIGNAL)


def _sigchld(_sig: int, _frame: object) -> None:
    """Caught only so that the C-level handler writes to the wakeup fd."""
