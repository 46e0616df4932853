"""One traced host thread: its registers, its memory, resuming it, injecting syscalls.

This module knows registers, memory and stops; it knows nothing of Linux semantics
beyond the x86-64 syscall convention.

Syscall injection (DESIGN.md, "Techniques"): at any stop, save the registers, point rip
at the stub's `syscall; int3`, put the number in rax and the arguments in
rdi/rsi/rdx/r10/r8/r9, and continue. Setting orig_rax = -1 at the same time makes a
pending seccomp stop skip the app's own call, so the same sequence works from a seccomp
stop, a signal stop or the exec stop. A call that the filter traps comes back to us as a
seccomp stop first; we check it is the one we injected (another thread of the app could
have rewritten the stub page) and let it run. The `int3` then stops the thread with
SIGTRAP and rax holds the result. The caller restores the saved registers at the end.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import signal
from collections.abc import Callable

from ..errors import Errno, TaskExit
from . import libc
from .stub import AFTER_INT3, SYSCALL_SITE

MASK64 = (1 << 64) - 1
_ptrace = libc.ptrace_raw_fn  # the hot path calls the ctypes function directly
GETREGS, SETREGS, CONT = libc.PTRACE_GETREGS, libc.PTRACE_SETREGS, libc.PTRACE_CONT
SECCOMP_STOP = signal.SIGTRAP | (libc.PTRACE_EVENT_SECCOMP << 8)
PAGE = 4096
BUF_SIZE = 64 * 1024


def decode_status(status: int) -> tuple[int, int]:
    """(signal, ptrace event) of a stopped waitpid status."""
    return (status >> 8) & 0xFF, status >> 16


CSTR_FIRST_READ = 256  # bytes: read_cstr's first read


class Tracee:
    """A host thread under PTRACE_SEIZE, stopped whenever Pyrene looks at it."""

    __slots__ = ("pid", "regs", "regs_addr", "_regs_ref", "_scratch", "_scratch_addr", "_scratch_ref", "_vm",
                 "_buf", "_buf_addr", "_buf_view", "_big", "pending_signals")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.regs = libc.UserRegs()
        self.regs_addr = ctypes.addressof(self.regs)
        self._regs_ref = ctypes.byref(self.regs)
        self._scratch = libc.UserRegs()
        self._scratch_addr = ctypes.addressof(self._scratch)
        self._scratch_ref = ctypes.byref(self._scratch)
        self._vm = libc.VmCopier(pid)
        # bounce buffer for memory copies up to BUF_SIZE (most of them): no allocation per
        # call. An anonymous mapping, not a ctypes buffer, whose zeroing would write all 16
        # pages: a Tracee is made at every fork, where each page written costs a
        # copy-on-write fault, and most copies use the first page only.
        self._buf = mmap.mmap(-1, BUF_SIZE)
        self._buf_addr = ctypes.addressof(ctypes.c_char.from_buffer(self._buf))
        self._buf_view = memoryview(self._buf)
        # signals that arrived while we were injecting; delivered on the next resume
        self.pending_signals: list[int] = []

    # -- registers and resuming ------------------------------------------------------

    def get_regs(self) -> libc.UserRegs:
        if _ptrace(GETREGS, self.pid, 0, self._regs_ref) == -1:
            self._gone_or_raise("PTRACE_GETREGS")
        return self.regs

    def set_regs(self) -> None:
        if _ptrace(SETREGS, self.pid, 0, self._regs_ref) == -1:
            self._gone_or_raise("PTRACE_SETREGS")

    def resume(self, sig: int = 0) -> None:
        if _ptrace(CONT, self.pid, 0, sig) == -1:
            self._gone_or_raise("PTRACE_CONT")

    def return_from_syscall(self, result: int) -> None:
        """At a seccomp stop: skip the app's syscall, make it return `result`, resume.

        The hot path's last step, so it is one frame and two ptrace calls."""
        regs = self.regs
        regs.orig_rax = MASK64  # -1: the kernel skips the call and keeps our rax
        regs.rax = result & MASK64
        pid = self.pid
        if _ptrace(SETREGS, pid, 0, self._regs_ref) == -1:
            self._gone_or_raise("PTRACE_SETREGS")
        if _ptrace(CONT, pid, 0, self.pending_signals.pop(0) if self.pending_signals else 0) == -1:
            self._gone_or_raise("PTRACE_CONT")

    def resume_to_syscall_exit(self) -> None:
        if libc.ptrace_raw(libc.PTRACE_SYSCALL, self.pid, 0, 0) == -1:
            self._gone_or_raise("PTRACE_SYSCALL")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _gone_or_raise(self, what: str) -> None:
        err = libc.last_errno()
        if err == errno.ESRCH:
            raise TaskExit(self.pid)
        raise OSError(err, f"{what} on {self.pid}: {os.strerror(err)}")

    def event_message(self) -> int:
        msg = ctypes.c_ulong()
        libc.ptrace(libc.PTRACE_GETEVENTMSG, self.pid, 0, ctypes.addressof(msg))
        return msg.value

    def signal_mask(self) -> int:
        """The thread's blocked signals, as a 64-bit set (bit N-1 for signal N)."""
        mask = ctypes.c_uint64()
        if _ptrace(libc.PTRACE_GETSIGMASK, self.pid, 8, ctypes.byref(mask)) == -1:
            self._gone_or_raise("PTRACE_GETSIGMASK")
        return mask.value

    def set_signal_mask(self, mask: int) -> None:
        value = ctypes.c_uint64(mask)
        if _ptrace(libc.PTRACE_SETSIGMASK, self.pid, 8, ctypes.byref(value)) == -1:
            self._gone_or_raise("PTRACE_SETSIGMASK")

    # -- memory ----------------------------------------------------------------------

    def read(self, addr: int, length: int) -> bytes:
        """Exactly `length` bytes at `addr`, or EFAULT."""
        if length == 0:
            return b""
        if addr == 0 or addr + length > 1 << 47:
            raise Errno(errno.EFAULT)
        if self.read_partial_into(addr, length) != length:
            raise Errno(errno.EFAULT)
        return bytes(self._buf_view[:length]) if length <= BUF_SIZE else self._big.raw

    def read_partial(self, addr: int, length: int) -> bytes:
        """Up to `length` bytes at `addr`, stopping at the first unreadable page."""
        if addr == 0:
            raise Errno(errno.EFAULT)
        n = self.read_partial_into(addr, length)
        return bytes(self._buf_view[:n]) if length <= BUF_SIZE else self._big.raw[:n]

    def read_partial_into(self, addr: int, length: int) -> int:
        """Copy up to `length` bytes into the bounce buffer (or, if larger, into `_big`)."""
        if length <= BUF_SIZE:
            local = self._buf_addr
        else:
            self._big = ctypes.create_string_buffer(length)
            local = ctypes.addressof(self._big)
        try:
            return self._vm.read(local, addr, length)
        except OSError as exc:
            raise Errno(errno.EFAULT if exc.errno != errno.ESRCH else errno.ESRCH) from None

    def read_cstr(self, addr: int, limit: int) -> bytes:
        """A NUL-terminated string (without the NUL); ENAMETOOLONG past `limit` bytes.

        Read in the bounce buffer, where the NUL is looked for: a short first read (most
        strings are paths of a few dozen bytes), then up to a page at a time."""
        out = b""
        want = CSTR_FIRST_READ
        while True:
            chunk_len = min(want, PAGE - (addr % PAGE))
            n = self.read_partial_into(addr, chunk_len) if addr else 0
            if not n:
                raise Errno(errno.EFAULT)
            nul = self._buf.find(b"\0", 0, n)
            out += self._buf[:nul if nul >= 0 else n]
            if len(out) >= limit:
                raise Errno(errno.ENAMETOOLONG)
            if nul >= 0:
                return out
            if n < chunk_len:
                raise Errno(errno.EFAULT)
            addr += n
            want = PAGE

    def write(self, addr: int, data: bytes) -> None:
        """Write all of `data` at `addr`, or EFAULT (honours page protections)."""
        if not data:
            return
        if addr == 0:
            raise Errno(errno.EFAULT)
        length = len(data)
        if length <= BUF_SIZE:
            self._buf_view[:length] = data
            local = self._buf_addr
        else:
            big = ctypes.create_string_buffer(data, length)
            local = ctypes.addressof(big)
        try:
            n = self._vm.write(local, addr, length)
        except OSError:
            raise Errno(errno.EFAULT) from None
        if n != length:
            raise Errno(errno.EFAULT)

    def poke_force(self, addr: int, data: bytes) -> None:
        """Write through /proc/PID/mem, which may write read-only pages."""
        fd = os.open(f"/proc/{self.pid}/mem", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.pwrite(fd, data, addr)
        finally:
            os.close(fd)

    # -- injection -------------------------------------------------------------------

    def inject(self, nr: int, *args: int) -> int:
        """Run syscall `nr(*args)` in the tracee and return its raw result (-errno on failure).

        The thread must be stopped. Its registers are left pointing at the stub; the
        caller restores `self.regs` (set_regs) before resuming the app.
        """
        regs = self._start_injection(nr, args)
        while True:
            sig, event = self._next_stop()
            if event == libc.PTRACE_EVENT_SECCOMP:
                self._verify_injected(nr, regs)
                continue
            if event:
                # PTRACE_EVENT_STOP and friends: nothing to do for a stopped injection
                self.resume()
                continue
            if sig == signal.SIGTRAP:
                result = self._int3_result()
                if result is not None:
                    return result
            # another signal arrived meanwhile: keep it for the app, suppress it now
            self.pending_signals.append(sig)
            self.resume()

    def inject_exec(self, nr: int, *args: int, wait: Callable[[], tuple[int, int]] | None = None) -> int:
        """Inject an exec call (execveat of the stub): 0 once the new image is stopped at
        the seccomp stop of its first `syscall` (as `spawn.spawn_stub` leaves a fresh
        picoprocess), or -errno if the exec failed and the old image goes on.

        In a thread group, `wait` gives this thread's stops (others are kept for later by
        the caller); the exec event of a thread other than the leader comes under the
        leader's pid, which this tracee then takes (`rebind`), as the host thread does."""
        regs = self._start_injection(nr, args)
        exec_seen = False
        while True:
            sig, event = self._next_stop(wait)
            if event == libc.PTRACE_EVENT_SECCOMP:
                if exec_seen:
                    return 0  # the stub's first syscall: a clean stop in the new image
                self._verify_injected(nr, regs)
                continue
            if event == libc.PTRACE_EVENT_EXEC:
                exec_seen = True
                self.resume()
                continue
            if event:
                self.resume()
                continue
            if sig == signal.SIGTRAP and not exec_seen:
                result = self._int3_result()
                if result is not None:
                    return result
            self.pending_signals.append(sig)
            self.resume()

    # the steps both injections share

    def _start_injection(self, nr: int, args: tuple[int, ...]) -> tuple[int, ...]:
        """Point the thread at the stub's `syscall` with `nr(*args)` and resume it; the
        argument registers are returned for `_verify_injected`."""
        s = self._scratch
        ctypes.memmove(self._scratch_addr, self.regs_addr, ctypes.sizeof(s))
        s.rip = SYSCALL_SITE
        s.orig_rax = MASK64
        s.rax = nr
        regs = tuple(int(a) & MASK64 for a in args) + (0,) * (6 - len(args))  # int(): an argument may be a flag member
        s.rdi, s.rsi, s.rdx, s.r10, s.r8, s.r9 = regs
        if libc.ptrace_raw(libc.PTRACE_SETREGS, self.pid, 0, self._scratch_ref) == -1:
            self._gone_or_raise("PTRACE_SETREGS")
        self.resume()
        return regs

    def _next_stop(self, wait: Callable[[], tuple[int, int]] | None = None) -> tuple[int, int]:
        """(signal, ptrace event) of the thread's next stop; TaskExit if it is gone."""
        pid, status = os.waitpid(self.pid, libc.WALL) if wait is None else wait()
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            raise TaskExit(self.pid)
        if pid != self.pid:
            self.rebind(pid)
        return decode_status(status)

    def rebind(self, pid: int) -> None:
        """The thread now has host pid `pid` (an exec by a non-leader thread takes the
        thread-group leader's)."""
        self.pid = pid
        self._vm = libc.VmCopier(pid)

    def _verify_injected(self, nr: int, regs: tuple[int, ...]) -> None:
        """At the filter's seccomp stop for the injected call: let it run only if it is
        the very call we injected (another thread could have rewritten the stub page)."""
        s = self._scratch
        if libc.ptrace_raw(libc.PTRACE_GETREGS, self.pid, 0, self._scratch_ref) == -1:
            self._gone_or_raise("PTRACE_GETREGS")
        if s.orig_rax != nr or s.rip != SYSCALL_SITE + 2 or (s.rdi, s.rsi, s.rdx, s.r10, s.r8, s.r9) != regs:
            self.kill()
            raise TaskExit(self.pid)  # the stub was tampered with: fail closed
        self.resume()

    def _int3_result(self) -> int | None:
        """The injected call's result if this SIGTRAP is the stub's int3 after it."""
        s = self._scratch
        if libc.ptrace_raw(libc.PTRACE_GETREGS, self.pid, 0, self._scratch_ref) == -1:
            self._gone_or_raise("PTRACE_GETREGS")
        if s.rip != AFTER_INT3:
            return None
        rax = s.rax
        return rax - (1 << 64) if rax >= 1 << 63 else rax
