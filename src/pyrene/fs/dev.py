"""Synthesized /dev: the devices a program may use, and nothing of the host's.

The host's /dev is never visible: a read-only mount of host `/` must not become a way to
read /dev/sda. /dev/tty is the only pass-through, and only to Pyrene's own terminal
(ENXIO when Pyrene has none, as for a process without a controlling terminal).

/dev/shm is an empty directory here; the default manifest mounts a tmpfs over it (a
private host directory like /tmp's), so POSIX shared memory (shm_open) works and is
shared by all the sandbox's processes.

/dev/pts shows the pseudo-terminal Pyrene itself runs on (its stdio), with the host's
stat of the node, so that ttyname() and `tty` work as on Linux. /dev/ptmx is there only
when the manifest grants `pyrene.dev.pts = true` (a new pseudo-terminal is a host pts):
it then opens a host pty master, and /dev/pts also lists the ptys the sandbox itself
opened (fs/pty.py); no other host pts is ever visible.
"""

from __future__ import annotations

import errno

from ..abi.structs import Stat
from ..errors import Errno
from ..pal import linux as pal
from . import synth
from .file import OpenFile
from .host import HostFile
from .pty import SandboxPtys


class CharDevice(OpenFile):
    """null, zero, full, random, urandom: behaviour by name, like drivers/char/mem.c."""

    def __init__(self, kind: str, flags: int, path: str, st: Stat) -> None:
        super().__init__(flags, path)
        self.kind = kind
        self._stat = st

    def stat(self) -> Stat:
        return self._stat

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        if self.kind == "null":
            return b""
        if self.kind in ("random", "urandom"):
            return pal.urandom(min(size, 1 << 20))
        return bytes(min(size, 1 << 20))

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise Errno(errno.EBADF)
        if self.kind == "full":
            raise Errno(errno.ENOSPC)
        return len(data)

    def pread(self, size: int, offset: int) -> bytes:
        return self.read(size)

    def pwrite(self, data: bytes, offset: int) -> int:
        return self.write(data)

    def seek(self, offset: int, whence: int) -> int:
        return 0


def own_ptys() -> dict[str, synth.Node]:
    """/dev/pts/N for the terminal Pyrene runs on, opening that terminal only."""
    def node(name: str) -> synth.Node:
        def open_pty(flags: int, path: str) -> OpenFile:
            return HostFile(pal.open_own_pty(name, flags), flags, path)
        st = pal.stat_own_pty(name)
        return synth.HostNode(st.mode, ino=st.ino, rdev=st.rdev, opener=open_pty,
                              host_stat=lambda: pal.stat_own_pty(name))
    return {name: node(name) for name in pal.own_ptys()}


DEV_DEV = 0x06  # st_dev of /dev's own nodes (like devtmpfs's 0:6), distinct from /proc's
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9)}


def pts_dir(ptys: SandboxPtys | None) -> synth.Dir:
    """/dev/pts: Pyrene's own terminal, and with the grant the sandbox's new ptys and ptmx."""
    own = own_ptys()
    if ptys is None:
        return synth.static_dir(own, mode=0o755)
    extra: dict[str, synth.Node] = {}
    try:  # the host's devpts ptmx node (mode 0 on most hosts), if it has one
        st = pal.stat_own_pty("ptmx")
        extra["ptmx"] = synth.HostNode(st.mode, ino=st.ino, rdev=st.rdev, opener=ptys.open_master,
                                       host_stat=lambda: pal.stat_own_pty("ptmx"))
    except Errno:
        pass
    return synth.directory(lambda: {**own, **ptys.nodes, **extra}, mode=0o755)


def make_devfs(start_ns: int, pts: bool = False) -> synth.SynthFS:
    """/dev; `pts` grants new pseudo-terminals (/dev/ptmx, pyrene.dev.pts)."""
    fs: synth.SynthFS
    ptys = SandboxPtys() if pts else None

    def opener(kind: str):  # type: ignore[no-untyped-def]
        def open_device(flags: int, path: str) -> OpenFile:
            return CharDevice(kind, flags, path, fs.lstat(kind))
        return open_device

    def open_tty(flags: int, path: str) -> OpenFile:
        fd = pal.open_controlling_tty(flags)
        if fd is None:
            raise Errno(errno.ENXIO)
        return HostFile(fd, flags, path)

    entries: dict[str, synth.Node] = {
        name: synth.char_device(major, minor, opener(name)) for name, (major, minor) in DEVICES.items()
    }
    entries["tty"] = synth.char_device(5, 0, open_tty)
    entries["fd"] = synth.fixed_link("/proc/self/fd")
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        entries[name] = synth.fixed_link(f"/proc/self/fd/{i}")
    entries["shm"] = synth.static_dir({}, mode=0o1777)
    entries["pts"] = pts_dir(ptys)
    if ptys is not None:
        entries["ptmx"] = synth.char_device(5, 2, ptys.open_master)
    fs = synth.SynthFS(synth.static_dir(entries, mode=0o755), start_ns, DEV_DEV)
    return fs
