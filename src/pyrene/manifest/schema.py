"""Typed manifest values (the subset of Gramine's keys used so far)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MountSpec:
    """One fs.mounts entry: `type` is chroot (a host path), tmpfs, proc or dev."""

    path: str
    type: str
    uri: str = ""
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class Manifest:
    mounts: tuple[MountSpec, ...]
    use_host_env: bool = True
    env: tuple[tuple[str, str], ...] = ()
    start_dir: str | None = None  # None: the current directory
    uid: int | None = None  # None: the host user's
    gid: int | None = None
    fd_limit: int = 1024
    log_level: str = "error"
    extra: dict[str, object] = field(default_factory=dict)
