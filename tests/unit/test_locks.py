"""fs/locks.py on its own: ranges split and merge per owner, conflicts only between
owners, releases by owner and by file (the C program tests/compat/c/locks.c checks the
same rules against the kernel)."""

from __future__ import annotations

import errno

import pytest

from pyrene.errors import Errno
from pyrene.fs.locks import F_RDLCK, F_UNLCK, F_WRLCK, OFFSET_MAX, LockTable

KEY, OTHER_KEY = (1, 10), (1, 11)


def ranges(table: LockTable, owner: object) -> list[tuple[int, int, int]]:
    return sorted((lk.kind, lk.start, lk.end) for lk in table.ranges.get(KEY, []) if lk.owner == owner)


def test_split_and_merge():
    table = LockTable()
    table.set_range(KEY, "p", 1, F_WRLCK, 0, 99)
    table.set_range(KEY, "p", 1, F_UNLCK, 20, 39)
    assert ranges(table, "p") == [(F_WRLCK, 0, 19), (F_WRLCK, 40, 99)]
    table.set_range(KEY, "p", 1, F_WRLCK, 20, 39)
    assert ranges(table, "p") == [(F_WRLCK, 0, 99)]
    table.set_range(KEY, "p", 1, F_RDLCK, 10, 19)
    assert ranges(table, "p") == [(F_RDLCK, 10, 19), (F_WRLCK, 0, 9), (F_WRLCK, 20, 99)]


def test_conflicts_only_between_owners():
    table = LockTable()
    table.set_range(KEY, "p", 1, F_RDLCK, 0, OFFSET_MAX)
    table.set_range(KEY, "ofd", -1, F_RDLCK, 5, 5)  # readers share
    with pytest.raises(Errno) as exc:
        table.set_range(KEY, "ofd", -1, F_WRLCK, 5, 5)
    assert exc.value.errno == errno.EAGAIN
    assert table.test_range(KEY, "ofd", F_WRLCK, 0, 0).owner == "p"
    assert table.test_range(KEY, "p", F_WRLCK, 0, 0) is None
    assert table.test_range(KEY, "p", F_WRLCK, 0, 9).owner == "ofd"
    assert table.test_range(OTHER_KEY, "ofd", F_WRLCK, 0, 0) is None


def test_release_by_owner_and_file():
    table = LockTable()
    table.set_range(KEY, "p", 1, F_WRLCK, 0, 0)
    table.set_range(OTHER_KEY, "p", 1, F_WRLCK, 0, 0)
    table.flock(KEY, "ofd", F_RDLCK)
    table.release("p", KEY)
    assert KEY not in table.ranges and OTHER_KEY in table.ranges
    table.release("p")
    assert not table.ranges and not table.holds("p")
    with pytest.raises(Errno):
        table.flock(KEY, "other", F_WRLCK)
    table.release("ofd")
    table.flock(KEY, "other", F_WRLCK)
    assert table.holds("other") and not table.holds("ofd")
    table.flock(KEY, "other", F_UNLCK)
    assert not table.held and not table.flocks
