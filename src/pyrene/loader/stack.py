"""The initial process stack, laid out as the kernel's create_elf_tables() does.

From high to low addresses: the AT_EXECFN string, the environment strings, the argument
strings, the platform string, 16 random bytes (AT_RANDOM); then, 16-byte aligned:
argc, argv[] + NULL, envp[] + NULL, the auxiliary vector ending with AT_NULL. The
returned rsp points at argc.
"""

from __future__ import annotations

import os
import struct

from ..abi.flags import AuxType
from ..record import NamedTuple


class StackImage(NamedTuple):
    base: int  # lowest address of the image (= rsp)
    data: bytes

    @property
    def rsp(self) -> int:
        return self.base


def build_stack(top: int, argv: list[bytes], envp: list[bytes], execfn: bytes, platform: bytes,
                random16: bytes, auxv: list[tuple[int, int]]) -> StackImage:
    """Lay out the stack so that it ends just below `top`.

    `auxv` must not contain AT_RANDOM, AT_EXECFN, AT_PLATFORM or AT_NULL: their values
    are addresses inside the image and are filled in here.
    """
    strings = bytearray()  # grows downwards: push() returns a string's offset below `top`

    def push(s: bytes) -> int:
        strings[0:0] = s + b"\0"
        return len(strings)

    execfn_off = push(execfn)
    env_offs = [push(e) for e in envp]
    # argv strings sit below envp strings; push them last-to-first so argv[0] is lowest
    arg_offs = [0] * len(argv)
    for i in range(len(argv) - 1, -1, -1):
        arg_offs[i] = push(argv[i])
    platform_off = push(platform) if platform else 0
    strings[0:0] = random16
    random_off = len(strings)

    full_aux = list(auxv)
    full_aux.append((AuxType.AT_RANDOM, top - random_off))
    full_aux.append((AuxType.AT_EXECFN, top - execfn_off))
    if platform:
        full_aux.append((AuxType.AT_PLATFORM, top - platform_off))
    full_aux.append((AuxType.AT_NULL, 0))

    words = [len(argv)]
    words += [top - off for off in arg_offs] + [0]
    words += [top - off for off in env_offs] + [0]
    for key, value in full_aux:
        words += [int(key), value & ((1 << 64) - 1)]
    table = struct.pack(f"<{len(words)}Q", *words)

    strings_start = top - len(strings)
    rsp = (strings_start - len(table)) & ~0xF
    gap = strings_start - (rsp + len(table))
    return StackImage(rsp, table + bytes(gap) + bytes(strings))


def random_bytes() -> bytes:
    return os.urandom(16)
