"""Python's multiprocessing (issue 4 acceptance): Pool, Queue, Process exit codes and
shared_memory with the fork, spawn and forkserver start methods, natively and under
Pyrene. It needs fork, threads (Pool's and Queue's feeder threads), pipes, semaphores in
/dev/shm and signals (the resource tracker); forkserver also passes each new process's
pipe fds to the server over a Unix socket (SCM_RIGHTS, net/scm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrene.testing.compare import assert_same

SCRIPT = Path(__file__).parent / "py" / "multiprocessing_check.py"


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing(need, tmp_path, method):
    python = need("/usr/bin/python3.11", "python3.11")
    assert_same([python, str(SCRIPT), method], cwd=tmp_path, timeout=180)
