"""Synthesized file systems (/proc, /dev): a tree of nodes whose content is computed
when opened, from the instance's own state. Nothing here touches the host except
through the PAL.

Linux semantics kept here, because programs rely on them:

  * a file's content is taken once, when it is opened (like seq_file's first read), so
    reading a big file in small chunks or with pread sees one consistent snapshot;
  * stat reports size 0 (the content does not exist until it is read), and inode
    numbers are stable per path, the same in stat and in getdents64;
  * a directory's listing is taken at the first getdents64 and kept until it is rewound
    to 0, so offsets stay valid while entries come and go (fds opened and closed);
  * "magic" links (/proc/PID/fd/N, exe, cwd) show a path but, when that path no longer
    names the file (a pipe, a deleted file, a file from outside the sandbox), following
    them reaches the open file itself (`Link.magic`), as Linux's nd_jump_link does.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..abi.flags import S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, dtype_of_mode
from ..abi.structs import Stat
from ..errors import Errno
from .file import DirEntry, FileSystem, OpenFile

SYNTH_DEV = 0x1F  # the st_dev of synthesized trees (major 0, like the kernel's procfs)

Owner = Callable[[], "tuple[int, int]"]


@dataclass
class Node:
    mode: int
    ino: int = 0
    owner: Owner | None = None  # (uid, gid); None: root
    size: int | Callable[[], int] = 0  # what stat says (0 for content made at open, like procfs)

    def stat(self, start_ns: int, dev: int) -> Stat:
        uid, gid = self.owner() if self.owner is not None else (0, 0)
        size = self.size() if callable(self.size) else self.size
        return Stat(dev, self.ino, self.mode, 2 if self.mode & S_IFDIR == S_IFDIR else 1, uid, gid,
                    getattr(self, "rdev", 0), size, 1024, 0, start_ns, start_ns, start_ns)


@dataclass
class Dir(Node):
    """A directory; `children` is called at each lookup (so /proc/<pid>/fd stays current)."""

    children: Callable[[], Mapping[str, Node]] = field(default=lambda: {})


@dataclass
class File(Node):
    """A file whose content is computed at open; `store`, if set, takes what is written."""

    content: Callable[[], bytes] = field(default=lambda: b"")
    store: Callable[[bytes], None] | None = None


@dataclass
class Link(Node):
    """A symlink. `magic`, if set, gives the open file a follow of the final component
    reaches instead of walking `target` (None: walk the target)."""

    target: Callable[[], str] = field(default=lambda: "")
    magic: Callable[[], OpenFile | None] | None = None


@dataclass
class Device(Node):
    """A character device: `opener(flags, path)` makes the OpenFile."""

    rdev: int = 0
    opener: Callable[[int, str], OpenFile] | None = None


@dataclass
class HostNode(Device):
    """A host device node shown as it is on the host (a terminal the app already has):
    same stat, so that ttyname()'s check of /dev/pts/N against fstat(fd) holds."""

    host_stat: Callable[[], Stat] | None = None

    def stat(self, start_ns: int, dev: int) -> Stat:
        assert self.host_stat is not None
        return self.host_stat()


def directory(children: Callable[[], Mapping[str, Node]], mode: int = 0o555, owner: Owner | None = None) -> Dir:
    return Dir(S_IFDIR | mode, owner=owner, children=children)


def static_dir(entries: dict[str, Node], mode: int = 0o555, owner: Owner | None = None) -> Dir:
    return Dir(S_IFDIR | mode, owner=owner, children=lambda: entries)


def text(content: Callable[[], bytes], mode: int = 0o444, owner: Owner | None = None,
         store: Callable[[bytes], None] | None = None) -> File:
    return File(S_IFREG | mode, owner=owner, content=content, store=store)


def link(target: Callable[[], str], mode: int = 0o777, owner: Owner | None = None,
         magic: Callable[[], OpenFile | None] | None = None, size: int = 0) -> Link:
    return Link(S_IFLNK | mode, owner=owner, size=size, target=target, magic=magic)


def fixed_link(target: str) -> Link:
    """A link with a constant target; its size is the target's length, as on a disk."""
    return link(lambda: target, size=len(target))


def char_device(major: int, minor: int, opener: Callable[[int, str], OpenFile], mode: int = 0o666) -> Device:
    return Device(S_IFCHR | mode, rdev=(major << 8) | minor, opener=opener)


class BytesFile(OpenFile):
    """A file whose whole content was computed at open; writes go to `store` if any."""

    def __init__(self, data: bytes, flags: int, path: str, st: Stat,
                 store: Callable[[bytes], None] | None = None) -> None:
        super().__init__(flags, path)
        self.data = data
        self.pos = 0
        self._stat = st
        self.store = store

    def stat(self) -> Stat:
        return self._stat

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        chunk = self.data[self.pos:self.pos + size]
        self.pos += len(chunk)
        return chunk

    def pread(self, size: int, offset: int) -> bytes:
        if not self.readable:
            raise Errno(errno.EBADF)
        return self.data[offset:offset + size]

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise Errno(errno.EBADF)
        if self.store is None:
            raise Errno(errno.EINVAL)  # what procfs says to root writing a read-only file
        self.store(data)
        return len(data)

    def pwrite(self, data: bytes, offset: int) -> int:
        return self.write(data)

    def seek(self, offset: int, whence: int) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: len(self.data)}.get(whence)
        if base is None or base + offset < 0:
            raise Errno(errno.EINVAL)
        self.pos = base + offset
        return self.pos


class DirFile(OpenFile):
    def __init__(self, node: Dir, rel: str, flags: int, path: str, st: Stat, parent_ino: int) -> None:
        super().__init__(flags, path)
        self.node = node
        self.rel = rel
        self._stat = st
        self.parent_ino = parent_ino

    def stat(self) -> Stat:
        return self._stat

    def read(self, size: int) -> bytes:
        raise Errno(errno.EISDIR)

    def pread(self, size: int, offset: int) -> bytes:
        raise Errno(errno.EISDIR)

    def seek(self, offset: int, whence: int) -> int:
        return self.seek_dir(offset, whence)

    def listdir(self) -> list[DirEntry]:
        entries = [DirEntry(b".", self._stat.ino, 4), DirEntry(b"..", self.parent_ino, 4)]
        prefix = "/" + self.rel + "/" if self.rel else "/"
        for name, child in self.node.children().items():
            entries.append(DirEntry(name.encode(), child.ino or ino_of(prefix + name), dtype_of_mode(child.mode)))
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
        return st if st.ino else st._replace(ino=ino_of("/" + rel))

    def lstat(self, rel: str) -> Stat:
        return self.stat_node(rel, self.node(rel))

    def readlink(self, rel: str) -> str:
        node = self.node(rel)
        if not isinstance(node, Link):
            raise Errno(errno.EINVAL)
        return node.target()

    def magic_link(self, rel: str) -> OpenFile | None:
        node = self.node(rel)
        if isinstance(node, Link) and node.magic is not None:
            return node.magic()
        return None

    def open(self, rel: str, flags: int, mode: int, path: str) -> OpenFile:
        node = self.node(rel)
        st = self.stat_node(rel, node)
        if isinstance(node, Device) and node.opener is not None and not flags & os.O_PATH:
            return node.opener(flags, path)
        if isinstance(node, Dir):
            if flags & os.O_ACCMODE != os.O_RDONLY and not flags & os.O_PATH:
                raise Errno(errno.EISDIR)
            parent = rel.rpartition("/")[0]
            return DirFile(node, rel, flags, path, st, ino_of("/" + parent) if rel else st.ino)
        if isinstance(node, Link) and node.magic is not None and not flags & os.O_NOFOLLOW:
            file = node.magic()  # the VFS ended a walk here: open what the link leads to
            if file is not None:
                return file.reopen(flags)
        if flags & os.O_PATH:
            return BytesFile(b"", flags, path, st)
        if isinstance(node, File):
            data = node.content() if flags & os.O_ACCMODE != os.O_WRONLY else b""
            return BytesFile(data, flags, path, st, node.store)
        raise Errno(errno.ELOOP)
