"""Pyrene never crashes on what an app passes: c/syscall_fuzz.c makes every syscall with
hostile arguments (all six -1, 2^63, 4096) and random calls mixing edge values, pointers,
real fds of many kinds and paths, each in a forked child. Every call must end in an
errno or a result: Pyrene exits with the program's status and logs no internal error.

A smoke net for CI (about a minute), not a proof: the two crashes such runs found
(an event-loop deadline past 2^31 ms, a 2^63-byte shmget that killed the leader) each
have their own test (far_deadline.c, sysv_shm.c). Longer runs by hand, never natively:
`pyrene run -- syscall_fuzz random SEED 1000` in a scratch directory.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pyrene.testing.compare import default_env

RUNS = [["sweep", "-1"], ["sweep", "0x8000000000000000"], ["sweep", "4096"], ["random", "1", "40"],
        ["random", "2", "40"]]


@pytest.mark.parametrize("args", RUNS, ids=["-".join(a) for a in RUNS])
def test_hostile_arguments_never_crash_pyrene(cbuild, tmp_path, args):
    program = cbuild("syscall_fuzz.c")
    proc = subprocess.run([sys.executable, "-m", "pyrene", "run", "--", str(program), *args], cwd=tmp_path,
                          env=default_env(), capture_output=True, timeout=600)
    log = proc.stderr.decode(errors="replace")
    assert "internal error" not in log and "Traceback" not in log, log[-3000:]
    assert proc.returncode == 0, log[-3000:]
    assert proc.stdout.endswith(b" children done\n"), proc.stdout[-200:]
