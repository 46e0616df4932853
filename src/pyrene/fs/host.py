"""The host-directory mount type (Gramine's "chroot"): a host directory seen as a tree.

Every lookup is relative to an O_PATH fd on the mount's host root and confined by
openat2 (see pal/linux.py), so neither a symlink nor '..' on the host side leads out.
"""

from __future__ import annotations

import errno
import os

from ..abi.flags import O_ACCMODE, OpenFlags
from ..abi.structs import ST_RDONLY, WINSIZE, Stat, StatFs
from ..errors import Errno, WouldBlock
from ..pal import linux as pal
from .file import DirEntry, FileSystem, OpenFile
from .pipe import FifoEnd

# Terminal ioctls passed through to a host tty, with the size of their argument
# (0 = plain int argument). Anything not listed is ENOTTY: in particular TIOCSTI
# (type into the user's shell), TIOCLINUX and TIOCCONS never reach the host.
TTY_IOCTLS: dict[int, int] = {
    0x5401: 36,  # TCGETS (struct termios)
    0x5402: 36,  # TCSETS
    0x5403: 36,  # TCSETSW
    0x5404: 36,  # TCSETSF
    0x5409: 0,  # TCSBRK
    0x540A: 0,  # TCXONC
    0x540B: 0,  # TCFLSH
    0x5413: WINSIZE.size,  # TIOCGWINSZ
    0x5414: WINSIZE.size,  # TIOCSWINSZ
    0x541B: 4,  # FIONREAD
}
TTY_WRITES_BACK = {0x5401, 0x5413, 0x541B}


_NONBLOCK = int(OpenFlags.O_NONBLOCK)
POLLIN = 0x1


class HostFile(OpenFile):
    """An open file description backed by a host fd held by the instance."""

    def __init__(self, fd: int, flags: int, path: str) -> None:
        super().__init__(flags, path)
        self.fd = fd
        self._is_dir: bool | None = None  # learnt at the first lseek, then kept
        self._may_wait: bool | None = None  # a pipe, tty or socket: learnt at the first read

    def release(self) -> None:
        pal.close(self.fd)

    def stat(self) -> Stat:
        return pal.fstat(self.fd)

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        if self._may_wait is None:
            self._may_wait = self.stat().mode & 0o170000 in (0o010000, 0o020000, 0o140000)
        if self._may_wait and not pal.poll({self.fd: POLLIN}):
            # the host fd may be shared with Pyrene's own stdio, so it cannot be made
            # non-blocking: ask first, and park the task instead of blocking the instance
            if self.flags & _NONBLOCK:
                raise Errno(errno.EAGAIN)
            raise WouldBlock(((self.fd, POLLIN),))
        return pal.read(self.fd, size)

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise Errno(errno.EBADF)
        return pal.write(self.fd, data)

    def pread(self, size: int, offset: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        return pal.pread(self.fd, size, offset)

    def pwrite(self, data: bytes, offset: int) -> int:
        if not self.writable:
            raise Errno(errno.EBADF)
        return pal.pwrite(self.fd, data, offset)

    def seek(self, offset: int, whence: int) -> int:
        if self._is_dir is None:
            self._is_dir = self.stat().mode & 0o170000 == 0o040000
        if self._is_dir:
            return self.seek_dir(offset, whence)
        return pal.lseek(self.fd, offset, whence)

    def listdir(self) -> list[DirEntry]:
        st = self.stat()
        if st.mode & 0o170000 != 0o040000:
            raise Errno(errno.ENOTDIR)
        try:
            parent_ino = os.stat("..", dir_fd=self.fd).st_ino
        except OSError:
            parent_ino = st.ino
        entries = [DirEntry(b".", st.ino, 4), DirEntry(b"..", parent_ino, 4)]
        entries += [DirEntry(name, ino, dtype) for name, ino, dtype in pal.listdir(self.fd)]
        return entries

    def ioctl(self, t: object, request: int, arg: int) -> int:
        size = TTY_IOCTLS.get(request)
        if size is None:
            raise Errno(errno.ENOTTY)
        mem = t.mem  # type: ignore[attr-defined]
        if size == 0:
            rc, _ = pal.ioctl(self.fd, request, arg)
            return rc
        data = bytes(size) if request in TTY_WRITES_BACK else mem.read(arg, size)
        rc, out = pal.ioctl(self.fd, request, data)
        if request in TTY_WRITES_BACK:
            mem.write(arg, out)
        return rc

    def host_fd(self) -> int | None:
        return self.fd

    def truncate(self, length: int) -> None:
        if not self.writable:
            raise Errno(errno.EINVAL)
        pal.ftruncate(self.fd, length)

    def sync(self) -> None:
        pal.fsync(self.fd)

    def fallocate(self, mode: int, offset: int, length: int) -> None:
        if not self.writable:
            raise Errno(errno.EBADF)
        pal.fallocate(self.fd, mode, offset, length)

    def sync_range(self, offset: int, length: int, flags: int) -> None:
        pal.sync_file_range(self.fd, offset, length, flags)

    def syncfs(self) -> None:
        pal.syncfs(self.fd)

    def reopen(self, flags: int) -> OpenFile:
        """The same host file again, with at most the access this description has: the
        file has no sandbox path that would let the VFS check a wider access."""
        if not flags & OpenFlags.O_PATH and (
                (flags & O_ACCMODE != os.O_WRONLY and not self.readable)
                or (flags & O_ACCMODE != os.O_RDONLY and not self.writable)):
            raise Errno(errno.EACCES)
        keep = flags & ~(OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_CLOEXEC | OpenFlags.O_NOFOLLOW)
        return HostFile(pal.reopen(self.fd, keep), flags & ~OpenFlags.O_CLOEXEC, self.path)

    def host_poll_fd(self) -> int | None:
        return self.fd


class FifoOpen:
    """A blocking FIFO open waiting for its peer (HostFS._open_fifo_waiting)."""

    __slots__ = ("job", "probe")

    def __init__(self, job: pal.Background, probe: int = -1) -> None:
        self.job = job  # the host's blocking open, in a thread of the instance
        self.probe = probe  # a reader's non-blocking fd, held while it waits


class HostFS(FileSystem):
    """A host directory (or single file) mounted into the sandbox."""

    def __init__(self, host_path: str, readonly: bool) -> None:
        self.host_path = host_path
        self.readonly = readonly
        self.root_fd = pal.open_root(host_path)
        self.fifo_opens: dict[tuple[str, int], FifoOpen] = {}  # blocking FIFO opens waiting for a peer

    def release(self) -> None:
        pal.close(self.root_fd)

    def lstat(self, rel: str) -> Stat:
        return pal.lstat_beneath(self.root_fd, rel)

    def walk_lstat(self, rel: str) -> Stat | None:
        return pal.walk_lstat_beneath(self.root_fd, rel)

    def readlink(self, rel: str) -> str:
        return pal.readlink_beneath(self.root_fd, rel)

    def open(self, rel: str, flags: int, mode: int, path: str) -> OpenFile:
        tmpfile = flags & OpenFlags.O_TMPFILE == OpenFlags.O_TMPFILE
        if self.readonly and (flags & O_ACCMODE != os.O_RDONLY or flags & OpenFlags.O_TRUNC or tmpfile) \
                and not self._special(rel):
            raise Errno(errno.EROFS)  # devices and FIFOs stay writable on a read-only mount
        host_flags = flags & ~(OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK | OpenFlags.O_ASYNC)
        if self.readonly and flags & OpenFlags.O_CREAT:
            try:
                self.lstat(rel)
            except Errno:
                raise Errno(errno.EROFS) from None
            host_flags &= ~(OpenFlags.O_CREAT | OpenFlags.O_EXCL)
        # Opened O_NONBLOCK on the host, whatever the app asked: a FIFO must not make the
        # instance wait for its peer (a writer without a reader gets ENXIO at once)
        if flags & OpenFlags.O_PATH:
            return HostFile(pal.open_beneath(self.root_fd, rel, host_flags, mode), flags & ~OpenFlags.O_CLOEXEC, path)
        try:
            fd = pal.open_beneath(self.root_fd, rel, host_flags | _NONBLOCK, mode)
        except Errno as e:
            if e.errno == errno.ENXIO and flags & O_ACCMODE == os.O_WRONLY and not flags & _NONBLOCK:
                return self._open_fifo_waiting(rel, host_flags, path, flags)
            raise
        kind = pal.fstat(fd).mode & 0o170000
        if kind == 0o010000:  # a FIFO
            if flags & O_ACCMODE == os.O_RDONLY and not flags & _NONBLOCK:
                return self._open_fifo_waiting(rel, host_flags, path, flags, probe=fd)
            return FifoEnd(fd, flags & ~OpenFlags.O_CLOEXEC, path)
        if kind not in (0o100000, 0o040000) and not flags & _NONBLOCK:
            pal.set_blocking(fd)  # a device: blocking as the app asked
        if tmpfile:  # /proc/self/fd shows an unnamed file as Linux names it
            path = f"{path.rstrip('/')}/#{pal.fstat(fd).ino}"  # /proc adds " (deleted)"
        return HostFile(fd, flags & ~OpenFlags.O_CLOEXEC, path)

    def _open_fifo_waiting(self, rel: str, host_flags: int, path: str, flags: int, probe: int = -1) -> OpenFile:
        """A blocking open of a FIFO that must wait for its peer: a writer for a reader
        (which already holds a non-blocking `probe` fd, so that it counts as a reader, as a
        blocked reader does on Linux) or a reader for a writer (whose non-blocking open got
        ENXIO). The host's blocking open runs in a thread (pal.background) and the task
        parks until it is done, or, for a reader, until its probe shows data or a writer
        that came and went. The same call coming back (after the wait, or restarted after
        a signal handler) finds its wait in `fifo_opens`; EINTR abandons it."""
        key = (rel, flags & O_ACCMODE)
        wait = self.fifo_opens.get(key)
        if wait is None or wait.job.owner != os.getpid():
            root_fd = self.root_fd
            wait = FifoOpen(pal.background(lambda: pal.open_beneath(root_fd, rel, host_flags, 0)), probe)
            self.fifo_opens[key] = wait
        elif probe >= 0:
            pal.close(probe)  # this run's own probe: the first one is kept
        flags &= ~OpenFlags.O_CLOEXEC
        if wait.probe >= 0:  # a reader: the probe is its fd; the thread only says "a writer came"
            if wait.job.done or pal.poll({wait.probe: POLLIN}):
                del self.fifo_opens[key]
                wait.job.abandon()
                return FifoEnd(wait.probe, flags, path)
            fds: tuple[tuple[int, int], ...] = ((wait.job.ready_fd, POLLIN), (wait.probe, POLLIN))
        else:
            if wait.job.done:
                del self.fifo_opens[key]
                return FifoEnd(wait.job.result(), flags, path)
            fds = ((wait.job.ready_fd, POLLIN),)

        def give_up() -> None:
            self.fifo_opens.pop(key, None)
            wait.job.abandon()
            if wait.probe >= 0:
                pal.close(wait.probe)
        raise WouldBlock(fds, on_eintr=give_up)

    def unlink(self, rel: str) -> None:
        self._writable()
        pal.unlink_beneath(self.root_fd, rel, directory=False)

    def rmdir(self, rel: str) -> None:
        self._writable()
        pal.unlink_beneath(self.root_fd, rel, directory=True)

    def mkdir(self, rel: str, mode: int) -> None:
        self._writable()
        pal.mkdir_beneath(self.root_fd, rel, mode)

    def _special(self, rel: str) -> bool:
        """Whether `rel` is a device, FIFO or socket (not subject to a read-only mount)."""
        try:
            mode = self.lstat(rel).mode & 0o170000
        except Errno:
            return False
        return mode in (0o020000, 0o060000, 0o010000, 0o140000)

    def _writable(self) -> None:
        if self.readonly:
            raise Errno(errno.EROFS)

    def rename(self, old_rel: str, new_rel: str, flags: int) -> None:
        self._writable()
        pal.rename_beneath(self.root_fd, old_rel, new_rel, flags)

    def link(self, old_rel: str, new_rel: str) -> None:
        self._writable()
        pal.link_beneath(self.root_fd, old_rel, new_rel)

    def symlink(self, target: str, rel: str) -> None:
        self._writable()
        pal.symlink_beneath(self.root_fd, target, rel)

    def mknod(self, rel: str, mode: int, dev: int) -> None:
        self._writable()
        pal.mknod_beneath(self.root_fd, rel, mode, dev)

    def chmod(self, rel: str, mode: int) -> None:
        self._writable()
        pal.chmod_beneath(self.root_fd, rel, mode)

    def xattr(self, rel: str, op: str, *args: object) -> object:
        if op in ("set", "remove"):
            self._writable()
        return pal.xattr_beneath(self.root_fd, rel, op, *args)

    def chown(self, rel: str, uid: int, gid: int) -> None:
        self._writable()
        pal.chown_beneath(self.root_fd, rel, uid, gid)

    def utimens(self, rel: str, times: tuple[tuple[int, int], tuple[int, int]] | None) -> None:
        self._writable()
        pal.utimens_beneath(self.root_fd, rel, times)

    def truncate(self, rel: str, length: int) -> None:
        self._writable()
        pal.truncate_beneath(self.root_fd, rel, length)

    def link_host_fd(self, host_fd: int, rel: str) -> None:
        self._writable()
        pal.link_fd_beneath(host_fd, self.root_fd, rel)

    def statfs(self, rel: str) -> StatFs:
        st = StatFs.unpack(pal.statfs_beneath(self.root_fd, rel))
        return st._replace(flags=st.flags | ST_RDONLY) if self.readonly else st
