"""strace-like lines rendered from the handlers' argument types.

    [pid 1] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
    [pid 1] openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)

Rendering happens only for syscalls in the traced set, after the call, so tracing costs
nothing when it is off.
"""

from __future__ import annotations

import errno
import os
from typing import Any, TextIO

from ..abi import sysnum
from ..kernel.table import SyscallSpec


class Strace:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def line(self, vpid: int, nr: int, spec: SyscallSpec | None, args: Any, raw: tuple[int, ...], result: int,
             note: str = "") -> None:
        if spec is None:
            shown = ", ".join(hex(a) for a in raw[:6])
            name = sysnum.name_of(nr)
        else:
            name = spec.name
            if args is None:
                shown = ", ".join(hex(a) for a in raw[:len(spec.args)])
            else:
                shown = ", ".join(t.render(v) for t, v in zip(spec.args, args))
        self.out.write(f"[pid {vpid}] {name}({shown}) = {render_result(result)}{note}\n")
        self.out.flush()

    def event(self, vpid: int, text: str) -> None:
        self.out.write(f"[pid {vpid}] {text}\n")
        self.out.flush()


def render_result(result: int) -> str:
    if -4096 < result < 0:
        code = -result
        return f"-1 {errno.errorcode.get(code, str(code))} ({os.strerror(code)})"
    if result > 0xFFFF:
        return hex(result)
    return str(result)
