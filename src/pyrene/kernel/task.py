"""Tasks (threads) and processes (thread groups) of one instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..abi.flags import Rlimit
from ..platform.tracee import Tracee
from .creds import Creds
from .fdtable import FdTable

if TYPE_CHECKING:
    from .instance import Instance

RLIM_INF = (1 << 64) - 1


def default_rlimits(nofile: int) -> dict[int, tuple[int, int]]:
    limits = {int(r): (RLIM_INF, RLIM_INF) for r in Rlimit}
    limits[Rlimit.RLIMIT_STACK] = (8 << 20, RLIM_INF)
    limits[Rlimit.RLIMIT_CORE] = (0, RLIM_INF)
    limits[Rlimit.RLIMIT_NOFILE] = (nofile, nofile)
    limits[Rlimit.RLIMIT_NPROC] = (4096, 4096)
    limits[Rlimit.RLIMIT_SIGPENDING] = (4096, 4096)
    limits[Rlimit.RLIMIT_MSGQUEUE] = (819200, 819200)
    limits[Rlimit.RLIMIT_MEMLOCK] = (8 << 20, 8 << 20)
    limits[Rlimit.RLIMIT_NICE] = (0, 0)  # lowering a nice value needs CAP_SYS_NICE
    limits[Rlimit.RLIMIT_RTPRIO] = (0, 0)
    return limits


@dataclass(eq=False)
class Process:
    """A thread group: what its threads share (fds, cwd, identity, limits)."""

    vpid: int
    ppid: int
    host_pid: int
    files: FdTable
    cwd: str
    creds: Creds
    argv: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    exe: str = ""
    comm: str = ""
    umask: int = 0o022
    rlimits: dict[int, tuple[int, int]] = field(default_factory=lambda: default_rlimits(1024))
    exit_status: int | None = None
    instance: "Instance | None" = None
    nice: int = 0  # virtual; the host process's is only ever raised to it
    sched_policy: int = 0  # SCHED_OTHER, BATCH or IDLE, all run as the host's SCHED_OTHER
    pdeathsig: int = 0  # PR_SET_PDEATHSIG; the leader sends it (ipc/leader.py)
    child_subreaper: bool = False
    dumpable: int = 1


class Task:
    """One app thread: its tracee (registers, memory) and its process."""

    __slots__ = ("tid", "vtid", "proc", "tracee", "mem", "instance", "files")

    def __init__(self, tracee: Tracee, vtid: int, proc: Process, instance: "Instance") -> None:
        self.tid = tracee.pid
        self.vtid = vtid
        self.proc = proc
        self.tracee = tracee
        self.mem = tracee  # typed memory access: read, write, read_cstr
        self.instance = instance
        self.files = proc.files
