"""Tasks (threads) and processes (thread groups) of one instance."""

from __future__ import annotations

from ..abi.flags import Rlimit
from ..ipc.messages import Facts
from ..platform.tracee import Tracee
from .creds import Creds
from .fdtable import FdTable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from .instance import Instance

RLIM_INF = (1 << 64) - 1
FACTS_STRINGS_MAX = 24 * 1024  # of argv, and of env: both fit in one message (ipc/messages.py)


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


class Process:
    """A thread group: what its threads share (fds, cwd, identity, limits)."""

    def __init__(self, vpid: int, ppid: int, host_pid: int, files: FdTable, cwd: str, creds: Creds,
                 env: list[str], instance: Instance) -> None:
        self.vpid = vpid
        self.ppid = ppid
        self.host_pid = host_pid
        self.files = files
        self.cwd = cwd
        self.creds = creds
        self.env = env
        self.instance = instance
        self.argv: list[str] = []
        self.exe = ""
        self.comm = ""
        self.umask = 0o022
        self.rlimits = default_rlimits(1024)
        self.exit_status: int | None = None
        self.nice = 0  # virtual; the host process's is only ever raised to it
        self.sched_policy = 0  # SCHED_OTHER, BATCH or IDLE, all run as the host's SCHED_OTHER
        self.pdeathsig = 0  # PR_SET_PDEATHSIG; the leader sends it (ipc/leader.py)
        self.child_subreaper = False
        self.dumpable = 1

    def facts(self) -> Facts:
        """What the leader keeps of this process for /proc of the others; argv and env
        cut to FACTS_STRINGS_MAX bytes each, so that the message fits (Linux shows all)."""
        c = self.creds
        caps = (c.caps.effective, c.caps.permitted, c.caps.inheritable, c.caps.bounding, c.caps.ambient)
        return Facts(first_strings(self.argv), first_strings(self.env), self.comm, self.exe,
                     (c.ruid, c.euid, c.suid, c.uid), (c.rgid, c.egid, c.sgid, c.gid), c.groups, caps,
                     c.no_new_privs, self.dumpable)


def first_strings(strings: list[str], limit: int = FACTS_STRINGS_MAX) -> tuple[str, ...]:
    """The leading strings that fit in `limit` bytes as a message carries them."""
    out, room = [], limit
    for s in strings:
        room -= len(s.encode("utf-8", "surrogatepass")) + 1
        if room < 0:
            break
        out.append(s)
    return tuple(out)


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
