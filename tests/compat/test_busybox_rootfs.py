"""Acceptance: a userland's file tools give the same outputs and the same trees.

A busybox-static rootfs is made at test time (the binary in ``bin/`` and a symlink
per applet), with a writable ``/work``. The same script of busybox commands (each
one a single process: no shell, no pipes) runs twice on the same starting tree:
natively in a real chroot (a private mount namespace, see ``sandboxes.py``) and
under Pyrene with a manifest mounting the rootfs on ``/``. Every step must print
the same and exit the same, and the resulting trees must be the same: types,
modes, sizes, link targets, SHA-256 of contents, and the mtimes the script set on
purpose (``touch -d``, kept by ``cp -a`` and ``tar x``).

The second layout is the issue's other one: the host's ``/`` read-only with a
writable work directory (and /proc, /tmp of their own), where the applets are
``/bin/busybox`` itself.

Only one thing is inherently different between the runs and is not compared as
such: the times of files made during a run (the runs happen at different
moments). The script therefore sets every mtime to a fixed date with ``touch -h
-d`` before its final ``ls -laR`` (which then must match byte for byte), and the
tree comparison leaves out mtimes newer than the fixed dates the script uses.
``find`` prints in directory order, which is the host file system's in both runs
but depends on the order files were made; its lines are compared sorted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from sandboxes import Layout, MountPoint, run_chroot, run_sandboxed
from pyrene.testing.compare import describe_difference

FIXED = "2022-02-22 22:22:22"
FIXED_EPOCH = 1645568542  # FIXED, UTC
SET_ON_PURPOSE = 1650000000  # mtimes older than this were set by the script


def populate(work: Path) -> None:
    """The starting tree, the same for both runs."""
    # empty `work` rather than remake it: its parent's mtime shows in `ls -laR` ('..')
    work.mkdir(parents=True, exist_ok=True)
    for entry in work.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    src = work / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "f1").write_text("one\n")
    (src / "f2").write_bytes(bytes(range(256)) * 40)
    (src / "f3").write_text("foo bar foo\nbaz foo\n")
    (src / "sub" / "g").write_text("g\n" * 1000)
    (src / "sub" / "deeper" / "h").write_text("")
    os.symlink("f1", src / "link-f1")
    os.symlink("sub/deeper", src / "link-dir")
    os.symlink("missing", src / "dangling")
    os.chmod(src / "f3", 0o600)
    os.chmod(src / "sub" / "g", 0o755)
    os.chmod(src / "sub" / "deeper", 0o700)
    (work / "list.txt").write_text("pear\napple\nfig\nbanana\napple\n")
    sums = "".join(f"{hashlib.sha256((src / n).read_bytes()).hexdigest()}  src/{n}\n" for n in ("f1", "f2", "f3"))
    (work / "sums.txt").write_text(sums)


def script(bb: Callable[..., list[str]]) -> list[list[str]]:
    """The commands, in order; `bb("cp", ...)` is how an applet is called."""
    return [
        bb("mkdir", "-p", "a/b/c", "src/sub/deeper/x"),
        bb("touch", "-d", "2020-01-02 03:04:05", "src/f1"),
        bb("touch", "-h", "-d", "2019-05-05 05:05:05", "src/link-f1"),
        bb("touch", "-d", "2021-01-01 00:00:00", "stamp"),
        bb("cp", "-a", "src", "copy"),
        bb("cp", "-r", "src", "copy-r"),
        bb("mv", "copy/f1", "copy/f1-moved"),
        bb("mv", "copy-r", "a/b/c/"),
        bb("ln", "-s", "../src/f2", "a/link"),
        bb("ln", "src/f3", "hardlink-f3"),
        bb("readlink", "-f", "a/link"),
        bb("readlink", "-f", "src/link-dir/../f1"),
        bb("readlink", "src/link-f1"),
        bb("find", ".", "-type", "f", "-newer", "stamp"),
        bb("find", "src", "-type", "l"),
        bb("stat", "-c", "%n %s %a %F %h %u %g %Y", "src/f1", "copy/f1-moved", "src/link-f1"),
        bb("stat", "-c", "%n %s %a %F %h %u %g %N", "a/link", "copy/sub", "hardlink-f3"),
        bb("stat", "-L", "-c", "%n %s %a %F", "a/link"),
        bb("chmod", "-R", "go-rwx,u+x", "copy"),
        bb("chmod", "644", "hardlink-f3"),
        # every mtime in the archive fixed, so that the archives are the same bytes
        bb("touch", "-h", "-d", "2018-08-08 08:08:08", "src", "src/f2", "src/f3", "src/sub", "src/sub/g",
           "src/sub/deeper", "src/sub/deeper/h", "src/sub/deeper/x", "src/link-dir", "src/dangling", "a/link"),
        bb("tar", "cf", "arch.tar", "src", "a/link"),
        bb("mkdir", "x"),
        bb("tar", "xf", "arch.tar", "-C", "x"),
        bb("tar", "tf", "arch.tar", "src/f1"),
        bb("gzip", "arch.tar"),
        bb("gzip", "-t", "arch.tar.gz"),
        bb("gunzip", "arch.tar.gz"),
        bb("sort", "list.txt"),
        bb("sort", "-u", "-o", "sorted.txt", "list.txt"),
        bb("sed", "-i", "s/foo/FOO/g", "copy/f3"),
        bb("sed", "-n", "2p", "copy/f3"),
        bb("sha256sum", "-c", "sums.txt"),
        bb("sha256sum", "copy/f3", "x/src/f2"),
        bb("rm", "-r", "copy/sub"),
        bb("rm", "-rf", "a/b"),
        bb("rm", "src/dangling"),
        bb("du", "-s", "."),
        bb("du", "-a", "src"),
        bb("ls", "-1aF", "src", "copy"),  # no times: files made now differ by run
        bb("cp", "missing", "nowhere"),
        bb("mkdir", "src"),
        bb("rm", "x"),
    ]


def snapshot(work: Path) -> dict[str, tuple]:
    """Everything a tree comparison looks at, keyed by path relative to `work`."""
    tree: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(work):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            kind = stat.S_IFMT(st.st_mode)
            mtime = st.st_mtime_ns if st.st_mtime < SET_ON_PURPOSE else None
            extra: object = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                extra = hashlib.sha256(path.read_bytes()).hexdigest()
            size = st.st_size if not stat.S_ISDIR(st.st_mode) else None
            tree[str(path.relative_to(work))] = (kind, stat.S_IMODE(st.st_mode), size, st.st_nlink
                                                 if not stat.S_ISDIR(st.st_mode) else None, extra, mtime)
    return tree


def run_script(layout: Layout, work: Path, bb: Callable[..., list[str]], runner) -> tuple[list, dict]:
    populate(work)
    outcomes = [runner(layout, argv) for argv in script(bb)]
    tree = snapshot(work)
    # fix every mtime, then the full listing must be identical too
    paths = sorted(str(p.relative_to(work)) for p in work.rglob("*"))
    outcomes.append(runner(layout, bb("touch", "-h", "-d", FIXED, ".", *paths)))
    outcomes.append(runner(layout, bb("ls", "-laR", ".")))
    return outcomes, tree


def compare_runs(layout: Layout, work: Path, bb: Callable[..., list[str]]) -> None:
    native, native_tree = run_script(layout, work, bb, run_chroot)
    pyrene, pyrene_tree = run_script(layout, work, bb, run_sandboxed)
    argvs = script(bb) + [["touch", "..."], ["ls", "-laR", "."]]
    problems = []
    for argv, a, b in zip(argvs, native, pyrene):
        if "find" in argv[:2]:
            a = dataclasses.replace(a, stdout=b"".join(sorted(a.stdout.splitlines(True))))
            b = dataclasses.replace(b, stdout=b"".join(sorted(b.stdout.splitlines(True))))
        diff = describe_difference(a, b)
        if diff:
            problems.append(f"{' '.join(argv)}:\n{diff}")
    if native_tree != pyrene_tree:
        for key in sorted(set(native_tree) | set(pyrene_tree)):
            if native_tree.get(key) != pyrene_tree.get(key):
                problems.append(f"tree differs at {key}: native {native_tree.get(key)} pyrene {pyrene_tree.get(key)}")
    assert not problems, "\n".join(problems)
    # the script did what it says (so that agreeing is not agreeing on failure)
    assert native[-1].returncode == 0 and b"f1-moved" in native[-1].stdout
    assert native_tree["x/src/f1"][5] == 1577934245 * 10**9  # touch -d, kept by cp -a and tar x
    assert native_tree["copy/f3"][2] == len("FOO bar FOO\nbaz FOO\n")


@pytest.fixture(scope="module")
def busybox(need):
    path = need("/bin/busybox", "busybox-static")  # the static one: it runs in a bare chroot
    if os.geteuid() != 0:
        pytest.skip("the native half needs root (mount namespace and chroot)")
    return path


def test_busybox_rootfs(busybox, tmp_path):
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    applets = ("cp", "mv", "rm", "mkdir", "ln", "readlink", "find", "ls", "du", "stat", "touch", "chmod",
               "tar", "gzip", "gunzip", "sort", "sed", "sha256sum")
    for name in applets:
        os.symlink("busybox", root / "bin" / name)
    layout = Layout(root=str(root), cwd="/work")
    compare_runs(layout, root / "work", lambda *argv: list(argv))


def test_busybox_on_read_only_host_root(busybox, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    layout = Layout(root="/", root_readonly=True, cwd=str(work),
                    mounts=(MountPoint(str(work), "bind", str(work)), MountPoint("/proc", "proc"),
                            MountPoint("/tmp", "tmpfs"), MountPoint("/dev", "dev")))
    compare_runs(layout, work, lambda *argv: [busybox, *argv])
