"""Syscall handlers, one module per area. `MODULES` is the explicit list the table is
built from (no import-time registration, no `import *`)."""

from . import fs, io, ipc, misc, mm, net, process, signal, xattr

MODULES = (fs, io, ipc, misc, mm, net, process, signal, xattr)
