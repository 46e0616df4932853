"""Processes (issue 4): fork, vfork, wait statuses, natively and under Pyrene.

Each program runs natively and under `pyrene run` and must agree (testing/compare.py).
After each test no host process of the run may be left: the test process is made a
child subreaper, so anything Pyrene left behind (an instance, a stub, an app process, a
zombie) stays our descendant, and `no_leftovers` fails if one remains (dead processes
re-parented to us, because a test killed Pyrene, are reaped).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from pyrene.testing.compare import assert_same, default_env

PR_SET_CHILD_SUBREAPER = 36


def descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = {int(k) for k in f.read().split()}
        except OSError:
            continue
        out |= kids
        todo.extend(kids)
    return out


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    before = descendants(os.getpid())
    yield
    deadline = time.monotonic() + 5
    while True:
        left = descendants(os.getpid()) - before
        for pid in list(left):
            # a process whose parent died (Pyrene killed on purpose) is re-parented to us
            # and ours to reap, once dead; a zombie whose parent lives is not
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    left.discard(pid)
            except ChildProcessError:
                pass
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    states = {}
    for pid in left:
        try:
            with open(f"/proc/{pid}/stat") as f:
                states[pid] = f.read().split(")")[-1].split()[0]
        except OSError:
            pass
    libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    assert not left, f"host processes left behind (pid: state): {states}"


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
    ],
    ids=["pipe-subshell", "command-substitution", "loop-of-pipelines", "statuses", "stderr"],
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


# -- signals between processes, groups and sessions, job control ---------------------------

@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_signals_between_processes(cbuild, tmp_path, link):
    """kill to a child, to our group (0) and to another group (-pgid); sigqueue's
    siginfo (si_value, si_code, si_pid == the sender); setpgid/setsid/getsid rules;
    SIGSTOP/SIGCONT with WUNTRACED/WCONTINUED; SIGPIPE; a read() in a child interrupted
    by its parent's kill (EINTR, or restarted with SA_RESTART); sigwaitinfo/sigtimedwait,
    signalfd; timer_create."""
    out = assert_same([cbuild("signals_procs.c", link=link)], cwd=tmp_path)
    assert b"test process: exited 0" in out.stdout and b"read = -1 EINTR" in out.stdout


@pytest.mark.parametrize(
    "script",
    [
        "sleep 5 & sleep 5 & kill %1 %2; wait; echo $?; sleep 5 & kill $!; wait $!; echo $?",
        "trap 'echo got USR1' USR1; kill -USR1 $$; echo after",
        "timeout 1 sleep 5; echo $?; timeout -s INT 1 sleep 5; echo $?",
        "(trap 'echo sub got TERM; exit 9' TERM; echo ready; while :; do sleep 0.1; done) & "
        "sleep 0.5; kill -TERM $!; wait $!; echo $?",
        "bash -c 'trap \"echo exit trap\" EXIT; kill -TERM $$; echo not here'; echo $?",
        "set -m; sleep 5 & kill -STOP %1; wait %1; echo stopped $?; jobs; kill -CONT %1; kill %1; wait; echo done",
    ],
    ids=["background-jobs", "trap-self", "timeout", "kill-subshell", "exit-trap", "stop-cont"],
)
def test_bash_signals(need, tmp_path, script):
    bash = need("/bin/bash", "bash")
    assert_same([bash, "-c", script], cwd=tmp_path)


def test_python_signals(need, tmp_path):
    """Python handlers, os.kill between processes, Popen.send_signal/terminate/kill."""
    python = need("/usr/bin/python3.11", "python3.11")
    code = ("import os, signal, subprocess, sys, time\n"
            "r, w = os.pipe()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    signal.signal(signal.SIGUSR1, lambda s, f: (os.write(w, b'child got USR1\\n'), os._exit(4)))\n"
            "    os.write(w, b'ready\\n')\n"
            "    while True:\n"
            "        signal.pause()\n"
            "print(os.read(r, 6))\n"
            "os.kill(pid, signal.SIGUSR1)\n"
            "print(os.read(r, 100))\n"
            "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
            "for how in ('send_signal', 'terminate', 'kill'):\n"
            "    p = subprocess.Popen(['sleep', '5'])\n"
            "    getattr(p, how)(*(() if how != 'send_signal' else (signal.SIGINT,)))\n"
            "    print(how, p.wait())\n"
            "got = []\n"
            "signal.signal(signal.SIGUSR2, lambda s, f: got.append(s))\n"
            "os.kill(os.getpid(), signal.SIGUSR2)\n"
            "print(got, os.getpgrp() == os.getpgid(0), os.getsid(0) == os.getsid(os.getpid()))\n")
    assert_same([python, "-c", code], cwd=tmp_path)


def test_signals_to_pyrene_reach_the_app(need, tmp_path):
    """SIGTERM sent to `pyrene run` goes to the app (process 1), whose trap runs."""
    bash = need("/bin/bash", "bash")
    proc = subprocess.Popen([sys.executable, "-m", "pyrene", "run", "--", bash, "-c",
                             "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, cwd=tmp_path, env=default_env())
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 3
    assert proc.stdout.read() == b"got TERM\n"
    proc.stdout.close()


def in_a_terminal(argv: list[str], cwd: object, keys: list[bytes]) -> bytes:
    """Run `argv` as the session leader of a new pty (its controlling terminal) and type
    `keys`, each once the prompt shows (PS1 "PROMPT$ "); what the terminal showed."""
    import fcntl
    import select
    import termios

    master, slave = os.openpty()

    def controlling_tty() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = dict(default_env(), PS1="PROMPT$ ", TERM="dumb")
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            preexec_fn=controlling_tty, env=env, cwd=cwd)
    os.close(slave)
    shown = b""
    mark = 0
    deadline = time.monotonic() + 60

    def until(pattern: bytes, timeout: float = 60) -> bool:
        """Wait for `pattern` to show after what an earlier call saw."""
        nonlocal shown, mark
        deadline = time.monotonic() + timeout
        while pattern not in shown[mark:]:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return False
            try:
                shown += os.read(master, 4096)
            except OSError:
                return False
        mark = shown.index(pattern, mark) + len(pattern)
        return True

    try:
        assert until(b"PROMPT$ "), f"no prompt in {shown!r}"
        for i, key in enumerate(keys):
            os.write(master, key)
            if key == b"\x03":  # again until the prompt shows: the first may come before the command runs
                while not until(b"PROMPT$ ", 2):
                    assert time.monotonic() < deadline, f"no prompt after Ctrl-C in {shown!r}"
                    os.write(master, key)
            elif keys[i + 1:i + 2] != [b"\x03"]:
                assert until(b"PROMPT$ "), f"no prompt in {shown!r}"
        os.write(master, b"exit\n")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return shown


def test_job_control_in_a_terminal(need, tmp_path):
    """`bash -i` at a terminal: a foreground `sleep` gets Ctrl-C (its own process group
    is the terminal's foreground), bash's prompt comes back and the next command runs."""
    bash = need("/bin/bash", "bash")
    keys = [b"sleep 300\n", b"\x03", b"echo o''k $?\n"]  # the prompt would not come back for 300 s
    for argv in ([bash, "--norc", "-i"], [sys.executable, "-m", "pyrene", "run", "--", bash, "--norc", "-i"]):
        shown = in_a_terminal(argv, tmp_path, keys)
        assert b"\r\nok 130\r\n" in shown, (argv, shown)  # 128 + SIGINT
