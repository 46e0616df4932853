"""Host AF_UNIX sockets for the sandbox's own Unix sockets (net/unix.py).

Only AF_UNIX exists here: no host network is reachable through this module. Every socket
is non-blocking on the host (the instance never sleeps in a socket call; whether the app
waits is decided above). Names are never the app's: a socket is bound or connected by a
path of the form /proc/self/fd/N/NAME, where N is an O_PATH fd the caller opened confined
inside a mount (pal/linux.py), so the host path walk cannot leave that directory.
"""

from __future__ import annotations

import os
import struct

from ..abi import flags as F
from ..errors import Errno

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    import socket

SOL_SOCKET = F.SOL_SOCKET
SUN_PATH_MAX = 108
UCRED = struct.Struct("<iII")


def _errno(exc: OSError) -> Errno:
    return Errno.from_oserror(exc)


def unix_socket(kind: int) -> socket.socket:
    """A new AF_UNIX socket of type `kind` (SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET)."""
    import socket  # here, not at the top: most runs make no socket (the import costs ms)

    try:
        sock = socket.socket(F.AF_UNIX, kind | F.SOCK_CLOEXEC)
    except OSError as exc:
        raise _errno(exc) from None
    sock.setblocking(False)
    return sock


def unix_socketpair(kind: int) -> tuple[socket.socket, socket.socket]:
    import socket

    try:
        a, b = socket.socketpair(F.AF_UNIX, kind | F.SOCK_CLOEXEC)
    except OSError as exc:
        raise _errno(exc) from None
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def fd_path(dir_fd: int, name: str = "") -> str:
    """The host path that reaches `name` in the directory (or the file) held by `dir_fd`."""
    path = f"/proc/self/fd/{dir_fd}" + (f"/{name}" if name else "")
    if len(os.fsencode(path)) >= SUN_PATH_MAX:
        raise Errno(36, "socket name too long for the host path")  # ENAMETOOLONG
    return path


def bind(sock: socket.socket, host_path: str) -> None:
    try:
        sock.bind(host_path)
    except OSError as exc:
        raise _errno(exc) from None


def connect(sock: socket.socket, host_path: str) -> None:
    try:
        sock.connect(host_path)
    except BlockingIOError:
        raise Errno(11) from None  # EAGAIN: a full backlog on a non-blocking stream connect
    except OSError as exc:
        raise _errno(exc) from None


def listen(sock: socket.socket, backlog: int) -> None:
    try:
        sock.listen(backlog)
    except OSError as exc:
        raise _errno(exc) from None


def accept(sock: socket.socket) -> socket.socket:
    try:
        fd, _ = sock._accept()  # type: ignore[attr-defined]  # the fd, without a wrapper's timeout games
    except OSError as exc:
        raise _errno(exc) from None
    conn = type(sock)(fileno=fd)
    conn.setblocking(False)
    os.set_inheritable(fd, False)
    return conn


def send(sock: socket.socket, data: bytes, flags: int) -> int:
    try:
        return sock.send(data, flags | F.MSG_NOSIGNAL | F.MSG_DONTWAIT)
    except OSError as exc:
        raise _errno(exc) from None


def sendto(sock: socket.socket, data: bytes, flags: int, host_path: str) -> int:
    try:
        return sock.sendto(data, flags | F.MSG_NOSIGNAL | F.MSG_DONTWAIT, host_path)
    except OSError as exc:
        raise _errno(exc) from None


def recv(sock: socket.socket, size: int, flags: int) -> tuple[bytes, int]:
    """Up to `size` bytes and the message flags (MSG_TRUNC when a datagram was cut)."""
    try:
        data, _, msg_flags, _ = sock.recvmsg(size, 0, flags | F.MSG_DONTWAIT)
    except OSError as exc:
        raise _errno(exc) from None
    return data, msg_flags


def shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError as exc:
        raise _errno(exc) from None


def getsockopt_int(sock: socket.socket, level: int, name: int) -> int:
    try:
        return sock.getsockopt(level, name)
    except OSError as exc:
        raise _errno(exc) from None


def setsockopt(sock: socket.socket, level: int, name: int, value: bytes) -> None:
    try:
        sock.setsockopt(level, name, value)
    except OSError as exc:
        raise _errno(exc) from None


def is_connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


def socket_option_raw(sock: socket.socket, level: int, name: int, size: int) -> bytes:
    try:
        return sock.getsockopt(level, name, size)
    except OSError as exc:
        raise _errno(exc) from None


def bytes_readable(sock: socket.socket) -> int:
    import fcntl

    buf = fcntl.ioctl(sock.fileno(), 0x541B, b"\0\0\0\0")  # FIONREAD
    return int.from_bytes(buf, "little", signed=True)


# -- passing fds (net/scm.py) ---------------------------------------------------------------

SCM_RIGHTS, SCM_CREDENTIALS = 1, 2
MSG_CTRUNC, MSG_CMSG_CLOEXEC = 0x8, 0x40000000
SCM_MAX_FD = 253
INT_SIZE = 4


# room for the most a Unix socket message can carry, SCM_MAX_FD fds and one ucred (each
# CMSG_SPACE: a 16-byte header and the data aligned to 8), so that the host never
# truncates what the instance receives: the app's own room is applied above (net/scm.py)
ANCILLARY_ROOM = (16 + (SCM_MAX_FD * INT_SIZE + 7) // 8 * 8) + (16 + (UCRED.size + 7) // 8 * 8)


def sendmsg(sock: socket.socket, data: bytes, flags: int, fds: list[int], to: str | None) -> int:
    """send/sendto with host fds attached as one SCM_RIGHTS message."""
    import array

    ancillary = [(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds).tobytes())] if fds else []
    flags |= F.MSG_NOSIGNAL | F.MSG_DONTWAIT
    try:
        if to is None:
            return sock.sendmsg([data], ancillary, flags)
        return sock.sendmsg([data], ancillary, flags, to)
    except OSError as exc:
        raise _errno(exc) from None


def recvmsg(sock: socket.socket, size: int, flags: int) -> tuple[bytes, int, list[int], tuple[int, int, int] | None, bool]:
    """Up to `size` bytes, the message flags, the host fds that came with them (owned by
    the caller from now on: close-on-exec in the instance), the sender's host ucred
    (pid, uid, gid) when the socket has SO_PASSCRED, and whether the sender is named."""
    import array

    try:
        data, ancillary, msg_flags, address = sock.recvmsg(size, ANCILLARY_ROOM,
                                                           flags | F.MSG_DONTWAIT | MSG_CMSG_CLOEXEC)
    except OSError as exc:
        raise _errno(exc) from None
    fds: list[int] = []
    creds = None
    for level, kind, payload in ancillary:
        if level != SOL_SOCKET:
            continue
        if kind == SCM_RIGHTS:
            fds.extend(array.array("i", payload[:len(payload) - len(payload) % INT_SIZE]))
        elif kind == SCM_CREDENTIALS and len(payload) >= UCRED.size:
            creds = UCRED.unpack_from(payload)
    return data, msg_flags & ~(MSG_CTRUNC | MSG_CMSG_CLOEXEC), fds, creds, bool(address)


def socket_from_fd(fd: int) -> socket.socket:
    """A socket object owning the host socket `fd` (one received from another process)."""
    import socket

    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise _errno(exc) from None
    sock.setblocking(False)
    return sock


def status_flags(fd: int) -> int:
    """F_GETFL of a host fd: its access mode and status flags."""
    import fcntl

    try:
        return fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError as exc:
        raise _errno(exc) from None


def bound_anywhere(leaf: str) -> bool:
    """Whether a host Unix socket of any process is still bound to a path ending in
    `/leaf` (a name of UnixNamespace's private directory): /proc/net/unix lists every
    socket with the path it was bound to. If it cannot be read, say yes (keep the name)."""
    try:
        with open("/proc/net/unix", "rb") as f:
            table = f.read()
    except OSError:
        return True
    return b"/" + leaf.encode() + b"\n" in table
