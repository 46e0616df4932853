"""`#!` scripts: the interpreter line, parsed as Linux does (fs/binfmt_script.c).

The line is at most 255 bytes after `#!`; the interpreter is the first word and
everything after it (trimmed) is ONE optional argument. The new argv is
[interpreter, (arg), script path as given to execve, argv[1:]...].
"""

from __future__ import annotations

import errno

from ..errors import Errno

MAX_RECURSION = 4  # BINPRM_MAX_RECURSION: nested interpreters
LINE_MAX = 256


def parse_shebang(head: bytes) -> tuple[str, str | None]:
    if not head.startswith(b"#!"):
        raise Errno(errno.ENOEXEC)
    line = head[2:LINE_MAX].split(b"\n", 1)[0]
    line = line.replace(b"\t", b" ").strip(b" ")
    if not line:
        raise Errno(errno.ENOEXEC, "empty #! line")
    interp, _, arg = line.partition(b" ")
    arg = arg.strip(b" ")
    return interp.decode("utf-8", "surrogateescape"), (arg.decode("utf-8", "surrogateescape") or None)


def script_argv(interp: str, arg: str | None, path: str, argv: list[str]) -> list[str]:
    return [interp] + ([arg] if arg else []) + [path] + argv[1:]
