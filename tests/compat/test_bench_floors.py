"""The Python reference rows of bench/run.py's getppid benchmark work (bench/README.md,
"Runners"): under bench/floor_tracer.py (ptrace) and bench/notif_floor.py (seccomp user
notification) getppid is served by the floor, every other call runs natively, and the
program's exit status, or 128+N when a signal killed it, comes back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
FLOORS = ["floor_tracer.py", "notif_floor.py"]


@pytest.fixture(scope="module")
def getppid_loop(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("bench") / "getppid_loop"
    subprocess.run(["gcc", "-O2", "-static", "-o", str(out), str(BENCH / "getppid_loop.c")], check=True)
    return str(out)


@pytest.mark.parametrize("floor", FLOORS)
def test_floor_serves_getppid_and_passes_the_rest(floor, getppid_loop):
    run = [sys.executable, str(BENCH / floor)]
    served = subprocess.run([*run, getppid_loop, "1000"], capture_output=True, text=True, timeout=60)
    assert (served.returncode, served.stdout) == (0, "1000 1\n")  # FAKE_PPID: every call was trapped
    killed = subprocess.run([*run, "/bin/sh", "-c", "kill -TERM $$"], capture_output=True, timeout=60)
    assert killed.returncode == 128 + 15
    exited = subprocess.run([*run, "/bin/sh", "-c", "exit 3"], capture_output=True, timeout=60)
    assert exited.returncode == 3
    missing = subprocess.run([*run, "/nonexistent"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 127 and missing.stderr == "/nonexistent: No such file or directory\n"
