"""Command-line shorthands (`--rootfs`, `--mount`, `--tmpfs`, `--env`, `--cwd`) applied on
top of a manifest, and the program's argv. Flags win over the manifest:

  --rootfs DIR              the mount at / becomes the host directory DIR (read-write, as
                            proot -r and bwrap --bind DIR / give); with the embedded default
                            manifest the current-directory mount is dropped (that host path
                            means nothing in another root) and the start directory is /
  --mount HOST:SANDBOX[:ro] a host path at SANDBOX, read-write unless :ro; it replaces a
                            manifest mount at the same sandbox path, else goes on top
  --tmpfs PATH              a fresh tmpfs at PATH (replaces a mount at PATH)
  --env K=V / --env K       set K (or pass the host's K through); wins over loader.env
  --cwd PATH                the start directory (fs.start_dir)
  --pts                     grant new pseudo-terminals (pyrene.dev.pts = true); needs /dev
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence

from ..record import NamedTuple
from .load import ManifestError
from .schema import EnvVar, Manifest, MountSpec


class Overrides(NamedTuple):
    rootfs: str | None = None
    mounts: tuple[str, ...] = ()  # HOST:SANDBOX[:ro|:rw]
    tmpfs: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # K=V or K
    cwd: str | None = None
    pts: bool = False
    is_default: bool = False  # the manifest is the embedded default


def flag_error(flag: str, message: str) -> ManifestError:
    return ManifestError("command line", flag, message)


def parse_mount(text: str, host_cwd: str) -> MountSpec:
    parts = text.split(":")
    readonly = False
    if len(parts) == 3 and parts[2] in ("ro", "rw"):
        readonly = parts.pop() == "ro"
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise flag_error("--mount", f"expected HOST:SANDBOX[:ro], got {text!r}")
    host, sandbox = parts
    if not sandbox.startswith("/"):
        raise flag_error("--mount", f"expected an absolute sandbox path, got {sandbox!r}")
    host = posixpath.normpath(posixpath.join(host_cwd, host))
    if not os.path.exists(host):
        raise flag_error("--mount", f"{host}: No such file or directory")
    return MountSpec(posixpath.normpath(sandbox), "chroot", host, readonly, "--mount")


def _replace(mounts: list[MountSpec], new: MountSpec) -> list[MountSpec]:
    return [m for m in mounts if m.path != new.path] + [new]


def apply(manifest: Manifest, ov: Overrides, host_cwd: str | None = None) -> Manifest:
    """`manifest` with the flags applied."""
    host_cwd = host_cwd or os.getcwd()
    mounts = list(manifest.mounts)
    start_dir = manifest.start_dir
    if ov.rootfs is not None:
        root = posixpath.normpath(posixpath.join(host_cwd, ov.rootfs))
        if not os.path.isdir(root):
            raise flag_error("--rootfs", f"{ov.rootfs}: not a directory")
        if ov.is_default:
            mounts = [m for m in mounts if not (m.type == "chroot" and m.path == start_dir and m.path != "/")]
            start_dir = "/"
        root_spec = MountSpec("/", "chroot", root, False, "--rootfs")
        mounts = [root_spec] + [m for m in mounts if m.path != "/"]
    for text in ov.mounts:
        mounts = _replace(mounts, parse_mount(text, host_cwd))
    for path in ov.tmpfs:
        if not path.startswith("/"):
            raise flag_error("--tmpfs", f"expected an absolute path, got {path!r}")
        mounts = _replace(mounts, MountSpec(posixpath.normpath(path), "tmpfs", key="--tmpfs"))
    env = list(manifest.env)
    for text in ov.env:
        name, eq, value = text.partition("=")
        if not name:
            raise flag_error("--env", f"expected K=V or K, got {text!r}")
        env = [e for e in env if e.name != name] + [EnvVar(name, value if eq else None)]
    if ov.cwd is not None:
        if not ov.cwd.startswith("/"):
            raise flag_error("--cwd", f"expected an absolute path, got {ov.cwd!r}")
        start_dir = posixpath.normpath(ov.cwd)
    dev_pts = manifest.dev_pts
    if ov.pts:
        if not any(m.type == "dev" for m in mounts):
            raise flag_error("--pts", "the manifest mounts no /dev (pyrene.dev = false)")
        dev_pts = True
    return manifest._replace(mounts=tuple(mounts), env=tuple(env), start_dir=start_dir,
                             dev_pts=dev_pts)


def program_argv(manifest: Manifest, args: Sequence[str]) -> list[str]:
    """The app's argv: the command line (default manifest), loader.argv, or the
    entrypoint plus the command line (loader.insecure__use_cmdline_argv)."""
    if manifest.entrypoint is None:
        if not args:
            raise flag_error("PROG", "missing: the program to run (or give --manifest with libos.entrypoint)")
        return list(args)
    if manifest.use_cmdline_argv:
        return [manifest.entrypoint, *args]
    if args:
        # as Gramine: arguments are part of the measured contract unless explicitly insecure
        raise ManifestError(manifest.source, "loader.argv",
                            "command-line arguments given, but the manifest fixes argv (set "
                            "loader.insecure__use_cmdline_argv = true to take them)")
    return list(manifest.argv) if manifest.argv is not None else [manifest.entrypoint]


def environment(manifest: Manifest, host_env: Mapping[str, str]) -> list[str]:
    """The app's environment: the host's when the manifest passes it all through, then
    loader.env (fixed values, and host values for passthrough names)."""
    env = dict(host_env) if manifest.use_host_env else {}
    for var in manifest.env:
        if var.value is not None:
            env[var.name] = var.value
        elif var.name in host_env:
            env[var.name] = host_env[var.name]
    return [f"{k}={v}" for k, v in env.items()]
