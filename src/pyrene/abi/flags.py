"""Linux x86-64 flag and constant values, as IntFlag/IntEnum so logs print names."""

from __future__ import annotations

import enum

AT_FDCWD = -100
PATH_MAX = 4096


def int_operators(cls: type[enum.IntFlag]) -> type[enum.IntFlag]:
    """Give an IntFlag int's operators. The app's flags reach handlers as plain ints,
    and `flags & OpenFlags.O_CREAT` would go through enum's reflected operator, about
    1 us each, a dozen times in an open(2). Combining or testing members then gives a
    plain int; the members keep their names for traces (abi/types.render_flags). (Set
    after the class is made: enum gives every Flag class Flag's operators otherwise.)"""
    for op in ("__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__invert__"):
        setattr(cls, op, getattr(int, op))
    return cls


@int_operators
class OpenFlags(enum.IntFlag):
    O_WRONLY = 0o1
    O_RDWR = 0o2
    O_CREAT = 0o100
    O_EXCL = 0o200
    O_NOCTTY = 0o400
    O_TRUNC = 0o1000
    O_APPEND = 0o2000
    O_NONBLOCK = 0o4000
    O_DSYNC = 0o10000
    O_ASYNC = 0o20000
    O_DIRECT = 0o40000
    O_LARGEFILE = 0o100000
    O_DIRECTORY = 0o200000
    O_NOFOLLOW = 0o400000
    O_NOATIME = 0o1000000
    O_CLOEXEC = 0o2000000
    O_SYNC = 0o4010000
    O_PATH = 0o10000000
    O_TMPFILE = 0o20200000


O_ACCMODE = 0o3
# the flags with which open(2) reads its mode argument (Linux's O_CREAT | __O_TMPFILE)
O_MODE_USED = OpenFlags.O_CREAT | 0o20000000
AT_STATX_SYNC_TYPE = 0x6000  # statx's sync field: 0 is AT_STATX_SYNC_AS_STAT
# status flags F_SETFL may change (fs/fcntl.c SETFL_MASK)
SETFL_MASK = OpenFlags.O_APPEND | OpenFlags.O_NONBLOCK | OpenFlags.O_DIRECT | OpenFlags.O_NOATIME | OpenFlags.O_ASYNC


@int_operators
class AtFlags(enum.IntFlag):
    AT_SYMLINK_NOFOLLOW = 0x100
    AT_REMOVEDIR = 0x200
    AT_SYMLINK_FOLLOW = 0x400
    AT_NO_AUTOMOUNT = 0x800
    AT_EMPTY_PATH = 0x1000
    AT_EACCESS = 0x200  # faccessat: same bit as AT_REMOVEDIR


@int_operators
class Prot(enum.IntFlag):
    PROT_NONE = 0
    PROT_READ = 1
    PROT_WRITE = 2
    PROT_EXEC = 4


@int_operators
class MapFlags(enum.IntFlag):
    MAP_SHARED = 0x01
    MAP_PRIVATE = 0x02
    MAP_SHARED_VALIDATE = 0x03
    MAP_FIXED = 0x10
    MAP_ANONYMOUS = 0x20
    MAP_GROWSDOWN = 0x100
    MAP_DENYWRITE = 0x800
    MAP_EXECUTABLE = 0x1000
    MAP_LOCKED = 0x2000
    MAP_NORESERVE = 0x4000
    MAP_POPULATE = 0x8000
    MAP_NONBLOCK = 0x10000
    MAP_STACK = 0x20000
    MAP_HUGETLB = 0x40000
    MAP_FIXED_NOREPLACE = 0x100000


class Fcntl(enum.IntEnum):
    F_DUPFD = 0
    F_GETFD = 1
    F_SETFD = 2
    F_GETFL = 3
    F_SETFL = 4
    F_GETLK = 5
    F_SETLK = 6
    F_SETLKW = 7
    F_SETOWN = 8
    F_GETOWN = 9
    F_SETSIG = 10
    F_GETSIG = 11
    F_OFD_GETLK = 36
    F_OFD_SETLK = 37
    F_OFD_SETLKW = 38
    F_SETLEASE = 1024
    F_GETLEASE = 1025
    F_NOTIFY = 1026
    F_DUPFD_CLOEXEC = 1030
    F_SETPIPE_SZ = 1031
    F_GETPIPE_SZ = 1032
    F_ADD_SEALS = 1033
    F_GET_SEALS = 1034


FD_CLOEXEC = 1


class ArchPrctl(enum.IntEnum):
    ARCH_SET_GS = 0x1001
    ARCH_SET_FS = 0x1002
    ARCH_GET_FS = 0x1003
    ARCH_GET_GS = 0x1004
    ARCH_GET_CPUID = 0x1011
    ARCH_SET_CPUID = 0x1012


class Seek(enum.IntEnum):
    SEEK_SET = 0
    SEEK_CUR = 1
    SEEK_END = 2
    SEEK_DATA = 3
    SEEK_HOLE = 4


class AuxType(enum.IntEnum):
    AT_NULL = 0
    AT_IGNORE = 1
    AT_EXECFD = 2
    AT_PHDR = 3
    AT_PHENT = 4
    AT_PHNUM = 5
    AT_PAGESZ = 6
    AT_BASE = 7
    AT_FLAGS = 8
    AT_ENTRY = 9
    AT_NOTELF = 10
    AT_UID = 11
    AT_EUID = 12
    AT_GID = 13
    AT_EGID = 14
    AT_PLATFORM = 15
    AT_HWCAP = 16
    AT_CLKTCK = 17
    AT_SECURE = 23
    AT_BASE_PLATFORM = 24
    AT_RANDOM = 25
    AT_HWCAP2 = 26
    AT_RSEQ_FEATURE_SIZE = 27
    AT_RSEQ_ALIGN = 28
    AT_HWCAP3 = 29
    AT_HWCAP4 = 30
    AT_EXECFN = 31
    AT_SYSINFO_EHDR = 33
    AT_MINSIGSTKSZ = 51


# file type bits of st_mode
S_IFMT = 0o170000
S_IFSOCK = 0o140000
S_IFLNK = 0o120000
S_IFREG = 0o100000
S_IFBLK = 0o060000
S_IFDIR = 0o040000
S_IFCHR = 0o020000
S_IFIFO = 0o010000

# d_type values of getdents64
DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK = 0, 1, 2, 4, 6, 8, 10, 12


def dtype_of_mode(mode: int) -> int:
    return (mode & S_IFMT) >> 12


# access(2) modes
F_OK, X_OK, W_OK, R_OK = 0, 1, 2, 4

RLIM_INFINITY = (1 << 64) - 1


class Rlimit(enum.IntEnum):
    RLIMIT_CPU = 0
    RLIMIT_FSIZE = 1
    RLIMIT_DATA = 2
    RLIMIT_STACK = 3
    RLIMIT_CORE = 4
    RLIMIT_RSS = 5
    RLIMIT_NPROC = 6
    RLIMIT_NOFILE = 7
    RLIMIT_MEMLOCK = 8
    RLIMIT_AS = 9
    RLIMIT_LOCKS = 10
    RLIMIT_SIGPENDING = 11
    RLIMIT_MSGQUEUE = 12
    RLIMIT_NICE = 13
    RLIMIT_RTPRIO = 14
    RLIMIT_RTTIME = 15


# -- sockets (linux/socket.h, asm-generic/socket.h): plain ints, the ABI's values ----------

AF_UNIX = 1
AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2
SOCK_RAW = 3
SOCK_SEQPACKET = 5
SOCK_CLOEXEC = 0o2000000
SOCK_NONBLOCK = 0o4000
MSG_PEEK = 2
MSG_TRUNC = 32
MSG_DONTWAIT = 64
MSG_NOSIGNAL = 16384
SOL_SOCKET = 1
SO_REUSEADDR = 2
SO_TYPE = 3
SO_ERROR = 4
SO_BROADCAST = 6
SO_SNDBUF = 7
SO_RCVBUF = 8
SO_KEEPALIVE = 9
SO_LINGER = 13
SO_PASSCRED = 16
SO_PEERCRED = 17
SO_RCVLOWAT = 18
SO_SNDLOWAT = 19
SO_RCVTIMEO = 20
SO_SNDTIMEO = 21
SO_ACCEPTCONN = 30
SO_PASSSEC = 34
SO_PROTOCOL = 38
SO_DOMAIN = 39
SHUT_RD = 0
SHUT_WR = 1
SHUT_RDWR = 2


# capability numbers (linux/capability.h) and capget/capset header versions
CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_KILL = 0, 1, 2, 3, 4, 5
CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_LINUX_IMMUTABLE = 6, 7, 8, 9
CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_MKNOD, CAP_MAC_OVERRIDE = 21, 23, 24, 27, 32
CAP_LAST_CAP = 40
LINUX_CAPABILITY_VERSION_1, LINUX_CAPABILITY_VERSION_2, LINUX_CAPABILITY_VERSION_3 = 0x19980330, 0x20071026, 0x20080522
