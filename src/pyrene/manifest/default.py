"""The embedded default manifest of `pyrene run` (DESIGN.md decision 8): host `/`
read-only, the current directory read-write, `/tmp` a private tmpfs, synthesized
`/proc` and `/dev`, no network, the host environment."""

from __future__ import annotations

import os

from .schema import Manifest, MountSpec


def default_manifest(cwd: str | None = None) -> Manifest:
    cwd = cwd or os.getcwd()
    mounts = [
        MountSpec("/", "chroot", "/", readonly=True, key="fs.root"),
        MountSpec("/tmp", "tmpfs", key="fs.mounts[0]"),
        MountSpec("/proc", "proc", key="pyrene.proc"),
        MountSpec("/dev", "dev", key="pyrene.dev"),
        MountSpec("/dev/shm", "tmpfs", key="fs.mounts[1]"),
    ]
    if cwd != "/":
        mounts.append(MountSpec(cwd, "chroot", cwd, readonly=False, key="fs.mounts[2]"))
    return Manifest(mounts=tuple(mounts), start_dir=cwd)
