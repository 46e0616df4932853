"""What every file system type implements: `FileSystem` (lookups by path inside one
mount, like Gramine's d_ops) and `OpenFile` (an open file description, fs_ops).

Defaults raise what Linux raises for a file that cannot do the operation: reading a
directory is EISDIR, seeking a pipe is ESPIPE, an ioctl on a regular file is ENOTTY.
"""

from __future__ import annotations

import abc
import errno
from os import SEEK_SET, getpid
from time import monotonic_ns

from ..abi.flags import O_ACCMODE, OpenFlags
from ..abi.structs import ST_RDONLY, Stat, StatFs
from ..errors import Errno
from ..record import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from ..kernel.task import Task


_ACCMODE, _WRONLY, _RDWR, _PATH = int(O_ACCMODE), int(OpenFlags.O_WRONLY), int(OpenFlags.O_RDWR), int(OpenFlags.O_PATH)


class DirEntry(NamedTuple):
    name: bytes
    ino: int
    dtype: int


class OpenFile(abc.ABC):
    """An open file description: shared by dup'd fds; holds offset and status flags."""

    def __init__(self, flags: int, path: str) -> None:
        # access mode and status flags (O_APPEND, O_NONBLOCK, ...), as a plain int: an
        # IntFlag would make every `&` on the read/write path an enum operation
        self.flags = int(flags)
        self.path = path  # sandbox path, for /proc/self/fd and traces
        self.refs = 0
        self.dir_cache: list[DirEntry] | None = None  # directory listing for getdents
        self.dir_pos = 0
        # which open file description this is, sandbox-wide: equal in every process that
        # shares it after fork (the instance's copy of the object keeps it), so it can own
        # OFD and flock locks in the leader (ipc/shared.py); (instance pid, time, object id)
        # is unique among the descriptions of all instances
        self.description_id = (getpid(), monotonic_ns(), id(self))

    def incref(self) -> None:
        self.refs += 1

    def decref(self) -> None:
        self.refs -= 1
        if self.refs == 0:
            self.release()

    def release(self) -> None:
        """Last fd closed: give back host resources."""

    @property
    def readable(self) -> bool:
        return self.flags & _ACCMODE != _WRONLY and not self.flags & _PATH

    @property
    def writable(self) -> bool:
        return self.flags & _ACCMODE in (_WRONLY, _RDWR) and not self.flags & _PATH

    @abc.abstractmethod
    def stat(self) -> Stat:
        """fstat."""

    def read(self, size: int) -> bytes:
        raise Errno(errno.EINVAL)

    def write(self, data: bytes) -> int:
        raise Errno(errno.EINVAL)

    def pread(self, size: int, offset: int) -> bytes:
        raise Errno(errno.ESPIPE)

    def pwrite(self, data: bytes, offset: int) -> int:
        raise Errno(errno.ESPIPE)

    def seek(self, offset: int, whence: int) -> int:
        raise Errno(errno.ESPIPE)

    def seek_dir(self, offset: int, whence: int) -> int:
        """lseek on a directory: offsets are indexes into our listing (stable across
        getdents64 calls); rewinding to 0 takes a fresh listing."""
        if whence != SEEK_SET or offset < 0:
            raise Errno(errno.EINVAL)
        if offset == 0:
            self.dir_cache = None
        self.dir_pos = offset
        return offset

    def listdir(self) -> list[DirEntry]:
        """Entries of a directory, '.' and '..' included; ENOTDIR for anything else."""
        raise Errno(errno.ENOTDIR)

    def ioctl(self, t: "Task", request: int, arg: int) -> int:
        raise Errno(errno.ENOTTY)

    def host_fd(self) -> int | None:
        """A host fd holding this file's data, for real mmap; None means copy."""
        return None

    def truncate(self, length: int) -> None:
        raise Errno(errno.EINVAL)

    def sync(self) -> None:
        pass

    def identity(self) -> tuple[int, int]:
        """(st_dev, st_ino): which file this is, for locks."""
        st = self.stat()
        return st.dev, st.ino

    def fallocate(self, mode: int, offset: int, length: int) -> None:
        raise Errno(errno.EOPNOTSUPP)

    def sync_range(self, offset: int, length: int, flags: int) -> None:
        """sync_file_range: nothing to write back for files without host data."""

    def syncfs(self) -> None:
        """syncfs of the file's file system: nothing to do without host data."""

    def pipe_size(self, size: int | None) -> int:
        """F_GETPIPE_SZ (size None) and F_SETPIPE_SZ: only pipes have one."""
        raise Errno(errno.EBADF)

    def seals(self, add: int | None) -> int:
        """F_GET_SEALS (add None) and F_ADD_SEALS: only memfds can be sealed."""
        raise Errno(errno.EINVAL)

    def reopen(self, flags: int) -> "OpenFile":
        """A new open file description of this same file: what opening /proc/self/fd/N
        gives when N has no path in the sandbox (pipes, deleted files). Linux refuses
        sockets and most anonymous files with ENXIO."""
        raise Errno(errno.ENXIO)

    # the mount the file was opened through (set by open); None for stdio, pipes and
    # the like, which no sandbox mount holds
    mount: object = None


    def host_poll_fd(self) -> int | None:
        """The host fd whose readiness is this file's (poll, select, epoll and parked
        tasks wait on it: kernel/waits.py); None for a file that is always ready
        (synthesized files, as Linux's files without a poll method)."""
        return None


class FileSystem(abc.ABC):
    """One mounted file system, addressed by paths relative to its root ('' = root).

    The VFS has already resolved every symlink and '..' before it calls these, so `rel`
    names a path with no symlink in it except possibly the last component.
    """

    readonly = False

    @abc.abstractmethod
    def lstat(self, rel: str) -> Stat:
        """Stat without following a final symlink; ENOENT/ENOTDIR when absent."""

    def walk_lstat(self, rel: str) -> Stat | None:
        """lstat of `rel`, a path of several names, in one lookup when the file system can
        do it: every name there and none but the last a symlink. None otherwise (or when
        it cannot): the VFS then walks one name at a time and finds out why."""
        return None

    @abc.abstractmethod
    def readlink(self, rel: str) -> str:
        """Target of a symlink; EINVAL if not a symlink."""

    @abc.abstractmethod
    def open(self, rel: str, flags: int, mode: int, path: str) -> OpenFile:
        """Open (or create, with O_CREAT) the file; `path` is its sandbox path."""

    def unlink(self, rel: str) -> None:
        raise Errno(errno.EROFS if self.readonly else errno.EPERM)

    def rmdir(self, rel: str) -> None:
        raise Errno(errno.EROFS if self.readonly else errno.EPERM)

    def mkdir(self, rel: str, mode: int) -> None:
        raise Errno(errno.EROFS if self.readonly else errno.EPERM)

    def release(self) -> None:
        """Unmount: the sandbox is ending."""

    def magic_link(self, rel: str) -> OpenFile | None:
        """For a symlink that is a "magic link" to an open file (/proc/PID/fd/N): the file
        a follow reaches, when its target text is not a path to walk; None otherwise."""
        return None

    # -- changing names and metadata: Linux's errors for a file system that cannot ----
    # (EROFS on a read-only mount, EPERM on a synthesized one, like procfs' setattr)

    def _cannot(self) -> Errno:
        return Errno(errno.EROFS if self.readonly else errno.EPERM)

    def rename(self, old_rel: str, new_rel: str, flags: int) -> None:
        """renameat2 inside this file system (RENAME_NOREPLACE/RENAME_EXCHANGE in flags)."""
        raise self._cannot()

    def link(self, old_rel: str, new_rel: str) -> None:
        """A hard link `new_rel` to the (non-symlink-followed) file `old_rel`."""
        raise self._cannot()

    def symlink(self, target: str, rel: str) -> None:
        raise self._cannot()

    def mknod(self, rel: str, mode: int, dev: int) -> None:
        """A regular file or FIFO (the caller refuses device nodes)."""
        raise self._cannot()

    def chmod(self, rel: str, mode: int) -> None:
        """Change the mode of `rel` itself (never following a final symlink)."""
        raise self._cannot()

    def chown(self, rel: str, uid: int, gid: int) -> None:
        """Change the owner of `rel` itself; -1 leaves an id as it is."""
        raise self._cannot()

    def utimens(self, rel: str, times: tuple[tuple[int, int], tuple[int, int]] | None) -> None:
        """Set atime/mtime of `rel` itself: raw timespecs (UTIME_NOW/UTIME_OMIT), None = now."""
        raise self._cannot()

    def truncate(self, rel: str, length: int) -> None:
        raise self._cannot()

    def link_host_fd(self, host_fd: int, rel: str) -> None:
        """A new name `rel` for the open host file `host_fd` (linkat with AT_EMPTY_PATH)."""
        raise self._cannot()

    def xattr(self, rel: str, op: str, *args: object) -> object:
        """Extended attributes of `rel` itself: op is list, get, set or remove (pal's
        xattr_*). A file system without them lists none and supports no other op, as procfs."""
        return no_xattrs(op)

    def statfs(self, rel: str) -> StatFs:
        """statfs(2) of this file system; synthesized ones look like an empty tmpfs."""
        return StatFs(TMPFS_MAGIC, 4096, 0, 0, 0, 0, 0, (0, 0), 255, 4096, ST_RDONLY if self.readonly else 0)


def no_xattrs(op: str) -> object:
    """The xattr answers of a file system that has no extended attributes at all."""
    if op == "list":
        return []
    raise Errno(errno.EOPNOTSUPP)


TMPFS_MAGIC = 0x01021994
