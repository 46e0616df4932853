"""Escapes from the sandbox: each must fail with the errno Linux gives in a real chroot.

``c/escape.c`` tries the classic ways out (``..`` past ``/``, absolute and relative
symlinks, symlinks planted on the host side of a mount, ``/proc/self/root``,
``/proc/self/cwd``, ``/proc/self/fd/N`` of an O_PATH fd, ``openat`` with ``..``
chains from a dirfd, hard links and renames out of a mount) from the root of a
layout whose host directory has ``secret`` files just outside it. It runs natively
in a real chroot (with the same mounts made for real in a private mount namespace,
see ``sandboxes.py``) and under Pyrene, and both must print the same: the same
errnos, the same files read, and never a secret.

Pyrene resolves paths itself, then asks the host for the result confined with
openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): if the host changes under it (a
directory swapped for a symlink between the walk and the open), the host call
fails instead of following. ``test_host_side_changes_cannot_lead_out`` checks each
confined host helper with such a swapped tree directly, and
``test_swapping_a_directory_for_a_symlink_during_walks`` races the swap against a
program that opens a path through it under Pyrene.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from pathlib import Path

import pytest

from sandboxes import Layout, MountPoint, assert_same_in, run_sandboxed


@pytest.fixture(scope="module")
def can_chroot():
    if os.geteuid() != 0:
        pytest.skip("the native half needs root (mount namespace and chroot)")


def make_layout(tmp_path: Path, program: Path) -> Layout:
    (tmp_path / "secret").write_text("SECRET outside the root\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("SECRET outside the mount\n")
    mnt = tmp_path / "mnt-src"
    (mnt / "sub").mkdir(parents=True)
    (mnt / "file").write_text("mnt-file\n")
    # on the host, these lead out of the mounted directory
    os.symlink("../secret", mnt / "hostlink-rel")
    os.symlink(str(tmp_path / "secret"), mnt / "hostlink-abs")
    os.symlink("..", mnt / "hostlink-up")
    root = tmp_path / "root"
    for d in ("inside", "mnt", "proc", "tmp"):
        (root / d).mkdir(parents=True)
    (root / "inside" / "f").write_text("inside-f\n")
    shutil.copy(program, root / "prog")
    return Layout(
        root=str(root),
        mounts=(MountPoint("/mnt", "bind", str(mnt)), MountPoint("/proc", "proc"), MountPoint("/tmp", "tmpfs")),
        cwd="/",
    )


@pytest.mark.parametrize("link", ["static", "static-pie"])
def test_escapes_fail_as_in_a_chroot(can_chroot, cbuild, tmp_path, link):
    layout = make_layout(tmp_path, cbuild("escape.c", link=link))
    native = assert_same_in(layout, ["/prog", str(tmp_path / "secret")])
    assert b"SECRET" not in native.stdout
    assert b"EXDEV" in native.stdout and b'read "inside-f"' in native.stdout
    # nothing was moved or linked out of its mount, nothing outside was touched
    assert (tmp_path / "mnt-src" / "file").read_text() == "mnt-file\n"
    assert sorted(os.listdir(tmp_path / "root" / "inside")) == ["f"]
    assert sorted(os.listdir(tmp_path)) == ["mnt-src", "outside", "root", "secret"]


def test_host_side_changes_cannot_lead_out(tmp_path):
    """What the VFS asks of a host mount after the host swapped a directory on the
    path for a symlink out of it, or with '..' in it: every call fails, and
    nothing outside changes."""
    from pyrene.errors import Errno
    from pyrene.fs.host import HostFS

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("outside\n")
    mnt = tmp_path / "mnt"
    (mnt / "real").mkdir(parents=True)
    os.symlink(str(outside), mnt / "swapped")  # was a directory when the VFS looked
    os.symlink("../outside", mnt / "swapped-rel")
    os.symlink(str(outside / "victim"), mnt / "file-link")
    fs = HostFS(str(mnt), readonly=False)
    calls = {
        "lstat": lambda p: fs.lstat(p + "/victim"),
        "readlink": lambda p: fs.readlink(p + "/victim"),
        "open": lambda p: fs.open(p + "/victim", os.O_RDONLY, 0, "/x"),
        "open-creat": lambda p: fs.open(p + "/new", os.O_WRONLY | os.O_CREAT, 0o644, "/x"),
        "unlink": lambda p: fs.unlink(p + "/victim"),
        "mkdir": lambda p: fs.mkdir(p + "/new", 0o755),
        "rmdir": lambda p: fs.rmdir(p + "/new"),
        "rename-from": lambda p: fs.rename(p + "/victim", "moved", 0),
        "rename-to": lambda p: fs.rename("moved", p + "/victim", 0),
        "link-from": lambda p: fs.link(p + "/victim", "linked"),
        "link-to": lambda p: fs.link("linked", p + "/new"),
        "symlink": lambda p: fs.symlink("x", p + "/new"),
        "mknod": lambda p: fs.mknod(p + "/fifo", 0o10644, 0),
        "chmod": lambda p: fs.chmod(p + "/victim", 0o777),
        "chown": lambda p: fs.chown(p + "/victim", 1234, 1234),
        "utimens": lambda p: fs.utimens(p + "/victim", ((1, 0), (1, 0))),
        "truncate": lambda p: fs.truncate(p + "/victim", 0),
        "statfs": lambda p: fs.statfs(p + "/victim"),
    }
    (mnt / "moved").write_text("inside\n")
    (mnt / "linked").write_text("inside\n")
    before = {p.name: p.stat() for p in outside.iterdir()}
    try:
        for name, call in calls.items():
            for prefix in ("swapped", "swapped-rel", "..", "../outside", "real/../../outside"):
                with pytest.raises(Errno) as info:
                    call(prefix)
                assert info.value.errno in (errno.ELOOP, errno.EXDEV), (name, prefix, info.value)
        # a final symlink is not followed either: the operation is on the link
        for name in ("chmod", "truncate", "open"):
            with pytest.raises(Errno):
                {"chmod": lambda: fs.chmod("file-link", 0o777),
                 "truncate": lambda: fs.truncate("file-link", 0),
                 "open": lambda: fs.open("file-link", os.O_WRONLY, 0, "/x")}[name]()
    finally:
        fs.release()
    assert {p.name: p.stat() for p in outside.iterdir()} == before
    assert (outside / "victim").read_text() == "outside\n"
    assert sorted(os.listdir(outside)) == ["victim"]


def test_swapping_a_directory_for_a_symlink_during_walks(can_chroot, cbuild, tmp_path):
    layout = make_layout(tmp_path, cbuild("race.c", link="static"))
    mnt = tmp_path / "mnt-src"
    (mnt / "d" / "sub").mkdir(parents=True)
    (mnt / "d" / "file").write_text("inside\n")
    (mnt / "d-real").mkdir()
    os.rename(mnt / "d", mnt / "d-real" / "d")
    os.symlink(str(tmp_path / "outside"), mnt / "evil")
    os.mkdir(tmp_path / "outside" / "sub")
    (tmp_path / "outside" / "file").write_text("SECRET outside\n")
    os.rename(mnt / "d-real" / "d", mnt / "d")
    stop = threading.Event()

    def swap() -> None:
        """Put the symlink in place of the directory and back, atomically, in a loop."""
        while not stop.is_set():
            os.rename(mnt / "d", mnt / "d-real" / "d")
            os.rename(mnt / "evil", mnt / "d")
            os.rename(mnt / "d", mnt / "evil")
            os.rename(mnt / "d-real" / "d", mnt / "d")

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        out = run_sandboxed(layout, ["/prog", "3000"])
    finally:
        stop.set()
        swapper.join()
    assert out.returncode == 0, out
    inside, failed, escaped = (int(w) for w in out.stdout.split()[1::2])
    print(out.stdout)
    assert escaped == 0
    assert inside > 0  # the walks did run while the tree changed
