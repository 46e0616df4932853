"""ELF64 parsing: just what loading needs (PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK)."""

from __future__ import annotations

import errno
import struct

from ..errors import Errno
from ..record import NamedTuple

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
ET_EXEC, ET_DYN = 2, 3
EM_X86_64 = 62
PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4


class NotElf(Exception):
    """The file is not an x86-64 ELF executable; the message says what it is."""


class Segment(NamedTuple):
    vaddr: int
    memsz: int
    offset: int
    filesz: int
    flags: int


class ElfImage(NamedTuple):
    etype: int
    entry: int
    phoff: int
    phentsize: int
    phnum: int
    segments: tuple[Segment, ...]
    interp_range: tuple[int, int] | None  # (file offset, size) of the PT_INTERP path
    phdr_vaddr: int | None  # from PT_PHDR, else computed from the segment holding phoff

    @property
    def is_dyn(self) -> bool:
        return self.etype == ET_DYN

    def span(self) -> tuple[int, int]:
        lo = min(s.vaddr for s in self.segments) & ~0xFFF
        hi = max(s.vaddr + s.memsz for s in self.segments)
        return lo, (hi + 0xFFF) & ~0xFFF

    def phdr_address(self) -> int:
        if self.phdr_vaddr is not None:
            return self.phdr_vaddr
        for s in self.segments:
            if s.offset <= self.phoff < s.offset + s.filesz:
                return s.vaddr + self.phoff - s.offset
        return 0


def describe_foreign(header: bytes) -> str:
    """A human description of why `header` is not something we can run."""
    if header[:4] != b"\x7fELF":
        return "not an ELF executable"
    cls = {1: "32-bit", 2: "64-bit"}.get(header[4], "unknown-class")
    machine = struct.unpack_from("<H", header, 18)[0] if len(header) >= 20 else 0
    names = {3: "i386", 40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V", 8: "MIPS", 20: "PowerPC",
             21: "PowerPC64", 22: "S390"}
    return f"{cls} ELF for {names.get(machine, f'machine {machine}')}"


def parse(data: bytes) -> ElfImage:
    """Parse the headers of an ELF64 x86-64 executable (data: at least the first page)."""
    if len(data) < EHDR.size or data[:4] != b"\x7fELF":
        raise NotElf("not an ELF executable")
    ident, etype, machine, _, entry, phoff, _, _, _, phentsize, phnum, _, _, _ = EHDR.unpack_from(data)
    if ident[4] != 2 or ident[5] != 1 or machine != EM_X86_64:
        raise NotElf(f"unsupported binary: {describe_foreign(data)} (Pyrene runs x86-64 programs only)")
    if etype not in (ET_EXEC, ET_DYN):
        raise NotElf("ELF file is not an executable")
    if phentsize != PHDR.size or phnum == 0 or phnum > 256 or phoff + phnum * phentsize > len(data):
        raise Errno(errno.ENOEXEC, "bad program headers")
    segments = []
    interp_range = None
    phdr_vaddr = None
    for i in range(phnum):
        ptype, pflags, offset, vaddr, _, filesz, memsz, _ = PHDR.unpack_from(data, phoff + i * phentsize)
        if ptype == PT_LOAD:
            if filesz > memsz:
                raise Errno(errno.ENOEXEC, "segment file size exceeds memory size")
            segments.append(Segment(vaddr, memsz, offset, filesz, pflags))
        elif ptype == PT_INTERP:
            interp_range = (offset, filesz)
        elif ptype == PT_PHDR:
            phdr_vaddr = vaddr
    if not segments:
        raise Errno(errno.ENOEXEC, "no loadable segments")
    return ElfImage(etype, entry, phoff, phentsize, phnum, tuple(segments), interp_range, phdr_vaddr)
