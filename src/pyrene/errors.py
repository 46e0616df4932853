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
