"""The virtual fd table: fd number -> (open file description, close-on-exec).

An fd and an open file description are different things: dup() makes a second fd for
the same OpenFile (shared offset and status flags), while FD_CLOEXEC belongs to the fd.
OpenFile objects count their fds and release their host resources at the last close.

Closing also ends locks (fs/locks.py), as Linux does: the process's POSIX record locks on
the file at *any* close of an fd of it, and the description's flock/OFD locks at its last.
The table itself is the POSIX lock owner (Linux: `fl_owner = current->files`).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from ..errors import Errno
from ..fs.file import OpenFile
from ..fs.locks import LockTable


@dataclass(slots=True)
class FdEntry:
    file: OpenFile
    cloexec: bool


class FdTable:
    def __init__(self, limit: int = 1024, locks: LockTable | None = None) -> None:
        self.entries: dict[int, FdEntry] = {}
        self.limit = limit
        self.locks = locks if locks is not None else LockTable()

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
            self.drop(old.file)

    def close(self, fd: int) -> None:
        entry = self.entries.pop(fd, None)
        if entry is None:
            raise Errno(errno.EBADF)
        self.drop(entry.file)

    def drop(self, file: OpenFile) -> None:
        """One fd of `file` is gone: end the locks Linux ends, then unreference it."""
        locks = self.locks
        if locks.held:
            if locks.holds(self):
                try:
                    locks.release(self, file.identity())
                except Errno:
                    pass
            if file.refs == 1 and locks.holds(file):
                locks.release(file)
        file.decref()

    def close_all(self) -> None:
        for fd in list(self.entries):
            self.close(fd)
