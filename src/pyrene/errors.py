"""Exceptions that cross layers.

`Errno` is how every layer below the dispatcher says "this syscall fails with errno E";
the dispatcher is the only place that turns it into `-E`. Control flow that is not an
error has its own types. Anything else raised by a handler is a Pyrene bug: it is
logged with a traceback and the sandbox fails closed.
"""

from __future__ import annotations

import errno as _errno
import os


class Errno(Exception):
    """A syscall failure carrying a Linux errno (and, for the debug log, a reason)."""

    __slots__ = ("errno", "reason")

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.errno = code
        self.reason = reason

    def __str__(self) -> str:
        name = _errno.errorcode.get(self.errno, str(self.errno))
        return f"{name} ({self.reason})" if self.reason else name

    @classmethod
    def from_oserror(cls, exc: OSError) -> "Errno":
        """Translate a host OSError once, at the PAL boundary."""
        return cls(exc.errno or _errno.EIO, exc.strerror or "")


class RunOnHost(Exception):
    """Let the host kernel execute the trapped syscall as the app issued it.

    Used by handlers for calls whose effect is confined to the app process itself
    (exit_group, arch_prctl(ARCH_SET_FS), ...). `post`, if given, sees the host result
    and returns the value the app gets (e.g. a virtual tid instead of a host one).
    """

    __slots__ = ("post",)

    def __init__(self, post=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.post = post


class TaskExit(Exception):
    """The task is gone (its process exited or was killed while we served it)."""


class PyreneError(Exception):
    """A user-facing failure of Pyrene itself: printed as one line, exits with `status`."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class HostError(OSError):
    """A failed host call in the platform layer (ptrace, process_vm_*...)."""

    @classmethod
    def from_errno(cls, code: int, what: str) -> "HostError":
        return cls(code, f"{what}: {os.strerror(code)}")


class Blocked(Exception):
    """A shared-state operation (a lock, System V IPC: ipc/shared.py) must wait.

    Nothing was changed: the caller parks and retries the same call from the top. A
    semop that blocks says on what: Blocked("semaphore", sem_num, sem_op).
    """


class WouldBlock(Exception):
    """Park the task: the syscall must wait (DESIGN.md decision 6; kernel/waits.py).

    The dispatcher leaves the task in its seccomp stop and the instance's event loop runs
    the handler again from the top when one of `fds` is ready (host fds with poll(2)
    events: the file's data lives behind them), when `deadline` (time.monotonic_ns) has
    passed, or completes the call itself when a signal interrupts it. `restartable` says
    how a signal with a handler ends the wait: True is Linux's ERESTARTSYS (re-run after
    the handler if it has SA_RESTART, else EINTR), False is ERESTARTNOHAND (always EINTR:
    poll, select, epoll_wait, nanosleep). `on_eintr` runs before EINTR is returned (to
    write back the time left); `sigmask`, if given, replaces the thread's signal mask in
    deciding which signals interrupt (ppoll, pselect6, epoll_pwait). `wake` also runs the
    handler again whenever another instance wakes this one (`Waits.wake_instance`): for
    waits on state shared across processes (locks, System V IPC) that no host fd shows.
    `progress` is what the call has done before it parked (bytes of a blocking pipe
    write): the re-run goes on from there (`Waits.progress`), and a signal ends the call
    with it, not EINTR.
    """

    __slots__ = ("fds", "deadline", "restartable", "on_eintr", "sigmask", "wake", "progress")

    def __init__(self, fds: tuple[tuple[int, int], ...] = (), deadline: int | None = None, *,
                 restartable: bool = True, on_eintr=None, sigmask: int | None = None,  # type: ignore[no-untyped-def]
                 wake: bool = False, progress: int = 0) -> None:
        super().__init__()
        self.fds = fds
        self.deadline = deadline
        self.restartable = restartable
        self.on_eintr = on_eintr
        self.sigmask = sigmask
        self.wake = wake
        self.progress = progress
