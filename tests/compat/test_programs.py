"""Acceptance tests: real programs run natively and under Pyrene must agree.

Each comparison runs the same argv twice, on the host kernel and under
``pyrene run`` with the default sandbox (host ``/`` read-only, the current
directory read-write, ``/tmp`` a tmpfs, synthesized ``/proc`` and ``/dev``),
with the same fixed environment, cwd and stdin, and asserts the same exit
status, stdout and stderr (``pyrene.testing.compare``).

Where a native run and a Pyrene run may legitimately differ, the test says why
and compares a normalized output instead. The only such case here is a listing
of ``/``: the entries that are mount points of the sandbox's own file systems
(``/dev``, ``/proc``, ``/tmp``) have their own sizes, link counts and times.

A few tests cannot be comparisons, because the point is that Pyrene behaves
like a shell or a sandbox rather than like ``execve``: a missing or
non-executable program, a binary of another architecture, the i386 and x32
syscall entries, and the death of the tracer.

Programs and scratch files must be visible inside the sandbox; ``conftest.py``
keeps pytest's temporary directories out of ``/tmp`` for that reason.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pyrene.testing.compare import (
    Outcome,
    assert_same,
    compare,
    default_env,
    describe_difference,
    run_pyrene,
)

LINKS = ["dynamic", "static", "static-pie"]  # as understood by the cbuild fixture

SIGSYS_STATUS = 128 + signal.SIGSYS

# ---------------------------------------------------------------------------
# Small C programs, in every link mode


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize(
    "source, args",
    [
        ("hello.c", []),
        ("exitcode.c", ["0"]),
        ("exitcode.c", ["1"]),
        ("exitcode.c", ["42"]),
        ("exitcode.c", ["255"]),
        ("exitcode.c", ["256"]),  # the status is the low 8 bits: 0
        ("exitcode.c", ["-1"]),  # 255
        ("args.c", ["one", "two words", ""]),
        ("files.c", []),
        ("mmap_file.c", []),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(map(repr, v)),
)
def test_c_program(cbuild, tmp_path, link, source, args):
    program = cbuild(source, link=link)
    assert_same([program, *args], cwd=tmp_path)
    # Programs that write in their cwd clean up after themselves.
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize("link", LINKS)
def test_auxv(cbuild, tmp_path, link):
    program = cbuild("auxv.c", link=link)
    # Only a static non-PIE binary has the same addresses in every run.
    args = ["a", "b c"] if link == "static" else ["--relative", "x"]
    native = assert_same([program, *args], cwd=tmp_path)
    assert b"initial rsp % 16 = 0" in native.stdout


# ---------------------------------------------------------------------------
# argv[0] and AT_EXECFN: passed as given


def test_argv0_bare_name_found_on_path(cbuild, tmp_path):
    program = cbuild("args.c", static=True)
    env = default_env(PATH=f"{program.parent}:/usr/bin:/bin")
    native = assert_same([program.name, "x"], cwd=tmp_path, env=env)
    assert f"argv[0]={program.name}\n".encode() in native.stdout
    assert f"execfn={program}\n".encode() in native.stdout


def test_argv0_relative_path(cbuild):
    program = cbuild("args.c", link="dynamic")
    native = assert_same([f"./{program.name}", "y"], cwd=program.parent)
    assert f"argv[0]=./{program.name}\n".encode() in native.stdout


def test_argv0_selects_busybox_applet(need, tmp_path):
    busybox = need("/usr/bin/busybox", "busybox-static")
    for applet in ("cat", "wc", "echo"):
        (tmp_path / applet).symlink_to(busybox)
    (tmp_path / "f.txt").write_text("one\ntwo\n")
    assert_same(["./cat", "f.txt"], cwd=tmp_path)
    assert_same(["./wc", "-l", "f.txt"], cwd=tmp_path)
    assert_same(["./echo", "via", "symlink"], cwd=tmp_path)


# ---------------------------------------------------------------------------
# Debian programs

COREUTILS = [
    ["/bin/true"],
    ["/bin/false"],
    ["echo", "a", "b", "c"],
    ["head", "-n", "3", "/etc/passwd"],
    ["wc", "/etc/passwd"],
    ["sha256sum", "/etc/passwd", "/bin/ls"],
    ["md5sum", "/bin/true"],
    ["sort", "/etc/passwd"],
    ["stat", "-c", "%s %F %a %U", "/etc/passwd", "/bin", "/usr/bin/ls"],
    ["readlink", "/bin", "/lib64/ld-linux-x86-64.so.2"],
    ["readlink", "-f", "/lib64/ld-linux-x86-64.so.2"],
    ["ls", "/usr/share/doc/coreutils"],
    ["ls", "-l", "/etc/passwd", "/bin", "/usr/bin/ls"],
    ["ls", "/no/such/path"],  # exit 2 and a message on stderr
    ["cat", "/no/such/file"],
    ["seq", "1", "10"],
    ["printf", "%s-%d\\n", "x", "42"],
    ["date", "-u", "-d", "@0", "+%Y-%m-%d %H:%M:%S"],
    ["uname", "-s", "-m"],
    ["id", "-u"],
    ["pwd"],
    ["env"],  # the app sees exactly the environment it was given
    ["dd", "if=/etc/passwd", "bs=100", "count=1", "status=none"],
    ["/usr/bin/sleep", "0.1"],
]


@pytest.mark.parametrize("argv", COREUTILS, ids=" ".join)
def test_coreutils(tmp_path, argv):
    assert_same(argv, cwd=tmp_path)


def test_coreutils_stdin(tmp_path):
    data = b"banana\napple\ncherry\n" * 100
    assert_same(["cat"], input=data, cwd=tmp_path)
    assert_same(["sort", "-u"], input=data, cwd=tmp_path)
    assert_same(["wc"], input=data, cwd=tmp_path)
    assert_same(["sha256sum", "-"], input=data, cwd=tmp_path)
    assert_same(["tr", "a-z", "A-Z"], input=data, cwd=tmp_path)


def test_cat_files_in_cwd(tmp_path):
    (tmp_path / "a.txt").write_text("first file\nsecond line\n")
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "big").write_bytes(os.urandom(1 << 20))
    assert_same(["cat", "a.txt", "b.bin", "empty", "a.txt"], cwd=tmp_path)
    assert_same(["cat", "big"], cwd=tmp_path)
    assert_same(["cat", "a.txt", "missing", "a.txt"], cwd=tmp_path)
    assert_same(["ls", "-l"], cwd=tmp_path)
    assert_same(["ls", "-l", "--time-style=full-iso", "a.txt"], cwd=tmp_path)


# `ls -l /`: the sandbox mounts its own file systems on /dev, /proc and /tmp, so
# those entries (and the "total" line, which sums the blocks of all entries)
# legitimately differ from the host's; since ls pads columns to the widest
# value, they can also shift the alignment of the other lines. Every other
# entry is the host's, read through the read-only host mount, and must match
# field for field.
SANDBOX_MOUNT_POINTS = {"dev", "proc", "tmp"}


def without_sandbox_mounts(listing: bytes) -> bytes:
    kept = []
    for line in listing.splitlines(keepends=True):
        fields = line.split()
        if line.startswith(b"total "):
            continue
        if fields and fields[-1].decode() in SANDBOX_MOUNT_POINTS:
            continue
        kept.append(b" ".join(fields) + b"\n")
    return b"".join(kept)


def assert_same_listing(argv: list[str], cwd: Path) -> None:
    native, pyrene = compare(argv, cwd=cwd)
    native = Outcome(native.returncode, without_sandbox_mounts(native.stdout), native.stderr)
    pyrene = Outcome(pyrene.returncode, without_sandbox_mounts(pyrene.stdout), pyrene.stderr)
    difference = describe_difference(native, pyrene)
    assert not difference, f"{' '.join(argv)!r} behaves differently under pyrene:\n{difference}"
    assert b"bin -> usr/bin" in native.stdout


def test_ls_root(tmp_path):
    assert_same_listing(["ls", "-l", "/"], tmp_path)


def test_ls_root_names(tmp_path):
    # The names alone, mount points included, must match.
    assert_same(["ls", "-a", "/"], cwd=tmp_path)


BUSYBOX_APPLETS = [
    ["echo", "a", "b", "c"],
    ["true"],
    ["false"],
    ["cat", "/etc/passwd"],
    ["wc", "/etc/passwd"],
    ["sha256sum", "/etc/passwd", "/usr/bin/busybox"],
    ["md5sum", "/etc/passwd"],
    ["uname", "-s"],
    ["head", "-n", "2", "/etc/passwd"],
    ["tail", "-n", "2", "/etc/passwd"],
    ["seq", "3"],
    ["expr", "6", "*", "7"],
    ["basename", "/usr/lib/x86_64-linux-gnu/libc.so.6", ".so.6"],
    ["readlink", "/bin"],
    ["ls", "/etc/apt"],
    ["stat", "-c", "%s %F %a", "/etc/passwd"],
    ["cat", "/no/such/file"],
    ["env"],
    ["sh", "-c", "x=20; echo $((x + 22)); exit 3"],  # builtins only: no fork
    ["od", "-A", "x", "-t", "x1z", "-N", "48", "/usr/bin/busybox"],
]


@pytest.mark.parametrize("applet", BUSYBOX_APPLETS, ids=" ".join)
def test_busybox(need, tmp_path, applet):
    busybox = need("/usr/bin/busybox", "busybox-static")
    assert_same([busybox, *applet], cwd=tmp_path)


def test_busybox_ls_root(need, tmp_path):
    busybox = need("/usr/bin/busybox", "busybox-static")
    assert_same_listing([busybox, "ls", "-l", "/"], tmp_path)


def test_busybox_stdin(need, tmp_path):
    busybox = need("/usr/bin/busybox", "busybox-static")
    data = b"zeta\nalpha\nmu\n" * 50
    assert_same([busybox, "sort"], input=data, cwd=tmp_path)
    assert_same([busybox, "wc", "-c"], input=data, cwd=tmp_path)
    assert_same([busybox, "sha256sum"], input=data, cwd=tmp_path)


def test_sqlite3_memory(need, tmp_path):
    sqlite3 = need("/usr/bin/sqlite3", "sqlite3")
    sql = "create table t(x); insert into t values (1),(2),(3); select sum(x) from t;"
    native = assert_same([sqlite3, ":memory:", sql], cwd=tmp_path)
    assert native.stdout == b"6\n"


def test_sqlite3_file(need, tmp_path):
    # A database file in the cwd: open/pread/pwrite/fsync/fcntl locks, and a
    # rollback journal created and removed next to it.
    sqlite3 = need("/usr/bin/sqlite3", "sqlite3")
    sql = (
        "drop table if exists t; create table t(x, y);"
        "insert into t values (1, 'one'), (2, 'two'), (3, 'three');"
        "update t set x = x * 10 where y like 't%';"
        "select * from t order by x; select count(*), sum(x) from t;"
    )
    assert_same([sqlite3, "test.db", sql], cwd=tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["test.db"]


PYTHON = "/usr/bin/python3.11"


@pytest.mark.parametrize(
    "code",
    [
        'import json, os; print(os.listdir("/"))',
        "import json, sys; print(json.dumps({'argv': sys.argv, 'path0': sys.path[0]}))",
        "import hashlib; print(hashlib.sha256(open('/etc/passwd', 'rb').read()).hexdigest())",
        "import os; print(sorted(os.environ.items()))",
        "import sys; sys.exit(7)",
        "raise SystemExit('fatal: something went wrong')",
        "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",  # status 143
    ],
)
def test_python(need, tmp_path, code):
    python = need(PYTHON, "python3.11")
    assert_same([python, "-c", code], cwd=tmp_path)


def test_python_stdin_and_files(need, tmp_path):
    python = need(PYTHON, "python3.11")
    code = (
        "import sys, pathlib\n"
        "data = sys.stdin.read()\n"
        "p = pathlib.Path('out.txt'); p.write_text(data[::-1])\n"
        "print(p.read_text().upper(), end='')\n"
        "p.unlink()\n"
    )
    assert_same([python, "-c", code], input=b"hello\nworld\n", cwd=tmp_path)


# ---------------------------------------------------------------------------
# `#!` scripts


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_script_cat(tmp_path):
    script = write_script(tmp_path / "show-me", "#!/bin/cat\nthis text is printed by cat\n")
    assert_same([script], cwd=tmp_path)
    assert_same(["./show-me", "show-me"], cwd=tmp_path)


def test_script_interpreter_is_a_script(tmp_path):
    # outer's interpreter is inner, itself a script: the kernel rewrites argv
    # twice. Expected: "X <inner> arg1 ./outer a b".
    inner = write_script(tmp_path / "inner", "#!/bin/echo X\n")
    write_script(tmp_path / "outer", f"#!{inner} arg1\n")
    native = assert_same(["./outer", "a", "b"], cwd=tmp_path)
    assert native.stdout == f"X {inner} arg1 ./outer a b\n".encode()


def test_script_three_levels_with_args(tmp_path):
    level1 = write_script(tmp_path / "level1", "#!/bin/echo L1  \n")  # trailing blanks dropped
    level2 = write_script(tmp_path / "level2", f"#!{level1} two words\n")
    level3 = write_script(tmp_path / "level3", f"#! {level2}\n")  # blank after #!
    assert_same([level3, "x"], cwd=tmp_path)


def test_script_python(need, tmp_path):
    need(PYTHON, "python3.11")
    script = write_script(
        tmp_path / "py-script",
        f"#!{PYTHON} -S\nimport sys\nprint(sys.argv)\nsys.exit(len(sys.argv))\n",
    )
    assert_same([script, "a", "b"], cwd=tmp_path)


def test_script_runs_c_interpreter(cbuild, tmp_path):
    # A C program as interpreter: shows argv and AT_EXECFN (the script's path).
    args = cbuild("args.c", static=True)
    write_script(tmp_path / "via-args", f"#!{args} opt\n")
    assert_same(["./via-args", "z"], cwd=tmp_path)


# ---------------------------------------------------------------------------
# Errors that `pyrene run` reports like a shell (no native counterpart)


def assert_no_traceback(outcome: Outcome) -> None:
    assert b"Traceback" not in outcome.stderr, outcome.stderr.decode(errors="replace")


def run_in_sandbox(argv: list[str | Path], cwd: Path) -> Outcome:
    return run_pyrene(argv, cwd=cwd, env=default_env(), input=b"", timeout=60)


@pytest.mark.parametrize("prog", ["/nonexistent/program", "no-such-program-on-path"])
def test_missing_program(tmp_path, prog):
    result = run_in_sandbox([prog, "arg"], tmp_path)
    assert result.returncode == 127, result
    assert result.stderr == f"pyrene: {prog}: No such file or directory\n".encode()
    assert result.stdout == b""


def test_not_executable(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("just data\n")
    data.chmod(0o644)
    result = run_in_sandbox(["./data.txt"], tmp_path)
    assert result.returncode == 126, result
    assert b"data.txt" in result.stderr
    assert result.stdout == b""
    assert_no_traceback(result)


def test_directory_is_not_executable(tmp_path):
    result = run_in_sandbox(["/etc"], tmp_path)
    assert result.returncode == 126, result
    assert b"/etc" in result.stderr
    assert_no_traceback(result)


def i386_elf() -> bytes:
    """A valid 32-bit x86 ELF executable that calls exit(0) through int 0x80."""
    code = bytes.fromhex("b80100000031dbcd80")  # mov eax,1; xor ebx,ebx; int 0x80
    base, ehsize, phsize = 0x08048000, 52, 32
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)  # ELFCLASS32, LSB, version 1
    ehdr = ident + struct.pack(
        "<HHIIIIIHHHHHH", 2, 3, 1, base + ehsize + phsize, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0
    )
    size = ehsize + phsize + len(code)
    phdr = struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)  # PT_LOAD, R+X
    return ehdr + phdr + code


@pytest.mark.parametrize(
    "name, content",
    [
        ("i386-elf", i386_elf()),
        ("garbage", bytes(range(7, 256)) * 4),
        ("truncated-elf", b"\x7fELF\x02\x01\x01" + bytes(9)),
    ],
)
def test_foreign_binary(tmp_path, name, content):
    binary = tmp_path / name
    binary.write_bytes(content)
    binary.chmod(0o755)
    result = run_in_sandbox([f"./{name}"], tmp_path)
    assert result.returncode != 0, result
    assert result.returncode in (126, 127) or result.returncode > 128 or result.returncode < 0
    assert name.encode() in result.stderr, result.stderr
    assert result.stdout == b""
    assert_no_traceback(result)


# ---------------------------------------------------------------------------
# The sandbox holds: other syscall ABIs are fatal, and the app dies with its tracer


@pytest.mark.parametrize("link", ["static", "dynamic"])
@pytest.mark.parametrize("mode", ["int80", "x32"])
def test_foreign_syscall_abi_is_killed(cbuild, tmp_path, link, mode):
    program = cbuild("int80.c", link=link)
    native, pyrene = compare([program, mode], cwd=tmp_path)
    assert (native.returncode, native.stdout) == (0, f"{mode} returned\n".encode())
    assert pyrene.status == SIGSYS_STATUS, f"not killed by SIGSYS under pyrene: {pyrene}"
    assert b"returned" not in pyrene.stdout


def _ppid_and_state(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _ppid_and_state(int(entry))) is not None:
            children.setdefault(info[0], []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def is_gone(pid: int) -> bool:
    info = _ppid_and_state(pid)
    return info is None or info[1] in ("Z", "X")  # a zombie runs no more code


def exe_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


PR_SET_CHILD_SUBREAPER = 36


def set_child_subreaper(on: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def test_app_dies_with_tracer(cbuild, tmp_path):
    """SIGKILL `pyrene run`: its app, which never makes a syscall, must die too."""
    spin = cbuild("spin.c", static=True)
    python_exe = os.path.realpath(sys.executable)
    # Orphans of the killed pyrene process are re-parented to us, so that we can
    # reap them (and see them go) instead of leaving zombies to init.
    set_child_subreaper(True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyrene", "run", "--", spin],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=default_env(),
    )
    everything: set[int] = set()
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the app did not say 'ready' within 60 s"
        line = proc.stdout.readline()
        assert line == b"ready\n", (line, proc.stderr.read() if proc.poll() is not None else b"")
        everything = descendants(proc.pid)
        apps = {pid for pid in everything if exe_of(pid) not in (python_exe, None)}
        assert apps, f"no app process among the descendants of pyrene: {everything}"

        proc.kill()
        proc.wait(timeout=10)

        def apps_gone() -> bool:
            reap(apps)
            return all(is_gone(pid) for pid in apps)

        assert wait_until(apps_gone, 2.0), (
            f"app process(es) {apps} still running 2 s after the tracer died"
        )

        def everything_gone() -> bool:
            reap(everything)
            return all(is_gone(pid) for pid in everything)

        assert wait_until(everything_gone, 5.0), (
            f"processes left behind 5 s after pyrene was killed: "
            f"{[(pid, exe_of(pid)) for pid in everything if not is_gone(pid)]}"
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in everything:  # never leave a spinning process behind
            if not is_gone(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        wait_until(lambda: (reap(everything), all(is_gone(p) for p in everything))[1], 5.0)
        set_child_subreaper(False)
        proc.stdout.close()
        proc.stderr.close()
