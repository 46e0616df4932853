"""The sandbox's AF_UNIX sockets.

A socket is an open file description of Pyrene's whose data path is a host AF_UNIX socket
the instance holds (as a pipe end's is a host pipe, fs/pipe.py): the kernel keeps stream
and datagram semantics, buffer sizes, EOF and EPIPE exactly, and the socket survives the
instance's fork. What the app *names* never reaches the host as such:

  * a path name is resolved by our VFS; the socket file is created (bind) or found
    (connect) through an O_PATH fd opened confined inside a host-backed mount, as
    /proc/self/fd/N/NAME, so the host's path walk cannot leave the mount;
  * an abstract name ("\\0...") becomes a file in a private host directory of the sandbox
    (UnixNamespace): the host's abstract namespace, shared by every process of the host's
    network namespace, is never used, so the app can neither reach host abstract sockets
    (X11, D-Bus, systemd) nor be reached through them.

The names the app bound and connected to are kept here and reported by getsockname,
getpeername and accept; the host's own view of them (fd paths) is never shown.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..abi import flags as F
from ..abi.flags import S_IFMT, S_IFSOCK, OpenFlags
from ..abi.structs import Stat
from ..errors import Errno, WouldBlock
from ..fs.file import OpenFile
from ..fs.host import HostFS
from ..fs.vfs import Resolved
from ..pal import linux as pal
from ..pal import net as pal_net

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    import socket

FIONREAD = 0x541B
POLLIN, POLLOUT = 0x1, 0x4
CONNECT_RETRY_NS = 10_000_000
SOCK_TYPES = {F.SOCK_STREAM: "STREAM", F.SOCK_DGRAM: "DGRAM", F.SOCK_SEQPACKET: "SEQPACKET"}


class UnixNamespace:
    """Abstract socket names of one sandbox, as files in a private host directory.

    The directory is made with the namespace, in the process that builds the first
    instance (the leader, before any app process exists), so that every instance forked
    since shares it, and only that process removes it (`release`): an instance that
    ends, or a process that made its own directory after a fork, would take or hide
    the names of the others."""

    def __init__(self) -> None:
        self._dir: str | None = pal.make_private_dir("pyrene-unix-", 0o700)
        self._dir_fd: int | None = pal.open_root(self._dir)
        self._owner = os.getpid()
        self._autobind = 0
        self.warned_families: set[int] = set()  # families socket() refused, each logged once

    def autobind_name(self) -> bytes:
        """The abstract name bind() picks for an unnamed address: five hex digits."""
        self._autobind = (self._autobind + 1) % 0x100000
        return b"\0" + b"%05x" % self._autobind

    def host_path(self, name: bytes) -> str:
        """The host path standing for abstract `name`."""
        if self._dir_fd is None:
            raise Errno(errno.ECONNREFUSED)  # released: the sandbox is ending
        return pal_net.fd_path(self._dir_fd, self._file_name(name))

    def unlink(self, name: bytes) -> None:
        if self._dir_fd is not None:
            pal.unlink_beneath(self._dir_fd, self._file_name(name), directory=False)

    def release_name(self, name: bytes) -> None:
        """A socket holding abstract `name` was closed here: the name goes when no host
        socket is bound to it any more, in any process (the host's /proc/net/unix says).
        One process closing its copy (a forked child, the sender of a passed socket)
        must not take the name from the others; an accepted connection, which shares
        its listener's name, keeps it until it is closed too (Linux frees it with the
        listener: a rebind meanwhile is EADDRINUSE here)."""
        if not pal_net.bound_anywhere(self._file_name(name)):
            self.unlink(name)

    @staticmethod
    def _file_name(name: bytes) -> str:
        import hashlib  # here: most runs never use an abstract name

        return hashlib.sha256(name).hexdigest()[:40]

    def release(self) -> None:
        if self._dir_fd is not None:
            pal.close(self._dir_fd)
            self._dir_fd = None
            if os.getpid() == self._owner:
                pal.remove_tree(self._dir)  # type: ignore[arg-type]


class UnixSocket(OpenFile):
    """One AF_UNIX socket (an open file description: shared by dup'd fds)."""

    def __init__(self, sock: socket.socket, kind: int, nonblock: bool, ns: UnixNamespace) -> None:
        super().__init__(OpenFlags.O_RDWR | (OpenFlags.O_NONBLOCK if nonblock else 0), "")
        self.sock = sock
        self.kind = kind
        self.ns = ns
        self.name: bytes | None = None  # sun_path as the app bound it; None: unnamed
        self.peer_name: bytes | None = None  # what it connected to
        self.options: dict[int, bytes] = {}  # SO_RCVTIMEO/SO_SNDTIMEO as set (not applied)
        self.path = f"socket:[{self.stat().ino}]"  # what /proc/self/fd/N shows

    def release(self) -> None:
        self.sock.close()
        if self.name and self.name.startswith(b"\0"):
            # an abstract name lives as long as its socket, as on Linux
            try:
                self.ns.release_name(self.name)
            except Errno:
                pass

    def stat(self) -> Stat:
        return pal.fstat(self.sock.fileno())

    @property
    def nonblocking(self) -> bool:
        return bool(self.flags & OpenFlags.O_NONBLOCK)

    def would_block(self, e: Errno, nonblock: bool, events: int = POLLIN) -> Exception:
        """What a call that got EAGAIN from the host raises: EAGAIN for a non-blocking
        call, else park the task until the host socket has `events` (kernel/waits.py)."""
        if e.errno != errno.EAGAIN or nonblock:
            return e
        if events == 0:  # a stream connect to a full backlog: nothing to poll, try again soon
            return WouldBlock((), time.monotonic_ns() + CONNECT_RETRY_NS)
        return WouldBlock(((self.sock.fileno(), events),))

    def host_poll_fd(self) -> int | None:
        return self.sock.fileno()

    # -- data --------------------------------------------------------------------------

    def read(self, size: int) -> bytes:
        return self.recv(size, 0)[0]

    def write(self, data: bytes) -> int:
        return self.send(data, 0, None)

    def recv(self, size: int, flags: int) -> tuple[bytes, int]:
        try:
            return pal_net.recv(self.sock, size, flags & ~F.MSG_DONTWAIT)
        except Errno as e:
            raise self.would_block(e, self.nonblocking or bool(flags & F.MSG_DONTWAIT)) from None

    def recv_msg(self, size: int, flags: int) -> tuple[bytes, int, list[int], tuple[int, int, int] | None, bool]:
        """recv with what came with the bytes: host fds (the caller's to close), the host
        ucred, whether the sender is named (pal/net.py recvmsg)."""
        try:
            return pal_net.recvmsg(self.sock, size, flags & ~F.MSG_DONTWAIT)
        except Errno as e:
            raise self.would_block(e, self.nonblocking or bool(flags & F.MSG_DONTWAIT)) from None

    def send(self, data: bytes, flags: int, to: str | None, fds: list[int] | None = None) -> int:
        """Send `data`, with host fds attached as SCM_RIGHTS when `fds` (net/scm.py)."""
        nonblock = self.nonblocking or bool(flags & F.MSG_DONTWAIT)
        flags &= ~(F.MSG_DONTWAIT | F.MSG_NOSIGNAL)
        try:
            if fds:
                return pal_net.sendmsg(self.sock, data, flags, fds, to)
            if to is not None:
                return pal_net.sendto(self.sock, data, flags, to)
            return pal_net.send(self.sock, data, flags)
        except Errno as e:
            raise self.would_block(e, nonblock, POLLOUT) from None

    def ioctl(self, t: object, request: int, arg: int) -> int:
        if request != FIONREAD:
            raise Errno(errno.ENOTTY)
        t.mem.write(arg, pal_net.bytes_readable(self.sock).to_bytes(4, "little", signed=True))  # type: ignore[attr-defined]
        return 0

    # -- connection --------------------------------------------------------------------

    def bind(self, name: bytes, where: Resolved | None, umask: int) -> None:
        """Bind to `name`: abstract (where is None) or the VFS location of a new file,
        whose mode is 0777 less the app's umask, as Linux makes it."""
        if self.name is not None:
            raise Errno(errno.EINVAL)
        if where is None:
            pal_net.bind(self.sock, self.ns.host_path(name))
        else:
            with parent_dir_fd(where) as (dir_fd, leaf):
                pal_net.bind(self.sock, pal_net.fd_path(dir_fd, leaf))
            where.mount.fs.chmod(where.rel, 0o777 & ~umask)
        self.name = name

    def connect(self, name: bytes, where: Resolved | None) -> None:
        with target_path(self.ns, name, where) as host_path:
            try:
                pal_net.connect(self.sock, host_path)
            except Errno as e:
                if where is None and e.errno == errno.ENOENT:
                    raise Errno(errno.ECONNREFUSED) from None  # no such abstract name
                raise self.would_block(e, self.nonblocking, 0) from None
        self.peer_name = name

    def send_to(self, data: bytes, flags: int, name: bytes, where: Resolved | None,
                fds: list[int] | None = None) -> int:
        with target_path(self.ns, name, where) as host_path:
            return self.send(data, flags, host_path, fds)

    def listen(self, backlog: int) -> None:
        pal_net.listen(self.sock, backlog)

    def accept(self, nonblock: bool) -> "UnixSocket":
        try:
            conn = pal_net.accept(self.sock)
        except Errno as e:
            raise self.would_block(e, self.nonblocking) from None
        new = UnixSocket(conn, self.kind, nonblock, self.ns)
        new.name = self.name
        return new

    def connected(self) -> bool:
        return pal_net.is_connected(self.sock)


@contextmanager
def parent_dir_fd(where: Resolved) -> Iterator[tuple[int, str]]:
    """An O_PATH fd on the directory that will hold a new socket file, opened confined
    in its host-backed mount, and the new file's name."""
    fs = host_fs(where)
    if fs.readonly:
        raise Errno(errno.EROFS)
    parent, _, leaf = where.rel.rpartition("/")
    fd = pal.open_beneath(fs.root_fd, parent, os.O_PATH | os.O_DIRECTORY, 0)
    try:
        yield fd, leaf
    finally:
        pal.close(fd)


@contextmanager
def target_path(ns: UnixNamespace, name: bytes, where: Resolved | None) -> Iterator[str]:
    """The host path that reaches the socket the app named: through an O_PATH fd on the
    socket file itself, or the namespace's file for an abstract name."""
    if where is None:
        yield ns.host_path(name)
        return
    st = where.stat
    if st is None:
        raise Errno(errno.ENOENT)
    if st.mode & S_IFMT != S_IFSOCK:
        raise Errno(errno.ECONNREFUSED)
    fd = pal.open_beneath(host_fs(where).root_fd, where.rel, os.O_PATH | os.O_NOFOLLOW, 0)
    try:
        yield pal_net.fd_path(fd)
    finally:
        pal.close(fd)


def host_fs(where: Resolved) -> HostFS:
    """Socket files exist only on host-backed mounts (host directories and tmpfs)."""
    fs = where.mount.fs
    if not isinstance(fs, HostFS):
        raise Errno(errno.EACCES)
    return fs


def new_socket(kind: int, nonblock: bool, ns: UnixNamespace) -> UnixSocket:
    return UnixSocket(pal_net.unix_socket(kind), kind, nonblock, ns)


def new_socketpair(kind: int, nonblock: bool, ns: UnixNamespace) -> tuple[UnixSocket, UnixSocket]:
    a, b = pal_net.unix_socketpair(kind)
    return UnixSocket(a, kind, nonblock, ns), UnixSocket(b, kind, nonblock, ns)
