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

import fcntl
import os
import socket
import struct
import sys

import floor_child  # bench/, this script's directory

FAKE_PPID = 1  # as in floor_tracer.c: bench/run.py checks that getppid returned it

SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 3, 1 << 5

# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct
# seccomp_notif_resp), _IOW('!', 4, __u64); the structs are 80 and 24 bytes
NOTIF_SIZE, RESP_SIZE = 80, 24
SECCOMP_IOCTL_NOTIF_RECV = (3 << 30) | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
SECCOMP_IOCTL_NOTIF_SEND = (3 << 30) | (RESP_SIZE << 16) | (ord("!") << 8) | 1
SECCOMP_IOCTL_NOTIF_SET_FLAGS = (1 << 30) | (8 << 16) | (ord("!") << 8) | 4
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1


def run_child(argv: list[str], channel: socket.socket) -> None:
    flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    listener = floor_child.install_filter(floor_child.RET_USER_NOTIF, flags)
    socket.send_fds(channel, [b"L"], [listener])
    os.close(listener)
    channel.close()
    floor_child.exec_program(argv)


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
