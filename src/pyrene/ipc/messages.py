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


@dataclass(frozen=True, slots=True)
class NewThread:
    """Instance -> leader: process `vpid` created a thread; answered by `PidGiven` with its
    virtual tid (tids and pids share one number space, as in Linux)."""

    vpid: int


MESSAGES = {cls.__name__: cls for cls in (NewProcess, PidGiven, Started, Exited, NewThread)}
Message = NewProcess | PidGiven | Started | Exited | NewThread


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
