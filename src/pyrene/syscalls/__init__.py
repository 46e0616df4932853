"""Syscall handlers, one module per area. `MODULES` is the explicit list the table is
built from (no import-time registration, no `import *`)."""

from . import fs, io, ipc, misc, mm, net, poll, process, signal, time, xattr

MODULES = (fs, io, misc, mm, net, process, signal, poll, time, xattr, ipc)
