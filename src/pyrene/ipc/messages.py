"""The messages instances and the leader exchange: typed named tuples, one per kind.

A message travels as one SOCK_SEQPACKET datagram (`encode`): b"m" and the marshal of
its class name and fields, a message inside a field (`Facts`) as a one-item dict
{name: fields}. Only `SharedCall` and `SharedReply`, whose values may be System V
objects (dataclasses of ipc/sysv.py), go as b"p" and a pickle (ipc/pickled.py). marshal
is built in, where `pickle` costs ~3 ms to import, and a `pyrene run` sends and decodes
messages before the app starts. (Named tuples, not dataclasses: a frozen dataclass
costs about 1 ms to create.) Only the classes of `MESSAGES` (and, pickled, the System V
values) are built when decoding, so a peer cannot make the leader build arbitrary
objects. The instances are Pyrene's own processes, forked from the leader; the
restriction is defence in depth, not a trust boundary (an app never reaches these
sockets: it holds no host fds).
"""

from __future__ import annotations

import marshal

from ..record import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any

MAX_MESSAGE = 64 * 1024


class NewProcess(NamedTuple):
    """Instance -> leader: the app process `parent` forked `host_pid`; the new instance's
    socket comes with it (SCM_RIGHTS). `nproc` is the parent's RLIMIT_NPROC (-1: not
    limited, it is privileged). Answered by `PidGiven`, or by `Refused` when a process
    limit is reached."""

    parent: int
    host_pid: int
    nproc: int = -1


class PidGiven(NamedTuple):
    """Leader -> instance: the virtual pid of the new process."""

    vpid: int


class Refused(NamedTuple):
    """Leader -> instance: the request fails with `errno` (`why` is for the log)."""

    errno: int
    why: str


class Started(NamedTuple):
    """Instance -> leader: the app process `vpid` runs as `host_pid` in instance `instance_pid`."""

    vpid: int
    host_pid: int
    instance_pid: int


class Exited(NamedTuple):
    """Instance -> leader: process `vpid` is gone; `status` is its wait status, `code`
    the shell-style status (128+N for signal N)."""

    vpid: int
    status: int
    code: int


class Facts(NamedTuple):
    """What only a process's own instance knows and /proc of other processes shows:
    its command line, environment (as execve gave it), name, program and identity (ids
    as Creds orders them)."""

    argv: tuple[str, ...]
    env: tuple[str, ...]
    comm: str
    exe: str
    uids: tuple[int, int, int, int]  # real, effective, saved, fs
    gids: tuple[int, int, int, int]
    groups: tuple[int, ...]
    caps: tuple[int, int, int, int, int]  # effective, permitted, inheritable, bounding, ambient
    no_new_privs: bool
    dumpable: int


class Describe(NamedTuple):
    """Instance -> leader: process `vpid` is now described by `facts` (sent at start,
    execve, a change of name or identity; a forked child starts with its parent's).
    Answered by `Noted`, so that what the process does next (a pipe closed at execve, a
    name set) cannot be seen by another process before /proc shows it."""

    vpid: int
    facts: Facts


class Noted(NamedTuple):
    """Leader -> instance: the message was taken into account."""


class Reaped(NamedTuple):
    """Instance -> leader: the parent waited for `vpid`; it is gone from /proc."""

    vpid: int


class ListProcesses(NamedTuple):
    """Instance -> leader: which processes exist (zombies included). Answered by `ProcessList`."""


class ProcessList(NamedTuple):
    vpids: tuple[int, ...]


class DescribeProcess(NamedTuple):
    """Instance -> leader: what the sandbox knows of process `vpid`, or, when
    `instance_pid` is given, of the process that instance serves (the sender of a Unix
    socket message: net/scm.py). Answered by `ProcessDescription` (`facts` None: no such
    process)."""

    vpid: int
    instance_pid: int = 0


class ProcessDescription(NamedTuple):
    vpid: int
    ppid: int = 0
    host_pid: int = 0
    pgid: int = 1
    sid: int = 1
    exited: bool = False
    facts: Facts | None = None


class NewThread(NamedTuple):
    """Instance -> leader: process `vpid` created a thread, host thread `host_tid`;
    answered by `PidGiven` with its virtual tid (tids and pids share one number space,
    as in Linux). The leader keeps the host tid for tgkill from other processes."""

    vpid: int
    host_tid: int


class ThreadExited(NamedTuple):
    """Instance -> leader: thread `vtid` of the instance's process is gone, its number free
    again (no answer; a process's exit frees its threads' numbers too)."""

    vtid: int


# -- signals, process groups and sessions (syscalls/signal.py, syscalls/process.py) --------


class SignalQuery(NamedTuple):
    """Instance -> leader: which processes does kill(`target`, `sig`) from `sender` reach?
    `target` as kill(2) takes it: > 0 a pid, 0 the sender's group, -1 everyone it may
    signal, < -1 the group -target. With `tid` (tgkill, tkill): thread `tid` of process
    `target` (0: of whichever process it is in). Answered by `Targets`."""

    sender: int
    target: int
    sig: int = 0
    tid: int = 0


class Targets(NamedTuple):
    """Leader -> instance: (vpid, host pid, instance pid) of each process reached, or an
    errno (ESRCH, EPERM) in `error`; for a thread, its host tid too."""

    error: int
    targets: tuple[tuple[int, int, int], ...] = ()
    host_tid: int = 0


class GroupQuery(NamedTuple):
    """Instance -> leader: the ids of `pid` (0: the caller) for getpgid/getsid; with `host_pgid`
    set instead, the virtual group whose host pgid that is (TIOCGPGRP). Answered by `Ids`."""

    caller: int
    pid: int = 0
    host_pgid: int = 0


class SetGroup(NamedTuple):
    """Instance -> leader: setpgid(pid, pgid) (`session` False) or setsid() (`session` True)
    by `caller`. With `commit` False the leader only checks Linux's rules and answers the
    host ids to use; the instance runs the call on the host, then sends it again with
    `commit` True (no answer) so that the virtual tree follows what the host did."""

    caller: int
    pid: int
    pgid: int
    session: bool = False
    commit: bool = False


class Ids(NamedTuple):
    """Leader -> instance: a process's virtual pgid and sid, its host pid and the host pgid
    of that group; or an errno in `error`."""

    error: int
    pgid: int = 0
    sid: int = 0
    host_pid: int = 0
    host_pgid: int = 0


class DeathSignal(NamedTuple):
    """Instance -> leader: process `vpid` set PR_SET_PDEATHSIG to `sig` (0 clears it); the
    leader sends it when the process's parent exits. Answered by `Ids` (no error)."""

    vpid: int
    sig: int


MESSAGES = {cls.__name__: cls for cls in (
    NewProcess, PidGiven, Refused, Started, Exited, Facts, Describe, Noted, Reaped, ListProcesses, ProcessList,
    DescribeProcess, ProcessDescription, NewThread, ThreadExited, SignalQuery, Targets, GroupQuery, SetGroup, Ids,
    DeathSignal)}
Message = (NewProcess | PidGiven | Refused | Started | Exited | Describe | Noted | Reaped | ListProcesses
           | ProcessList | DescribeProcess | ProcessDescription | NewThread | ThreadExited | SignalQuery | Targets
           | GroupQuery | SetGroup | Ids | DeathSignal)


def encode(msg: Message) -> bytes:
    if type(msg) in _PICKLED:
        from . import pickled  # here: only locks and System V IPC send these

        return b"p" + pickled.dumps(msg)
    return b"m" + marshal.dumps(_plain(msg))


def _plain(value: Any) -> Any:
    """`value` as marshal takes it: a message as {name: fields}, an IntEnum as its int."""
    kind = type(value)
    if kind in _CLASSES:
        return {kind.__name__: tuple(map(_plain, value))}
    if kind is tuple or kind is list:
        return kind(map(_plain, value))
    if kind is not bool and isinstance(value, int):
        return int(value)
    return value


def decode(data: bytes) -> Message:
    """The message `encode` made; ValueError for anything else."""
    kind, body = data[:1], memoryview(data)[1:]
    if kind == b"p":
        from . import pickled

        return pickled.loads(body)  # type: ignore[return-value]
    try:
        msg = _rebuild(marshal.loads(body)) if kind == b"m" else None
    except (EOFError, TypeError) as exc:
        raise ValueError(f"not a Pyrene message: {exc}") from None
    if type(msg) not in _CLASSES:
        raise ValueError(f"not a Pyrene message: {bytes(data[:32])!r}")
    return msg  # type: ignore[return-value]


def _rebuild(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        ((name, fields),) = value.items()
        cls: Any = MESSAGES.get(name)
        if cls is None or type(fields) is not tuple:
            raise ValueError(f"not a Pyrene message: {name!r}")
        return cls(*map(_rebuild, fields))
    if kind is tuple or kind is list:
        return kind(map(_rebuild, value))
    return value


# -- state shared across processes (ipc/shared.py) -------------------------------------------


class SharedCall(NamedTuple):
    """Instance -> leader: run the shared-state operation `op` (ipc/shared.py, `op_<op>`)
    for task `tid` of the instance's process; `wait`: if it must wait, record the task as
    waiting (it parks, and is woken when the object changes). Answered by SharedReply."""

    op: str
    args: tuple[object, ...]
    tid: int = 0
    wait: bool = False


class SharedReply(NamedTuple):
    """Leader -> instance: the value, or the errno, or "blocked" (the call must wait);
    host fds (a shm segment's memfd) come with it by SCM_RIGHTS."""

    value: object = None
    errno: int = 0
    blocked: bool = False


MESSAGES.update({cls.__name__: cls for cls in (SharedCall, SharedReply)})
_CLASSES = frozenset(MESSAGES.values())
_PICKLED = frozenset((SharedCall, SharedReply))

# the value types a SharedCall or SharedReply may carry besides builtins (ipc/sysv.py's,
# imported only when one arrives)
SYSV_VALUES = frozenset(("Caller", "Limits", "IpcPerm", "Message", "MsgQueue", "Semaphore", "SemSet",
                         "ShmSegment", "Usage"))
SYSV_MODULE = "pyrene.ipc.sysv"
