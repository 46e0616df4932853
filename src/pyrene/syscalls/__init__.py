"""Syscall handlers, one module per area. `MODULES` is the explicit list the table is
built from (no import-time registration, no `import *`)."""

from . import fs, io, misc, mm, poll, process, signal, time

MODULES = (fs, io, misc, mm, process, signal, poll, time)
