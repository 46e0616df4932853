"""Passing open files over the sandbox's Unix sockets (SCM_RIGHTS, SCM_CREDENTIALS).

Each sandboxed process has its own instance, and an app fd is a virtual fd of that
instance whose open file (an OpenFile) usually wraps a host fd the instance holds. The
sandbox's Unix sockets are real host sockets held by the instances (net/unix.py), so
passing a file is the host's SCM_RIGHTS over the very socket the app names: the sending
instance attaches the *host* fds of the files, the receiving instance gets new host fds
for the same open file descriptions (so a file offset stays shared with the sender, as
on Linux), rebuilds an OpenFile around each and installs it as a new virtual fd. No host
fd number ever reaches the app.

What the receiver needs besides the host fd (which kind of OpenFile, its sandbox path,
the app's status flags such as O_NONBLOCK that Pyrene keeps rather than the host, a
socket's names, the description id of fs/file.py) travels as a *record* in one more fd
appended to the same SCM_RIGHTS message: a small sealed memfd holding JSON. Why an fd
rather than the other designs:

  * bytes in-band on the socket would have to be found and stripped again by the
    receiver: with SOCK_STREAM the kernel merges and splits messages, MSG_PEEK and a
    receiver reading with a smaller buffer see parts of them, and every plain read() of
    the socket would have to look for them;
  * a side record held by the namespace leader, keyed by a token, needs the token to
    travel with the message anyway, and a message that is never received (a closed
    socket, a datagram dropped) would leave its record behind;
  * an extra fd rides in the very control message the host kernel already attaches to
    the right bytes: message boundaries, MSG_PEEK (which installs the fds again, as on
    Linux), short reads, and a message read with read() or without room for control
    data (the host closes the fds, record included) all behave as the kernel makes them.
    It costs one memfd per message that carries fds, and one slot: at most
    SCM_MAX_FD - 1 files per message instead of Linux's SCM_MAX_FD.

The receiver trusts nothing in a record that the host fd can say itself: the access mode
(and O_PATH) are the host fd's, and a kind must match what fstat says the fd is.

The devices of /dev (null, zero, full, random, urandom) have no host fd: their
record entry alone makes them again.

PARTIAL: files whose state lives in their instance rather than behind a host fd cannot
be passed (EOPNOTSUPP, logged): synthesized /proc files, epoll sets (their interest
list), signalfds, pty masters (their /dev/pts entry). A passed description
shares what the host keeps (data, file offset, O_APPEND) with the sender's, but not
what Pyrene keeps per instance (O_NONBLOCK and other status flags set later with
F_SETFL, a directory's getdents position), as after fork. A description's flock/OFD
locks go when the sender closes its last fd of it before the receiver has received it
(Linux keeps them while the fd is in flight). Messages from a process
outside the sandbox (a host program on a socket in a shared directory) carry no record:
their fds are closed and the receiver sees MSG_CTRUNC; one passing fds to such a program
hands it the record too. A message with SCM_CREDENTIALS the app set itself carries a
record, so a stream read stops at it even without SO_PASSCRED.
"""

from __future__ import annotations

import errno
import json
import stat
from collections.abc import Collection
from dataclasses import dataclass, field

from ..abi.flags import AF_UNIX, O_ACCMODE, OpenFlags
from ..abi.structs import Stat
from ..errors import Errno
from ..fs.dev import DEVICES, CharDevice
from ..fs.eventfd import EventFd, TimerFd
from ..fs.file import OpenFile
from ..fs.host import HostFile
from ..fs.memfd import MemFile
from ..fs.pipe import FifoEnd, PipeEnd
from ..fs.pty import PtyEnd
from ..log import get_logger
from ..pal import linux as pal
from ..pal import net as pal_net
from .unix import SOCK_TYPES, UnixNamespace, UnixSocket

log = get_logger("pyrene.net")

MAGIC = b"pyrene-scm 1\n"
RECORD_MAX = 1 << 20
MAX_FILES = pal_net.SCM_MAX_FD - 1  # one slot carries the record
MFD_ALLOW_SEALING = 0x2
F_SEAL_ALL = 0x1 | 0x2 | 0x4 | 0x8  # SEAL, SHRINK, GROW, WRITE
_KEEP_HOST = int(O_ACCMODE) | int(OpenFlags.O_PATH)
PARTIAL_NOTE = ("SCM_RIGHTS: not /proc files, epoll sets, signalfds or pty masters (EOPNOTSUPP); "
                "at most 252 fds per message")

# the OpenFile classes that can be passed, by exact class (a subclass may hold state a
# rebuilt one would lack: a pty master's /dev/pts entry), with the host file types each
# may be, so that a record cannot make a socket out of a pipe
KINDS: dict[type[OpenFile], str] = {HostFile: "file", MemFile: "memfd", PtyEnd: "pty", PipeEnd: "pipe",
                                    FifoEnd: "fifo", UnixSocket: "socket", EventFd: "eventfd", TimerFd: "timerfd"}
HOST_TYPES: dict[str, tuple[int, ...]] = {
    "file": (stat.S_IFREG, stat.S_IFDIR, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFLNK, stat.S_IFIFO, stat.S_IFSOCK),
    "memfd": (stat.S_IFREG,), "pty": (stat.S_IFCHR,), "pipe": (stat.S_IFIFO,), "fifo": (stat.S_IFIFO,),
    "socket": (stat.S_IFSOCK,), "eventfd": (0,), "timerfd": (0,),
}


@dataclass(frozen=True, slots=True)
class Ucred:
    """struct ucred as the app sees it: virtual pid, uid and gid."""

    pid: int
    uid: int
    gid: int


@dataclass(slots=True)
class Parcel:
    """What one sendmsg attaches: the files' host fds (still the sender's own: not to be
    closed) and the record's memfd (ours: closed by `close` once the host has it)."""

    host_fds: list[int]
    record_fd: int

    def fds(self) -> list[int]:
        return [*self.host_fds, self.record_fd]

    def close(self) -> None:
        if self.record_fd >= 0:
            pal.close(self.record_fd)
            self.record_fd = -1


@dataclass(slots=True)
class Delivery:
    """What a received message carried: rebuilt files not yet installed (each released by
    `discard` unless installed), and the credentials its record named, if any."""

    files: list[OpenFile] = field(default_factory=list)
    creds: Ucred | None = None
    locked: set[tuple[int, int, int]] = field(default_factory=set)  # descriptions holding flock/OFD locks
    lost: bool = False  # fds came but could not be rebuilt (foreign sender, bad record)


def describe(file: OpenFile) -> tuple[int | None, dict[str, object]]:
    """The host fd to send for `file` (None: it has none, the record says it all) and its
    entry in the record."""
    if isinstance(file, CharDevice):  # /dev/null and the like: behaviour by name
        return None, {"kind": "chardev", "flags": file.flags, "path": file.path, "device": file.kind,
                      "stat": list(file.stat())}
    kind = KINDS.get(type(file))
    if kind is None:
        log.warning("SCM_RIGHTS: cannot pass %s (%s): it has no host file (EOPNOTSUPP)",
                    file.path or "?", type(file).__name__)
        raise Errno(errno.EOPNOTSUPP, f"cannot pass {type(file).__name__}")
    entry: dict[str, object] = {"kind": kind, "flags": file.flags, "path": file.path}
    if isinstance(file, UnixSocket):
        entry.update(name=_hex(file.name), peer=_hex(file.peer_name))
        return file.sock.fileno(), entry
    return file.fd, entry  # type: ignore[attr-defined]  # every other kind has one


def pack(files: list[OpenFile], creds: Ucred | None, locked: Collection[tuple[int, int, int]] = ()) -> Parcel:
    """The parcel for a message passing `files` (and explicit credentials). A passed file
    keeps its description id (fs/file.py), so that its flock and OFD locks are the
    receiver's too; those of `locked` (descriptions that may hold some) say so."""
    if len(files) > MAX_FILES:
        raise Errno(errno.EINVAL, f"more than {MAX_FILES} fds in one message")
    host_fds, entries = [], []
    for file in files:
        host_fd, entry = describe(file)
        if host_fd is not None:
            host_fds.append(host_fd)
        entry.update(desc=list(file.description_id), locked=file.description_id in locked)
        entries.append(entry)
    body = {"files": entries, "creds": [creds.pid, creds.uid, creds.gid] if creds else None}
    fd = pal.memfd("pyrene-scm", MFD_ALLOW_SEALING)
    try:
        pal.pwrite(fd, MAGIC + json.dumps(body).encode(), 0)
        pal.seals(fd, F_SEAL_ALL)
    except Errno:
        pal.close(fd)
        raise
    return Parcel(host_fds, fd)


def unpack(fds: list[int], ns: UnixNamespace) -> Delivery:
    """Rebuild the files of a received message from its host fds (the record last). Takes
    ownership of every fd: each is either inside a returned file or closed."""
    out = Delivery()
    if not fds:
        return out
    files: list[OpenFile] = []
    try:
        body = _read_record(fds[-1])
        entries = body.get("files") if isinstance(body, dict) else None
        if not isinstance(entries, list) or sum(e.get("kind") != "chardev" for e in entries) != len(fds) - 1:
            raise ValueError("a record that does not match the fds")
        i = 0
        for entry in entries:
            if entry["kind"] == "chardev":
                files.append(_char_device(entry))
            else:
                files.append(_rebuild(fds[i], entry, ns))
                fds[i] = -1  # now the file's
                i += 1
            desc = entry.get("desc")
            if isinstance(desc, list) and len(desc) == 3 and all(isinstance(v, int) for v in desc):
                files[-1].description_id = (desc[0], desc[1], desc[2])
                if entry.get("locked"):
                    out.locked.add(files[-1].description_id)
        creds = body.get("creds")
        if creds is not None:
            out.creds = Ucred(*(int(v) for v in creds))
    except (Errno, ValueError, TypeError, KeyError, AttributeError) as e:
        log.warning("SCM_RIGHTS: %d fds received without a usable record (%s): closed", len(fds), e)
        for file in files:
            file.release()
        files = []
        out.lost = True
    finally:
        for fd in fds:
            if fd >= 0:
                pal.close(fd)
    out.files = files
    return out


def close_host_fds(fds: list[int]) -> None:
    """Close the host fds of a message whose receiver takes none (recvfrom)."""
    for fd in fds:
        pal.close(fd)


def discard(files: list[OpenFile]) -> None:
    """Release rebuilt files that were not installed (nobody else holds their host fds)."""
    for file in files:
        if file.refs == 0:
            file.release()


def _read_record(fd: int) -> object:
    raw = pal.pread(fd, RECORD_MAX, 0)
    if not raw.startswith(MAGIC) or pal.seals(fd, None) & F_SEAL_ALL != F_SEAL_ALL:
        raise ValueError("not a record of Pyrene's")
    return json.loads(raw[len(MAGIC):])


def _rebuild(fd: int, entry: dict[str, object], ns: UnixNamespace) -> OpenFile:
    """An OpenFile of the kind the record names around host fd `fd`."""
    kind, path = str(entry["kind"]), str(entry["path"])
    mode = pal.fstat(fd).mode & 0o170000
    if mode not in HOST_TYPES.get(kind, ()):
        raise ValueError(f"a {kind} whose host fd is of type {mode:o}")
    # the access mode is the host fd's; the rest (O_NONBLOCK, O_APPEND, ...) the sender's
    flags = int(entry["flags"]) & ~_KEEP_HOST | pal_net.status_flags(fd) & _KEEP_HOST  # type: ignore[call-overload]
    if kind == "socket":
        name, peer = _unhex(entry.get("name")), _unhex(entry.get("peer"))
        host_sock = pal_net.socket_from_fd(fd)
        if host_sock.family != AF_UNIX or host_sock.type & 0xF not in SOCK_TYPES:
            host_sock.detach()  # the fd stays the caller's to close
            raise ValueError("not one of the sandbox's sockets")
        try:
            sock = UnixSocket(host_sock, host_sock.type & 0xF, bool(flags & OpenFlags.O_NONBLOCK), ns)
        except BaseException:
            host_sock.detach()
            raise
        sock.name, sock.peer_name = name, peer
        return sock
    if kind == "pipe":
        return PipeEnd(fd, flags)
    if kind == "fifo":
        return FifoEnd(fd, flags, path)
    cls = {"file": HostFile, "memfd": MemFile, "pty": PtyEnd, "eventfd": EventFd, "timerfd": TimerFd}[kind]
    return cls(fd, flags, path)


def _char_device(entry: dict[str, object]) -> OpenFile:
    """/dev/null, zero, full, random or urandom: a description of our own with the
    sender's flags, path and (synthesized) stat."""
    device, st = str(entry["device"]), entry["stat"]
    if device not in DEVICES or not isinstance(st, list) or not all(isinstance(v, int) for v in st):
        raise ValueError(f"no such device {device!r}")
    return CharDevice(device, int(entry["flags"]), str(entry["path"]), Stat(*st))  # type: ignore[call-overload]


def _hex(name: bytes | None) -> str | None:
    return None if name is None else name.hex()


def _unhex(value: object) -> bytes | None:
    return None if value is None else bytes.fromhex(str(value))
