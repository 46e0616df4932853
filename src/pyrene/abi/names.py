"""Names that only --trace shows (strace's), for values the handlers treat as plain
numbers: imported at the first trace line that needs one (abi/types.flag_type and
enum_type take these classes by name), so that no run without --trace creates them.
Combined flags (STATX_ALL, STATX_BASIC_STATS) are tried before their bits, as strace
prints them."""

from __future__ import annotations

import enum


class Fadvise(enum.IntEnum):
    POSIX_FADV_NORMAL = 0
    POSIX_FADV_RANDOM = 1
    POSIX_FADV_SEQUENTIAL = 2
    POSIX_FADV_WILLNEED = 3
    POSIX_FADV_DONTNEED = 4
    POSIX_FADV_NOREUSE = 5


class AccessMode(enum.IntFlag):
    """access(2)'s mode; 0 is F_OK."""
    R_OK = 4
    W_OK = 2
    X_OK = 1


class AccessAtFlags(enum.IntFlag):
    """faccessat2's flags, apart from AtFlags, where 0x200 is AT_REMOVEDIR."""
    AT_EACCESS = 0x200
    AT_SYMLINK_NOFOLLOW = 0x100
    AT_EMPTY_PATH = 0x1000


class StatxAtFlags(enum.IntFlag):
    """statx's flags; no sync bit is AT_STATX_SYNC_AS_STAT."""
    AT_STATX_FORCE_SYNC = 0x2000
    AT_STATX_DONT_SYNC = 0x4000
    AT_SYMLINK_NOFOLLOW = 0x100
    AT_NO_AUTOMOUNT = 0x800
    AT_EMPTY_PATH = 0x1000


class StatxMask(enum.IntFlag):
    STATX_ALL = 0xFFF
    STATX_BASIC_STATS = 0x7FF
    STATX_TYPE = 0x1
    STATX_MODE = 0x2
    STATX_NLINK = 0x4
    STATX_UID = 0x8
    STATX_GID = 0x10
    STATX_ATIME = 0x20
    STATX_MTIME = 0x40
    STATX_CTIME = 0x80
    STATX_INO = 0x100
    STATX_SIZE = 0x200
    STATX_BLOCKS = 0x400
    STATX_BTIME = 0x800
    STATX_MNT_ID = 0x1000
    STATX_DIOALIGN = 0x2000
    STATX_MNT_ID_UNIQUE = 0x4000
    STATX_SUBVOL = 0x8000


class StatxAttr(enum.IntFlag):
    STATX_ATTR_COMPRESSED = 0x4
    STATX_ATTR_IMMUTABLE = 0x10
    STATX_ATTR_APPEND = 0x20
    STATX_ATTR_NODUMP = 0x40
    STATX_ATTR_ENCRYPTED = 0x800
    STATX_ATTR_AUTOMOUNT = 0x1000
    STATX_ATTR_MOUNT_ROOT = 0x2000
    STATX_ATTR_VERITY = 0x100000
    STATX_ATTR_DAX = 0x200000
