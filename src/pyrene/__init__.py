"""Pyrene: run unmodified Linux x86-64 programs on a library OS written in Python.

    import pyrene
    result = pyrene.run(["ls", "-l", "/"], capture_output=True)
    print(result.returncode, result.stdout)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__version__ = "0.1.0"
__all__ = ["run", "RunResult", "__version__"]


@dataclass(frozen=True, slots=True)
class RunResult:
    argv: list[str]
    returncode: int
    stdout: bytes | None
    stderr: bytes | None


def run(argv: Sequence[str], manifest: str | None = None, *, capture_output: bool = False,
        input: bytes | None = None, cwd: str | None = None, env: Mapping[str, str] | None = None,
        timeout: float | None = None, log_level: str | None = None, trace: str | None = None) -> RunResult:
    """Run `argv` in a Pyrene sandbox, like subprocess.run.

    The sandbox runs in its own process (`python -m pyrene run`), so the caller's signal
    handlers, CPU affinity and children are untouched.
    """
    import subprocess  # here, not at the top: `pyrene run` itself never needs it

    cmd = [sys.executable, "-m", "pyrene", "run"]
    if manifest:
        cmd += ["--manifest", manifest]
    if log_level:
        cmd += ["--log-level", log_level]
    if trace:
        cmd += [f"--trace={trace}"]
    cmd += ["--", *argv]
    proc = subprocess.run(cmd, capture_output=capture_output, input=input, cwd=cwd,
                          env=dict(env) if env is not None else None, timeout=timeout)
    return RunResult(list(argv), proc.returncode, proc.stdout, proc.stderr)
