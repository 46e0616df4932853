"""Linux x86-64 struct layouts, described once as precompiled struct.Struct objects."""

from __future__ import annotations

import struct

from ..record import NamedTuple

TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")
IOVEC = struct.Struct("<QQ")
RLIMIT = struct.Struct("<QQ")
STAT = struct.Struct("<QQQIIIiQqqqqqqqqq24x")  # 144 bytes
STATX_HEAD = struct.Struct("<IIQIIIHxxQQQQqIiqIiqIiqIiIIIIQ")  # first 0x98 bytes
STATX_SIZE = 256
UTSNAME_FIELD = 65
DIRENT64_HEAD = struct.Struct("<QqHB")  # d_ino, d_off, d_reclen, d_type; then name
SYSINFO = struct.Struct("<q3Q6QH6xQQI4x")  # 112 bytes
WINSIZE = struct.Struct("<HHHH")

STATX_BASIC_STATS = 0x7FF
STATX_BTIME = 0x800
STATX_MNT_ID = 0x1000


class Stat(NamedTuple):
    """What the stat family reports, independent of the struct it is packed into. (A
    NamedTuple: one is made per stat, open and path walk, and a frozen dataclass takes
    ten times as long to create.)"""

    dev: int
    ino: int
    mode: int
    nlink: int
    uid: int
    gid: int
    rdev: int
    size: int
    blksize: int
    blocks: int
    atime_ns: int
    mtime_ns: int
    ctime_ns: int

    def pack(self) -> bytes:
        """struct stat."""
        a, m, c = (divmod(t, 10**9) for t in (self.atime_ns, self.mtime_ns, self.ctime_ns))
        return STAT.pack(self.dev, self.ino, self.nlink, self.mode, self.uid, self.gid, 0, self.rdev,
                         self.size, self.blksize, self.blocks, a[0], a[1], m[0], m[1], c[0], c[1])

    def pack_statx(self, mask: int) -> bytes:
        """struct statx with the basic fields (we report STATX_BASIC_STATS)."""
        a, m, c = (divmod(t, 10**9) for t in (self.atime_ns, self.mtime_ns, self.ctime_ns))
        head = STATX_HEAD.pack(
            STATX_BASIC_STATS, self.blksize, 0, self.nlink, self.uid, self.gid, self.mode,
            self.ino, self.size, self.blocks, 0,
            a[0], a[1], 0,  # atime
            0, 0, 0,  # btime (not reported)
            c[0], c[1], 0,  # ctime
            m[0], m[1], 0,  # mtime
            os_major(self.rdev), os_minor(self.rdev), os_major(self.dev), os_minor(self.dev), 0,
        )
        return head + bytes(STATX_SIZE - len(head))


def os_major(dev: int) -> int:
    return ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)


def os_minor(dev: int) -> int:
    return (dev & 0xFF) | ((dev >> 12) & ~0xFF)


def pack_dirent64(ino: int, off: int, dtype: int, name: bytes) -> bytes:
    """One linux_dirent64 record, padded to 8 bytes."""
    reclen = (DIRENT64_HEAD.size + len(name) + 1 + 7) & ~7
    return DIRENT64_HEAD.pack(ino, off, reclen, dtype) + name + bytes(reclen - DIRENT64_HEAD.size - len(name))


def pack_utsname(*fields: str) -> bytes:
    return b"".join(f.encode()[: UTSNAME_FIELD - 1].ljust(UTSNAME_FIELD, b"\0") for f in fields)


STATFS = struct.Struct("<qqQQQQQiiqqq32x")  # struct statfs, 120 bytes
ST_RDONLY = 1


class StatFs(NamedTuple):
    """What statfs/fstatfs report (struct statfs fields, f_spare left out)."""

    type: int
    bsize: int
    blocks: int
    bfree: int
    bavail: int
    files: int
    ffree: int
    fsid: tuple[int, int]
    namelen: int
    frsize: int
    flags: int

    @classmethod
    def unpack(cls, raw: bytes) -> "StatFs":
        f = STATFS.unpack_from(raw)
        return cls(f[0], f[1], f[2], f[3], f[4], f[5], f[6], (f[7], f[8]), f[9], f[10], f[11])

    def pack(self) -> bytes:
        return STATFS.pack(self.type, self.bsize, self.blocks, self.bfree, self.bavail, self.files,
                           self.ffree, self.fsid[0], self.fsid[1], self.namelen, self.frsize, self.flags)


# System V IPC (x86-64: the *64_ds layouts are the only ones)
IPC64_PERM = "iIIIIIHH4x16x"  # key, uid, gid, cuid, cgid, mode, seq, pad, 2 unused longs: 48 bytes
MSQID64_DS = struct.Struct("<" + IPC64_PERM + "qqqQQQii16x")  # + times, cbytes, qnum, qbytes, lspid, lrpid: 120
SEMID64_DS = struct.Struct("<" + IPC64_PERM + "q8xq8xQ16x")  # + otime, ctime, nsems: 104
SHMID64_DS = struct.Struct("<" + IPC64_PERM + "QqqqiiQ16x")  # + segsz, a/d/ctime, cpid, lpid, nattch: 112
MSGINFO = struct.Struct("<7iH2x")  # struct msginfo: 32 bytes
SEMINFO = struct.Struct("<10i")  # struct seminfo: 40 bytes
SHMINFO64 = struct.Struct("<5Q32x")  # struct shminfo64: 72 bytes
SHM_INFO = struct.Struct("<i4x5Q")  # struct shm_info: 48 bytes
SEMBUF = struct.Struct("<Hhh")  # struct sembuf: 6 bytes
