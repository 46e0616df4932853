"""notif_floor.py: a trapped syscall served through seccomp user notification, in Python.

    python3 bench/notif_floor.py PROG [ARGS...]

Not Pyrene's design today: a measured alternative to it. floor_tracer.c and .py serve
getppid the way Pyrene does, at a ptrace stop (waitpid, GETREGS, SETREGS, CONT: four host
calls, and the tracee stopped and woken as by a signal). Here the filter returns
SECCOMP_RET_USER_NOTIF instead: the tracee sleeps inside the syscall, and the supervisor
reads the call from a listener fd and writes its result back (two ioctls, made with
fcntl.ioctl: no ctypes on the loop). On this VM that costs less than the *C* ptrace
floor. The listener is created with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, which a
real library OS would need (once the supervisor has read a call, a signal can no longer
interrupt and restart it, so no call is served twice), and the wake-ups are made
synchronous (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP), the kernel's own hint that supervisor
and task take turns on one CPU.

getppid returns FAKE_PPID, as under the floor tracers; every other call runs natively.
The child sends its listener fd to the parent over a socketpair before it execs.
Stdlib only; Linux >= 6.6.
"""

import ctypes
import fcntl
import os
import socket
import struct
import sys

FAKE_PPID = 1  # as in floor_tracer.c: bench/run.py checks that getppid returned it

PR_SET_NO_NEW_PRIVS, SYS_SECCOMP, SECCOMP_SET_MODE_FILTER = 38, 317, 1
SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 3, 1 << 5
SYS_GETPPID, X32_SYSCALL_BIT, AUDIT_ARCH_X86_64 = 110, 0x40000000, 0xC000003E
RET_KILL_PROCESS, RET_USER_NOTIF, RET_ALLOW = 0x80000000, 0x7FC00000, 0x7FFF0000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH = 0, 4

# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct
# seccomp_notif_resp), _IOW('!', 4, __u64); the structs are 80 and 24 bytes
NOTIF_SIZE, RESP_SIZE = 80, 24
SECCOMP_IOCTL_NOTIF_RECV = (3 << 30) | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
SECCOMP_IOCTL_NOTIF_SEND = (3 << 30) | (RESP_SIZE << 16) | (ord("!") << 8) | 1
SECCOMP_IOCTL_NOTIF_SET_FLAGS = (1 << 30) | (8 << 16) | (ord("!") << 8) | 4
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1

libc = ctypes.CDLL(None, use_errno=True)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def die(what: str, err: int) -> None:
    print(f"{what}: {os.strerror(err)}", file=sys.stderr)
    os._exit(127)


def insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def install_filter() -> int:
    """floor_tracer.py's filter with USER_NOTIF for getppid; returns the listener fd."""
    program = b"".join([
        insn(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
        insn(BPF_JEQ_K, AUDIT_ARCH_X86_64, jt=1),
        insn(BPF_RET_K, RET_KILL_PROCESS),
        insn(BPF_LD_W_ABS, SECCOMP_DATA_NR),
        insn(BPF_JGE_K, X32_SYSCALL_BIT, jf=1),
        insn(BPF_RET_K, RET_KILL_PROCESS),
        insn(BPF_JEQ_K, SYS_GETPPID, jf=1),
        insn(BPF_RET_K, RET_USER_NOTIF),
        insn(BPF_RET_K, RET_ALLOW),
    ])
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        die("prctl(PR_SET_NO_NEW_PRIVS)", ctypes.get_errno())
    flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    listener = libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(fprog))
    if listener < 0:
        die("seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)", ctypes.get_errno())
    return listener


def run_child(argv: list[str], channel: socket.socket) -> None:
    listener = install_filter()
    socket.send_fds(channel, [b"L"], [listener])
    os.close(listener)
    channel.close()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"{argv[0]}: {exc.strerror}", file=sys.stderr)
    os._exit(127)


def serve(listener: int) -> None:
    """Answer every notification with FAKE_PPID until the filter has no task left."""
    fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
    notif = bytearray(NOTIF_SIZE)  # id u64, pid u32, flags u32, seccomp_data
    resp = bytearray(RESP_SIZE)    # id u64, val s64, error s32, flags u32
    struct.pack_into("=q", resp, 8, FAKE_PPID)
    notif_id, resp_id = memoryview(notif)[:8], memoryview(resp)[:8]
    zero = bytes(NOTIF_SIZE)
    ioctl = fcntl.ioctl
    while True:
        notif[:] = zero  # RECV wants a zeroed struct
        try:
            ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, notif, True)
        except InterruptedError:
            continue
        except OSError:  # ENOENT: the tracee is gone
            return
        resp_id[:] = notif_id
        try:
            ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp, True)
        except OSError:  # the task died meanwhile
            pass


def main() -> int:
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} PROG [ARGS...]", file=sys.stderr)
        return 2
    parent_end, child_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent_end.close()
        run_child(sys.argv[1:], child_end)
    child_end.close()
    _, fds, _, _ = socket.recv_fds(parent_end, 1, 1)
    if not fds:  # the child failed before sending its listener (and said why)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) & 0xFF or 127
    serve(fds[0])
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
