"""The mount table: which file system serves which sandbox path."""

from __future__ import annotations

from collections.abc import Callable

from ..record import NamedTuple
from .file import FileSystem

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any


def split_path(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p and p != ".")


class Mount(NamedTuple):
    path: str  # absolute, normalized sandbox path
    fs: FileSystem
    kind: str  # chroot, tmpfs, proc, dev
    source: str  # host path or fs name, for /proc/self/mounts

    @property
    def parts(self) -> tuple[str, ...]:
        return split_path(self.path)


class MountTable:
    def __init__(self, mounts: list[Mount]) -> None:
        # deepest first, so the first prefix match is the right one; at equal depth the
        # later mount is on top, as when mounting over a mount point in Linux
        order = sorted(range(len(mounts)), key=lambda i: (len(mounts[i].parts), i), reverse=True)
        self.mounts = [mounts[i] for i in order]
        if not any(m.parts == () for m in self.mounts):
            raise ValueError("no file system is mounted at /")
        # proper ancestors of mount points: they exist as directories even where the
        # file system above them has no such entry (like bwrap creating mount points)
        self.ancestors = {m.parts[:i] for m in self.mounts for i in range(1, len(m.parts))}
        # find() runs for every component of every walk: the mounts below / are looked
        # at by their first name (each path split once), the root mount is the default
        self._root = next(m for m in self.mounts if m.parts == ())
        self._by_first: dict[str, list[tuple[Mount, tuple[str, ...]]]] = {}
        for m in self.mounts:
            if m.parts:
                self._by_first.setdefault(m.parts[0], []).append((m, m.parts))

    def find(self, parts: tuple[str, ...] | list[str]) -> tuple[Mount, str]:
        """The mount serving `parts` and the path relative to its root."""
        if parts:
            n = len(parts)
            for m, mp in self._by_first.get(parts[0], ()):
                k = len(mp)
                if k <= n and tuple(parts[:k]) == mp:
                    return m, "/".join(parts[k:])
        return self._root, "/".join(parts)

    def release(self) -> None:
        for m in self.mounts:
            m.fs.release()


class DeferredFS:
    """A file system made at its first use. /proc and /dev cost a `pyrene run` ~10 ms of
    imports and building, and most programs never look at them. Every attribute is the
    made file system's; `release` of one never made does nothing."""

    def __init__(self, make: Callable[[], FileSystem]) -> None:
        self._make = make
        self._fs: FileSystem | None = None

    def __getattr__(self, name: str) -> Any:
        fs = self._fs
        if fs is None:
            fs = self._fs = self._make()
        return getattr(fs, name)

    def release(self) -> None:
        if self._fs is not None:
            self._fs.release()
