"""`NamedTuple`: typing.NamedTuple, made three times faster to create.

Pyrene's values (stat results, mounts, messages, the manifest) are named tuples, and a
`pyrene run` creates ~50 of their classes before the app starts. typing.NamedTuple
spends most of each class's creation (~0.3 ms here, ~12 ms in all) checking that every
annotation is a type, which with `from __future__ import annotations` means compiling
each annotation's string into a ForwardRef. The classes made here are the same
`collections.namedtuple` classes, with the class body's docstring, methods and
annotations (left as strings, as `typing.get_type_hints` reads them) set on them: the
one difference is that the annotations are not checked. Type checkers see
typing.NamedTuple itself, and check them.

    from ..record import NamedTuple

    class Mount(NamedTuple):
        path: str
        readonly: bool = False
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any

# what a class body may not define (typing's rules: namedtuple makes these itself)
_PROHIBITED = frozenset(("__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults",
                         "_make", "_replace", "_asdict", "_source"))
_SPECIAL = frozenset(("__module__", "__name__", "__annotations__"))


class _NamedTupleMeta(type):
    def __new__(mcls, typename: str, bases: tuple[type, ...], ns: dict[str, Any]) -> Any:  # noqa: N804
        annotations: dict[str, Any] = ns.get("__annotations__", {})
        with_default = []
        for name in annotations:
            if name in ns:
                with_default.append(name)
            elif with_default:
                raise TypeError(f"Non-default namedtuple field {name} cannot follow default field"
                                f"{'s' if len(with_default) > 1 else ''} {', '.join(with_default)}")
        cls = collections.namedtuple(typename, annotations, defaults=[ns[n] for n in with_default],
                                     module=ns["__module__"])
        cls.__annotations__ = cls.__new__.__annotations__ = dict(annotations)
        for key, value in ns.items():
            if key in _PROHIBITED:
                raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in cls._fields:
                setattr(cls, key, value)
        return cls


if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})
