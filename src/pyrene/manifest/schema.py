"""Typed manifest values: what a Gramine-style manifest (plus Pyrene's own `pyrene.*`
keys) grants and configures. `load.py` builds these from TOML; `default.py` builds the
embedded default; `sandbox.py` turns them into mounts, an environment and credentials."""

from __future__ import annotations

from ..record import NamedTuple

# The values are NamedTuples, not frozen dataclasses: every `pyrene run` makes these
# classes, and a dataclass of Manifest's size costs milliseconds to create.

FILE_CHECK_POLICIES = ("strict", "allow_all_but_log")


class MountSpec(NamedTuple):
    """One mount: `type` is chroot (the host path `uri`), tmpfs, proc, dev or encrypted
    (declared only: refused before anything runs)."""

    path: str
    type: str
    uri: str = ""
    readonly: bool = False
    key: str = ""  # where it came from, e.g. "fs.mounts[2]" or "--mount", for messages


class TrustedFile(NamedTuple):
    """An sgx.trusted_files entry: a host path (a directory when it ends with '/'),
    read-only, whose SHA-256 must match when opened. sha256 None: measured at start."""

    path: str
    sha256: str | None = None


class EnvVar(NamedTuple):
    """loader.env.NAME: a fixed value, or the host's value (passthrough)."""

    name: str
    value: str | None  # None: passthrough


class Manifest(NamedTuple):
    mounts: tuple[MountSpec, ...]
    entrypoint: str | None = None  # libos.entrypoint; None: the command line names the program
    argv: tuple[str, ...] | None = None  # loader.argv
    use_cmdline_argv: bool = True  # loader.insecure__use_cmdline_argv
    use_host_env: bool = True
    env: tuple[EnvVar, ...] = ()
    start_dir: str | None = None  # None: the current directory
    uid: int | None = None  # None: the host user's
    gid: int | None = None
    fd_limit: int = 1024
    stack_size: int | None = None  # sys.stack.size, bytes; None: Linux's 8M
    brk_max_size: int | None = None  # sys.brk.max_size (stored; brk runs natively)
    sigterm_injection: bool = False  # sys.enable_sigterm_injection (Pyrene always forwards)
    disallow_subprocesses: bool = False
    trusted_files: tuple[TrustedFile, ...] = ()
    allowed_files: tuple[str, ...] = ()  # host paths; a trailing '/' allows a whole tree
    file_check_policy: str = "strict"
    log_level: str = "error"
    log_file: str | None = None
    cpu: int | None = None  # pyrene.cpu
    dev_pts: bool = False  # pyrene.dev.pts: /dev/ptmx opens new host ptys
    max_processes: int = 256  # pyrene.max_processes: live app processes at once
    source: str = "<default>"  # the manifest's file name, for messages

    @property
    def checks_files(self) -> bool:
        """Gramine checks files only when trusted or allowed files are listed."""
        return bool(self.trusted_files or self.allowed_files)
