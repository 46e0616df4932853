"""File system syscalls: paths, opening, stat, directories, cwd, names and metadata.

Every path goes through the VFS (fs/vfs.py), relative to the cwd or a dirfd, with the
app's virtual credentials for permission checks; handlers never see a host path. Each
family has one shared core that its syscalls call: open_at, stat_at, access_at,
unlink_at, mkdir_at, mknod_at, symlink_at, link_at, rename_at, chmod_file, chown_file,
utimes_file, statfs_of.
"""

from __future__ import annotations

import errno
import functools
import operator
import os
import struct

from ..abi.flags import (AT_FDCWD, AT_STATX_SYNC_TYPE, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, F_OK,
                         O_ACCMODE, R_OK, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
                         W_OK, X_OK, AtFlags, OpenFlags)
from ..abi.structs import ST_RDONLY, TIMESPEC, TIMEVAL, Stat, StatFs, pack_dirent64
from ..abi.types import (AccessAtFlagsArg, AccessModeArg, AtFlagsArg, DirFd, Fd, Int, Long, Mode, OpenFlagsArg,
                         OpenMode, OutBuf, Path, Ptr, SizeT, StatBuf, StatxAtFlagsArg, StatxBuf, StatxMaskArg, UInt)
from ..errors import Errno
from ..fs.mounts import split_path
from ..fs.vfs import (LAST_DOT, LAST_DOTDOT, LAST_NORM, LAST_ROOT, RESOLVE_ALL, RESOLVE_BENEATH, RESOLVE_CACHED,
                      RESOLVE_IN_ROOT, Parent, Resolved, Walk, check_access, may_access)
from ..kernel.table import PARTIAL, syscall
from ..pal import linux as pal
from ..kernel.task import Task


CREATION_FLAGS = OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOCTTY | OpenFlags.O_TRUNC | OpenFlags.O_CLOEXEC
# what O_PATH keeps of the open flags (fs/open.c O_PATH_FLAGS)
O_PATH_FLAGS = OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_PATH | OpenFlags.O_CLOEXEC
# every flag open(2) knows (fs/fcntl.c VALID_OPEN_FLAGS), for openat2's strict check
VALID_OPEN_FLAGS = 0o3 | functools.reduce(operator.or_, (int(f) for f in OpenFlags)) | 0o20000000
OPEN_HOW = struct.Struct("<QQQ")
PAGE_SIZE = 4096


def walk_of(t: Task, resolve: int = 0) -> Walk:
    """Walk with the app's credentials, so that search permission is checked."""
    return Walk(t.proc.creds, resolve)


def base_dir(t: Task, dirfd: int, path: str, scoped: bool = False) -> str:
    """The directory a relative `path` starts from: the cwd or the dirfd's directory
    (also for an absolute path when the walk is scoped to the dirfd, as openat2's
    RESOLVE_BENEATH and RESOLVE_IN_ROOT)."""
    if not path:
        raise Errno(errno.ENOENT)
    if (path.startswith("/") and not scoped) or dirfd == AT_FDCWD:
        return t.proc.cwd
    file = t.files.get(dirfd)
    if file.stat().mode & S_IFMT != S_IFDIR:
        raise Errno(errno.ENOTDIR)
    return file.path


def resolve_at(t: Task, dirfd: int, path: str, follow: bool = True, allow_missing: bool = False,
               resolve: int = 0) -> Resolved:
    base = base_dir(t, dirfd, path, scoped=bool(resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)))
    return t.instance.vfs.resolve(base, path, follow, allow_missing, walk_of(t, resolve))


def parent_at(t: Task, dirfd: int, path: str) -> Parent:
    return t.instance.vfs.resolve_parent(base_dir(t, dirfd, path), path, walk_of(t))


def fd_target(t: Task, fd: int) -> Resolved:
    """The file an fd refers to, as a Resolved (AT_EMPTY_PATH and the f* calls): its
    stat is the open file's own, its mount is found from its sandbox path (normalized,
    with no symlink in it, so lexically). Changes go through its host fd if it has one
    (host_fd_of), else by that path."""
    if fd == AT_FDCWD:
        return resolve_at(t, AT_FDCWD, ".")
    file = t.files.get(fd)
    # a pipe or socket has no name in the file system: it is taken as the root's
    path = file.path if file.path.startswith("/") else "/"
    mount, rel = t.instance.vfs.mounts.find(split_path(path))
    return Resolved(mount, rel, file.path, file.stat(), file)


def host_fd_of(res: Resolved) -> int | None:
    """The host fd of the open file a call names by fd, so that the change reaches that
    very file even if it was renamed or unlinked since; None: reach it by its path."""
    return res.file.host_fd() if res.file is not None else None


def target_at(t: Task, dirfd: int, path: str, flags: int, follow: bool) -> Resolved:
    """The existing file a *at call names: by path, or the dirfd itself with AT_EMPTY_PATH."""
    if not path and flags & AtFlags.AT_EMPTY_PATH:
        return fd_target(t, dirfd)
    return resolve_at(t, dirfd, path, follow=follow)


def stat_at(t: Task, dirfd: int, path: str, flags: int) -> Stat:
    """The shared core of stat, lstat, fstat, newfstatat and statx."""
    if not path and flags & AtFlags.AT_EMPTY_PATH:
        if dirfd == AT_FDCWD:
            return resolve_at(t, dirfd, ".").stat  # type: ignore[return-value]
        return t.files.get(dirfd).stat()
    res = resolve_at(t, dirfd, path, follow=not flags & AtFlags.AT_SYMLINK_NOFOLLOW)
    assert res.stat is not None
    return res.stat


def writable_mount(res: Resolved) -> None:
    """EROFS for a change on a read-only mount (Linux's mnt_want_write). /proc is
    mounted read-write in Linux, but refuses changes to its names and modes: EPERM."""
    if res.mount.kind == "proc":
        raise Errno(errno.EPERM)
    if res.mount.fs.readonly:
        raise Errno(errno.EROFS)


# -- open and close --------------------------------------------------------------------

def open_at(t: Task, dirfd: int, path: str, flags: int, mode: int, resolve: int = 0) -> int:
    """The shared core of open, openat, openat2 and creat."""
    if flags & OpenFlags.O_PATH:
        flags &= O_PATH_FLAGS
    elif flags & OpenFlags.O_CREAT and flags & OpenFlags.O_DIRECTORY:
        raise Errno(errno.EINVAL)
    creating = bool(flags & OpenFlags.O_CREAT)
    if creating and path.endswith("/"):
        parent_at(t, dirfd, path)  # the errors of the components before the last...
        raise Errno(errno.EISDIR)  # ...then O_CREAT of "name/" is EISDIR, whatever name is
    # O_EXCL implies O_NOFOLLOW: a dangling symlink is an existing name (EEXIST)
    follow = not flags & OpenFlags.O_NOFOLLOW and not (creating and flags & OpenFlags.O_EXCL)
    res = resolve_at(t, dirfd, path, follow=follow, allow_missing=creating, resolve=resolve)
    creds = t.proc.creds
    new_in: Stat | None = None  # the directory of a file this open creates, if not root
    if res.stat is None:
        writable_mount(res)
        if not creds.capable(CAP_DAC_OVERRIDE):
            new_in = t.instance.vfs.resolve("/", res.path.rpartition("/")[0] or "/").stat
            assert new_in is not None
            check_access(new_in, creds, W_OK | X_OK)
        mode &= ~t.proc.umask
    else:
        kind = res.stat.mode & S_IFMT
        if creating and flags & OpenFlags.O_EXCL:
            raise Errno(errno.EEXIST)
        if kind == S_IFLNK and not flags & OpenFlags.O_PATH:
            raise Errno(errno.ELOOP)
        if flags & OpenFlags.O_DIRECTORY and kind != S_IFDIR:
            raise Errno(errno.ENOTDIR)
        tmpfile = flags & OpenFlags.O_TMPFILE == OpenFlags.O_TMPFILE  # an unnamed file in this dir
        if kind == S_IFDIR and (flags & O_ACCMODE != os.O_RDONLY or creating) \
                and not flags & OpenFlags.O_PATH and not tmpfile:
            raise Errno(errno.EISDIR)
        if tmpfile:
            mode &= ~t.proc.umask
        if not flags & OpenFlags.O_PATH:
            if flags & OpenFlags.O_TRUNC and kind == S_IFREG and res.mount.kind != "proc":
                writable_mount(res)  # (procfs files and its magic links truncate as Linux's do)
            check_access(res.stat, creds, open_access(flags))
    file = res.mount.fs.open(res.rel, int(flags), mode & 0o7777, res.path)
    file.mount = res.mount
    if new_in is not None:
        give_to_creator(t, res, new_in)
    # what F_GETFL reports: creation flags are forgotten, O_LARGEFILE is implied on 64-bit
    # (but masked off again for O_PATH); a plain int, see OpenFile.flags
    file.flags = int(file.flags & ~CREATION_FLAGS)
    if not flags & OpenFlags.O_PATH:
        file.flags |= int(OpenFlags.O_LARGEFILE)
    return t.files.install(file, cloexec=bool(flags & OpenFlags.O_CLOEXEC))


def open_access(flags: int) -> int:
    """The permission bits an open needs (fs/namei.c may_open)."""
    acc = flags & O_ACCMODE
    need = {os.O_RDONLY: R_OK, os.O_WRONLY: W_OK, os.O_RDWR: R_OK | W_OK}.get(acc, R_OK | W_OK)
    return need | (W_OK if flags & OpenFlags.O_TRUNC else 0)


@syscall("openat", DirFd, Path, OpenFlagsArg, OpenMode, ret=Fd)
def openat(t: Task, dirfd: int, path: str, flags: int, mode: int) -> int:
    return open_at(t, dirfd, path, flags, mode)


@syscall("open", Path, OpenFlagsArg, OpenMode, ret=Fd)
def open_(t: Task, path: str, flags: int, mode: int) -> int:
    return open_at(t, AT_FDCWD, path, flags, mode)


@syscall("creat", Path, Mode, ret=Fd)
def creat(t: Task, path: str, mode: int) -> int:
    return open_at(t, AT_FDCWD, path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)


@syscall("openat2", DirFd, Path, Ptr, SizeT, ret=Fd)
def openat2(t: Task, dirfd: int, path: str, how_ptr: int, size: int) -> int:
    """openat with struct open_how; the checks of fs/open.c build_open_flags."""
    if size < OPEN_HOW.size:
        raise Errno(errno.EINVAL)
    if size > PAGE_SIZE:
        raise Errno(errno.E2BIG)
    raw = t.mem.read(how_ptr, size)
    if any(raw[OPEN_HOW.size:]):
        raise Errno(errno.E2BIG)
    flags, mode, resolve = OPEN_HOW.unpack_from(raw)
    if flags & ~VALID_OPEN_FLAGS or resolve & ~RESOLVE_ALL:
        raise Errno(errno.EINVAL)
    creating = flags & (OpenFlags.O_CREAT | OpenFlags.O_TMPFILE)
    if mode & ~0o7777 or (mode and not creating):
        raise Errno(errno.EINVAL)
    if resolve & RESOLVE_BENEATH and resolve & RESOLVE_IN_ROOT:
        raise Errno(errno.EINVAL)
    if resolve & RESOLVE_CACHED and flags & (OpenFlags.O_TRUNC | OpenFlags.O_CREAT | OpenFlags.O_TMPFILE):
        raise Errno(errno.EAGAIN)
    return open_at(t, dirfd, path, flags, mode, resolve)


@syscall("close", Fd)
def close(t: Task, fd: int) -> int:
    t.files.close(fd)
    return 0


# -- stat ------------------------------------------------------------------------------

STAT_FLAGS = int(AtFlags.AT_SYMLINK_NOFOLLOW | AtFlags.AT_NO_AUTOMOUNT | AtFlags.AT_EMPTY_PATH)
STATX_RESERVED = 0x80000000


@syscall("newfstatat", DirFd, Path, StatBuf, AtFlagsArg)
def newfstatat(t: Task, dirfd: int, path_ptr: str, buf: int, flags: int) -> int:
    if flags & ~STAT_FLAGS:
        raise Errno(errno.EINVAL)
    t.mem.write(buf, stat_at(t, dirfd, path_ptr, flags).pack())
    return 0


@syscall("stat", Path, StatBuf)
def stat(t: Task, path: str, buf: int) -> int:
    t.mem.write(buf, stat_at(t, AT_FDCWD, path, 0).pack())
    return 0


@syscall("lstat", Path, StatBuf)
def lstat(t: Task, path: str, buf: int) -> int:
    t.mem.write(buf, stat_at(t, AT_FDCWD, path, AtFlags.AT_SYMLINK_NOFOLLOW).pack())
    return 0


@syscall("fstat", Fd, StatBuf)
def fstat(t: Task, fd: int, buf: int) -> int:
    t.mem.write(buf, t.files.get(fd).stat().pack())
    return 0


@syscall("statx", DirFd, Path, StatxAtFlagsArg, StatxMaskArg, StatxBuf)
def statx(t: Task, dirfd: int, path: str, flags: int, mask: int, buf: int) -> int:
    if flags & ~(STAT_FLAGS | AT_STATX_SYNC_TYPE) or flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE \
            or mask & STATX_RESERVED:
        raise Errno(errno.EINVAL)
    t.mem.write(buf, stat_at(t, dirfd, path, flags).pack_statx(mask))
    return 0


# -- access ----------------------------------------------------------------------------

def access_at(t: Task, dirfd: int, path: str, mode: int, flags: int) -> int:
    """Permission check against the virtual credentials; EROFS for writes to ro mounts.
    Real and effective ids are the same in the sandbox, so AT_EACCESS changes nothing."""
    if mode & ~7 or flags & ~int(AtFlags.AT_EACCESS | AtFlags.AT_SYMLINK_NOFOLLOW | AtFlags.AT_EMPTY_PATH):
        raise Errno(errno.EINVAL)
    res = target_at(t, dirfd, path, flags, follow=not flags & AtFlags.AT_SYMLINK_NOFOLLOW)
    st = res.stat
    assert st is not None
    if mode == F_OK:
        return 0
    check_access(st, t.proc.creds, mode)
    if mode & W_OK and res.mount.fs.readonly and st.mode & S_IFMT in (S_IFREG, S_IFDIR, S_IFLNK):
        raise Errno(errno.EROFS)  # after the permission check, as fs/open.c do_faccessat
    return 0


@syscall("access", Path, AccessModeArg)
def access(t: Task, path: str, mode: int) -> int:
    return access_at(t, AT_FDCWD, path, mode, 0)


@syscall("faccessat", DirFd, Path, AccessModeArg)
def faccessat(t: Task, dirfd: int, path: str, mode: int) -> int:
    return access_at(t, dirfd, path, mode, 0)


@syscall("faccessat2", DirFd, Path, AccessModeArg, AccessAtFlagsArg)
def faccessat2(t: Task, dirfd: int, path: str, mode: int, flags: int) -> int:
    return access_at(t, dirfd, path, mode, flags)


# -- links and directories -------------------------------------------------------------

def readlink_at(t: Task, dirfd: int, path: str, buf: int, size: int) -> int:
    if size <= 0:
        raise Errno(errno.EINVAL)
    # an empty path reads the symlink an O_PATH|O_NOFOLLOW dirfd refers to
    res = fd_target(t, dirfd) if not path else resolve_at(t, dirfd, path, follow=False)
    assert res.stat is not None
    if res.stat.mode & S_IFMT != S_IFLNK:
        raise Errno(errno.ENOENT if not path else errno.EINVAL)
    target = os.fsencode(res.mount.fs.readlink(res.rel))[:size]
    t.mem.write(buf, target)
    return len(target)


@syscall("readlink", Path, OutBuf, SizeT)
def readlink(t: Task, path: str, buf: int, size: int) -> int:
    return readlink_at(t, AT_FDCWD, path, buf, size)


@syscall("readlinkat", DirFd, Path, OutBuf, SizeT)
def readlinkat(t: Task, dirfd: int, path: str, buf: int, size: int) -> int:
    return readlink_at(t, dirfd, path, buf, size)


@syscall("getdents64", Fd, Ptr, UInt)
def getdents64(t: Task, fd: int, buf: int, count: int) -> int:
    """Entries from the file's listing, taken once per pass; offsets are indexes."""
    file = t.files.get(fd)
    if file.flags & OpenFlags.O_PATH:
        raise Errno(errno.EBADF)
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
    st = file.stat()
    if st.mode & S_IFMT != S_IFDIR:
        raise Errno(errno.ENOTDIR)
    check_access(st, t.proc.creds, X_OK)
    t.proc.cwd = file.path
    return 0


@syscall("umask", Mode)
def umask(t: Task, mask: int) -> int:
    old = t.proc.umask
    t.proc.umask = mask & 0o777
    return old


# -- creating and removing names ---------------------------------------------------------
#
# These walk to the parent directory and look the last name up themselves, checking in
# the order fs/namei.c does: what the last component is ('.', '..', '/'), the mount
# being read-only, whether the name exists, trailing slashes, then permissions. The
# host kernel cannot check the last three for us: it sees Pyrene (root) and our mounts
# are ours, not its.

def sticky_denies(t: Task, parent: Stat, victim: Stat) -> bool:
    """A sticky directory lets only the owners of it or of the entry remove the entry."""
    creds = t.proc.creds
    return bool(parent.mode & 0o1000) and not creds.capable(CAP_FOWNER) and creds.uid not in (parent.uid, victim.uid)


def may_delete(t: Task, parent: Resolved, victim: Resolved, isdir: bool) -> None:
    """fs/namei.c may_delete, plus mount points being busy."""
    assert parent.stat is not None and victim.stat is not None
    check_access(parent.stat, t.proc.creds, W_OK | X_OK)
    if sticky_denies(t, parent.stat, victim.stat):
        raise Errno(errno.EPERM)
    victim_is_dir = victim.stat.mode & S_IFMT == S_IFDIR
    if isdir and not victim_is_dir:
        raise Errno(errno.ENOTDIR)
    if not isdir and victim_is_dir:
        raise Errno(errno.EISDIR)
    if t.instance.vfs.is_mount_point(victim):
        raise Errno(errno.EBUSY)


def give_to_creator(t: Task, new: Resolved, directory: Stat) -> None:
    """A new file belongs to the app's virtual uid and gid (the directory's group if it
    is set-group-ID), not to Pyrene's host identity, so that its owner's permissions
    are the app's. Root (the default when Pyrene runs as root) needs no change; a
    Pyrene that is not root cannot give files away, and they stay its own."""
    creds = t.proc.creds
    if creds.uid == 0 and creds.gid == 0:
        return
    st = new.mount.fs.lstat(new.rel)
    gid = st.gid if directory.mode & 0o2000 else creds.gid
    if (st.uid, st.gid) != (creds.uid, gid):
        try:
            new.mount.fs.chown(new.rel, creds.uid, gid)
        except Errno:
            pass


def create_at(t: Task, dirfd: int, path: str, want_dir: bool = False) -> tuple[Resolved, Stat]:
    """fs/namei.c filename_create: the place of a new name, checked; returns it (stat
    None) and the stat of the directory it goes in."""
    p = parent_at(t, dirfd, path)
    if p.last != LAST_NORM:
        raise Errno(errno.EEXIST)
    child = t.instance.vfs.child(p.dir, p.name)
    if child.stat is not None:
        raise Errno(errno.EEXIST)
    if p.trailing_slash and not want_dir:
        raise Errno(errno.ENOENT)
    writable_mount(p.dir)
    assert p.dir.stat is not None
    check_access(p.dir.stat, t.proc.creds, W_OK | X_OK)
    return child, p.dir.stat


def unlink_at(t: Task, dirfd: int, path: str, flags: int) -> int:
    """The shared core of unlink, unlinkat and rmdir."""
    if flags & ~int(AtFlags.AT_REMOVEDIR):
        raise Errno(errno.EINVAL)
    rmdir = bool(flags & AtFlags.AT_REMOVEDIR)
    p = parent_at(t, dirfd, path)
    if rmdir and p.last != LAST_NORM:
        raise Errno({LAST_DOTDOT: errno.ENOTEMPTY, LAST_DOT: errno.EINVAL, LAST_ROOT: errno.EBUSY}[p.last])
    if not rmdir and p.last != LAST_NORM:
        raise Errno(errno.EISDIR)
    writable_mount(p.dir)
    victim = t.instance.vfs.child(p.dir, p.name)
    if victim.stat is None:
        raise Errno(errno.ENOENT)
    if not rmdir and p.trailing_slash:
        raise Errno(errno.EISDIR if victim.stat.mode & S_IFMT == S_IFDIR else errno.ENOTDIR)
    may_delete(t, p.dir, victim, rmdir)
    if rmdir:
        victim.mount.fs.rmdir(victim.rel)
    else:
        victim.mount.fs.unlink(victim.rel)
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
    new, directory = create_at(t, dirfd, path, want_dir=True)
    new.mount.fs.mkdir(new.rel, mode & 0o1777 & ~t.proc.umask)
    give_to_creator(t, new, directory)
    return 0


@syscall("mkdir", Path, Mode)
def mkdir(t: Task, path: str, mode: int) -> int:
    return mkdir_at(t, AT_FDCWD, path, mode)


@syscall("mkdirat", DirFd, Path, Mode)
def mkdirat(t: Task, dirfd: int, path: str, mode: int) -> int:
    return mkdir_at(t, dirfd, path, mode)


def mknod_at(t: Task, dirfd: int, path: str, mode: int, dev: int) -> int:
    """Regular files, FIFOs and socket names; device nodes are refused (EPERM) in the
    sandbox, as for a process without CAP_MKNOD."""
    kind = mode & S_IFMT or S_IFREG
    if kind == S_IFDIR:
        raise Errno(errno.EPERM)
    if kind not in (S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK):
        raise Errno(errno.EINVAL)
    new, directory = create_at(t, dirfd, path)
    if kind in (S_IFCHR, S_IFBLK):
        raise Errno(errno.EPERM)
    new.mount.fs.mknod(new.rel, kind | (mode & 0o7777 & ~t.proc.umask), 0)
    give_to_creator(t, new, directory)
    return 0


@syscall("mknod", Path, Mode, UInt, support=PARTIAL, note="device nodes are EPERM")
def mknod(t: Task, path: str, mode: int, dev: int) -> int:
    return mknod_at(t, AT_FDCWD, path, mode, dev)


@syscall("mknodat", DirFd, Path, Mode, UInt, support=PARTIAL, note="device nodes are EPERM")
def mknodat(t: Task, dirfd: int, path: str, mode: int, dev: int) -> int:
    return mknod_at(t, dirfd, path, mode, dev)


def symlink_at(t: Task, target: str, dirfd: int, path: str) -> int:
    if not target:
        raise Errno(errno.ENOENT)
    new, directory = create_at(t, dirfd, path)
    new.mount.fs.symlink(target, new.rel)
    give_to_creator(t, new, directory)
    return 0


@syscall("symlink", Path, Path)
def symlink(t: Task, target: str, path: str) -> int:
    return symlink_at(t, target, AT_FDCWD, path)


@syscall("symlinkat", Path, DirFd, Path)
def symlinkat(t: Task, target: str, dirfd: int, path: str) -> int:
    return symlink_at(t, target, dirfd, path)


def link_at(t: Task, olddirfd: int, oldpath: str, newdirfd: int, newpath: str, flags: int) -> int:
    """The shared core of link and linkat. Both names must be on one mount (EXDEV):
    a hard link can never bring a file of one mount into another."""
    if flags & ~int(AtFlags.AT_SYMLINK_FOLLOW | AtFlags.AT_EMPTY_PATH):
        raise Errno(errno.EINVAL)
    old = target_at(t, olddirfd, oldpath, flags, follow=bool(flags & AtFlags.AT_SYMLINK_FOLLOW))
    new, _ = create_at(t, newdirfd, newpath)
    # by fd, the file must have been opened through that mount: stdio handed to Pyrene
    # by the host is in no mount, and linking it in would give it a name in the sandbox
    if old.mount is not new.mount or (old.file is not None and old.file.mount is not new.mount):
        raise Errno(errno.EXDEV)
    assert old.stat is not None
    if old.stat.mode & S_IFMT == S_IFDIR:
        raise Errno(errno.EPERM)
    creds = t.proc.creds
    # fs.protected_hardlinks: only the owner, or someone who may read and write a
    # regular file, may link it
    if creds.uid != old.stat.uid and not creds.capable(CAP_FOWNER) and not (
            old.stat.mode & S_IFMT == S_IFREG and may_access(old.stat, creds, R_OK | W_OK)
            and not old.stat.mode & 0o6000):
        raise Errno(errno.EPERM)
    host_fd = host_fd_of(old)
    if host_fd is not None:
        new.mount.fs.link_host_fd(host_fd, new.rel)
    else:
        new.mount.fs.link(old.rel, new.rel)
    return 0


@syscall("link", Path, Path)
def link(t: Task, oldpath: str, newpath: str) -> int:
    return link_at(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


@syscall("linkat", DirFd, Path, DirFd, Path, AtFlagsArg)
def linkat(t: Task, olddirfd: int, oldpath: str, newdirfd: int, newpath: str, flags: int) -> int:
    return link_at(t, olddirfd, oldpath, newdirfd, newpath, flags)


# -- rename ------------------------------------------------------------------------------

RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4


def rename_at(t: Task, olddirfd: int, oldpath: str, newdirfd: int, newpath: str, flags: int) -> int:
    """The shared core of rename, renameat and renameat2 (fs/namei.c do_renameat2).
    Both names must be on one mount (EXDEV), so nothing is ever renamed out of one."""
    if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT):
        raise Errno(errno.EINVAL)
    if flags & RENAME_EXCHANGE and flags & (RENAME_NOREPLACE | RENAME_WHITEOUT):
        raise Errno(errno.EINVAL)
    if flags & RENAME_WHITEOUT:
        raise Errno(errno.EINVAL)  # no overlay file systems here to need whiteouts
    vfs = t.instance.vfs
    op = parent_at(t, olddirfd, oldpath)
    np = parent_at(t, newdirfd, newpath)
    if op.dir.mount is not np.dir.mount:
        raise Errno(errno.EXDEV)
    if op.last != LAST_NORM:
        raise Errno(errno.EBUSY)
    if np.last != LAST_NORM:
        raise Errno(errno.EEXIST if flags & RENAME_NOREPLACE else errno.EBUSY)
    writable_mount(op.dir)
    old = vfs.child(op.dir, op.name)
    if old.stat is None:
        raise Errno(errno.ENOENT)
    new = vfs.child(np.dir, np.name)
    if flags & RENAME_NOREPLACE and new.stat is not None:
        raise Errno(errno.EEXIST)
    if flags & RENAME_EXCHANGE and new.stat is None:
        raise Errno(errno.ENOENT)
    old_is_dir = old.stat.mode & S_IFMT == S_IFDIR
    new_is_dir = new.stat is not None and new.stat.mode & S_IFMT == S_IFDIR
    if not old_is_dir and (op.trailing_slash or (np.trailing_slash and not flags & RENAME_EXCHANGE)):
        raise Errno(errno.ENOTDIR)
    if flags & RENAME_EXCHANGE and not new_is_dir and np.trailing_slash:
        raise Errno(errno.ENOTDIR)
    if old.path == new.path:
        return 0
    if new.path.startswith(old.path + "/"):
        raise Errno(errno.EINVAL)  # a directory into itself
    if old.path.startswith(new.path + "/"):
        raise Errno(errno.EINVAL if flags & RENAME_EXCHANGE else errno.ENOTEMPTY)
    may_delete(t, op.dir, old, old_is_dir)
    if new.stat is not None:
        may_delete(t, np.dir, new, new_is_dir if flags & RENAME_EXCHANGE else old_is_dir)
    else:
        assert np.dir.stat is not None
        check_access(np.dir.stat, t.proc.creds, W_OK | X_OK)
    old.mount.fs.rename(old.rel, new.rel, flags)
    follow_rename(t, old.path, new.path, exchange=bool(flags & RENAME_EXCHANGE))
    return 0


def follow_rename(t: Task, old: str, new: str, exchange: bool) -> None:
    """Open files and the cwd are known by their sandbox paths: move the ones at or
    under a renamed name along with it (both ways for RENAME_EXCHANGE), so that dirfds,
    fchdir and /proc/self/fd keep naming the same files."""
    def moved(path: str) -> str:
        for a, b in ((old, new), (new, old)) if exchange else ((old, new),):
            if path == a or path.startswith(a + "/"):
                return b + path[len(a):]
        return path

    for file in {id(e.file): e.file for e in t.files.entries.values()}.values():
        file.path = moved(file.path)
    t.proc.cwd = moved(t.proc.cwd)


@syscall("rename", Path, Path)
def rename(t: Task, oldpath: str, newpath: str) -> int:
    return rename_at(t, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


@syscall("renameat", DirFd, Path, DirFd, Path)
def renameat(t: Task, olddirfd: int, oldpath: str, newdirfd: int, newpath: str) -> int:
    return rename_at(t, olddirfd, oldpath, newdirfd, newpath, 0)


@syscall("renameat2", DirFd, Path, DirFd, Path, UInt, support=PARTIAL, note="RENAME_WHITEOUT is EINVAL")
def renameat2(t: Task, olddirfd: int, oldpath: str, newdirfd: int, newpath: str, flags: int) -> int:
    return rename_at(t, olddirfd, oldpath, newdirfd, newpath, flags)


# -- metadata: mode, owner, times, size ----------------------------------------------------

def not_o_path(t: Task, fd: int) -> None:
    """fchmod, fchown and futimens take a real open file: an O_PATH fd is EBADF."""
    if t.files.get(fd).flags & OpenFlags.O_PATH:
        raise Errno(errno.EBADF)


def chmod_file(t: Task, res: Resolved, mode: int) -> int:
    """The shared core of the chmod family: only the owner (or root) may."""
    assert res.stat is not None
    writable_mount(res)
    creds = t.proc.creds
    if creds.uid != res.stat.uid and not creds.capable(CAP_FOWNER):
        raise Errno(errno.EPERM)
    if not creds.capable(CAP_FSETID) and not creds.in_group(res.stat.gid):
        mode &= ~0o2000  # a non-member cannot set set-group-ID: silently dropped
    host_fd = host_fd_of(res)
    if host_fd is not None:
        pal.chmod_fd(host_fd, mode & 0o7777)
    else:
        res.mount.fs.chmod(res.rel, mode & 0o7777)
    return 0


@syscall("chmod", Path, Mode)
def chmod(t: Task, path: str, mode: int) -> int:
    return chmod_file(t, resolve_at(t, AT_FDCWD, path), mode)


@syscall("fchmod", Fd, Mode)
def fchmod(t: Task, fd: int, mode: int) -> int:
    not_o_path(t, fd)
    return chmod_file(t, fd_target(t, fd), mode)


@syscall("fchmodat", DirFd, Path, Mode)
def fchmodat(t: Task, dirfd: int, path: str, mode: int) -> int:
    return chmod_file(t, resolve_at(t, dirfd, path), mode)


NO_ID = 0xFFFFFFFF  # (uid_t)-1: leave this id as it is


def chown_file(t: Task, res: Resolved, uid: int, gid: int) -> int:
    """The shared core of the chown family: root may give files away; an owner may only
    change the group to one of its own. Ids are unsigned 32-bit, NO_ID meaning none."""
    assert res.stat is not None
    uid = -1 if uid == NO_ID else uid
    gid = -1 if gid == NO_ID else gid
    writable_mount(res)
    creds = t.proc.creds
    if not creds.capable(CAP_CHOWN):
        st = res.stat
        if uid != -1 and uid != st.uid:
            raise Errno(errno.EPERM)
        if gid != -1 and (st.uid != creds.uid or (gid != st.gid and gid != creds.gid and gid not in creds.groups)):
            raise Errno(errno.EPERM)
    host_fd = host_fd_of(res)
    if host_fd is not None:
        pal.chown_fd(host_fd, uid, gid)
    else:
        res.mount.fs.chown(res.rel, uid, gid)
    return 0


def chown_at(t: Task, dirfd: int, path: str, uid: int, gid: int, flags: int) -> int:
    if flags & ~int(AtFlags.AT_SYMLINK_NOFOLLOW | AtFlags.AT_EMPTY_PATH):
        raise Errno(errno.EINVAL)
    res = target_at(t, dirfd, path, flags, follow=not flags & AtFlags.AT_SYMLINK_NOFOLLOW)
    return chown_file(t, res, uid, gid)


@syscall("chown", Path, UInt, UInt)
def chown(t: Task, path: str, uid: int, gid: int) -> int:
    return chown_at(t, AT_FDCWD, path, uid, gid, 0)


@syscall("lchown", Path, UInt, UInt)
def lchown(t: Task, path: str, uid: int, gid: int) -> int:
    return chown_at(t, AT_FDCWD, path, uid, gid, AtFlags.AT_SYMLINK_NOFOLLOW)


@syscall("fchown", Fd, UInt, UInt)
def fchown(t: Task, fd: int, uid: int, gid: int) -> int:
    not_o_path(t, fd)
    return chown_file(t, fd_target(t, fd), uid, gid)


@syscall("fchownat", DirFd, Path, UInt, UInt, AtFlagsArg)
def fchownat(t: Task, dirfd: int, path: str, uid: int, gid: int, flags: int) -> int:
    return chown_at(t, dirfd, path, uid, gid, flags)


UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
Times = tuple[tuple[int, int], tuple[int, int]] | None


def utimes_file(t: Task, res: Resolved, times: Times) -> int:
    """The shared core of utimensat, futimesat, utimes and utime (fs/utimes.c): `times`
    are (sec, nsec) pairs for atime and mtime, UTIME_NOW/UTIME_OMIT allowed; None = now."""
    assert res.stat is not None
    if times is not None and any(not (0 <= ns < 10**9 or ns in (UTIME_NOW, UTIME_OMIT)) for _, ns in times):
        raise Errno(errno.EINVAL)
    writable_mount(res)
    creds = t.proc.creds
    if creds.uid != res.stat.uid and not creds.capable(CAP_FOWNER):
        to_now = times is None or all(ns == UTIME_NOW for _, ns in times)
        if not to_now:
            raise Errno(errno.EPERM)  # explicit times: the owner only
        check_access(res.stat, creds, W_OK)  # "now": anyone who may write
    host_fd = host_fd_of(res)
    if host_fd is not None:
        pal.utimens_fd(host_fd, times)
    else:
        res.mount.fs.utimens(res.rel, times)
    return 0


def read_times(t: Task, ptr: int, pair: struct.Struct, scale: int) -> Times:
    """Two timespecs (scale 1) or timevals (scale 1000) from the app; NULL is None."""
    if not ptr:
        return None
    raw = t.mem.read(ptr, 2 * pair.size)
    out = []
    for i in range(2):
        sec, frac = pair.unpack_from(raw, i * pair.size)
        if scale != 1 and not 0 <= frac < 10**6:
            raise Errno(errno.EINVAL)
        out.append((sec, frac * scale))
    return (out[0], out[1])


@syscall("utimensat", DirFd, Ptr, Ptr, AtFlagsArg)
def utimensat(t: Task, dirfd: int, path_ptr: int, times_ptr: int, flags: int) -> int:
    times = read_times(t, times_ptr, TIMESPEC, 1)
    if times is not None and times[0][1] == UTIME_OMIT and times[1][1] == UTIME_OMIT:
        return 0  # nothing to do: Linux does not even look at the path
    if flags & ~int(AtFlags.AT_SYMLINK_NOFOLLOW | AtFlags.AT_EMPTY_PATH):
        raise Errno(errno.EINVAL)
    if not path_ptr:  # futimens
        if dirfd == AT_FDCWD:
            raise Errno(errno.EFAULT)
        if flags & AtFlags.AT_SYMLINK_NOFOLLOW:
            raise Errno(errno.EINVAL)
        not_o_path(t, dirfd)
        return utimes_file(t, fd_target(t, dirfd), times)
    path = Path.decode(t.mem, path_ptr)
    res = target_at(t, dirfd, path, flags, follow=not flags & AtFlags.AT_SYMLINK_NOFOLLOW)
    return utimes_file(t, res, times)


@syscall("futimesat", DirFd, Path, Ptr)
def futimesat(t: Task, dirfd: int, path: str, times_ptr: int) -> int:
    return utimes_file(t, resolve_at(t, dirfd, path), read_times(t, times_ptr, TIMEVAL, 1000))


@syscall("utimes", Path, Ptr)
def utimes(t: Task, path: str, times_ptr: int) -> int:
    return utimes_file(t, resolve_at(t, AT_FDCWD, path), read_times(t, times_ptr, TIMEVAL, 1000))


@syscall("utime", Path, Ptr)
def utime(t: Task, path: str, buf: int) -> int:
    times: Times = None
    if buf:
        actime, modtime = struct.unpack("<qq", t.mem.read(buf, 16))
        times = ((actime, 0), (modtime, 0))
    return utimes_file(t, resolve_at(t, AT_FDCWD, path), times)


@syscall("truncate", Path, Long)
def truncate(t: Task, path: str, length: int) -> int:
    """truncate(2) by path (ftruncate is in io.py: it works on the open file)."""
    if length < 0:
        raise Errno(errno.EINVAL)
    res = resolve_at(t, AT_FDCWD, path)
    assert res.stat is not None
    kind = res.stat.mode & S_IFMT
    if kind == S_IFDIR:
        raise Errno(errno.EISDIR)
    if kind != S_IFREG:
        raise Errno(errno.EINVAL)
    writable_mount(res)
    check_access(res.stat, t.proc.creds, W_OK)
    res.mount.fs.truncate(res.rel, length)
    return 0


# -- file systems as a whole -----------------------------------------------------------------

# f_type of the synthesized mounts, as their Linux counterparts report it
KIND_MAGIC = {"proc": 0x9FA0, "tmpfs": 0x01021994, "dev": 0x01021994}


def statfs_of(res: Resolved) -> bytes:
    host_fd = host_fd_of(res)
    if host_fd is None:
        st: StatFs = res.mount.fs.statfs(res.rel)
    else:
        st = StatFs.unpack(pal.statfs_fd(host_fd))
        if res.mount.fs.readonly:
            st = st._replace(flags=st.flags | ST_RDONLY)
    magic = KIND_MAGIC.get(res.mount.kind)
    if magic is not None:
        st = st._replace(type=magic)
    return st.pack()


@syscall("statfs", Path, Ptr)
def statfs(t: Task, path: str, buf: int) -> int:
    t.mem.write(buf, statfs_of(resolve_at(t, AT_FDCWD, path)))
    return 0


@syscall("fstatfs", Fd, Ptr)
def fstatfs(t: Task, fd: int, buf: int) -> int:
    file = t.files.get(fd)
    host_fd = file.host_fd()
    if not file.path.startswith("/") and host_fd is not None:  # a host pipe or socket
        t.mem.write(buf, pal.statfs_fd(host_fd))
        return 0
    t.mem.write(buf, statfs_of(fd_target(t, fd)))
    return 0


@syscall("sync")
def sync(t: Task) -> int:
    pal.sync_all()
    return 0


