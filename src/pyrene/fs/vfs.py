"""Path walk in the sandbox's own namespace (namei).

Every path the app names is resolved here, one component at a time, against the mount
table built from the manifest:

  * an absolute path starts at the sandbox root; a relative one at the cwd or dirfd;
  * '..' goes to the parent of the path resolved so far; at '/' it stays at '/'. Since
    symlinks have been replaced by their targets by then, the lexical parent is the real
    one, also across mount points;
  * a symlink is read (through its file system) and its target walked in the sandbox:
    an absolute target restarts at the sandbox root, never at the host's;
  * more than 40 symlinks is ELOOP; a non-directory in the middle is ENOTDIR; a
    component longer than NAME_MAX is ENAMETOOLONG (whole paths longer than PATH_MAX
    never get here: reading them from the app fails first, abi/types.Path);
  * /proc cannot hold new names: a missing one is ENOENT even where a creating call
    would otherwise get a place for it (as procfs' lookups fail in Linux);
  * before looking a name up in a directory, the walker needs search (x) permission on
    it for the app's virtual credentials. The host kernel checks with Pyrene's own
    (root) identity, so it cannot do this for us. uid 0 skips the check, as
    CAP_DAC_OVERRIDE does.

/proc's "magic" links (/proc/self/cwd, root, exe, fd/N) are ordinary links here whose
targets are sandbox paths, so following them stays inside the sandbox like any absolute
symlink: /proc/self/root is "/", the sandbox root. openat2's RESOLVE_* flags scope a
walk (`Walk`); a link is magic when a proc mount serves it and its target is absolute.

File systems therefore only ever see paths without symlinks or '..', and host-backed
ones additionally refuse to follow anything the host changes under us (pal/linux.py).

Operations that create or remove a name (mkdir, unlink, rename, link...) walk to the
parent only (`resolve_parent`, Linux's LOOKUP_PARENT) and look the last name up
themselves, because their errors depend on what the last component is ('.', '..', a
trailing slash) before they depend on whether it exists.
"""

from __future__ import annotations

import errno

from ..abi.flags import CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, R_OK, S_IFDIR, S_IFLNK, S_IFMT, W_OK, X_OK
from ..abi.structs import Stat
from ..errors import Errno
from ..record import NamedTuple
from .file import OpenFile
from .mounts import Mount, MountTable, split_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Protocol

    class Creds(Protocol):
        """What the permission checks need of the app's credentials (kernel/creds.Creds)."""

        uid: int  # the fs uid and gid
        gid: int
        groups: tuple[int, ...]

        def capable(self, cap: int) -> bool: ...

MAX_SYMLINKS = 40
# what a mount point's missing ancestor directory looks like
MOUNT_ANCESTOR = Stat(0x1F, 2, S_IFDIR | 0o755, 2, 0, 0, 0, 0, 4096, 0, 0, 0, 0)
NAME_MAX = 255

# openat2(2) resolve flags (linux/openat2.h)
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
RESOLVE_CACHED = 0x20
RESOLVE_ALL = 0x3F

# kinds of last component, as Linux's LAST_NORM/LAST_DOT/LAST_DOTDOT/LAST_ROOT
LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT = "norm", "dot", "dotdot", "root"


class Resolved(NamedTuple):
    mount: Mount
    rel: str  # path inside the mount
    path: str  # absolute sandbox path
    stat: Stat | None  # None: the last component does not exist (yet)
    file: OpenFile | None = None  # the open file, when the call named it by an fd


class Parent(NamedTuple):
    """The directory holding a path's last component, and that component."""

    dir: Resolved
    name: str  # "" for LAST_ROOT, "." or ".." for LAST_DOT/LAST_DOTDOT
    last: str  # LAST_NORM, LAST_DOT, LAST_DOTDOT or LAST_ROOT
    trailing_slash: bool


class Walk(NamedTuple):
    """How to walk: openat2's resolve flags, and the credentials to check search
    permission with (None: no checks, for Pyrene's own lookups)."""

    creds: Creds | None = None
    resolve: int = 0


UNCHECKED = Walk()


def may_access(st: Stat, creds: Creds | None, mask: int) -> bool:
    """Linux's generic_permission for r/w/x `mask` bits with the fs uid/gid, then the
    capability overrides: CAP_DAC_OVERRIDE passes all but exec of a file with no x bit
    at all, CAP_DAC_READ_SEARCH reading files and reading or searching directories."""
    if creds is None or not mask:
        return True
    if st.uid == creds.uid:
        bits = (st.mode >> 6) & 7
    elif st.gid == creds.gid or st.gid in creds.groups:
        bits = (st.mode >> 3) & 7
    else:
        bits = st.mode & 7
    if not mask & ~bits:
        return True
    is_dir = st.mode & S_IFMT == S_IFDIR
    if creds.capable(CAP_DAC_OVERRIDE) and (is_dir or not mask & X_OK or st.mode & 0o111):
        return True
    return creds.capable(CAP_DAC_READ_SEARCH) and (mask == R_OK or (is_dir and not mask & W_OK))


def check_access(st: Stat, creds: Creds | None, mask: int) -> None:
    if not may_access(st, creds, mask):
        raise Errno(errno.EACCES)


def too_long(name: str) -> bool:
    """More than NAME_MAX bytes (a name of at most 63 characters cannot be: the hot path)."""
    return len(name) > 63 and len(name.encode("utf-8", "surrogateescape")) > NAME_MAX


def components(path: str) -> list[str]:
    """A path's components, last first (a stack); '.' kept, since looking it up needs
    search permission on the directory like any other name."""
    return [p for p in reversed(path.split("/")) if p]


class Vfs:
    def __init__(self, mounts: MountTable) -> None:
        self.mounts = mounts

    def resolve(self, base: str, path: str, follow: bool = True, allow_missing: bool = False,
                walk: Walk = UNCHECKED) -> Resolved:
        """Resolve `path` relative to the sandbox directory `base`.

        With `allow_missing`, a missing final component (in an existing directory) gives a
        Resolved with stat None, which O_CREAT and friends use.
        """
        if not path:
            raise Errno(errno.ENOENT)
        # "dir/", "dir/." and "dir/.." all require (and follow to) a directory
        trailing_slash = path.endswith(("/", "/.", "/..")) or path in (".", "..")
        return self._walk(base, path, follow, allow_missing, trailing_slash, walk)

    def resolve_parent(self, base: str, path: str, walk: Walk = UNCHECKED) -> Parent:
        """Walk to the directory that holds `path`'s last component (LOOKUP_PARENT)."""
        if not path:
            raise Errno(errno.ENOENT)
        stripped = path.rstrip("/")
        trailing = len(stripped) != len(path)
        if not stripped:
            return Parent(self._walk(base, "/", True, False, True, walk), "", LAST_ROOT, trailing)
        head, slash, name = stripped.rpartition("/")
        # "name" is in the start directory, "/name" in the root
        parent = self._walk(base, head or slash or ".", True, False, True, walk)
        last = LAST_DOT if name == "." else LAST_DOTDOT if name == ".." else LAST_NORM
        self.check_name(parent, name if last == LAST_NORM else "", walk)
        return Parent(parent, name, last, trailing)

    def check_name(self, parent: Resolved, name: str, walk: Walk) -> None:
        """What looking `name` up in `parent` needs: search permission, a short name."""
        if walk.creds is not None and not walk.creds.capable(CAP_DAC_READ_SEARCH):
            assert parent.stat is not None
            check_access(parent.stat, walk.creds, X_OK)
        if too_long(name):
            raise Errno(errno.ENAMETOOLONG)

    def child(self, parent: Resolved, name: str) -> Resolved:
        """The entry `name` of a resolved directory, not following it; stat None if absent."""
        parts = split_path(parent.path) + (name,)
        mount, rel = self.mounts.find(parts)
        path = "/" + "/".join(parts)
        try:
            st: Stat | None = mount.fs.lstat(rel)
        except Errno as e:
            if e.errno != errno.ENOENT:
                raise
            st = MOUNT_ANCESTOR if parts in self.mounts.ancestors else None
            if st is None and mount.kind == "proc":
                raise  # /proc has no room for new names: its lookups fail instead
        return Resolved(mount, rel, path, st)

    def is_mount_point(self, res: Resolved) -> bool:
        """Whether `res` is the root of a mount (or a directory the mount table made up)."""
        parts = split_path(res.path)
        return (not res.rel and res.mount.parts == parts) or parts in self.mounts.ancestors

    def _walk(self, base: str, path: str, follow: bool, allow_missing: bool, trailing_slash: bool,
              walk: Walk) -> Resolved:
        scoped = walk.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)
        root: tuple[str, ...] = split_path(base) if scoped else ()
        if path.startswith("/"):
            if walk.resolve & RESOLVE_BENEATH:
                raise Errno(errno.EXDEV)
            done: list[str] = list(root)
        else:
            done = list(split_path(base))
        todo = components(path)
        check_search = walk.creds is not None and not walk.creds.capable(CAP_DAC_READ_SEARCH)
        # many names in one host lookup: at the start and again after each symlink
        quick_allowed = not (check_search or walk.resolve or trailing_slash)
        quick = quick_allowed
        st: Stat | None = None
        start_mount = None
        if not todo or check_search or walk.resolve & RESOLVE_NO_XDEV:
            mount, rel = self.mounts.find(done)
            start_mount = mount
            if not todo or check_search:
                st = self._lstat_dir(mount, rel, done)
        links = 0
        while todo:
            if quick and len(todo) > 1:
                quick = False
                found = self._walk_in_one(done, todo)
                if found is not None:
                    assert found.stat is not None
                    if not (follow and found.stat.mode & S_IFMT == S_IFLNK):
                        return found
                    done += todo[:0:-1]  # the directories on the way: the link is walked below
                    del todo[1:]
            if check_search:
                assert st is not None
                check_access(st, walk.creds, X_OK)
            name = todo.pop()
            last = not todo
            if name == ".":
                continue  # looked up in the directory we are in: only its x bit mattered
            if name == "..":
                if len(done) <= len(root):
                    if walk.resolve & RESOLVE_BENEATH:
                        raise Errno(errno.EXDEV)
                else:
                    done.pop()
                mount, rel = self.mounts.find(done)
                if walk.resolve & RESOLVE_NO_XDEV and mount is not start_mount:
                    raise Errno(errno.EXDEV)
                st = self._lstat_dir(mount, rel, done)
                continue
            if len(name) > 63 and too_long(name):  # (inlined first test: the hot path)
                raise Errno(errno.ENAMETOOLONG)
            done.append(name)
            mount, rel = self.mounts.find(done)
            if walk.resolve & RESOLVE_NO_XDEV and mount is not start_mount:
                raise Errno(errno.EXDEV)
            try:
                st = mount.fs.lstat(rel)
            except Errno as e:
                if e.errno == errno.ENOENT and tuple(done) in self.mounts.ancestors:
                    st = MOUNT_ANCESTOR
                    continue
                if e.errno == errno.ENOENT and last and allow_missing and mount.kind != "proc":
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
                self._check_link(mount, target, walk)
                done.pop()
                if target.startswith("/"):
                    if walk.resolve & RESOLVE_BENEATH:
                        raise Errno(errno.EXDEV)
                    done = list(root)
                    if walk.resolve & RESOLVE_NO_XDEV and self.mounts.find(done)[0] is not start_mount:
                        raise Errno(errno.EXDEV)
                if not target:
                    raise Errno(errno.ENOENT)
                todo.extend(components(target))
                quick = quick_allowed
                if check_search or not todo:
                    mount, rel = self.mounts.find(done)
                    st = self._lstat_dir(mount, rel, done)
                else:
                    st = None  # known again at the next name (or after the loop)
                continue
            if (not last or trailing_slash) and kind != S_IFDIR:
                raise Errno(errno.ENOTDIR)
        mount, rel = self.mounts.find(done)
        if st is None:  # the walk ended on '.' components
            st = self._lstat_dir(mount, rel, done)
        return Resolved(mount, rel, "/" + "/".join(done), st)

    def _walk_in_one(self, done: list[str], todo: list[str]) -> Resolved | None:
        """The rest of a walk in one host lookup (`FileSystem.walk_lstat`), the last name
        not followed: names that stay in one mount, no '.' or '..', no symlink but the
        last (no search permission to check: `_walk` asks only then). What it finds is
        what the walk name by name would find; None (anything else, or any error) leaves
        it to that walk."""
        if "." in todo or ".." in todo:
            return None
        parts = done + todo[::-1]
        mount, rel = self.mounts.find(parts)
        if mount is not self.mounts.find(done)[0]:
            return None  # a mount point on the way
        st = mount.fs.walk_lstat(rel)
        return None if st is None else Resolved(mount, rel, "/" + "/".join(parts), st)

    def _lstat_dir(self, mount: Mount, rel: str, done: list[str]) -> Stat:
        """The stat of a directory reached by '..', a jump or the start of the walk."""
        try:
            return mount.fs.lstat(rel)
        except Errno as e:
            if e.errno == errno.ENOENT and tuple(done) in self.mounts.ancestors:
                return MOUNT_ANCESTOR
            raise

    @staticmethod
    def _check_link(mount: Mount, target: str, walk: Walk) -> None:
        """openat2's limits on following a link (fs/namei.c pick_link, nd_jump_link)."""
        if not walk.resolve:
            return
        if walk.resolve & RESOLVE_NO_SYMLINKS:
            raise Errno(errno.ELOOP)
        if mount.kind == "proc" and target.startswith("/"):  # a magic link
            if walk.resolve & RESOLVE_NO_MAGICLINKS:
                raise Errno(errno.ELOOP)
            if walk.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_NO_XDEV):
                raise Errno(errno.EXDEV)
