"""Syscall handlers, one module per area. `MODULES` is the explicit list the table is
built from (no import-time registration, no `import *`)."""

from . import creds, fs, io, misc, mm, net, process, sched, signal, xattr

MODULES = (creds, fs, io, misc, mm, net, process, sched, signal, xattr)
