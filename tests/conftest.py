"""Shared fixtures: C programs compiled on demand, and skips for missing tools.

Temporary directories live outside ``/tmp``: Pyrene's default sandbox mounts a
fresh tmpfs on ``/tmp``, so a program or a scratch directory under the host's
``/tmp`` would not exist for the app. Unless ``--basetemp`` or
``PYTEST_DEBUG_TEMPROOT`` says otherwise, pytest's ``tmp_path`` directories go
under ``/var/tmp`` (on the host ``/``, which the sandbox shows read-only; the
app's cwd is mounted read-write).

``cbuild("hello.c")`` compiles ``tests/compat/c/hello.c`` once per session into
a temporary directory and returns the path of the binary. ``link`` selects how:

- ``"dynamic"`` (the default): gcc's default, a dynamically linked PIE;
- ``"static"``: ``-static -no-pie``, a static binary at a fixed address;
- ``"static-pie"``: ``-static-pie``, a static binary loaded anywhere.

``cbuild("hello.c", static=True)`` is a short form of ``link="static"``.

After every test, no host process it started may be left, not even a zombie
(``no_leftovers``, pyrene/testing/leftovers.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
try:
    import pyrene
except ImportError:  # not installed: use the checkout
    sys.path.insert(0, str(SRC))
    import pyrene

C_SOURCES = Path(__file__).parent / "compat" / "c"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile Pyrene once: every test starts `python -m pyrene` a few times, and
    with PYTHONDONTWRITEBYTECODE set (as on our CI machines) a checkout without
    __pycache__ would compile all of Pyrene from source at each start (~0.2 s)."""
    import compileall

    compileall.compile_dir(os.path.dirname(pyrene.__file__), quiet=1)


# Where tmp_path directories go when the host's temporary directory is /tmp.
SANDBOX_VISIBLE_TEMPROOT = "/var/tmp"

LINKS = {
    "dynamic": [],
    "static": ["-static", "-no-pie"],
    "static-pie": ["-static-pie"],
}

CFLAGS = ["-O2", "-g", "-Wall", "-Werror"]


def require_program(path: str, package: str) -> str:
    """Skip the calling test unless the Debian program ``path`` is installed."""
    found = shutil.which(path)
    if found is None:
        pytest.skip(f"{path} is not installed (Debian package {package}; .ci/run installs it)")
    return found


def pytest_configure(config: pytest.Config) -> None:
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    temproot = Path(tempfile.gettempdir()).resolve()
    if temproot == Path("/tmp") or Path("/tmp") in temproot.parents:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = SANDBOX_VISIBLE_TEMPROOT


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    from pyrene.testing.leftovers import watch
    with watch():
        yield


@pytest.fixture(scope="session")
def need() -> Callable[[str, str], str]:
    """``need(path, package)``: the program's path, or skip the test."""
    return require_program


@pytest.fixture(scope="session")
def cbuild(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    outdir = tmp_path_factory.mktemp("cbuild")
    built: dict[tuple[str, str], Path] = {}

    def build(source: str, static: bool = False, *, link: str | None = None) -> Path:
        if link is None:
            link = "static" if static else "dynamic"
        if link not in LINKS:
            raise ValueError(f"link must be one of {sorted(LINKS)}, not {link!r}")
        key = (source, link)
        if key not in built:
            gcc = require_program("gcc", "gcc")
            src = C_SOURCES / source
            out = outdir / f"{Path(source).stem}-{link}"
            proc = subprocess.run(
                [gcc, *CFLAGS, *LINKS[link], "-o", str(out), str(src)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                if link != "dynamic" and "cannot find -lc" in proc.stderr:
                    pytest.skip(f"no static libc for {link} builds (Debian package libc6-dev)")
                pytest.fail(f"gcc failed on {source} ({link}):\n{proc.stderr}")
            built[key] = out
        return built[key]

    return build
