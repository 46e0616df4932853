"""Syscall handlers, one module per area. `MODULES` is the explicit list the table is
built from (no import-time registration, no `import *`)."""

from . import creds, fs, io, ipc, misc, mm, net, poll, process, sched, signal, time, xattr

MODULES = (creds, fs, io, misc, mm, net, process, sched, signal, poll, time, xattr, ipc)
