"""Syscall handlers, one module per area, named explicitly here (no import-time
registration, no `import *`).

`FIRST` serve what every program's start makes (ld.so and libc: openat, read, fstat,
mmap, close, arch_prctl, set_tid_address, prlimit64, exit_group; `ipc` because execve
detaches System V memory): a `pyrene run` builds its table from them alone. `LATER`
(sockets, epoll, timers, signals, scheduling, xattrs) are imported at the first syscall
those do not serve, or before the first fork (`SyscallTable.complete`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

FIRST = ("creds", "fs", "io", "ipc", "misc", "mm", "process")
LATER = ("net", "poll", "sched", "signal", "time", "xattr")


def load(names: tuple[str, ...]) -> list[ModuleType]:
    """The handler modules `names` (of FIRST and LATER), imported."""
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def load_later() -> list[ModuleType]:
    return load(LATER)


def all_modules() -> list[ModuleType]:
    """Every handler module: for `pyrene syscalls` and the tests."""
    return load(FIRST + LATER)
