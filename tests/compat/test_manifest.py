"""Manifests with real programs: a busybox-static root file system made at test time
(the binary plus applet symlinks), mounts and flags, environment and uid from the
manifest, trusted and allowed files, rendering a template and running it, and bad
manifests refused with one line and exit status 2 before the app runs.

Where a native run can show the same thing (a file's content, a directory listing), the
test compares with it; what only exists in the sandbox (a uid from the manifest, EACCES
for a tampered trusted file) is asserted directly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pyrene
from pyrene.loader import elf
from pyrene.manifest.schema import Manifest, MountSpec
from pyrene.testing.compare import default_env, run_native

APPLETS = ["ls", "cat", "env", "id", "pwd", "sh", "touch", "echo"]


@pytest.fixture(scope="session")
def busybox(need) -> str:
    path = need("busybox", "busybox-static")
    with open(path, "rb") as f:
        if elf.parse(f.read(4096)).interp_range is not None:
            pytest.skip("busybox is dynamically linked (Debian package busybox-static has the static one)")
    return path


@pytest.fixture
def root(tmp_path, busybox) -> Path:
    """tmp_path/root: /bin/busybox and its applets, nothing else."""
    bindir = tmp_path / "root" / "bin"
    bindir.mkdir(parents=True)
    shutil.copy2(busybox, bindir / "busybox")
    for applet in APPLETS:
        (bindir / applet).symlink_to("busybox")
    return tmp_path / "root"


def sandbox_env(**extra: str) -> dict[str, str]:
    """default_env, keeping the caller's PYTHONPATH too (where jinja2/tomli-w may live)."""
    env = default_env(**extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env["PYTHONPATH"], os.environ.get("PYTHONPATH")) if p)
    return env


def pyrene_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, input: bytes = b""):
    return subprocess.run([sys.executable, "-m", "pyrene", *args], capture_output=True, cwd=cwd, input=input,
                          env=env or sandbox_env())


def need_render_deps() -> None:
    """Rendering (and writing a Manifest object out) needs the pinned jinja2 and tomli-w
    from pyproject.toml; `pip install -e .` (as .ci/run does) installs them."""
    pytest.importorskip("jinja2")
    pytest.importorskip("tomli_w")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_rootfs_flag_lists_the_rootfs(tmp_path, root):
    # -n: the rootfs has no /etc/passwd, so the sandbox cannot name the owners
    native = run_native(["/bin/busybox", "ls", "-ln", str(root / "bin")], env=default_env(), input=b"")
    sandboxed = pyrene_cli("run", "--rootfs", str(root), "--", "/bin/ls", "-ln", "/bin", cwd=tmp_path)
    assert (sandboxed.returncode, sandboxed.stdout, sandboxed.stderr) == (0, native.stdout, b"")


def test_rootfs_with_the_default_manifest_starts_in_slash(tmp_path, root):
    result = pyrene_cli("run", "--rootfs", "root", "--", "/bin/pwd", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"/\n")
    result = pyrene_cli("run", "--rootfs", "root", "--cwd", "/bin", "--", "/bin/pwd", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"/bin\n")


def test_a_file_only_visible_through_a_mount(tmp_path, root):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "note.txt", "only through --mount\n")
    native = run_native(["/bin/busybox", "cat", str(data / "note.txt")], env=default_env(), input=b"")
    mounted = pyrene_cli("run", "--rootfs", "root", "--mount", f"{data}:/data:ro", "--", "/bin/cat",
                         "/data/note.txt", cwd=tmp_path)
    assert (mounted.returncode, mounted.stdout, mounted.stderr) == (0, native.stdout, b"")
    hidden = pyrene_cli("run", "--rootfs", "root", "--", "/bin/cat", "/data/note.txt", cwd=tmp_path)
    assert hidden.returncode == 1 and hidden.stdout == b""
    assert hidden.stderr == b"cat: can't open '/data/note.txt': No such file or directory\n"
    # :ro means read-only
    ro = pyrene_cli("run", "--rootfs", "root", "--mount", f"{data}:/data:ro", "--", "/bin/sh", "-c",
                    "echo x > /data/new", cwd=tmp_path)
    assert ro.returncode == 1 and b"Read-only file system" in ro.stderr
    assert not (data / "new").exists()


def test_flag_mount_replaces_the_manifest_mount(tmp_path, root):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write(tmp_path / name / "which", f"{name}\n")
    manifest = write(tmp_path / "app.manifest", f'''
libos.entrypoint = "/bin/cat"
loader.insecure__use_cmdline_argv = true
fs.root.uri = "file:root"
fs.mounts = [{{ path = "/data", uri = "file:a" }}]
''')
    assert pyrene_cli("run", "--manifest", str(manifest), "/data/which", cwd=tmp_path).stdout == b"a\n"
    result = pyrene_cli("run", "--manifest", str(manifest), "--mount", "b:/data", "--", "/data/which", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"b\n")


def test_tmpfs_flag(tmp_path, root):
    result = pyrene_cli("run", "--rootfs", "root", "--tmpfs", "/scratch", "--", "/bin/ls", "-a", "/scratch",
                        cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, b".\n..\n", b"")


def test_env_from_the_manifest(tmp_path, root):
    manifest = write(tmp_path / "app.manifest", '''
libos.entrypoint = "/bin/env"
fs.root.uri = "file:root"
loader.env.FIXED = "one"
loader.env.TABLE = { value = "two words" }
loader.env.FROM_HOST = { passthrough = true }
loader.env.ABSENT = { passthrough = true }
''')
    env = sandbox_env(FROM_HOST="host value", NOT_PASSED="secret")
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.decode().splitlines()) == ["FIXED=one", "FROM_HOST=host value", "TABLE=two words"]
    # --env wins over loader.env; --env K passes the host's K
    result = pyrene_cli("run", "--manifest", str(manifest), "--env", "FIXED=flag", "--env", "NOT_PASSED",
                        cwd=tmp_path, env=env)
    assert sorted(result.stdout.decode().splitlines()) == ["FIXED=flag", "FROM_HOST=host value",
                                                           "NOT_PASSED=secret", "TABLE=two words"]


def test_uid_gid_from_the_manifest(tmp_path, root):
    manifest = write(tmp_path / "app.manifest", '''
libos.entrypoint = "/bin/id"
loader.argv = ["id"]
fs.root.uri = "file:root"
loader.uid = 1234
loader.gid = 567
''')
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"uid=1234 gid=567\n", b"")


def test_limits_and_start_dir_from_the_manifest(tmp_path, root):
    manifest = write(tmp_path / "app.manifest", '''
libos.entrypoint = "/bin/sh"
loader.argv = ["sh", "-c", "ulimit -n; ulimit -s; pwd"]
fs.root.uri = "file:root"
fs.start_dir = "/bin"
sys.fds.limit = 77
sys.stack.size = "1M"
''')
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"77\n1024\n/bin\n", b"")


def test_argv_from_manifest_or_command_line(tmp_path, root):
    fixed = write(tmp_path / "fixed.manifest", 'libos.entrypoint = "/bin/echo"\nloader.argv = ["echo", "fixed"]\n'
                                               'fs.root.uri = "file:root"\n')
    assert pyrene_cli("run", "--manifest", str(fixed), cwd=tmp_path).stdout == b"fixed\n"
    refused = pyrene_cli("run", "--manifest", str(fixed), "--", "extra", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == b""
    assert refused.stderr == (f"pyrene: {fixed}: loader.argv: command-line arguments given, but the manifest "
                              "fixes argv (set loader.insecure__use_cmdline_argv = true to take them)\n").encode()
    open_ = write(tmp_path / "open.manifest", 'libos.entrypoint = "/bin/echo"\n'
                                              'loader.insecure__use_cmdline_argv = true\nfs.root.uri = "file:root"\n')
    assert pyrene_cli("run", "--manifest", str(open_), "a", "b c", cwd=tmp_path).stdout == b"a b c\n"


def trusted_manifest(tmp_path: Path, sha256: str, policy: str = "strict") -> Path:
    return write(tmp_path / "trusted.manifest", f'''
libos.entrypoint = "/bin/cat"
loader.insecure__use_cmdline_argv = true
fs.root.uri = "file:root"
fs.mounts = [{{ path = "/data", uri = "file:data" }}]
sgx.trusted_files = ["file:root/bin/busybox", {{ uri = "file:data/trusted.txt", sha256 = "{sha256}" }}]
sgx.allowed_files = ["file:data/allowed/"]
sgx.file_check_policy = "{policy}"
''')


@pytest.fixture
def data(tmp_path) -> Path:
    data = tmp_path / "data"
    (data / "allowed").mkdir(parents=True)
    write(data / "trusted.txt", "trusted content\n")
    write(data / "allowed" / "a.txt", "allowed\n")
    write(data / "other.txt", "neither\n")
    return data


def test_trusted_file_read_and_tampered_before_start(tmp_path, root, data):
    digest = hashlib.sha256(b"trusted content\n").hexdigest()
    manifest = trusted_manifest(tmp_path, digest)
    ok = pyrene_cli("run", "--manifest", str(manifest), "/data/trusted.txt", "/data/allowed/a.txt", cwd=tmp_path)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, b"trusted content\nallowed\n", b"")
    write(data / "trusted.txt", "tampered content\n")
    tampered = hashlib.sha256(b"tampered content\n").hexdigest()
    want = (f"pyrene: {manifest}: sgx.trusted_files[1]: file:{data}/trusted.txt: sha256 mismatch: the file has "
            f"{tampered}, the manifest says {digest}\n").encode()
    for args in (["run", "--manifest", str(manifest), "/data/trusted.txt"], ["manifest", "check", str(manifest)]):
        bad = pyrene_cli(*args, cwd=tmp_path)
        assert (bad.returncode, bad.stdout, bad.stderr) == (2, b"", want)


def test_trusted_file_tampered_while_running_is_eacces(tmp_path, root, data, cbuild):
    """Measured at start, changed by the host while the app runs: the open is EACCES."""
    shutil.copy2(cbuild("wait_then_cat.c", link="static"), root / "bin" / "wait_then_cat")
    digest = hashlib.sha256(b"trusted content\n").hexdigest()
    manifest = write(tmp_path / "t.manifest", f'''
libos.entrypoint = "/bin/wait_then_cat"
loader.argv = ["wait_then_cat", "/data/trusted.txt"]
fs.root.uri = "file:root"
fs.mounts = [{{ path = "/data", uri = "file:data" }}]
sgx.trusted_files = ["file:root/bin/", {{ uri = "file:data/trusted.txt", sha256 = "{digest}" }}]
''')
    untouched = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path, input=b"x")
    assert (untouched.returncode, untouched.stdout, untouched.stderr) == (0, b"ready\ntrusted content\n", b"")
    proc = subprocess.Popen([sys.executable, "-m", "pyrene", "run", "--manifest", str(manifest)], cwd=tmp_path,
                            env=sandbox_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    write(data / "trusted.txt", "tampered content\n")
    stdout, stderr = proc.communicate(b"x", timeout=60)
    lines = stderr.decode().splitlines()
    assert (proc.returncode, stdout) == (1, b"")
    assert len(lines) == 2
    assert "/data/trusted.txt: trusted file hash mismatch" in lines[0]  # Pyrene's log line (error level)
    assert lines[1] == "/data/trusted.txt: Permission denied"


def test_trusted_files_are_read_only(tmp_path, root, data):
    manifest = write(tmp_path / "w.manifest", '''
libos.entrypoint = "/bin/sh"
loader.argv = ["sh", "-c", "echo x >> /data/trusted.txt"]
fs.root.uri = "file:root"
fs.mounts = [{ path = "/data", uri = "file:data" }]
sgx.trusted_files = ["file:root/bin/busybox", "file:data/trusted.txt"]
''')
    before = (data / "trusted.txt").stat().st_mtime_ns
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, b"sh: can't create /data/trusted.txt: Permission denied\n")
    assert (data / "trusted.txt").stat().st_mtime_ns == before


def test_file_check_policy(tmp_path, root, data):
    digest = hashlib.sha256(b"trusted content\n").hexdigest()
    strict = pyrene_cli("run", "--manifest", str(trusted_manifest(tmp_path, digest)), "/data/other.txt",
                        cwd=tmp_path)
    assert strict.returncode == 1
    assert strict.stderr == b"cat: can't open '/data/other.txt': Permission denied\n"
    lax = pyrene_cli("run", "--log-level", "warning", "--manifest",
                     str(trusted_manifest(tmp_path, digest, "allow_all_but_log")), "/data/other.txt", cwd=tmp_path)
    assert (lax.returncode, lax.stdout) == (0, b"neither\n")
    assert b"/data/other.txt: not a trusted or allowed file, allowed by sgx.file_check_policy" in lax.stderr


def test_no_trusted_or_allowed_files_means_no_checks(tmp_path, root, data):
    manifest = write(tmp_path / "plain.manifest", '''
libos.entrypoint = "/bin/cat"
loader.insecure__use_cmdline_argv = true
fs.root.uri = "file:root"
fs.mounts = [{ path = "/data", uri = "file:data" }]
sgx.file_check_policy = "strict"
''')
    result = pyrene_cli("run", "--manifest", str(manifest), "/data/other.txt", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"neither\n")


def test_render_then_run(tmp_path, root, data):
    need_render_deps()
    template = write(tmp_path / "app.manifest.template", '''
libos.entrypoint = "/bin/{{ applet }}"
loader.argv = ["{{ applet }}", "/data/trusted.txt"]
loader.env.HOME = "{{ env.HOME }}"
fs.root.uri = "file:{{ rootdir }}"
fs.mounts = [
  { path = "/data", uri = "file:{{ datadir }}" },
  { path = "/lib", uri = "file:{{ gramine.runtimedir() }}" },
]
sgx.trusted_files = [
  "file:{{ rootdir }}/bin/",
  "file:{{ datadir }}/trusted.txt",
]
''')
    out = tmp_path / "app.manifest"
    render = pyrene_cli("manifest", "render", str(template), "-Dapplet=cat", f"-Drootdir={root}",
                        f"-Ddatadir={data}", "-o", str(out), cwd=tmp_path)
    assert (render.returncode, render.stdout, render.stderr) == (0, b"", b"")
    text = out.read_text()
    digest = hashlib.sha256(b"trusted content\n").hexdigest()
    assert f'uri = "file:{data}/trusted.txt"\nsha256 = "{digest}"' in text
    busybox_digest = hashlib.sha256((root / "bin" / "busybox").read_bytes()).hexdigest()
    assert f'uri = "file:{root}/bin/busybox"\nsha256 = "{busybox_digest}"' in text  # the directory, expanded
    libc_dir = next(Path(p).parent for p in subprocess.run(["ldd", sys.executable], capture_output=True,
                                                           text=True).stdout.split() if p.endswith("/libc.so.6"))
    assert f'uri = "file:{libc_dir}"' in text
    run = pyrene_cli("run", "--manifest", str(out), cwd=tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, b"trusted content\n", b"")
    check = pyrene_cli("manifest", "check", str(out), cwd=tmp_path)
    assert (check.returncode, check.stdout) == (0, f"{out}: OK\n".encode())


def test_render_errors(tmp_path):
    need_render_deps()
    template = write(tmp_path / "t.template", 'libos.entrypoint = "{{ missing }}"\n')
    result = pyrene_cli("manifest", "render", str(template), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"pyrene: {template}: template: 'missing' is undefined (define it with "
                             "-D name=value?)\n").encode()


def test_render_python_helpers(tmp_path):
    need_render_deps()
    template = write(tmp_path / "py.template", '''
libos.entrypoint = "{{ entrypoint }}"
x.stdlib = "{{ python.stdlib }}"
x.libs = [{% for lib in ldd(entrypoint) %}"{{ lib }}", {% endfor %}]
x.path = [{% for p in python.get_sys_path(entrypoint) %}"{{ p }}", {% endfor %}]
''')
    result = pyrene_cli("manifest", "render", str(template), f"-Dentrypoint={sys.executable}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import sysconfig
    import tomllib
    data = tomllib.loads(result.stdout.decode())
    assert data["x"]["stdlib"] == sysconfig.get_paths()["stdlib"]
    assert any(lib.endswith("/libc.so.6") for lib in data["x"]["libs"])
    assert sysconfig.get_paths()["stdlib"] in data["x"]["path"]


BAD_MANIFESTS = {
    "syntax": ('libos.entrypoint = "/bin/sh"\nloader.argv = ["sh", "-c", "echo > /w/ran"\n',
               "{m}:4:1: invalid TOML at end of file: Unclosed array"),
    "wrong type": ('libos.entrypoint = "/bin/sh"\nloader.argv = "sh -c true"\n',
                   '{m}: loader.argv: expected an array of strings, got "sh -c true"'),
    "unknown mount type": ('fs.mounts = [{{ path = "/x", uri = "file:/", type = "nfs" }}]\n',
                           '{m}: fs.mounts[1].type: expected "chroot", "tmpfs" or "encrypted", got "nfs"'),
    "relative mount path": ('fs.mounts = [{{ path = "data", uri = "file:/" }}]\n',
                            '{m}: fs.mounts[1].path: expected an absolute path, got "data"'),
    "missing entrypoint": ('#', "{m}: libos.entrypoint: missing: the program to run (a path inside the sandbox)"),
    "entrypoint not granted": ('libos.entrypoint = "/usr/bin/sh"\n',
                               '{m}: libos.entrypoint: "/usr/bin/sh" is not granted by any mount: the chroot '
                               'mount at / (host {root}/usr/bin/sh) has no such file (No such file or directory)'),
    "encrypted": ('fs.mounts = [{{ path = "/e", uri = "file:/", type = "encrypted" }}]\n',
                  "{m}: fs.mounts[1]: encrypted mounts are not yet supported"),
    "hash mismatch": ('sgx.trusted_files = [{{ uri = "file:root/bin/busybox", sha256 = "{zeros}" }}]\n',
                      "{m}: sgx.trusted_files[0]: file:{root}/bin/busybox: sha256 mismatch: the file has "),
}


@pytest.mark.parametrize("kind", list(BAD_MANIFESTS))
def test_bad_manifests(tmp_path, root, kind):
    """One line naming the file, the key and the problem; exit 2; the app never ran (it
    would have created /w/ran: see the next test)."""
    body, expected = BAD_MANIFESTS[kind]
    work = tmp_path / "w"
    work.mkdir()
    header = ('libos.entrypoint = "/bin/sh"\nloader.argv = ["sh", "-c", "echo > /w/ran"]\nfs.root.uri = "file:root"\n'
              'fs.mounts = [{ path = "/w", uri = "file:w" }]\n')
    if kind in ("syntax", "wrong type", "missing entrypoint"):
        header = 'fs.root.uri = "file:root"\n'
    elif kind == "entrypoint not granted":
        header = 'loader.argv = ["sh", "-c", "echo > /w/ran"]\nfs.root.uri = "file:root"\n'
    elif "fs.mounts" in body:
        header = header.replace('fs.mounts = [{ path = "/w", uri = "file:w" }]\n', "")
        body = body.replace("[{{", '[{{ path = "/w", uri = "file:w" }}, {{')
    manifest = tmp_path / "bad.manifest"
    manifest.write_text(header + body.format(zeros="0" * 64))
    want = "pyrene: " + expected.format(m=manifest, root=root)
    for args in (["manifest", "check", str(manifest)], ["run", "--manifest", str(manifest)]):
        result = pyrene_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == b""
        lines = result.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith(want), (lines, want)
        assert not (work / "ran").exists()


def test_the_good_manifest_of_test_bad_manifests_runs(tmp_path, root):
    """The control for test_bad_manifests: the same manifest without the fault does run."""
    (tmp_path / "w").mkdir()
    manifest = write(tmp_path / "good.manifest", 'libos.entrypoint = "/bin/sh"\nloader.argv = ["sh", "-c", "echo > /w/ran"]\n'
                                                 'fs.root.uri = "file:root"\n'
                                                 'fs.mounts = [{ path = "/w", uri = "file:w" }]\n')
    assert pyrene_cli("manifest", "check", str(manifest), cwd=tmp_path).returncode == 0
    assert not (tmp_path / "w" / "ran").exists()
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, b"")
    assert (tmp_path / "w" / "ran").exists()


def test_unknown_keys_warn_and_still_run(tmp_path, root):
    manifest = write(tmp_path / "app.manifest", 'libos.entrypoint = "/bin/echo"\nloader.argv = ["echo", "ok"]\n'
                                                'fs.root.uri = "file:root"\nloader.typo = 1\nsgx.enclave_size = "1G"\n')
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"ok\n")
    assert result.stderr == f"pyrene: {manifest}: loader.typo: unknown key, ignored\n".encode()


def test_python_api_with_a_manifest_object(tmp_path, root):
    need_render_deps()
    manifest = Manifest(mounts=(MountSpec("/", "chroot", str(root), readonly=True), MountSpec("/proc", "proc")),
                        entrypoint="/bin/echo", use_cmdline_argv=True, use_host_env=False, uid=7, start_dir="/")
    result = pyrene.run(["from", "a Manifest"], manifest=manifest, capture_output=True, cwd=tmp_path,
                        env=sandbox_env())
    assert (result.returncode, result.stdout, result.stderr) == (0, b"from a Manifest\n", b"")
    file_manifest = write(tmp_path / "id.manifest", 'libos.entrypoint = "/bin/id"\nloader.uid = 9\n'
                                                    'fs.root.uri = "file:root"\n')
    result = pyrene.run([], manifest=file_manifest, capture_output=True, cwd=tmp_path, env=sandbox_env())
    assert result.stdout == b"uid=9 gid=0\n"


def test_plain_run_is_unchanged(tmp_path):
    native = run_native(["/bin/echo", "plain"], env=default_env(), input=b"")
    result = pyrene_cli("run", "/bin/echo", "plain", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (native.returncode, native.stdout, native.stderr)
    assert os.listdir(tmp_path) == []


def test_rendered_ldd_manifest_runs_a_dynamic_program_strictly(tmp_path, data, need):
    """A template in the style of Gramine's examples: the host's / read-only, the
    program and ldd(program) trusted. Debian's /lib is a symlink to usr/lib, so the
    libraries are opened through paths other than those ldd printed: files are matched by
    their real paths. Anything else (here /etc/passwd) is EACCES under the strict policy."""
    need_render_deps()
    cat = need("/usr/bin/cat", "coreutils")
    template = write(tmp_path / "cat.manifest.template", '''
libos.entrypoint = "{{ cat }}"
loader.insecure__use_cmdline_argv = true
fs.root.uri = "file:/"
fs.mounts = [{ path = "/data", uri = "file:{{ datadir }}" }]
pyrene.readonly = ["/"]
sgx.trusted_files = [
  "file:{{ cat }}",
{% for lib in ldd(cat) %}  "file:{{ lib }}",
{% endfor %}]
sgx.allowed_files = ["file:{{ datadir }}/allowed/"]
''')
    out = tmp_path / "cat.manifest"
    render = pyrene_cli("manifest", "render", str(template), f"-Dcat={cat}", f"-Ddatadir={data}", "-o", str(out),
                        cwd=tmp_path)
    assert render.returncode == 0, render.stderr
    native = run_native([cat, str(data / "allowed" / "a.txt")], env=default_env(), input=b"")
    ok = pyrene_cli("run", "--manifest", str(out), "/data/allowed/a.txt", cwd=tmp_path)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, native.stdout, b"")
    denied = pyrene_cli("run", "--manifest", str(out), "/etc/passwd", cwd=tmp_path)
    assert (denied.returncode, denied.stdout) == (1, b"")
    assert denied.stderr == f"{cat}: /etc/passwd: Permission denied\n".encode()


def test_single_file_mounts(tmp_path, root, need):
    """Gramine manifests often mount single files (the interpreter, a config file)."""
    python = need("/usr/bin/python3.11", "python3.11")
    note = write(tmp_path / "note.txt", "one file\n")
    result = pyrene_cli("run", "--rootfs", "root", "--mount", f"{note}:/etc/note.txt:ro", "--", "/bin/cat",
                        "/etc/note.txt", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"one file\n", b"")
    result = pyrene_cli("run", "--rootfs", "root", "--mount", f"{note}:/etc/note.txt:ro", "--", "/bin/sh", "-c",
                        "echo x > /etc/note.txt", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, b"/bin/sh: can't create /etc/note.txt: Read-only file system\n")
    manifest = write(tmp_path / "python.manifest", f'''
libos.entrypoint = "{python}"
loader.argv = ["python3", "-c", "import sys, json; print(json.dumps(sys.argv))", "arg"]
fs.root.uri = "file:root"
fs.mounts = [
  {{ path = "{python}", uri = "file:{python}" }},
  {{ path = "/lib", uri = "file:/lib" }},
  {{ path = "/lib64", uri = "file:/lib64" }},
  {{ path = "/usr/lib", uri = "file:/usr/lib" }},
]
''')
    native = run_native([python, "-c", "import sys, json; print(json.dumps(sys.argv))", "arg"], env=default_env(),
                        input=b"")
    result = pyrene_cli("run", "--manifest", str(manifest), cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, native.stdout, b"")
