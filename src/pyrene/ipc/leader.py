"""The namespace leader: `pyrene run` itself (DESIGN.md decision 1).

It forks the first instance, which starts app process 1, and then serves the instances
over one SOCK_SEQPACKET socket each: it gives out virtual pids, keeps the process tree
(vpid -> ppid, host pid), learns of every exit, and holds what processes share, file
locks and System V IPC (ipc/shared.py, `SharedCall` messages). It outlives every app process, and
ends once every instance is gone, with the first process's status.

Nothing is left behind: the leader is a child subreaper, so every instance and app
process whose parent dies becomes its child and is reaped here; instances die with the
leader (PR_SET_PDEATHSIG) and app processes with their instance (PTRACE_O_EXITKILL).
Signals sent to `pyrene run` from outside (SIGINT, SIGTERM, ...) go to app process 1
(`forward`). The leader also keeps the process groups and sessions and answers which
processes a kill(2) reaches (kernel/signals.py).
"""

from __future__ import annotations

import errno
import gc
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable

from ..abi.flags import CAP_KILL
from ..errors import Blocked, Errno, PyreneError
from ..kernel.waits import wake_instance
from ..lazy import lazy_module
from ..log import flush_stdio, get_logger
from ..pal import linux as pal
from .client import LeaderClient, socket_pair
from .messages import (MAX_MESSAGE, DeathSignal, Describe, DescribeProcess, Exited, Facts, GroupQuery, Ids,
                       ListProcesses, NewProcess, NewThread, Noted, PidGiven, ProcessDescription, ProcessList, Reaped,
                       Refused, SetGroup, SharedCall, SharedReply, SignalQuery, Started, Targets, ThreadExited,
                       decode, encode)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from . import shared
else:
    shared = lazy_module("pyrene.ipc.shared")  # locks and System V IPC: at first use

log = get_logger("pyrene.ipc")

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SI_KERNEL = 0x80
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


class ProcessEntry:
    """One app process of the sandbox, as the leader knows it."""

    __slots__ = ("vpid", "ppid", "host_pid", "instance_pid", "status", "facts", "reaped", "orphan", "pgid", "sid",
                 "host_pgid", "pdeathsig")

    def __init__(self, vpid: int, ppid: int) -> None:
        self.vpid = vpid
        self.ppid = ppid
        self.host_pid = 0
        self.instance_pid = 0
        self.status: int | None = None  # wait status once exited
        self.facts: Facts | None = None  # what its instance last said of it (/proc of other processes)
        self.reaped = False  # its parent waited for it (it goes once its exit is known too)
        self.orphan = False  # its parent died first: the host reaps it here, no wait reports it
        self.pgid = 1  # virtual process group and session (kept here, mirrored on the host)
        self.sid = 1
        self.host_pgid = 0  # the host process group the app process is in
        self.pdeathsig = 0  # PR_SET_PDEATHSIG: sent when the parent exits

    @property
    def uid(self) -> int:
        """The real uid (RLIMIT_NPROC counts by it)."""
        return self.facts.uids[0] if self.facts is not None else 0

    @property
    def alive(self) -> bool:
        return self.status is None


class Leader:
    """The sandbox's processes, threads and shared state."""

    def __init__(self, prctl: Callable[[int, int], object], max_processes: int = 256) -> None:
        self.prctl = prctl
        self.max_processes = max_processes  # pyrene.max_processes: live app processes of the sandbox
        self.processes: dict[int, ProcessEntry] = {}
        self.next_vpid = 1
        self.first_code: int | None = None
        self.threads: dict[int, tuple[int, int]] = {}  # vtid -> (vpid, host tid), but main threads
        # file locks and System V IPC of the sandbox (ipc/shared.py): see `shared`
        self._shared: shared.SharedState | None = None
        self.socket_vpids: dict[int, int] = {}  # instance socket fileno -> vpid

    def shared_state(self) -> shared.SharedState:
        """The sandbox's file locks and System V objects, made at the first call that
        needs them (until then no process holds any, so forks and exits skip it)."""
        if self._shared is None:
            self._shared = shared.SharedState(wake=wake_instance)
        return self._shared

    def allocate(self, ppid: int) -> ProcessEntry:
        vpid = self._free_number()
        entry = ProcessEntry(vpid, ppid)
        parent = self.processes.get(ppid)
        if parent is not None:  # fork(2): the child is in its parent's group and session
            entry.pgid, entry.sid, entry.host_pgid = parent.pgid, parent.sid, parent.host_pgid
        self.processes[vpid] = entry
        return entry

    def allocate_tid(self, vpid: int, host_tid: int) -> int:
        """A virtual tid for a new thread of process `vpid`, from the pids' number space."""
        vtid = self._free_number()
        self.threads[vtid] = (vpid, host_tid)
        return vtid

    def _free_number(self) -> int:
        number = self.next_vpid
        while number in self.processes or number in self.threads:
            number += 1
        self.next_vpid = number + 1
        return number

    def run(self, first_instance: Callable[[LeaderClient], int]) -> int:
        """Fork the first instance (it runs `first_instance` and exits with its result),
        serve every instance until all are gone; the first process's status."""
        self.prctl(PR_SET_CHILD_SUBREAPER, 1)
        leader_pid = os.getpid()
        first = self.allocate(0)
        first.host_pgid = os.getpgrp()  # virtual group and session 1: Pyrene's own on the host
        ours, theirs = socket_pair()
        started_without_gc = not gc.isenabled()  # the `pyrene` command's start (cli.entry)
        if started_without_gc:
            # what the start made lives as long as the processes do: frozen, no collection
            # in either walks it again (its writes would copy the instance's pages)
            gc.freeze()
        pid = os.fork()
        if started_without_gc:
            gc.enable()
        if pid == 0:  # pragma: no cover - the first instance
            code = 1
            try:
                ours.close()
                for sig in FORWARDED_SIGNALS:
                    pal.set_signal_handler(sig, signal.SIG_DFL)
                self.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != leader_pid:
                    os._exit(1)
                code = first_instance(LeaderClient(theirs))
            except PyreneError as exc:  # e.g. ptrace refused: one line that says what to change
                print(exc, file=sys.stderr)
                code = exc.status
            except Exception:  # os._exit below would lose it
                log.exception("pyrene: internal error in the instance")
            finally:
                flush_stdio()
                os._exit(code)
        theirs.close()
        first.instance_pid = pid
        return self._serve(ours, pid)

    # -- the loop ------------------------------------------------------------------------

    def _serve(self, first_sock: socket.socket, first_pid: int) -> int:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        old_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        # Signals to forward are read from a signalfd: its siginfo tells the terminal's
        # (SI_KERNEL) from a kill(2) (`forward`)
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED_SIGNALS)
        sigfd = pal.signalfd(FORWARDED_SIGNALS)
        old_chld = signal.signal(signal.SIGCHLD, lambda _s, _f: None)
        sel = selectors.DefaultSelector()
        sel.register(wake_r, selectors.EVENT_READ)
        sel.register(sigfd, selectors.EVENT_READ)
        sel.register(first_sock, selectors.EVENT_READ)
        self.socket_vpids[first_sock.fileno()] = 1
        first_status: int | None = None
        try:
            while len(sel.get_map()) > 2:  # the wakeup pipe, the signalfd and at least one instance
                for key, _ in sel.select():
                    if key.fileobj == wake_r:
                        pal.drain(wake_r)
                        for pid, status in _reap():
                            if pid == first_pid:
                                first_status = status
                                self._end_namespace()
                        continue
                    if key.fileobj == sigfd:
                        for sig, code, _pid in pal.read_signalfd(sigfd):
                            self.forward(sig, code)
                        continue
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if not self._message(sock, sel):
                        sel.unregister(sock)
                        self._instance_gone(sock)
                        sock.close()
            last = self._kill_leftovers(first_pid)
            first_status = last if first_status is None else first_status
        finally:
            sel.close()
            signal.set_wakeup_fd(old_wakeup)
            os.close(sigfd)
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            pal.set_signal_handler(signal.SIGCHLD, old_chld)  # type: ignore[arg-type]
            os.close(wake_r)
            os.close(wake_w)
        if self.first_code is not None:
            return self.first_code
        if first_status is None:
            return 1
        return os.WEXITSTATUS(first_status) if os.WIFEXITED(first_status) else 128 + os.WTERMSIG(first_status)

    def forward(self, sig: int, code: int) -> None:
        """A signal sent to `pyrene run` goes to app process 1, as if sent to it: to the
        process, not its group, as kill(2) of a pid does. One the terminal sent
        (SI_KERNEL: Ctrl-C, Ctrl-\\, a hangup) is not: it went to the terminal's foreground
        process group, and the app processes in that group have their own copy."""
        first = self.processes.get(1)
        if code != SI_KERNEL and first is not None and first.alive and first.host_pid > 0:
            send_signal(first, sig)

    def _message(self, sock: socket.socket, sel: selectors.BaseSelector) -> bool:
        """Serve one message; False at EOF (the instance is gone)."""
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, 4)
        except ConnectionError:
            return False
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        msg = decode(data)
        if isinstance(msg, NewProcess):
            refusal = self._refuse_fork(msg)
            if refusal is not None:
                for fd in fds:
                    os.close(fd)
                sock.send(encode(refusal))
                return True
            entry = self.allocate(msg.parent)
            entry.host_pid = msg.host_pid
            parent = self.processes.get(msg.parent)
            entry.facts = parent.facts if parent is not None else None  # fork copies them
            for fd in fds:
                conn = socket.socket(fileno=fd)
                sel.register(conn, selectors.EVENT_READ)
                self.socket_vpids[fd] = entry.vpid
            if self._shared is not None:
                self._shared.forked(msg.parent, entry.vpid)
            sock.send(encode(PidGiven(entry.vpid)))
        elif isinstance(msg, NewThread):
            sock.send(encode(PidGiven(self.allocate_tid(msg.vpid, msg.host_tid))))
        elif isinstance(msg, ThreadExited):
            self.threads.pop(msg.vtid, None)
        elif isinstance(msg, Started):  # from the parent's instance: the child may be gone already
            entry = self.processes.get(msg.vpid)
            if entry is not None:
                entry.host_pid, entry.instance_pid = msg.host_pid, msg.instance_pid
        elif isinstance(msg, Exited):
            if msg.vpid == 1:
                self.first_code = msg.code
                self._end_namespace()
            self._exited(msg.vpid, msg.status)
        elif isinstance(msg, SharedCall):
            self._shared_call(sock, msg)
        elif isinstance(msg, SignalQuery):
            sock.send(encode(self.thread_target(msg) if msg.tid else self.signal_targets(msg.sender, msg.target, msg.sig)))
        elif isinstance(msg, GroupQuery):
            sock.send(encode(self.ids(msg)))
        elif isinstance(msg, SetGroup):
            answer = self.set_group(msg)
            if not msg.commit:
                sock.send(encode(answer))
        elif isinstance(msg, DeathSignal):
            self.processes[msg.vpid].pdeathsig = msg.sig
            sock.send(encode(Ids(0)))
        else:
            self._process_message(sock, msg)
        return True

    def _exited(self, vpid: int, status: int) -> None:
        if self._shared is not None:
            self._shared.exited(vpid)  # its locks, semaphore undos and attaches go
        for vtid in [vtid for vtid, (owner, _) in self.threads.items() if owner == vpid]:
            del self.threads[vtid]  # threads that never said they ended (exit_group, a kill)
        entry = self.processes.get(vpid)
        if entry is None:
            return
        entry.status = status
        if entry.reaped or entry.orphan:  # the parent's wait came first, or there is none
            del self.processes[vpid]
        for child in list(self.processes.values()):
            if child.ppid != vpid or child.reaped:
                continue
            if child.status is not None:
                del self.processes[child.vpid]  # a zombie orphan: the host reaps it here (subreaper)
            else:
                if child.pdeathsig:
                    send_signal(child, child.pdeathsig)
                child.ppid, child.orphan = 1, True  # re-parented to pid 1

    # -- /proc of other processes (fs/proc.py) ---------------------------------------------

    def _process_message(self, sock: socket.socket, msg: object) -> None:
        """The messages that keep and show what /proc lists: answered at once."""
        if isinstance(msg, Describe):
            entry = self.processes.get(msg.vpid)
            if entry is not None:
                entry.facts = msg.facts
            sock.send(encode(Noted()))
        elif isinstance(msg, Reaped):
            entry = self.processes.get(msg.vpid)
            if entry is not None:
                entry.reaped = True
                if entry.status is not None:
                    del self.processes[msg.vpid]
        elif isinstance(msg, ListProcesses):
            sock.send(encode(ProcessList(tuple(v for v, e in sorted(self.processes.items()) if not e.reaped))))
        elif isinstance(msg, DescribeProcess):
            vpid = self.served_by(msg.instance_pid) if msg.instance_pid else msg.vpid
            sock.send(encode(self.describe(vpid)))

    def describe(self, vpid: int) -> ProcessDescription:
        entry = self.processes.get(vpid)
        if entry is None or entry.reaped or entry.facts is None:
            return ProcessDescription(vpid)
        return ProcessDescription(vpid, entry.ppid, entry.host_pid, entry.pgid, entry.sid, entry.status is not None,
                                  entry.facts)

    def served_by(self, instance_pid: int) -> int:
        """The live process an instance serves (0: none): as its `Started` said or, if that
        is still on its way, found by the tracer of each new process's host pid (the
        instance ptraces its app from before the app runs)."""
        entries = [e for e in self.processes.values() if not e.reaped and e.status is None]
        for entry in entries:
            if entry.instance_pid == instance_pid:
                return entry.vpid
        for entry in entries:
            if not entry.instance_pid and entry.host_pid > 0 and pal.tracer_of(entry.host_pid) == instance_pid:
                return entry.vpid
        return 0

    def _end_namespace(self) -> None:
        """Process 1 has exited: as in a Linux pid namespace whose init dies, every other
        process of the sandbox is killed (SIGKILL), so `pyrene run` ends with its first
        process and leaves nothing running behind it. Their instances then end too."""
        for entry in self.processes.values():
            if entry.vpid != 1 and entry.status is None:
                pal.host_kill(entry.host_pid, signal.SIGKILL)

    def _refuse_fork(self, msg: NewProcess) -> Refused | None:
        """fork(2)'s EAGAIN: the sandbox's process limit, or the parent's RLIMIT_NPROC for
        its real uid (Linux counts the uid's processes; privileged parents are exempt).
        A process counts until its parent has reaped it; its instance's `Exited` may still
        be on the way, so the host is asked about the processes counted."""
        live = [e for e in self.processes.values() if e.status is None and _alive(e.host_pid)]
        if len(live) >= self.max_processes:
            return Refused(errno.EAGAIN, f"the sandbox has {len(live)} processes (pyrene.max_processes)")
        parent = self.processes.get(msg.parent)
        uid = parent.uid if parent is not None else 0
        if msg.nproc >= 0 and sum(1 for e in live if e.uid == uid) >= msg.nproc:
            return Refused(errno.EAGAIN, f"uid {uid} has {msg.nproc} processes (RLIMIT_NPROC)")
        return None

    def _instance_gone(self, sock: socket.socket) -> None:
        """An instance's socket closed: if it said nothing of an exit (it was killed), its
        process counts as exited (killed by SIGKILL) from now on, and what it held in
        the shared state goes."""
        vpid = self.socket_vpids.pop(sock.fileno(), 0)
        entry = self.processes.get(vpid)
        if entry is not None and entry.status is None:
            self._exited(vpid, signal.SIGKILL)  # a wait status: killed by SIGKILL
        elif vpid and self._shared is not None:
            self._shared.exited(vpid)

    def _shared_call(self, sock: socket.socket, call: SharedCall) -> None:
        """A file lock or System V IPC operation (ipc/shared.py), answered at once."""
        vpid = self.socket_vpids.get(sock.fileno(), 0)
        entry = self.processes.get(vpid)
        asker = shared.Asker(vpid, call.tid, entry.instance_pid if entry is not None else 0, call.wait)
        fds: list[int] = []
        try:
            value, fds = self.shared_state().serve(asker, call.op, call.args)
            reply = SharedReply(value)
        except Errno as e:
            reply = SharedReply(errno=e.errno)
        except Blocked:
            reply = SharedReply(blocked=True)
        if fds:
            socket.send_fds(sock, [encode(reply)], fds)  # type: ignore[arg-type]
        else:
            sock.send(encode(reply))  # type: ignore[arg-type]

    # -- signals, process groups and sessions -------------------------------------------

    def signal_targets(self, sender: int, target: int, sig: int = 0) -> Targets:
        """kill(2)'s choice of processes. -1 reaches every process but pid 1 (the
        namespace's init) and the sender itself, as Linux does inside a pid namespace.
        Those the sender may not signal (`may_signal`) are left out: EPERM if that leaves
        none of a pid or a group, but success for -1, as Linux counts it. A zombie (exited,
        not yet waited for) counts as Linux counts it, but is not sent anything."""
        me = self.processes.get(sender)
        if target > 0:
            chosen = [e for e in (self.processes.get(target),) if e is not None]
        elif target == -1:
            chosen = [e for e in self.processes.values() if e.vpid not in (1, sender)]
        else:
            pgid = -target if target else (me.pgid if me is not None else 0)
            chosen = [e for e in self.processes.values() if e.pgid == pgid]
        if not chosen:
            return Targets(errno.ESRCH)
        allowed = [e for e in chosen if may_signal(me, e, sig)]
        if not allowed and target != -1:
            return Targets(errno.EPERM)
        return Targets(0, tuple((e.vpid, e.host_pid, e.instance_pid) for e in allowed if e.alive))

    def thread_target(self, q: SignalQuery) -> Targets:
        """tgkill(2)'s thread: `q.tid` of process `q.target` (0: any), its main thread
        when the tid is the process's pid; ESRCH when it is not a live thread of it, EPERM
        when the sender may not signal its process."""
        if q.tid in self.threads:
            vpid, host_tid = self.threads[q.tid]
        else:
            vpid, host_tid = q.tid, 0
        e = self.processes.get(vpid)
        if e is None or not e.alive or q.target not in (0, vpid):
            return Targets(errno.ESRCH)
        if not may_signal(self.processes.get(q.sender), e, q.sig):
            return Targets(errno.EPERM)
        return Targets(0, ((e.vpid, e.host_pid, e.instance_pid),), host_tid or e.host_pid)

    def _group_host_pgid(self, pgid: int, sid: int) -> int:
        """The host pgid of the live virtual group `pgid` in session `sid`; 0 if none."""
        for e in self.processes.values():
            if e.alive and e.pgid == pgid and e.sid == sid:
                return e.host_pgid
        return 0

    def ids(self, q: GroupQuery) -> Ids:
        if q.host_pgid:
            for e in self.processes.values():
                if e.alive and e.host_pgid == q.host_pgid:
                    return Ids(0, e.pgid, e.sid, e.host_pid, e.host_pgid)
            return Ids(errno.ESRCH)
        if q.pid < 0:  # the group -pid: a live member, else one not yet reaped (for wait4)
            members = sorted((not e.alive, e.vpid) for e in self.processes.values() if e.pgid == -q.pid)
            if not members:
                return Ids(errno.ESRCH)
            e = self.processes[members[0][1]]
            return Ids(0, e.pgid, e.sid, e.host_pid, e.host_pgid)
        e = self.processes.get(q.pid or q.caller)
        if e is None or not e.alive:
            return Ids(errno.ESRCH)
        return Ids(0, e.pgid, e.sid, e.host_pid, e.host_pgid)

    def set_group(self, msg: SetGroup) -> Ids:
        """setpgid(2) and setsid(2) with Linux's rules (kernel/sys.c) on the virtual tree;
        EACCES (the child has exec'd) is the host's to find."""
        me = self.processes.get(msg.caller)
        if me is None:
            return Ids(errno.ESRCH)
        if msg.session:
            if any(e.alive and e.pgid == me.vpid for e in self.processes.values()):
                return Ids(errno.EPERM)  # a group leader (or its id in use) cannot start a session
            if msg.commit:
                me.pgid = me.sid = me.vpid
                me.host_pgid = me.host_pid
            return Ids(0, me.vpid, me.vpid, me.host_pid, me.host_pid)
        pid = msg.pid or msg.caller
        pgid = msg.pgid or pid
        if pgid < 0:
            return Ids(errno.EINVAL)
        p = self.processes.get(pid)
        if p is None or not p.alive:
            return Ids(errno.ESRCH)
        if p.ppid == me.vpid and p is not me:
            if p.sid != me.sid:
                return Ids(errno.EPERM)
        elif p is not me:
            return Ids(errno.ESRCH)
        if p.sid == p.vpid:
            return Ids(errno.EPERM)  # a session leader keeps its group
        host_pgid = p.host_pid if pgid == pid else self._group_host_pgid(pgid, me.sid)
        if not host_pgid:
            return Ids(errno.EPERM)
        if msg.commit:
            p.pgid, p.host_pgid = pgid, host_pgid
        return Ids(0, pgid, p.sid, p.host_pid, host_pgid)

    def _kill_leftovers(self, first_pid: int) -> int | None:
        """Every instance is gone; an app process that somehow outlived its instance
        (killed between two instances at a fork) is killed, then all are reaped. The
        first instance's wait status, if it was reaped here."""
        for entry in self.processes.values():
            if entry.status is None:
                pal.host_kill(entry.host_pid, signal.SIGKILL)
        first_status = None
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                return first_status
            if pid == first_pid:
                first_status = status


def may_signal(sender: ProcessEntry | None, target: ProcessEntry, sig: int) -> bool:
    """Linux's check_kill_permission with the virtual ids: the sender's real or effective
    uid is the target's real or saved uid, or the sender has CAP_KILL; SIGCONT within a
    session always may."""
    if sender is None or sender is target or sender.facts is None or target.facts is None:
        return True
    if sig == signal.SIGCONT and sender.sid == target.sid:
        return True
    ruid, euid, _suid, _fsuid = sender.facts.uids
    t_ruid, _t_euid, t_suid, _t_fsuid = target.facts.uids
    if ruid in (t_ruid, t_suid) or euid in (t_ruid, t_suid):
        return True
    return bool(sender.facts.caps[0] >> CAP_KILL & 1)


def _alive(host_pid: int) -> bool:
    """The host process exists (a zombie not yet reaped included); 0 is one not started yet."""
    if host_pid <= 0:
        return True
    try:
        os.kill(host_pid, 0)
    except ProcessLookupError:
        return False
    return True


def send_signal(entry: ProcessEntry, sig: int) -> None:
    """Send `sig` to an app process from here and make its instance look at it (a task
    parked there may have to end with EINTR: kernel/waits.py)."""
    pal.host_kill(entry.host_pid, sig)
    if entry.instance_pid > 0:
        wake_instance(entry.instance_pid)


def _reap() -> list[tuple[int, int]]:
    out = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return out
        if pid == 0:
            return out
        out.append((pid, status))
