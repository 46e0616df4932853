"""strace-like lines rendered from the handlers' argument types.

    [pid 1] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
    [pid 1] openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)

Rendering happens only for syscalls in the traced set, after the call, so tracing costs
nothing when it is off.
"""

from __future__ import annotations

import errno
import os

from ..abi import sysnum
from ..abi.flags import O_MODE_USED
from ..kernel.table import SyscallSpec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any, TextIO


# open and openat: where their flags are (strace shows the mode only when they use it)
OPEN_FLAGS_INDEX = {"open": 1, "openat": 2}


class Strace:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def line(self, vpid: int, nr: int, spec: SyscallSpec | None, args: Any, raw: tuple[int, ...],
             result: int) -> None:
        if spec is None:
            call = f"{sysnum.name_of(nr)}({', '.join(hex(a) for a in raw[:6])})"
        elif args is None:  # decoding failed (e.g. EFAULT on a path): show the registers
            call = f"{spec.name}({', '.join(hex(a) for a in raw[:len(spec.args)])})"
        else:
            call = render_call(spec, args)
        self.out.write(f"[pid {vpid}] {call} = {render_result(result)}\n")
        self.out.flush()

    def host_call(self, vpid: int, spec: SyscallSpec, args: Any) -> None:
        """A call the handler let the host kernel run (its result is the host's)."""
        call = render_call(spec, args) if args is not None else f"{spec.name}()"
        self.out.write(f"[pid {vpid}] {call} = ? (run by the host)\n")
        self.out.flush()

    def event(self, vpid: int, text: str) -> None:
        self.out.write(f"[pid {vpid}] {text}\n")
        self.out.flush()


def render_call(spec: SyscallSpec, args: Any) -> str:
    shown = len(spec.args)
    flags_at = OPEN_FLAGS_INDEX.get(spec.name)
    if flags_at is not None and not args[flags_at] & O_MODE_USED:
        shown -= 1  # the mode, last, which open(2) reads only to create a file
    return f"{spec.name}({', '.join(t.render(v) for t, v in zip(spec.args[:shown], args))})"


def render_result(result: int) -> str:
    if -4096 < result < 0:
        code = -result
        return f"-1 {errno.errorcode.get(code, str(code))} ({os.strerror(code)})"
    if result > 0xFFFF:
        return hex(result)
    return str(result)
