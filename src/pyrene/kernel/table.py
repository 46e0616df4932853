"""The syscall table: handlers declared with their Linux name and argument types.

    @syscall("openat", DirFd, Path, OpenFlagsArg, Mode, ret=Fd)
    def openat(t, dirfd, path, flags, mode): ...

The decorator only attaches a `SyscallSpec` to the function; `SyscallTable.build`
collects the specs of the modules listed in `syscalls/__init__.py` into a list indexed by
syscall number (numbers come from the generated `abi.sysnum`, never typed by hand). The
same spec drives argument decoding, strace rendering and `pyrene syscalls`.

A table may start with only the handler modules a program's start needs, and a loader
for the rest (`later`): `complete()` imports them and fills their entries in place, so
the hot path stays one list index, and only a call that finds no entry
(`lookup_after_complete`) or a fork (kernel/fork.py) pays for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

from ..abi import sysnum
from ..abi.types import ArgType, Long
from ..record import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any

FULL, PARTIAL = "full", "partial"


class SyscallSpec(NamedTuple):
    name: str
    number: int
    handler: Callable[..., int]
    args: tuple[type[ArgType], ...]
    ret: type[ArgType]
    support: str
    note: str
    # decode functions, precomputed for the hot path
    decoders: tuple[Callable[[Any, int], Any], ...]


def syscall(name: str, *args: type[ArgType], ret: type[ArgType] = Long, support: str = FULL,
            note: str = "") -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Declare `fn` as the handler of syscall `name` (see module docstring)."""
    if name not in sysnum.BY_NAME:
        raise ValueError(f"unknown syscall {name!r}")

    def register(fn: Callable[..., int]) -> Callable[..., int]:
        spec = SyscallSpec(name, sysnum.BY_NAME[name], fn, args, ret, support, note,
                           tuple(a.decode for a in args))
        specs = list(getattr(fn, "__syscalls__", ()))
        specs.append(spec)
        fn.__syscalls__ = tuple(specs)  # type: ignore[attr-defined]
        return fn

    return register


class SyscallTable:
    """Handlers indexed by syscall number; `None` where Pyrene has no handler (ENOSYS)."""

    def __init__(self, specs: Iterable[SyscallSpec],
                 later: Callable[[], Iterable[ModuleType]] | None = None) -> None:
        self.entries: list[SyscallSpec | None] = [None] * (sysnum.MAX_NR + 1)
        self._add(specs)
        self._later = later  # imports the handler modules not in the table yet

    @classmethod
    def build(cls, modules: Iterable[ModuleType],
              later: Callable[[], Iterable[ModuleType]] | None = None) -> "SyscallTable":
        return cls(_specs_of(modules), later)

    def _add(self, specs: Iterable[SyscallSpec]) -> None:
        for spec in specs:
            if self.entries[spec.number] is not None:
                raise ValueError(f"two handlers for {spec.name}")
            self.entries[spec.number] = spec

    def complete(self) -> None:
        """Import the handler modules left for later, if any, and add their entries."""
        later, self._later = self._later, None
        if later is not None:
            self._add(_specs_of(later()))

    def lookup_after_complete(self, nr: int) -> SyscallSpec | None:
        """The entry for `nr` once every handler module is in: for a call that found none."""
        self.complete()
        return self.entries[nr] if 0 <= nr < len(self.entries) else None

    def specs(self) -> list[SyscallSpec]:
        return [s for s in self.entries if s is not None]


def _specs_of(modules: Iterable[ModuleType]) -> list[SyscallSpec]:
    specs = []
    for module in modules:
        for value in vars(module).values():
            if not isinstance(value, ModuleType):  # (asking a lazy module would load it)
                specs.extend(getattr(value, "__syscalls__", ()))
    return specs
