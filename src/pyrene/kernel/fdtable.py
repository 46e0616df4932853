"""The virtual fd table: fd number -> (open file description, close-on-exec).

An fd and an open file description are different things: dup() makes a second fd for
the same OpenFile (shared offset and status flags), while FD_CLOEXEC belongs to the fd.
OpenFile objects count their fds and release their host resources at the last close.

Closing also ends locks (fs/locks.py, held by the leader: ipc/shared.py), as Linux does:
the process's POSIX record locks on the file at *any* close of an fd of it, and the
description's flock/OFD locks at its last close in the sandbox. `LockHints` remembers what
the process may hold, so that a close asks the leader only then (the hot path pays one
truth test of two empty sets).
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from ..errors import Errno
from ..fs.file import OpenFile


class FdEntry:
    __slots__ = ("file", "cloexec")

    def __init__(self, file: OpenFile, cloexec: bool) -> None:
        self.file = file
        self.cloexec = cloexec


class LockHints:
    """What the process may hold in the leader's lock table: files (st_dev, st_ino) with
    its POSIX locks, descriptions with OFD or flock locks. `release(op, args)` tells the
    leader (ipc/shared.py op_lock_release, op_desc_closed). A stale hint (a forked child's
    copy of its parent's POSIX files: POSIX locks are not inherited) costs one useless
    call at the file's next close, nothing more."""

    __slots__ = ("posix", "descriptions", "release")

    def __init__(self, release: Callable[[str, tuple[object, ...]], object] | None = None) -> None:
        self.posix: set[tuple[int, int]] = set()
        self.descriptions: set[tuple[int, int, int]] = set()
        self.release = release


class FdTable:
    def __init__(self, limit: int = 1024, locks: LockHints | None = None) -> None:
        self.entries: dict[int, FdEntry] = {}
        self.limit = limit
        self.locks = locks if locks is not None else LockHints()

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

    def install_new(self, file: OpenFile, cloexec: bool = False) -> int:
        """`install` a description just made: if there is no free fd (EMFILE), its host
        resources go back at once (nothing else holds it)."""
        try:
            return self.install(file, cloexec)
        except Errno:
            file.release()
            raise

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
        hints = self.locks
        if hints.posix or hints.descriptions:
            self._release_locks(hints, file)
        file.decref()

    @staticmethod
    def _release_locks(hints: LockHints, file: OpenFile) -> None:
        if hints.release is None:
            return
        try:
            if hints.posix:
                key = file.identity()
                if key in hints.posix:
                    hints.posix.discard(key)
                    hints.release("lock_release", (key,))
            if file.refs == 1 and file.description_id in hints.descriptions:
                hints.descriptions.discard(file.description_id)
                hints.release("desc_closed", (file.description_id,))
        except (Errno, ConnectionError):
            pass  # a file that cannot say what it is holds no lock; a leader gone, nothing

    def close_all(self) -> None:
        for fd in list(self.entries):
            self.close(fd)
