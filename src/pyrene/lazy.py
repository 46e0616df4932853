"""Modules imported on first use.

Every `pyrene run` pays, before the app starts, for each module it imports, and a
dataclass costs about a millisecond to create. Subsystems most programs never touch
(System V IPC, the leader's table of locks and IPC objects) are bound with
`lazy_module`: the name is there at once, the module's code runs at its first attribute
access. An instance forked before that first use imports it for itself.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module `name` (absolute), loaded when first used (importlib.util.LazyLoader)."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
