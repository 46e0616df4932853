"""The host seccomp filter of the picoprocess, assembled from a tiny BPF DSL.

The filter is the fixed surface the host exposes to the app:

  1. any syscall made with a non-x86-64 ABI is fatal: `int 0x80` arrives with
     arch == AUDIT_ARCH_I386, and an x32 call has bit 30 set in its number. Both are the
     classic ways around a filter that only looks at x86-64 numbers, so both KILL the
     whole process instead of being trapped.
  2. a short allow-list (the memory/thread/signal calls of DESIGN.md decision 4) runs
     natively. `mmap` runs natively only with MAP_ANONYMOUS; file mappings trap so the
     library OS can perform them on the app's behalf.
  3. everything else is SECCOMP_RET_TRACE: the tracer gets a stop and serves it. Without
     a tracer, the kernel fails such a call with ENOSYS, so nothing reaches the host
     unchecked if Pyrene is gone.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Iterable

from ..abi import sysnum

# BPF opcodes (linux/bpf_common.h)
BPF_LD, BPF_JMP, BPF_RET = 0x00, 0x05, 0x06
BPF_W, BPF_ABS, BPF_K = 0x00, 0x20, 0x00
BPF_JEQ, BPF_JGE, BPF_JSET = 0x10, 0x30, 0x40

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_ALLOW = 0x7FFF0000

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
MAP_ANONYMOUS = 0x20

# offsets in struct seccomp_data
OFF_NR, OFF_ARCH = 0, 4


def off_arg_lo(index: int) -> int:
    """Offset of the low 32 bits of argument `index` (little endian)."""
    return 16 + 8 * index


# DESIGN.md decision 4: these never reach the tracer.
NATIVE_SYSCALLS: tuple[str, ...] = (
    "munmap", "mprotect", "brk", "madvise", "mremap", "futex", "set_robust_list", "rseq",
    "sched_yield", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "clock_gettime",
    "gettimeofday", "getrandom",
)


class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]


def stmt(code: int, k: int) -> tuple[int, int, int, int]:
    return (code, 0, 0, k)


def jump(code: int, k: int, jt: int, jf: int) -> tuple[int, int, int, int]:
    return (code, jt, jf, k)


def build_filter(native: Iterable[str] = NATIVE_SYSCALLS) -> list[tuple[int, int, int, int]]:
    """The program as (code, jt, jf, k) tuples; see the module docstring for its shape."""
    numbers = sorted({sysnum.BY_NAME[name] for name in native})
    mmap_nr = sysnum.BY_NAME["mmap"]
    prog = [
        stmt(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        stmt(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
        jump(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    ]
    # One compare per native syscall; a match jumps to the ALLOW at the end of the list.
    count = len(numbers)
    for i, number in enumerate(numbers):
        # after this insn come (count-1-i) more compares and the 4-insn mmap block,
        # then RET ALLOW.
        prog.append(jump(BPF_JMP | BPF_JEQ | BPF_K, number, (count - 1 - i) + 4, 0))
    prog += [
        jump(BPF_JMP | BPF_JEQ | BPF_K, mmap_nr, 0, 2),        # not mmap -> TRACE
        stmt(BPF_LD | BPF_W | BPF_ABS, off_arg_lo(3)),          # mmap flags
        jump(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 1, 0),  # anonymous -> ALLOW
        stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ]
    return prog


def encode(prog: list[tuple[int, int, int, int]]) -> bytes:
    """The program as the kernel's struct sock_filter array (for tests and inspection)."""
    return b"".join(struct.pack("=HBBI", *insn) for insn in prog)


def install(prog: list[tuple[int, int, int, int]]) -> None:
    """Install the filter on the calling process (irreversible; inherited by exec and fork)."""
    from . import libc

    array = (Insn * len(prog))(*[Insn(code, jt, jf, k) for code, jt, jf, k in prog])
    fprog = SockFprog(len(prog), ctypes.cast(array, ctypes.POINTER(Insn)))
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
    libc.seccomp_set_filter(ctypes.addressof(fprog))
