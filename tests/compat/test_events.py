"""Waiting without blocking the instance (DESIGN.md decision 6), native vs Pyrene: poll,
select, epoll, eventfd, timerfd, sleeps, and signals ending blocked calls (EINTR or a
restart under SA_RESTART); a blocking read on stdin that gets its data later; Python's
selectors on top of all that. (asyncio needs socketpair for its self-pipe: not yet.)

Timing-dependent facts are printed as bounds by the programs ("waited >= 0.14"), never
as durations, and no test asserts a speed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pyrene.testing.compare import Outcome, assert_same, default_env, describe_difference

LINKS = ["dynamic", "static"]


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("source", ["poll.c", "epoll.c", "sigwait.c", "kernel_siginfo.c", "far_deadline.c"])
def test_c_program(cbuild, tmp_path, link, source):
    program = cbuild(source, link=link)
    assert_same([program], cwd=tmp_path)
    assert os.listdir(tmp_path) == []


def pyrene_argv(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "pyrene", "run", "--", *argv]


def run_with(argv: list[str], cwd, act) -> Outcome:  # type: ignore[no-untyped-def]
    """Start `argv` with stdin a pipe, let `act(proc)` talk to it, collect the outcome."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=cwd, env=default_env())
    try:
        act(proc)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Outcome(proc.returncode, out, err)


def both(argv: list[str], cwd, act) -> None:  # type: ignore[no-untyped-def]
    native = run_with(argv, cwd, act)
    pyrene = run_with(pyrene_argv(argv), cwd, act)
    assert (native.status, native.stdout, native.stderr) == (pyrene.status, pyrene.stdout, pyrene.stderr), \
        describe_difference(native, pyrene)


def write_later(data: bytes):  # type: ignore[no-untyped-def]
    def act(proc: subprocess.Popen) -> None:
        time.sleep(0.5)
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()  # communicate() closes it
    return act


def test_stdin_written_later(need, tmp_path):
    """cat blocks reading a stdin pipe that gets its data 0.5 s later: the task is parked,
    not the instance, and gets the data."""
    cat = need("/bin/cat", "coreutils")
    both([cat], tmp_path, write_later(b"late data\n"))


def test_python_stdin_written_later(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    both([python, "-c", "import sys; print(repr(sys.stdin.read()))"], tmp_path, write_later(b"one\ntwo\n"))


def test_forwarded_signal_ends_a_blocked_read(need, tmp_path):
    """SIGTERM sent to `pyrene run` reaches the app parked in a read of stdin: its Python
    handler runs (read interrupted), and without a handler the app dies of it."""
    python = need("/usr/bin/python3.11", "python3.11")
    handled = ("import signal, sys\n"
               "def bye(*a):\n    print('term'); sys.exit(3)\n"
               "signal.signal(signal.SIGTERM, bye)\n"
               "print('ready', flush=True); sys.stdin.read()\n")
    default = "import sys; print('ready', flush=True); sys.stdin.read()\n"

    def terminate(proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)  # stdin stays open: an EOF must not end the read before the signal does

    for code in (handled, default):
        both([python, "-c", code], tmp_path, terminate)


def test_python_selectors_over_a_pipe(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    code = (
        "import os, selectors, time\n"
        "for cls in (selectors.SelectSelector, selectors.PollSelector, selectors.EpollSelector):\n"
        "    sel = cls(); r, w = os.pipe()\n"
        "    sel.register(r, selectors.EVENT_READ, 'r')\n"
        "    t0 = time.monotonic(); print(cls.__name__, sel.select(0.2), time.monotonic() - t0 >= 0.19)\n"
        "    os.write(w, b'x'); print([(k.data, ev) for k, ev in sel.select(5)])\n"
        "    sel.register(w, selectors.EVENT_WRITE, 'w')\n"
        "    print(sorted((k.data, ev) for k, ev in sel.select()))\n"
        "    os.close(w); os.read(r, 1); print([(k.data, ev) for k, ev in sel.select(5)])\n"
        "    sel.close(); os.close(r)\n"
    )
    assert_same([python, "-c", code], cwd=tmp_path)


def test_python_alarm_interrupts_a_pipe_read(need, tmp_path):
    """A blocking read of an empty pipe whose write end the process holds waits forever
    natively too; SIGALRM (alarm(1)) with a raising handler ends it in both."""
    python = need("/usr/bin/python3.11", "python3.11")
    code = (
        "import os, signal, time\n"
        "class Alarm(Exception): pass\n"
        "def ring(*a): raise Alarm\n"
        "signal.signal(signal.SIGALRM, ring); r, w = os.pipe()\n"
        "signal.alarm(1)\n"
        "try:\n    os.read(r, 1)\nexcept Alarm:\n    print('interrupted')\n"
        "signal.signal(signal.SIGALRM, lambda *a: None); signal.alarm(1)\n"
        "t0 = time.monotonic(); time.sleep(1.5); print('slept on', time.monotonic() - t0 >= 1.4)\n"
    )
    assert_same([python, "-c", code], cwd=tmp_path)


def test_interrupted_sleep(need, tmp_path):
    """SIGINT to `pyrene run -- sleep 10` ends the parked clock_nanosleep: the app dies of
    SIGINT as a native sleep does."""
    sleep = need("/bin/sleep", "coreutils")

    def interrupt(proc: subprocess.Popen) -> None:
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)

    both([sleep, "10"], tmp_path, interrupt)


def test_bash_read_timeout(need, tmp_path):
    """bash's `read -t` times out with SIGALRM from setitimer while it waits on stdin (a
    pipe that stays open and empty), and `read -t` gets data written before the timeout."""
    bash = need("/bin/bash", "bash")

    def hold_stdin(proc: subprocess.Popen) -> None:
        proc.wait(timeout=60)  # stdin stays open and empty until bash is done

    # --norc: bash runs ~/.bashrc when getpeername(0) fails with anything but ENOTSOCK
    # (it takes stdin for a network connection), and Pyrene has no getpeername yet
    both([bash, "--norc", "-c", "read -t 0.3 x; echo rc=$?"], tmp_path, hold_stdin)
    both([bash, "--norc", "-c", "read -t 10 x; echo rc=$? $x"], tmp_path, write_later(b"hello\n"))
