"""The embedded default manifest of `pyrene run` (DESIGN.md decision 8): host `/`
read-only, the current directory read-write, `/tmp` a private tmpfs, synthesized
`/proc` and `/dev`, no network, the host environment."""

from __future__ import annotations

import os

from .schema import Manifest, MountSpec


def default_manifest(cwd: str | None = None) -> Manifest:
    cwd = cwd or os.getcwd()
    mounts = [
        MountSpec("/", "chroot", "/", readonly=True),
        MountSpec("/tmp", "tmpfs"),
        MountSpec("/proc", "proc"),
        MountSpec("/dev", "dev"),
        MountSpec("/dev/shm", "tmpfs"),
    ]
    if cwd != "/":
        mounts.append(MountSpec(cwd, "chroot", cwd, readonly=False))
    return Manifest(mounts=tuple(mounts), start_dir=cwd)
