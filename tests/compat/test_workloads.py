"""Real multi-process workloads (issue 4 acceptance), natively and under Pyrene.

Each workload runs natively and under `pyrene run` in its own scratch directory and must
agree on stdout, stderr, exit status and the files it leaves:

* `make -j2` of a small C project (bench/make_project: five .c files, a header, a
  Makefile with a pattern rule): make's jobserver is a pipe, two gcc drivers run at
  once, each running cc1 and as, and for the link collect2 and ld; make waits for them
  in pselect until SIGCHLD. Then the built program runs.
* bash: a 200-iteration loop of small pipelines, here-docs and here-strings, xargs -P2,
  nested command substitutions, subshell pipelines, `wait` for background jobs,
  pipefail and pipeline statuses.
* python3.11: subprocess pipelines and communicate() with more than 1 MiB each way,
  os.fork/waitpid/_exit statuses, posix_spawn, os.system.

They are kept small: the suite's time matters (bench/ measures these workloads' speed).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pyrene.testing.compare import Outcome, default_env, describe_difference, run_native, run_pyrene

# the small C project of bench/run.py's make workload: five .c files, a header and a
# Makefile with a pattern rule
MAKE_PROJECT = Path(__file__).resolve().parents[2] / "bench" / "make_project"


def write_project(directory: Path) -> None:
    for source in MAKE_PROJECT.iterdir():
        (directory / source.name).write_bytes(source.read_bytes())


def tree(directory: Path) -> dict[str, str]:
    """Every file under `directory` (relative name -> what it is): regular files by a
    digest of their content, except object files and executables, which carry build
    details (paths, build ids): those count by name only."""
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            name = str(path.relative_to(directory))
            if path.suffix == ".o" or os.access(path, os.X_OK):
                files[name] = "built"
            else:
                files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def assert_same_run(tmp_path: Path, argv: list[str], setup=None, timeout: float = 300) -> None:
    """Run `argv` natively in tmp_path/native and under Pyrene in tmp_path/pyrene (each
    prepared by `setup(dir)`): same status, output and resulting files."""
    native_dir, pyrene_dir = tmp_path / "native", tmp_path / "pyrene"
    for directory in (native_dir, pyrene_dir):
        directory.mkdir()
        if setup is not None:
            setup(directory)
    native, pyrene = compare_in(argv, native_dir, pyrene_dir, timeout)
    difference = describe_difference(native, pyrene)
    assert not difference, f"{argv!r} behaves differently under pyrene:\n{difference}"
    assert tree(native_dir) == tree(pyrene_dir)


def compare_in(argv: list[str], native_dir: Path, pyrene_dir: Path, timeout: float) -> tuple[Outcome, Outcome]:
    """compare() with a different cwd for each half (both hold the same files)."""
    kw = {"input": b"", "env": default_env(), "timeout": timeout}
    return run_native(argv, cwd=native_dir, **kw), run_pyrene(argv, cwd=pyrene_dir, **kw)


def test_make_j2_builds_a_c_project(need, tmp_path):
    need("/usr/bin/make", "make")
    need("/usr/bin/gcc", "gcc")
    need("/usr/bin/ld", "binutils")
    bash = need("/bin/bash", "bash")
    # the build, then the program it built, then make again (nothing to do)
    script = "make -j2 && ./prog one two; echo status $?; make -j2"
    assert_same_run(tmp_path, [bash, "-c", script], setup=write_project)
    assert {"prog", "main.o", "add.o", "mul.o", "fact.o", "greet.o"} <= set(tree(tmp_path / "pyrene"))


BASH_SCRIPT = r"""
for i in $(seq 200); do echo $i | tr 0-9 a-j | wc -c; done | sort | uniq -c
cat <<END
here-doc $(echo nested $(echo deeper $(printf '%s' deepest)))
$((6 * 7)) and $HOME
END
cat <<'END'
quoted $HOME $(not run)
END
tr a-z A-Z <<< "here-string"
read -r a b <<< "x y"; echo "read $a-$b"
printf '%s\n' 5 3 9 1 7 2 | xargs -P2 -n1 sh -c 'echo item $(($1 * 2))' _ | sort -n -k2
printf '%s\n' a b c d | xargs -P2 -n2 echo | sort
( echo sub1; echo sub2 >&2; exit 0 ) 2>&1 | sort -r
( cd /; pwd; exit 3 ) | cat; echo "subshell status ${PIPESTATUS[*]}"
{ echo grp; false; } | cat; echo "group status ${PIPESTATUS[*]}"
x=$(echo $(echo $(echo a) b) c); echo "nested: $x"
echo "$(cat <<'Q'
here-doc in substitution $HOME
Q
)"
(exit 4) & p1=$!
(exit 6) & p2=$!
true &
wait $p1; echo "wait p1 $?"
wait $p2; echo "wait p2 $?"
wait; echo "wait all $?"
for n in 1 2 3; do (exit $n) & done; wait; echo "loop jobs $?"
false | true; echo "no pipefail $?"
true | false; echo "last fails $?"
set -o pipefail
false | true; echo "pipefail $?"
(exit 3) | (exit 5) | cat; echo "pipefail rightmost $? ${PIPESTATUS[*]}"
! false | false; echo "negated $?"
set +o pipefail
echo done > result.txt
exit 7
"""


def test_bash_workload(need, tmp_path):
    bash = need("/bin/bash", "bash")
    need("/usr/bin/xargs", "findutils")
    assert_same_run(tmp_path, [bash, "-c", BASH_SCRIPT])


PYTHON_SCRIPT = r"""
import hashlib, os, subprocess, sys

data = b"".join(b"%07d line of data\n" % i for i in range(70_000))  # 1.3 MiB
assert len(data) > 1 << 20

# a pipeline of three processes built with Popen, fed from here
p1 = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
p2 = subprocess.Popen(["tr", "a-z", "A-Z"], stdin=p1.stdout, stdout=subprocess.PIPE)
p1.stdout.close()
p3 = subprocess.Popen(["sha256sum"], stdin=p2.stdout, stdout=subprocess.PIPE)
p2.stdout.close()
p1.stdin.write(data)
p1.stdin.close()
print("pipeline", p3.communicate()[0].split()[0].decode(), p1.wait(), p2.wait(), p3.returncode)

# communicate: > 1 MiB in, > 1 MiB out on stdout and on stderr, at once
out, err = subprocess.Popen(["sh", "-c", "tee /dev/stderr | rev"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE).communicate(data)
print("communicate", len(out), hashlib.sha256(out).hexdigest()[:16], err == data)
# a child that writes it all back in one unbuffered write(2) of 1.3 MiB to a pipe
child = "import os, sys; d = sys.stdin.buffer.read(); print(os.write(1, d[::-1]), file=sys.stderr); sys.exit(3)"
r = subprocess.run([sys.executable, "-c", child], input=data, capture_output=True)
print("run", r.returncode, r.stdout == data[::-1], r.stderr)

# os.fork + os.waitpid + os._exit
for code in (0, 1, 42, 255):
    pid = os.fork()
    if pid == 0:
        os._exit(code)
    wpid, status = os.waitpid(pid, 0)
    print("fork", code, wpid == pid, os.WIFEXITED(status), os.waitstatus_to_exitcode(status))
children = set()
for i in range(4):
    pid = os.fork()
    if pid == 0:
        os._exit(10 + i)
    children.add(pid)
reaped = [os.waitpid(-1, 0) for _ in children]
print("wait any", sorted(os.waitstatus_to_exitcode(s) for _, s in reaped), {p for p, _ in reaped} == children)
try:
    os.waitpid(-1, 0)
except ChildProcessError as e:
    print("no child left", e.errno)

# a child's exit ends the parent's wait in select (make's jobserver waits so, in pselect)
import select, signal
def on_sigchld(sig, frame):
    raise InterruptedError("SIGCHLD")
signal.signal(signal.SIGCHLD, on_sigchld)
r, w = os.pipe()
try:
    if os.fork() == 0:
        os._exit(0)
    print("select", select.select([r], [], [], 30))
except InterruptedError as e:
    print("select ended by", e)
signal.signal(signal.SIGCHLD, signal.SIG_DFL)
print("reaped", os.wait()[1])

# posix_spawn and posix_spawnp
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "echo spawned $0; exit 5", "arg0"], {"PATH": "/usr/bin:/bin"})
print("posix_spawn", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
pid = os.posix_spawnp("true", ["true"], dict(os.environ), file_actions=[(os.POSIX_SPAWN_CLOSE, 0)])
print("posix_spawnp", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
sys.stdout.flush()

# os.system
print("system", os.waitstatus_to_exitcode(os.system("echo from system; exit 9")))
print("system pipeline", os.system("seq 1000 | tail -n 1 > system.txt"))
print("check_output", subprocess.check_output("echo a; echo b >&2", shell=True, stderr=subprocess.STDOUT))
sys.exit(4)
"""


def test_python_processes(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    assert_same_run(tmp_path, [python, "-c", PYTHON_SCRIPT])
