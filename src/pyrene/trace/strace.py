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
from ..abi.types import InBuf, OpenMode, OutBuf, OutStruct
from ..errors import Errno
from ..kernel.table import SyscallSpec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any, Protocol, TextIO

    class Memory(Protocol):
        def read(self, addr: int, length: int) -> bytes: ...


class Strace:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def line(self, vpid: int, nr: int, spec: SyscallSpec | None, args: Any, raw: tuple[int, ...],
             result: int, mem: Memory | None = None) -> None:
        """The line of a call that has ended with `result`; `mem`, the app's memory,
        shows the bytes of buffer arguments."""
        if spec is None:
            call = f"{sysnum.name_of(nr)}({', '.join(hex(a) for a in raw[:6])})"
        elif args is None:  # decoding failed (e.g. EFAULT on a path): show the registers
            call = f"{spec.name}({', '.join(hex(a) for a in raw[:len(spec.args)])})"
        else:
            call = render_call(spec, args, mem, result)
        self.out.write(f"[pid {vpid}] {call} = {render_result(result)}\n")
        self.out.flush()

    def host_call(self, vpid: int, spec: SyscallSpec, args: Any, mem: Memory | None = None) -> None:
        """A call the handler let the host kernel run (its result is the host's)."""
        call = render_call(spec, args, mem) if args is not None else f"{spec.name}()"
        self.out.write(f"[pid {vpid}] {call} = ? (run by the host)\n")
        self.out.flush()

    def event(self, vpid: int, text: str) -> None:
        self.out.write(f"[pid {vpid}] {text}\n")
        self.out.flush()


def render_call(spec: SyscallSpec, args: Any, mem: Memory | None = None, result: int | None = None) -> str:
    rendered = []
    for i, (kind, value) in enumerate(zip(spec.args, args)):
        if kind is OpenMode and not args[i - 1] & O_MODE_USED:
            continue  # the flags before it create no file: open(2) does not read it
        if mem is not None and value and issubclass(kind, OutStruct) and result == 0:
            try:
                rendered.append(kind.render_filled(mem.read(value, kind.size)))
                continue
            except Errno:
                pass
        if mem is not None and value and kind in BUFFERS:
            # the buffer's length: the next argument for bytes handed in, the result for
            # bytes the call filled (none when it failed, or has not ended)
            length = args[i + 1] if kind is InBuf else result if result is not None and result >= 0 else None
            if length is not None:
                rendered.append(render_buffer(mem, value, length))
                continue
        rendered.append(kind.render(value))
    return f"{spec.name}({', '.join(rendered)})"


BUFFERS = (InBuf, OutBuf)
STRING_LIMIT = 32  # bytes of a buffer shown, as strace's default -s 32
ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\f"): "\\f", ord("\n"): "\\n", ord("\r"): "\\r",
           ord("\t"): "\\t", ord("\v"): "\\v"}


def render_buffer(mem: Memory, addr: int, length: int) -> str:
    """The first STRING_LIMIT of `length` bytes at `addr` as strace quotes them
    ("\\177ELF\\2\\1"...), or the address if they cannot be read."""
    try:
        data = mem.read(addr, min(length, STRING_LIMIT))
    except Errno:
        return hex(addr)
    return quote_bytes(data) + ("..." if length > len(data) else "")


def quote_bytes(data: bytes) -> str:
    """`data` in double quotes with C escapes: octal for what is not printable, three
    digits only before an octal digit, so that the text reads back the same."""
    out = []
    for i, byte in enumerate(data):
        if byte in ESCAPES:
            out.append(ESCAPES[byte])
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        elif i + 1 < len(data) and 0x30 <= data[i + 1] <= 0x37:
            out.append(f"\\{byte:03o}")
        else:
            out.append(f"\\{byte:o}")
    return '"' + "".join(out) + '"'


def render_result(result: int) -> str:
    if -4096 < result < 0:
        code = -result
        return f"-1 {errno.errorcode.get(code, str(code))} ({os.strerror(code)})"
    if result > 0xFFFF:
        return hex(result)
    return str(result)
