"""The synthesized /dev, run natively and under Pyrene.

The devices a program uses (null, zero, full, random, urandom, tty), the stdio links and
/dev/shm behave as on Linux; device numbers and modes are Linux's. The host's other
devices do not exist in the sandbox (checked under Pyrene only: natively they do).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyrene.testing.compare import assert_same, default_env, run_pyrene

LINKS = ["dynamic", "static"]


@pytest.mark.parametrize("link", LINKS)
def test_devices(cbuild, tmp_path, link):
    program = cbuild("devices.c", link=link)
    native = assert_same([program], cwd=tmp_path)
    assert b"/dev/full: read 4096 zeros, write -1 No space left on device" in native.stdout
    assert b"shm content: shared" in native.stdout


@pytest.mark.parametrize(
    "argv",
    [
        # /dev/null's owner is left out: some hosts show it as nobody (a user namespace)
        ["stat", "-c", "%n %F %t,%T %a %s", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
         "/dev/tty", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd"],
        ["stat", "-c", "%U %G", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"],
        ["stat", "-c", "%n %F %a", "/dev/shm"],
        ["head", "-c", "16", "/dev/zero"],
        ["dd", "if=/dev/zero", "of=/dev/null", "bs=64k", "count=16", "status=none"],
        ["dd", "if=/dev/zero", "of=/dev/full", "bs=1", "count=1", "status=none"],
        ["cat", "/dev/null"],
        ["wc", "-c", "/dev/null"],
        ["readlink", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd"],
    ],
    ids=lambda argv: " ".join(argv)[:60],
)
def test_coreutils_on_dev(tmp_path, argv):
    assert_same(argv, cwd=tmp_path)


def test_write_through_dev_stdout(tmp_path):
    assert_same(["dd", "if=/dev/stdin", "of=/dev/stdout", "status=none"], cwd=tmp_path, input=b"copied\n")
    assert_same(["tee", "/dev/stderr"], cwd=tmp_path, input=b"to both\n")


def test_python_dev(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    code = (
        "import os, mmap, _posixshmem\n"  # what multiprocessing.shared_memory uses, without its helper process
        "print(len(os.urandom(64)), open('/dev/urandom', 'rb').read(8) != open('/dev/urandom', 'rb').read(8))\n"
        "name = '/pyrene-test-%d' % os.getpid()\n"
        "fd = _posixshmem.shm_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)\n"
        "os.ftruncate(fd, 100)\n"
        "m = mmap.mmap(fd, 100)\n"
        "m[:5] = b'hello'\n"
        "print(open('/dev/shm' + name, 'rb').read(5), os.path.exists('/dev/shm' + name))\n"
        "m.close(); os.close(fd); _posixshmem.shm_unlink(name)\n"
        "print(os.path.exists('/dev/shm' + name))\n"
    )
    assert_same([python, "-c", code], cwd=tmp_path)


def test_host_devices_do_not_exist(need, tmp_path):
    """Only the sandbox's devices are there: no disks, no kernel memory, no host ptys."""
    python = need("/usr/bin/python3.11", "python3.11")
    code = (
        "import os\n"
        "print(sorted(os.listdir('/dev')))\n"
        "for p in ('/dev/sda', '/dev/vda', '/dev/mem', '/dev/kmsg', '/dev/ptmx', '/dev/pts/0', '/dev/console'):\n"
        "    print(p, os.path.exists(p))\n"
    )
    out = run_pyrene([python, "-c", code], cwd=tmp_path, env=default_env(), input=b"")
    assert out.status == 0, out
    lines = out.stdout.decode().splitlines()
    assert lines[0] == str(["fd", "full", "null", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty",
                            "urandom", "zero"])
    assert all(line.endswith(" False") for line in lines[1:]), lines


def test_dev_shm_is_private_and_removed(need, tmp_path):
    """/dev/shm is a tmpfs of this sandbox: empty at start, even if the host's is not."""
    python = need("/usr/bin/python3.11", "python3.11")
    out = run_pyrene([python, "-c", "import os; print(os.listdir('/dev/shm')); open('/dev/shm/x', 'w').write('x')"],
                     cwd=tmp_path, env=default_env(), input=b"")
    assert (out.status, out.stdout) == (0, b"[]\n"), out
    again = run_pyrene([python, "-c", "import os; print(os.listdir('/dev/shm'))"],
                       cwd=tmp_path, env=default_env(), input=b"")
    assert (again.status, again.stdout) == (0, b"[]\n"), again


TTY_CODE = r"""
import os, stat
name = os.ttyname(0)
print(name, os.isatty(0), os.readlink("/proc/self/fd/0") == name, os.readlink("/dev/stdin"))
st, fst = os.stat(name), os.fstat(0)
print(stat.S_ISCHR(st.st_mode), (st.st_rdev, st.st_ino, st.st_dev) == (fst.st_rdev, fst.st_ino, fst.st_dev))
print(os.path.basename(name) in os.listdir("/dev/pts"))
fd = os.open("/dev/stdin", os.O_RDWR | os.O_NOCTTY)  # a session leader would make it its terminal
print(os.isatty(fd), os.ttyname(fd) == name)
try:
    os.open("/dev/tty", os.O_RDWR)
    print("/dev/tty opened")
except OSError as e:
    print("/dev/tty", e.strerror)
"""


def test_on_a_terminal(need, tmp_path):
    """A program on a pseudo-terminal finds its name (ttyname checks /dev/pts/N against
    fstat) and can open it again; without a controlling terminal /dev/tty is ENXIO."""
    python = need("/usr/bin/python3.11", "python3.11")
    master, slave = os.openpty()
    try:
        runs = []
        for prefix in ([], [sys.executable, "-m", "pyrene", "run", "--"]):
            runs.append(subprocess.run([*prefix, "tty"], stdin=slave, capture_output=True, cwd=tmp_path,
                                       env=default_env(), start_new_session=True, timeout=60))
            runs.append(subprocess.run([*prefix, python, "-c", TTY_CODE], stdin=slave, capture_output=True,
                                       cwd=tmp_path, env=default_env(), start_new_session=True, timeout=60))
    finally:
        os.close(slave)
        os.close(master)
    native_tty, native_py, pyrene_tty, pyrene_py = runs
    assert (native_tty.returncode, native_tty.stdout) == (pyrene_tty.returncode, pyrene_tty.stdout), runs
    assert native_tty.stdout.startswith(b"/dev/pts/")
    assert (native_py.returncode, native_py.stdout, native_py.stderr) == \
        (pyrene_py.returncode, pyrene_py.stdout, pyrene_py.stderr), runs
