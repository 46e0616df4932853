"""Logging: the "pyrene.*" logger tree with Gramine's level names plus TRACE.

Modules take `log = get_logger("pyrene.<area>")`: a `Logger` with the methods of
`logging.Logger` that Pyrene uses. It imports `logging` at the first record that passes
the level `setup` chose, not before. `logging` brings traceback, linecache, tokenize,
textwrap, string and threading with it (~9 ms, a tenth of `pyrene run /bin/true`), and
a run that logs nothing (the default level is error) never needs them.

Until `setup` runs (Pyrene used as a library, the tests), a `Logger` asks the real
`logging.getLogger(name)` for everything, so the host program's logging configuration
(pytest's caplog, say) sees every record as usual.
"""

from __future__ import annotations

import sys

from .errors import PyreneError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    import logging
    from typing import TextIO

TRACE = 5
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50

LEVELS = {
    "none": CRITICAL + 10,
    "error": ERROR,
    "warning": WARNING,
    "debug": DEBUG,
    "trace": TRACE,
    "all": 1,
}


class _Sink:
    """What `setup` chose: the level, and where records go (None: stderr). `level` None
    means setup has not run and the real loggers decide."""

    __slots__ = ("level", "stream", "configured")

    def __init__(self) -> None:
        self.level: int | None = None
        self.stream: TextIO | None = None
        self.configured = False


# One per process, like logging's own tree of loggers (which it stands in front of); a
# forked instance inherits its leader's.
_sink = _Sink()


def _real(name: str) -> logging.Logger:
    """logging's logger `name`, the "pyrene" handler made first if setup asked for one."""
    import logging

    if not _sink.configured and _sink.level is not None:
        _sink.configured = True
        logging.addLevelName(TRACE, "TRACE")
        logger = logging.getLogger("pyrene")
        logger.handlers.clear()
        handler = logging.StreamHandler(_sink.stream or sys.stderr)
        handler.setFormatter(logging.Formatter("pyrene %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(_sink.level)
        logger.propagate = False
    return logging.getLogger(name)


class Logger:
    """A "pyrene.*" logger that costs nothing until a record passes the level."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 (logging's name)
        if _sink.level is None:
            return _real(self.name).isEnabledFor(level)
        return level >= _sink.level

    def log(self, level: int, msg: str, *args: object, exc_info: bool = False) -> None:
        if self.isEnabledFor(level):
            _real(self.name).log(level, msg, *args, exc_info=exc_info)

    def debug(self, msg: str, *args: object) -> None:
        self.log(DEBUG, msg, *args)

    def warning(self, msg: str, *args: object) -> None:
        self.log(WARNING, msg, *args)

    def error(self, msg: str, *args: object) -> None:
        self.log(ERROR, msg, *args)

    def exception(self, msg: str, *args: object) -> None:
        """An error with the traceback of the exception being handled."""
        self.log(ERROR, msg, *args, exc_info=True)


def get_logger(name: str) -> Logger:
    return Logger(name)


def setup(level: str = "warning", log_file: str | None = None) -> None:
    """Send "pyrene" records at `level` and above to stderr or `log_file`, never stdout.
    The file is opened now (an unusable one fails before the app starts); the handler is
    made at the first record."""
    _sink.level = LEVELS[level]
    try:
        _sink.stream = open(log_file, "a", buffering=1) if log_file else None  # noqa: SIM115
    except OSError as exc:
        raise PyreneError(f"pyrene: cannot open log file {log_file}: {exc.strerror}", 2) from None
    _sink.configured = False


def shutdown() -> None:
    """Flush and close the handlers, if anything was logged (logging.shutdown)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()  # type: ignore[attr-defined]


def flush_stdio() -> None:
    """Flush stdout and stderr before os._exit (which would lose what they buffer)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what was left is lost either way
            pass
