"""The path walk and the file syscalls, natively in a real chroot and under Pyrene.

``c/vfs.c`` prints the result of a few hundred calls (long names, trailing slashes,
open flags, O_PATH, AT_* flags, openat2 with its RESOLVE_* flags, rename, link,
symlink, mknod, chmod, chown, utimes, truncate, statfs) in the same layout both
times (see ``sandboxes.py``): the root is a scratch directory, ``/work`` its
writable current directory, ``/ro`` a read-only mount, ``/tmp`` a tmpfs and
``/proc`` proc. The native half runs in a private mount namespace and a chroot, so
that nothing it does can reach the host.

``c/perms.c`` checks permissions with a non-root uid: natively the process drops
to uid/gid 1000 after the chroot, under Pyrene the manifest says uid 1000 (the
host kernel would let Pyrene, which is root, do anything: the checks are Pyrene's).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from sandboxes import Layout, MountPoint, assert_same_in, run_sandboxed

from pyrene.testing.compare import assert_same


def make_root(tmp_path: Path, program: Path) -> Layout:
    root = tmp_path / "root"
    for d in ("work", "ro", "tmp", "proc"):
        (root / d).mkdir(parents=True)
    ro_src = tmp_path / "ro-src"
    (ro_src / "dir").mkdir(parents=True)
    (ro_src / "file").write_text("read-only data\n")
    os.mkfifo(ro_src / "fifo")
    shutil.copy(program, root / "prog")
    return Layout(
        root=str(root),
        mounts=(
            MountPoint("/ro", "bind", str(ro_src), readonly=True),
            MountPoint("/tmp", "tmpfs"),
            MountPoint("/proc", "proc"),
        ),
        cwd="/work",
    )


@pytest.fixture(scope="module")
def can_chroot():
    if os.geteuid() != 0:
        pytest.skip("the native half needs root (mount namespace and chroot)")


@pytest.mark.parametrize("link", ["static", "static-pie"])
def test_vfs_calls(can_chroot, cbuild, tmp_path, link):
    layout = make_root(tmp_path, cbuild("vfs.c", link=link))
    native = assert_same_in(layout, ["/prog"])
    # the program cleans up after itself, and the native half really ran its checks
    assert os.listdir(Path(layout.root) / "work") == []
    assert b"== statfs" in native.stdout and b"EROFS" in native.stdout
    assert b'rename("/tmp", "tmpdir") = -1 EBUSY' in native.stdout  # the host's /tmp was never at stake
    assert (tmp_path / "ro-src" / "file").read_text() == "read-only data\n"



def make_perm_tree(work: Path) -> None:
    """The files c/perms.c expects, as root, for uid/gid 1000 to be checked against."""
    shutil.rmtree(work)
    work.mkdir()

    def add(name: str, mode: int, uid: int = 1000, gid: int = 1000, directory: bool = False) -> None:
        path = work / name
        if directory:
            path.mkdir()
        else:
            path.write_text(name)
        os.chown(path, uid, gid)
        os.chmod(path, mode)

    os.chown(work, 1000, 1000)
    add("own", 0o644)
    add("exec", 0o755)
    add("other", 0o600, 0, 0)
    add("other-r", 0o644, 0, 0)
    add("group-rw", 0o660, 0, 1000)
    add("noread", 0o200)
    for d in ("nosearch", "noread-dir", "rootdir", "sticky"):
        add(d, 0o755, 0, 0, directory=True)
    add("sgid", 0o2777, 0, 4321, directory=True)
    add("nosearch/file", 0o644, 0, 0)
    add("noread-dir/file", 0o644, 0, 0)
    add("rootdir/file", 0o644, 0, 0)
    add("rootdir/sub", 0o755, 0, 0, directory=True)
    add("sticky/theirs", 0o666, 0, 0)
    add("sticky/mine", 0o644)
    os.chmod(work / "nosearch", 0o644)
    os.chmod(work / "noread-dir", 0o311)
    os.chmod(work / "sticky", 0o1777)


@pytest.mark.parametrize("link", ["static"])
def test_permissions_of_a_non_root_user(can_chroot, cbuild, tmp_path, link):
    layout = make_root(tmp_path, cbuild("perms.c", link=link))
    layout = dataclasses.replace(layout, uid=1000, gid=1000)
    work = Path(layout.root) / "work"
    make_perm_tree(work)
    native = assert_same_in(layout, ["/prog"], reset=lambda: make_perm_tree(work))
    assert b"uid 1000 gid 1000" in native.stdout
    assert b"EACCES" in native.stdout and b"EPERM" in native.stdout


def test_what_only_the_sandbox_refuses(cbuild, tmp_path):
    """Native root could make these; the sandbox does not (not a comparison)."""
    layout = make_root(tmp_path, cbuild("vfs.c", link="static"))
    out = run_sandboxed(layout, ["/prog", "sandbox-only"])
    assert out.stdout.decode().splitlines() == [
        'mknod("chr", S_IFCHR | 0600, makedev(1, 3)) = -1 EPERM',
        'mknod("blk", S_IFBLK | 0600, makedev(7, 0)) = -1 EPERM',
        'renameat2(AT_FDCWD, "w", AT_FDCWD, "w2", RENAME_WHITEOUT) = -1 EINVAL',
        'unlink("w") = 0',
    ], out
    assert os.listdir(Path(layout.root) / "work") == []


@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_xattrs(cbuild, tmp_path, link):
    """user. attributes by path, link and fd in the writable cwd; pipes and /proc have none."""
    assert_same([cbuild("xattrs.c", link=link)], cwd=tmp_path)
    assert os.listdir(tmp_path) == []


def test_programs_that_copy_permissions(need, tmp_path):
    """sed -i, cp -p, install and tar copy a file's mode (and try its ACL, which Pyrene's
    file systems do not have: EOPNOTSUPP, so they fall back to chmod without a word)."""
    bash = need("/bin/bash", "bash")
    script = ("rm -rf w; mkdir w; cd w; echo hi > f; chmod 640 f; sed -i s/hi/ho/ f; cat f; stat -c %a f; cp -p f g; stat -c %a g; "
              "install -m 600 f h; stat -c %a h; tar cf t.tar f g h; mkdir x; tar xpf t.tar -C x; "
              "stat -c '%n %a' x/f x/g x/h")
    assert_same([bash, "-c", script], cwd=tmp_path)
