"""Python's multiprocessing (issue 4 acceptance): Pool, Queue, Process exit codes and
shared_memory with the fork and spawn start methods, natively and under Pyrene. It needs
fork, threads (Pool's and Queue's feeder threads), pipes, semaphores in /dev/shm and
signals (the resource tracker). Not forkserver: it passes fds over a Unix socket
(SCM_RIGHTS), which Pyrene does not support yet (sendmsg says EINVAL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrene.testing.compare import assert_same

SCRIPT = Path(__file__).parent / "py" / "multiprocessing_check.py"


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing(need, tmp_path, method):
    python = need("/usr/bin/python3.11", "python3.11")
    assert_same([python, str(SCRIPT), method], cwd=tmp_path, timeout=180)
