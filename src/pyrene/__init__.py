"""Pyrene: run unmodified Linux x86-64 programs on a library OS written in Python.

    import pyrene
    result = pyrene.run(["ls", "-l", "/"], capture_output=True)
    print(result.returncode, result.stdout)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from .manifest.schema import Manifest
from .record import NamedTuple

__version__ = "0.1.0"
__all__ = ["run", "RunResult", "Manifest", "__version__"]


class RunResult(NamedTuple):
    argv: list[str]
    returncode: int
    stdout: bytes | None
    stderr: bytes | None


def run(argv: Sequence[str], manifest: "str | os.PathLike[str] | Manifest | None" = None, *,
        capture_output: bool = False, input: bytes | None = None, cwd: str | None = None,
        env: Mapping[str, str] | None = None, timeout: float | None = None, log_level: str | None = None,
        log_file: str | None = None, trace: str | None = None) -> RunResult:
    """Run `argv` in a Pyrene sandbox, like subprocess.run.

    `manifest` is a manifest file or a `Manifest` object (whose libos.entrypoint is then
    the program; `argv` are the command-line arguments, as with `pyrene run --manifest`).
    The sandbox runs in its own process (`python -m pyrene run`), so the caller's signal
    handlers, CPU affinity and children are untouched.
    """
    import subprocess  # here, not at the top: `pyrene run` itself never needs them
    import tempfile

    cmd = [sys.executable, "-m", "pyrene", "run"]
    if log_level:
        cmd += ["--log-level", log_level]
    if log_file:
        cmd += [f"--log-file={log_file}"]
    if trace:
        cmd += [f"--trace={trace}"]
    with tempfile.TemporaryDirectory(prefix="pyrene-manifest-") as tmp:
        if isinstance(manifest, Manifest):
            cmd += ["--manifest", _write_manifest(manifest, os.path.join(tmp, "app.manifest"), cwd)]
        elif manifest is not None:
            cmd += ["--manifest", os.fspath(manifest)]
        cmd += ["--", *argv]
        proc = subprocess.run(cmd, capture_output=capture_output, input=input, cwd=cwd,
                              env=dict(env) if env is not None else None, timeout=timeout)
    return RunResult(list(argv), proc.returncode, proc.stdout, proc.stderr)


def _write_manifest(manifest: Manifest, path: str, cwd: str | None) -> str:
    import tomli_w

    from .manifest.dump import to_dict

    with open(path, "wb") as f:
        tomli_w.dump(to_dict(manifest, os.path.abspath(cwd or os.getcwd())), f)
    return path
