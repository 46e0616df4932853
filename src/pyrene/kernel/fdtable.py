"""The virtual fd table: fd number -> (open file description, close-on-exec).

An fd and an open file description are different things: dup() makes a second fd for
the same OpenFile (shared offset and status flags), while FD_CLOEXEC belongs to the fd.
OpenFile objects count their fds and release their host resources at the last close.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from ..errors import Errno
from ..fs.file import OpenFile


@dataclass(slots=True)
class FdEntry:
    file: OpenFile
    cloexec: bool


class FdTable:
    def __init__(self, limit: int = 1024) -> None:
        self.entries: dict[int, FdEntry] = {}
        self.limit = limit

    def get(self, fd: int) -> OpenFile:
        entry = self.entries.get(fd)
        if entry is None:
            raise Errno(errno.EBADF, f"fd {fd}")
        return entry.file

    def entry(self, fd: int) -> FdEntry:
        entry = self.entries.get(fd)
        if entry is None:
            raise Errno(errno.EBADF, f"fd {fd}")
        return entry

    def lowest_free(self, start: int = 0) -> int:
        fd = start
        while fd in self.entries:
            fd += 1
        if fd >= self.limit:
            raise Errno(errno.EMFILE)
        return fd

    def install(self, file: OpenFile, cloexec: bool = False, start: int = 0) -> int:
        """Put `file` at the lowest free fd >= start (takes a new reference)."""
        fd = self.lowest_free(start)
        file.incref()
        self.entries[fd] = FdEntry(file, cloexec)
        return fd

    def install_at(self, fd: int, file: OpenFile, cloexec: bool = False) -> None:
        """dup2/dup3 semantics: close whatever was at `fd` first."""
        if fd < 0 or fd >= self.limit:
            raise Errno(errno.EBADF)
        file.incref()
        old = self.entries.get(fd)
        self.entries[fd] = FdEntry(file, cloexec)
        if old is not None:
            old.file.decref()

    def close(self, fd: int) -> None:
        entry = self.entries.pop(fd, None)
        if entry is None:
            raise Errno(errno.EBADF)
        entry.file.decref()

    def close_all(self) -> None:
        for fd in list(self.entries):
            self.close(fd)
