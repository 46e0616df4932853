"""What `pyrene run` defers to first use (docs/architecture.md, "Startup"): the handler
modules a program's start does not need, and the /proc and /dev file systems."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pyrene import syscalls
from pyrene.abi import sysnum
from pyrene.fs.file import FileSystem
from pyrene.fs.mounts import DeferredFS
from pyrene.kernel.table import SyscallTable

SRC = Path(__file__).resolve().parents[2] / "src"


def test_every_handler_module_is_first_or_later():
    """A module named in neither list would never be loaded."""
    on_disk = {p.stem for p in (SRC / "pyrene" / "syscalls").glob("*.py")} - {"__init__"}
    assert sorted(syscalls.FIRST + syscalls.LATER) == sorted(on_disk)


def test_table_completes_at_the_first_call_it_has_no_entry_for():
    table = SyscallTable.build(syscalls.load(syscalls.FIRST), later=syscalls.load_later)
    nr = sysnum.BY_NAME["rt_sigaction"]  # signal.py: LATER
    assert table.entries[nr] is None
    spec = table.lookup_after_complete(nr)
    assert spec is not None and spec.name == "rt_sigaction" and table.entries[nr] is spec
    assert table.specs() == SyscallTable.build(syscalls.all_modules()).specs()
    assert table.lookup_after_complete(sysnum.BY_NAME["kexec_load"]) is None  # no handler: ENOSYS
    assert table.lookup_after_complete(2**64 - 1) is None  # orig_rax of no syscall


class _Recorder(FileSystem):
    released = False

    def lstat(self, rel):  # type: ignore[no-untyped-def]
        return ("stat of", rel)

    def readlink(self, rel):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def open(self, rel, flags, mode, path):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def release(self) -> None:
        self.released = True


def test_deferred_fs_is_made_once_at_first_use():
    made: list[_Recorder] = []

    def make() -> FileSystem:
        made.append(_Recorder())
        return made[-1]

    unused = DeferredFS(make)
    unused.release()
    assert made == []
    fs = DeferredFS(make)
    assert fs.lstat("a") == ("stat of", "a") and fs.lstat("b") == ("stat of", "b")
    assert len(made) == 1
    fs.release()
    assert made[0].released


def test_a_run_of_true_imports_nothing_deferred():
    """`pyrene run /bin/true` leaves /proc, /dev, the LATER handler modules and the names
    only traces show unimported (in the leader, which imports all the first instance
    starts with)."""
    script = ("import sys; from pyrene import cli; code = cli.main(['run', '/bin/true']); "
              "print(' '.join(m for m in sys.modules if m.startswith('pyrene.'))); sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    imported = set(out.stdout.split())
    deferred = {"pyrene.fs.proc", "pyrene.fs.dev", "pyrene.fs.synth", "pyrene.abi.names"} | {
        f"pyrene.syscalls.{m}" for m in syscalls.LATER}
    assert imported & deferred == set()
    assert {f"pyrene.syscalls.{m}" for m in syscalls.FIRST} <= imported  # (the output is the right one)


def test_a_run_of_true_imports_no_slow_stdlib_module():
    """dataclasses (with inspect, ast, dis) cost ~8 ms to import, argparse ~7 ms to
    build, logging (with traceback, tokenize, threading) ~9 ms, typing ~5 ms, pickle ~3
    ms, threading ~1 ms, tempfile and shutil ~3 ms (docs/architecture.md, "Startup")."""
    script = ("import sys; from pyrene import cli; code = cli.main(['run', '/bin/true']); "
              "print(' '.join(sys.modules)); sys.exit(code)")
    out = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    imported = set(out.stdout.split())
    assert "pyrene.sandbox" in imported  # (the output is the right one)
    slow = {"dataclasses", "inspect", "argparse", "logging", "typing", "pickle", "threading", "tempfile", "shutil"}
    assert imported & slow == set()



def test_the_start_runs_without_cyclic_gc_and_both_processes_collect_after(tmp_path):
    """cli.entry turns the collector off for the start (~20 collections that find
    nothing); the leader freezes what the start made and turns it back on, in itself and
    in the first instance, before the app runs."""
    seen = tmp_path / "seen"
    script = (
        "import gc, sys\n"
        "from pyrene import cli, sandbox\n"
        "from pyrene.ipc.leader import Leader\n"
        f"SEEN = {str(seen)!r}\n"
        "def note(who):\n"
        "    with open(SEEN, 'a') as f: f.write(f'{who} {gc.isenabled()} {gc.get_freeze_count() > 0}\\n')\n"
        "first, serve = sandbox._first_instance, Leader._serve\n"
        "def first_instance(*a):\n"
        "    note('instance'); return first(*a)\n"
        "def leader_serve(self, *a):\n"
        "    note('leader'); return serve(self, *a)\n"
        "sandbox._first_instance, Leader._serve = first_instance, leader_serve\n"
        "def main():\n"
        "    note('start'); return real_main()\n"
        "real_main, cli.main = cli.main, main\n"
        "sys.argv = ['pyrene', 'run', '/bin/true']\n"
        "cli.entry()\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert sorted(seen.read_text().splitlines()) == ["instance True True", "leader True True", "start False False"]
