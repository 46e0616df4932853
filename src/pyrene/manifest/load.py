"""Reading a TOML manifest (Gramine's keys plus `pyrene.*`) into a typed `Manifest`.

Every problem is reported as one line that names the file, the dotted key path and what
was expected (`pyrene: app.manifest: fs.mounts[1].path: expected an absolute path, got
"data"`); a TOML syntax error names file:line:column. Unknown keys are warned about by
their full dotted path; SGX-only keys are accepted and ignored with a debug line.

A manifest file gets Gramine's defaults, not those of Pyrene's embedded manifest: no
host environment, uid/gid 0, `/` is the host's current directory unless `fs.root` says
otherwise, the start directory is `/`. Pyrene adds `/proc` and `/dev` (Gramine has
them built in) unless `pyrene.proc` / `pyrene.dev` are false; `pyrene.dev.pts = true`
adds /dev/ptmx.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable

from ..errors import PyreneError
from ..log import LEVELS, get_logger
from ..record import NamedTuple
from .schema import FILE_CHECK_POLICIES, EnvVar, Manifest, MountSpec, TrustedFile

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

log = get_logger("pyrene.manifest")

SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
SIZE_RE = re.compile(r"\s*(\d+)\s*([KMGT]?)B?\s*", re.IGNORECASE)
# Gramine keys Pyrene knows and does not implement: warned about as such, not as typos
UNSUPPORTED_GRAMINE_KEYS = {
    "loader.argv_src_file", "loader.env_src_file", "loader.insecure__disable_aslr", "loader.preload",
    "libos.check_invalid_pointers", "sys.insecure__allow_eventfd", "sys.experimental__enable_flock",
    "sys.enable_extra_runtime_domain_names_conf", "fs.insecure__keys", "loader.pal_internal_mem_size",
}
IGNORED_KEYS = {"loader.entrypoint"}  # Gramine's PAL -> LibOS binary: Pyrene is its own LibOS


class ManifestError(PyreneError):
    """A manifest that cannot be used: one line naming the file and the key; exit 2."""

    def __init__(self, source: str, key: str, message: str) -> None:
        where = f"{source}: {key}" if key else source
        super().__init__(f"pyrene: {where}: {message}", 2)
        self.source = source
        self.key = key


class LoadResult(NamedTuple):
    manifest: Manifest
    warnings: list[str]


def describe(value: object) -> str:
    """A TOML-ish rendering of a value for messages."""
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def parse_size(text: str) -> int:
    """Gramine's size strings: "4096", "256K", "1M", "4G" (binary units); ValueError if not."""
    m = SIZE_RE.fullmatch(text)
    if m is None:
        raise ValueError(text)
    return int(m.group(1)) * SIZE_UNITS[m.group(2).upper()]


def uri_to_path(uri: str, cwd: str) -> str:
    """`file:/host/path` -> the host path (relative ones from the host's cwd, as Gramine)."""
    if not uri.startswith("file:"):
        raise ValueError(uri)
    path = uri[len("file:"):]
    if not path:
        raise ValueError(uri)
    trailing = path.endswith("/") and path != "/"
    path = posixpath.normpath(posixpath.join(cwd, path))
    return path + "/" if trailing else path


class Reader:
    """Takes typed values out of the parsed TOML; what is left at the end is unknown."""

    def __init__(self, data: dict[str, Any], source: str, cwd: str) -> None:
        self.data = data
        self.source = source
        self.cwd = cwd
        self.warnings: list[str] = []

    def unknown(self, key: str, expected: str) -> None:
        self.warnings.append(f"pyrene: {self.source}: {key}: unknown key (expected {expected}), ignored")

    def fail(self, key: str, message: str) -> ManifestError:
        return ManifestError(self.source, key, message)

    def pop(self, key: str) -> Any:
        """Remove and return the value at dotted `key` (None when absent)."""
        node: Any = self.data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return None
            if not isinstance(node, dict):
                raise self.fail(".".join(parts[:i + 1]), f"expected a table, got {describe(node)}")
        return node.pop(parts[-1], None) if isinstance(node, dict) else None

    def typed(self, key: str, value: Any, kind: type[T], what: str) -> T:
        # bool is an int in Python, never in TOML
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"expected {what}, got {describe(value)}")
        return value

    def get(self, key: str, kind: type[T], what: str, default: T) -> T:
        value = self.pop(key)
        return default if value is None else self.typed(key, value, kind, what)

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.pop(key)
        return default if value is None else self.typed(key, value, str, "a string")

    def boolean(self, key: str, default: bool = False) -> bool:
        return self.get(key, bool, "true or false", default)

    def natural(self, key: str, value: Any) -> int:
        n = self.typed(key, value, int, "a non-negative integer")
        if n < 0:
            raise self.fail(key, f"expected a non-negative integer, got {n}")
        return n

    def size(self, key: str) -> int | None:
        value = self.pop(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        try:
            return parse_size(self.typed(key, value, str, 'a size like "256K", "1M" or "4G"'))
        except ValueError:
            raise self.fail(key, f'expected a size like "256K", "1M" or "4G", got {describe(value)}') from None

    def abs_path(self, key: str, value: Any) -> str:
        path = self.typed(key, value, str, "an absolute path")
        if not path.startswith("/"):
            raise self.fail(key, f"expected an absolute path, got {describe(path)}")
        return posixpath.normpath(path)

    def host_path(self, key: str, value: Any) -> str:
        uri = self.typed(key, value, str, 'a "file:" URI')
        try:
            return uri_to_path(uri, self.cwd)
        except ValueError:
            raise self.fail(key, f'expected a "file:" URI, got {describe(uri)}') from None

    def string_list(self, key: str, check: Callable[[str, Any], T]) -> tuple[T, ...]:
        value = self.pop(key)
        if value is None:
            return ()
        items = self.typed(key, value, list, "an array")
        return tuple(check(f"{key}[{i}]", item) for i, item in enumerate(items))


def load_file(path: str, cwd: str | None = None) -> LoadResult:
    """Read and validate the manifest at `path`."""
    source = path
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as exc:
        raise ManifestError(source, "", f"cannot read: {exc.strerror}") from None
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(source, "", f"not UTF-8 text (byte {exc.start})") from None
    return load_string(decoded, source, cwd)


def load_string(text: str, source: str = "<manifest>", cwd: str | None = None) -> LoadResult:
    import tomllib  # here: `pyrene run` without a manifest never parses TOML

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(source, str(exc), text) from None
    return from_dict(data, source, cwd or os.getcwd())


def syntax_error(source: str, message: str, text: str) -> ManifestError:
    """`file:line:col: invalid TOML: ...` from tomllib's "... (at line L, column C)" or
    "... (at end of document)" (then the last line)."""
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if m is not None:
        return ManifestError(f"{source}:{m.group(1)}:{m.group(2)}", "", f"invalid TOML: {message[:m.start()]}")
    m = re.search(r"\s*\(at end of document\)$", message)
    if m is not None:
        where = f"{source}:{text.count(chr(10)) + 1}:{len(text) - text.rfind(chr(10))}"
        return ManifestError(where, "", f"invalid TOML at end of file: {message[:m.start()]}")
    return ManifestError(source, "", f"invalid TOML: {message}")


def from_dict(data: dict[str, Any], source: str, cwd: str) -> LoadResult:
    r = Reader(data, source, cwd)

    entrypoint = r.string("libos.entrypoint")
    if entrypoint is None:
        raise r.fail("libos.entrypoint", "missing: the program to run (a path inside the sandbox)")
    if not entrypoint:
        raise r.fail("libos.entrypoint", "expected a path, got an empty string")

    use_cmdline_argv = r.boolean("loader.insecure__use_cmdline_argv")
    argv_value = r.pop("loader.argv")
    argv = None
    if argv_value is not None:
        items = r.typed("loader.argv", argv_value, list, "an array of strings")
        argv = tuple(r.typed(f"loader.argv[{i}]", a, str, "a string") for i, a in enumerate(items))
        if use_cmdline_argv:
            raise r.fail("loader.argv", "cannot be combined with loader.insecure__use_cmdline_argv = true")

    env = read_env(r)
    use_host_env = r.boolean("loader.insecure__use_host_env")
    uid = r.pop("loader.uid")
    gid = r.pop("loader.gid")
    log_level = r.string("loader.log_level", "error")
    assert log_level is not None
    if log_level not in LEVELS:
        raise r.fail("loader.log_level", f"expected one of {', '.join(LEVELS)}, got {describe(log_level)}")
    log_file = r.string("loader.log_file")

    mounts = read_mounts(r)
    start_dir = r.pop("fs.start_dir")

    fds = r.pop("sys.fds.limit")
    fd_limit = 1024 if fds is None else r.natural("sys.fds.limit", fds)
    if fd_limit < 3:
        raise r.fail("sys.fds.limit", f"expected at least 3 (stdin, stdout, stderr), got {fd_limit}")
    stack_size = r.size("sys.stack.size")
    if stack_size is not None and stack_size < 16 << 10:
        raise r.fail("sys.stack.size", f"expected at least 16K, got {stack_size} bytes")
    brk_max_size = r.size("sys.brk.max_size")
    sigterm = r.boolean("sys.enable_sigterm_injection")
    no_subprocesses = r.boolean("sys.disallow_subprocesses")

    trusted = read_trusted(r)
    allowed = r.string_list("sgx.allowed_files", r.host_path)
    policy = r.string("sgx.file_check_policy", "strict")
    if policy not in FILE_CHECK_POLICIES:
        raise r.fail("sgx.file_check_policy", f"expected one of {', '.join(FILE_CHECK_POLICIES)}, got "
                                              f"{describe(policy)}")

    cpu = r.pop("pyrene.cpu")
    if cpu is not None:
        cpu = r.natural("pyrene.cpu", cpu)
    max_processes = r.pop("pyrene.max_processes")
    max_processes = 256 if max_processes is None else r.natural("pyrene.max_processes", max_processes)
    if max_processes < 1:
        raise r.fail("pyrene.max_processes", "expected at least 1 (the first process), got 0")
    if r.boolean("pyrene.proc", True):
        mounts.append(MountSpec("/proc", "proc", key="pyrene.proc"))
    dev, dev_pts = read_dev(r)
    if dev:
        mounts.append(MountSpec("/dev", "dev", key="pyrene.dev"))
    readonly = r.string_list("pyrene.readonly", r.abs_path)
    mount_paths = [m.path for m in mounts]
    for i, path in enumerate(readonly):
        if path not in mount_paths:
            raise r.fail(f"pyrene.readonly[{i}]", f"expected the path of a mount, got {describe(path)} "
                                                   f"(mounts: {', '.join(mount_paths)})")
    mounts = [m if m.path not in readonly else _readonly(m) for m in mounts]

    manifest = Manifest(
        mounts=tuple(mounts), entrypoint=entrypoint, argv=argv, use_cmdline_argv=use_cmdline_argv,
        use_host_env=use_host_env, env=env,
        start_dir="/" if start_dir is None else r.abs_path("fs.start_dir", start_dir),
        uid=0 if uid is None else r.natural("loader.uid", uid),
        gid=0 if gid is None else r.natural("loader.gid", gid),
        fd_limit=fd_limit, stack_size=stack_size, brk_max_size=brk_max_size, sigterm_injection=sigterm,
        disallow_subprocesses=no_subprocesses, trusted_files=trusted, allowed_files=allowed,
        file_check_policy=policy, log_level=log_level, log_file=log_file, cpu=cpu, dev_pts=dev_pts,
        max_processes=max_processes,
        source=source,
    )
    return LoadResult(manifest, r.warnings + leftovers(data, source))


def read_dev(r: Reader) -> tuple[bool, bool]:
    """pyrene.dev: true or false, or a table of /dev grants (`pyrene.dev.pts = true`),
    which mounts /dev; TOML cannot give the key both a value and subkeys."""
    pyrene = r.data.get("pyrene")
    if isinstance(pyrene, dict) and isinstance(pyrene.get("dev"), dict):
        return True, r.boolean("pyrene.dev.pts")
    return r.get("pyrene.dev", bool, "true, false or a table of /dev grants (pyrene.dev.pts)", True), False


def _readonly(m: MountSpec) -> MountSpec:
    return MountSpec(m.path, m.type, m.uri, True, m.key)


def read_env(r: Reader) -> tuple[EnvVar, ...]:
    table = r.pop("loader.env")
    if table is None:
        return ()
    table = r.typed("loader.env", table, dict, "a table of variables")
    out = []
    for name, spec in table.items():
        key = f"loader.env.{name}"
        if not name or "=" in name:
            raise r.fail(key, "expected a variable name without '='")
        if isinstance(spec, str):
            out.append(EnvVar(name, spec))
            continue
        spec = r.typed(key, spec, dict, 'a string, { value = "..." } or { passthrough = true }')
        for extra in sorted(set(spec) - {"value", "passthrough"}):
            r.unknown(f"{key}.{extra}", "value or passthrough")
        if "value" in spec and "passthrough" in spec:
            raise r.fail(key, "expected either value or passthrough, not both")
        if "value" in spec:
            out.append(EnvVar(name, r.typed(f"{key}.value", spec["value"], str, "a string")))
        elif "passthrough" in spec:
            if not r.typed(f"{key}.passthrough", spec["passthrough"], bool, "true"):
                raise r.fail(f"{key}.passthrough", "passthrough = false is not allowed (deny lists are "
                                                   "insecure; just leave the variable out)")
            out.append(EnvVar(name, None))
        else:
            raise r.fail(key, 'expected { value = "..." } or { passthrough = true }, got an empty table')
    return tuple(out)


def read_mount(r: Reader, key: str, entry: Any, path: str | None = None) -> MountSpec:
    entry = r.typed(key, entry, dict, "a table { path, uri, type }")
    entry = dict(entry)
    mtype = entry.pop("type", "chroot")
    mtype = r.typed(f"{key}.type", mtype, str, "a string")
    if mtype not in ("chroot", "tmpfs", "encrypted"):
        raise r.fail(f"{key}.type", f'expected "chroot", "tmpfs" or "encrypted", got {describe(mtype)}')
    if path is None:
        if "path" not in entry:
            raise r.fail(f"{key}.path", "missing: the absolute path inside the sandbox")
        path = r.abs_path(f"{key}.path", entry.pop("path"))
    elif "path" in entry:
        raise r.fail(f"{key}.path", "not allowed here: fs.root is always mounted at /")
    uri = entry.pop("uri", None)
    host = ""
    if mtype in ("chroot", "encrypted"):
        if uri is None:
            raise r.fail(f"{key}.uri", 'missing: the host path, as "file:/host/path"')
        host = r.host_path(f"{key}.uri", uri).rstrip("/") or "/"
    elif uri is not None:
        r.typed(f"{key}.uri", uri, str, "a string")  # tmpfs: ignored, as in Gramine
    if mtype == "encrypted":
        entry.pop("key_name", None)
    for extra in entry:
        r.unknown(f"{key}.{extra}", "path, uri, type")
    return MountSpec(path, mtype, host, False, key)


def read_mounts(r: Reader) -> list[MountSpec]:
    root = r.pop("fs.root")
    if root is None:
        # Gramine mounts the host's current directory as / when fs.root is not given
        mounts = [MountSpec("/", "chroot", r.cwd, False, "fs.root")]
    else:
        mounts = [read_mount(r, "fs.root", root, path="/")]
    table = r.pop("fs.mounts")
    if table is not None:
        table = r.typed("fs.mounts", table, list, "an array of { path, uri, type } tables")
        mounts += [read_mount(r, f"fs.mounts[{i}]", e) for i, e in enumerate(table)]
    return mounts


def read_trusted(r: Reader) -> tuple[TrustedFile, ...]:
    value = r.pop("sgx.trusted_files")
    if value is None:
        return ()
    items = r.typed("sgx.trusted_files", value, list, "an array")
    out = []
    for i, item in enumerate(items):
        key = f"sgx.trusted_files[{i}]"
        if isinstance(item, str):
            out.append(TrustedFile(r.host_path(key, item)))
            continue
        item = dict(r.typed(key, item, dict, 'a "file:" URI or a table { uri, sha256 }'))
        if "uri" not in item:
            raise r.fail(f"{key}.uri", 'missing: the file, as "file:/host/path"')
        path = r.host_path(f"{key}.uri", item.pop("uri"))
        sha = item.pop("sha256", None)
        if sha is not None:
            sha = r.typed(f"{key}.sha256", sha, str, "64 hex digits")
            if not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
                raise r.fail(f"{key}.sha256", f"expected 64 hex digits, got {describe(sha)}")
            if path.endswith("/"):
                raise r.fail(f"{key}.sha256", "a directory (uri ending in '/') cannot have a sha256")
            sha = sha.lower()
        for extra in item:
            r.unknown(f"{key}.{extra}", "uri, sha256")
        out.append(TrustedFile(path, sha))
    return tuple(out)


def leftovers(data: dict[str, Any], source: str) -> list[str]:
    """Warnings for the keys nobody took (debug lines for SGX-only ones)."""
    warnings = []
    for key in _leaf_keys(data, ""):
        if key.startswith("sgx."):
            log.debug("%s: %s: SGX-only key, ignored", source, key)
        elif key in IGNORED_KEYS:
            log.debug("%s: %s: not needed by Pyrene, ignored", source, key)
        elif any(key == k or key.startswith(k + ".") for k in UNSUPPORTED_GRAMINE_KEYS):
            warnings.append(f"pyrene: {source}: {key}: Gramine key not supported by Pyrene, ignored")
        else:
            warnings.append(f"pyrene: {source}: {key}: unknown key, ignored")
    return warnings


def _leaf_keys(node: dict[str, Any], prefix: str) -> list[str]:
    out = []
    for k, v in node.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out += _leaf_keys(v, path + ".")
        elif not (isinstance(v, dict) and not v):  # emptied tables were fully consumed
            out.append(path)
    return out
