"""Loading a program into a fresh picoprocess (DESIGN.md decision 5).

The host has just executed Pyrene's stub; the stub's address space holds only itself,
its stack, the vDSO and vvar. Here the program and its interpreter, both read through
the VFS, are mapped by injected mmaps, the initial stack is written below the stub's,
and the registers are set so that the next resume starts the program (or ld.so) at
its entry point exactly as the kernel would have.
"""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Callable

from ..abi.flags import S_IFMT, S_IFREG, AuxType, MapFlags, Prot
from ..errors import Errno
from ..fs.file import OpenFile
from ..loader import elf, script
from ..loader.stack import build_stack, random_bytes
from ..platform import libc
from ..record import NamedTuple
from . import memory

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from .task import Task

HEAD_SIZE = 4096
PIE_BASE = 0x555555554000
# auxv entries copied from what the kernel gave the stub
KERNEL_AUXV = (AuxType.AT_SYSINFO_EHDR, AuxType.AT_MINSIGSTKSZ, AuxType.AT_HWCAP, AuxType.AT_PAGESZ,
               AuxType.AT_CLKTCK, AuxType.AT_HWCAP2, AuxType.AT_RSEQ_FEATURE_SIZE, AuxType.AT_RSEQ_ALIGN)


class ExecError(Exception):
    """execve failed before the old image was touched; carries an errno and a message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.errno = code


class Program(NamedTuple):
    """What execve resolved: the ELF to map, the final argv and its open file."""

    path: str  # sandbox path of the ELF actually loaded (/proc/self/exe)
    execfn: str  # the path as given to execve (AT_EXECFN)
    file: OpenFile
    image: elf.ElfImage
    head: bytes
    argv: list[str]
    interp: tuple[str, OpenFile, elf.ElfImage] | None


def open_executable(t: "Task", path: str, need_exec: bool = True) -> tuple[str, OpenFile, bytes]:
    """Resolve and open `path` for loading: its sandbox path, open file and first page.

    EACCES unless a regular file, executable unless it is an interpreter (`need_exec`
    False): the kernel maps PT_INTERP without requiring its exec bits.
    """
    res = t.instance.vfs.resolve(t.proc.cwd, path, follow=True)
    assert res.stat is not None
    if res.stat.mode & S_IFMT != S_IFREG or (need_exec and not res.stat.mode & 0o111):
        raise Errno(errno.EACCES)
    file = res.mount.fs.open(res.rel, os.O_RDONLY, 0, res.path)
    file.incref()
    return res.path, file, file.pread(HEAD_SIZE, 0)


def prepare(t: "Task", path: str, argv: list[str]) -> Program:
    """Everything execve can fail on before the point of no return."""
    execfn = path
    depth = 0
    while True:
        real, file, head = open_executable(t, path)
        if not head.startswith(b"#!"):
            break
        file.decref()
        depth += 1
        if depth > script.MAX_RECURSION:
            raise Errno(errno.ELOOP, "too many nested #! interpreters")
        interp, arg = script.parse_shebang(head)
        argv = script.script_argv(interp, arg, path, argv)
        path = interp
    try:
        image = elf.parse(head)
        interp_info = None
        if image.interp_range is not None:
            off, size = image.interp_range
            ipath = file.pread(size, off).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            _, ifile, ihead = open_executable(t, ipath, need_exec=False)
            interp_info = (ipath, ifile, elf.parse(ihead))
    except Exception:
        file.decref()
        raise
    return Program(real, execfn, file, image, head, argv, interp_info)


PROT_R, PROT_W, PROT_X = int(Prot.PROT_READ), int(Prot.PROT_WRITE), int(Prot.PROT_EXEC)
MAP_PRIVATE_FIXED = int(MapFlags.MAP_PRIVATE | MapFlags.MAP_FIXED)


def prot_of(flags: int) -> int:
    """A segment's p_flags as mmap's prot (plain ints: IntFlag arithmetic is slow)."""
    return ((flags & elf.PF_R) and PROT_R) | ((flags & elf.PF_W) and PROT_W) | ((flags & elf.PF_X) and PROT_X)


def map_image(t: "Task", image: elf.ElfImage, file: OpenFile, hint: int, fds: memory.AppFds) -> int:
    """Map every PT_LOAD of `image` (with the app's copy of the file's fd in `fds`);
    returns the load bias (0 for ET_EXEC)."""
    tr = t.tracee
    lo, hi = image.span()
    bias = 0
    if image.is_dyn:
        reserve = memory.map_anonymous(tr, hint, hi - lo, Prot.PROT_NONE, 0)
        bias = reserve - lo
    for seg in image.segments:
        prot = prot_of(seg.flags)
        start = memory.page_down(bias + seg.vaddr)
        file_end = bias + seg.vaddr + seg.filesz
        mem_end = memory.page_up(bias + seg.vaddr + seg.memsz)
        fixed = MAP_PRIVATE_FIXED
        mapped_end = start
        if seg.filesz:
            mapped_end = memory.page_up(file_end)
            memory.map_file(tr, start, mapped_end - start, prot, fixed, file, memory.page_down(seg.offset), fds)
            if seg.memsz > seg.filesz and mapped_end > file_end:
                # bss starts inside the last file page: zero its tail, as the kernel does
                # (through /proc/PID/mem only if the page is not writable)
                try:
                    tr.write(file_end, bytes(mapped_end - file_end))
                except Errno:
                    tr.poke_force(file_end, bytes(mapped_end - file_end))
        if mem_end > mapped_end:
            memory.map_anonymous(tr, mapped_end, mem_end - mapped_end, prot, MapFlags.MAP_FIXED)
    return bias


def read_stub_auxv(t: "Task", rsp: int) -> dict[int, int]:
    """The auxv the kernel built for the stub (its argv/envp are tiny and known), read in
    one copy: argc, argv, envp and auxv take a few hundred bytes above rsp (the copy
    stops at the top of the stack)."""
    data = t.tracee.read_partial(rsp, memory.PAGE)
    words = struct.unpack_from(f"<{len(data) // 8}Q", data)
    try:
        i = 1 + words[0] + 1  # argc, argv[], NULL
        while words[i]:  # envp[]
            i += 1
        i += 1
        auxv = {}
        while words[i] != AuxType.AT_NULL:
            auxv[words[i]] = words[i + 1]
            i += 2
    except IndexError:
        raise Errno(errno.EFAULT, "the stub's initial stack is not where it should be") from None
    return auxv


def load(t: "Task", prog: Program, envp: list[str], stub_rsp: int) -> None:
    """Map `prog` into the stopped tracee and point its registers at the entry."""
    kernel_aux = read_stub_auxv(t, stub_rsp)
    with memory.AppFds(t.tracee) as fds:
        bias = map_image(t, prog.image, prog.file, PIE_BASE + (int.from_bytes(os.urandom(2), "little") << 12), fds)
        entry = prog.image.entry + bias
        interp_base = 0
        if prog.interp is not None:
            _, ifile, iimage = prog.interp
            ibias = map_image(t, iimage, ifile, 0, fds)
            interp_base = ibias + iimage.span()[0]
            entry = iimage.entry + ibias
    creds = t.proc.creds
    auxv = [(k, kernel_aux[k]) for k in KERNEL_AUXV if k in kernel_aux]
    auxv += [
        (AuxType.AT_PHDR, prog.image.phdr_address() + bias),
        (AuxType.AT_PHENT, prog.image.phentsize),
        (AuxType.AT_PHNUM, prog.image.phnum),
        (AuxType.AT_BASE, interp_base),
        (AuxType.AT_FLAGS, 0),
        (AuxType.AT_ENTRY, prog.image.entry + bias),
        (AuxType.AT_UID, creds.ruid), (AuxType.AT_EUID, creds.euid),
        (AuxType.AT_GID, creds.rgid), (AuxType.AT_EGID, creds.egid),
        (AuxType.AT_SECURE, 0),
    ]
    top = (stub_rsp - 512) & ~0xF
    stack = build_stack(top, [os.fsencode(a) for a in prog.argv], [os.fsencode(e) for e in envp],
                        os.fsencode(prog.execfn), b"x86_64", random_bytes(), auxv)
    t.tracee.write(stack.base, stack.data)
    regs = t.tracee.regs
    for name, _ in type(regs)._fields_:
        if name not in ("cs", "ss", "eflags", "ds", "es", "fs", "gs", "fs_base", "gs_base"):
            setattr(regs, name, 0)
    regs.rip = entry
    regs.rsp = stack.rsp
    regs.orig_rax = (1 << 64) - 1
    t.tracee.set_regs()
    prog.file.decref()
    if prog.interp is not None:
        prog.interp[1].decref()



# -- execve/execveat of a running process ---------------------------------------------------

MAX_ARG_STRLEN = 32 * 4096  # Linux's limit on one argument or environment string
NR_EXECVEAT = 322
AT_EMPTY_PATH = 0x1000
SIG_DFL, SIG_IGN = 0, 1


def read_strings(t: "Task", ptr: int) -> list[str]:
    """A NULL-terminated char *[] of the app (NULL itself: empty). E2BIG past one
    string of MAX_ARG_STRLEN. Read a page at a time: execve's strings usually lie
    together (on the caller's stack), so a 30-variable environment takes a few copies
    rather than two per string."""
    out: list[str] = []
    if not ptr:
        return out
    mem = t.mem
    pages: dict[int, bytes] = {}

    def rest_of_page(addr: int) -> bytes:
        """The app's bytes from `addr` to the end of its page (b"" if unreadable)."""
        base = addr & ~(memory.PAGE - 1)
        data = pages.get(base)
        if data is None:
            data = pages[base] = mem.read_partial(base, memory.PAGE)
        return data[addr - base:]

    while True:
        addr = ptr + 8 * len(out)
        word = rest_of_page(addr)[:8]
        if len(word) < 8:  # unreadable, or straddling two pages
            word = mem.read(addr, 8)
        (p,) = struct.unpack("<Q", word)
        if not p:
            return out
        text = rest_of_page(p)
        nul = text.find(b"\0")
        if nul >= 0:
            s = text[:nul]
        else:  # longer than the rest of its page, or unreadable: the careful way
            try:
                s = mem.read_cstr(p, MAX_ARG_STRLEN)
            except Errno as exc:
                raise Errno(errno.E2BIG if exc.errno == errno.ENAMETOOLONG else exc.errno) from None
        out.append(os.fsdecode(s))


def execve(t: "Task", path: str, argv: list[str], envp: list[str]) -> int:
    """execve(2): everything that can fail is done first (resolve, read and parse the
    program and its interpreter: ENOENT, EACCES, ENOEXEC, E2BIG go back to the caller);
    then the host executes the stub in the app process (a fresh address space; a vfork
    parent is released; the seccomp filter stays) and the program is loaded into it."""
    stack_limit = t.proc.rlimits.get(3, (8 << 20, 0))[0]  # RLIMIT_STACK
    if sum(len(os.fsencode(s)) + 1 for s in argv + envp) > max(stack_limit // 4, 32 * 4096):
        raise Errno(errno.E2BIG)
    if not path:
        raise Errno(errno.ENOENT)
    try:
        prog = prepare(t, path, argv or [""])
    except elf.NotElf:
        raise Errno(errno.ENOEXEC) from None
    try:
        stub_rsp = _exec_stub(t)
    except BaseException:
        prog.file.decref()
        if prog.interp is not None:
            prog.interp[1].decref()
        raise
    # the point of no return
    proc = t.proc
    proc.argv, proc.env, proc.exe = list(prog.argv), list(envp), prog.path
    proc.comm = os.path.basename(prog.path)[:15]
    t.instance.publish()
    for fd, entry in list(proc.files.entries.items()):
        if entry.cloexec:
            proc.files.close(fd)
    waits = t.instance.waits
    for sig, (handler, flags) in list(waits.sigactions.items()):
        if handler not in (SIG_DFL, SIG_IGN):  # the host resets caught signals too
            waits.sigactions[sig] = (SIG_DFL, 0)
    load(t, prog, envp, stub_rsp)
    return 0


def _exec_stub(t: "Task") -> int:
    """Host exec of the instance's stub memfd in the app process; the stub's rsp."""
    tr = t.tracee
    regs = tr.get_regs()
    fds = memory.AppFds(tr)
    fd = fds.get(t.instance.stub_fd)
    if fd is None:
        fds.close()
        raise Errno(fds.error, "pidfd_open/pidfd_getfd of the stub for exec")
    # the stub's argv and envp, below the red zone of the app's stack: {"pyrene-stub", NULL}, {NULL}
    base = (regs.rsp - 256) & ~0xF
    tr.write(base, struct.pack("<QQ", base + 16, 0) + b"pyrene-stub\0")
    others = [task for task in t.instance.tasks.values() if task is not t]
    wait = _own_stops(t) if others else None
    rc = tr.inject_exec(NR_EXECVEAT, fd, base + 8, base, base + 8, AT_EMPTY_PATH, wait=wait)
    if rc < 0:
        fds.close()
        raise Errno(-rc, "exec of the stub")
    fds.forget()  # the exec closed them: pidfds and pidfd_getfd copies are close-on-exec
    if others:
        _de_thread(t, others)
    return tr.get_regs().rsp


def _own_stops(t: "Task") -> Callable[[], tuple[int, int]]:
    """The stops of the exec'ing thread `t`, and the exec event, which comes under the
    thread-group leader's pid whichever thread execs; the other threads' stops (and their
    deaths: the host kills them at the exec) are kept for the run loop."""
    waits, leader = t.instance.waits, t.proc.host_pid

    def wait() -> tuple[int, int]:
        while True:
            pid, status = os.waitpid(-1, libc.WALL)
            if pid == t.tracee.pid or (pid == leader and status >> 16 == libc.PTRACE_EVENT_EXEC):
                return pid, status
            waits.defer(pid, status)
    return wait


def _de_thread(t: "Task", others: list["Task"]) -> None:
    """After a successful exec in a thread group: the other threads are gone (the host
    killed them; their exit reports, if still to come, find no task) and `t` is the
    thread-group leader, with the process's pid as its tid (Linux's de_thread)."""
    instance = t.instance
    for task in others + [t]:  # their numbers are free; `t` takes the process's pid
        instance.thread_ended(task)
    for task in others:
        instance.tasks.pop(task.tid, None)
        instance.waits.forget(task.tid)
        instance.post_hooks.pop(task.tid, None)
    gone = {task.tid for task in others} | {t.tid}
    instance.waits.deferred[:] = [stop for stop in instance.waits.deferred if stop[0] not in gone]
    instance.tasks.pop(t.tid, None)
    t.tid, t.vtid = t.tracee.pid, t.proc.vpid
    instance.tasks[t.tid] = t
