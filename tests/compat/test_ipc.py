"""System V IPC and POSIX shared memory, run natively and under Pyrene.

The C programs sysv_{msg,sem,shm,ids,perms}.c use one process, sysv_procs.c several
(the namespace is the leader's, ipc/shared.py): message queues,
semaphore sets and shared memory segments, ids printed only relative to each other since
the host's differ, keys derived from the test's own tmp dir (ftok) so that parallel runs
do not collide, and every object removed at the end (natively they live in the host's
IPC namespace). Shared memory is checked to be really shared: two attaches of a segment
in one process see each other's writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from sandboxes import Layout, assert_same_in

from pyrene.testing.compare import assert_same, default_env, describe_difference, run_native, run_pyrene

LINKS = ["dynamic", "static"]


def no_host_objects_left(tmp_path) -> None:
    """The native run removed what it created: no object with one of its keys is left."""
    listing = subprocess.run(["sh", "-c", "ipcs 2>/dev/null"], capture_output=True, text=True).stdout
    keys = [f"0x{_ftok(tmp_path, proj):08x}" for proj in "mes"]  # sysv_msg.c, sysv_sem.c, sysv_shm.c
    assert not any(k in listing for k in keys), listing


def _ftok(path, proj: str) -> int:
    st = path.stat()
    return ((ord(proj) & 0xFF) << 24) | ((st.st_dev & 0xFF) << 16) | (st.st_ino & 0xFFFF)


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("source", ["sysv_msg.c", "sysv_sem.c", "sysv_shm.c"])
def test_sysv(cbuild, tmp_path, source, link):
    program = cbuild(source, link=link)
    native = assert_same([program, str(tmp_path)], cwd=tmp_path)
    assert b"= id\n" in native.stdout and b"IPC_RMID" in native.stdout
    no_host_objects_left(tmp_path)


def test_sysv_shm_is_shared(cbuild, tmp_path):
    """Not only the same output: two attaches are the same pages (the write through one is read through the other)."""
    out = assert_same([cbuild("sysv_shm.c"), str(tmp_path)], cwd=tmp_path).stdout
    assert b"b sees: written through a\na sees: written through b\n" in out
    assert b"removed, attached: key private size 10000 mode 1600 nattch 2" in out


@pytest.mark.parametrize("link", LINKS)
def test_sysv_between_processes(cbuild, tmp_path, link):
    """Queues, semaphores and segments shared by a parent and its children: blocking
    msgrcv/msgsnd/semop woken by the other process, GETNCNT/GETZCNT, SEM_UNDO at exit,
    EIDRM, the child's writes seen by the parent, nattch, cpid/lpid/lspid/lrpid."""
    out = assert_same([cbuild("sysv_procs.c", link=link)], cwd=tmp_path).stdout
    for line in (b"msgrcv(type 2) = 6: type 2 \"second\"\nmsgrcv(type 1) = 5: type 1 \"first\"\n",
                 b"qnum 0 lspid parent lrpid child\n", b"msgrcv(type 0) = -1 EIDRM\n",
                 b"child: ping 2\nparent: pong 2\n", b"GETNCNT sem 2 = 1\n",
                 b"after its exit: sem 2 = 5, sem 3 = 0, pid child\n", b"semop(0, -1) = -1 EIDRM\n",
                 b"parent reads: \"through the inherited attach\", \"written by the child\"\n",
                 b"child: nattch 2 (inherited)\n", b"after the child's exit: nattch 1 lpid child\n"):
        assert line in out


@pytest.mark.parametrize("link", LINKS)
def test_posix_shm_and_semaphores(cbuild, tmp_path, link):
    out = assert_same([cbuild("posix_shm.c", link=link)], cwd=tmp_path).stdout
    assert b"second mapping sees: shared page" in out and b"sem_timedwait(s, &ts) = -1 ETIMEDOUT" in out


SHARED_MEMORY = """
from multiprocessing import resource_tracker, shared_memory
{untracked}
a = shared_memory.SharedMemory(create=True, size=5000)
b = shared_memory.SharedMemory(name=a.name)
a.buf[:5] = b"hello"
b.buf[4096:4101] = b"world"
print(bytes(b.buf[:5]), bytes(a.buf[4096:4101]), b.size >= 5000)
b.close()
a.close()
a.unlink()
try:
    shared_memory.SharedMemory(name=a.name)
except FileNotFoundError as e:
    print("gone:", type(e).__name__)
shared = shared_memory.ShareableList([1, 2.5, "three", b"four", None])
other = shared_memory.ShareableList(name=shared.shm.name)
other[0] = 42
print(list(shared))
other.shm.close(); shared.shm.close(); shared.shm.unlink()
"""


def test_python_shared_memory(need, tmp_path):
    """multiprocessing.shared_memory in one process, without its resource tracker (a
    helper process it starts with fork+exec, which Pyrene cannot do yet)."""
    python = need("/usr/bin/python3.11", "python3.11")
    untracked = "resource_tracker.register = resource_tracker.unregister = lambda *args: None"
    out = assert_same([python, "-c", SHARED_MEMORY.format(untracked=untracked)], cwd=tmp_path).stdout
    assert out == b"b'hello' b'world' True\ngone: FileNotFoundError\n[42, 2.5, 'three', b'four', None]\n"


def test_python_shared_memory_with_resource_tracker(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    assert_same([python, "-c", SHARED_MEMORY.format(untracked="")], cwd=tmp_path)


def test_waits_end_by_signal_or_timeout(need, tmp_path):
    """A msgrcv that must wait parks until SIGALRM ends it (EINTR, even with SA_RESTART:
    System V waits are never restarted); a semtimedop that must wait times out (EAGAIN)."""
    python = need("/usr/bin/python3.11", "python3.11")
    code = (
        "import ctypes, os, signal\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "signal.signal(signal.SIGALRM, lambda *a: print('alarm'))\n"
        "q = libc.msgget(0, 0o600)\n"
        "buf = ctypes.create_string_buffer(64)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.2)\n"
        "r = libc.msgrcv(q, buf, 56, ctypes.c_long(0), 0)\n"
        "print('msgrcv', r, os.strerror(ctypes.get_errno()))\n"
        "libc.msgctl(q, 0, None)\n"
        "s = libc.semget(0, 1, 0o600)\n"
        "op = (ctypes.c_short * 3)(0, -1, 0)\n"
        "ts = (ctypes.c_long * 2)(0, 100_000_000)\n"
        "r = libc.semtimedop(s, op, 1, ts)\n"
        "print('semtimedop', r, os.strerror(ctypes.get_errno()))\n"
        "libc.semctl(s, 0, 0)\n"
    )
    assert_same([python, "-c", code], cwd=tmp_path)


@pytest.mark.parametrize("link", LINKS)
def test_ids_and_usage_in_a_fresh_namespace(cbuild, tmp_path, link):
    """Exact ids and *_INFO counts: natively in a new IPC namespace (unshare --ipc, needs
    root), under Pyrene in the sandbox's own, both empty at the start."""
    program = cbuild("sysv_ids.c", link=link)
    native = run_native(["unshare", "--ipc", program], cwd=tmp_path, env=default_env(), input=b"", timeout=60)
    if native.returncode != 0 and b"unshare" in native.stderr:
        pytest.skip(f"no new IPC namespace natively: {native.stderr.decode().strip()}")
    pyrene = run_pyrene([program], cwd=tmp_path, env=default_env(), input=b"", timeout=60)
    assert not describe_difference(native, pyrene), describe_difference(native, pyrene)
    assert b"msgget(IPC_PRIVATE, 0600) = 3\n" in native.stdout  # cyclic index allocation


def test_permissions_of_a_non_root_user(cbuild, tmp_path):
    """ipc_perm checks against the app's uid/gid: natively the program runs as uid 1000
    (chroot and privilege drop of tests/compat/sandboxes.py), under Pyrene the manifest
    says uid 1000 (the virtual credentials)."""
    if os.geteuid() != 0:
        pytest.skip("the native half needs root (mount namespace, chroot, setuid)")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(cbuild("sysv_perms.c", link="static"), root / "prog")
    layout = Layout(root=str(root), uid=1000, gid=1000)
    native = assert_same_in(layout, ["/prog"])
    assert b"uid 1000 gid 1000\n" in native.stdout and b"EACCES" in native.stdout and b"EPERM" in native.stdout


def test_ipcs(need, tmp_path):
    """util-linux ipcs: the limits (IPC_INFO, /proc/sys), and the empty listing of a new
    namespace (no /proc/sysvipc in the sandbox: it falls back to the *_INFO/*_STAT calls)."""
    ipcs = need("/usr/bin/ipcs", "util-linux")
    assert_same([ipcs, "-l"], cwd=tmp_path)
    native = run_native(["unshare", "--ipc", ipcs], cwd=tmp_path, env=default_env(), input=b"", timeout=60)
    if native.returncode != 0:
        pytest.skip(f"no new IPC namespace natively: {native.stderr.decode().strip()}")
    pyrene = run_pyrene([ipcs], cwd=tmp_path, env=default_env(), input=b"", timeout=60)
    assert not describe_difference(native, pyrene), describe_difference(native, pyrene)
