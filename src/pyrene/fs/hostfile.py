"""A "chroot" mount of a single host file (Gramine's `{ path = "/usr/bin/python3", uri =
"file:/usr/bin/python3" }`): the mount point itself is the file, nothing is below it.
The host file is held by an O_PATH fd from mount time and reopened through it, so a
rename or symlink swap of the host path later changes nothing."""

from __future__ import annotations

import errno
import os

from ..abi.flags import O_ACCMODE, OpenFlags
from ..errors import Errno
from ..pal import linux as pal
from .file import OpenFile
from .host import HostFile, HostFS
from .trusted import CheckedHostFS


class HostFileFS(HostFS):
    def open(self, rel: str, flags: int, mode: int, path: str) -> OpenFile:
        if rel:
            raise Errno(errno.ENOTDIR)
        if flags & OpenFlags.O_DIRECTORY:
            raise Errno(errno.ENOTDIR)
        if flags & OpenFlags.O_CREAT and flags & OpenFlags.O_EXCL:
            raise Errno(errno.EEXIST)
        if self.readonly and (flags & O_ACCMODE != os.O_RDONLY or flags & OpenFlags.O_TRUNC):
            raise Errno(errno.EROFS)
        host_flags = flags & ~(OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK | OpenFlags.O_ASYNC | OpenFlags.O_CREAT
                               | OpenFlags.O_NOFOLLOW)
        return HostFile(pal.reopen(self.root_fd, host_flags), flags & ~OpenFlags.O_CLOEXEC, path)


class CheckedHostFileFS(CheckedHostFS, HostFileFS):
    """A single-file mount under the manifest's file checks (checks first, then reopen)."""
