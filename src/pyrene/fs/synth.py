"""Synthesized file systems (/proc, /dev): a tree of nodes whose content is computed
when opened, from the instance's own state. Nothing here touches the host except
through the PAL."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..abi.flags import S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, dtype_of_mode
from ..abi.structs import Stat
from ..errors import Errno
from .file import DirEntry, FileSystem, OpenFile

SYNTH_DEV = 0x1F  # the st_dev of synthesized trees (major 0, like the kernel's procfs)


@dataclass
class Node:
    mode: int
    ino: int = 0

    def stat(self, start_ns: int, dev: int) -> Stat:
        return Stat(dev, self.ino, self.mode, 2 if self.mode & S_IFDIR == S_IFDIR else 1, 0, 0,
                    getattr(self, "rdev", 0), 0, 1024, 0, start_ns, start_ns, start_ns)


@dataclass
class Dir(Node):
    """A directory; `children` is called at each lookup (so /proc/<pid>/fd stays current)."""

    children: Callable[[], dict[str, Node]] = field(default=lambda: {})


@dataclass
class File(Node):
    content: Callable[[], bytes] = field(default=lambda: b"")


@dataclass
class Link(Node):
    target: Callable[[], str] = field(default=lambda: "")


@dataclass
class Device(Node):
    """A character device: `opener(flags, path)` makes the OpenFile."""

    rdev: int = 0
    opener: Callable[[int, str], OpenFile] | None = None


def directory(children: Callable[[], dict[str, Node]], mode: int = 0o555) -> Dir:
    return Dir(S_IFDIR | mode, children=children)


def static_dir(entries: dict[str, Node], mode: int = 0o555) -> Dir:
    return Dir(S_IFDIR | mode, children=lambda: entries)


def text(content: Callable[[], bytes], mode: int = 0o444) -> File:
    return File(S_IFREG | mode, content=content)


def link(target: Callable[[], str]) -> Link:
    return Link(S_IFLNK | 0o777, target=target)


def char_device(major: int, minor: int, opener: Callable[[int, str], OpenFile], mode: int = 0o666) -> Device:
    return Device(S_IFCHR | mode, rdev=(major << 8) | minor, opener=opener)


class BytesFile(OpenFile):
    """A read-only file whose whole content was computed at open."""

    def __init__(self, data: bytes, flags: int, path: str, st: Stat) -> None:
        super().__init__(flags, path)
        self.data = data
        self.pos = 0
        self._stat = st

    def stat(self) -> Stat:
        return self._stat

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        chunk = self.data[self.pos:self.pos + size]
        self.pos += len(chunk)
        return chunk

    def pread(self, size: int, offset: int) -> bytes:
        return self.data[offset:offset + size]

    def write(self, data: bytes) -> int:
        raise Errno(errno.EBADF if not self.writable else errno.EACCES)

    def seek(self, offset: int, whence: int) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: len(self.data)}.get(whence)
        if base is None or base + offset < 0:
            raise Errno(errno.EINVAL)
        self.pos = base + offset
        return self.pos


class DirFile(OpenFile):
    def __init__(self, node: Dir, flags: int, path: str, st: Stat, parent_ino: int) -> None:
        super().__init__(flags, path)
        self.node = node
        self._stat = st
        self.parent_ino = parent_ino

    def stat(self) -> Stat:
        return self._stat

    def read(self, size: int) -> bytes:
        raise Errno(errno.EISDIR)

    def seek(self, offset: int, whence: int) -> int:
        return self.seek_dir(offset, whence)

    def listdir(self) -> list[DirEntry]:
        entries = [DirEntry(b".", self._stat.ino, 4), DirEntry(b"..", self.parent_ino, 4)]
        for name, child in self.node.children().items():
            entries.append(DirEntry(name.encode(), child.ino or ino_of(name), dtype_of_mode(child.mode)))
        return entries


def ino_of(path: str) -> int:
    """A stable inode number for a synthesized path."""
    h = 1469598103934665603
    for ch in path.encode():
        h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFF
    return h | 1


class SynthFS(FileSystem):
    """A file system whose tree is made of the nodes above."""

    readonly = True

    def __init__(self, root: Dir, start_ns: int, dev: int = SYNTH_DEV) -> None:
        self.root = root
        self.start_ns = start_ns
        self.dev = dev

    def node(self, rel: str) -> Node:
        node: Node = self.root
        for part in rel.split("/") if rel else ():
            if not isinstance(node, Dir):
                raise Errno(errno.ENOTDIR)
            child = node.children().get(part)
            if child is None:
                raise Errno(errno.ENOENT)
            node = child
        return node

    def stat_node(self, rel: str, node: Node) -> Stat:
        st = node.stat(self.start_ns, self.dev)
        ino = node.ino or ino_of("/" + rel)
        return Stat(st.dev, ino, st.mode, st.nlink, st.uid, st.gid, st.rdev, st.size, st.blksize,
                    st.blocks, st.atime_ns, st.mtime_ns, st.ctime_ns)

    def lstat(self, rel: str) -> Stat:
        return self.stat_node(rel, self.node(rel))

    def readlink(self, rel: str) -> str:
        node = self.node(rel)
        if not isinstance(node, Link):
            raise Errno(errno.EINVAL)
        return node.target()

    def open(self, rel: str, flags: int, mode: int, path: str) -> OpenFile:
        node = self.node(rel)
        st = self.stat_node(rel, node)
        if isinstance(node, Device) and node.opener is not None:
            return node.opener(flags, path)
        if flags & os.O_ACCMODE != os.O_RDONLY or flags & os.O_TRUNC:
            raise Errno(errno.EISDIR if isinstance(node, Dir) else errno.EACCES)
        if isinstance(node, Dir):
            parent = rel.rpartition("/")[0]
            return DirFile(node, flags, path, st, ino_of("/" + parent) if rel else st.ino)
        if isinstance(node, File):
            return BytesFile(node.content(), flags, path, st)
        if flags & os.O_PATH:
            return BytesFile(b"", flags, path, st)
        raise Errno(errno.ELOOP)
