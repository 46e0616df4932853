"""AF_UNIX sockets inside the sandbox, native vs Pyrene, and the absence of a network.

unix_sockets.c exercises socketpair of each type, a path-named and an abstract server
(bind/listen/connect/accept and the names reported back), datagrams by name, shutdown,
EPIPE with and without MSG_NOSIGNAL, SIGPIPE, and each call's errors. It writes only
in its cwd and removes what it made.
"""

from __future__ import annotations

import os

import pytest

from pyrene.testing.compare import assert_same, default_env, run_pyrene

PYTHON = "/usr/bin/python3.11"


@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_unix_sockets_c(cbuild, tmp_path, link):
    assert_same([cbuild("unix_sockets.c", link=link)], cwd=tmp_path)
    assert os.listdir(tmp_path) == []


def test_python_socketpair_and_server(need, tmp_path):
    need(PYTHON, "python3.11")
    script = (
        "import socket, os\n"
        "a, b = socket.socketpair()\n"
        "a.sendall(b'x' * 100000); a.shutdown(socket.SHUT_WR)\n"
        "got = b''\n"
        "while chunk := b.recv(65536): got += chunk\n"
        "print(len(got), a.family, a.type, b.getsockname())\n"
        "srv = socket.socket(socket.AF_UNIX); srv.bind('s.sock'); srv.listen()\n"
        "c = socket.socket(socket.AF_UNIX); c.connect('s.sock')\n"
        "conn, peer = srv.accept()\n"
        "c.sendall(b'hello'); print(conn.recv(10), repr(peer), srv.getsockname(), c.getpeername())\n"
        "print(os.path.exists('s.sock')); os.unlink('s.sock')\n"
    )
    assert_same([PYTHON, "-c", script], cwd=tmp_path)


def test_no_network(need, tmp_path):
    """No family but AF_UNIX exists: socket() says EAFNOSUPPORT, logged once."""
    need(PYTHON, "python3.11")
    script = (
        "import socket\n"
        "for fam in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_PACKET, socket.AF_INET):\n"
        "    try:\n"
        "        socket.socket(fam, socket.SOCK_DGRAM)\n"
        "    except OSError as e:\n"
        "        print(fam.name, e.errno, e.strerror)\n"
    )
    out = run_pyrene([PYTHON, "-c", script], capture_output=True, cwd=tmp_path, env=default_env(),
                     log_level="warning")
    assert out.status == 0, out.stderr
    assert out.stdout.decode().splitlines() == [
        "AF_INET 97 Address family not supported by protocol",
        "AF_INET6 97 Address family not supported by protocol",
        "AF_NETLINK 97 Address family not supported by protocol",
        "AF_PACKET 97 Address family not supported by protocol",
        "AF_INET 97 Address family not supported by protocol",
    ]
    assert out.stderr.decode().count("no network is granted") == 4


def test_asyncio_unix_server(need, tmp_path):
    """asyncio's event loop (epoll + its self-pipe socketpair) serving a Unix socket."""
    need(PYTHON, "python3.11")
    script = (
        "import asyncio\n"
        "async def handle(reader, writer):\n"
        "    data = await reader.readline()\n"
        "    writer.write(data.upper()); await writer.drain(); writer.close()\n"
        "async def main():\n"
        "    server = await asyncio.start_unix_server(handle, 'srv.sock')\n"
        "    reader, writer = await asyncio.open_unix_connection('srv.sock')\n"
        "    writer.write(b'hello asyncio\\n'); await writer.drain()\n"
        "    print(await reader.readline())\n"
        "    writer.close(); server.close(); await server.wait_closed()\n"
        "    await asyncio.sleep(0.05)\n"
        "asyncio.run(main())\n"
        "import os; os.unlink('srv.sock'); print('done')\n"
    )
    assert_same([PYTHON, "-c", script], cwd=tmp_path)


def test_scm_rights_c(cbuild, tmp_path):
    """fds passed between processes (SCM_RIGHTS) and credentials (SCM_CREDENTIALS):
    scm_rights.c, whose child and parent print what they see of the passed files."""
    assert_same([cbuild("scm_rights.c")], cwd=tmp_path)
    assert os.listdir(tmp_path) == []


def test_tmux_passes_fds(need, tmp_path):
    """tmux's client hands its stdin and stdout to the server (a daemon it started) with
    SCM_RIGHTS at every command; before fd passing the server died on the EINVAL."""
    tmux = need("/usr/bin/tmux", "tmux")
    assert_same([tmux, "-S", "t.sock", "-f", "/dev/null", "start-server", ";",
                 "display-message", "-p", "hello from #{version}", ";", "kill-server"], cwd=tmp_path, timeout=60)
    (tmp_path / "t.sock").unlink(missing_ok=True)


def test_sender_names(need, tmp_path):
    """recvmsg's msg_name and recvfrom's address: the peer's name on connected sockets,
    none at all for an unnamed sender; recvfrom drops the fds that came with the data."""
    need(PYTHON, "python3.11")
    script = (
        "import socket, os\n"
        "srv = socket.socket(socket.AF_UNIX); srv.bind('srv.sock'); srv.listen()\n"
        "c = socket.socket(socket.AF_UNIX); c.connect('srv.sock')\n"
        "conn, _ = srv.accept()\n"
        "conn.send(b'hi'); print('client got', c.recvmsg(10)[3])\n"
        "c.send(b'yo'); print('server got', conn.recvmsg(10)[3])\n"
        "a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind('\\0dgram-a')\n"
        "b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); b.bind('\\0dgram-b'); b.connect('\\0dgram-a')\n"
        "a.connect('\\0dgram-b'); b.send(b'x'); print('datagram from', a.recvmsg(10)[3])\n"
        "x, y = socket.socketpair(); x.send(b'p'); print('pair', y.recvmsg(10)[3])\n"
        "x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); x.send(b'p'); print(y.recvfrom(10))\n"
        "b.send(b'x'); print('recvfrom', a.recvfrom(10))\n"
        "before = len(os.listdir('/proc/self/fd'))\n"
        "socket.send_fds(x, [b'fds'], [0, 1]); print(y.recvfrom(10), len(os.listdir('/proc/self/fd')) - before)\n"
        "os.unlink('srv.sock')\n"
    )
    assert_same([PYTHON, "-c", script], cwd=tmp_path)


def test_passed_files_keep_their_limits(need, tmp_path):
    """Pyrene only: a file passed from a read-only mount stays read-only in the receiver
    (fsetxattr is EROFS, the host file is untouched), and what cannot be passed (an epoll
    set: its interest list lives in the instance) is EOPNOTSUPP with a warning."""
    need(PYTHON, "python3.11")
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / "f"
    target.write_text("x")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    script = (
        "import os, select, socket\n"
        "a, b = socket.socketpair()\n"
        f"fd = os.open({str(target)!r}, os.O_RDONLY)\n"
        "socket.send_fds(a, [b'x'], [fd])\n"
        "_, fds, _, _ = socket.recv_fds(b, 10, 1)\n"
        "for f in (fd, fds[0]):\n"
        "    try:\n"
        "        os.setxattr(f, 'user.pyrene_test', b'1'); print('set')\n"
        "    except OSError as e:\n"
        "        print(e.strerror)\n"
        "try:\n"
        "    ep = select.epoll(); socket.send_fds(a, [b'x'], [ep.fileno()])\n"
        "except OSError as e:\n"
        "    print(e.strerror)\n"
    )
    out = run_pyrene([PYTHON, "-c", script], capture_output=True, cwd=cwd, env=default_env(), log_level="warning")
    assert out.status == 0, out.stderr
    assert out.stdout.decode().splitlines() == ["Read-only file system"] * 2 + ["Operation not supported"]
    assert "cannot pass" in out.stderr.decode()
    assert os.listxattr(target) == []


def test_peer_credentials(need, tmp_path):
    """SO_PEERCRED: the process that connected (or listened, for a listener's own), by its
    virtual pid; none for a socket never connected."""
    need(PYTHON, "python3.11")
    script = (
        "import os, socket, struct\n"
        "def who(s):\n"
        "    pid, uid, gid = struct.unpack('iII', s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))\n"
        "    names = {os.getpid(): 'self', os.getppid(): 'parent', child: 'child', 0: 'none'}\n"
        "    return names[pid] if pid else 'none', uid, gid\n"
        "child = -1\n"
        "s = socket.socket(socket.AF_UNIX); print('fresh', who(s))\n"
        "s.bind('\\0peercred-test'); print('bound', who(s)); s.listen(); print('listening', who(s), flush=True)\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    c = socket.socket(socket.AF_UNIX); c.connect('\\0peercred-test')\n"
        "    print('child sees', who(c), flush=True); c.send(b'x'); c.recv(1); os._exit(0)\n"
        "conn, _ = s.accept(); conn.recv(1)\n"
        "print('parent sees', who(conn), flush=True); conn.send(b'y'); os.waitpid(child, 0)\n"
    )
    assert_same([PYTHON, "-c", script], cwd=tmp_path)


def test_python_passes_other_kinds(need, tmp_path):
    """An eventfd (its counter shared), an O_PATH directory (usable as a dirfd) and a
    memfd (its offset shared), passed to a forked child with socket.send_fds."""
    need(PYTHON, "python3.11")
    script = (
        "import socket, os\n"
        "a, b = socket.socketpair()\n"
        "efd = os.eventfd(5)\n"
        "opath = os.open('/etc', os.O_PATH | os.O_DIRECTORY)\n"
        "mfd = os.memfd_create('x'); os.write(mfd, b'memfd data'); os.lseek(mfd, 0, 0)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    _, fds, _, _ = socket.recv_fds(b, 10, 8)\n"
        "    print('eventfd', os.eventfd_read(fds[0]))\n"
        "    print('O_PATH dirfd', os.stat('hostname', dir_fd=fds[1]).st_size > 0)\n"
        "    print('memfd', os.read(fds[2], 5), os.readlink(f'/proc/self/fd/{fds[2]}'))\n"
        "    os.eventfd_write(fds[0], 3)\n"
        "    os._exit(0)\n"
        "socket.send_fds(a, [b'm'], [efd, opath, mfd])\n"
        "os.waitpid(pid, 0)\n"
        "print('parent eventfd', os.eventfd_read(efd), 'memfd offset', os.lseek(mfd, 0, 1))\n"
    )
    assert_same([PYTHON, "-c", script], cwd=tmp_path)
