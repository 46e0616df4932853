"""The synthesized /proc, run natively and under Pyrene.

Values that differ between two runs of a program (pids, inode numbers, times, memory
counters) are not compared; what the programs print instead is whether those values
agree with each other and with the syscalls: the pid in /proc/self/stat is getpid(),
the Uid line is getuid(), fd/N follows to the file fstat(N) describes, a file read in
one-byte pieces is the file read at once. Host-only values that Pyrene copies (the
kernel's version, the CPUs) are compared as they are.

The escape tests cannot be comparisons: they check, under Pyrene only, that the links
of /proc lead into the sandbox's own namespace and never to the host's.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pyrene.fs.proc import cpu_list, cpu_mask, mangle
from pyrene.testing.compare import assert_same, compare, default_env, describe_difference, run_pyrene

LINKS = ["dynamic", "static"]


@pytest.mark.parametrize("link", LINKS)
def test_proc_self(cbuild, tmp_path, link):
    program = cbuild("procself.c", link=link)
    native = assert_same([program, "one", "two words", ""], cwd=tmp_path)
    assert b"WRONG" not in native.stdout
    assert b"stat: 52 fields" in native.stdout


@pytest.mark.parametrize("link", LINKS)
def test_proc_self_fd_magic_links(cbuild, tmp_path, link):
    program = cbuild("procfd.c", link=link)
    native = assert_same([program], cwd=tmp_path, input=b"from stdin\n")
    assert b"deleted file reopened: 9 file data" in native.stdout
    assert b"written through the link" in native.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["readlink", "/proc/self/exe", "/proc/self/root", "/dev/stdin", "/dev/fd"],
        ["ls", "/proc/self/fd", "/proc/self/fdinfo"],
        ["stat", "-c", "%n %F %s %a", "/proc/self/status", "/proc/self/exe", "/proc/self/cwd", "/proc/self/fd",
         "/proc/self/fd/0", "/proc/self", "/proc/self/task", "/proc/cpuinfo"],
        ["cat", "/proc/sys/kernel/ostype", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/hostname",
         "/proc/sys/kernel/pid_max", "/proc/sys/kernel/ngroups_max", "/proc/sys/vm/overcommit_memory",
         "/proc/sys/fs/pipe-max-size", "/proc/version", "/proc/filesystems"],
        ["grep", "-c", "^processor", "/proc/cpuinfo"],
        ["grep", "-c", "^cpu[0-9]", "/proc/stat"],
        ["grep", "-c", "^MemTotal:", "/proc/meminfo"],
        ["nproc"],
        ["getconf", "_NPROCESSORS_ONLN"],
        ["cut", "-d:", "-f1", "/proc/self/status"],  # the same field names, in the same order
        ["cut", "-d", " ", "-f1,3", "/proc/self/stat"],  # "pid state": self is cut: 1 R, or its host pid
        ["findmnt", "-n", "-o", "TARGET,FSTYPE", "/proc"],
        ["wc", "-l", "/proc/self/limits"],
        ["cat", "/proc/self/loginuid", "/proc/self/oom_score_adj"],
    ],
    ids=lambda argv: " ".join(argv)[:60],
)
def test_coreutils_on_proc(tmp_path, argv):
    if argv[0] == "cut" and "/proc/self/stat" in argv:
        native, pyrene = compare(argv, cwd=tmp_path)
        assert native.status == pyrene.status == 0
        assert re.fullmatch(rb"\d+ R\n", native.stdout) and pyrene.stdout == b"1 R\n"
        return
    assert_same(argv, cwd=tmp_path)


def test_ls_l_proc_self_fd(tmp_path):
    """ls -l of fd/: modes by access, pipes by inode (normalized), the directory's own fd."""
    def normalized(out: bytes) -> bytes:
        out = re.sub(rb"pipe:\[\d+\]", b"pipe:[N]", out)
        out = re.sub(rb"/proc/\d+/", b"/proc/PID/", out)
        return re.sub(rb"\w{3} [ \d]\d \d\d:\d\d", b"DATE", out)

    native, pyrene = compare(["ls", "-l", "/proc/self/fd/"], cwd=tmp_path)
    assert (native.status, normalized(native.stdout)) == (pyrene.status, normalized(pyrene.stdout))
    assert b"/proc/" in native.stdout  # ls's own directory fd


def test_cat_dev_stdin(tmp_path):
    assert_same(["cat", "/dev/stdin", "/proc/self/fd/0"], cwd=tmp_path, input=b"piped\n")


def test_dev_stdout_to_a_file_outside_the_writable_mounts(tmp_path):
    """stdout is a host file the sandbox sees read-only: opening /dev/stdout reopens the
    file through fd 1 (as Linux's magic link does) instead of failing with EROFS."""
    work = tmp_path / "work"  # the cwd: the only writable mount besides /tmp
    work.mkdir()
    dd = ["dd", "if=/dev/stdin", "of=/dev/stdout", "status=none"]
    outs = []
    for name, prefix in (("native", []), ("pyrene", [sys.executable, "-m", "pyrene", "run", "--"])):
        out = tmp_path / f"out-{name}"
        with open(out, "wb") as f:
            result = subprocess.run([*prefix, *dd], cwd=work, env=default_env(), input=b"copied\n", stdout=f,
                                    timeout=60)
        outs.append((result.returncode, out.read_bytes()))
    assert outs[0] == outs[1] == (0, b"copied\n")


def test_python_proc(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    code = (
        "import os\n"
        "print(sorted(os.listdir('/proc/self/fd')))\n"
        "print(os.readlink('/proc/self/exe') == os.path.realpath('/usr/bin/python3.11'))\n"
        "print(os.readlink('/proc/self/cwd') == os.getcwd())\n"
        "print([os.path.ismount(p) for p in ('/', '/proc', '/dev', '/dev/shm', '/proc/self')])\n"
        "print(open('/proc/self/stat').read().split()[0] == str(os.getpid()))\n"
        "print(len(os.sched_getaffinity(0)) <= os.cpu_count())\n"
        "print(open('/proc/self/root/etc/hostname').read() == open('/etc/hostname').read())\n"
    )
    assert_same([python, "-c", code], cwd=tmp_path)


def test_ps_sees_only_the_sandbox(need, tmp_path):
    """procps and busybox parse /proc/PID/stat and status: they find one process, pid 1."""
    ps = run_pyrene([need("/usr/bin/ps", "procps"), "-o", "pid,ppid,stat,comm"], cwd=tmp_path, env=default_env(),
                    input=b"")
    assert (ps.status, ps.stdout) == (0, b"  PID  PPID STAT COMMAND\n    1     0 Rs   ps\n"), ps
    busybox = need("/usr/bin/busybox", "busybox-static")
    bps = run_pyrene([busybox, "ps"], cwd=tmp_path, env=default_env(), input=b"")
    procs = bps.stdout.splitlines()[1:]
    assert bps.status == 0 and len(procs) == 1 and procs[0].startswith(b"    1 "), bps
    assert procs[0].endswith(b"busybox ps"), bps


ESCAPES = r"""
import errno, os
def errname(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
# the sandbox's /tmp is a fresh tmpfs; the host's /tmp holds this run's pyrene-tmpfs-* dir
print("root/tmp is the sandbox's", os.listdir("/proc/self/root/tmp") == os.listdir("/tmp") == [])
print("root/.. chains stay", os.listdir("/proc/self/root/" + "../" * 40 + "tmp") == [])
print("root/proc/self/root", os.listdir("/proc/self/root/proc/self/root/tmp") == [])
os.chdir("/tmp")
print("cwd/..", os.listdir("/proc/self/cwd/" + "../" * 10) == os.listdir("/"))
fd = os.open("/tmp", os.O_PATH)
print("O_PATH fd", os.readlink(f"/proc/self/fd/{fd}"), os.listdir(f"/proc/self/fd/{fd}"),
      os.listdir(f"/proc/self/fd/{fd}/.." ) == os.listdir("/"))
ro = os.open("/etc/hostname", os.O_PATH)
print("O_PATH of a read-only file, reopened for writing:", errname(lambda: os.open(f"/proc/self/fd/{ro}", os.O_WRONLY)))
print("O_PATH of a read-only file, reopened for reading:", errname(lambda: os.close(os.open(f"/proc/self/fd/{ro}", os.O_RDONLY))))
print("pids", [n for n in os.listdir("/proc") if n.isdigit()], os.getpid(), os.getppid())
print("/proc/self/root ->", os.readlink("/proc/self/root"))
print("maps names", sorted({l.split(maxsplit=5)[5] for l in open("/proc/self/maps") if len(l.split()) > 5
                            and not l.split()[5].startswith(("/usr/", "["))}))
print("mounts", [l.split()[1] for l in open("/proc/self/mounts")])
"""


def test_proc_links_stay_in_the_sandbox(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    out = run_pyrene([python, "-c", ESCAPES], cwd=tmp_path, env=default_env(), input=b"")
    assert out.status == 0, out
    lines = out.stdout.decode().splitlines()
    assert lines == [
        "root/tmp is the sandbox's True",
        "root/.. chains stay True",
        "root/proc/self/root True",
        "cwd/.. True",
        "O_PATH fd /tmp [] True",
        "O_PATH of a read-only file, reopened for writing: EROFS",
        "O_PATH of a read-only file, reopened for reading: ok",
        "pids ['1'] 1 0",
        "/proc/self/root -> /",
        "maps names []",  # the stub's memfd shows as anonymous memory, not by its host name
        f"mounts ['/', '/tmp', '/proc', '/dev', '/dev/shm', '{tmp_path}']",
    ], describe_difference(out, out)


# ---------------------------------------------------------------------------
# Formats this machine cannot show natively (it has 2 CPUs), against the kernel's


@pytest.mark.parametrize(
    "cpus, possible, mask, listed",
    [
        ((0, 1), 2, "3", "0-1"),
        ((1,), 2, "2", "1"),
        ((0, 1, 2, 3, 6), 8, "4f", "0-3,6"),
        (tuple(range(64)), 64, "ffffffff,ffffffff", "0-63"),
        ((0, 40), 48, "0100,00000001", "0,40"),
    ],
)
def test_cpumask_formats(cpus, possible, mask, listed):
    assert cpu_mask(cpus, possible) == mask
    assert cpu_list(cpus) == listed


def test_mount_path_escapes():
    assert mangle("/a b\tc\\d\ne") == "/a\\040b\\011c\\134d\\012e"
