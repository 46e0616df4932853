"""The namespace leader: `pyrene run` itself (DESIGN.md decision 1).

It forks the first instance, which starts app process 1, and then serves the instances
over one SOCK_SEQPACKET socket each: it gives out virtual pids, keeps the process tree
(vpid -> ppid, host pid), and learns of every exit. It outlives every app process, and
ends once every instance is gone, with the first process's status.

Nothing is left behind: the leader is a child subreaper, so every instance and app
process whose parent dies becomes its child and is reaped here; instances die with the
leader (PR_SET_PDEATHSIG) and app processes with their instance (PTRACE_O_EXITKILL).
Signals that stop `pyrene run` from outside (SIGINT, SIGTERM, ...) go to the first
instance, which forwards them to its app process.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from .client import LeaderClient, socket_pair
from .messages import MAX_MESSAGE, Exited, NewProcess, NewThread, PidGiven, Started, decode, encode

log = logging.getLogger("pyrene.ipc")

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


@dataclass(slots=True)
class ProcessEntry:
    """One app process of the sandbox, as the leader knows it."""

    vpid: int
    ppid: int
    host_pid: int = 0
    instance_pid: int = 0
    status: int | None = None  # wait status once exited


@dataclass(eq=False)
class Leader:
    prctl: Callable[[int, int], object]
    processes: dict[int, ProcessEntry] = field(default_factory=dict)
    next_vpid: int = 1
    first_code: int | None = None
    threads: dict[int, int] = field(default_factory=dict)  # vtid -> vpid of the other threads

    def allocate(self, ppid: int) -> ProcessEntry:
        vpid = self._free_number()
        entry = ProcessEntry(vpid, ppid)
        self.processes[vpid] = entry
        return entry

    def allocate_tid(self, vpid: int) -> int:
        """A virtual tid for a new thread of process `vpid`, from the pids' number space."""
        vtid = self._free_number()
        self.threads[vtid] = vpid
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
            except Exception:  # os._exit below would lose it
                log.exception("pyrene: internal error in the instance")
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
        forward_to = [first_pid]

        def forward(sig: int, _frame: object) -> None:
            if forward_to[0] > 0:
                try:
                    os.kill(forward_to[0], sig)
                except ProcessLookupError:
                    pass

        old_handlers = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
        old_chld = signal.signal(signal.SIGCHLD, lambda _s, _f: None)
        sel = selectors.DefaultSelector()
        sel.register(wake_r, selectors.EVENT_READ)
        sel.register(first_sock, selectors.EVENT_READ)
        first_status: int | None = None
        try:
            while len(sel.get_map()) > 1:  # the wakeup pipe and at least one instance
                for key, _ in sel.select():
                    if key.fileobj == wake_r:
                        _drain(wake_r)
                        for pid, status in _reap():
                            if pid == first_pid:
                                first_status = status
                                forward_to[0] = 0
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
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            signal.signal(signal.SIGCHLD, old_chld)
            os.close(wake_r)
            os.close(wake_w)
        if self.first_code is not None:
            return self.first_code
        if first_status is None:
            return 1
        return os.WEXITSTATUS(first_status) if os.WIFEXITED(first_status) else 128 + os.WTERMSIG(first_status)

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
        elif isinstance(msg, NewThread):
            sock.send(encode(PidGiven(self.allocate_tid(msg.vpid))))
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
                    child.ppid = 1
        return True

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
