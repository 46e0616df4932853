"""The messages instances and the leader exchange: typed dataclasses, one per kind.

A message travels as one SOCK_SEQPACKET datagram: pickle of the dataclass. Only the
classes of `MESSAGES` are accepted when decoding (`_Unpickler.find_class`), so a peer
cannot make the leader build arbitrary objects. The instances are Pyrene's own
processes, forked from the leader; the restriction is defence in depth, not a trust
boundary (an app never reaches these sockets: it holds no host fds).
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass

MAX_MESSAGE = 64 * 1024


@dataclass(frozen=True, slots=True)
class NewProcess:
    """Instance -> leader: the app process `parent` forked `host_pid`; the new instance's
    socket comes with it (SCM_RIGHTS). Answered by `PidGiven`."""

    parent: int
    host_pid: int


@dataclass(frozen=True, slots=True)
class PidGiven:
    """Leader -> instance: the virtual pid of the new process."""

    vpid: int


@dataclass(frozen=True, slots=True)
class Started:
    """Instance -> leader: the app process `vpid` runs as `host_pid` in instance `instance_pid`."""

    vpid: int
    host_pid: int
    instance_pid: int


@dataclass(frozen=True, slots=True)
class Exited:
    """Instance -> leader: process `vpid` is gone; `status` is its wait status, `code`
    the shell-style status (128+N for signal N)."""

    vpid: int
    status: int
    code: int


# -- signals, process groups and sessions (syscalls/signal.py, syscalls/process.py) --------


@dataclass(frozen=True, slots=True)
class SignalQuery:
    """Instance -> leader: which processes does kill(`target`) from `sender` reach? `target`
    as kill(2) takes it: > 0 a pid, 0 the sender's group, -1 everyone it may signal,
    < -1 the group -target. Answered by `Targets`."""

    sender: int
    target: int


@dataclass(frozen=True, slots=True)
class Targets:
    """Leader -> instance: (vpid, host pid, instance pid) of each process reached, or an
    errno (ESRCH) in `error`."""

    error: int
    targets: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class GroupQuery:
    """Instance -> leader: the ids of `pid` (0: the caller) for getpgid/getsid; with `host_pgid`
    set instead, the virtual group whose host pgid that is (TIOCGPGRP). Answered by `Ids`."""

    caller: int
    pid: int = 0
    host_pgid: int = 0


@dataclass(frozen=True, slots=True)
class SetGroup:
    """Instance -> leader: setpgid(pid, pgid) (`session` False) or setsid() (`session` True)
    by `caller`. With `commit` False the leader only checks Linux's rules and answers the
    host ids to use; the instance runs the call on the host, then sends it again with
    `commit` True (no answer) so that the virtual tree follows what the host did."""

    caller: int
    pid: int
    pgid: int
    session: bool = False
    commit: bool = False


@dataclass(frozen=True, slots=True)
class Ids:
    """Leader -> instance: a process's virtual pgid and sid, its host pid and the host pgid
    of that group; or an errno in `error`."""

    error: int
    pgid: int = 0
    sid: int = 0
    host_pid: int = 0
    host_pgid: int = 0


@dataclass(frozen=True, slots=True)
class DeathSignal:
    """Instance -> leader: process `vpid` set PR_SET_PDEATHSIG to `sig` (0 clears it); the
    leader sends it when the process's parent exits. Answered by `Ids` (no error)."""

    vpid: int
    sig: int


MESSAGES = {cls.__name__: cls for cls in (NewProcess, PidGiven, Started, Exited, SignalQuery, Targets, GroupQuery,
                                          SetGroup, Ids, DeathSignal)}
Message = NewProcess | PidGiven | Started | Exited | SignalQuery | Targets | GroupQuery | SetGroup | Ids | DeathSignal


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        cls = MESSAGES.get(name)
        if cls is None or module != __name__:
            raise pickle.UnpicklingError(f"not a Pyrene message: {module}.{name}")
        return cls


def encode(msg: Message) -> bytes:
    return pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Message:
    return _Unpickler(io.BytesIO(data)).load()  # type: ignore[no-any-return]
