"""New pseudo-terminals for a sandbox granted `pyrene.dev.pts = true`.

/dev/ptmx opens a host pty master (held by the instance like every host fd). Its slave
is a host pts too, so the sandbox sees in /dev/pts only the ones it created itself, by
the number the host gave them, while their master is open (the host removes the node
when the master closes and may give the number to someone else). Opening such a
/dev/pts/N asks the master for its peer (TIOCGPTPEER), so no host path is walked and
no other host pts can be reached. The ioctls are the terminal ones of host.py plus what
a master needs (number, lock, packet mode, peer); the ones that act on Pyrene's own
session or type into a terminal (TIOCSCTTY, TIOCSTI, TIOCLINUX, TIOCCONS) stay ENOTTY.
"""

from __future__ import annotations

import errno
import os

from ..abi.flags import OpenFlags
from ..errors import Errno, WouldBlock
from ..pal import linux as pal
from . import synth
from .file import OpenFile
from .host import HostFile

TIOCGPTPEER = 0x5441
# request: (argument size, whether the kernel writes it back)
MASTER_IOCTLS: dict[int, tuple[int, bool]] = {
    0x80045430: (4, True),  # TIOCGPTN
    0x40045431: (4, False),  # TIOCSPTLCK
    0x80045439: (4, True),  # TIOCGPTLCK
    0x5420: (4, False),  # TIOCPKT
    0x80045438: (4, True),  # TIOCGPKT
}
POLLIN, POLLOUT = 0x1, 0x4


class PtyEnd(HostFile):
    """Either end of a sandbox's pty. The host fd is non-blocking (nobody else holds it),
    so a write with no room left parks the task instead of stopping the instance, which
    may be the one that would read the other end; reads park as HostFile's do."""

    def read(self, size: int) -> bytes:
        try:
            return super().read(size)
        except Errno as e:  # ready by poll, yet nothing (a canonical-mode line not complete)
            if e.errno != errno.EAGAIN or self.flags & OpenFlags.O_NONBLOCK:
                raise
            raise WouldBlock(((self.fd, POLLIN),)) from None

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise Errno(errno.EBADF)
        done = 0
        while done < len(data):
            try:
                done += pal.write(self.fd, data[done:] if done else data)
            except Errno as e:
                if done:
                    return done  # a short write (as the pipes here): the next one waits
                if e.errno != errno.EAGAIN or self.flags & OpenFlags.O_NONBLOCK:
                    raise
                raise WouldBlock(((self.fd, POLLOUT),)) from None
            if self.flags & OpenFlags.O_NONBLOCK:
                break
        return done


class SandboxPtys:
    """The ptys this sandbox opened, as /dev/pts nodes by host number."""

    def __init__(self) -> None:
        self.nodes: dict[str, synth.Node] = {}

    def open_master(self, flags: int, path: str) -> OpenFile:
        fd, number = pal.open_ptmx(flags)
        master = PtyMaster(fd, flags & ~OpenFlags.O_CLOEXEC, path, self, number)
        name = str(number)
        try:
            st = pal.stat_own_pty(name)
        except Errno:
            master.release()  # no node for it in the host's /dev/pts: nothing to show
            raise
        self.nodes[name] = synth.HostNode(st.mode, ino=st.ino, rdev=st.rdev, opener=master.open_peer,
                                          host_stat=lambda: pal.stat_own_pty(name))
        return master

    def closed(self, number: int) -> None:
        self.nodes.pop(str(number), None)


class PtyMaster(PtyEnd):
    """A host pty master opened through the sandbox's /dev/ptmx."""

    def __init__(self, fd: int, flags: int, path: str, ptys: SandboxPtys, number: int) -> None:
        super().__init__(fd, flags, path)
        self.ptys = ptys
        self.number = number

    def release(self) -> None:
        self.ptys.closed(self.number)
        super().release()

    def open_peer(self, flags: int, path: str) -> OpenFile:
        """The slave, as opening /dev/pts/N gives it (EIO while locked, as on Linux)."""
        fd = pal.open_pty_peer(self.fd, flags)
        return PtyEnd(fd, flags & ~OpenFlags.O_CLOEXEC, path)

    def ioctl(self, t: object, request: int, arg: int) -> int:
        if request == TIOCGPTPEER:
            slave = self.open_peer(arg, f"/dev/pts/{self.number}")
            try:
                return t.files.install(slave, cloexec=bool(arg & os.O_CLOEXEC))  # type: ignore[attr-defined]
            finally:
                if slave.refs == 0:  # not installed (EMFILE): nobody else holds the host fd
                    slave.release()
        io = MASTER_IOCTLS.get(request)
        if io is None:
            return super().ioctl(t, request, arg)
        size, writes_back = io
        mem = t.mem  # type: ignore[attr-defined]
        rc, out = pal.ioctl(self.fd, request, bytes(size) if writes_back else mem.read(arg, size))
        if writes_back:
            mem.write(arg, out)
        return rc

    def reopen(self, flags: int) -> OpenFile:
        """Opening /proc/self/fd/N of a master opens ptmx again: a new pty, as on Linux."""
        if flags & OpenFlags.O_PATH:
            return super().reopen(flags)
        return self.ptys.open_master(flags, self.path)

