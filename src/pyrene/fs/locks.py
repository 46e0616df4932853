"""Advisory file locks: flock(2), POSIX record locks and OFD record locks.

Linux keeps three kinds of advisory locks on an inode, and who owns a lock is what tells
them apart:

  * POSIX record locks (F_SETLK/F_SETLKW) belong to the *fd table* of the process that took
    them (Linux's `fl_owner = current->files`). Two locks of one owner never conflict: a new
    lock simply replaces the owner's old ones on the range it covers (splitting and merging
    ranges). They are all dropped when the owner closes *any* fd referring to the inode,
    even another open file description of it (the famous trap sqlite works around).
  * OFD record locks (F_OFD_SETLK...) belong to an *open file description*. They conflict
    with POSIX locks and with OFD locks of other descriptions, even in one process, and go
    away when the description's last fd is closed.
  * flock() locks also belong to an open file description and conflict between
    descriptions; they live in their own namespace (Linux: flock and fcntl locks do not
    see each other).

Files are identified by (st_dev, st_ino). One `LockTable` serves the whole sandbox, in the
namespace leader (ipc/shared.py), where owners are sandbox-wide values: (POSIX, vpid) for
POSIX locks (Linux's `current->files`: one fd table per process here), (DESC, description
id) for OFD and flock locks; to this module they are opaque hashable values.

Waiting (F_SETLKW, flock without LOCK_NB) is the caller's business: `set_range` and
`flock` raise EAGAIN on a conflict and ipc/shared.py decides what a wait means.
"""

from __future__ import annotations

import errno
from collections.abc import Hashable
from dataclasses import dataclass, field

from ..errors import Errno

F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2
OFFSET_MAX = (1 << 63) - 1  # "to the end of the file, however long it grows"

FileKey = tuple[int, int]  # (st_dev, st_ino)


@dataclass(slots=True)
class RangeLock:
    owner: Hashable
    kind: int  # F_RDLCK or F_WRLCK
    start: int
    end: int  # inclusive; OFFSET_MAX for "to EOF"
    pid: int  # what F_GETLK reports: the locker's pid, or -1 for OFD locks

    def conflicts(self, owner: Hashable, kind: int, start: int, end: int) -> bool:
        return (self.owner != owner and self.start <= end and start <= self.end
                and F_WRLCK in (self.kind, kind))


@dataclass
class LockTable:
    ranges: dict[FileKey, list[RangeLock]] = field(default_factory=dict)
    flocks: dict[FileKey, dict[Hashable, int]] = field(default_factory=dict)
    # file keys on which an owner holds something, for the release on close
    held: dict[Hashable, set[FileKey]] = field(default_factory=dict)

    # -- record locks (POSIX and OFD) ----------------------------------------------------

    def test_range(self, key: FileKey, owner: Hashable, kind: int, start: int, end: int) -> RangeLock | None:
        """F_GETLK: the first lock that would block `owner` from taking this one."""
        for lock in self.ranges.get(key, ()):
            if lock.conflicts(owner, kind, start, end):
                return lock
        return None

    def set_range(self, key: FileKey, owner: Hashable, pid: int, kind: int, start: int, end: int) -> None:
        """F_SETLK: take (or, with F_UNLCK, drop) `owner`'s lock on [start, end].

        EAGAIN if another owner holds a conflicting lock; nothing changes then.
        """
        locks = self.ranges.get(key, [])
        if kind != F_UNLCK and any(lock.conflicts(owner, kind, start, end) for lock in locks):
            raise Errno(errno.EAGAIN)
        kept: list[RangeLock] = []
        for lock in locks:
            if lock.owner != owner or lock.end < start or lock.start > end:
                kept.append(lock)
                continue
            # the owner's old lock loses the part the new request covers
            if lock.start < start:
                kept.append(RangeLock(owner, lock.kind, lock.start, start - 1, lock.pid))
            if lock.end > end:
                kept.append(RangeLock(owner, lock.kind, end + 1, lock.end, lock.pid))
        if kind != F_UNLCK:
            kept.append(RangeLock(owner, kind, start, end, pid))
            kept = merge_adjacent(kept, owner)
        self._store(key, owner, kept)

    # -- flock ---------------------------------------------------------------------------

    def flock(self, key: FileKey, owner: Hashable, kind: int) -> None:
        """flock(LOCK_SH/LOCK_EX/LOCK_UN) as F_RDLCK/F_WRLCK/F_UNLCK; EAGAIN on conflict.

        Like Linux, converting a lock drops the old one first (not atomic).
        """
        holders = self.flocks.setdefault(key, {})
        holders.pop(owner, None)
        if kind != F_UNLCK:
            if any(k == F_WRLCK or kind == F_WRLCK for k in holders.values()):
                self._forget_flock(key, owner)
                raise Errno(errno.EAGAIN)
            holders[owner] = kind
            self.held.setdefault(owner, set()).add(key)
        else:
            self._forget_flock(key, owner)

    # -- releases on close -----------------------------------------------------------------

    def holds(self, owner: Hashable) -> bool:
        return owner in self.held

    def release(self, owner: Hashable, key: FileKey | None = None) -> None:
        """Drop every lock of `owner` (on `key` only, if given): POSIX locks when the owner
        closes an fd of the file, OFD and flock locks at the description's last close."""
        keys = self.held.get(owner, set())
        for k in list(keys) if key is None else [key] if key in keys else []:
            locks = self.ranges.get(k)
            if locks is not None:
                self._store(k, owner, [lock for lock in locks if lock.owner != owner])
            holders = self.flocks.get(k)
            if holders is not None and owner in holders:
                del holders[owner]
                self._forget_flock(k, owner)

    # -- bookkeeping -------------------------------------------------------------------------

    def _store(self, key: FileKey, owner: Hashable, locks: list[RangeLock]) -> None:
        if locks:
            self.ranges[key] = locks
        else:
            self.ranges.pop(key, None)
        if any(lock.owner == owner for lock in locks) or owner in self.flocks.get(key, {}):
            self.held.setdefault(owner, set()).add(key)
        else:
            self._unhold(owner, key)

    def _forget_flock(self, key: FileKey, owner: Hashable) -> None:
        if not self.flocks.get(key):
            self.flocks.pop(key, None)
        if not any(lock.owner == owner for lock in self.ranges.get(key, ())):
            self._unhold(owner, key)

    def _unhold(self, owner: Hashable, key: FileKey) -> None:
        keys = self.held.get(owner)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.held[owner]


def merge_adjacent(locks: list[RangeLock], owner: Hashable) -> list[RangeLock]:
    """Coalesce `owner`'s touching or overlapping locks of the same kind, as Linux does
    (F_GETLK then reports one lock for what was taken in pieces)."""
    mine = sorted((lock for lock in locks if lock.owner == owner), key=lambda lock: lock.start)
    merged: list[RangeLock] = []
    for lock in mine:
        last = merged[-1] if merged else None
        if last is not None and last.kind == lock.kind and lock.start <= last.end + 1 and last.end != OFFSET_MAX:
            last.end = max(last.end, lock.end)
        else:
            merged.append(RangeLock(owner, lock.kind, lock.start, lock.end, lock.pid))
    return [lock for lock in locks if lock.owner != owner] + merged
