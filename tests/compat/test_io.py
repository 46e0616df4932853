"""I/O syscalls beyond read/write, native vs Pyrene: pipes, file locks, memfds,
sendfile/copy_file_range/splice, fallocate and the sync family, close_range and dup
edge cases, O_TMPFILE, and sqlite3 on a file database in rollback and WAL mode.

The C programs (tests/compat/c) print every result in a run-independent form and
only write in their cwd, which each test checks is left empty (or as expected).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from pyrene.testing.compare import assert_same

LINKS = ["dynamic", "static"]


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("source", ["pipes.c", "fifos.c", "locks.c", "memfd.c", "fileops.c", "fds.c"])
def test_c_program(cbuild, tmp_path, link, source):
    program = cbuild(source, link=link)
    assert_same([program], cwd=tmp_path)
    assert sorted(os.listdir(tmp_path)) == []


# ---------------------------------------------------------------------------
# sqlite3 on a file database: the acceptance test of locks, fsync, ftruncate and
# (in WAL mode) a MAP_SHARED mapping of the -shm file coherent with writes.


def sqlite_script(journal_mode: str, rows: int = 10_000) -> bytes:
    lines = [
        f"PRAGMA journal_mode={journal_mode};",
        "create table t(id integer primary key, name text, v real, blob_ blob);",
        "create index t_name on t(name);",
        "begin;",
        *(f"insert into t(name, v, blob_) values ('n{i % 97}', {i * 0.5}, zeroblob({i % 50}));"
          for i in range(rows)),
        "commit;",
        "update t set v = v * 2 where id % 3 = 0;",
        "delete from t where id % 10 = 0;",
        "select count(*), sum(v), min(name), max(name), sum(length(blob_)) from t;",
        "select name, count(*), avg(v) from t group by name order by name limit 5;",
        "PRAGMA integrity_check;",
        "PRAGMA journal_mode;",
    ]
    return "\n".join(lines).encode() + b"\n"


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_sqlite3_file_database(need, tmp_path, journal_mode):
    sqlite3 = need("/usr/bin/sqlite3", "sqlite3")
    from pyrene.testing.compare import default_env, describe_difference, run_native, run_pyrene

    script = sqlite_script(journal_mode)
    dirs = {"native": tmp_path / "native", "pyrene": tmp_path / "pyrene"}
    for d in dirs.values():
        d.mkdir()
    kw = {"input": script, "env": default_env(), "timeout": 300}
    native = run_native([sqlite3, "test.db"], cwd=dirs["native"], **kw)
    pyrene = run_pyrene([sqlite3, "test.db"], cwd=dirs["pyrene"], **kw)
    assert not describe_difference(native, pyrene), describe_difference(native, pyrene)
    assert native.stdout.splitlines()[-2:] == [b"ok", journal_mode.encode()]
    # A second connection under Pyrene reads what the first one wrote.
    again = run_pyrene([sqlite3, "test.db", "select count(*) from t; PRAGMA integrity_check;"],
                       cwd=dirs["pyrene"], **{**kw, "input": b""})
    assert (again.returncode, again.stdout) == (0, b"9000\nok\n"), again
    # Both databases hold the same schema and rows (dumped by a native sqlite3).
    dumps = [subprocess.run([sqlite3, str(d / "test.db"), ".dump"], capture_output=True, check=True).stdout
             for d in dirs.values()]
    assert dumps[0] == dumps[1] and dumps[0].count(b"INSERT INTO") == 9000
    assert sorted(os.listdir(dirs["native"])) == sorted(os.listdir(dirs["pyrene"])) == ["test.db"]


@pytest.mark.parametrize("link", LINKS)
def test_locks_between_processes(cbuild, tmp_path, link):
    """POSIX, OFD and flock locks across fork (held by the leader, ipc/shared.py): a
    child sees its parent's lock with the parent's pid, waits for it, inherits flock and
    OFD locks through the shared description but not POSIX locks; EDEADLK between two
    processes; a process's locks go when it exits or is killed."""
    out = assert_same([cbuild("locks_procs.c", link=link)], cwd=tmp_path).stdout
    assert b"child: [0,+1) write-locked [0,+10) by the parent\n" in out
    assert b"one EDEADLK and one granted: yes\n" in out
    assert b"child killed by KILL\nparent: [0,+10) unlocked\nflock(other, LOCK_SH | LOCK_NB) = 0\n" in out
    assert sorted(os.listdir(tmp_path)) == []


def test_flock_command_between_processes(need, tmp_path):
    """util-linux flock(1): a lock held by a background flock (and the shell it runs)
    makes `flock -n` fail with 1 and a blocking flock wait until it is released."""
    need("/usr/bin/flock", "util-linux")
    script = (
        "flock lockfile -c 'touch held; sleep 0.5' & "
        "while [ ! -e held ]; do sleep 0.02; done; "
        "flock -n lockfile true; echo nonblocking $?; "
        "flock lockfile -c 'echo waited'; echo blocking $?; "
        "wait; rm -f held lockfile"
    )
    out = assert_same(["/bin/sh", "-c", script], cwd=tmp_path).stdout
    assert out == b"nonblocking 1\nwaited\nblocking 0\n"


def test_sqlite_two_writers(need, tmp_path):
    """Two sqlite3 processes write to one database at once: each transaction takes the
    database's POSIX locks (F_SETLK, retried under .timeout), which only work if both
    processes see the same lock table (the leader's). No row lost, no corruption."""
    sqlite3 = need("/usr/bin/sqlite3", "sqlite3")
    script = (
        f"{sqlite3} db 'create table t(w, i)'\n"
        "writer() { i=0; while [ $i -lt 100 ]; do\n"
        "  echo \"begin immediate; insert into t values($1, $i); commit;\"; i=$((i+1)); done |\n"
        f"  {sqlite3} -cmd '.timeout 60000' db; }}\n"
        "writer 1 & writer 2 & wait\n"
        f"{sqlite3} db 'select w, count(*), count(distinct i) from t group by w' 'pragma integrity_check'\n"
        "rm -f db\n"
    )
    out = assert_same(["/bin/sh", "-c", script], cwd=tmp_path).stdout
    assert out == b"1|100|100\n2|100|100\nok\n"
