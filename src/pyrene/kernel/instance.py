"""One library-OS instance: it traces one app process and serves its syscalls.

The loop waits for the next ptrace stop and acts on its kind:

  seccomp stop        a trapped syscall: decode, run the handler, write rax, resume
  syscall-exit stop   only after a handler asked to see the host's result (RunOnHost)
  signal-delivery     the signal goes on to the app (signals are the host's, for now)
  group-stop          PTRACE_LISTEN: the app stays stopped, as without a tracer
  exit                the process is gone: its status becomes ours

`dispatch` is the hot path: no allocation beyond the decoded arguments, no logging or
formatting unless tracing is on for that syscall.

A handler that must wait raises WouldBlock: the task is parked (kernel/waits.py) and,
while any task is parked or a timer armed, the loop takes its stops from the event loop
(`Waits.next_stop`) instead of a blocking waitpid.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Iterable

from ..abi import sysnum
from ..errors import Errno, RunOnHost, TaskExit, WouldBlock
from ..fs.mounts import MountTable
from ..fs.vfs import Vfs
from ..ipc.client import LeaderClient
from ..ipc.messages import (Describe, DescribeProcess, ListProcesses, ProcessDescription, ProcessList, Reaped,
                            ThreadExited)
from ..log import DEBUG, get_logger
from ..net.unix import UnixNamespace
from ..platform import libc, spawn
from ..platform.tracee import MASK64, Tracee
from ..record import NamedTuple
from ..trace.strace import Strace
from . import exec as execmod
from . import fork as forkmod
from . import signals
from .fdtable import FdTable, LockHints
from .table import SyscallSpec, SyscallTable
from .task import Creds, Process, Task
from .waits import Waits

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from ..ipc.shared import LocalPort

log = get_logger("pyrene.kernel")

SECCOMP_STATUS = (libc.PTRACE_EVENT_SECCOMP << 8) | signal.SIGTRAP
SYSCALL_EXIT_STATUS = signal.SIGTRAP | 0x80
GROUP_STOP_SIGNALS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
FORK_EVENTS = (libc.PTRACE_EVENT_FORK, libc.PTRACE_EVENT_VFORK, libc.PTRACE_EVENT_CLONE)
JOB_STOP_SIGNALS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


class InstanceConfig(NamedTuple):
    mounts: MountTable
    env: list[str]
    cwd: str
    creds: Creds
    fd_limit: int = 1024
    strace: Strace | None = None
    cpu: int | None = None
    visible_cpus: tuple[int, ...] = (0,)  # what sched_getaffinity reports to the app
    disallow_subprocesses: bool = False  # sys.disallow_subprocesses: fork/clone fail (kernel/fork.py)


class Instance:
    """The kernel of one app process. Holds everything; no module globals anywhere."""

    def __init__(self, config: InstanceConfig, table: SyscallTable) -> None:
        self.config = config
        self.table = table
        self.entries = table.entries  # the hot path's view of the table
        self.vfs = Vfs(config.mounts)
        self.strace = config.strace
        self.tasks: dict[int, Task] = {}
        self.current: Task | None = None  # the task whose call is being served (/proc/thread-self)
        self.missing: set[int] = set()
        # asked once: failures are frequent (ENOENT in library searches) and the log level
        # is set before any instance exists
        self.debug = log.isEnabledFor(DEBUG)
        self.post_hooks: dict[int, object] = {}
        self.start_ns = time.time_ns()
        # file locks and System V IPC are the leader's (ipc/shared.py): see shared_call
        self.shared_used = False
        self.local_shared: LocalPort | None = None
        self.process = Process(vpid=1, ppid=0, host_pid=0, files=FdTable(config.fd_limit, LockHints(
                               release=self._release_locks)), cwd=config.cwd,
                               creds=config.creds, env=list(config.env), instance=self)
        self.exit_status: int | None = None
        self.unix = UnixNamespace()  # abstract AF_UNIX names (net/unix.py)
        self.waits = Waits(self)  # parked tasks, timers, the event loop (kernel/waits.py)
        # -- processes (kernel/fork.py): the leader, our app's children, early child stops
        self.leader: LeaderClient | None = None
        self.leader_pid = os.getpid()  # the instance is made by `pyrene run`, the leader
        self.children: dict[int, int] = {}  # vpid -> host pid of the app's children
        self.early_stops: dict[int, int] = {}  # host pid -> status of a stop seen before its fork event
        self.exit_raw = 0  # the app's wait status
        self.stub_fd = -1
        self.parent_host_pid = 0  # host pid of our app's parent (kernel/fork.py)
        self.fork_refused = False  # sys.disallow_subprocesses was logged

    def processes(self) -> Iterable[Process]:
        return [self.process]

    # -- start -------------------------------------------------------------------------

    def start(self, prog: execmod.Program, stdio: list[object]) -> Task:
        """Spawn the picoprocess, load `prog` into it; the app is ready to run."""
        # The app's umask is virtual and applied by the handlers (open, mkdir, mknod, bind):
        # the host must not apply Pyrene's own on top of it.
        os.umask(0)
        stub_fd = spawn.stub_memfd()
        cpu = self.config.cpu if self.config.cpu is not None else spawn.choose_cpu()
        try:
            pid = spawn.spawn_stub(stub_fd, cpu)
        except BaseException:
            os.close(stub_fd)
            raise
        self.stub_fd = stub_fd  # kept for execve: the app process execs it again (kernel/exec.py)
        tracee = Tracee(pid)
        self.process.host_pid = pid
        task = Task(tracee, 1, self.process, self)
        self.tasks[pid] = task
        regs = tracee.get_regs()
        stub_rsp = regs.rsp
        self.process.argv = list(prog.argv)
        self.process.exe = prog.path
        self.process.comm = os.path.basename(prog.path)[:15]
        execmod.load(task, prog, self.process.env, stub_rsp)
        for fd, file in enumerate(stdio):
            if file is not None:
                self.process.files.install_at(fd, file)  # type: ignore[arg-type]
        return task

    # -- the loop ----------------------------------------------------------------------

    def run(self, first: Task) -> int:
        """Resume the app and serve it until it exits; returns its shell-style status."""
        self.waits.start()
        self._forward_signals()
        first.tracee.resume()
        status = 0
        tasks, waits = self.tasks, self.waits
        waitpid, wall, dispatch = os.waitpid, libc.WALL, self.dispatch  # hot loop: locals
        while tasks:
            if waits.busy:  # a task is parked or a timer armed: the event loop (kernel/waits.py)
                pid, status = waits.next_stop()
                if pid <= 0:
                    if pid < 0:
                        break
                    continue
            else:
                try:
                    pid, status = waitpid(-1, wall)
                except ChildProcessError:
                    break
            task = tasks.get(pid)
            if task is None:
                self._unknown_stop(pid, status)
                continue
            if status & 0xFF != 0x7F:
                self._exited(task, status)
                continue
            stop = status >> 8
            try:
                if stop == SECCOMP_STATUS:
                    dispatch(task)
                elif stop == SYSCALL_EXIT_STATUS:
                    self._syscall_exit(task)
                else:
                    self._other_stop(task, stop & 0xFF, stop >> 8)
            except TaskExit:
                pass
        return self.exit_status if self.exit_status is not None else 0

    def dispatch(self, t: Task) -> None:
        """Serve the trapped syscall `t` is stopped at."""
        self.current = t
        tracee = t.tracee
        regs = tracee.get_regs()
        nr = regs.orig_rax
        try:
            spec = self.entries[nr]
        except IndexError:
            spec = None
        args = None
        if spec is None:
            spec = self.table.lookup_after_complete(nr)
        if spec is None:
            result = -errno.ENOSYS
            if nr not in self.missing:
                self.missing.add(nr)
                log.warning("unsupported syscall %s (returning ENOSYS)", sysnum.name_of(nr))
        else:
            try:
                decoders = spec.decoders
                if not decoders:
                    result = spec.handler(t)
                else:
                    raw = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
                    mem = t.mem
                    args = [d(mem, r) for d, r in zip(decoders, raw)]
                    result = spec.handler(t, *args)
            except Errno as e:
                result = -e.errno
                if self.debug:
                    log.debug("%s: %s", spec.name, e)
            except RunOnHost as host:
                self._run_on_host(t, spec, host, args)
                return
            except WouldBlock as block:
                self.waits.park(t, block, spec, args)
                return
        if self.strace is not None:
            self.strace.line(t.vtid, nr, spec, args,
                             (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9), result, t.mem)
        tracee.return_from_syscall(result)

    def finish(self, t: Task, spec: SyscallSpec, args: list | None, result: int) -> None:
        """End a parked call with `result` (EINTR when a signal interrupted it)."""
        regs = t.tracee.get_regs()
        if self.strace is not None:
            self.strace.line(t.vtid, regs.orig_rax, spec, args,
                             (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9), result, t.mem)
        t.tracee.return_from_syscall(result)

    def restart(self, t: Task, spec: SyscallSpec) -> None:
        """Make a parked call start again once the host has delivered the pending signal:
        back over the 2-byte `syscall` instruction with the number in rax (ERESTARTSYS)."""
        if self.strace is not None:
            self.strace.event(t.vtid, f"{spec.name}(...) = ? ERESTARTSYS (To be restarted)")
        regs = t.tracee.get_regs()
        regs.rip -= 2
        t.tracee.return_from_syscall(regs.orig_rax)

    def _run_on_host(self, t: Task, spec: SyscallSpec, host: RunOnHost, args: list | None) -> None:
        if self.strace is not None:
            self.strace.host_call(t.vtid, spec, args, t.mem)
        if host.post is None:
            t.tracee.resume()
        else:
            self.post_hooks[t.tid] = host.post
            t.tracee.resume_to_syscall_exit()

    def _syscall_exit(self, t: Task) -> None:
        post = self.post_hooks.pop(t.tid, None)
        if post is not None:
            regs = t.tracee.get_regs()
            rax = regs.rax - (1 << 64) if regs.rax >= 1 << 63 else regs.rax
            regs.rax = post(t, rax) & MASK64  # type: ignore[operator]
            t.tracee.set_regs()
        t.tracee.resume()

    def _other_stop(self, t: Task, sig: int, event: int) -> None:
        if event in FORK_EVENTS:
            forkmod.fork_child(self, t)
        elif event == libc.PTRACE_EVENT_STOP:
            if sig in GROUP_STOP_SIGNALS:
                libc.ptrace(libc.PTRACE_LISTEN, t.tid, 0, 0)
            else:
                t.tracee.resume()
        elif event:
            t.tracee.resume()
        elif t.tid in self.waits.mask_fixes:  # ppoll/pselect6 ended with a temporary mask
            self.waits.fix_frame_mask(t, sig)
        else:
            # signal-delivery stop: the host delivers it, with a virtual siginfo
            self.deliver_signal(t, sig)

    def _exited(self, t: Task, status: int) -> None:
        del self.tasks[t.tid]
        self.waits.forget(t.tid)
        if os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
        else:
            code = 128 + os.WTERMSIG(status)
        if t.tid == t.proc.host_pid:
            self.exit_status = code
            self.exit_raw = status
            if self.strace is not None:
                what = f"exited with {code}" if os.WIFEXITED(status) else \
                    f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
                self.strace.event(t.proc.vpid, f"+++ {what} +++")
        else:
            self.thread_ended(t)

    def thread_ended(self, t: Task) -> None:
        """Thread `t`, not its process's main thread, is gone: the leader frees its number."""
        if t.vtid != t.proc.vpid and self.leader is not None:
            try:
                self.leader.send(ThreadExited(t.vtid))
            except OSError:  # the leader is gone: the sandbox is ending anyway
                pass

    @property
    def visible_cpus(self) -> tuple[int, ...]:
        return self.config.visible_cpus

    def thread(self, vtid: int) -> Task | None:
        """The task whose virtual tid is `vtid` (a scan: threads are few, signals rare)."""
        for task in self.tasks.values():
            if task.vtid == vtid:
                return task
        return None

    def _forward_signals(self) -> None:
        """SIGINT/SIGTERM/... reach an instance from the terminal (Ctrl-C: the instance is
        in its app's process group) or from outside: the instance must not die of them.
        The app got its own copy from the terminal, and the leader forwards the ones sent
        to `pyrene run` to the app itself (ipc/leader.py); here they only make the parked
        tasks look at their signals."""
        def noted(_sig: int, _frame: object) -> None:
            self.waits.note_signal()
        for sig in FORWARDED_SIGNALS:
            signal.signal(sig, noted)
        for sig in JOB_STOP_SIGNALS:  # an instance never stops for the terminal (spawn resets them)
            signal.signal(sig, signal.SIG_IGN)

    def shutdown(self) -> None:
        for t in list(self.tasks.values()):
            t.tracee.kill()
        # the leader thread last: its death is reported only once the other threads are reaped
        for t in sorted(self.tasks.values(), key=lambda task: task.tid == task.proc.host_pid):
            try:
                os.waitpid(t.tid, libc.WALL)
            except ChildProcessError:
                pass
        self.tasks.clear()
        if self.stub_fd >= 0:
            os.close(self.stub_fd)
            self.stub_fd = -1
        self.waits.close()
        self.process.files.close_all()
        self.vfs.mounts.release()
        self.unix.release()

    # -- processes (kernel/fork.py) -------------------------------------------------------

    def _unknown_stop(self, pid: int, status: int) -> None:
        """A stop of a host pid we do not serve yet: a forked child stopping before its
        parent's fork event was seen. Kept for `fork.fork_child`."""
        if os.WIFSTOPPED(status):
            self.early_stops[pid] = status

    def reset_after_fork(self, vpid: int, ppid: int, host_pid: int) -> None:
        """In the new instance made by fork: the parent's tasks, parked calls and timers
        are not ours; the process object becomes the child's (files, cwd, creds and
        rlimits are the parent's copies, as fork(2) makes them)."""
        self.tasks.clear()
        self.current = None
        self.post_hooks.clear()
        self.children.clear()
        self.early_stops.clear()
        self.waits.reset_after_fork()
        proc = self.process
        proc.vpid, proc.ppid, proc.host_pid = vpid, ppid, host_pid
        proc.exit_status = None
        proc.pdeathsig = 0  # fork(2) clears it in the child
        self.exit_status = None
        self.exit_raw = 0

    # -- the other processes of the sandbox (fs/proc.py) ----------------------------------

    def publish(self) -> None:
        """Tell the leader what /proc of other processes shows of ours: at start, execve,
        a new name or identity (a forked child starts with its parent's)."""
        if self.leader is not None:
            try:
                self.leader.request(Describe(self.process.vpid, self.process.facts()))
            except OSError:
                pass  # the leader is gone: so is the sandbox

    def forget_child(self, vpid: int) -> None:
        """A child was reaped: it leaves /proc."""
        if self.leader is not None:
            try:
                self.leader.send(Reaped(vpid))
            except OSError:
                pass

    def sandbox_pids(self) -> tuple[int, ...]:
        """The virtual pids of every process of the sandbox, zombies included."""
        if self.leader is not None:
            try:
                answer = self.leader.request(ListProcesses())
                if isinstance(answer, ProcessList):
                    return answer.vpids
            except OSError:
                pass
        return (self.process.vpid,)

    def describe_process(self, vpid: int, instance_pid: int = 0) -> ProcessDescription:
        """What the leader knows of process `vpid`, or of the one the instance with host
        pid `instance_pid` serves (`facts` None: there is none)."""
        if self.leader is not None:
            try:
                answer = self.leader.request(DescribeProcess(vpid, instance_pid))
                if isinstance(answer, ProcessDescription):
                    return answer
            except OSError:
                pass
        return ProcessDescription(vpid)
    # -- state shared across processes (ipc/shared.py) ------------------------------------

    def shared_call(self, tid: int, op: str, args: tuple[object, ...], wait: bool = False) -> tuple[object, list[int]]:
        """A file lock or System V IPC operation, served by the leader (an RPC round trip);
        without a leader (unit tests, `pyrene check`) by a state of our own. Raises Errno,
        or Blocked when the call must wait (recorded as waiting if `wait`)."""
        self.shared_used = True
        if self.leader is not None:
            return self.leader.call(self.process.vpid, tid, op, args, wait)
        if self.local_shared is None:
            from ..ipc.shared import LocalPort  # no leader: unit tests, `pyrene check`
            self.local_shared = LocalPort()
        return self.local_shared.call(self.process.vpid, tid, op, args, wait)

    def _release_locks(self, op: str, args: tuple[object, ...]) -> None:
        self.shared_call(0, op, args)

    def process_exiting(self) -> None:
        """exit_group: the leader drops what the process held (locks, SEM_UNDO, shm
        attaches) before the host ends it, so that whoever sees it gone sees that too.
        Only for a process that ever used shared state (or inherited it from one that did)."""
        if self.shared_used:
            self.shared_call(0, "exiting", ())

    def deliver_signal(self, t: Task, sig: int) -> None:
        """A signal-delivery stop: the host delivers `sig`, its siginfo made virtual first
        (kernel/signals.py)."""
        signals.fix_delivery(t)
        t.tracee.resume(sig)
