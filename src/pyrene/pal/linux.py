"""The Linux implementation of the PAL: host files and directories, confined.

Host-backed mounts open files with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
RESOLVE_NO_MAGICLINKS) relative to the mount's root directory fd. The VFS has resolved
every symlink itself (inside the sandbox's namespace), so a symlink met here means the
host changed under us, and the open fails instead of following it out of the mount.
"""

from __future__ import annotations

import _signal
import contextlib
import ctypes
import errno
import fcntl
import os
import signal
import stat as stat_mod
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..abi.structs import Stat
from ..errors import Errno
from ..platform import libc

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
CONFINED = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS


class _HostErrors:
    """`with host_errors():` a class, not @contextmanager: it wraps most host calls, and
    a generator-based context manager costs ~2 us a use, this one ~0.3."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object) -> bool:
        if kind is None:
            return False
        if issubclass(kind, OSError):
            raise Errno.from_oserror(exc) from None  # type: ignore[arg-type]
        if issubclass(kind, OverflowError):
            raise Errno(errno.EINVAL) from None
        return False


_HOST_ERRORS = _HostErrors()


def host_errors() -> _HostErrors:
    """OSError as the Errno it carries; OverflowError (an app's value too large for the
    host call's C type, such as a length of 2^63) as EINVAL, what the kernel says to
    such a value after its cast."""
    return _HOST_ERRORS


def stat_of(st: os.stat_result) -> Stat:
    return Stat(st.st_dev, st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid, st.st_rdev,
                st.st_size, st.st_blksize, st.st_blocks, st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


def open_root(host_path: str) -> int:
    """An O_PATH fd on a mount's host directory (or file), the anchor of confined opens."""
    with host_errors():
        return os.open(host_path, os.O_PATH | os.O_CLOEXEC)


def open_beneath(root_fd: int, rel: str, flags: int, mode: int) -> int:
    if not flags & (os.O_CREAT | os.O_TMPFILE):
        mode = 0  # openat2, unlike openat, refuses a mode it would not use
    with host_errors():
        return libc.openat2(root_fd, os.fsencode(rel or "."), flags | os.O_CLOEXEC, mode, CONFINED)


def lstat_beneath(root_fd: int, rel: str) -> Stat:
    """lstat of `rel`: its parent is opened confined, the last component is not followed."""
    with host_errors():
        if not rel:
            return stat_of(os.fstat(root_fd))
        parent, _, name = rel.rpartition("/")
        if not parent:
            return stat_of(os.stat(name, dir_fd=root_fd, follow_symlinks=False))
        pfd = libc.openat2(root_fd, os.fsencode(parent), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, 0, CONFINED)
        try:
            return stat_of(os.stat(name, dir_fd=pfd, follow_symlinks=False))
        finally:
            os.close(pfd)


def walk_lstat_beneath(root_fd: int, rel: str) -> Stat | None:
    """lstat of `rel` in one confined host lookup (no symlink on the way, the last name
    not followed); None if that fails for any reason (fs/vfs.py then walks name by name,
    three host calls a name, and raises the right error)."""
    try:
        fd = libc.openat2(root_fd, os.fsencode(rel), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, CONFINED)
    except OSError:
        return None
    try:
        return stat_of(os.fstat(fd))
    finally:
        os.close(fd)


def readlink_beneath(root_fd: int, rel: str) -> str:
    with host_errors():
        fd = libc.openat2(root_fd, os.fsencode(rel), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, CONFINED)
        try:
            return os.readlink("", dir_fd=fd)
        finally:
            os.close(fd)


def fstat(fd: int) -> Stat:
    with host_errors():
        return stat_of(os.fstat(fd))


# read/write/pread/pwrite/lseek are on the hot path: a plain try costs nothing, where
# the host_errors() context manager costs a generator per call.

def read(fd: int, size: int) -> bytes:
    try:
        return os.read(fd, size)
    except OSError as exc:
        raise Errno.from_oserror(exc) from None


def write(fd: int, data: bytes) -> int:
    try:
        return os.write(fd, data)
    except OSError as exc:
        raise Errno.from_oserror(exc) from None


def pread(fd: int, size: int, offset: int) -> bytes:
    try:
        return os.pread(fd, size, offset)
    except OSError as exc:
        raise Errno.from_oserror(exc) from None


def pwrite(fd: int, data: bytes, offset: int) -> int:
    try:
        return os.pwrite(fd, data, offset)
    except OSError as exc:
        raise Errno.from_oserror(exc) from None


def lseek(fd: int, offset: int, whence: int) -> int:
    try:
        return os.lseek(fd, offset, whence)
    except OSError as exc:
        raise Errno.from_oserror(exc) from None


def ftruncate(fd: int, length: int) -> None:
    with host_errors():
        os.ftruncate(fd, length)


def fsync(fd: int) -> None:
    with host_errors():
        os.fsync(fd)


def close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def dup(fd: int) -> int:
    with host_errors():
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def listdir(fd: int) -> list[tuple[bytes, int, int]]:
    """(name, inode, d_type) of a host directory fd, in the host's order."""
    with host_errors():
        dfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
        try:
            out = []
            with os.scandir(dfd) as it:
                for e in it:
                    if e.is_symlink():
                        dtype = 10
                    elif e.is_dir(follow_symlinks=False):
                        dtype = 4
                    elif e.is_file(follow_symlinks=False):
                        dtype = 8
                    else:
                        dtype = stat_mod.S_IFMT(e.stat(follow_symlinks=False).st_mode) >> 12
                    out.append((os.fsencode(e.name), e.inode(), dtype))
            return out
        finally:
            os.close(dfd)


def ioctl(fd: int, request: int, arg: bytes | int) -> tuple[int, bytes]:
    """ioctl on a host fd with an in/out buffer (allow-listed by the caller)."""
    with host_errors():
        if isinstance(arg, int):
            return fcntl.ioctl(fd, request, arg), b""
        buf = bytearray(arg)
        rc = fcntl.ioctl(fd, request, buf, True)
        return rc, bytes(buf)


def read_host_text(path: str) -> bytes:
    """A host file Pyrene itself reads to synthesize /proc content (cpuinfo, meminfo...)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def make_private_dir(prefix: str, mode: int) -> str:
    """A new host directory only this sandbox knows of (backing a tmpfs mount).

    Its name carries our pid, so that `sweep_private_dirs` of a later run can remove it
    if this Pyrene is killed (SIGKILL leaves no chance to clean up). (What
    tempfile.mkdtemp does, without the ~2 ms its import costs every `pyrene run`.)"""
    base = host_tmp_dir()
    while True:
        path = os.path.join(base, f"{prefix}{os.getpid()}-{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        os.chmod(path, mode)
        return path


def host_tmp_dir() -> str:
    """Where the host keeps temporary files: $TMPDIR if it names a directory, else /tmp."""
    tmpdir = os.environ.get("TMPDIR")
    return tmpdir if tmpdir and os.path.isdir(tmpdir) else "/tmp"


def sweep_private_dirs() -> None:
    """Remove the private directories of Pyrene runs that died without cleaning up."""
    import re

    base = host_tmp_dir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith("pyrene-"):  # most of a shared /tmp
            continue
        m = re.match(r"pyrene-(?:tmpfs|unix)-(\d+)-", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            remove_tree(os.path.join(base, name))


def remove_tree(path: str) -> None:
    """Remove a directory and what is in it (most often nothing: then shutil is not
    even imported)."""
    try:
        os.rmdir(path)
    except OSError:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def open_controlling_tty(flags: int) -> int | None:
    """Pyrene's own controlling terminal, for the sandbox's /dev/tty; None without one."""
    try:
        return os.open("/dev/tty", (flags & (os.O_ACCMODE | os.O_NONBLOCK)) | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None


def host_pid_maps(pid: int) -> bytes:
    return read_host_text(f"/proc/{pid}/maps")


def urandom(n: int) -> bytes:
    return os.urandom(n)


def host_uptime_and_memory() -> tuple[float, dict[str, int]]:
    """Uptime in seconds and /proc/meminfo in bytes, for sysinfo(2)."""
    uptime = float((read_host_text("/proc/uptime").split() or [b"0"])[0])
    mem: dict[str, int] = {k: 0 for k in ("MemTotal", "MemFree", "Shmem", "Buffers", "SwapTotal", "SwapFree")}
    for line in read_host_text("/proc/meminfo").decode().splitlines():
        key, _, value = line.partition(":")
        if key in mem:
            mem[key] = int(value.split()[0]) * 1024
    return uptime, mem


@contextmanager
def parent_beneath(root_fd: int, rel: str) -> Iterator[tuple[int, str]]:
    """(dir fd, name) of `rel`'s parent, opened confined; for calls that take a name."""
    parent, _, name = rel.rpartition("/")
    if not name:
        raise Errno(errno.EBUSY)  # the mount's root itself
    if not parent:
        yield root_fd, name
        return
    with host_errors():
        pfd = libc.openat2(root_fd, os.fsencode(parent), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, 0, CONFINED)
    try:
        yield pfd, name
    finally:
        os.close(pfd)


def unlink_beneath(root_fd: int, rel: str, directory: bool) -> None:
    with parent_beneath(root_fd, rel) as (dfd, name), host_errors():
        if directory:
            os.rmdir(name, dir_fd=dfd)
        else:
            os.unlink(name, dir_fd=dfd)


def mkdir_beneath(root_fd: int, rel: str, mode: int) -> None:
    with parent_beneath(root_fd, rel) as (dfd, name), host_errors():
        os.mkdir(name, mode, dir_fd=dfd)


# -- pipes, memfds and the less common file calls (syscalls/io.py) ------------------------

F_SETPIPE_SZ, F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS = 1031, 1032, 1033, 1034
FIONREAD = 0x541B


def pipe(flags: int) -> tuple[int, int]:
    """A host pipe held by the instance; both ends non-blocking (the instance never waits
    on one: see fs/pipe.py) and close-on-exec. `flags` may add O_DIRECT (packet mode)."""
    with host_errors():
        return os.pipe2(flags | os.O_NONBLOCK | os.O_CLOEXEC)


def pipe_size(fd: int, size: int | None) -> int:
    with host_errors():
        if size is None:
            return fcntl.fcntl(fd, F_GETPIPE_SZ)
        return fcntl.fcntl(fd, F_SETPIPE_SZ, size)


def bytes_readable(fd: int) -> int:
    """FIONREAD."""
    with host_errors():
        buf = bytearray(4)
        fcntl.ioctl(fd, FIONREAD, buf, True)
        return int.from_bytes(buf, "little", signed=True)


def memfd(name: str, flags: int) -> int:
    with host_errors():
        return os.memfd_create(name, flags | os.MFD_CLOEXEC)


def seals(fd: int, add: int | None) -> int:
    with host_errors():
        if add is None:
            return fcntl.fcntl(fd, F_GET_SEALS)
        return fcntl.fcntl(fd, F_ADD_SEALS, add)


def fallocate(fd: int, mode: int, offset: int, length: int) -> None:
    with host_errors():
        libc.file_syscall("fallocate", fd, mode, offset, length)


def syncfs(fd: int) -> None:
    with host_errors():
        libc.file_syscall("syncfs", fd)


def sync_file_range(fd: int, offset: int, length: int, flags: int) -> None:
    with host_errors():
        libc.file_syscall("sync_file_range", fd, offset, length, flags)


def copy_file_range(src: int, dst: int, count: int, src_off: int | None, dst_off: int | None) -> int:
    with host_errors():
        return os.copy_file_range(src, dst, count, src_off, dst_off)


def tee(src: int, dst: int, count: int) -> int:
    """tee(2) between two host pipes, never waiting (SPLICE_F_NONBLOCK)."""
    with host_errors():
        return libc.file_syscall("tee", src, dst, count, 0x02)


def reopen(fd: int, flags: int) -> int:
    """A new host open file description of the file behind our own `fd`, through the
    kernel's link to it (/proc/self/fd of the instance): no path is walked. Serves the
    app's /proc/self/fd/N reopen and mounts of a single host file."""
    with host_errors():
        return os.open(f"/proc/self/fd/{fd}", flags | os.O_NOCTTY | os.O_CLOEXEC)


def own_ptys() -> list[str]:
    """The pseudo-terminals Pyrene's own stdio is on (names under /dev/pts): the app
    already holds them as fds 0-2, so the sandbox may show their nodes."""
    names = []
    for fd in range(3):
        try:
            name = os.ttyname(fd)
        except OSError:
            continue
        if name.startswith("/dev/pts/") and name[9:].isdigit() and name[9:] not in names:
            names.append(name[9:])
    return names


def stat_own_pty(name: str) -> Stat:
    with host_errors():
        return stat_of(os.stat(f"/dev/pts/{name}"))


def open_own_pty(name: str, flags: int) -> int:
    """Open /dev/pts/NAME, one of `own_ptys()`, never becoming its controlling process."""
    with host_errors():
        return os.open(f"/dev/pts/{name}", (flags & (os.O_ACCMODE | os.O_NONBLOCK)) | os.O_NOCTTY | os.O_CLOEXEC)


# -- names and metadata, confined like the opens above -----------------------------------
# Calls that take a name work in the parent directory opened confined (parent_beneath);
# calls on an existing file open it O_PATH|O_NOFOLLOW confined and act on that very inode
# through /proc/self/fd/N (the host kernel's own link to our fd, which cannot be swapped;
# following it lands on that inode, a symlink included, and goes no further).

@contextmanager
def opened_beneath(root_fd: int, rel: str) -> Iterator[int]:
    """An O_PATH fd on exactly the file `rel` (not followed), valid inside the block."""
    with host_errors():
        fd = libc.openat2(root_fd, os.fsencode(rel or "."), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, CONFINED)
    try:
        yield fd
    finally:
        os.close(fd)


def _fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def chmod_fd(fd: int, mode: int) -> None:
    with host_errors():
        if stat_mod.S_ISLNK(os.stat(_fd_path(fd)).st_mode):
            raise OSError(errno.EOPNOTSUPP, "symlink")
        os.chmod(_fd_path(fd), mode)


def chown_fd(fd: int, uid: int, gid: int) -> None:
    with host_errors():
        os.chown(_fd_path(fd), uid, gid)


def utimens_fd(fd: int, times: tuple[tuple[int, int], tuple[int, int]] | None) -> None:
    with host_errors():
        libc.utimensat(-100, os.fsencode(_fd_path(fd)), times, 0)


def statfs_fd(fd: int) -> bytes:
    with host_errors():
        return libc.fstatfs(fd)


def rename_beneath(root_fd: int, old_rel: str, new_rel: str, flags: int) -> None:
    with parent_beneath(root_fd, old_rel) as (odfd, old), parent_beneath(root_fd, new_rel) as (ndfd, new), \
            host_errors():
        if flags:
            libc.renameat2(odfd, os.fsencode(old), ndfd, os.fsencode(new), flags)
        else:
            os.rename(old, new, src_dir_fd=odfd, dst_dir_fd=ndfd)


def link_beneath(root_fd: int, old_rel: str, new_rel: str) -> None:
    with parent_beneath(root_fd, old_rel) as (odfd, old), parent_beneath(root_fd, new_rel) as (ndfd, new), \
            host_errors():
        os.link(old, new, src_dir_fd=odfd, dst_dir_fd=ndfd, follow_symlinks=False)


def link_fd_beneath(fd: int, root_fd: int, new_rel: str) -> None:
    """Link an open file by its fd (even one already unlinked, or made with O_TMPFILE)."""
    with parent_beneath(root_fd, new_rel) as (ndfd, new), host_errors():
        os.link(_fd_path(fd), new, dst_dir_fd=ndfd, follow_symlinks=True)


def symlink_beneath(root_fd: int, target: str, rel: str) -> None:
    with parent_beneath(root_fd, rel) as (dfd, name), host_errors():
        os.symlink(target, name, dir_fd=dfd)


def mknod_beneath(root_fd: int, rel: str, mode: int, dev: int) -> None:
    with parent_beneath(root_fd, rel) as (dfd, name), host_errors():
        os.mknod(name, mode, dev, dir_fd=dfd)


def chmod_beneath(root_fd: int, rel: str, mode: int) -> None:
    with opened_beneath(root_fd, rel) as fd:
        chmod_fd(fd, mode)


def chown_beneath(root_fd: int, rel: str, uid: int, gid: int) -> None:
    with opened_beneath(root_fd, rel) as fd:
        chown_fd(fd, uid, gid)


def utimens_beneath(root_fd: int, rel: str, times: tuple[tuple[int, int], tuple[int, int]] | None) -> None:
    with opened_beneath(root_fd, rel) as fd:
        utimens_fd(fd, times)


def truncate_beneath(root_fd: int, rel: str, length: int) -> None:
    with host_errors():
        fd = libc.openat2(root_fd, os.fsencode(rel), os.O_WRONLY | os.O_CLOEXEC | os.O_NONBLOCK, 0, CONFINED)
        try:
            os.ftruncate(fd, length)
        finally:
            os.close(fd)


def statfs_beneath(root_fd: int, rel: str) -> bytes:
    with opened_beneath(root_fd, rel) as fd:
        return statfs_fd(fd)


def sync_all() -> None:
    os.sync()


# -- extended attributes (syscalls/xattr.py) ---------------------------------------------
# `target` is a host fd that can do I/O (the f* calls) or a path /proc/self/fd/N of an
# O_PATH fd opened confined (the path calls): either way no name is walked on the host.

def xattr_list(target: int | str) -> list[str]:
    with host_errors():
        return os.listxattr(target)


def xattr_get(target: int | str, name: str) -> bytes:
    with host_errors():
        return os.getxattr(target, name)


def xattr_set(target: int | str, name: str, value: bytes, flags: int) -> None:
    with host_errors():
        os.setxattr(target, name, value, flags)


def xattr_remove(target: int | str, name: str) -> None:
    with host_errors():
        os.removexattr(target, name)


XATTR_OPS = {"list": xattr_list, "get": xattr_get, "set": xattr_set, "remove": xattr_remove}


def xattr_beneath(root_fd: int, rel: str, op: str, *args: object) -> object:
    """One XATTR_OPS call on the file `rel` of a host mount, through a confined O_PATH fd."""
    with opened_beneath(root_fd, rel) as fd:
        return XATTR_OPS[op](_fd_path(fd), *args)  # type: ignore[operator]


# -- waiting: readiness, eventfds, timerfds, epoll (kernel/waits.py, fs/eventfd.py) ------


def poll(fds: dict[int, int]) -> dict[int, int]:
    """poll(2) with timeout 0 over host fds {fd: events}: {fd: revents} of the ready ones."""
    import select

    poller = select.poll()
    for fd, events in fds.items():
        poller.register(fd, events)
    with host_errors():
        return dict(poller.poll(0))


def eventfd(initval: int, flags: int) -> int:
    """A host eventfd held by the instance; non-blocking (Pyrene parks instead)."""
    with host_errors():
        return os.eventfd(initval, flags | os.EFD_NONBLOCK | os.EFD_CLOEXEC)


TFD_NONBLOCK, TFD_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC


def timerfd_create(clock: int, flags: int) -> int:
    with host_errors():
        return libc.file_syscall("timerfd_create", clock, flags | TFD_NONBLOCK | TFD_CLOEXEC)


def timerfd_settime(fd: int, flags: int, new: bytes) -> bytes:
    """timerfd_settime with struct itimerspec in and out (32 bytes each)."""
    import ctypes

    inbuf = ctypes.create_string_buffer(new, 32)
    outbuf = ctypes.create_string_buffer(32)
    with host_errors():
        libc.file_syscall("timerfd_settime", fd, flags, ctypes.addressof(inbuf), ctypes.addressof(outbuf))
    return outbuf.raw


def timerfd_gettime(fd: int) -> bytes:
    import ctypes

    outbuf = ctypes.create_string_buffer(32)
    with host_errors():
        libc.file_syscall("timerfd_gettime", fd, ctypes.addressof(outbuf))
    return outbuf.raw


class Epoll:
    """A host epoll instance held by the instance (fs/eventfd.py EpollFile)."""

    def __init__(self) -> None:
        import select

        with host_errors():
            self._ep = select.epoll()
        self.fd = self._ep.fileno()

    def close(self) -> None:
        self._ep.close()

    def ctl(self, op: str, fd: int, events: int = 0) -> None:
        with host_errors():
            if op == "add":
                self._ep.register(fd, events)
            elif op == "mod":
                self._ep.modify(fd, events)
            else:
                self._ep.unregister(fd)

    def ready(self, maxevents: int) -> list[tuple[int, int]]:
        """(host fd, events) ready now, at most `maxevents`; never waits."""
        with host_errors():
            return self._ep.poll(0, maxevents)


# -- identity (kernel/creds.py) ------------------------------------------------------------

def host_capabilities() -> dict[str, int]:
    """Pyrene's own capability sets (CapInh/CapPrm/CapEff/CapBnd/CapAmb of
    /proc/self/status), which the app process it starts inherits."""
    status = proc_status(os.getpid())
    keys = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    return {key: status_value(status, key.encode(), 16) or 0 for key in keys}


def suid_dumpable() -> int:
    """fs.suid_dumpable: what a process's dumpable flag becomes when its ids change."""
    try:
        return int(read_host_text("/proc/sys/fs/suid_dumpable") or b"0")
    except ValueError:
        return 0


# -- scheduling and accounting (syscalls/sched.py) ------------------------------------------

def raise_host_nice(host_pid: int, nice: int) -> None:
    """Make the app's host process nicer, never less nice: a sandbox may give up CPU,
    not take it from the host's other processes."""
    with contextlib.suppress(OSError):
        if nice > os.getpriority(os.PRIO_PROCESS, host_pid):
            os.setpriority(os.PRIO_PROCESS, host_pid, nice)


def host_nice() -> int:
    """Pyrene's own nice value, which the app process it starts inherits."""
    return os.getpriority(os.PRIO_PROCESS, 0)


# -- pseudo-terminals granted by pyrene.dev.pts (fs/pty.py) ------------------------------

TIOCGPTN = 0x80045430
TIOCGPTPEER = 0x5441


def open_ptmx(flags: int) -> tuple[int, int]:
    """A new host pty master (the host's /dev/ptmx, never our controlling terminal) and
    the number the host gave its slave. Non-blocking: Pyrene parks a task instead."""
    with host_errors():
        fd = os.open("/dev/ptmx", (flags & os.O_ACCMODE) | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        _, out = ioctl(fd, TIOCGPTN, bytes(4))
    except BaseException:
        os.close(fd)
        raise
    return fd, int.from_bytes(out, "little")


def open_pty_peer(master: int, flags: int) -> int:
    """The slave of our pty master `master`, opened by the kernel from the master itself
    (TIOCGPTPEER: no path is walked), never our controlling terminal; non-blocking."""
    rc, _ = ioctl(master, TIOCGPTPEER, (flags & os.O_ACCMODE) | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    return rc


def host_parent(host_pid: int) -> int:
    """The host parent pid of a process (field 4 of /proc/PID/stat); 0 if it is gone."""
    try:
        with open(f"/proc/{host_pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    return int(data[data.rindex(b")") + 2:].split()[1])


def host_kill(host_pid: int, sig: int) -> None:
    """kill(2) of one host process (an app process, or an instance). A pid <= 0 would
    signal a whole process group (Pyrene's own included) or everything: never pass one
    through. A process already gone is not an error."""
    if host_pid <= 0:
        return
    try:
        os.kill(host_pid, sig)
    except ProcessLookupError:
        pass


def set_nonblocking(fd: int) -> None:
    """O_NONBLOCK on a host fd the instance holds (it must never sleep on it)."""
    with host_errors():
        os.set_blocking(fd, False)


def set_blocking(fd: int) -> None:
    with host_errors():
        os.set_blocking(fd, True)


class Background:
    """A blocking host call made in a thread of the instance, for the rare host calls that
    have no non-blocking form (a blocking FIFO open waits in the kernel for its peer). The
    instance's thread never sleeps on it: the task parks on `ready_fd`, readable once the
    call is done, and `result()` then gives the fd or raises. A call whose waiter gave up
    (`abandon`: EINTR) closes its fd when it ends. `owner` is the instance process: a copy
    of this object in a forked instance has no thread behind it."""

    def __init__(self, ready_fd: int, wake_fd: int, owner: int) -> None:
        self.ready_fd = ready_fd
        self.wake_fd = wake_fd
        self.owner = owner
        self.fd = -1
        self.error: Errno | None = None
        self.done = False
        self.abandoned = False

    def _run(self, call: Callable[[], int]) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())  # signals are the main thread's
        try:
            self.fd = call()
        except Errno as e:
            self.error = e
        self.done = True
        if self.abandoned:
            self._close()
        else:
            os.write(self.wake_fd, b"!")

    def result(self) -> int:
        self._close_pipe()
        if self.error is not None:
            raise self.error
        return self.fd

    def abandon(self) -> None:
        self.abandoned = True
        if self.done:
            self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._close_pipe()

    def _close_pipe(self) -> None:
        for fd in (self.ready_fd, self.wake_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.ready_fd = self.wake_fd = -1


def background(call: Callable[[], int]) -> Background:
    """Start `call` (a blocking host call returning an fd, raising Errno) in a thread."""
    import threading  # here: most runs start no thread (the import costs ~1 ms)

    ready, wake = pipe(0)
    job = Background(ready, wake, os.getpid())
    threading.Thread(target=job._run, args=(call,), daemon=True, name="pyrene-blocking-open").start()
    return job
def pidfd_open(host_pid: int) -> int:
    """A pidfd of a host process (kernel/waits.py watches the app's children with it:
    it becomes readable when the process exits)."""
    with host_errors():
        return os.pidfd_open(host_pid)


def proc_status(tid: int) -> bytes:
    """/proc/<tid>/status of a host task in one read (~1.5 KB), b"" when it is gone.

    Every park reads it (signal_sets), so os.read, not open(): a buffered file object
    costs more than the read."""
    try:
        fd = os.open(f"/proc/{tid}/status", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        return os.read(fd, 16384)
    except OSError:
        return b""
    finally:
        os.close(fd)


def status_value(status: bytes, key: bytes, base: int = 10) -> int | None:
    """The number on line `key:` of a /proc status text; None without that line. (find,
    not a loop over the ~55 lines: ~1 us against ~14.)"""
    at = status.find(b"\n" + key + b":")
    if at < 0:
        return None
    start = at + len(key) + 2
    end = status.find(b"\n", start)
    return int(status[start:end if end >= 0 else None], base)


def exit_reported(host_pid: int) -> bool:
    """Whether a dead child's exit has been reported to its parent: no tracer left
    (/proc/PID/status TracerPid 0; the tracer's wait notifies the real parent) or the
    process already reaped. A traced child that exits is a zombie first, reported to its
    tracer; its parent's SIGCHLD comes when the tracer has waited for it."""
    return tracer_of(host_pid) == 0


def signal_sets(tid: int) -> tuple[int, int, int]:
    """(pending for the thread, pending for its process, blocked) signal sets of a host
    thread, from /proc/<tid>/status; a thread that is gone blocks everything."""
    status = proc_status(tid)
    blocked = status_value(status, b"SigBlk", 16)
    if blocked is None:
        return 0, 0, (1 << 64) - 1
    return status_value(status, b"SigPnd", 16) or 0, status_value(status, b"ShdPnd", 16) or 0, blocked


# -- signals between app processes (kernel/signals.py, ipc/leader.py) ---------------------

SIGINFO_SIZE = 128


def host_sigqueue(host_pid: int, sig: int, info: bytes, host_tid: int = 0) -> None:
    """rt_sigqueueinfo (or rt_tgsigqueueinfo to thread `host_tid`) of one host process
    with a siginfo of our making: the kernel keeps its si_pid/si_uid as given, where kill(2)
    would put ours. Its si_code must be negative (the kernel's rule for another process).
    A pid <= 0 is never passed through (see host_kill); ESRCH when the target is gone."""
    if host_pid <= 0:
        raise Errno(errno.ESRCH)
    buf = ctypes.create_string_buffer(info.ljust(SIGINFO_SIZE, b"\0"), SIGINFO_SIZE)
    try:
        if host_tid:
            libc.file_syscall("rt_tgsigqueueinfo", host_pid, host_tid, sig, ctypes.addressof(buf))
        else:
            libc.file_syscall("rt_sigqueueinfo", host_pid, sig, ctypes.addressof(buf))
    except OSError as exc:
        raise Errno(exc.errno or errno.EIO) from None


def set_signal_handler(sig: int, handler: Callable[..., object] | int) -> Callable[..., object] | int | None:
    """signal.signal(sig, handler), with `sig` blocked meanwhile; returns the old handler.

    CPython runs the Python handlers of caught signals before it changes a handler. A
    `sig` that arrives after that check, while its C-level handler is still installed,
    is found later with the new handler SIG_DFL or SIG_IGN, and CPython prints "Signal N
    ignored due to race condition" with a traceback to stderr, which is the app's. The
    instance swaps SIGCHLD at every park and unpark (kernel/waits.py) while its children
    stop and exit, so without the block bash pipelines saw it. Blocked, a `sig` that
    arrives waits for the new handler (SIG_DFL of SIGCHLD: discarded).

    Through `_signal`, signal.py's C module: its wrappers turn every mask and handler
    they return into enums (~10 us of the ~14 a park and unpark spent here)."""
    old_mask = _signal.pthread_sigmask(signal.SIG_BLOCK, (sig,))
    try:
        return _signal.signal(sig, handler if callable(handler) else int(handler))  # an int, not Handlers.SIG_DFL
    finally:
        _signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def signalfd(signals: tuple[int, ...]) -> int:
    """A non-blocking host signalfd for `signals` of this process (they must be blocked)."""
    mask = ctypes.c_uint64(sum(1 << (s - 1) for s in signals))
    try:
        return libc.file_syscall("signalfd4", -1, ctypes.addressof(mask), 8, os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Errno(exc.errno or errno.EIO) from None


def read_signalfd(fd: int) -> list[tuple[int, int, int]]:
    """(signal, si_code, si_pid) of each signal queued on a signalfd of ours."""
    out = []
    while True:
        try:
            data = os.read(fd, SIGINFO_SIZE * 8)
        except BlockingIOError:
            return out
        if not data:
            return out
        for off in range(0, len(data) - SIGINFO_SIZE + 1, SIGINFO_SIZE):
            signo, _err, code, pid = struct.unpack_from("<IiiI", data, off)
            out.append((signo, code, pid))


def host_setpgid(pgid: int) -> None:
    """setpgid(0, pgid) for Pyrene's own process (an instance following its app's group)."""
    try:
        os.setpgid(0, pgid)
    except OSError:
        pass


# -- terminal job control (syscalls/process.py tty_job_ioctl) -----------------------------

def is_tty(fd: int) -> bool:
    return os.isatty(fd)


def tty_pgrp(fd: int) -> int:
    with host_errors():
        return os.tcgetpgrp(fd)


def set_tty_pgrp(fd: int, pgid: int) -> None:
    """tcsetpgrp by the instance (it ignores SIGTTOU, so a background one may too)."""
    with host_errors():
        os.tcsetpgrp(fd, pgid)


def tty_sid(fd: int) -> int:
    rc, out = ioctl(fd, 0x5429, bytes(4))  # TIOCGSID
    return int.from_bytes(out, "little", signed=True)


def host_sid(host_pid: int) -> int:
    try:
        return os.getsid(host_pid)
    except OSError:
        return -1


def drain(fd: int) -> None:
    """Read a non-blocking wakeup pipe empty."""
    try:
        while os.read(fd, 512):
            pass
    except OSError:
        pass


def tracer_of(host_pid: int) -> int:
    """The host pid ptracing `host_pid` (its TracerPid), 0 if none or it is gone."""
    return status_value(proc_status(host_pid), b"TracerPid") or 0
