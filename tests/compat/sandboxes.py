"""One directory layout, run two ways: natively in a real chroot, and under Pyrene.

The file-system tests must compare Pyrene with what Linux does *inside a chroot*,
and their native half must never touch the host: they run as root, and a test of
"rename out of the mount" that succeeded natively on the host's / would really
move a host directory. So the native half runs in a private mount namespace,
chrooted into a temporary directory, with the same mounts the Pyrene manifest
grants made there for real:

- ``Layout.root`` is the host directory seen as ``/``;
- each ``MountPoint`` is a bind mount (read-only if asked), a tmpfs or proc at the
  same place inside the root natively, and the matching manifest entry (chroot,
  tmpfs, proc) under Pyrene; "dev" is the host's /dev bound natively and Pyrene's
  synthesized /dev;
- the program starts in ``Layout.cwd`` (a sandbox path) with uid/gid ``uid``.

Native: the child of ``subprocess.run`` unshares its mount namespace, makes every
mount private, mounts, chroots, chdirs and drops to ``uid`` before exec. Pyrene:
``python -m pyrene``'s sandbox is built from a ``Manifest`` object, since manifest
files and ``--rootfs`` are another part of the work.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pyrene.testing.compare import Outcome, default_env, describe_difference

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 32, 4096, 16384, 1 << 18

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2] / "src")


@dataclasses.dataclass(frozen=True)
class MountPoint:
    path: str  # sandbox path, absolute
    kind: str  # "bind" (a host directory), "tmpfs", "proc" or "dev"
    source: str = ""  # host directory of a bind mount
    readonly: bool = False


@dataclasses.dataclass(frozen=True)
class Layout:
    root: str  # host directory seen as /
    mounts: tuple[MountPoint, ...] = ()
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    root_readonly: bool = False


def _libc_call(name: str, *args: object) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if getattr(libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}{args}: {os.strerror(err)}")


def _enter(layout: Layout) -> None:
    """In the native child, before exec: the namespace, the mounts, the chroot."""
    _libc_call("unshare", CLONE_NEWNS)
    _libc_call("mount", None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None)
    if layout.root_readonly:
        root = layout.root.encode()
        _libc_call("mount", root, root, None, ctypes.c_ulong(MS_BIND | MS_REC), None)
        _libc_call("mount", None, root, None, ctypes.c_ulong(MS_REMOUNT | MS_BIND | MS_RDONLY), None)
    for m in layout.mounts:
        target = os.path.join(layout.root, m.path.lstrip("/")).encode()
        if m.kind in ("bind", "dev"):
            source = b"/dev" if m.kind == "dev" else m.source.encode()
            _libc_call("mount", source, target, None, ctypes.c_ulong(MS_BIND | MS_REC), None)
            # a bind mount starts with its source mount's flags: say ro or rw explicitly
            flags = MS_REMOUNT | MS_BIND | (MS_RDONLY if m.readonly else 0)
            _libc_call("mount", None, target, None, ctypes.c_ulong(flags), None)
        else:
            _libc_call("mount", m.kind.encode(), target, m.kind.encode(), ctypes.c_ulong(MS_NOSUID), None)
    os.chroot(layout.root)
    os.chdir(layout.cwd)
    if layout.gid:
        os.setgroups([])
        os.setgid(layout.gid)
    if layout.uid:
        os.setuid(layout.uid)


def run_chroot(layout: Layout, argv: Sequence[str], *, input: bytes = b"", timeout: float = 120) -> Outcome:
    """Run `argv` (paths inside the root) natively in the layout."""
    proc = subprocess.run(list(argv), input=input, capture_output=True, timeout=timeout, env=default_env(),
                          preexec_fn=lambda: _enter(layout))
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


_DRIVER = """
import json, sys
from pyrene.log import setup
from pyrene.manifest.schema import Manifest, MountSpec
from pyrene.sandbox import RunOptions, run
from pyrene.errors import PyreneError
spec = json.loads(sys.argv[1])
mounts = [MountSpec(*m) for m in spec["mounts"]]
manifest = Manifest(mounts=tuple(mounts), use_host_env=True, start_dir=spec["cwd"], uid=spec["uid"], gid=spec["gid"])
setup("error", None)
try:
    sys.exit(run(RunOptions(argv=spec["argv"], manifest=manifest)))
except PyreneError as exc:
    print(str(exc), file=sys.stderr)
    sys.exit(exc.status)
"""


def manifest_mounts(layout: Layout) -> list[tuple[str, str, str, bool]]:
    """The manifest's fs.mounts for the layout: the root, then each mount point (a
    synthesized /dev too, which the native side takes from the root directory)."""
    mounts = [("/", "chroot", layout.root, layout.root_readonly)]
    for m in layout.mounts:
        kind = "chroot" if m.kind == "bind" else m.kind
        mounts.append((m.path, kind, m.source, m.readonly))
    return mounts


def run_sandboxed(layout: Layout, argv: Sequence[str], *, input: bytes = b"", timeout: float = 120) -> Outcome:
    """Run `argv` under Pyrene with a manifest granting the layout."""
    spec = {"mounts": manifest_mounts(layout), "cwd": layout.cwd, "uid": layout.uid, "gid": layout.gid,
            "argv": list(argv)}
    env = default_env(PYTHONPATH=_PACKAGE_PARENT)
    proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(spec)], input=input, capture_output=True,
                          timeout=timeout, env=env)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_same_in(layout: Layout, argv: Sequence[str], *, reset=None, input: bytes = b"") -> Outcome:
    """Run natively in the chroot, then (after `reset()`, which puts the files back as
    they were) under Pyrene, and assert the same status, stdout and stderr."""
    native = run_chroot(layout, argv, input=input)
    if reset is not None:
        reset()
    pyrene = run_sandboxed(layout, argv, input=input)
    difference = describe_difference(native, pyrene)
    if difference:
        raise AssertionError(f"{' '.join(argv)!r} behaves differently under pyrene:\n{difference}")
    return native
