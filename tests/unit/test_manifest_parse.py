"""Unit tests of manifest reading: sizes, env forms, mounts, defaults, the one-line error
messages (file, key path, what was expected), unknown-key warnings, flags over a
manifest, argv and environment, and the Manifest -> TOML -> Manifest round trip."""

from __future__ import annotations

import logging
import tomllib

import pytest

from pyrene import log
from pyrene.fs.trusted import FileChecks
from pyrene.manifest.default import default_manifest
from pyrene.manifest.dump import to_dict
from pyrene.manifest.load import ManifestError, from_dict, load_string, parse_size, uri_to_path
from pyrene.manifest.overrides import Overrides, apply, environment, program_argv
from pyrene.manifest.schema import EnvVar, MountSpec, TrustedFile

BASE = 'libos.entrypoint = "/bin/app"\n'


def load(text: str, with_entrypoint: bool = True):
    return load_string((BASE if with_entrypoint else "") + text, "app.manifest", cwd="/host/cwd")


def error_of(text: str, with_entrypoint: bool = True) -> str:
    with pytest.raises(ManifestError) as info:
        load(text, with_entrypoint and not text.startswith("libos.entrypoint"))
    assert info.value.status == 2
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("text, size", [
    ("4096", 4096), ("256K", 256 << 10), ("1M", 1 << 20), ("4G", 4 << 30), ("1m", 1 << 20), ("2KB", 2048),
])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "1X", "-1M", "M", "1.5M"])
def test_bad_sizes(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_uris():
    assert uri_to_path("file:/usr/lib", "/c") == "/usr/lib"
    assert uri_to_path("file:data", "/c") == "/c/data"
    assert uri_to_path("file:/usr/lib/", "/c") == "/usr/lib/"  # a directory, for trusted files
    for bad in ("/usr", "dev:tty", "file:"):
        with pytest.raises(ValueError):
            uri_to_path(bad, "/c")


def test_gramine_defaults():
    m = load("").manifest
    assert m.entrypoint == "/bin/app"
    assert (m.uid, m.gid, m.use_host_env, m.start_dir, m.argv, m.use_cmdline_argv) == (0, 0, False, "/", None, False)
    # Gramine: the host's current directory is / unless fs.root says otherwise; Pyrene adds /proc, /dev
    assert [(s.path, s.type, s.uri) for s in m.mounts] == [("/", "chroot", "/host/cwd"), ("/proc", "proc", ""),
                                                           ("/dev", "dev", "")]
    assert m.fd_limit == 1024 and m.stack_size is None and m.file_check_policy == "strict"
    assert not m.checks_files


def test_all_keys():
    m = load('''
loader.argv = ["app", "-v"]
loader.insecure__use_host_env = true
loader.uid = 1000
loader.gid = 100
loader.log_level = "debug"
loader.log_file = "/var/log/x"
loader.env.A = "1"
loader.env.B = { value = "2" }
loader.env.C = { passthrough = true }
fs.root = { uri = "file:/srv/root" }
fs.start_dir = "/work/"
fs.mounts = [
  { path = "/data", uri = "file:data" },
  { type = "tmpfs", path = "/scratch" },
  { type = "chroot", path = "/lib/", uri = "file:/lib/x86_64-linux-gnu/" },
]
sys.stack.size = "1M"
sys.brk.max_size = "256K"
sys.fds.limit = 64
sys.enable_sigterm_injection = true
sys.disallow_subprocesses = true
sgx.trusted_files = ["file:/srv/root/bin/app", { uri = "file:/etc/x", sha256 = "%s" }]
sgx.allowed_files = ["file:/srv/out/"]
sgx.file_check_policy = "allow_all_but_log"
pyrene.cpu = 1
pyrene.max_processes = 9
pyrene.dev = false
pyrene.readonly = ["/"]
''' % ("AB" * 32)).manifest
    assert m.argv == ("app", "-v") and m.use_host_env and (m.uid, m.gid) == (1000, 100)
    assert (m.log_level, m.log_file) == ("debug", "/var/log/x")
    assert m.env == (EnvVar("A", "1"), EnvVar("B", "2"), EnvVar("C", None))
    assert [(s.path, s.type, s.uri, s.readonly) for s in m.mounts] == [
        ("/", "chroot", "/srv/root", True), ("/data", "chroot", "/host/cwd/data", False),
        ("/scratch", "tmpfs", "", False), ("/lib", "chroot", "/lib/x86_64-linux-gnu", False),
        ("/proc", "proc", "", False)]
    assert m.start_dir == "/work"
    assert (m.stack_size, m.brk_max_size, m.fd_limit) == (1 << 20, 256 << 10, 64)
    assert m.sigterm_injection and m.disallow_subprocesses
    assert m.trusted_files == (TrustedFile("/srv/root/bin/app"), TrustedFile("/etc/x", "ab" * 32))
    assert m.allowed_files == ("/srv/out/",) and m.file_check_policy == "allow_all_but_log"
    assert m.cpu == 1 and m.checks_files and m.max_processes == 9


def test_fs_mounts_as_array_of_tables():
    m = load('fs.root.uri = "file:/r"\n[[fs.mounts]]\npath = "/a"\nuri = "file:/a"\n[[fs.mounts]]\n'
             'type = "tmpfs"\npath = "/t"\n').manifest
    assert [(s.path, s.type) for s in m.mounts][:3] == [("/", "chroot"), ("/a", "chroot"), ("/t", "tmpfs")]


def test_encrypted_mounts_parse_and_are_refused_later():
    m = load('fs.mounts = [{ type = "encrypted", path = "/secret", uri = "file:/s", key_name = "k" }]').manifest
    assert m.mounts[1] == MountSpec("/secret", "encrypted", "/s", False, "fs.mounts[0]")


@pytest.mark.parametrize("text, expected", [
    ("libos.entrypoint = 5", "pyrene: app.manifest: libos.entrypoint: expected a string, got 5"),
    ('loader.argv = ["a", 1]', "pyrene: app.manifest: loader.argv[1]: expected a string, got 1"),
    ('loader.argv = "a"', 'pyrene: app.manifest: loader.argv: expected an array of strings, got "a"'),
    ('loader.uid = -1', "pyrene: app.manifest: loader.uid: expected a non-negative integer, got -1"),
    ('pyrene.max_processes = 0', "pyrene: app.manifest: pyrene.max_processes: expected at least 1 (the first "
                                 "process), got 0"),
    ('loader.uid = "0"', 'pyrene: app.manifest: loader.uid: expected a non-negative integer, got "0"'),
    ('loader.insecure__use_host_env = 1', "pyrene: app.manifest: loader.insecure__use_host_env: expected true "
                                          "or false, got 1"),
    ('loader.log_level = "loud"', 'pyrene: app.manifest: loader.log_level: expected one of none, error, '
                                  'warning, debug, trace, all, got "loud"'),
    ('fs.mounts = [{ path = "/a", uri = "file:/a" }, { path = "data", uri = "file:/d" }]',
     'pyrene: app.manifest: fs.mounts[1].path: expected an absolute path, got "data"'),
    ('fs.mounts = [{ path = "/a", uri = "file:/a", type = "nfs" }]',
     'pyrene: app.manifest: fs.mounts[0].type: expected "chroot", "tmpfs" or "encrypted", got "nfs"'),
    ('fs.mounts = [{ path = "/a" }]', 'pyrene: app.manifest: fs.mounts[0].uri: missing: the host path, as '
                                      '"file:/host/path"'),
    ('fs.mounts = [{ uri = "file:/a" }]', "pyrene: app.manifest: fs.mounts[0].path: missing: the absolute path "
                                          "inside the sandbox"),
    ('fs.mounts = [{ path = "/a", uri = "/a" }]', 'pyrene: app.manifest: fs.mounts[0].uri: expected a "file:" '
                                                  'URI, got "/a"'),
    ('fs.mounts = { path = "/a" }', "pyrene: app.manifest: fs.mounts: expected an array of { path, uri, type } "
                                    "tables, got a table"),
    ('fs.root = { uri = "file:/r", path = "/x" }', "pyrene: app.manifest: fs.root.path: not allowed here: "
                                                   "fs.root is always mounted at /"),
    ('fs.start_dir = "work"', 'pyrene: app.manifest: fs.start_dir: expected an absolute path, got "work"'),
    ('sys.stack.size = "1X"', 'pyrene: app.manifest: sys.stack.size: expected a size like "256K", "1M" or "4G", '
                              'got "1X"'),
    ('sys.stack.size = "1K"', "pyrene: app.manifest: sys.stack.size: expected at least 16K, got 1024 bytes"),
    ("sys.fds.limit = 2", "pyrene: app.manifest: sys.fds.limit: expected at least 3 (stdin, stdout, stderr), "
                          "got 2"),
    ('sgx.file_check_policy = "lax"', 'pyrene: app.manifest: sgx.file_check_policy: expected one of strict, '
                                      'allow_all_but_log, got "lax"'),
    ('sgx.trusted_files = [{ uri = "file:/a", sha256 = "00" }]',
     'pyrene: app.manifest: sgx.trusted_files[0].sha256: expected 64 hex digits, got "00"'),
    ('sgx.trusted_files = [{ sha256 = "00" }]', 'pyrene: app.manifest: sgx.trusted_files[0].uri: missing: the '
                                                'file, as "file:/host/path"'),
    ('sgx.trusted_files = [3]', 'pyrene: app.manifest: sgx.trusted_files[0]: expected a "file:" URI or a table '
                                '{ uri, sha256 }, got 3'),
    ('loader.env.A = { passthrough = false }', "pyrene: app.manifest: loader.env.A.passthrough: passthrough = "
                                               "false is not allowed (deny lists are insecure; just leave the "
                                               "variable out)"),
    ('loader.env.A = { value = "1", passthrough = true }', "pyrene: app.manifest: loader.env.A: expected either "
                                                           "value or passthrough, not both"),
    ("loader.env.A = 1", 'pyrene: app.manifest: loader.env.A: expected a string, { value = "..." } or '
                         '{ passthrough = true }, got 1'),
    ("loader = 3", "pyrene: app.manifest: loader: expected a table, got 3"),
    ('loader.argv = ["a"]\nloader.insecure__use_cmdline_argv = true',
     "pyrene: app.manifest: loader.argv: cannot be combined with loader.insecure__use_cmdline_argv = true"),
    ('pyrene.readonly = ["/nope"]', 'pyrene: app.manifest: pyrene.readonly[0]: expected the path of a mount, '
                                    'got "/nope" (mounts: /, /proc, /dev)'),
])
def test_error_messages(text, expected):
    assert error_of(text) == expected


def test_missing_entrypoint():
    assert error_of('loader.argv = ["x"]', with_entrypoint=False) == (
        "pyrene: app.manifest: libos.entrypoint: missing: the program to run (a path inside the sandbox)")


def test_syntax_errors_name_file_line_column():
    assert error_of('fs.mounts = [ { path = "/x", uri = "file:/" ]\n') == (
        "pyrene: app.manifest:2:45: invalid TOML: Unclosed inline table")
    assert error_of('x = [1,\n', with_entrypoint=False) == (
        "pyrene: app.manifest:2:1: invalid TOML at end of file: Invalid value")


def test_unknown_keys_are_warned_by_full_path():
    result = load('''
loader.frobnicate = 1
fs.mounts = [{ path = "/a", uri = "file:/a", options = "ro" }]
sgx.enclave_size = "1G"
sgx.debug = true
loader.entrypoint = "file:libsysdb.so"
loader.preload = "x"
[custom.deep]
key = 1
''')
    assert result.warnings == [
        "pyrene: app.manifest: fs.mounts[0].options: unknown key (expected path, uri, type), ignored",
        "pyrene: app.manifest: loader.frobnicate: unknown key, ignored",
        "pyrene: app.manifest: loader.preload: Gramine key not supported by Pyrene, ignored",
        "pyrene: app.manifest: custom.deep.key: unknown key, ignored",
    ]


def test_sgx_keys_are_debug_lines(caplog):
    """Used as a library (no log.setup), Pyrene's loggers are logging's own."""
    caplog.set_level("DEBUG", logger="pyrene.manifest")
    logger = logging.getLogger("pyrene")  # an in-process `pyrene run` may have stopped propagation to caplog
    old = logger.propagate, log._sink.level
    logger.propagate, log._sink.level = True, None
    try:
        assert load('sgx.enclave_size = "1G"').warnings == []
    finally:
        logger.propagate, log._sink.level = old
    assert "sgx.enclave_size: SGX-only key, ignored" in caplog.text


def test_debug_lines_go_to_the_log_file_setup_names(tmp_path):
    """After log.setup (`pyrene run --log-level debug --log-file F`): logging is configured
    at the first record, which goes to F."""
    path = tmp_path / "pyrene.log"
    old = log._sink.level, log._sink.stream, log._sink.configured
    try:
        log.setup("debug", str(path))
        assert load('sgx.enclave_size = "1G"').warnings == []
        log.setup("error")
        assert load('sgx.enclave_size = "2G"').warnings == []
    finally:
        log._sink.level, log._sink.stream, log._sink.configured = old
        logging.getLogger("pyrene").handlers.clear()
    assert path.read_text() == "pyrene DEBUG: app.manifest: sgx.enclave_size: SGX-only key, ignored\n"


def test_argv_rules():
    m = load("").manifest
    assert program_argv(m, []) == ["/bin/app"]
    with pytest.raises(ManifestError, match="loader.argv: command-line arguments given"):
        program_argv(m, ["x"])
    fixed = m._replace(argv=("app", "-q"))
    assert program_argv(fixed, []) == ["app", "-q"]
    with pytest.raises(ManifestError):
        program_argv(fixed, ["x"])
    open_ = m._replace(use_cmdline_argv=True)
    assert program_argv(open_, ["a", "b"]) == ["/bin/app", "a", "b"]
    assert program_argv(default_manifest("/w"), ["ls", "-l"]) == ["ls", "-l"]
    with pytest.raises(ManifestError, match="PROG: missing"):
        program_argv(default_manifest("/w"), [])


def test_environment_forms():
    m = load('loader.env.A = "1"\nloader.env.B = { value = "2" }\nloader.env.HOME = { passthrough = true }\n'
             'loader.env.GONE = { passthrough = true }\n').manifest
    host = {"HOME": "/root", "SECRET": "x", "A": "host"}
    assert environment(m, host) == ["A=1", "B=2", "HOME=/root"]
    everything = m._replace(use_host_env=True)
    assert environment(everything, host) == ["HOME=/root", "SECRET=x", "A=1", "B=2"]


def test_flags_win_over_the_manifest(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "other").mkdir()
    m = load(f'fs.mounts = [{{ path = "/data", uri = "file:/srv/data" }}]\nloader.env.A = "1"\n').manifest
    out = apply(m, Overrides(rootfs="root", mounts=(f"{tmp_path}/other:/data:ro", "other:/extra"),
                             tmpfs=("/scratch",), env=("A=2", "B"), cwd="/data"), host_cwd=str(tmp_path))
    assert [(s.path, s.type, s.uri, s.readonly) for s in out.mounts] == [
        ("/", "chroot", f"{tmp_path}/root", False), ("/proc", "proc", "", False), ("/dev", "dev", "", False),
        ("/data", "chroot", f"{tmp_path}/other", True), ("/extra", "chroot", f"{tmp_path}/other", False),
        ("/scratch", "tmpfs", "", False)]
    assert out.env == (EnvVar("A", "2"), EnvVar("B", None))
    assert out.start_dir == "/data"


def test_rootfs_over_the_default_manifest_drops_the_cwd_mount(tmp_path):
    m = default_manifest("/home/me/project")
    out = apply(m, Overrides(rootfs=str(tmp_path), is_default=True))
    assert [(s.path, s.type) for s in out.mounts] == [("/", "chroot"), ("/tmp", "tmpfs"), ("/proc", "proc"),
                                                      ("/dev", "dev"), ("/dev/shm", "tmpfs")]
    assert out.mounts[0].uri == str(tmp_path) and out.start_dir == "/"


@pytest.mark.parametrize("ov, expected", [
    (Overrides(mounts=("nocolon",)), "pyrene: command line: --mount: expected HOST:SANDBOX[:ro], got 'nocolon'"),
    (Overrides(mounts=("/:rel",)), "pyrene: command line: --mount: expected an absolute sandbox path, got 'rel'"),
    (Overrides(mounts=("/nonexistent-pyrene:/x",)), "pyrene: command line: --mount: /nonexistent-pyrene: No such "
                                                    "file or directory"),
    (Overrides(tmpfs=("t",)), "pyrene: command line: --tmpfs: expected an absolute path, got 't'"),
    (Overrides(env=("=x",)), "pyrene: command line: --env: expected K=V or K, got '=x'"),
    (Overrides(cwd="w"), "pyrene: command line: --cwd: expected an absolute path, got 'w'"),
    (Overrides(rootfs="/nonexistent-pyrene"), "pyrene: command line: --rootfs: /nonexistent-pyrene: not a "
                                              "directory"),
])
def test_flag_errors(ov, expected):
    with pytest.raises(ManifestError) as info:
        apply(default_manifest("/w"), ov, host_cwd="/")
    assert str(info.value) == expected


def test_dump_round_trip():
    m = load('''
loader.env.A = "1"
loader.env.P = { passthrough = true }
loader.insecure__use_cmdline_argv = true
fs.root = { uri = "file:/srv/root" }
fs.mounts = [{ path = "/data", uri = "file:/srv/data" }, { type = "tmpfs", path = "/t" }]
sys.stack.size = "1M"
sgx.trusted_files = ["file:/srv/root/bin/"]
sgx.allowed_files = ["file:/srv/data/"]
pyrene.readonly = ["/"]
pyrene.dev = false
''').manifest
    tomli_w = pytest.importorskip("tomli_w")
    data = tomllib.loads(tomli_w.dumps(to_dict(m, "/c")))
    again = from_dict(data, "app.manifest", "/elsewhere").manifest
    strip = lambda x: x._replace(mounts=tuple(s._replace(key="") for s in x.mounts))
    assert strip(again) == strip(m)


def test_file_checks_allowed_paths():
    checks = FileChecks({}, ("/srv/out/", "/etc/hosts"))
    assert checks.is_allowed("/srv/out/a/b") and checks.is_allowed("/etc/hosts")
    assert not checks.is_allowed("/srv/outside") and not checks.is_allowed("/etc/hosts2")
