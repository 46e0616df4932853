"""Processes (issue 4): fork, vfork, wait statuses, natively and under Pyrene.

Each program runs natively and under `pyrene run` and must agree (testing/compare.py).
After each test no host process of the run may be left (tests/conftest.py `no_leftovers`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyrene.testing.compare import assert_same, default_env, run_pyrene
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


# -- /proc of the other processes (fs/proc.py, the leader's process table) --------------------

@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_proc_of_another_process(cbuild, tmp_path, link):
    """/proc/CHILD/{stat,status,cmdline,environ,comm,exe,statm} of a child that names
    itself and execs `sleep 1`: the pids agree with fork() and getpid(), names, command
    line and environment are the new program's; a zombie's state is Z; a reaped child is
    gone from /proc."""
    native = assert_same([cbuild("proc_others.c", link=link)], cwd=tmp_path)
    assert b"WRONG" not in native.stdout
    assert b"zombie: state Z, comm sleep" in native.stdout


# the children are listed once both have exec'd sleep (before, they are forked bashes)
PS_SCRIPT = ("sleep 30 & a=$!; sleep 30 & b=$!; echo children $a $b; "
             "until read x </proc/$a/comm && read y </proc/$b/comm && [ $x$y = sleepsleep ]; do sleep 0.01; done; "
             "ps -e -o pid=,ppid=,comm=,args=; echo pgrep; pgrep -l sleep; echo end; pkill sleep; wait")


def test_ps_and_pgrep_list_the_sandbox(need, tmp_path):
    """procps reads /proc: `ps -e` lists exactly the shell (pid 1), its two sleeps and
    itself; pgrep finds the sleeps under the pids the shell got from fork, and pkill
    ends them."""
    bash = need("/bin/bash", "bash")
    need("/usr/bin/ps", "procps")
    out = run_pyrene([bash, "-c", PS_SCRIPT], cwd=tmp_path, env=default_env(), timeout=120)
    assert out.status == 0, out
    lines = out.stdout.decode().splitlines()
    assert lines[0].startswith("children "), lines
    a, b = (int(x) for x in lines[0].split()[1:])
    ps = [line.split(None, 3) for line in lines[1:lines.index("pgrep")]]
    rows = {int(pid): (int(ppid), comm, args) for pid, ppid, comm, args in ps}
    assert rows.pop(1) == (0, "bash", f"{bash} -c {PS_SCRIPT}")
    assert rows.pop(a) == (1, "sleep", "sleep 30")
    assert rows.pop(b) == (1, "sleep", "sleep 30")
    (ps_pid, (ps_ppid, ps_comm, ps_args)), = rows.items()  # and ps itself, nothing else
    assert (ps_ppid, ps_comm, ps_args) == (1, "ps", "ps -e -o pid=,ppid=,comm=,args=")
    assert ps_pid > b
    pgrep = lines[lines.index("pgrep") + 1:-1]
    assert sorted(pgrep) == sorted([f"{a} sleep", f"{b} sleep"])
    assert lines[-1] == "end"


def test_no_host_pid_in_proc(need, tmp_path):
    """The pid fields of every /proc/PID/stat (pid, ppid, pgrp, session, tpgid) and the
    pid lines of every status are the sandbox's small vpids: while the sandbox runs, none
    is the host pid of one of its processes (the leader, instances, app processes)."""
    bash = need("/bin/bash", "bash")
    script = ("sleep 2 & sleep 2 & (sleep 2; true) & exec 3>ready; cat /proc/[0-9]*/stat; "
              "grep -h -E '^(Tgid|Ngid|Pid|PPid|TracerPid|NStgid|NSpid|NSpgid|NSsid):' /proc/[0-9]*/status; wait")
    proc = subprocess.Popen([sys.executable, "-m", "pyrene", "run", "--", bash, "-c", script], cwd=tmp_path,
                            env=default_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    host_pids = descendants(proc.pid) | {proc.pid}  # the leader, instances and app processes
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    text = out.decode()
    stat_lines = [line for line in text.splitlines() if "(" in line]
    assert len(stat_lines) >= 4, text  # bash, two sleeps, the subshell (and maybe its sleep)
    pid_fields = []
    for line in stat_lines:  # pid (comm) state ppid pgrp session tty_nr tpgid
        pid, rest = line.split(" (", 1)
        fields = rest.rsplit(") ", 1)[1].split()
        pid_fields += [int(pid), int(fields[1]), int(fields[2]), int(fields[3]), int(fields[5])]
    status_pids = [int(n) for n in re.findall(r"^\w+:\s+(-?\d+)$", text, re.M)]
    assert len(status_pids) % 9 == 0 and len(status_pids) >= 9 * 4, text
    assert set(pid_fields + status_pids) <= set(range(-1, 20)), (pid_fields, status_pids)
    assert not set(pid_fields + status_pids) & host_pids
    assert "TracerPid:\t0" in text and "PPid:\t1" in text


ZOMBIE_SCRIPT = """
(sleep 0.1 & exec sleep 60) &
for i in $(seq 50); do ps -e -o stat= | grep -q Z && break; sleep 0.1; done
echo parent $!; ps -e -o pid=,ppid=,stat=,comm=
kill $!; wait
(sleep 0.1 &)
for i in $(seq 50); do [ $(ps -e -o pid= | wc -l) = 2 ] && break; sleep 0.1; done
echo after; ps -e -o ppid=,stat=,comm=; true
"""


def test_zombies_and_orphans_in_proc(need, tmp_path):
    """A child its parent never waits for is a zombie (Z) in /proc until the parent dies
    too; an orphan's exit removes it (the host reaps both in the leader, no wait
    tells the leader)."""
    bash = need("/bin/bash", "bash")
    need("/usr/bin/ps", "procps")
    out = run_pyrene([bash, "-c", ZOMBIE_SCRIPT], cwd=tmp_path, env=default_env(), timeout=120)
    assert out.status == 0, out
    lines = out.stdout.decode().splitlines()
    parent = int(lines[0].split()[1])
    during = [line.split() for line in lines[1:lines.index("after")]]
    assert [1, 0, "bash"] in [[int(p), int(pp), c] for p, pp, _, c in during]
    assert [parent, 1, "S", "sleep"] in [[int(p), int(pp), s, c] for p, pp, s, c in during]
    assert [parent, "Z", "sleep"] in [[int(pp), s, c] for _, pp, s, c in during], during
    after = [line.split() for line in lines[lines.index("after") + 1:]]
    assert sorted((pp, c) for pp, _, c in after) == [("0", "bash"), ("1", "ps")], after


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


def test_child_exit_ends_an_infinite_wait(cbuild, tmp_path):
    """A child's SIGCHLD ends its parent's poll/epoll_wait with no timeout, 300 times in
    a row (multiprocessing's forkserver waits so). Pyrene once missed an exit reported
    to the parent just before the parked wait went back to sleep: the wait never ended
    (the program's alarm kills it then)."""
    out = assert_same([cbuild("sigchld_wakes.c")], cwd=tmp_path, timeout=120)
    assert out.stdout.count(b"150 right statuses") == 2


def test_kill_permissions_follow_the_virtual_uids(cbuild, tmp_path):
    """A child that became uid 1000 may not signal its root parent or a root group
    (EPERM, for kill, tgkill and rt_sigqueueinfo), but may SIGCONT it (same session),
    and signal itself and its own child; root may signal anyone."""
    if os.geteuid() != 0:
        pytest.skip("needs root to change uids natively")
    out = assert_same([cbuild("kill_perm.c")], cwd=tmp_path)
    assert out.stdout.count(b"EPERM") == 5 and b"sibling: Terminated" in out.stdout


def test_pidfds(need, tmp_path):
    """Python's pidfd calls: poll on a pidfd until the child exits, waitid(P_PIDFD) (and
    EAGAIN for a non-blocking pidfd), pidfd_send_signal, and Linux's errors."""
    python = need("/usr/bin/python3.11", "python3.11")
    out = assert_same([python, str(Path(__file__).parent / "py" / "pidfd_check.py")], cwd=tmp_path)
    assert b"waitid True True 7" in out.stdout and b"killed True True True" in out.stdout


def test_tgkill_reaches_a_thread_of_another_process(cbuild, tmp_path):
    """tgkill/tkill name a non-main thread of another process (the leader knows its host
    tid): that thread runs the handler; a tid paired with the wrong process is ESRCH."""
    out = assert_same([cbuild("tgkill_other.c")], cwd=tmp_path)
    assert out.stdout.count(b"in the second thread") == 2


def test_a_signal_right_after_fork_reaches_the_child(cbuild, tmp_path):
    """Each of 200 children is signalled by its parent as soon as fork returns, while
    its new instance may still be taking it over: the handler runs once in every child,
    none is lost or killed."""
    out = assert_same([cbuild("fork_signal_race.c")], cwd=tmp_path)
    assert out.stdout == b"lost 0, killed 0\n"


def test_a_child_exit_ends_the_parents_wait(cbuild, tmp_path):
    """SIGCHLD ends a ppoll parked in Pyrene with a temporary mask that unblocks it (the
    pselect pattern), 100 times in a row: Pyrene learns of the exit from a pidfd and then
    from the child's tracer, and must end the wait with the mask fixed up. (The race of
    a report just before the event loop polls again is sigchld_wakes.c's, above.)"""
    out = assert_same([cbuild("child_exit_ends_wait.c")], cwd=tmp_path)
    assert out.stdout == b"interrupted 100 of 100\n"


@pytest.mark.parametrize(
    "script",
    [
        "sleep 5 & sleep 5 & kill %1 %2; wait; echo $?; sleep 5 & kill $!; wait $!; echo $?",
        "trap 'echo got USR1' USR1; kill -USR1 $$; echo after",
        "timeout 1 sleep 5; echo $?; timeout -s INT 1 sleep 5; echo $?",
        "(trap 'echo sub got TERM; exit 9' TERM; echo ready; while :; do sleep 0.1; done) & "
        "sleep 0.5; kill -TERM $!; wait $!; echo $?",
        "bash -c 'trap \"echo exit trap\" EXIT; kill -TERM $$; echo not here'; echo $?",
        # bash's "[1]+ Terminated" notice races with its SIGCHLD handler (natively too,
        # pinned to one CPU): after the stop, only the job's status is compared
        "set -m; sleep 5 & kill -STOP %1; sleep 1; wait %1; echo stopped $?; jobs; "
        "exec 2>/dev/null; kill -CONT %1; kill %1; wait %1; echo killed $?; echo done",
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


def test_kill_of_a_zombie(need, tmp_path):
    """kill(2) of a child that has exited but is not waited for yet succeeds (and does
    nothing), as multiprocessing's terminate() expects; ESRCH once it is reaped."""
    python = need("/usr/bin/python3.11", "python3.11")
    code = ("import os, time\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os._exit(3)\n"
            "time.sleep(0.3)\n"
            "for sig in (0, 15):\n"
            "    os.kill(pid, sig)\n"
            "    os.killpg(os.getpgrp(), 0)\n"
            "print('zombie: kill ok; status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
            "try:\n"
            "    os.kill(pid, 0)\n"
            "except ProcessLookupError:\n"
            "    print('reaped: ESRCH')\n")
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


def test_a_signal_from_outside_ends_a_parked_read(need, tmp_path):
    """A host user's kill of the app's own host pid, which Pyrene is told nothing of,
    ends a read that waits on an idle pipe, as it does natively (status 128+15), within
    the instance's periodic look at parked tasks (kernel/waits.py)."""
    sh = need("/bin/sh", "dash")
    proc = subprocess.Popen([sys.executable, "-m", "pyrene", "run", "--", sh, "-c", "echo ready; read x; echo read"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path, env=default_env())
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline() == b"ready\n"
    # pyrene run (the leader) -> the first instance -> the app, a picoprocess running sh
    app = [pid for pid in descendants(proc.pid) if Path(f"/proc/{pid}/exe").resolve().name.startswith("memfd:pyrene")]
    assert len(app) == 1
    time.sleep(0.3)  # the read is parked by now, its signals looked at once
    os.kill(app[0], signal.SIGTERM)
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    assert proc.stdout.read() == b""
    proc.stdout.close()
    proc.stdin.close()


def in_a_terminal(argv: list[str], cwd: object, keys: list[bytes]) -> bytes:
    """Run `argv` as the session leader of a new pty (its controlling terminal) and type
    `keys`, each once the prompt shows (PS1 "PROMPT$ "), a Ctrl-C once the command before
    it has become the terminal's foreground job; what the terminal showed."""
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
        assert until(b"PROMPT$ "), f"{argv}: no prompt in {shown!r}"
        shell_group = os.tcgetpgrp(master)  # the foreground process group, seen from the master side
        for i, key in enumerate(keys):
            os.write(master, key)
            if key == b"\x03":  # again until the prompt shows: the first may come before the command runs
                while not until(b"PROMPT$ ", 2):
                    assert time.monotonic() < deadline, f"{argv}: no prompt after Ctrl-C in {shown!r}"
                    os.write(master, key)
            elif keys[i + 1:i + 2] != [b"\x03"]:
                assert until(b"PROMPT$ "), f"{argv}: no prompt in {shown!r}"
            else:  # Ctrl-C once the command is the terminal's foreground: sooner races, natively too
                while os.tcgetpgrp(master) == shell_group:
                    assert time.monotonic() < deadline, f"{argv}: {key!r} never took the terminal"
                    time.sleep(0.01)
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
