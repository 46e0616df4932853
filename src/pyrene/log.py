"""Logging: the "pyrene.*" logger tree with Gramine's level names plus TRACE."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

LEVELS = {
    "none": logging.CRITICAL + 10,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "debug": logging.DEBUG,
    "trace": TRACE,
    "all": 1,
}


def flush_stdio() -> None:
    """Flush stdout and stderr before os._exit (which would lose what they buffer)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what was left is lost either way
            pass


def setup(level: str = "warning", log_file: str | None = None) -> logging.Logger:
    """Configure the "pyrene" logger; messages go to stderr or `log_file`, never stdout."""
    logger = logging.getLogger("pyrene")
    logger.handlers.clear()
    stream: TextIO = open(log_file, "a", buffering=1) if log_file else sys.stderr  # noqa: SIM115
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("pyrene %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(LEVELS[level])
    logger.propagate = False
    return logger
