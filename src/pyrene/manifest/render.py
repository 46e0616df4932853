"""`pyrene manifest render TEMPLATE [-Dkey=value ...] [-o OUT]`: Jinja2 manifest
templates as `gramine-manifest` renders them, then trusted files measured (directories
expanded, missing sha256 filled in) and the result written back as TOML.

The template sees the same globals as in Gramine: `python.*` (stdlib, platstdlib,
purelib, distlib, get_sys_path(interp), get_path, get_paths, get_config_var, ext_suffix,
implementation), `env` (the host environment), `ldd(*binaries)`, and `gramine.*`. Since
Pyrene needs no patched libc, `gramine.runtimedir()` is the host's own libc directory,
and `gramine.libos` / `gramine.pkglibdir` point at Pyrene's package. `-D name=value`
defines template variables, as in `gramine-manifest`.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import jinja2
import tomli_w

from .load import ManifestError, Reader, read_trusted, syntax_error
from .measure import measure

ARCH_LIBDIR = "/lib/x86_64-linux-gnu"
PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]


def ldd(*binaries: object) -> list[str]:
    """The shared libraries (absolute paths, the dynamic loader included) the binaries
    need, as the host's ld.so resolves them (`ldd` output, vDSO skipped)."""
    if not binaries:
        return []
    out = subprocess.run(["ldd", *(os.fspath(b) for b in binaries)],  # type: ignore[arg-type]
                         capture_output=True, text=True).stdout
    found = set()
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] == "=>" and words[2].startswith("/"):
            found.add(words[2])
        elif len(words) >= 2 and words[0].startswith("/") and words[1].startswith("("):
            found.add(words[0])
    return sorted(found)


def python_get_sys_path(interpreter: str, include_nonexisting: bool = False) -> Iterator[pathlib.Path]:
    out = subprocess.run([interpreter, "-c", "import sys; print('\\0'.join(p for p in sys.path if p), end='')"],
                         capture_output=True, check=True).stdout
    for raw in out.split(b"\0"):
        path = pathlib.Path(os.fsdecode(raw))
        if include_nonexisting or path.exists():
            yield path


class Runtimedir:
    """`gramine.runtimedir()` (also usable as a string or with `/`): the host libc dir."""

    def __call__(self, libc: str = "glibc") -> pathlib.Path:
        return pathlib.Path(host_libc_dir())

    def __str__(self) -> str:
        return str(self())

    def __truediv__(self, other: str) -> pathlib.Path:
        return self() / other


def host_libc_dir() -> str:
    """Where the host's libc.so.6 lives (Debian: /lib/x86_64-linux-gnu)."""
    for lib in ldd(sys.executable):
        if os.path.basename(lib) == "libc.so.6":
            return os.path.dirname(lib)
    return ARCH_LIBDIR


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    paths = sysconfig.get_paths()
    env.globals["python"] = {
        "stdlib": pathlib.Path(paths["stdlib"]),
        "platstdlib": pathlib.Path(paths["platstdlib"]),
        "purelib": pathlib.Path(paths["purelib"]),
        "distlib": pathlib.Path(sysconfig.get_path("stdlib", vars={"py_version_short": sys.version_info[0]}))
        / "dist-packages",
        "get_config_var": sysconfig.get_config_var,
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "get_path": sysconfig.get_path,
        "get_paths": sysconfig.get_paths,
        "implementation": sys.implementation,
        "get_sys_path": python_get_sys_path,
    }
    env.globals["gramine"] = {
        "libos": PACKAGE_DIR,
        "pkglibdir": PACKAGE_DIR,
        "runtimedir": Runtimedir(),
        "arch_libdir": ARCH_LIBDIR,
    }
    env.globals["env"] = os.environ
    env.globals["ldd"] = ldd
    return env


def parse_defines(defines: list[str]) -> dict[str, str]:
    out = {}
    for d in defines:
        name, eq, value = d.partition("=")
        if not name or not eq:
            raise ManifestError("command line", "-D", f"expected name=value, got {d!r}")
        out[name] = value
    return out


def render(template_path: str, variables: Mapping[str, str]) -> str:
    """The template rendered, its trusted files measured, as TOML text."""
    try:
        with open(template_path, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise ManifestError(template_path, "", f"cannot read: {exc.strerror}") from None
    try:
        text = make_env().from_string(source).render(**variables)
    except jinja2.TemplateSyntaxError as exc:
        raise ManifestError(f"{template_path}:{exc.lineno}", "", f"template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise ManifestError(template_path, "", f"template: {exc.message} (define it with -D name=value?)") from None
    except Exception as exc:  # a helper failed (ldd of a missing file, ...): say which, once
        raise ManifestError(template_path, "", f"template: {type(exc).__name__}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(f"{template_path} (rendered)", str(exc), text) from None
    fill_trusted_hashes(data, template_path)
    return tomli_w.dumps(data)


def fill_trusted_hashes(data: dict[str, Any], source: str) -> None:
    """sgx.trusted_files with directories expanded and every sha256 present."""
    sgx = data.get("sgx")
    if not isinstance(sgx, dict) or "trusted_files" not in sgx:
        return
    reader = Reader({"sgx": {"trusted_files": sgx["trusted_files"]}}, source, os.getcwd())
    measured = measure(read_trusted(reader), source)
    sgx["trusted_files"] = [{"uri": f"file:{tf.path}", "sha256": tf.sha256} for tf in measured]

