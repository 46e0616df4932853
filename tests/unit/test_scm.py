"""net/scm.py on real host objects: a parcel's record rebuilds the files it describes, and
whatever a record cannot vouch for is closed, never installed and never leaked."""

from __future__ import annotations

import errno
import fcntl
import os

import pytest

from pyrene.errors import Errno
from pyrene.fs.eventfd import EpollFile
from pyrene.fs.host import HostFile
from pyrene.fs.pipe import PipeEnd, make_pipe
from pyrene.net import scm
from pyrene.net.unix import UnixNamespace, new_socketpair


def open_fds() -> set[int]:
    return set(int(n) for n in os.listdir("/proc/self/fd"))


def received(parcel: scm.Parcel) -> list[int]:
    """The fds a receiver would get: new host fds for the parcel's files and record."""
    return [os.dup(fd) for fd in parcel.fds()]


@pytest.fixture
def ns():
    space = UnixNamespace()
    yield space
    space.release()


def test_round_trip(tmp_path, ns):
    before = open_fds()
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    file = HostFile(os.open(path, os.O_RDWR), os.O_RDWR | os.O_APPEND, "/sandbox/f")
    read_end, write_end = make_pipe(os.O_NONBLOCK)
    sock, peer = new_socketpair(1, False, ns)
    sock.name = b"\0abstract"
    parcel = scm.pack([file, read_end, sock], scm.Ucred(7, 1000, 1000))
    fds = received(parcel)
    parcel.close()
    got = scm.unpack(fds, ns)
    assert not got.lost and got.creds == scm.Ucred(7, 1000, 1000)
    f, r, s = got.files
    assert type(f) is HostFile and f.path == "/sandbox/f" and f.flags == os.O_RDWR | os.O_APPEND
    assert f.pread(4, 0) == b"0123"
    assert type(r) is PipeEnd and r.flags & os.O_NONBLOCK and not r.writable
    assert s.kind == 1 and s.name == b"\0abstract"
    s.name = None  # not bound for real: nothing to release
    sock.name = None
    scm.discard(got.files)
    for obj in (file, read_end, write_end, sock, peer):
        obj.release()
    assert open_fds() == before


def test_a_record_cannot_make_a_pipe_a_socket(ns):
    """The kind a record names must be what the host fd is; otherwise all is closed."""
    before = open_fds()
    read_end, write_end = make_pipe(0)
    parcel = scm.pack([read_end], None)
    fds = received(parcel)
    parcel.close()
    os.close(fds.pop())  # the genuine record, replaced by one claiming a socket
    record = os.memfd_create("pyrene-scm", os.MFD_ALLOW_SEALING)
    os.write(record, scm.MAGIC + b'{"files": [{"kind": "socket", "flags": 2, "path": ""}], "creds": null}')
    fcntl.fcntl(record, fcntl.F_ADD_SEALS, scm.F_SEAL_ALL)
    got = scm.unpack([*fds, record], ns)
    assert got.lost and got.files == []
    for obj in (read_end, write_end):
        obj.release()
    assert open_fds() == before


@pytest.mark.parametrize("last", [b"not a record", None])
def test_no_record_closes_everything(tmp_path, ns, last):
    """fds from a sender outside the sandbox (no record, or something else last)."""
    before = open_fds()
    path = tmp_path / "f"
    path.write_bytes(b"x")
    fds = [os.open(path, os.O_RDONLY), os.open(path, os.O_RDONLY)]
    if last is not None:
        r, w = os.pipe()
        os.write(w, last)
        os.close(w)
        fds.append(r)
    got = scm.unpack(fds, ns)
    assert got.lost and got.files == []
    assert open_fds() == before


def test_what_cannot_be_rebuilt_is_refused():
    """An epoll set's interest list lives in its instance: EOPNOTSUPP, no record made."""
    before = open_fds()
    epoll = EpollFile()
    with pytest.raises(Errno) as e:
        scm.pack([epoll], None)
    assert e.value.errno == errno.EOPNOTSUPP
    epoll.release()
    assert open_fds() == before
