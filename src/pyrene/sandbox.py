"""Building a sandbox from a manifest and running one program in it.

This is what `pyrene run` does: make the mount table the manifest grants, resolve the
program inside it (with a shell's errors: 127 for missing, 126 for not executable),
start the instance, serve the app until it exits, and clean everything up (the app is
killed and reaped, tmpfs directories removed) whatever happens.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat as stat_mod
import sys
import time
from dataclasses import dataclass

from .errors import Errno, PyreneError
from .fs import dev, proc
from .fs.host import HostFile, HostFS
from .fs.mounts import Mount, MountTable
from .kernel import exec as execmod
from .kernel.instance import Instance, InstanceConfig
from .kernel.table import SyscallTable
from .kernel.task import Creds
from .loader.elf import NotElf
from .manifest.schema import Manifest
from .pal import linux as pal
from .syscalls import MODULES
from .trace.strace import Strace

log = logging.getLogger("pyrene")


@dataclass
class RunOptions:
    argv: list[str]
    manifest: Manifest
    strace_file: str | None = None  # "-" for stderr
    cpu: int | None = None  # None: spread instances over the allowed CPUs


def build_mounts(manifest: Manifest, instance_ref: list[Instance], start_ns: int) -> tuple[MountTable, list[str]]:
    """The mount table, and the host directories to delete at the end (tmpfs)."""
    mounts = []
    cleanup: list[str] = []
    for spec in manifest.mounts:
        if spec.type == "chroot":
            fs = HostFS(spec.uri, spec.readonly)
            source = spec.uri
        elif spec.type == "tmpfs":
            host_dir = pal.make_private_dir("pyrene-tmpfs-", 0o1777)
            cleanup.append(host_dir)
            fs = HostFS(host_dir, False)
            source = "tmpfs"
        elif spec.type == "proc":
            fs = proc.make_procfs(_Deferred(instance_ref), start_ns)  # type: ignore[arg-type]
            source = "proc"
        elif spec.type == "dev":
            fs = dev.make_devfs(start_ns)
            source = "dev"
        else:
            raise PyreneError(f"pyrene: fs.mounts: unknown mount type {spec.type!r}")
        mounts.append(Mount(os.path.normpath(spec.path), fs, spec.type, source))
    return MountTable(mounts), cleanup


class _Deferred:
    """Lets /proc reach the instance that is created after the mount table."""

    def __init__(self, ref: list[Instance]) -> None:
        self._ref = ref

    def __getattr__(self, name: str) -> object:
        return getattr(self._ref[0], name)


def stdio_files() -> list[HostFile | None]:
    """The app's fds 0/1/2: Pyrene's own stdio (dup'd, so the app closing them is harmless)."""
    files: list[HostFile | None] = []
    for fd in range(3):
        try:
            host = pal.dup(fd)
        except Errno:
            files.append(None)
            continue
        flags = fcntl.fcntl(host, fcntl.F_GETFL)
        try:
            name = os.ttyname(fd) if os.isatty(fd) else os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            name = f"fd:{fd}"
        files.append(HostFile(host, flags & ~os.O_CLOEXEC, name))
    return files


def find_program(instance: Instance, name: str, env: list[str]) -> str:
    """PROG as a shell finds it: a path if it has a slash, else the first match on PATH."""
    if "/" in name:
        return name
    path = next((e[5:] for e in env if e.startswith("PATH=")), "/usr/local/bin:/usr/bin:/bin")
    found_not_exec = None
    for d in path.split(":"):
        candidate = os.path.join(d or ".", name)
        try:
            res = instance.vfs.resolve(instance.process.cwd, candidate, follow=True)
        except Errno:
            continue
        assert res.stat is not None
        if stat_mod.S_ISREG(res.stat.mode):
            if res.stat.mode & 0o111:
                return candidate
            found_not_exec = found_not_exec or candidate
    if found_not_exec:
        return found_not_exec
    raise PyreneError(f"pyrene: {name}: No such file or directory", 127)


def run(opts: RunOptions) -> int:
    manifest = opts.manifest
    start_ns = time.time_ns()
    ref: list[Instance] = []
    mounts, cleanup = build_mounts(manifest, ref, start_ns)
    env = [f"{k}={v}" for k, v in os.environ.items()] if manifest.use_host_env else []
    env += [f"{k}={v}" for k, v in manifest.env]
    strace_out = None
    if opts.strace_file:
        strace_out = sys.stderr if opts.strace_file == "-" else open(opts.strace_file, "w")  # noqa: SIM115
    visible = tuple(sorted(os.sched_getaffinity(0)))
    config = InstanceConfig(
        mounts=mounts, env=env, cwd=manifest.start_dir or os.getcwd(),
        creds=Creds(manifest.uid if manifest.uid is not None else os.getuid(),
                    manifest.gid if manifest.gid is not None else os.getgid(), tuple(os.getgroups())),
        fd_limit=manifest.fd_limit, strace=Strace(strace_out) if strace_out else None, cpu=opts.cpu,
        visible_cpus=visible,
    )
    instance = Instance(config, SyscallTable.build(MODULES))
    ref.append(instance)
    try:
        return _run_instance(instance, opts.argv, env)
    finally:
        instance.shutdown()
        for d in cleanup:
            pal.remove_tree(d)
        if strace_out is not None and strace_out is not sys.stderr:
            strace_out.close()


class _Preflight:
    """A task-like view used to resolve the program before any process exists."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.proc = instance.process


def _run_instance(instance: Instance, argv: list[str], env: list[str]) -> int:
    pre = _Preflight(instance)
    name = argv[0]
    path = find_program(instance, name, env)
    try:
        prog = execmod.prepare(pre, path, list(argv))  # type: ignore[arg-type]
    except NotElf as exc:
        raise PyreneError(f"pyrene: {name}: {exc}", 126) from None
    except Errno as exc:
        if exc.errno == errno.ENOENT:
            raise PyreneError(f"pyrene: {name}: No such file or directory", 127) from None
        if exc.errno == errno.ENOEXEC:
            raise PyreneError(f"pyrene: {name}: cannot execute binary file: Exec format error", 126) from None
        raise PyreneError(f"pyrene: {name}: {os.strerror(exc.errno)}", 126) from None
    try:
        task = instance.start(prog, stdio_files())  # type: ignore[arg-type]
    except Errno as exc:
        raise PyreneError(f"pyrene: {name}: cannot load program: {os.strerror(exc.errno)}", 126) from None
    return instance.run(task)
