"""The namespace leader: `pyrene run` itself (DESIGN.md decision 1).

It forks the first instance, which starts app process 1, and then serves the instances
over one SOCK_SEQPACKET socket each: it gives out virtual pids, keeps the process tree
(vpid -> ppid, host pid), and learns of every exit. It outlives every app process, and
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
import logging
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from ..kernel.waits import wake_instance
from ..pal import linux as pal
from .client import LeaderClient, socket_pair
from .messages import (MAX_MESSAGE, DeathSignal, Exited, GroupQuery, Ids, NewProcess, PidGiven, SetGroup, SignalQuery,
                       Started, Targets, decode, encode)

log = logging.getLogger("pyrene.ipc")

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SI_KERNEL = 0x80
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


@dataclass(slots=True)
class ProcessEntry:
    """One app process of the sandbox, as the leader knows it."""

    vpid: int
    ppid: int
    host_pid: int = 0
    instance_pid: int = 0
    status: int | None = None  # wait status once exited
    pgid: int = 1  # virtual process group and session (kept here, mirrored on the host)
    sid: int = 1
    host_pgid: int = 0  # the host process group the app process is in
    pdeathsig: int = 0  # PR_SET_PDEATHSIG: sent when the parent exits

    @property
    def alive(self) -> bool:
        return self.status is None


@dataclass(eq=False)
class Leader:
    prctl: Callable[[int, int], object]
    processes: dict[int, ProcessEntry] = field(default_factory=dict)
    next_vpid: int = 1
    first_code: int | None = None

    def allocate(self, ppid: int) -> ProcessEntry:
        vpid = self.next_vpid
        while vpid in self.processes:
            vpid += 1
        self.next_vpid = vpid + 1
        entry = ProcessEntry(vpid, ppid)
        parent = self.processes.get(ppid)
        if parent is not None:  # fork(2): the child is in its parent's group and session
            entry.pgid, entry.sid, entry.host_pgid = parent.pgid, parent.sid, parent.host_pgid
        self.processes[vpid] = entry
        return entry

    def run(self, first_instance: Callable[[LeaderClient], int]) -> int:
        """Fork the first instance (it runs `first_instance` and exits with its result),
        serve every instance until all are gone; the first process's status."""
        self.prctl(PR_SET_CHILD_SUBREAPER, 1)
        leader_pid = os.getpid()
        first = self.allocate(0)
        first.host_pgid = os.getpgrp()  # virtual group and session 1: Pyrene's own on the host
        ours, theirs = socket_pair()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the first instance
            code = 1
            try:
                ours.close()
                for sig in FORWARDED_SIGNALS:
                    signal.signal(sig, signal.SIG_DFL)
                self.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != leader_pid:
                    os._exit(1)
                code = first_instance(LeaderClient(theirs))
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except (OSError, ValueError):
                        pass
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
        first_status: int | None = None
        try:
            while len(sel.get_map()) > 2:  # the wakeup pipe, the signalfd and at least one instance
                for key, _ in sel.select():
                    if key.fileobj == wake_r:
                        _drain(wake_r)
                        for pid, status in _reap():
                            if pid == first_pid:
                                first_status = status
                        continue
                    if key.fileobj == sigfd:
                        for sig, code, _pid in pal.read_signalfd(sigfd):
                            self.forward(sig, code)
                        continue
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if not self._message(sock, sel):
                        sel.unregister(sock)
                        sock.close()
            self._kill_leftovers()
        finally:
            sel.close()
            signal.set_wakeup_fd(old_wakeup)
            os.close(sigfd)
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            signal.signal(signal.SIGCHLD, old_chld)
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
            entry = self.allocate(msg.parent)
            entry.host_pid = msg.host_pid
            for fd in fds:
                conn = socket.socket(fileno=fd)
                sel.register(conn, selectors.EVENT_READ)
            sock.send(encode(PidGiven(entry.vpid)))
        elif isinstance(msg, Started):
            entry = self.processes[msg.vpid]
            entry.host_pid, entry.instance_pid = msg.host_pid, msg.instance_pid
        elif isinstance(msg, Exited):
            entry = self.processes[msg.vpid]
            entry.status = msg.status
            if msg.vpid == 1:
                self.first_code = msg.code
            for child in self.processes.values():  # orphans: re-parented to pid 1
                if child.ppid == msg.vpid and child.status is None:
                    if child.pdeathsig:
                        send_signal(child, child.pdeathsig)
                    child.ppid = 1
        elif isinstance(msg, SignalQuery):
            sock.send(encode(self.signal_targets(msg.sender, msg.target)))
        elif isinstance(msg, GroupQuery):
            sock.send(encode(self.ids(msg)))
        elif isinstance(msg, SetGroup):
            answer = self.set_group(msg)
            if not msg.commit:
                sock.send(encode(answer))
        elif isinstance(msg, DeathSignal):
            self.processes[msg.vpid].pdeathsig = msg.sig
            sock.send(encode(Ids(0)))
        return True

    # -- signals, process groups and sessions -------------------------------------------

    def signal_targets(self, sender: int, target: int) -> Targets:
        """kill(2)'s choice of processes. -1 reaches every process but pid 1 (the
        namespace's init) and the sender itself, as Linux does inside a pid namespace.
        Permissions are not checked: every process of the sandbox runs as the same host
        user, and the virtual uids only differ after a setuid (docs: PARTIAL)."""
        me = self.processes.get(sender)
        if target > 0:
            chosen = [e for e in (self.processes.get(target),) if e is not None and e.alive]
        elif target == -1:
            chosen = [e for e in self.processes.values() if e.alive and e.vpid not in (1, sender)]
        else:
            pgid = -target if target else (me.pgid if me is not None else 0)
            chosen = [e for e in self.processes.values() if e.alive and e.pgid == pgid]
        if not chosen:
            return Targets(errno.ESRCH)
        return Targets(0, tuple((e.vpid, e.host_pid, e.instance_pid) for e in chosen))

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

    def _kill_leftovers(self) -> None:
        """Every instance is gone; an app process that somehow outlived its instance
        (killed between two instances at a fork) is killed, then all are reaped."""
        for entry in self.processes.values():
            if entry.status is None and entry.host_pid > 0:
                try:
                    os.kill(entry.host_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return


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


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
