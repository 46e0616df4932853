"""Path walk in the sandbox's own namespace (namei).

Every path the app names is resolved here, one component at a time, against the mount
table built from the manifest:

  * an absolute path starts at the sandbox root; a relative one at the cwd or dirfd;
  * '..' goes to the parent of the path resolved so far; at '/' it stays at '/'. Since
    symlinks have been replaced by their targets by then, the lexical parent is the real
    one, also across mount points;
  * a symlink is read (through its file system) and its target walked in the sandbox:
    an absolute target restarts at the sandbox root, never at the host's;
  * more than 40 symlinks is ELOOP; a non-directory in the middle is ENOTDIR.

File systems therefore only ever see paths without symlinks or '..', and host-backed
ones additionally refuse to follow anything the host changes under us (pal/linux.py).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from ..abi.flags import S_IFDIR, S_IFLNK, S_IFMT
from ..abi.structs import Stat
from ..errors import Errno
from .mounts import Mount, MountTable, split_path

MAX_SYMLINKS = 40
# what a mount point's missing ancestor directory looks like
MOUNT_ANCESTOR = Stat(0x1F, 2, S_IFDIR | 0o755, 2, 0, 0, 0, 0, 4096, 0, 0, 0, 0)
NAME_MAX = 255


@dataclass(frozen=True, slots=True)
class Resolved:
    mount: Mount
    rel: str  # path inside the mount
    path: str  # absolute sandbox path
    stat: Stat | None  # None: the last component does not exist (yet)


class Vfs:
    def __init__(self, mounts: MountTable) -> None:
        self.mounts = mounts

    def resolve(self, base: str, path: str, follow: bool = True, allow_missing: bool = False) -> Resolved:
        """Resolve `path` relative to the sandbox directory `base`.

        With `allow_missing`, a missing final component (in an existing directory) gives a
        Resolved with stat None, which O_CREAT and friends use.
        """
        if not path:
            raise Errno(errno.ENOENT)
        # "dir/", "dir/." and "dir/.." all require (and follow to) a directory
        trailing_slash = path.endswith(("/", "/.", "/..")) or path in (".", "..")
        done: list[str] = [] if path.startswith("/") else list(split_path(base))
        todo = list(reversed(split_path(path)))
        links = 0
        st: Stat | None = None
        if not todo:
            mount, rel = self.mounts.find(done)
            return Resolved(mount, rel, "/" + "/".join(done), mount.fs.lstat(rel))
        while todo:
            name = todo.pop()
            if name == "..":
                if done:
                    done.pop()
                mount, rel = self.mounts.find(done)
                st = mount.fs.lstat(rel)
                continue
            if len(name) > NAME_MAX:
                raise Errno(errno.ENAMETOOLONG)
            done.append(name)
            mount, rel = self.mounts.find(done)
            last = not todo
            try:
                st = mount.fs.lstat(rel)
            except Errno as e:
                if e.errno == errno.ENOENT and tuple(done) in self.mounts.ancestors:
                    st = MOUNT_ANCESTOR
                    continue
                if e.errno == errno.ENOENT and last and allow_missing:
                    return Resolved(mount, rel, "/" + "/".join(done), None)
                raise
            kind = st.mode & S_IFMT
            if kind == S_IFLNK and last and follow and not trailing_slash:
                # a magic link to a file with no path (a pipe, a deleted file): the walk
                # ends on the link, which stats as the file and opens it (fs/synth.py)
                magic = mount.fs.magic_link(rel)
                if magic is not None:
                    return Resolved(mount, rel, "/" + "/".join(done), magic.stat())
            if kind == S_IFLNK and (not last or follow or trailing_slash):
                links += 1
                if links > MAX_SYMLINKS:
                    raise Errno(errno.ELOOP)
                target = mount.fs.readlink(rel)
                done.pop()
                if target.startswith("/"):
                    done = []
                todo.extend(reversed(split_path(target)))
                if not split_path(target) and not target.startswith("/"):
                    raise Errno(errno.ENOENT)
                continue
            if (not last or trailing_slash) and kind != S_IFDIR:
                raise Errno(errno.ENOTDIR)
        mount, rel = self.mounts.find(done)
        return Resolved(mount, rel, "/" + "/".join(done), st)
