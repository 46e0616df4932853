"""Argument types of syscalls: how to decode a register and how to show it in a trace.

A handler declares its arguments with these types (see kernel/table.py); the dispatcher
decodes registers with `decode` before calling it and the tracer renders with `render`.
Decoding gives the right width and signedness once, here: an `Int` is the low 32 bits
sign-extended, so AT_FDCWD arrives as -100 whatever the upper half of the register holds.
"""

from __future__ import annotations

import enum
import errno
import os

from .structs import STAT
from .flags import AT_FDCWD, PATH_MAX, AccessAtFlags, AccessMode, AtFlags, Fcntl, MapFlags, OpenFlags, Prot

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Memory(Protocol):
        def read_cstr(self, addr: int, limit: int) -> bytes: ...


class ArgType:
    """Base: the raw 64-bit register value, rendered in decimal."""

    @staticmethod
    def decode(mem: Memory, raw: int) -> Any:
        return raw

    @staticmethod
    def render(value: Any) -> str:
        return str(value)


class ULong(ArgType):
    pass


SizeT = ULong


class Long(ArgType):
    @staticmethod
    def decode(mem: Memory, raw: int) -> int:
        return raw - (1 << 64) if raw >= 1 << 63 else raw


SSizeT = Long


class Int(ArgType):
    @staticmethod
    def decode(mem: Memory, raw: int) -> int:
        raw &= 0xFFFFFFFF
        return raw - (1 << 32) if raw >= 1 << 31 else raw


class UInt(ArgType):
    @staticmethod
    def decode(mem: Memory, raw: int) -> int:
        return raw & 0xFFFFFFFF


class Fd(Int):
    pass


class DirFd(Int):
    @staticmethod
    def render(value: int) -> str:
        return "AT_FDCWD" if value == AT_FDCWD else str(value)


class Ptr(ArgType):
    @staticmethod
    def render(value: int) -> str:
        return "NULL" if value == 0 else hex(value)


class Offset(Long):
    """A file offset where strace shows hex (mmap's)."""

    @staticmethod
    def render(value: int) -> str:
        return hex(value) if value else "0"


class InBuf(Ptr):
    """Bytes the app hands in (write's buffer), as long as the next argument says: the
    handler gets the address; --trace shows their start, as strace does."""


class OutBuf(Ptr):
    """Bytes the call fills in (read's buffer), as many as it returns: the handler gets
    the address; --trace shows what the call wrote there, as strace does."""


class OutStruct(Ptr):
    """A struct the call fills in: the handler gets the address; --trace shows the struct
    after a call that succeeded (`render_filled` of its `size` bytes), as strace does."""

    size = 0

    @staticmethod
    def render_filled(data: bytes) -> str:
        raise NotImplementedError


FILE_TYPES = {0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG", 0o060000: "S_IFBLK",
              0o040000: "S_IFDIR", 0o020000: "S_IFCHR", 0o010000: "S_IFIFO"}


SPECIAL_MODE_BITS = ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX"))


class StatBuf(OutStruct):
    """struct stat: `{st_mode=S_IFREG|0644, st_size=3, ...}` (a device: its st_rdev)."""

    size = STAT.size

    @staticmethod
    def render_filled(data: bytes) -> str:
        _dev, _ino, _nlink, mode, _uid, _gid, _pad, rdev, size = STAT.unpack_from(data)[:9]
        kind = FILE_TYPES.get(mode & 0o170000, f"{mode & 0o170000:#o}")
        special = "".join(f"{name}|" for bit, name in SPECIAL_MODE_BITS if mode & bit)
        perm = mode & 0o777
        shown = f"st_mode={kind}|{special}{('0%o' % perm if perm else '0').zfill(3)}, "  # C's %#03o
        if kind in ("S_IFCHR", "S_IFBLK"):
            major = ((rdev >> 32) & 0xFFFFF000) | ((rdev >> 8) & 0xFFF)
            minor = ((rdev >> 12) & 0xFFFFFF00) | (rdev & 0xFF)
            shown += f"st_rdev=makedev({major:#x}, {minor:#x}), "
        else:
            shown += f"st_size={size}, "
        return "{" + shown + "...}"


class Mode(UInt):
    @staticmethod
    def render(value: int) -> str:
        return f"0{value:o}" if value else "0"  # as strace: 0644


class Path(ArgType):
    """A NUL-terminated path read from the tracee (EFAULT/ENAMETOOLONG raised here)."""

    @staticmethod
    def decode(mem: Memory, raw: int) -> str:
        if raw == 0:
            from ..errors import Errno

            raise Errno(errno.EFAULT)
        return os.fsdecode(mem.read_cstr(raw, PATH_MAX))

    @staticmethod
    def render(value: str) -> str:
        return '"' + value.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace").replace('"', '\\"') + '"'


CStr = Path


def flag_type(flag_enum: type[enum.IntFlag], width32: bool = True, zero: str | None = None) -> type[ArgType]:
    """An argument type that decodes to a plain int (an IntFlag would make every `&` in
    the handler an enum operation, microseconds on a stat), rendering `A|B|0x...`, and
    and `zero`, if given, for 0 (F_OK for access modes, as strace)."""

    class _Flags(ArgType):
        @staticmethod
        def decode(mem: Memory, raw: int) -> int:
            return raw & 0xFFFFFFFF if width32 else raw

        @staticmethod
        def render(value: int) -> str:
            return zero if zero is not None and not value else render_flags(value, flag_enum)

    _Flags.__name__ = flag_enum.__name__
    return _Flags


def render_flags(value: int, flag_enum: type[enum.IntFlag]) -> str:
    names = []
    rest = int(value)
    for member in flag_enum:
        if member.value and rest & member.value == member.value and member.name:
            names.append(member.name)
            rest &= ~member.value
    if flag_enum is OpenFlags and not int(value) & 3:
        names.insert(0, "O_RDONLY")
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "0"


def enum_type(int_enum: type[enum.IntEnum]) -> type[ArgType]:
    class _Enum(Int):
        @staticmethod
        def render(value: int) -> str:
            try:
                return int_enum(value).name
            except ValueError:
                return str(value)

    _Enum.__name__ = int_enum.__name__
    return _Enum


OpenFlagsArg = flag_type(OpenFlags)
AtFlagsArg = flag_type(AtFlags)
AccessModeArg = flag_type(AccessMode, zero="F_OK")
AccessAtFlagsArg = flag_type(AccessAtFlags)
ProtArg = flag_type(Prot)
MapFlagsArg = flag_type(MapFlags)
FcntlCmd = enum_type(Fcntl)
