"""Processes (issue 4): fork, vfork, wait statuses, natively and under Pyrene.

Each program runs natively and under `pyrene run` and must agree (testing/compare.py).
After each test no host process of the run may be left (tests/conftest.py `no_leftovers`).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from pyrene.testing.compare import assert_same, default_env
from pyrene.testing.leftovers import descendants

@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_fork_and_wait_statuses(cbuild, tmp_path, link):
    """fork/vfork/wait4/waitpid/waitid: exit codes, signal deaths, WNOHANG, ECHILD,
    WNOWAIT, si_pid, vfork's shared memory, a grandchild."""
    assert_same([cbuild("fork_wait.c", link=link)], cwd=tmp_path)


@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_exec_errors_and_fork_exec(cbuild, tmp_path, link):
    """execve's errors come back before the point of no return (ENOENT, EACCES,
    ENOEXEC, E2BIG); close-on-exec fds are closed; fork/vfork + exec + wait; exec of
    the process itself at the end."""
    assert_same([cbuild("exec_errors.c", link=link)], cwd=tmp_path)


@pytest.mark.parametrize(
    "script",
    [
        "echo a | tr a b; (exit 3); echo $?",
        "x=$(echo hi); echo $x; y=$(exit 5); echo $?",
        "for i in $(seq 50); do echo $i | tr 1 x | cat; done | tail -3",
        "sh -c 'kill -TERM $$'; echo $?; /etc/passwd; echo $?; nonexistent-cmd; echo $?",
        "echo to-stderr >&2 | cat; true | false; echo $?",
        "mkfifo ff; (echo a > ff &); cat ff; cat ff & sleep 0.2; echo b > ff; wait; rm ff",
    ],
    ids=["pipe-subshell", "command-substitution", "loop-of-pipelines", "statuses", "stderr", "fifo"],
)
def test_bash(need, tmp_path, script):
    bash = need("/bin/bash", "bash")
    assert_same([bash, "-c", script], cwd=tmp_path)


def test_python_subprocess(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    code = ("import subprocess, os\n"
            "print(subprocess.run(['echo', 'x']).returncode)\n"
            "print(subprocess.run(['sh', '-c', 'exit 7']).returncode)\n"
            "print(subprocess.run(['cat'], input=b'piped', capture_output=True).stdout)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n    os._exit(3)\n"
            "print(os.waitpid(pid, 0)[0] == pid)\n")
    assert_same([python, "-c", code], cwd=tmp_path)


def test_nothing_left_when_pyrene_is_killed(need, tmp_path):
    """SIGKILL `pyrene run` while its app has children: the instances die with the
    leader, the app processes with their instances (no_leftovers checks)."""
    bash = need("/bin/bash", "bash")
    proc = subprocess.Popen([sys.executable, "-m", "pyrene", "run", "--", bash, "-c",
                             "sleep 100 & sleep 100 & echo started; wait"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, cwd=tmp_path, env=default_env())
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"started\n"
    deadline = time.monotonic() + 30
    while len(descendants(proc.pid)) < 6 and time.monotonic() < deadline:  # 3 instances, 3 apps
        time.sleep(0.05)
    assert len(descendants(proc.pid)) >= 6, descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()


def test_rlimit_nproc(cbuild, tmp_path):
    """RLIMIT_NPROC counts the processes of a real uid (after setuid), ends a fork loop
    with EAGAIN, frees up as children are reaped, and does not apply to root."""
    assert_same([cbuild("fork_limits.c")], cwd=tmp_path)


@pytest.mark.parametrize(("key", "expected"), [
    ("pyrene.max_processes = 4", b"forked 3, then: Resource temporarily unavailable\n"
                                 b"after reaping them: fork works, status 7\n"),
    ("sys.disallow_subprocesses = true", b"forked 0, then: Resource temporarily unavailable\n"
                                         b"after reaping them: Resource temporarily unavailable\n"),
])
def test_manifest_process_limits(cbuild, tmp_path, key, expected):
    """A fork bomb ends with EAGAIN at the sandbox's limit; Pyrene stays intact."""
    prog = cbuild("fork_limits.c")
    manifest = tmp_path / "limits.manifest"
    manifest.write_text(f'libos.entrypoint = "{prog}"\nloader.argv = ["fork_limits", "loop"]\n'
                        f'fs.root.uri = "file:/"\n{key}\n')
    result = subprocess.run([sys.executable, "-m", "pyrene", "run", "--manifest", str(manifest)],
                            capture_output=True, cwd=tmp_path, env=default_env(), timeout=60)
    reported = b"".join(line for line in result.stdout.splitlines(keepends=True) if b" = " not in line)  # not CHECKs
    assert (result.returncode, reported) == (0, expected), result.stderr


def test_memory_and_files_shared_across_fork(cbuild, tmp_path):
    """MAP_SHARED (anonymous and /dev/shm) and semaphores in it are shared by parent and
    child; an inherited fd shares its offset; O_APPEND writes of two processes all land."""
    assert_same([cbuild("shared_mem_procs.c")], cwd=tmp_path)


def test_first_process_exit_ends_the_sandbox(need, tmp_path):
    """As when a pid namespace's init dies: once process 1 exits, every other process of
    the sandbox is killed, `pyrene run` returns with process 1's status, and nothing is
    left running (no_leftovers). (Natively the background sleep would outlive bash.)"""
    bash = need("/bin/bash", "bash")
    result = subprocess.run([sys.executable, "-m", "pyrene", "run", "--", bash, "-c",
                             "sleep 100 & sleep 100 & echo started; exit 3"],
                            stdin=subprocess.DEVNULL, capture_output=True, cwd=tmp_path, env=default_env(),
                            timeout=60)
    assert (result.returncode, result.stdout) == (3, b"started\n"), result.stderr
