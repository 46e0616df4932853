"""Run a program natively and under Pyrene, and compare what each run produced.

The comparison is the heart of the compatibility suite (``tests/compat``): a
program is correct under Pyrene when its exit status, stdout and stderr are
byte-for-byte those of a native run.

Both runs get the same environment, the same current directory and the same
stdin, so that any difference comes from Pyrene. Unless told otherwise:

- the environment is small and fixed (:func:`default_env`), so the app's view does
  not depend on who runs the tests; it carries ``PYTHONPATH`` so that the
  ``python -m pyrene`` subprocess finds this package even when it is not
  installed, and the native run gets it too;
- stdin is an empty pipe (``input=b""``), never the caller's terminal.

An exit status is compared the way a shell reports it: a process killed by
signal N (``returncode == -N`` from :mod:`subprocess`) has status 128+N, which
is what ``pyrene run`` exits with when its app is killed.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "Outcome",
    "assert_same",
    "compare",
    "default_env",
    "run_native",
    "run_pyrene",
]

# src/ (or site-packages/) — the directory that holds the ``pyrene`` package.
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])

_MAX_DIFF_LINES = 60


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of a program produced."""

    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def status(self) -> int:
        """The exit status as a shell reports it: 128+N when killed by signal N."""
        return 128 - self.returncode if self.returncode < 0 else self.returncode


def default_env(**extra: str) -> dict[str, str]:
    """A fixed environment for both runs, plus ``extra``."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
        "PYTHONPATH": _PACKAGE_PARENT,
    }
    env.update(extra)
    return env


def _outcome(result: Any) -> Outcome:
    return Outcome(result.returncode, result.stdout or b"", result.stderr or b"")


def run_native(argv: Sequence[str | os.PathLike[str]], **kw: Any) -> Outcome:
    """Run ``argv`` on the host kernel; ``kw`` as for :func:`subprocess.run`.

    Output is captured. A missing or non-executable program raises
    :class:`OSError`, as with :mod:`subprocess`.
    """
    kw.setdefault("capture_output", True)
    return _outcome(subprocess.run([os.fspath(a) for a in argv], check=False, **kw))


def run_pyrene(argv: Sequence[str | os.PathLike[str]], **kw: Any) -> Outcome:
    """Run ``argv`` under Pyrene with :func:`pyrene.run`; ``kw`` as for it.

    Output is captured.
    """
    import pyrene  # lazily: the native half must work even if pyrene does not import

    kw.setdefault("capture_output", True)
    return _outcome(pyrene.run([os.fspath(a) for a in argv], **kw))


def compare(
    argv: Sequence[str | os.PathLike[str]],
    *,
    input: bytes | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 60,
) -> tuple[Outcome, Outcome]:
    """Run ``argv`` natively, then under Pyrene; return ``(native, pyrene)``.

    ``input`` defaults to ``b""`` (stdin is an empty pipe in both runs) and ``env``
    to :func:`default_env`.
    """
    kw: dict[str, Any] = {
        "input": b"" if input is None else input,
        "cwd": cwd,
        "env": dict(default_env() if env is None else env),
        "timeout": timeout,
    }
    return run_native(argv, **kw), run_pyrene(argv, **kw)


def _show(data: bytes) -> list[str]:
    return data.decode("utf-8", "backslashreplace").splitlines(keepends=True)


def describe_difference(native: Outcome, pyrene: Outcome) -> str:
    """A readable account of how two outcomes differ ("" if they do not)."""
    parts = []
    if native.status != pyrene.status:
        parts.append(
            f"exit status: native {native.status} (returncode {native.returncode}), "
            f"pyrene {pyrene.status} (returncode {pyrene.returncode})"
        )
    for name in ("stdout", "stderr"):
        a, b = getattr(native, name), getattr(pyrene, name)
        if a == b:
            continue
        diff = list(difflib.unified_diff(_show(a), _show(b), f"native {name}", f"pyrene {name}"))
        if not diff:  # same text once decoded: show the raw bytes
            diff = [f"native {name}: {a!r}\n", f"pyrene {name}: {b!r}\n"]
        if len(diff) > _MAX_DIFF_LINES:
            more = len(diff) - _MAX_DIFF_LINES
            diff = diff[:_MAX_DIFF_LINES] + [f"... ({more} more diff lines)\n"]
        text = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
        parts.append(f"{name} differs:\n{text}")
    return "\n".join(parts)


def assert_same(
    argv: Sequence[str | os.PathLike[str]],
    *,
    input: bytes | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 60,
) -> Outcome:
    """Assert that ``argv`` exits and prints the same natively and under Pyrene.

    Returns the native outcome, for further checks by the caller.
    """
    native, pyrene = compare(argv, input=input, cwd=cwd, env=env, timeout=timeout)
    difference = describe_difference(native, pyrene)
    if difference:
        command = " ".join(os.fspath(a) for a in argv)
        raise AssertionError(f"{command!r} behaves differently under pyrene:\n{difference}")
    return native
