"""What the child of a Python floor (floor_tracer.py, notif_floor.py) does before the
program runs: install floor_tracer.c's seccomp filter, which sends getppid to the tracer
(or supervisor), lets everything else run, and kills a syscall made with a foreign ABI
(i386, or an x32 number) so that none slips past the number check; then exec the
program. Stdlib only.
"""

import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS, SYS_SECCOMP, SECCOMP_SET_MODE_FILTER = 38, 317, 1
SYS_GETPPID, X32_SYSCALL_BIT, AUDIT_ARCH_X86_64 = 110, 0x40000000, 0xC000003E
RET_KILL_PROCESS, RET_USER_NOTIF, RET_TRACE, RET_ALLOW = 0x80000000, 0x7FC00000, 0x7FF00000, 0x7FFF0000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH = 0, 4

libc = ctypes.CDLL(None, use_errno=True)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def die(what: str, err: int) -> None:
    """Say what failed and exit 127 (the child of a floor, before its exec)."""
    print(f"{what}: {os.strerror(err)}", file=sys.stderr)
    os._exit(127)


def insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def install_filter(getppid_action: int, flags: int = 0) -> int:
    """Set no_new_privs and install the filter, getppid returning `getppid_action`;
    returns what seccomp(2) returned (the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER)."""
    program = b"".join([
        insn(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
        insn(BPF_JEQ_K, AUDIT_ARCH_X86_64, jt=1),
        insn(BPF_RET_K, RET_KILL_PROCESS),
        insn(BPF_LD_W_ABS, SECCOMP_DATA_NR),
        insn(BPF_JGE_K, X32_SYSCALL_BIT, jf=1),
        insn(BPF_RET_K, RET_KILL_PROCESS),
        insn(BPF_JEQ_K, SYS_GETPPID, jf=1),
        insn(BPF_RET_K, getppid_action),
        insn(BPF_RET_K, RET_ALLOW),
    ])
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("prctl(PR_SET_NO_NEW_PRIVS)", ctypes.get_errno())
    result = libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(fprog))
    if result < 0:
        die("seccomp(SECCOMP_SET_MODE_FILTER)", ctypes.get_errno())
    return result


def exec_program(argv: list[str]) -> None:
    """Exec `argv` (searched on PATH); if that fails, say why as a shell would and exit 127."""
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"{argv[0]}: {exc.strerror}", file=sys.stderr)
    os._exit(127)
