"""Pyrene's stub: the only program the host ever executes for the app.

A tiny static ELF, generated here as bytes (no toolchain, no libc). Executing it gives
the app a fresh address space that holds nothing but this page, the kernel's stack, the
vDSO and vvar. The library OS then loads the real program into it (loader/). The code is

    SYSCALL_SITE:  syscall        0f 05
                   int3           cc
                   jmp SYSCALL_SITE   eb fb

and it stays mapped for the life of the process: syscall injection points `rip` at
SYSCALL_SITE, and the `int3` right after the `syscall` gives the tracer a stop as soon as
the injected call returns, whether the call ran natively or trapped first.

The stub sits high in the address space (see STUB_BASE) so that the kernel's brk area,
which it places just after the executed image, has room to grow, and so that ET_EXEC
programs (usually at 0x400000) never collide with it.
"""

from __future__ import annotations

import struct

STUB_BASE = 0x7E00_0000_0000
EHDR_SIZE = 64
PHDR_SIZE = 56
PHNUM = 2
CODE_OFFSET = EHDR_SIZE + PHNUM * PHDR_SIZE
CODE = bytes.fromhex("0f05" "cc" "ebfb")
SYSCALL_SITE = STUB_BASE + CODE_OFFSET
# rip at the int3 stop that ends an injected syscall (after the int3 byte)
AFTER_INT3 = SYSCALL_SITE + 3

PT_LOAD, PT_GNU_STACK = 1, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4


def build() -> bytes:
    size = CODE_OFFSET + len(CODE)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack(
        "<HHIQQQIHHHHHH",
        2,  # ET_EXEC
        62,  # EM_X86_64
        1,
        SYSCALL_SITE,  # e_entry
        EHDR_SIZE,  # e_phoff
        0,
        0,
        EHDR_SIZE,
        PHDR_SIZE,
        PHNUM,
        64,
        0,
        0,
    )
    load = struct.pack("<IIQQQQQQ", PT_LOAD, PF_R | PF_X, 0, STUB_BASE, STUB_BASE, size, size, 0x1000)
    stack = struct.pack("<IIQQQQQQ", PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16)
    return ehdr + load + stack + CODE
