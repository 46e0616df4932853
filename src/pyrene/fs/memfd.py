"""memfd_create: an anonymous file whose data lives in a real host memfd held by the
instance, so that everything a host file can do works unchanged (read/write, ftruncate,
fstat, and MAP_SHARED mappings that are the very same pages, kernel/memory.map_file).
Seals (F_ADD_SEALS/F_GET_SEALS) are the host's too: F_SEAL_WRITE is refused while the app
has a shared writable mapping, exactly as on Linux, since the mapping is of this file.
"""

from __future__ import annotations

import errno

from ..abi.flags import OpenFlags
from ..errors import Errno
from ..pal import linux as pal
from .host import HostFile

MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB = 0x1, 0x2, 0x4
MFD_NOEXEC_SEAL, MFD_EXEC = 0x8, 0x10
MFD_KNOWN = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC
NAME_MAX = 249  # Linux: NAME_MAX minus strlen("memfd:")


class MemFile(HostFile):
    """An open memfd; /proc/self/fd shows it as Linux does: `/memfd:NAME (deleted)`."""

    def seals(self, add: int | None) -> int:
        return pal.seals(self.fd, add)


def create(name: str, flags: int) -> MemFile:
    if flags & ~MFD_KNOWN or len(name.encode()) > NAME_MAX:
        raise Errno(errno.EINVAL)
    fd = pal.memfd(name, flags & ~MFD_CLOEXEC)
    return MemFile(fd, OpenFlags.O_RDWR | OpenFlags.O_LARGEFILE, f"/memfd:{name}")  # /proc adds " (deleted)"
