"""Process file descriptors (pidfd_open(2)): a description naming one process of the
sandbox, over the instance's host pidfd of that process's host pid.

The host pidfd gives what a pidfd is waited on for, for free: it becomes readable when the
process exits, so poll, select and epoll (kernel/waits.py parks on it like on a pipe) say
what they say natively, and reading it is the host's EINVAL. What a pidfd names is the
virtual pid (`vpid`): pidfd_send_signal and waitid(P_PIDFD) turn it into the sandbox's own
kill and wait (syscalls/process.py, syscalls/signal.py). Vpids are never reused, so the
name stays the process's.
"""

from __future__ import annotations

from .eventfd import HostWaitable


class PidFd(HostWaitable):
    """pidfd_open's description."""

    def __init__(self, host_pidfd: int, vpid: int, flags: int) -> None:
        super().__init__(host_pidfd, flags, "anon_inode:[pidfd]")
        self.vpid = vpid
