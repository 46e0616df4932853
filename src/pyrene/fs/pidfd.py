"""Process file descriptors (pidfd_open(2)): a description naming one process of the
sandbox, over the instance's host pidfd of that process's host pid.

The host pidfd gives what a pidfd is waited on for, for free: it becomes readable when the
process exits, so poll, select and epoll (kernel/waits.py parks on it like on a pipe) say
what they say natively. What a pidfd names is the virtual pid (`vpid`): pidfd_send_signal
and waitid(P_PIDFD) turn it into the sandbox's own kill and wait (syscalls/process.py,
syscalls/signal.py). Vpids are never reused, so the name stays the process's.
"""

from __future__ import annotations

from ..abi.structs import Stat
from ..pal import linux as pal
from .file import OpenFile


class PidFd(OpenFile):
    """pidfd_open's description: reads and writes are EINVAL, as on Linux."""

    def __init__(self, host_pidfd: int, vpid: int, host_pid: int, flags: int) -> None:
        super().__init__(flags, "anon_inode:[pidfd]")
        self.fd = host_pidfd
        self.vpid = vpid
        self.host_pid = host_pid

    def release(self) -> None:
        pal.close(self.fd)

    def stat(self) -> Stat:
        return pal.fstat(self.fd)

    def host_poll_fd(self) -> int | None:
        return self.fd
