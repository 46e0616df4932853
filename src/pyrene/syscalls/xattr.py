"""Extended attributes: get/set/list/remove, by path (following or not) and by fd.

Files of host mounts keep their host xattrs; the app may change only the `user.`
namespace (the others are the host's: security labels, ACLs, `trusted.`). Symlinks have
no user attributes on Linux, so the l* calls on one list none, find none and may set
none (EPERM). Synthesized files have none and take none, as procfs.

There are no POSIX ACLs: Pyrene decides access by the mode bits alone, so its file
systems answer as one mounted without ACL support (EOPNOTSUPP for system.posix_acl_*,
none listed). Programs that copy permissions (sed -i, cp -p, tar) then fall back to
chmod quietly, as they do on such a file system.
"""

from __future__ import annotations

import errno

from ..abi.flags import S_IFLNK, S_IFMT, OpenFlags
from ..abi.types import Fd, Int, Path, Ptr, SizeT
from ..errors import Errno
from ..fs.file import no_xattrs
from ..fs.vfs import Resolved
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from ..pal import linux as pal
from .fs import resolve_at

XATTR_CREATE, XATTR_REPLACE = 1, 2
XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX = 255, 65536, 65536
NAMESPACES = ("user.", "trusted.", "security.", "system.")
AT_FDCWD = -100
ACLS = "system.posix_acl_"
NOTE = "only the user. namespace can be changed; no POSIX ACLs"


def check_name(name: str) -> None:
    if not name or len(name.encode()) > XATTR_NAME_MAX:
        raise Errno(errno.ERANGE)
    if not name.startswith(NAMESPACES) or name.startswith(ACLS):
        raise Errno(errno.EOPNOTSUPP)


def on_path(t: Task, path: str, follow: bool, op: str, *args: object) -> object:
    """An xattr op on the file `path` names (the link itself unless `follow`)."""
    res = resolve_at(t, AT_FDCWD, path, follow=follow)
    assert res.stat is not None
    if res.stat.mode & S_IFMT == S_IFLNK:
        return no_user_xattrs(op)
    return on_resolved(res, op, *args)


def on_resolved(res: Resolved, op: str, *args: object) -> object:
    if op in ("set", "remove") and not str(args[0]).startswith("user."):
        raise Errno(errno.EPERM)
    return res.mount.fs.xattr(res.rel, op, *args)


def no_user_xattrs(op: str) -> object:
    """What Linux answers for a file that cannot have user attributes (a symlink, a pipe,
    a socket: fs/xattr.c xattr_permission): none listed, none found, none taken."""
    if op == "list":
        return []
    raise Errno(errno.EPERM if op in ("set", "remove") else errno.ENODATA)


def on_fd(t: Task, fd: int, op: str, *args: object) -> object:
    file = t.files.get(fd)
    if file.flags & OpenFlags.O_PATH:
        raise Errno(errno.EBADF)
    if op in ("set", "remove") and not str(args[0]).startswith("user."):
        raise Errno(errno.EPERM)
    host_fd = file.host_fd()
    if not file.path.startswith("/"):  # a pipe, a socket, a memfd
        return no_user_xattrs(op)
    if host_fd is None:  # a synthesized file
        return no_xattrs(op)
    if op in ("set", "remove") and file.mount is not None and file.mount.fs.readonly:  # type: ignore[attr-defined]
        raise Errno(errno.EROFS)
    return pal.XATTR_OPS[op](host_fd, *args)  # type: ignore[operator]


def give_value(t: Task, buf: int, size: int, value: bytes) -> int:
    """getxattr's and listxattr's contract: size 0 asks for the length only."""
    if size == 0:
        return len(value)
    if len(value) > size:
        raise Errno(errno.ERANGE)
    t.mem.write(buf, value)
    return len(value)


def take_value(t: Task, value: int, size: int, flags: int) -> bytes:
    if flags & ~(XATTR_CREATE | XATTR_REPLACE):
        raise Errno(errno.EINVAL)
    if size > XATTR_SIZE_MAX:
        raise Errno(errno.E2BIG)
    return t.mem.read(value, size) if size else b""


def packed_list(names: object) -> bytes:
    return b"".join(n.encode("utf-8", "surrogateescape") + b"\0"
                    for n in names if not n.startswith(ACLS))  # type: ignore[attr-defined]


@syscall("getxattr", Path, Path, Ptr, SizeT)
def getxattr(t: Task, path: str, name: str, buf: int, size: int) -> int:
    check_name(name)
    return give_value(t, buf, size, on_path(t, path, True, "get", name))  # type: ignore[arg-type]


@syscall("lgetxattr", Path, Path, Ptr, SizeT)
def lgetxattr(t: Task, path: str, name: str, buf: int, size: int) -> int:
    check_name(name)
    return give_value(t, buf, size, on_path(t, path, False, "get", name))  # type: ignore[arg-type]


@syscall("fgetxattr", Fd, Path, Ptr, SizeT)
def fgetxattr(t: Task, fd: int, name: str, buf: int, size: int) -> int:
    check_name(name)
    return give_value(t, buf, size, on_fd(t, fd, "get", name))  # type: ignore[arg-type]


@syscall("listxattr", Path, Ptr, SizeT)
def listxattr(t: Task, path: str, buf: int, size: int) -> int:
    return give_value(t, buf, size, packed_list(on_path(t, path, True, "list")))


@syscall("llistxattr", Path, Ptr, SizeT)
def llistxattr(t: Task, path: str, buf: int, size: int) -> int:
    return give_value(t, buf, size, packed_list(on_path(t, path, False, "list")))


@syscall("flistxattr", Fd, Ptr, SizeT)
def flistxattr(t: Task, fd: int, buf: int, size: int) -> int:
    return give_value(t, buf, size, packed_list(on_fd(t, fd, "list")))


@syscall("setxattr", Path, Path, Ptr, SizeT, Int, support=PARTIAL, note=NOTE)
def setxattr(t: Task, path: str, name: str, value: int, size: int, flags: int) -> int:
    check_name(name)
    on_path(t, path, True, "set", name, take_value(t, value, size, flags), flags)
    return 0


@syscall("lsetxattr", Path, Path, Ptr, SizeT, Int, support=PARTIAL, note=NOTE)
def lsetxattr(t: Task, path: str, name: str, value: int, size: int, flags: int) -> int:
    check_name(name)
    on_path(t, path, False, "set", name, take_value(t, value, size, flags), flags)
    return 0


@syscall("fsetxattr", Fd, Path, Ptr, SizeT, Int, support=PARTIAL, note=NOTE)
def fsetxattr(t: Task, fd: int, name: str, value: int, size: int, flags: int) -> int:
    check_name(name)
    on_fd(t, fd, "set", name, take_value(t, value, size, flags), flags)
    return 0


@syscall("removexattr", Path, Path, support=PARTIAL, note=NOTE)
def removexattr(t: Task, path: str, name: str) -> int:
    check_name(name)
    on_path(t, path, True, "remove", name)
    return 0


@syscall("lremovexattr", Path, Path, support=PARTIAL, note=NOTE)
def lremovexattr(t: Task, path: str, name: str) -> int:
    check_name(name)
    on_path(t, path, False, "remove", name)
    return 0


@syscall("fremovexattr", Fd, Path, support=PARTIAL, note=NOTE)
def fremovexattr(t: Task, fd: int, name: str) -> int:
    check_name(name)
    on_fd(t, fd, "remove", name)
    return 0
