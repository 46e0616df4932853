"""Sockets: the sandbox's own AF_UNIX sockets (net/unix.py); no other family exists.

The manifest grants no network, so socket() of any other family fails with EAFNOSUPPORT,
what Linux says of an address family it does not have (logged once per family).
"""

from __future__ import annotations

import errno
import os
import signal
import struct

from ..abi import flags as F
from ..abi.structs import IOVEC
from ..abi.types import Fd, InBuf, Int, OutBuf, Ptr, SizeT, UInt
from ..errors import Errno
from ..fs.file import OpenFile
from ..fs.host import HostFile
from ..fs.mounts import split_path
from ..fs.vfs import Resolved
from ..kernel import signals
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from ..log import get_logger
from ..net import scm
from ..net.unix import SOCK_TYPES, UnixSocket, new_socket, new_socketpair
from ..pal import net as pal_net
from .fs import resolve_at

log = get_logger("pyrene.net")

AF_UNIX = F.AF_UNIX
SOCK_NONBLOCK, SOCK_CLOEXEC = F.SOCK_NONBLOCK, F.SOCK_CLOEXEC
SUN_PATH_MAX = 108
MSGHDR = struct.Struct("<QIxxxxQQQQixxxx")  # name, namelen, iov, iovlen, control, controllen, flags
MSG_NOSIGNAL = F.MSG_NOSIGNAL
SOL_SOCKET = F.SOL_SOCKET
INT = struct.Struct("<i")
# SOL_SOCKET options passed through to the host socket, as ints
PASSTHROUGH_OPTIONS = {F.SO_SNDBUF, F.SO_RCVBUF, F.SO_REUSEADDR, F.SO_KEEPALIVE,
                       F.SO_PASSCRED, F.SO_RCVLOWAT, F.SO_TYPE, F.SO_ERROR,
                       F.SO_ACCEPTCONN, F.SO_DOMAIN, F.SO_PROTOCOL, F.SO_BROADCAST,
                       F.SO_SNDLOWAT, F.SO_PASSSEC}
TIMEOUT_OPTIONS = {F.SO_RCVTIMEO, F.SO_SNDTIMEO}
SO_LINGER, SO_PEERCRED = F.SO_LINGER, F.SO_PEERCRED
CMSGHDR = struct.Struct("<Qii")  # cmsg_len, cmsg_level, cmsg_type
SCM_RIGHTS, SCM_CREDENTIALS = pal_net.SCM_RIGHTS, pal_net.SCM_CREDENTIALS
MSG_CTRUNC, MSG_CMSG_CLOEXEC = pal_net.MSG_CTRUNC, pal_net.MSG_CMSG_CLOEXEC
CONTROL_MAX = 128 * 1024  # Linux refuses more control data than net.core.optmem_max (ENOBUFS)
OVERFLOW_ID = 65534
AUTOBIND_NAMES = 1 << 20  # five hex digits
CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN = F.CAP_SETGID, F.CAP_SETUID, F.CAP_SYS_ADMIN


def cmsg_align(length: int) -> int:
    return (length + 7) & ~7


def get_socket(t: Task, fd: int) -> UnixSocket:
    file = t.files.get(fd)
    if not isinstance(file, UnixSocket):
        raise Errno(errno.ENOTSOCK)
    return file


# -- addresses ---------------------------------------------------------------------------

def read_name(t: Task, addr: int, addrlen: int) -> bytes:
    """sun_path of a struct sockaddr_un: b"" unnamed, b"\\0..." abstract, else a path."""
    if addrlen < 2 or addrlen > 2 + SUN_PATH_MAX:
        raise Errno(errno.EINVAL)
    raw = t.mem.read(addr, addrlen)
    if int.from_bytes(raw[:2], "little") != AF_UNIX:
        raise Errno(errno.EINVAL)
    path = raw[2:]
    if path[:1] == b"\0":
        return path
    return path.split(b"\0", 1)[0]


def locate(t: Task, name: bytes, must_exist: bool) -> Resolved | None:
    """Where a named socket lives in the VFS; None for an abstract name."""
    if name.startswith(b"\0"):
        return None
    path = name.decode("utf-8", "surrogateescape")
    if must_exist:
        return resolve_at(t, -100, path)
    res = resolve_at(t, -100, path, follow=False, allow_missing=True)
    if res.stat is not None:
        raise Errno(errno.EADDRINUSE)
    return res


def pack_name(name: bytes | None) -> bytes:
    """struct sockaddr_un for `name`, with the length Linux reports for it."""
    packed = AF_UNIX.to_bytes(2, "little") + (name or b"")
    if name and not name.startswith(b"\0"):
        packed += b"\0"
    return packed


def write_name(t: Task, addr: int, addrlen_ptr: int, name: bytes | None) -> None:
    """Store an address into a (sockaddr *, socklen_t *) pair: truncated to the caller's
    buffer, with the full length written back, as accept/getsockname/recvfrom do."""
    if not addr or not addrlen_ptr:
        return
    room = INT.unpack(t.mem.read(addrlen_ptr, 4))[0]
    if room < 0:
        raise Errno(errno.EINVAL)
    packed = pack_name(name)
    t.mem.write(addr, packed[:room])
    t.mem.write(addrlen_ptr, INT.pack(len(packed)))


def socket_kind(type_: int) -> tuple[int, bool, bool]:
    """(kind, nonblock, cloexec) from socket()'s type argument."""
    if type_ & ~(0xF | SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise Errno(errno.EINVAL)
    kind = type_ & 0xF
    if kind == F.SOCK_RAW:
        kind = F.SOCK_DGRAM  # as Linux's unix_create does
    if kind not in SOCK_TYPES:
        raise Errno(errno.ESOCKTNOSUPPORT)
    return kind, bool(type_ & SOCK_NONBLOCK), bool(type_ & SOCK_CLOEXEC)


# -- creation and connection -------------------------------------------------------------

@syscall("socket", Int, Int, Int)
def socket_(t: Task, domain: int, type_: int, protocol: int) -> int:
    if domain != AF_UNIX:
        if domain not in t.instance.unix.warned_families:
            t.instance.unix.warned_families.add(domain)
            log.warning("socket(family %d): no network is granted (EAFNOSUPPORT)", domain)
        raise Errno(errno.EAFNOSUPPORT)
    kind, nonblock, cloexec = socket_kind(type_)
    if protocol != 0:
        raise Errno(errno.EPROTONOSUPPORT)
    return t.files.install(new_socket(kind, nonblock, t.instance.unix), cloexec=cloexec)


@syscall("socketpair", Int, Int, Int, Ptr)
def socketpair(t: Task, domain: int, type_: int, protocol: int, sv: int) -> int:
    if domain != AF_UNIX:
        raise Errno(errno.EAFNOSUPPORT if domain != F.AF_INET else errno.EOPNOTSUPP)
    kind, nonblock, cloexec = socket_kind(type_)
    if protocol != 0:
        raise Errno(errno.EPROTONOSUPPORT)
    t.mem.read(sv, 8)  # EFAULT before anything is made
    a, b = new_socketpair(kind, nonblock, t.instance.unix)
    fd_a = t.files.install(a, cloexec=cloexec)
    try:
        fd_b = t.files.install(b, cloexec=cloexec)
    except Errno:
        t.files.close(fd_a)
        b.release()
        raise
    t.mem.write(sv, struct.pack("<ii", fd_a, fd_b))
    return 0


@syscall("bind", Fd, Ptr, UInt)
def bind(t: Task, fd: int, addr: int, addrlen: int) -> int:
    sock = get_socket(t, fd)
    name = read_name(t, addr, addrlen)
    if name:
        sock.bind(name, locate(t, name, must_exist=False), t.proc.umask)
        return 0
    # autobind: a fresh abstract name of five hex digits, as Linux picks; each process
    # counts on its own (a forked child from its parent's count): skip the names in use
    for _ in range(AUTOBIND_NAMES):
        try:
            sock.bind(t.instance.unix.autobind_name(), None, t.proc.umask)
            return 0
        except Errno as e:
            if e.errno != errno.EADDRINUSE:
                raise
    raise Errno(errno.ENOSPC)  # every name taken, as Linux says


@syscall("listen", Fd, Int)
def listen(t: Task, fd: int, backlog: int) -> int:
    get_socket(t, fd).listen(max(0, min(backlog, 4096)))
    return 0


def accept_common(t: Task, fd: int, addr: int, addrlen_ptr: int, flags: int) -> int:
    if flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise Errno(errno.EINVAL)
    conn = get_socket(t, fd).accept(bool(flags & SOCK_NONBLOCK))
    newfd = t.files.install(conn, cloexec=bool(flags & SOCK_CLOEXEC))
    write_name(t, addr, addrlen_ptr, None)  # the peer: unnamed unless it bound (not tracked yet)
    return newfd


@syscall("accept", Fd, Ptr, Ptr, support=PARTIAL, note="the peer's address is reported unnamed")
def accept(t: Task, fd: int, addr: int, addrlen: int) -> int:
    return accept_common(t, fd, addr, addrlen, 0)


@syscall("accept4", Fd, Ptr, Ptr, Int, support=PARTIAL, note="the peer's address is reported unnamed")
def accept4(t: Task, fd: int, addr: int, addrlen: int, flags: int) -> int:
    return accept_common(t, fd, addr, addrlen, flags)


@syscall("connect", Fd, Ptr, UInt)
def connect(t: Task, fd: int, addr: int, addrlen: int) -> int:
    sock = get_socket(t, fd)
    name = read_name(t, addr, addrlen)
    if not name:
        raise Errno(errno.EINVAL)
    sock.connect(name, locate(t, name, must_exist=True))
    return 0


@syscall("getsockname", Fd, Ptr, Ptr)
def getsockname(t: Task, fd: int, addr: int, addrlen: int) -> int:
    write_name(t, addr, addrlen, get_socket(t, fd).name)
    return 0


@syscall("getpeername", Fd, Ptr, Ptr)
def getpeername(t: Task, fd: int, addr: int, addrlen: int) -> int:
    sock = get_socket(t, fd)
    if not sock.connected():
        raise Errno(errno.ENOTCONN)
    write_name(t, addr, addrlen, sock.peer_name)
    return 0


@syscall("shutdown", Fd, Int)
def shutdown(t: Task, fd: int, how: int) -> int:
    if how not in (F.SHUT_RD, F.SHUT_WR, F.SHUT_RDWR):
        raise Errno(errno.EINVAL)
    pal_net.shutdown(get_socket(t, fd).sock, how)
    return 0


# -- data --------------------------------------------------------------------------------

def send_data(t: Task, sock: UnixSocket, data: bytes, flags: int, name: bytes | None,
              fds: list[int] | None = None) -> int:
    """One send (with host fds attached: net/scm.py); EPIPE also raises SIGPIPE unless
    MSG_NOSIGNAL, as Linux does."""
    try:
        if name is None:
            return sock.send(data, flags, None, fds)
        return sock.send_to(data, flags, name, locate(t, name, must_exist=True), fds)
    except Errno as e:
        if e.errno == errno.EPIPE and not flags & MSG_NOSIGNAL:
            signals.raise_own(t, signal.SIGPIPE)
        raise


@syscall("sendto", Fd, InBuf, SizeT, Int, Ptr, UInt)
def sendto(t: Task, fd: int, buf: int, length: int, flags: int, addr: int, addrlen: int) -> int:
    sock = get_socket(t, fd)
    name = read_name(t, addr, addrlen) if addr else None
    return send_data(t, sock, t.mem.read(buf, min(length, 1 << 20)), flags, name)


@syscall("recvfrom", Fd, OutBuf, SizeT, Int, Ptr, Ptr, support=PARTIAL,
         note="a named sender that is not the peer is reported unnamed")
def recvfrom(t: Task, fd: int, buf: int, length: int, flags: int, addr: int, addrlen: int) -> int:
    sock = get_socket(t, fd)
    if not addr or not addrlen:
        data, _ = sock.recv(min(length, 1 << 20), flags)  # fds that came with it: the host drops them
        t.mem.write(buf, data)
        return len(data)
    data, _, host_fds, _, named = sock.recv_msg(min(length, 1 << 20), flags & ~MSG_CMSG_CLOEXEC)
    scm.close_host_fds(host_fds)  # recvfrom has no room for them: dropped, as Linux does
    t.mem.write(buf, data)
    write_sender(t, addr, addrlen, sock, named)
    return len(data)


def write_sender(t: Task, addr: int, addrlen_ptr: int, sock: UnixSocket, named: bool) -> None:
    """The sender's address (recvfrom, recvmsg's msg_name): none at all (length 0) for an
    unnamed sender, as Linux; a named one is known when it is the peer (a connected
    socket receives from its peer only), else reported unnamed."""
    if named:
        write_name(t, addr, addrlen_ptr, sock.peer_name if sock.connected() else None)
    else:
        t.mem.write(addrlen_ptr, INT.pack(0))


def read_msghdr(t: Task, msg: int) -> tuple[int, int, list[tuple[int, int]], int, int]:
    name, namelen, iov, iovlen, control, controllen, _ = MSGHDR.unpack(t.mem.read(msg, MSGHDR.size))
    if iovlen > 1024:
        raise Errno(errno.EMSGSIZE)
    raw = t.mem.read(iov, iovlen * IOVEC.size) if iovlen else b""
    iovecs = [IOVEC.unpack_from(raw, i * IOVEC.size) for i in range(iovlen)]
    return name, namelen, iovecs, control, controllen


@syscall("sendmsg", Fd, Ptr, Int, support=PARTIAL, note=scm.PARTIAL_NOTE)
def sendmsg(t: Task, fd: int, msg: int, flags: int) -> int:
    sock = get_socket(t, fd)
    name_ptr, namelen, iovecs, control, controllen = read_msghdr(t, msg)
    files, creds = read_control(t, control, controllen) if controllen else ([], None)
    data = b"".join(t.mem.read(base, length) for base, length in iovecs if length)
    name = read_name(t, name_ptr, namelen) if name_ptr and namelen else None
    if not files and creds is None:
        return send_data(t, sock, data, flags, name)
    parcel = scm.pack(files, creds, t.files.locks.descriptions)
    try:
        return send_data(t, sock, data, flags, name, parcel.fds())
    finally:
        parcel.close()


def read_control(t: Task, control: int, controllen: int) -> tuple[list[OpenFile], scm.Ucred | None]:
    """The files (SCM_RIGHTS) and credentials (SCM_CREDENTIALS) of sendmsg's control
    data, checked as net/core/scm.c __scm_send checks them: a header that does not fit
    is EINVAL, other levels are skipped, other SOL_SOCKET types are EINVAL, more than
    SCM_MAX_FD fds EINVAL, an fd that is not open EBADF, credentials the sender may not
    claim EPERM."""
    if controllen > CONTROL_MAX:
        raise Errno(errno.ENOBUFS)
    raw = t.mem.read(control, controllen)
    files: list[OpenFile] = []
    creds: scm.Ucred | None = None
    offset = 0
    while len(raw) - offset >= CMSGHDR.size:
        length, level, kind = CMSGHDR.unpack_from(raw, offset)
        if length < CMSGHDR.size or length > len(raw) - offset:
            raise Errno(errno.EINVAL, "cmsg_len")
        body = raw[offset + CMSGHDR.size:offset + length]
        offset += cmsg_align(length)
        if level != SOL_SOCKET:
            continue
        if kind == SCM_RIGHTS:
            count = len(body) // INT.size
            if len(files) + count > pal_net.SCM_MAX_FD:
                raise Errno(errno.EINVAL, "too many fds")
            for (vfd,) in INT.iter_unpack(body[:count * INT.size]):
                if vfd < 0:
                    raise Errno(errno.EBADF)
                files.append(t.files.get(vfd))
        elif kind == SCM_CREDENTIALS:
            if length != CMSGHDR.size + pal_net.UCRED.size:
                raise Errno(errno.EINVAL, "ucred size")
            creds = checked_creds(t, scm.Ucred(*pal_net.UCRED.unpack(body)))
        else:
            raise Errno(errno.EINVAL, f"cmsg_type {kind}")
    return files, creds


def checked_creds(t: Task, creds: scm.Ucred) -> scm.Ucred:
    """Credentials an app may claim (scm_check_creds): its own pid and one of its real,
    effective or saved ids, unless it has CAP_SYS_ADMIN / CAP_SETUID / CAP_SETGID."""
    c = t.proc.creds
    if creds.uid == 0xFFFFFFFF or creds.gid == 0xFFFFFFFF:
        raise Errno(errno.EINVAL)
    if not ((creds.pid == t.proc.vpid or c.capable(CAP_SYS_ADMIN))
            and (creds.uid in (c.ruid, c.euid, c.suid) or c.capable(CAP_SETUID))
            and (creds.gid in (c.rgid, c.egid, c.sgid) or c.capable(CAP_SETGID))):
        raise Errno(errno.EPERM)
    if creds.pid != t.proc.vpid and (creds.pid <= 0 or t.instance.describe_process(creds.pid).facts is None):
        raise Errno(errno.ESRCH)  # a pid of no process in the sandbox
    return creds


@syscall("recvmsg", Fd, Ptr, Int, support=PARTIAL, note="a named sender that is not the peer is reported unnamed; " + scm.PARTIAL_NOTE)
def recvmsg(t: Task, fd: int, msg: int, flags: int) -> int:
    sock = get_socket(t, fd)
    name_ptr, _, iovecs, control, controllen = read_msghdr(t, msg)
    room = sum(length for _, length in iovecs)
    data, msg_flags, host_fds, host_creds, named = sock.recv_msg(min(room, 1 << 20), flags & ~MSG_CMSG_CLOEXEC)
    delivery = scm.unpack(host_fds, t.instance.unix)
    try:
        for file in delivery.files:
            if type(file) is HostFile and file.path.startswith("/"):
                # the mount it was opened through, as fd_target finds it: a file of a
                # read-only mount stays read-only where the checks ask the mount (xattrs)
                file.mount = t.instance.vfs.mounts.find(split_path(file.path))[0]
        done = 0
        for base, length in iovecs:
            if done >= len(data):
                break
            t.mem.write(base, data[done:done + length])
            done += length
        if name_ptr:
            write_sender(t, name_ptr, msg + 8, sock, named)
        creds = sender_creds(t, delivery, host_creds)
        used, truncated = write_control(t, control, controllen, creds, delivery, bool(flags & MSG_CMSG_CLOEXEC))
        hold_locks(t, delivery)
    finally:
        scm.discard(delivery.files)
    t.mem.write(msg + 40, struct.pack("<Q", used))  # msg_controllen
    msg_flags |= (MSG_CTRUNC if truncated else 0) | (flags & MSG_CMSG_CLOEXEC)  # echoed, as Linux does
    t.mem.write(msg + 48, INT.pack(msg_flags))  # msg_flags
    return len(data)


def hold_locks(t: Task, delivery: scm.Delivery) -> None:
    """The received descriptions that may hold flock/OFD locks: this process holds them
    too from now on (the leader keeps them until the last holder closes its last fd)."""
    for file in delivery.files:
        desc = file.description_id
        if file.refs and desc in delivery.locked and desc not in t.files.locks.descriptions:
            t.files.locks.descriptions.add(desc)
            t.instance.shared_call(t.tid, "desc_received", (desc,))


def sender_creds(t: Task, delivery: scm.Delivery, host_creds: tuple[int, int, int] | None) -> scm.Ucred | None:
    """What SCM_CREDENTIALS shows (only with SO_PASSCRED, when the host sent its own): the
    credentials the sender claimed, else those of the process whose instance sent it (the
    host's pid is that instance's): never a host pid. A message queued before SO_PASSCRED
    was set has none: the kernel's zeros, as on Linux."""
    if host_creds is None:
        return None
    if delivery.creds is not None:
        return delivery.creds
    if host_creds[0] == 0:
        return scm.Ucred(0, 0, 0)
    vpid, uids, gids = process_of_instance(t, host_creds[0])
    return scm.Ucred(vpid, uids[0], gids[0])


def process_of_instance(t: Task, instance_pid: int) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """(vpid, uids, gids as Creds orders them: real, effective, saved, fs) of the process
    served by the instance with host pid `instance_pid`, the one that made a host socket
    call. A process outside the sandbox, or one gone and reaped since, is pid 0 with the
    overflow ids, as one outside a pid and user namespace is on Linux."""
    if instance_pid == os.getpid():
        c = t.proc.creds
        return t.proc.vpid, (c.ruid, c.euid, c.suid, c.uid), (c.rgid, c.egid, c.sgid, c.gid)
    other = t.instance.describe_process(0, instance_pid=instance_pid)
    if other.facts is None:
        return 0, (OVERFLOW_ID,) * 4, (OVERFLOW_ID,) * 4
    return other.vpid, other.facts.uids, other.facts.gids


def write_control(t: Task, control: int, controllen: int, creds: scm.Ucred | None, delivery: scm.Delivery,
                  cloexec: bool) -> tuple[int, bool]:
    """Write recvmsg's control messages as net/core/scm.c scm_recv does: credentials,
    then the files installed as new fds (as many as fit in the room and the fd limit),
    each cmsghdr at a CMSG_ALIGNed offset. Returns (msg_controllen, MSG_CTRUNC)."""
    files = delivery.files
    truncated = delivery.lost
    if not control:
        return 0, truncated or creds is not None or bool(files)
    writes: list[tuple[int, bytes]] = []
    used = 0
    if creds is not None:
        payload = pal_net.UCRED.pack(creds.pid, creds.uid, creds.gid)
        if controllen - used < CMSGHDR.size:
            truncated = True
        else:
            cmlen = CMSGHDR.size + len(payload)
            if controllen - used < cmlen:
                truncated, cmlen = True, controllen - used
            writes.append((used, (CMSGHDR.pack(cmlen, SOL_SOCKET, SCM_CREDENTIALS) + payload)[:cmlen]))
            used += min(cmsg_align(CMSGHDR.size + len(payload)), controllen - used)
    installed: list[int] = []
    if files:
        fit = max(0, (controllen - used - CMSGHDR.size) // INT.size) if controllen - used > CMSGHDR.size else 0
        try:
            for file in files[:fit]:
                installed.append(t.files.install(file, cloexec=cloexec))
        except Errno:
            pass  # EMFILE: the files that did not get an fd are closed, as Linux does
        if installed:
            writes.append((used, CMSGHDR.pack(CMSGHDR.size + INT.size * len(installed), SOL_SOCKET, SCM_RIGHTS)
                           + b"".join(INT.pack(vfd) for vfd in installed)))
            used += min(cmsg_align(CMSGHDR.size + INT.size * len(installed)), controllen - used)
        truncated = truncated or len(installed) < len(files)
    try:
        for offset, raw in writes:
            t.mem.write(control + offset, raw)
    except Errno:
        for vfd in installed:  # the app cannot learn their numbers: do not leave them open
            t.files.close(vfd)
        return 0, True
    return used, truncated


# -- options -----------------------------------------------------------------------------

@syscall("setsockopt", Fd, Int, Int, Ptr, UInt, support=PARTIAL,
         note="SOL_SOCKET only; SO_RCVTIMEO/SO_SNDTIMEO are kept but not applied")
def setsockopt(t: Task, fd: int, level: int, name: int, value: int, length: int) -> int:
    sock = get_socket(t, fd)
    if level != SOL_SOCKET:
        raise Errno(errno.ENOPROTOOPT)
    if name in TIMEOUT_OPTIONS:
        if length < 16:
            raise Errno(errno.EINVAL)
        sock.options[name] = t.mem.read(value, 16)
        return 0
    if name in PASSTHROUGH_OPTIONS or name == SO_LINGER:
        if length < 4:
            raise Errno(errno.EINVAL)
        pal_net.setsockopt(sock.sock, level, name, t.mem.read(value, min(length, 8)))
        return 0
    raise Errno(errno.ENOPROTOOPT)


@syscall("getsockopt", Fd, Int, Int, Ptr, Ptr, support=PARTIAL, note="SOL_SOCKET only")
def getsockopt(t: Task, fd: int, level: int, name: int, value: int, length_ptr: int) -> int:
    sock = get_socket(t, fd)
    if level != SOL_SOCKET:
        raise Errno(errno.ENOPROTOOPT)
    room = INT.unpack(t.mem.read(length_ptr, 4))[0]
    if room < 0:
        raise Errno(errno.EINVAL)
    if name in TIMEOUT_OPTIONS:
        data = sock.options.get(name, bytes(16))
    elif name == SO_PEERCRED:
        # the host recorded the peer's instance at connect/socketpair (and a listener's
        # own at listen), as Linux records the process: its virtual pid and effective
        # ids, never the host's; (0, -1, -1) when there is none
        host_pid = pal_net.UCRED.unpack(pal_net.socket_option_raw(sock.sock, level, name, pal_net.UCRED.size))[0]
        if host_pid > 0:
            vpid, uids, gids = process_of_instance(t, host_pid)
            data = pal_net.UCRED.pack(vpid, uids[1], gids[1])
        else:
            data = pal_net.UCRED.pack(0, 0xFFFFFFFF, 0xFFFFFFFF)
    elif name in PASSTHROUGH_OPTIONS:
        data = INT.pack(pal_net.getsockopt_int(sock.sock, level, name))
    elif name == SO_LINGER:
        data = pal_net.socket_option_raw(sock.sock, level, name, 8)
    else:
        raise Errno(errno.ENOPROTOOPT)
    t.mem.write(value, data[:room])
    t.mem.write(length_ptr, INT.pack(min(room, len(data))))
    return 0
