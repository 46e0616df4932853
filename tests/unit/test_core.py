"""Unit tests of the pieces below the tracer: generated tables, the filter, the stack
layout, ELF parsing, path walking, the syscall table and the layering rules."""

from __future__ import annotations

import ast
import errno
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pyrene.abi import sysnum
from pyrene.abi.flags import AuxType, OpenFlags
from pyrene.abi.types import DirFd, Int, OpenFlagsArg, render_flags
from pyrene.errors import Errno
from pyrene.kernel.table import SyscallTable
from pyrene.loader import elf, script
from pyrene.loader.stack import build_stack
from pyrene.platform import seccomp, stub
from pyrene.syscalls import all_modules

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "pyrene"


def test_sysnum_is_current():
    """abi/sysnum.py is exactly what tools/gen_sysnum.py makes from this machine's header."""
    header = next((p for p in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h")
                   if os.path.exists(p)), None)
    if header is None:
        pytest.skip("no asm/unistd_64.h installed")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_sysnum.py"), header], capture_output=True,
                         check=True, text=True).stdout
    assert out == (SRC / "abi" / "sysnum.py").read_text()


def test_sysnum_known_numbers():
    assert sysnum.BY_NAME["read"] == 0
    assert sysnum.BY_NAME["openat"] == 257
    assert sysnum.BY_NAME["getppid"] == 110
    assert sysnum.name_of(110) == "getppid"
    assert sysnum.name_of(9999) == "syscall_9999"


def run_filter(prog, nr, arch=seccomp.AUDIT_ARCH_X86_64, args=(0,) * 6):
    """A tiny interpreter of the instructions our assembler emits."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, *args)
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == seccomp.BPF_LD | seccomp.BPF_W | seccomp.BPF_ABS:
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == seccomp.BPF_RET | seccomp.BPF_K:
            return k
        elif code & 0xF0 == seccomp.BPF_JEQ:
            pc += jt if acc == k else jf
        elif code & 0xF0 == seccomp.BPF_JSET:
            pc += jt if acc & k else jf
        else:
            raise AssertionError(f"unexpected insn {code:#x}")
        pc += 1


def test_filter_decisions():
    prog = seccomp.build_filter()
    by = sysnum.BY_NAME
    assert run_filter(prog, by["getppid"]) == seccomp.SECCOMP_RET_TRACE
    assert run_filter(prog, by["openat"]) == seccomp.SECCOMP_RET_TRACE
    for name in seccomp.NATIVE_SYSCALLS:
        assert run_filter(prog, by[name]) == seccomp.SECCOMP_RET_ALLOW, name
    anon = (0, 4096, 3, 0x22, (1 << 64) - 1, 0)
    filemap = (0, 4096, 1, 0x02, 3, 0)
    assert run_filter(prog, by["mmap"], args=anon) == seccomp.SECCOMP_RET_ALLOW
    assert run_filter(prog, by["mmap"], args=filemap) == seccomp.SECCOMP_RET_TRACE
    # the classic escapes: the i386 ABI (int 0x80) and x32 numbers are fatal
    assert run_filter(prog, 20, arch=0x40000003) == seccomp.SECCOMP_RET_KILL_PROCESS
    assert run_filter(prog, 0x40000000 | by["getppid"]) == seccomp.SECCOMP_RET_KILL_PROCESS
    assert len(seccomp.encode(prog)) == 8 * len(prog)


def test_stub_is_a_minimal_static_elf():
    image = stub.build()
    parsed = elf.parse(image)
    assert parsed.etype == elf.ET_EXEC and parsed.interp_range is None
    assert parsed.entry == stub.SYSCALL_SITE
    code = image[stub.CODE_OFFSET:]
    assert code[:3] == b"\x0f\x05\xcc"  # syscall; int3


def test_stack_layout_matches_the_kernel_shape():
    top = 0x7FFF0000
    aux = [(AuxType.AT_PAGESZ, 4096), (AuxType.AT_ENTRY, 0x401000)]
    img = build_stack(top, [b"prog", b"arg"], [b"A=1"], b"/bin/prog", b"x86_64", b"R" * 16, aux)
    assert img.rsp % 16 == 0
    assert img.base + len(img.data) == top

    def word(addr):
        return struct.unpack_from("<Q", img.data, addr - img.base)[0]

    def cstr(addr):
        off = addr - img.base
        return img.data[off:img.data.index(b"\0", off)]

    assert word(img.rsp) == 2
    assert [cstr(word(img.rsp + 8)), cstr(word(img.rsp + 16))] == [b"prog", b"arg"]
    assert word(img.rsp + 24) == 0
    assert cstr(word(img.rsp + 32)) == b"A=1"
    assert word(img.rsp + 40) == 0
    auxv = {}
    p = img.rsp + 48
    while word(p) != AuxType.AT_NULL:
        auxv[word(p)] = word(p + 8)
        p += 16
    assert auxv[AuxType.AT_PAGESZ] == 4096
    assert cstr(auxv[AuxType.AT_EXECFN]) == b"/bin/prog"
    assert cstr(auxv[AuxType.AT_PLATFORM]) == b"x86_64"
    r = auxv[AuxType.AT_RANDOM] - img.base
    assert img.data[r:r + 16] == b"R" * 16
    # strings are above the tables, argv strings below envp strings, as the kernel has them
    assert word(img.rsp + 8) < word(img.rsp + 32) < auxv[AuxType.AT_EXECFN]


def test_elf_rejects_foreign_binaries():
    i386 = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HH", 2, 3) + bytes(64)
    with pytest.raises(elf.NotElf, match="32-bit ELF for i386"):
        elf.parse(i386)
    arm64 = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 2, 183) + bytes(64)
    with pytest.raises(elf.NotElf, match="AArch64"):
        elf.parse(arm64)
    with pytest.raises(elf.NotElf, match="not an ELF"):
        elf.parse(b"garbage" * 20)


def test_elf_parses_real_binaries():
    image = elf.parse(open("/bin/ls", "rb").read(4096))
    assert image.interp_range is not None and image.segments


def test_shebang_parsing():
    assert script.parse_shebang(b"#!/bin/sh\n") == ("/bin/sh", None)
    assert script.parse_shebang(b"#! /usr/bin/env  python3 -u \nrest") == ("/usr/bin/env", "python3 -u")
    assert script.script_argv("/bin/sh", "-e", "./s", ["s", "a"]) == ["/bin/sh", "-e", "./s", "a"]
    with pytest.raises(Errno) as e:
        script.parse_shebang(b"#!\n")
    assert e.value.errno == errno.ENOEXEC


def test_argument_types_decode_width_and_sign():
    assert Int.decode(None, 0xFFFFFFFF_FFFFFF9C) == -100
    assert Int.decode(None, 0x12345678_FFFFFFFF) == -1
    assert DirFd.render(-100) == "AT_FDCWD"
    flags = OpenFlagsArg.decode(None, os.O_RDONLY | os.O_CLOEXEC)
    assert OpenFlagsArg.render(flags) == "O_RDONLY|O_CLOEXEC"
    assert render_flags(OpenFlags.O_WRONLY | OpenFlags.O_CREAT, OpenFlags) == "O_WRONLY|O_CREAT"


def test_table_has_one_handler_per_syscall():
    table = SyscallTable.build(all_modules())
    names = {spec.name for spec in table.specs()}
    for required in ("openat", "read", "write", "newfstatat", "statx", "getdents64", "mmap", "exit_group",
                     "getppid", "prlimit64", "ioctl", "fcntl", "dup3", "readlinkat", "faccessat2"):
        assert required in names
    for spec in table.specs():
        assert table.entries[spec.number] is spec
        assert len(spec.args) <= 6


def test_errno_carries_code_and_name():
    e = Errno(errno.ENOENT, "no such file")
    assert e.errno == errno.ENOENT and "ENOENT" in str(e)
    assert Errno.from_oserror(FileNotFoundError(errno.ENOENT, "x")).errno == errno.ENOENT


# -- layering: arrows point down only (DESIGN.md) ----------------------------------------

FORBIDDEN = {
    "syscalls": {"platform", "cli", "sandbox"},  # host only through fs, net and pal
    "fs": {"syscalls", "kernel", "platform", "cli", "sandbox"},
    "abi": {"syscalls", "kernel", "fs", "platform", "pal", "loader"},
    "platform": {"syscalls", "kernel", "fs", "loader", "pal"},
    "loader": {"syscalls", "platform", "pal"},
    "pal": {"syscalls", "kernel", "fs", "loader", "net"},
    "net": {"syscalls", "kernel", "platform", "loader", "cli", "sandbox"},
}


def runtime_nodes(tree: ast.AST):
    """All nodes except those under `if TYPE_CHECKING:` (annotations only, no arrow)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        yield node
        yield from runtime_nodes(node)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in runtime_nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pyrene."):
            found.add(node.module.split(".")[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layering(package):
    for path in (SRC / package).glob("*.py"):
        bad = imports_of(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_only_pal_and_platform_open_host_files():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("pal", "platform", "testing") or rel.name in ("sandbox.py", "cli.py"):
            continue
        text = path.read_text()
        assert "os.open(" not in text and "open(\"" not in text, f"{rel} touches host files directly"
