"""The pickle half of ipc/messages.py's codec: SharedCall and SharedReply, whose values
may be System V objects (ipc/sysv.py's dataclasses), which marshal cannot carry.

Decoding builds only the classes of `messages.MESSAGES` and the System V values
(`_Unpickler.find_class`).
"""

from __future__ import annotations

import io
import pickle

from .messages import MESSAGES, SYSV_MODULE, SYSV_VALUES


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        cls = MESSAGES.get(name)
        if cls is None and module == SYSV_MODULE and name in SYSV_VALUES:
            from . import sysv
            cls = getattr(sysv, name)
        if cls is None or module != cls.__module__:
            raise pickle.UnpicklingError(f"not a Pyrene message: {module}.{name}")
        return cls


def dumps(msg: tuple[object, ...]) -> bytes:
    return pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes | memoryview) -> object:
    return _Unpickler(io.BytesIO(data)).load()
