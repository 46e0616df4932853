"""I/O on fds: read/write and their vectored and positioned forms, lseek, dup, fcntl, ioctl."""

from __future__ import annotations

import errno
import signal
import struct

from ..abi.flags import FD_CLOEXEC, SETFL_MASK, Fcntl, OpenFlags
from ..abi.structs import IOVEC
from ..abi.types import Fd, FcntlCmd, Int, Long, Ptr, SizeT, UInt, ULong, enum_type
from ..abi.flags import Seek
from ..errors import Errno
from ..fs.file import OpenFile
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task

MAX_RW = 0x7FFFF000  # Linux caps one read/write at this many bytes
CHUNK = 1 << 20  # we move data in chunks of this size
IOV_MAX = 1024
FIOCLEX, FIONCLEX, FIONBIO = 0x5451, 0x5450, 0x5421
SeekArg = enum_type(Seek)


def put(t: Task, file: OpenFile, data: bytes, offset: int | None) -> int:
    """One write to the file; a broken pipe also raises SIGPIPE in the app, as Linux does."""
    try:
        return file.write(data) if offset is None else file.pwrite(data, offset)
    except Errno as e:
        if e.errno == errno.EPIPE:
            t.instance.app_signal(t, signal.SIGPIPE)
        raise


def read_into(t: Task, file: OpenFile, buf: int, count: int, offset: int | None) -> int:
    """The shared core of read, pread64, readv and preadv."""
    count = min(count, MAX_RW, CHUNK)
    data = file.read(count) if offset is None else file.pread(count, offset)
    t.mem.write(buf, data)
    return len(data)


def write_from(t: Task, file: OpenFile, buf: int, count: int, offset: int | None) -> int:
    """The shared core of write, pwrite64, writev and pwritev."""
    count = min(count, MAX_RW)
    done = 0
    while done < count:
        data = t.mem.read(buf + done, min(count - done, CHUNK))
        try:
            n = put(t, file, data, None if offset is None else offset + done)
        except Errno:
            if done:
                return done
            raise
        done += n
        if n < len(data):
            break
    return done


def iovecs(t: Task, iov: int, count: int) -> list[tuple[int, int]]:
    if count < 0 or count > IOV_MAX:
        raise Errno(errno.EINVAL)
    raw = t.mem.read(iov, count * IOVEC.size)
    return [IOVEC.unpack_from(raw, i * IOVEC.size) for i in range(count)]


@syscall("read", Fd, Ptr, SizeT)
def read(t: Task, fd: int, buf: int, count: int) -> int:
    return read_into(t, t.files.get(fd), buf, count, None)


@syscall("write", Fd, Ptr, SizeT)
def write(t: Task, fd: int, buf: int, count: int) -> int:
    return write_from(t, t.files.get(fd), buf, count, None)


@syscall("pread64", Fd, Ptr, SizeT, Long)
def pread64(t: Task, fd: int, buf: int, count: int, offset: int) -> int:
    if offset < 0:
        raise Errno(errno.EINVAL)
    return read_into(t, t.files.get(fd), buf, count, offset)


@syscall("pwrite64", Fd, Ptr, SizeT, Long)
def pwrite64(t: Task, fd: int, buf: int, count: int, offset: int) -> int:
    if offset < 0:
        raise Errno(errno.EINVAL)
    return write_from(t, t.files.get(fd), buf, count, offset)


def readv_at(t: Task, fd: int, iov: int, count: int, offset: int | None) -> int:
    file = t.files.get(fd)
    total = 0
    for base, length in iovecs(t, iov, count):
        if not length:
            continue
        n = read_into(t, file, base, length, None if offset is None else offset + total)
        total += n
        if n < length:
            break
    return total


def writev_at(t: Task, fd: int, iov: int, count: int, offset: int | None) -> int:
    file = t.files.get(fd)
    # gather first so that one write(2) on the host keeps the record together
    data = b"".join(t.mem.read(base, length) for base, length in iovecs(t, iov, count) if length)
    return put(t, file, data, offset) if data else 0


@syscall("readv", Fd, Ptr, Int)
def readv(t: Task, fd: int, iov: int, count: int) -> int:
    return readv_at(t, fd, iov, count, None)


@syscall("writev", Fd, Ptr, Int)
def writev(t: Task, fd: int, iov: int, count: int) -> int:
    return writev_at(t, fd, iov, count, None)


@syscall("preadv", Fd, Ptr, Int, Long)
def preadv(t: Task, fd: int, iov: int, count: int, offset: int) -> int:
    return readv_at(t, fd, iov, count, offset)


@syscall("pwritev", Fd, Ptr, Int, Long)
def pwritev(t: Task, fd: int, iov: int, count: int, offset: int) -> int:
    return writev_at(t, fd, iov, count, offset)


@syscall("lseek", Fd, Long, SeekArg)
def lseek(t: Task, fd: int, offset: int, whence: int) -> int:
    return t.files.get(fd).seek(offset, whence)


# -- dup and fcntl ---------------------------------------------------------------------

@syscall("dup", Fd, ret=Fd)
def dup(t: Task, fd: int) -> int:
    return t.files.install(t.files.get(fd))


@syscall("dup2", Fd, Fd, ret=Fd)
def dup2(t: Task, old: int, new: int) -> int:
    file = t.files.get(old)
    if old == new:
        return new
    t.files.install_at(new, file)
    return new


@syscall("dup3", Fd, Fd, Int, ret=Fd)
def dup3(t: Task, old: int, new: int, flags: int) -> int:
    if old == new or flags & ~OpenFlags.O_CLOEXEC:
        raise Errno(errno.EINVAL)
    t.files.install_at(new, t.files.get(old), cloexec=bool(flags & OpenFlags.O_CLOEXEC))
    return new


@syscall("fcntl", Fd, FcntlCmd, ULong, support=PARTIAL, note="record locks are per process for now")
def fcntl(t: Task, fd: int, cmd: int, arg: int) -> int:
    entry = t.files.entry(fd)
    file = entry.file
    if cmd in (Fcntl.F_DUPFD, Fcntl.F_DUPFD_CLOEXEC):
        if arg >= t.files.limit:
            raise Errno(errno.EINVAL)
        return t.files.install(file, cloexec=cmd == Fcntl.F_DUPFD_CLOEXEC, start=arg)
    if cmd == Fcntl.F_GETFD:
        return FD_CLOEXEC if entry.cloexec else 0
    if cmd == Fcntl.F_SETFD:
        entry.cloexec = bool(arg & FD_CLOEXEC)
        return 0
    if cmd == Fcntl.F_GETFL:
        return file.flags & ~OpenFlags.O_CLOEXEC
    if cmd == Fcntl.F_SETFL:
        file.flags = int((file.flags & ~SETFL_MASK) | (arg & SETFL_MASK))
        return 0
    if cmd in (Fcntl.F_SETLK, Fcntl.F_SETLKW, Fcntl.F_OFD_SETLK, Fcntl.F_OFD_SETLKW):
        return 0  # one process: nobody to conflict with (cross-process locks: leader)
    if cmd in (Fcntl.F_GETLK, Fcntl.F_OFD_GETLK):
        # struct flock: l_type (short) first; F_UNLCK = 2 means "no conflicting lock"
        t.mem.write(arg, struct.pack("<h", 2))
        return 0
    raise Errno(errno.EINVAL)


@syscall("ioctl", Fd, UInt, ULong, support=PARTIAL, note="terminal ioctls pass to the host tty; others ENOTTY")
def ioctl(t: Task, fd: int, request: int, arg: int) -> int:
    entry = t.files.entry(fd)
    if request == FIOCLEX:
        entry.cloexec = True
        return 0
    if request == FIONCLEX:
        entry.cloexec = False
        return 0
    if request == FIONBIO:
        on = struct.unpack("<i", t.mem.read(arg, 4))[0]
        entry.file.flags = int(entry.file.flags | OpenFlags.O_NONBLOCK if on else entry.file.flags & ~OpenFlags.O_NONBLOCK)
        return 0
    return entry.file.ioctl(t, request, arg)


@syscall("fadvise64", Fd, Long, Long, Int)
def fadvise64(t: Task, fd: int, offset: int, length: int, advice: int) -> int:
    t.files.get(fd)
    return 0


@syscall("fsync", Fd)
@syscall("fdatasync", Fd)
def fsync(t: Task, fd: int) -> int:
    t.files.get(fd).sync()
    return 0


@syscall("ftruncate", Fd, Long)
def ftruncate(t: Task, fd: int, length: int) -> int:
    if length < 0:
        raise Errno(errno.EINVAL)
    t.files.get(fd).truncate(length)
    return 0
