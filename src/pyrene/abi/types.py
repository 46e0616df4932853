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

from .structs import STAT, STATX_HEAD, STATX_SIZE, os_major, os_minor
from .flags import (AT_FDCWD, AT_STATX_SYNC_TYPE, O_ACCMODE, PATH_MAX, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK,
                    S_IFMT, S_IFREG, S_IFSOCK, AtFlags, Fcntl, MapFlags, OpenFlags, Prot)

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


FILE_TYPES = {S_IFSOCK: "S_IFSOCK", S_IFLNK: "S_IFLNK", S_IFREG: "S_IFREG", S_IFBLK: "S_IFBLK",
              S_IFDIR: "S_IFDIR", S_IFCHR: "S_IFCHR", S_IFIFO: "S_IFIFO"}


SPECIAL_MODE_BITS = ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX"))


def render_mode(mode: int) -> str:
    """A file mode as strace shows it: S_IFDIR|S_ISVTX|0777."""
    kind = FILE_TYPES.get(mode & S_IFMT, f"{mode & S_IFMT:#o}")
    special = "".join(f"{name}|" for bit, name in SPECIAL_MODE_BITS if mode & bit)
    perm = mode & 0o777
    return f"{kind}|{special}{('0%o' % perm if perm else '0').zfill(3)}"  # C's %#03o


class StatBuf(OutStruct):
    """struct stat: `{st_mode=S_IFREG|0644, st_size=3, ...}` (a device: its st_rdev)."""

    size = STAT.size

    @staticmethod
    def render_filled(data: bytes) -> str:
        _dev, _ino, _nlink, mode, _uid, _gid, _pad, rdev, size = STAT.unpack_from(data)[:9]
        if mode & S_IFMT in (S_IFCHR, S_IFBLK):
            device = f"makedev({os_major(rdev):#x}, {os_minor(rdev):#x})"
            return f"{{st_mode={render_mode(mode)}, st_rdev={device}, ...}}"
        return f"{{st_mode={render_mode(mode)}, st_size={size}, ...}}"


class StatxBuf(OutStruct):
    """struct statx: `{stx_mask=STATX_BASIC_STATS, stx_attributes=0, stx_mode=S_IFREG|0644,
    stx_size=3, ...}`."""

    size = STATX_SIZE

    @staticmethod
    def render_filled(data: bytes) -> str:
        mask, _blksize, attributes, _nlink, _uid, _gid, mode, _ino, size = STATX_HEAD.unpack_from(data)[:9]
        attrs = render_flags(attributes, trace_names("StatxAttr")) if attributes else "0"
        return (f"{{stx_mask={render_flags(mask, trace_names('StatxMask'))}, stx_attributes={attrs}, "
                f"stx_mode={render_mode(mode)}, stx_size={size}, ...}}")


class Mode(UInt):
    @staticmethod
    def render(value: int) -> str:
        return f"0{value:o}" if value else "0"  # as strace: 0644


class OpenMode(Mode):
    """open's mode, which it reads only when the flags before it create a file: --trace
    leaves it out otherwise, as strace does."""


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


def flag_type(flag_enum: type[enum.IntFlag] | str, width32: bool = True, zero: str | None = None,
              empty_field: tuple[int, str] | None = None) -> type[ArgType]:
    """An argument type that decodes to a plain int (an IntFlag would make every `&` in
    the handler an enum operation, microseconds on a stat), rendering `A|B|0x...`, and
    `zero`, if given, for 0 (F_OK for access modes, as strace). `empty_field` names a
    field of the flags whose value 0 has a name, shown first (O_RDONLY). A str names a
    class of abi/names.py, imported at the first line that renders it."""

    class _Flags(ArgType):
        @staticmethod
        def decode(mem: Memory, raw: int) -> int:
            return raw & 0xFFFFFFFF if width32 else raw

        @staticmethod
        def render(value: int) -> str:
            if zero is not None and not value:
                return zero
            return render_flags(value, trace_names(flag_enum), empty_field)

    _Flags.__name__ = flag_enum if isinstance(flag_enum, str) else flag_enum.__name__
    return _Flags


def trace_names(kind: type[enum.Enum] | str) -> type[enum.Enum]:
    """`kind`, or the class of abi/names.py it names (imported now, at first use)."""
    if isinstance(kind, str):
        from . import names

        return getattr(names, kind)  # type: ignore[no-any-return]
    return kind


def render_flags(value: int, flag_enum: type[enum.IntFlag], empty_field: tuple[int, str] | None = None) -> str:
    """`A|B|0x...`: names of several bits (STATX_ALL) before those of one, as strace."""
    shown = []
    rest = int(value)
    members = sorted(flag_enum.__members__.values(), key=lambda m: -int(m).bit_count())
    for member in members:
        if member.value and rest & member.value == member.value:
            shown.append(member.name)
            rest &= ~member.value
    if empty_field is not None and not int(value) & empty_field[0]:
        shown.insert(0, empty_field[1])
    if rest:
        shown.append(hex(rest))
    return "|".join(shown) or "0"


def enum_type(int_enum: type[enum.IntEnum] | str) -> type[ArgType]:
    """An int argument rendered by name (a str: a class of abi/names.py, as flag_type)."""
    class _Enum(Int):
        @staticmethod
        def render(value: int) -> str:
            try:
                return trace_names(int_enum)(value).name  # type: ignore[call-arg]
            except ValueError:
                return str(value)

    _Enum.__name__ = int_enum if isinstance(int_enum, str) else int_enum.__name__
    return _Enum


OpenFlagsArg = flag_type(OpenFlags, empty_field=(O_ACCMODE, "O_RDONLY"))
AtFlagsArg = flag_type(AtFlags)
AccessModeArg = flag_type("AccessMode", zero="F_OK")
AccessAtFlagsArg = flag_type("AccessAtFlags")
StatxAtFlagsArg = flag_type("StatxAtFlags", empty_field=(AT_STATX_SYNC_TYPE, "AT_STATX_SYNC_AS_STAT"))
StatxMaskArg = flag_type("StatxMask")
ProtArg = flag_type(Prot)
MapFlagsArg = flag_type(MapFlags)
FcntlCmd = enum_type(Fcntl)
