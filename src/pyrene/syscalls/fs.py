"""File system syscalls: paths, opening, stat, directories, cwd.

Every path goes through the VFS (fs/vfs.py), relative to the cwd or a dirfd; handlers
never see a host path.
"""

from __future__ import annotations

import errno
import os

from ..abi.flags import (AT_FDCWD, F_OK, O_ACCMODE, S_IFDIR, S_IFLNK, S_IFMT, W_OK, X_OK, AtFlags,
                         OpenFlags)
from ..abi.structs import Stat, pack_dirent64
from ..abi.types import AtFlagsArg, DirFd, Fd, Int, Mode, OpenFlagsArg, Path, Ptr, SizeT, UInt
from ..errors import Errno
from ..fs.vfs import Resolved
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task


CREATION_FLAGS = OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOCTTY | OpenFlags.O_TRUNC | OpenFlags.O_CLOEXEC


def base_dir(t: Task, dirfd: int, path: str) -> str:
    """The directory a relative `path` starts from: the cwd or the dirfd's directory."""
    if path.startswith("/") or dirfd == AT_FDCWD:
        return t.proc.cwd
    file = t.files.get(dirfd)
    if file.stat().mode & S_IFMT != S_IFDIR:
        raise Errno(errno.ENOTDIR)
    return file.path


def resolve_at(t: Task, dirfd: int, path: str, follow: bool = True, allow_missing: bool = False) -> Resolved:
    return t.instance.vfs.resolve(base_dir(t, dirfd, path), path, follow, allow_missing)


def stat_at(t: Task, dirfd: int, path: str, flags: int) -> Stat:
    """The shared core of stat, lstat, fstat, newfstatat and statx."""
    if not path and flags & AtFlags.AT_EMPTY_PATH:
        if dirfd == AT_FDCWD:
            return resolve_at(t, dirfd, ".").stat  # type: ignore[return-value]
        return t.files.get(dirfd).stat()
    res = resolve_at(t, dirfd, path, follow=not flags & AtFlags.AT_SYMLINK_NOFOLLOW)
    assert res.stat is not None
    return res.stat


# -- open and close --------------------------------------------------------------------

def open_at(t: Task, dirfd: int, path: str, flags: int, mode: int) -> int:
    """The shared core of open, openat and creat."""
    follow = not flags & OpenFlags.O_NOFOLLOW
    res = resolve_at(t, dirfd, path, follow=follow, allow_missing=bool(flags & OpenFlags.O_CREAT))
    if res.stat is None:
        if path.endswith("/"):
            raise Errno(errno.EISDIR)
        mode &= ~t.proc.umask
    else:
        kind = res.stat.mode & S_IFMT
        if flags & OpenFlags.O_CREAT and flags & OpenFlags.O_EXCL:
            raise Errno(errno.EEXIST)
        if kind == S_IFLNK and not flags & OpenFlags.O_PATH:
            raise Errno(errno.ELOOP)
        if flags & OpenFlags.O_DIRECTORY and kind != S_IFDIR:
            raise Errno(errno.ENOTDIR)
        if kind == S_IFDIR and (flags & O_ACCMODE != os.O_RDONLY or flags & OpenFlags.O_CREAT) \
                and not flags & OpenFlags.O_PATH:
            raise Errno(errno.EISDIR)
    file = res.mount.fs.open(res.rel, int(flags), mode & 0o7777, res.path)
    # what F_GETFL reports: creation flags are forgotten, O_LARGEFILE is implied on 64-bit
    file.flags = (file.flags & ~CREATION_FLAGS) | OpenFlags.O_LARGEFILE
    return t.files.install(file, cloexec=bool(flags & OpenFlags.O_CLOEXEC))


@syscall("openat", DirFd, Path, OpenFlagsArg, Mode, ret=Fd)
def openat(t: Task, dirfd: int, path: str, flags: int, mode: int) -> int:
    return open_at(t, dirfd, path, flags, mode)


@syscall("open", Path, OpenFlagsArg, Mode, ret=Fd)
def open_(t: Task, path: str, flags: int, mode: int) -> int:
    return open_at(t, AT_FDCWD, path, flags, mode)


@syscall("creat", Path, Mode, ret=Fd)
def creat(t: Task, path: str, mode: int) -> int:
    return open_at(t, AT_FDCWD, path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)


@syscall("close", Fd)
def close(t: Task, fd: int) -> int:
    t.files.close(fd)
    return 0


# -- stat ------------------------------------------------------------------------------

@syscall("newfstatat", DirFd, Path, Ptr, AtFlagsArg)
def newfstatat(t: Task, dirfd: int, path_ptr: str, buf: int, flags: int) -> int:
    t.mem.write(buf, stat_at(t, dirfd, path_ptr, flags).pack())
    return 0


@syscall("stat", Path, Ptr)
def stat(t: Task, path: str, buf: int) -> int:
    t.mem.write(buf, stat_at(t, AT_FDCWD, path, 0).pack())
    return 0


@syscall("lstat", Path, Ptr)
def lstat(t: Task, path: str, buf: int) -> int:
    t.mem.write(buf, stat_at(t, AT_FDCWD, path, AtFlags.AT_SYMLINK_NOFOLLOW).pack())
    return 0


@syscall("fstat", Fd, Ptr)
def fstat(t: Task, fd: int, buf: int) -> int:
    t.mem.write(buf, t.files.get(fd).stat().pack())
    return 0


@syscall("statx", DirFd, Path, AtFlagsArg, UInt, Ptr)
def statx(t: Task, dirfd: int, path: str, flags: int, mask: int, buf: int) -> int:
    t.mem.write(buf, stat_at(t, dirfd, path, flags).pack_statx(mask))
    return 0


# -- access ----------------------------------------------------------------------------

def access_at(t: Task, dirfd: int, path: str, mode: int, flags: int) -> int:
    """Permission check against the virtual credentials; EROFS for writes to ro mounts."""
    if mode & ~7:
        raise Errno(errno.EINVAL)
    res = resolve_at(t, dirfd, path, follow=not flags & AtFlags.AT_SYMLINK_NOFOLLOW)
    st = res.stat
    assert st is not None
    if mode == F_OK:
        return 0
    if mode & W_OK and res.mount.fs.readonly and st.mode & S_IFMT not in (0o020000, 0o060000, 0o010000, 0o140000):
        raise Errno(errno.EROFS)
    creds = t.proc.creds
    if creds.uid == 0:
        if mode & X_OK and st.mode & S_IFMT != S_IFDIR and not st.mode & 0o111:
            raise Errno(errno.EACCES)
        return 0
    if st.uid == creds.uid:
        bits = (st.mode >> 6) & 7
    elif st.gid == creds.gid or st.gid in creds.groups:
        bits = (st.mode >> 3) & 7
    else:
        bits = st.mode & 7
    if mode & ~bits:
        raise Errno(errno.EACCES)
    return 0


@syscall("access", Path, Int)
def access(t: Task, path: str, mode: int) -> int:
    return access_at(t, AT_FDCWD, path, mode, 0)


@syscall("faccessat", DirFd, Path, Int)
def faccessat(t: Task, dirfd: int, path: str, mode: int) -> int:
    return access_at(t, dirfd, path, mode, 0)


@syscall("faccessat2", DirFd, Path, Int, AtFlagsArg)
def faccessat2(t: Task, dirfd: int, path: str, mode: int, flags: int) -> int:
    return access_at(t, dirfd, path, mode, flags)


# -- links and directories -------------------------------------------------------------

def readlink_at(t: Task, dirfd: int, path: str, buf: int, size: int) -> int:
    if size <= 0:
        raise Errno(errno.EINVAL)
    res = resolve_at(t, dirfd, path, follow=False)
    assert res.stat is not None
    if res.stat.mode & S_IFMT != S_IFLNK:
        raise Errno(errno.EINVAL)
    target = os.fsencode(res.mount.fs.readlink(res.rel))[:size]
    t.mem.write(buf, target)
    return len(target)


@syscall("readlink", Path, Ptr, SizeT)
def readlink(t: Task, path: str, buf: int, size: int) -> int:
    return readlink_at(t, AT_FDCWD, path, buf, size)


@syscall("readlinkat", DirFd, Path, Ptr, SizeT)
def readlinkat(t: Task, dirfd: int, path: str, buf: int, size: int) -> int:
    return readlink_at(t, dirfd, path, buf, size)


@syscall("getdents64", Fd, Ptr, UInt)
def getdents64(t: Task, fd: int, buf: int, count: int) -> int:
    """Entries from the file's listing, taken once per pass; offsets are indexes."""
    file = t.files.get(fd)
    if file.dir_cache is None:
        file.dir_cache = file.listdir()
    entries = file.dir_cache
    out = bytearray()
    pos = file.dir_pos
    while pos < len(entries):
        e = entries[pos]
        rec = pack_dirent64(e.ino, pos + 1, e.dtype, e.name)
        if len(out) + len(rec) > count:
            if not out:
                raise Errno(errno.EINVAL)
            break
        out += rec
        pos += 1
    file.dir_pos = pos
    t.mem.write(buf, bytes(out))
    return len(out)


@syscall("getcwd", Ptr, SizeT)
def getcwd(t: Task, buf: int, size: int) -> int:
    data = os.fsencode(t.proc.cwd) + b"\0"
    if len(data) > size:
        raise Errno(errno.ERANGE)
    t.mem.write(buf, data)
    return len(data)


@syscall("chdir", Path)
def chdir(t: Task, path: str) -> int:
    res = resolve_at(t, AT_FDCWD, path)
    assert res.stat is not None
    if res.stat.mode & S_IFMT != S_IFDIR:
        raise Errno(errno.ENOTDIR)
    access_at(t, AT_FDCWD, res.path, X_OK, 0)
    t.proc.cwd = res.path
    return 0


@syscall("fchdir", Fd)
def fchdir(t: Task, fd: int) -> int:
    file = t.files.get(fd)
    if file.stat().mode & S_IFMT != S_IFDIR:
        raise Errno(errno.ENOTDIR)
    t.proc.cwd = file.path
    return 0


@syscall("umask", Mode)
def umask(t: Task, mask: int) -> int:
    old = t.proc.umask
    t.proc.umask = mask & 0o777
    return old


@syscall("getxattr", Path, Path, Ptr, SizeT, support=PARTIAL, note="no extended attributes yet")
@syscall("lgetxattr", Path, Path, Ptr, SizeT, support=PARTIAL, note="no extended attributes yet")
def getxattr(t: Task, path: str, name: str, buf: int, size: int) -> int:
    resolve_at(t, AT_FDCWD, path)
    raise Errno(errno.ENODATA)


@syscall("fgetxattr", Fd, Path, Ptr, SizeT, support=PARTIAL, note="no extended attributes yet")
def fgetxattr(t: Task, fd: int, name: str, buf: int, size: int) -> int:
    t.files.get(fd)
    raise Errno(errno.ENODATA)


@syscall("listxattr", Path, Ptr, SizeT, support=PARTIAL, note="no extended attributes yet")
@syscall("llistxattr", Path, Ptr, SizeT, support=PARTIAL, note="no extended attributes yet")
def listxattr(t: Task, path: str, buf: int, size: int) -> int:
    resolve_at(t, AT_FDCWD, path)
    return 0


# -- creating and removing names (the full set comes with the file system work) ---------

def unlink_at(t: Task, dirfd: int, path: str, flags: int) -> int:
    if flags & ~AtFlags.AT_REMOVEDIR:
        raise Errno(errno.EINVAL)
    res = resolve_at(t, dirfd, path, follow=False)
    assert res.stat is not None
    is_dir = res.stat.mode & S_IFMT == S_IFDIR
    if flags & AtFlags.AT_REMOVEDIR:
        if not is_dir:
            raise Errno(errno.ENOTDIR)
        res.mount.fs.rmdir(res.rel)
    else:
        if is_dir:
            raise Errno(errno.EISDIR)
        res.mount.fs.unlink(res.rel)
    return 0


@syscall("unlink", Path)
def unlink(t: Task, path: str) -> int:
    return unlink_at(t, AT_FDCWD, path, 0)


@syscall("unlinkat", DirFd, Path, AtFlagsArg)
def unlinkat(t: Task, dirfd: int, path: str, flags: int) -> int:
    return unlink_at(t, dirfd, path, flags)


@syscall("rmdir", Path)
def rmdir(t: Task, path: str) -> int:
    return unlink_at(t, AT_FDCWD, path, AtFlags.AT_REMOVEDIR)


def mkdir_at(t: Task, dirfd: int, path: str, mode: int) -> int:
    res = resolve_at(t, dirfd, path.rstrip("/") or "/", follow=False, allow_missing=True)
    if res.stat is not None:
        raise Errno(errno.EEXIST)
    res.mount.fs.mkdir(res.rel, mode & 0o7777 & ~t.proc.umask)
    return 0


@syscall("mkdir", Path, Mode)
def mkdir(t: Task, path: str, mode: int) -> int:
    return mkdir_at(t, AT_FDCWD, path, mode)


@syscall("mkdirat", DirFd, Path, Mode)
def mkdirat(t: Task, dirfd: int, path: str, mode: int) -> int:
    return mkdir_at(t, dirfd, path, mode)
