"""New pseudo-terminals (`pyrene.dev.pts = true`, `pyrene run --pts`), natively and under
Pyrene: posix_openpt/grantpt/unlockpt/ptsname, openpty (TIOCGPTPEER), Python's
os.openpty, data both ways, window sizes, ttyname. Then, under Pyrene only, what the grant
does not give: without it no /dev/ptmx; with it, still no pts of another host process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyrene.manifest.default import default_manifest
from pyrene.testing.compare import default_env, describe_difference, run_native, run_pyrene

LINKS = ["dynamic", "static"]
PYRENE_PTS = [sys.executable, "-m", "pyrene", "run", "--pts", "--"]


def pts_manifest(program: str, cwd: os.PathLike[str]):  # type: ignore[no-untyped-def]
    """The default manifest with the grant, as a Manifest object (so also written out
    and read back as `pyrene.dev.pts = true`)."""
    return default_manifest(os.fspath(cwd))._replace(entrypoint=program, dev_pts=True)


@pytest.mark.parametrize("link", LINKS)
def test_pty_c(cbuild, tmp_path, link):
    program = str(cbuild("pty.c", link=link))
    kw = {"input": b"", "cwd": tmp_path, "env": default_env(), "timeout": 60}
    native = run_native([program], **kw)
    pyrene = run_pyrene([], manifest=pts_manifest(program, tmp_path), **kw)
    assert not describe_difference(native, pyrene), describe_difference(native, pyrene)
    assert native.status == 0 and b"slave -> master: 12 \"hello master\"" in native.stdout, native
    assert b"ttyname(peer) == name 1" in native.stdout


OPENPTY_CODE = r"""
import os, pty, tty
for make in (os.openpty, pty.openpty):
    master, slave = make()
    tty.setraw(slave)
    name = os.ttyname(slave)
    print(name.startswith("/dev/pts/"), os.path.basename(name) in os.listdir("/dev/pts"), os.isatty(master))
    os.write(slave, b"up\n")
    print(os.read(master, 100))
    os.write(master, b"down\n")
    print(os.read(slave, 100))
    os.set_blocking(master, False)
    total = 0
    try:
        while True:
            total += os.write(master, b"x" * 4096)
    except BlockingIOError:
        print("full", total > 0)
    again = os.open(name, os.O_RDWR | os.O_NOCTTY)
    print(os.path.samestat(os.fstat(again), os.stat(name)))
    for fd in (again, slave, master):
        os.close(fd)
"""


def test_python_openpty(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    kw = {"input": b"", "cwd": tmp_path, "env": default_env(), "capture_output": True, "timeout": 60}
    native = subprocess.run([python, "-c", OPENPTY_CODE], **kw)
    pyrene = subprocess.run([*PYRENE_PTS, python, "-c", OPENPTY_CODE], **kw)
    assert (native.returncode, native.stdout, native.stderr) == \
        (pyrene.returncode, pyrene.stdout, pyrene.stderr), (native, pyrene)
    assert native.stdout.count(b"True True True\n") == 2, native


PARK_CODE = r"""
import os, tty
master, slave = os.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
print(os.read(master, 100), flush=True)  # waits for the test to write on the slave from outside
data = b"y" * 100000  # more than the pty holds: waits for the test to read it
while data:
    data = data[os.write(master, data):]
print("written", flush=True)
os.read(master, 100)  # the test has read it all: closing the master earlier would hang up its reads
"""


@pytest.mark.parametrize("under", ["native", "pyrene"])
def test_read_on_master_parks(need, tmp_path, under):
    """A blocking read on a master with nothing to read waits (Pyrene parks the task on
    the host fd) until another host process writes on the slave; a write with no room
    left waits until it reads."""
    python = need("/usr/bin/python3.11", "python3.11")
    prefix = PYRENE_PTS if under == "pyrene" else []
    proc = subprocess.Popen([*prefix, python, "-c", PARK_CODE], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path, env=default_env())
    try:
        assert proc.stdout is not None
        name = proc.stdout.readline().decode().strip()
        assert name.startswith("/dev/pts/"), (name, proc.stderr.read() if proc.stderr else b"")
        fd = os.open(name, os.O_RDWR | os.O_NOCTTY)  # the host's node: the test is outside
        try:
            os.write(fd, b"from outside")
            assert proc.stdout.readline() == b"b'from outside'\n"
            got = 0
            while got < 100000:
                got += len(os.read(fd, 65536))
            os.write(fd, b"done")
        finally:
            os.close(fd)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert (proc.returncode, out, got) == (0, b"written\n", 100000), err


GRANT_CODE = r"""
import errno, fcntl, os, sys, termios
other = sys.argv[1]  # a pts the test (another host process) opened
own = [os.path.basename(os.ttyname(0))]
print(os.path.exists("/dev/ptmx"), sorted(os.listdir("/dev/pts")) == sorted(own + ["ptmx"] * (len(sys.argv) > 2)))
try:
    os.open("/dev/pts/" + other, os.O_RDWR | os.O_NOCTTY)
    print("other opened")
except OSError as e:
    print("other", errno.errorcode[e.errno], os.path.exists("/dev/pts/" + other))
if os.path.exists("/dev/ptmx"):
    master, slave = os.openpty()
    n = os.path.basename(os.ttyname(slave))
    print(sorted(os.listdir("/dev/pts")) == sorted(own + ["ptmx", n]))
    for request, arg in ((termios.TIOCSTI, b"x"), (termios.TIOCSCTTY, 0), (termios.TIOCCONS, 0)):
        try:
            fcntl.ioctl(master, request, arg)
            print(hex(request), "passed")
        except OSError as e:
            print(hex(request), errno.errorcode[e.errno])
    os.close(slave)
    os.close(master)
    print(n in os.listdir("/dev/pts"))  # gone with its master, as on the host
"""


@pytest.mark.parametrize("grant", [False, True])
def test_only_own_ptys(need, tmp_path, grant):
    """Without the grant, /dev/ptmx does not exist and /dev/pts shows only Pyrene's own
    terminal, as before; with it, the sandbox's new ptys are added but a pts some other
    host process opened stays absent (ENOENT), and the dangerous ioctls are ENOTTY."""
    python = need("/usr/bin/python3.11", "python3.11")
    master, slave = os.openpty()  # Pyrene's terminal (its stdin)
    other_master, other_slave = os.openpty()  # someone else's
    other = os.path.basename(os.ttyname(other_slave))
    try:
        argv = [python, "-c", GRANT_CODE, other, *(["ptmx"] if grant else [])]
        prefix = PYRENE_PTS if grant else PYRENE_PTS[:-2] + ["--"]
        out = subprocess.run([*prefix, *argv], stdin=slave, capture_output=True, cwd=tmp_path, env=default_env(),
                             start_new_session=True, timeout=60)
    finally:
        for fd in (master, slave, other_master, other_slave):
            os.close(fd)
    assert out.returncode == 0, out
    lines = out.stdout.decode().splitlines()
    assert lines[:2] == [f"{grant} True", "other ENOENT False"], out
    if grant:
        assert lines[2:] == ["True", "0x5412 ENOTTY", "0x540e ENOTTY", "0x541d ENOTTY", "False"], out
    else:
        assert lines[2:] == [], out
