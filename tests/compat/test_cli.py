"""The front door with real programs: --trace output, `pyrene syscalls`, and the
directory calls (mkdir/rmdir/unlink) a Python program makes in the writable cwd."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pyrene
from pyrene.testing.compare import assert_same


def test_trace_goes_to_its_file_not_stdout(tmp_path):
    trace = tmp_path / "trace.txt"
    native = subprocess.run(["cat", "/nonexistent", "/etc/hostname"], capture_output=True)
    result = pyrene.run(["cat", "/nonexistent", "/etc/hostname"], capture_output=True, trace=str(trace))
    assert (result.returncode, result.stdout, result.stderr) == (native.returncode, native.stdout, native.stderr)
    lines = trace.read_text().splitlines()
    assert '[pid 1] openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' in lines
    assert ('[pid 1] openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)'
            in lines)
    assert lines[-2] == "[pid 1] exit_group(1) = ? (run by the host)"
    assert lines[-1] == "[pid 1] +++ exited with 1 +++"


def test_trace_lines_read_like_strace(tmp_path):
    """The arguments strace shows as it shows them: open's mode only when the flags
    create a file, access modes by name, faccessat2's 0x200 as AT_EACCESS, statx's
    flags, mask and struct (STATX_BASIC_STATS before its bits)."""
    script = "test -r /etc/hostname && echo hi > out"
    result = pyrene.run(["/bin/sh", "-c", script], capture_output=True, cwd=str(tmp_path), trace="-")
    assert result.returncode == 0 and (tmp_path / "out").read_text() == "hi\n"
    lines = result.stderr.decode().splitlines()
    assert '[pid 1] openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3' in lines
    assert '[pid 1] openat(AT_FDCWD, "out", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3' in lines
    assert '[pid 1] access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)' in lines
    assert '[pid 1] faccessat2(AT_FDCWD, "/etc/hostname", R_OK, AT_EACCESS) = 0' in lines
    result = pyrene.run(["stat", "-c", "%s", "/dev/null"], capture_output=True, trace="-")
    assert result.stdout == b"0\n"
    assert ('[pid 1] statx(AT_FDCWD, "/dev/null", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT, '
            'STATX_SIZE, {stx_mask=STATX_BASIC_STATS, stx_attributes=0, stx_mode=S_IFCHR|0666, stx_size=0, ...}) = 0'
            in result.stderr.decode().splitlines())
    code = "import os; print(os.access('/etc', os.F_OK), os.access('/etc', os.W_OK | os.X_OK))"
    result = pyrene.run(["/usr/bin/python3.11", "-c", code], capture_output=True, trace="-")
    assert result.stdout == b"True False\n"
    lines = result.stderr.decode().splitlines()
    assert '[pid 1] access("/etc", F_OK) = 0' in lines
    assert '[pid 1] access("/etc", W_OK|X_OK) = -1 EROFS (Read-only file system)' in lines


def test_trace_shows_buffers_as_strace_does(tmp_path, cbuild, need):
    """read/write/pread64/pwrite64/readlink and stat lines, byte for byte as strace
    prints them for the same program: bytes handed in, bytes a call filled, escapes,
    32-byte truncation, an empty read, a failed call's address, struct stat."""
    strace = need("/usr/bin/strace", "strace")
    prog = str(cbuild("trace_buffers.c", static=True))
    calls = "read,write,pread64,pwrite64,readlink,newfstatat,fstat,stat,lstat,fadvise64,mmap"
    native_log = tmp_path / "native.txt"
    native = subprocess.run([strace, "-qq", "-e", f"trace={calls}", "-e", "signal=none", "-o", str(native_log),
                             prog, str(tmp_path / "scratch")], capture_output=True)
    ours = pyrene.run([prog, "scratch"], capture_output=True, cwd=str(tmp_path), trace=str(tmp_path / "ours.txt"))
    assert (ours.returncode, ours.stdout) == (native.returncode, native.stdout.replace(
        str(tmp_path / "scratch").encode(), b"scratch"))

    def lines(text: str) -> list[str]:
        out = []
        for line in text.splitlines():
            line = re.sub(r"^\[pid \d+\] ", "", line)
            if line.split("(", 1)[0] in calls.split(",") and "MAP_ANONYMOUS" not in line:  # (untrapped)
                out.append(re.sub(r"0x[0-9a-f]{6,}", "0xADDR", re.sub(r"\) +=", ") =", line)))
        return out

    expected = lines(native_log.read_text())
    assert '"\\08\\0007\\1a\\177\\200\\377\\"\\\\\\t\\n\\r\\v\\f"' in "".join(expected)  # (the right program ran)
    assert 'newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0' \
        in expected
    assert "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x1000) = 0xADDR" in expected
    assert lines((tmp_path / "ours.txt").read_text()) == expected


def test_trace_to_stderr_keeps_stdout_clean():
    result = pyrene.run(["echo", "hi"], capture_output=True, trace="-")
    assert result.stdout == b"hi\n"
    assert b'write(1, ' in result.stderr and b"+++ exited with 0 +++" in result.stderr


def test_run_command_line_as_the_readme_writes_it(tmp_path):
    """`--trace` with no `=FILE` traces to stderr and takes nothing from the program's
    words; a mistyped option is a usage error (2) before anything runs."""
    cmd = [sys.executable, "-m", "pyrene", "run"]
    native = subprocess.run(["ls", "-a", str(tmp_path)], capture_output=True)
    traced = subprocess.run([*cmd, "--trace", "ls", "-a", str(tmp_path)], capture_output=True)
    assert (traced.returncode, traced.stdout) == (0, native.stdout)
    assert b"getdents64(" in traced.stderr and b"+++ exited with 0 +++" in traced.stderr
    bad = subprocess.run([*cmd, "--trcae", "ls"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.endswith("pyrene run: error: unrecognized option: --trcae\n")


def test_syscalls_table_lists_what_runs_programs():
    out = subprocess.run([sys.executable, "-m", "pyrene", "syscalls", "--json"], capture_output=True,
                         check=True).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["openat"]["support"] == "full"
    assert rows["rt_sigaction"]["support"] == "partial" and rows["rt_sigaction"]["note"]
    assert rows["ptrace"]["support"] == "none"


def test_mkdir_rmdir_unlink_in_writable_cwd(tmp_path):
    code = ("import os\n"
            "os.mkdir('d'); print(os.path.isdir('d'), sorted(os.listdir('.')))\n"
            "open('d/f', 'w').write('x'); os.unlink('d/f')\n"
            "try:\n    os.mkdir('d')\nexcept FileExistsError as e: print('EEXIST', e.errno)\n"
            "os.rmdir('d'); print(os.path.exists('d'))\n")
    assert_same(["/usr/bin/python3.11", "-c", code], cwd=tmp_path)


def test_mkdir_outside_the_writable_mounts_is_erofs(tmp_path):
    """Only under Pyrene: natively (as root) this would really create the directory."""
    code = "import os\ntry:\n    os.mkdir('/usr/pyrene-nope')\nexcept OSError as e: print(e.strerror)\n"
    result = pyrene.run(["/usr/bin/python3.11", "-c", code], capture_output=True, cwd=tmp_path)
    assert result.stdout == b"Read-only file system\n"
    assert not os.path.exists("/usr/pyrene-nope")  # and the host is untouched


def test_ptrace_refused_says_what_to_change(need):
    """Under strace Pyrene's processes are traced already, so its PTRACE_SEIZE fails: one
    line that names ptrace and what to change, status 126, no traceback, nothing left."""
    strace = need("/usr/bin/strace", "strace")
    result = subprocess.run([strace, "-f", "-o", os.devnull, sys.executable, "-m", "pyrene", "run", "--", "/bin/true"],
                            capture_output=True, timeout=60)
    assert result.returncode == 126, result
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr.decode(), lines
    assert "PTRACE_SEIZE" in lines[0] and "strace or a debugger" in lines[0] and "CAP_SYS_PTRACE" in lines[0]


def test_unknown_syscalls_are_enosys_and_warned_once_by_name_in_the_log_file(cbuild, tmp_path):
    program = str(cbuild("unknown_syscall.c"))
    log_file = tmp_path / "pyrene.log"
    native = subprocess.run([program], capture_output=True)
    result = pyrene.run([program], capture_output=True, log_level="warning", log_file=str(log_file))
    assert (result.returncode, result.stdout, result.stderr) == (native.returncode, native.stdout, native.stderr)
    assert native.stdout.count(b"Function not implemented") == 3
    assert log_file.read_text().splitlines() == [
        "pyrene WARNING: unsupported syscall vserver (returning ENOSYS)",
        "pyrene WARNING: unsupported syscall tuxcall (returning ENOSYS)",
    ]
    quiet = pyrene.run([program], capture_output=True)  # the default level (error) logs nothing
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (native.returncode, native.stdout, native.stderr)


def test_a_log_file_that_cannot_be_opened_is_a_clear_error_before_the_app_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pyrene", "run", f"--log-file={tmp_path}/no/such.log", "--",
                             "touch", str(tmp_path / "ran")], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"pyrene: cannot open log file {tmp_path}/no/such.log: No such file or directory\n"
    assert not (tmp_path / "ran").exists()
