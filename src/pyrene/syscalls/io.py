"""I/O on fds: read/write and their vectored and positioned forms, lseek, dup, fcntl, ioctl."""

from __future__ import annotations

import errno
import signal
import struct

from ..abi.flags import (CAP_SYS_RESOURCE, FD_CLOEXEC, S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
                         SETFL_MASK, Fcntl, OpenFlags)
from ..abi.structs import IOVEC
from ..abi.types import CStr, Fd, FcntlCmd, InBuf, Int, Long, OpenFlagsArg, OutBuf, Ptr, SizeT, UInt, ULong, enum_type
from ..abi.flags import Seek
from ..errors import Blocked, Errno, WouldBlock
from ..fs import memfd
from ..fs.file import OpenFile
from ..fs.pipe import PipeEnd, make_pipe
from ..pal import linux as pal
from ..kernel import signals
from ..lazy import lazy_module
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from . import process

MAX_RW = 0x7FFFF000  # Linux caps one read/write at this many bytes
CHUNK = 1 << 20  # we move data in chunks of this size
IOV_MAX = 1024
FIOCLEX, FIONCLEX, FIONBIO = 0x5451, 0x5450, 0x5421
SeekArg = enum_type(Seek)
FadviseArg = enum_type("Fadvise")


def put(t: Task, file: OpenFile, data: bytes, offset: int | None) -> int:
    """One write to the file; a broken pipe also raises SIGPIPE in the app, as Linux does."""
    try:
        return file.write(data) if offset is None else file.pwrite(data, offset)
    except Errno as e:
        if e.errno == errno.EPIPE:
            signals.raise_own(t, signal.SIGPIPE)
        raise


def put_after(t: Task, file: OpenFile, data: bytes, offset: int | None, done: int) -> int:
    """`put` for a call that has written `done` bytes already (before it parked, or in
    earlier chunks): the bytes written in all. A failure after some progress ends the
    call with that progress; a new park carries it on."""
    try:
        return done + put(t, file, data, offset)
    except WouldBlock as block:
        block.progress += done
        raise
    except Errno:
        if done:
            return done
        raise


def read_into(t: Task, file: OpenFile, buf: int, count: int, offset: int | None) -> int:
    """The shared core of read, pread64, readv and preadv."""
    count = min(count, MAX_RW, CHUNK)
    data = file.read(count) if offset is None else file.pread(count, offset)
    t.mem.write(buf, data)
    return len(data)


def write_from(t: Task, file: OpenFile, buf: int, count: int, offset: int | None) -> int:
    """The shared core of write, pwrite64, writev and pwritev. A write that parks part
    done (a blocking pipe) goes on from its progress when it runs again (fs/pipe.py)."""
    count = min(count, MAX_RW)
    done = t.instance.waits.progress(t)
    while done < count:
        data = t.mem.read(buf + done, min(count - done, CHUNK))
        before, done = done, put_after(t, file, data, None if offset is None else offset + done, done)
        if done - before < len(data):
            break
    return done


def iovecs(t: Task, iov: int, count: int) -> list[tuple[int, int]]:
    if count < 0 or count > IOV_MAX:
        raise Errno(errno.EINVAL)
    raw = t.mem.read(iov, count * IOVEC.size)
    return [IOVEC.unpack_from(raw, i * IOVEC.size) for i in range(count)]


@syscall("read", Fd, OutBuf, SizeT)
def read(t: Task, fd: int, buf: int, count: int) -> int:
    return read_into(t, t.files.get(fd), buf, count, None)


@syscall("write", Fd, InBuf, SizeT)
def write(t: Task, fd: int, buf: int, count: int) -> int:
    return write_from(t, t.files.get(fd), buf, count, None)


@syscall("pread64", Fd, OutBuf, SizeT, Long)
def pread64(t: Task, fd: int, buf: int, count: int, offset: int) -> int:
    if offset < 0:
        raise Errno(errno.EINVAL)
    return read_into(t, t.files.get(fd), buf, count, offset)


@syscall("pwrite64", Fd, InBuf, SizeT, Long)
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
        try:
            n = read_into(t, file, base, length, None if offset is None else offset + total)
        except (Errno, WouldBlock):
            if total:  # e.g. a pipe emptied by the first buffers: return what was read
                break
            raise
        total += n
        if n < length:
            break
    return total


def writev_at(t: Task, fd: int, iov: int, count: int, offset: int | None) -> int:
    file = t.files.get(fd)
    # gather first so that one write(2) on the host keeps the record together
    data = b"".join(t.mem.read(base, length) for base, length in iovecs(t, iov, count) if length)
    done = t.instance.waits.progress(t)  # a blocking pipe write that parked part done
    if not data:
        return 0
    return put_after(t, file, data[done:] if done else data, offset, done)


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


DESCRIPTION_NOTE = ("a description opened before a fork and first locked after it (flock, OFD) loses its locks "
                    "when the locking process closes it, though the other may still have it open")


@syscall("fcntl", Fd, FcntlCmd, ULong, support=PARTIAL,
         note="F_SETOWN/F_GETOWN, leases, F_NOTIFY are EINVAL; OFD locks: " + DESCRIPTION_NOTE)
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
    if cmd in RECORD_LOCK_CMDS:
        return record_lock(t, file, cmd, arg)
    if cmd == Fcntl.F_GETPIPE_SZ:
        return file.pipe_size(None)
    if cmd == Fcntl.F_SETPIPE_SZ:
        if not t.proc.creds.capable(CAP_SYS_RESOURCE) and arg > pipe_max_size():
            raise Errno(errno.EPERM)
        return file.pipe_size(min(arg, 1 << 31))
    if cmd == Fcntl.F_GET_SEALS:
        return file.seals(None)
    if cmd == Fcntl.F_ADD_SEALS:
        return file.seals(arg & 0xFFFFFFFF)
    raise Errno(errno.EINVAL)


# -- file locks (fs/locks.py has the rules) -----------------------------------------------

FLOCK = struct.Struct("<hh4xqqi4x")  # struct flock: l_type, l_whence, l_start, l_len, l_pid
RECORD_LOCK_CMDS = {Fcntl.F_GETLK, Fcntl.F_SETLK, Fcntl.F_SETLKW,
                    Fcntl.F_OFD_GETLK, Fcntl.F_OFD_SETLK, Fcntl.F_OFD_SETLKW}
OFD_CMDS = {Fcntl.F_OFD_GETLK, Fcntl.F_OFD_SETLK, Fcntl.F_OFD_SETLKW}
LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN = 1, 2, 4, 8
locks = lazy_module("pyrene.fs.locks")  # imported at a program's first lock call


def lock_range(file: OpenFile, whence: int, start: int, length: int) -> tuple[int, int]:
    """[start, end] of a struct flock, as fs/locks.c flock_to_posix_lock computes it."""
    if whence == Seek.SEEK_CUR:
        start += file.seek(0, Seek.SEEK_CUR)
    elif whence == Seek.SEEK_END:
        start += file.stat().size
    elif whence != Seek.SEEK_SET:
        raise Errno(errno.EINVAL)
    if length > 0:
        end = start + length - 1
        if end > locks.OFFSET_MAX:
            raise Errno(errno.EOVERFLOW)
    elif length < 0:
        end = start - 1
        start += length
    else:
        end = locks.OFFSET_MAX
    if start < 0:
        raise Errno(errno.EINVAL)
    return start, end


def record_lock(t: Task, file: OpenFile, cmd: int, arg: int) -> int:
    """F_GETLK/F_SETLK/F_SETLKW and their OFD forms, in the leader's lock table
    (ipc/shared.py). POSIX locks are owned by the process (so they never conflict within
    it), OFD locks by the open file description."""
    kind, whence, start, length, pid = FLOCK.unpack(t.mem.read(arg, FLOCK.size))
    ofd = cmd in OFD_CMDS
    if (ofd and pid != 0) or kind not in (locks.F_RDLCK, locks.F_WRLCK, locks.F_UNLCK):
        raise Errno(errno.EINVAL)
    if file.flags & OpenFlags.O_PATH:
        raise Errno(errno.EBADF)
    start, end = lock_range(file, whence, start, length)
    desc = file.description_id if ofd else None
    key = file.identity()
    if cmd in (Fcntl.F_GETLK, Fcntl.F_OFD_GETLK):
        if kind == locks.F_UNLCK:
            raise Errno(errno.EINVAL)
        held, _ = t.instance.shared_call(t.tid, "lock_test", (key, desc, kind, start, end))
        if held is None:
            t.mem.write(arg, struct.pack("<h", locks.F_UNLCK))
        else:
            held_kind, held_start, held_end, held_pid = held  # type: ignore[misc]
            size = 0 if held_end == locks.OFFSET_MAX else held_end - held_start + 1
            t.mem.write(arg, FLOCK.pack(held_kind, Seek.SEEK_SET, held_start, size, held_pid))
        return 0
    if (kind == locks.F_RDLCK and not file.readable) or (kind == locks.F_WRLCK and not file.writable):
        raise Errno(errno.EBADF)
    shared_lock(t, "lock_set", (key, desc, kind, start, end), cmd in (Fcntl.F_SETLKW, Fcntl.F_OFD_SETLKW))
    if kind != locks.F_UNLCK:
        hints = t.files.locks
        if ofd:
            hints.descriptions.add(file.description_id)
        else:
            hints.posix.add(key)
    return 0


def shared_lock(t: Task, op: str, args: tuple[object, ...], wait: bool) -> None:
    """Take a lock in the leader; a conflict waits (if `wait`) until the leader wakes us
    (the lock changed: the handler runs again) or a signal ends the wait."""
    try:
        t.instance.shared_call(t.tid, op, args, wait)
    except Blocked:
        raise WouldBlock(wake=True, on_eintr=lambda: t.instance.shared_call(t.tid, "cancel_wait", ())) from None


@syscall("flock", Fd, Int, support=PARTIAL, note=DESCRIPTION_NOTE)
def flock(t: Task, fd: int, operation: int) -> int:
    file = t.files.get(fd)
    kind = {LOCK_SH: locks.F_RDLCK, LOCK_EX: locks.F_WRLCK, LOCK_UN: locks.F_UNLCK}.get(operation & ~LOCK_NB)
    if kind is None:
        raise Errno(errno.EINVAL)
    if file.flags & OpenFlags.O_PATH:
        raise Errno(errno.EBADF)
    shared_lock(t, "flock", (file.identity(), file.description_id, kind), not operation & LOCK_NB)
    if kind != locks.F_UNLCK:
        t.files.locks.descriptions.add(file.description_id)
    return 0


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
    if request in process.JOB_IOCTLS:
        return process.tty_job_ioctl(t, entry.file.host_fd(), request, arg)
    return entry.file.ioctl(t, request, arg)


def regular_or_pipe(file: OpenFile) -> int:
    """The file type, with ESPIPE for pipes (calls that need a seekable file)."""
    kind = file.stat().mode & S_IFMT
    if kind == S_IFIFO:
        raise Errno(errno.ESPIPE)
    return kind


@syscall("fadvise64", Fd, Long, Long, FadviseArg)
def fadvise64(t: Task, fd: int, offset: int, length: int, advice: int) -> int:
    """Advice only: the host's page cache is the host's business."""
    file = t.files.get(fd)
    regular_or_pipe(file)
    if length < 0 or not 0 <= advice <= 5:
        raise Errno(errno.EINVAL)
    return 0


@syscall("readahead", Fd, Long, SizeT)
def readahead(t: Task, fd: int, offset: int, count: int) -> int:
    file = t.files.get(fd)
    if not file.readable:
        raise Errno(errno.EBADF)
    if file.stat().mode & S_IFMT != S_IFREG or offset < 0:
        raise Errno(errno.EINVAL)
    return 0


@syscall("fsync", Fd)
@syscall("fdatasync", Fd)
def fsync(t: Task, fd: int) -> int:
    t.files.get(fd).sync()
    return 0


@syscall("syncfs", Fd)
def syncfs(t: Task, fd: int) -> int:
    t.files.get(fd).syncfs()
    return 0


SYNC_FILE_RANGE_FLAGS = 0x7  # WAIT_BEFORE | WRITE | WAIT_AFTER


@syscall("sync_file_range", Fd, Long, Long, UInt)
def sync_file_range(t: Task, fd: int, offset: int, length: int, flags: int) -> int:
    file = t.files.get(fd)
    if flags & ~SYNC_FILE_RANGE_FLAGS or offset < 0 or length < 0:
        raise Errno(errno.EINVAL)
    if regular_or_pipe(file) not in (S_IFREG, S_IFDIR, S_IFBLK, S_IFLNK):
        raise Errno(errno.ESPIPE)
    file.sync_range(offset, length, flags)
    return 0


@syscall("fallocate", Fd, Int, Long, Long, support=PARTIAL, note="host-backed files only; EOPNOTSUPP elsewhere")
def fallocate(t: Task, fd: int, mode: int, offset: int, length: int) -> int:
    file = t.files.get(fd)
    if offset < 0 or length <= 0:
        raise Errno(errno.EINVAL)
    if not file.writable:
        raise Errno(errno.EBADF)
    kind = regular_or_pipe(file)
    if kind == S_IFDIR:
        raise Errno(errno.EISDIR)
    if kind != S_IFREG:
        raise Errno(errno.ENODEV)
    file.fallocate(mode, offset, length)
    return 0


@syscall("ftruncate", Fd, Long)
def ftruncate(t: Task, fd: int, length: int) -> int:
    if length < 0:
        raise Errno(errno.EINVAL)
    t.files.get(fd).truncate(length)
    return 0


# -- moving data between files: sendfile, copy_file_range, splice ------------------------

def transfer(t: Task, src: OpenFile, dst: OpenFile, count: int, src_off: int | None, dst_off: int | None) -> int:
    """Copy up to `count` bytes from `src` to `dst`, at the given offsets or (None) at and
    advancing each file's own offset; the shared core of sendfile, copy_file_range and
    splice. A seekable source is read with pread and its offset moved by what was
    *written*, so a short write loses nothing."""
    pos = src_off
    advance = False
    if pos is None:
        try:
            pos = src.seek(0, Seek.SEEK_CUR)
            advance = True
        except Errno as e:
            if e.errno != errno.ESPIPE:
                raise
    done = 0
    try:
        while done < count:
            want = min(count - done, CHUNK)
            data = src.read(want) if pos is None else src.pread(want, pos + done)
            if not data:
                break
            try:
                n = put(t, dst, data, None if dst_off is None else dst_off + done)
            except WouldBlock as block:  # a blocking pipe took part of it: a short transfer
                if not block.progress:
                    raise
                n = block.progress
            done += n
            if n < len(data) or len(data) < want:
                break
    except (Errno, WouldBlock):
        if not done:
            raise
    finally:
        if advance and done:
            src.seek(pos + done, Seek.SEEK_SET)  # type: ignore[operator]
    return done


def read_offset(t: Task, ptr: int) -> int | None:
    """The loff_t an offset pointer points to; None for a NULL pointer."""
    if not ptr:
        return None
    offset = struct.unpack("<q", t.mem.read(ptr, 8))[0]
    if offset < 0:
        raise Errno(errno.EINVAL)
    return offset


def advance_offset(t: Task, ptr: int, offset: int | None, done: int) -> None:
    """Store `offset + done` back through the offset pointer, if there was one."""
    if offset is not None:
        t.mem.write(ptr, struct.pack("<q", offset + done))


@syscall("sendfile", Fd, Fd, Ptr, SizeT)
def sendfile(t: Task, out_fd: int, in_fd: int, offset_ptr: int, count: int) -> int:
    src = t.files.get(in_fd)
    if not src.readable:
        raise Errno(errno.EBADF)
    if isinstance(src, PipeEnd):  # Linux splices from a file, not from a pipe
        raise Errno(errno.ESPIPE if offset_ptr else errno.EINVAL)
    dst = t.files.get(out_fd)
    if not dst.writable:
        raise Errno(errno.EBADF)
    if dst.flags & OpenFlags.O_APPEND:
        raise Errno(errno.EINVAL)
    offset = read_offset(t, offset_ptr)
    done = transfer(t, src, dst, min(count, MAX_RW), offset, None)
    advance_offset(t, offset_ptr, offset, done)
    return done


@syscall("copy_file_range", Fd, Ptr, Fd, Ptr, SizeT, UInt)
def copy_file_range(t: Task, in_fd: int, in_ptr: int, out_fd: int, out_ptr: int, count: int, flags: int) -> int:
    """Any two regular files, also across mounts (Linux >= 5.19 copies across file systems)."""
    if flags:
        raise Errno(errno.EINVAL)
    src, dst = t.files.get(in_fd), t.files.get(out_fd)
    in_off, out_off = read_offset(t, in_ptr), read_offset(t, out_ptr)
    src_st, dst_st = src.stat(), dst.stat()
    kinds = (src_st.mode & S_IFMT, dst_st.mode & S_IFMT)
    if S_IFDIR in kinds:
        raise Errno(errno.EISDIR)
    if kinds != (S_IFREG, S_IFREG):
        raise Errno(errno.EINVAL)
    if not src.readable or not dst.writable or dst.flags & OpenFlags.O_APPEND:
        raise Errno(errno.EBADF)
    pos_in = src.seek(0, Seek.SEEK_CUR) if in_off is None else in_off
    pos_out = dst.seek(0, Seek.SEEK_CUR) if out_off is None else out_off
    count = max(0, min(count, MAX_RW, src_st.size - pos_in))  # the copy stops at EOF
    if (src_st.dev, src_st.ino) == (dst_st.dev, dst_st.ino) and pos_out + count > pos_in and pos_out < pos_in + count:
        raise Errno(errno.EINVAL)
    if not count:
        return 0
    done = transfer(t, src, dst, count, in_off, out_off)
    advance_offset(t, in_ptr, in_off, done)
    advance_offset(t, out_ptr, out_off, done)
    return done


SPLICE_F_NONBLOCK = 0x02


@syscall("splice", Fd, Ptr, Fd, Ptr, SizeT, UInt, support=PARTIAL,
         note="copies through Pyrene (no page moving); pipe to full pipe may lose what was read")
def splice(t: Task, in_fd: int, in_ptr: int, out_fd: int, out_ptr: int, count: int, flags: int) -> int:
    src, dst = t.files.get(in_fd), t.files.get(out_fd)
    if not src.readable or not dst.writable:
        raise Errno(errno.EBADF)
    in_pipe, out_pipe = isinstance(src, PipeEnd), isinstance(dst, PipeEnd)
    if not (in_pipe or out_pipe):
        raise Errno(errno.EINVAL)
    if (in_pipe and in_ptr) or (out_pipe and out_ptr):
        raise Errno(errno.ESPIPE)
    in_off, out_off = read_offset(t, in_ptr), read_offset(t, out_ptr)
    try:
        done = transfer(t, src, dst, min(count, MAX_RW), in_off, out_off)
    except WouldBlock:
        # a blocking pipe end would park the task (fs/pipe.py); SPLICE_F_NONBLOCK means EAGAIN
        if flags & SPLICE_F_NONBLOCK:
            raise Errno(errno.EAGAIN) from None
        raise
    advance_offset(t, in_ptr, in_off, done)
    advance_offset(t, out_ptr, out_off, done)
    return done


# -- pipes, memfds, close_range -------------------------------------------------------------

PIPE2_FLAGS = int(OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK | OpenFlags.O_DIRECT)


def pipe_max_size() -> int:
    """/proc/sys/fs/pipe-max-size: F_SETPIPE_SZ's limit for the unprivileged."""
    return int(pal.read_host_text("/proc/sys/fs/pipe-max-size") or 1 << 20)


def install_pair(t: Task, files: tuple[OpenFile, OpenFile], cloexec: bool, fds_ptr: int) -> int:
    """Install both ends and store the fds in int[2]; nothing is left installed on failure."""
    installed: list[int] = []
    try:
        for file in files:
            installed.append(t.files.install(file, cloexec=cloexec))
        t.mem.write(fds_ptr, struct.pack("<ii", *installed))
    except Errno:
        for fd in installed:
            t.files.close(fd)
        for file in files[len(installed):]:
            file.release()
        raise
    return 0


@syscall("pipe2", Ptr, OpenFlagsArg)
def pipe2(t: Task, fds_ptr: int, flags: int) -> int:
    if int(flags) & ~PIPE2_FLAGS:
        raise Errno(errno.EINVAL)
    return install_pair(t, make_pipe(flags), bool(flags & OpenFlags.O_CLOEXEC), fds_ptr)


@syscall("pipe", Ptr)
def pipe(t: Task, fds_ptr: int) -> int:
    return install_pair(t, make_pipe(0), False, fds_ptr)


@syscall("memfd_create", CStr, UInt, ret=Fd)
def memfd_create(t: Task, name: str, flags: int) -> int:
    file = memfd.create(name, flags)
    try:
        return t.files.install(file, cloexec=bool(flags & memfd.MFD_CLOEXEC))
    except Errno:
        file.release()
        raise


CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC = 0x2, 0x4


@syscall("close_range", UInt, UInt, UInt)
def close_range(t: Task, first: int, last: int, flags: int) -> int:
    """CLOSE_RANGE_UNSHARE has nothing to unshare: a process's fd table is its own here."""
    if flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) or first > last:
        raise Errno(errno.EINVAL)
    for fd in [fd for fd in t.files.entries if first <= fd <= last]:
        if flags & CLOSE_RANGE_CLOEXEC:
            t.files.entries[fd].cloexec = True
        else:
            t.files.close(fd)
    return 0


@syscall("tee", Fd, Fd, SizeT, UInt)
def tee(t: Task, in_fd: int, out_fd: int, count: int, flags: int) -> int:
    src, dst = t.files.get(in_fd), t.files.get(out_fd)
    if not isinstance(src, PipeEnd) or not isinstance(dst, PipeEnd):
        raise Errno(errno.EINVAL)
    return src.tee(dst, min(count, MAX_RW), bool(flags & SPLICE_F_NONBLOCK))
