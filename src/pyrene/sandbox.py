"""Building a sandbox from a manifest and running one program in it.

This is what `pyrene run` does: make the mount table the manifest grants, resolve the
program inside it (with a shell's errors: 127 for missing, 126 for not executable),
start the instance, serve the app until it exits, and clean everything up (the app is
killed and reaped, tmpfs directories removed) whatever happens.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat as stat_mod
import sys
import time

from .abi.flags import Rlimit
from .errors import Errno, PyreneError
from .fs.file import FileSystem
from .fs.host import HostFile, HostFS
from .fs.mounts import DeferredFS, Mount, MountTable, split_path
from .ipc.client import LeaderClient
from .ipc.leader import Leader
from .ipc.messages import Exited, Started
from .kernel import exec as execmod
from .kernel.instance import Instance, InstanceConfig
from .kernel.table import SyscallTable
from .kernel.creds import CapSets, Creds
from .kernel.task import default_rlimits
from .loader.elf import NotElf
from .manifest.load import ManifestError, describe
from .manifest.overrides import environment
from .manifest.schema import Manifest, MountSpec
from .pal import linux as pal
from .platform import libc
from . import syscalls
from .record import NamedTuple
from .trace.strace import Strace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from .fs.trusted import FileChecks


class RunOptions(NamedTuple):
    argv: list[str]
    manifest: Manifest
    strace_file: str | None = None  # "-" for stderr
    cpu: int | None = None  # None: spread instances over the allowed CPUs


def build_mounts(manifest: Manifest, instance_ref: list[Instance], start_ns: int) -> tuple[MountTable, list[str]]:
    """The mount table, and the host directories to delete at the end (tmpfs).

    Refuses (ManifestError, naming the key) what cannot be mounted before anything runs:
    encrypted mounts, host paths that do not exist.
    """
    for spec in manifest.mounts:
        if spec.type == "encrypted":
            raise ManifestError(manifest.source, spec.key, "encrypted mounts are not yet supported")
    checks = file_checks(manifest)
    pal.sweep_private_dirs()
    mounts: list[Mount] = []
    cleanup: list[str] = []
    try:
        for spec in manifest.mounts:
            mounts.append(_mount(spec, manifest, checks, instance_ref, start_ns, cleanup))
        return MountTable(mounts), cleanup
    except BaseException:
        for m in mounts:
            m.fs.release()
        for d in cleanup:
            pal.remove_tree(d)
        raise


def _mount(spec: MountSpec, manifest: Manifest, checks: FileChecks | None, instance_ref: list[Instance],
           start_ns: int, cleanup: list[str]) -> Mount:
    fs: FileSystem
    if spec.type == "chroot":
        single_file = os.path.exists(spec.uri) and not os.path.isdir(spec.uri)
        try:
            # (the modules of the rarer kinds are imported here, when one is asked for)
            if checks:
                from .fs.hostfile import CheckedHostFileFS
                from .fs.trusted import CheckedHostFS

                checked = CheckedHostFileFS if single_file else CheckedHostFS
                fs = checked(spec.uri, spec.readonly, checks, os.path.realpath(spec.uri))
            elif single_file:
                from .fs.hostfile import HostFileFS

                fs = HostFileFS(spec.uri, spec.readonly)
            else:
                fs = HostFS(spec.uri, spec.readonly)
        except Errno as exc:
            raise ManifestError(manifest.source, spec.key, f"file:{spec.uri}: {os.strerror(exc.errno)}") from None
        source = spec.uri
    elif spec.type == "tmpfs":
        host_dir = pal.make_private_dir("pyrene-tmpfs-", 0o1777)
        cleanup.append(host_dir)
        fs = HostFS(host_dir, spec.readonly)
        source = "tmpfs"
    elif spec.type == "proc":
        fs = DeferredFS(lambda: _procfs(instance_ref, start_ns))  # type: ignore[assignment]
        source = "proc"
    elif spec.type == "dev":
        fs = DeferredFS(lambda: _devfs(start_ns, manifest.dev_pts))  # type: ignore[assignment]
        source = "dev"
    else:  # encrypted mounts were refused by build_mounts already
        raise ManifestError(manifest.source, spec.key, f"unknown mount type {spec.type!r}")
    return Mount(os.path.normpath(spec.path), fs, spec.type, source)


def file_checks(manifest: Manifest) -> FileChecks | None:
    """The trusted/allowed file checks, or None when the manifest lists no such files
    (Gramine without SGX: nothing is checked). Every trusted file is measured now: one
    without a sha256 gets it (as gramine-manifest would have), one whose content does not
    match is refused before the app starts (ManifestError); the check at each open
    (fs/trusted.py) then catches a file changed while the sandbox runs."""
    if not manifest.checks_files:
        return None
    from .fs.trusted import FileChecks
    from .manifest import measure  # here: hashing is only needed with trusted files

    # files are matched by their real host paths: /lib/x86_64-linux-gnu/libc.so.6 and
    # /usr/lib/x86_64-linux-gnu/libc.so.6 (Debian's /lib -> usr/lib) are the same file
    measured = measure.measure(manifest.trusted_files, manifest.source, check=True)
    trusted = {os.path.realpath(tf.path): tf.sha256 for tf in measured}
    allowed = tuple(os.path.join(os.path.realpath(a), "") if a.endswith("/") else os.path.realpath(a)
                    for a in manifest.allowed_files)
    return FileChecks(trusted, allowed, manifest.file_check_policy == "strict")  # type: ignore[arg-type]


def _procfs(instance_ref: list[Instance], start_ns: int) -> FileSystem:
    from .fs import proc  # here: made at the first use of /proc (DeferredFS)

    return proc.make_procfs(_Deferred(instance_ref), start_ns)  # type: ignore[arg-type]


def _devfs(start_ns: int, pts: bool) -> FileSystem:
    from .fs import dev  # here: made at the first use of /dev (DeferredFS)

    return dev.make_devfs(start_ns, pts=pts)


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


def make_instance(opts: RunOptions) -> tuple[Instance, list[str]]:
    """The instance the manifest describes, before any process exists, and the host
    directories to remove when it is done."""
    manifest = opts.manifest
    start_ns = time.time_ns()
    ref: list[Instance] = []
    mounts, cleanup = build_mounts(manifest, ref, start_ns)
    env = environment(manifest, os.environ)
    strace = None
    if opts.strace_file:
        strace = Strace(sys.stderr if opts.strace_file == "-" else open(opts.strace_file, "w"))  # noqa: SIM115
    visible = tuple(sorted(os.sched_getaffinity(0)))
    config = InstanceConfig(
        mounts=mounts, env=env, cwd=manifest.start_dir or os.getcwd(),
        creds=initial_creds(manifest),
        fd_limit=manifest.fd_limit, strace=strace, cpu=opts.cpu if opts.cpu is not None else manifest.cpu,
        visible_cpus=visible, disallow_subprocesses=manifest.disallow_subprocesses,
    )
    instance = Instance(config, SyscallTable.build(syscalls.load(syscalls.FIRST), later=syscalls.load_later))
    ref.append(instance)
    limits = default_rlimits(manifest.fd_limit)
    if manifest.stack_size is not None:
        # what getrlimit reports and glibc sizes new threads' stacks by; the main stack
        # itself grows as the host's RLIMIT_STACK lets it
        limits[Rlimit.RLIMIT_STACK] = (manifest.stack_size, limits[Rlimit.RLIMIT_STACK][1])
    instance.process.rlimits = limits
    instance.process.nice = pal.host_nice()  # what the app process inherits natively
    return instance, cleanup


def close_instance(instance: Instance, cleanup: list[str]) -> None:
    instance.shutdown()
    for d in cleanup:
        pal.remove_tree(d)
    strace = instance.config.strace
    if strace is not None and strace.out is not sys.stderr:
        strace.out.close()


def run(opts: RunOptions) -> int:
    """`pyrene run`: this process becomes the namespace leader (ipc/leader.py); the
    program is resolved here, with a shell's errors, and run by the first instance."""
    instance, cleanup = make_instance(opts)
    try:
        prog = _prepare(instance, opts.manifest, opts.argv, instance.process.env)
        name = opts.argv[0] if opts.argv else str(opts.manifest.entrypoint)
        return Leader(libc.prctl, opts.manifest.max_processes).run(lambda client: _first_instance(instance, prog, name, client))
    finally:
        close_instance(instance, cleanup)


def check(manifest: Manifest) -> None:
    """Everything `run` would refuse before starting the app, without starting it."""
    instance, cleanup = make_instance(RunOptions(argv=[], manifest=manifest))
    try:
        if manifest.entrypoint is not None:
            prog = _prepare(instance, manifest, [manifest.entrypoint], [])
            prog.file.decref()
            if prog.interp is not None:
                prog.interp[1].decref()
    finally:
        close_instance(instance, cleanup)


def entrypoint_path(manifest: Manifest) -> str:
    """libos.entrypoint as a path: relative ones are from the start directory (no PATH
    search, as in Gramine)."""
    assert manifest.entrypoint is not None
    return manifest.entrypoint if "/" in manifest.entrypoint else "./" + manifest.entrypoint


def check_entrypoint(instance: Instance, manifest: Manifest) -> None:
    """ManifestError if no mount grants the entrypoint as a regular file."""
    path = entrypoint_path(manifest)
    try:
        res = instance.vfs.resolve(instance.process.cwd, path, follow=True)
    except Errno as exc:
        full = os.path.normpath(os.path.join(instance.process.cwd, path))
        mount, rel = instance.vfs.mounts.find(split_path(full))
        where = f"the {mount.kind} mount at {mount.path}"
        if mount.kind == "chroot":
            where += f" (host {os.path.join(mount.source, rel) if rel else mount.source})"
        raise ManifestError(manifest.source, "libos.entrypoint",
                            f"{describe(manifest.entrypoint)} is not granted by any mount: {where} has no such file "
                            f"({os.strerror(exc.errno)})") from None
    assert res.stat is not None
    if not stat_mod.S_ISREG(res.stat.mode):
        raise ManifestError(manifest.source, "libos.entrypoint", f"{describe(manifest.entrypoint)} is not a regular file")


def check_start_dir(instance: Instance, manifest: Manifest) -> None:
    try:
        res = instance.vfs.resolve("/", instance.process.cwd, follow=True)
    except Errno as exc:
        raise ManifestError(manifest.source, "fs.start_dir",
                            f"{describe(instance.process.cwd)} is not in the sandbox ({os.strerror(exc.errno)})") from None
    assert res.stat is not None
    if not stat_mod.S_ISDIR(res.stat.mode):
        raise ManifestError(manifest.source, "fs.start_dir", f"{describe(instance.process.cwd)} is not a directory")


class _Preflight:
    """A task-like view used to resolve the program before any process exists."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.proc = instance.process


def _prepare(instance: Instance, manifest: Manifest, argv: list[str], env: list[str]) -> execmod.Program:
    """Find and open the program (and its interpreter) with a shell's errors: 127 when
    missing, 126 when not executable; a manifest's entrypoint must be granted (exit 2)."""
    check_start_dir(instance, manifest)
    if manifest.entrypoint is not None:
        check_entrypoint(instance, manifest)
        name = manifest.entrypoint
        path = entrypoint_path(manifest)
    else:
        name = argv[0]
        path = find_program(instance, name, env)
    try:
        return execmod.prepare(_Preflight(instance), path, list(argv))  # type: ignore[arg-type]
    except NotElf as exc:
        raise PyreneError(f"pyrene: {name}: {exc}", 126) from None
    except Errno as exc:
        if exc.errno == errno.ENOENT:
            raise PyreneError(f"pyrene: {name}: No such file or directory", 127) from None
        if exc.errno == errno.ENOEXEC:
            raise PyreneError(f"pyrene: {name}: cannot execute binary file: Exec format error", 126) from None
        raise PyreneError(f"pyrene: {name}: {os.strerror(exc.errno)}", 126) from None


def _first_instance(instance: Instance, prog: execmod.Program, name: str, client: LeaderClient) -> int:
    """The first instance's life, in the process the leader forked for it: start app
    process 1, serve it (and, after forks, whichever process this copy serves), tell the
    leader of its exit. The process then ends without the leader's cleanup."""
    instance.leader = client
    try:
        task = instance.start(prog, stdio_files())  # type: ignore[arg-type]
    except Errno as exc:
        print(f"pyrene: {name}: cannot load program: {os.strerror(exc.errno)}", file=sys.stderr)
        return 126
    client.send(Started(1, task.tid, os.getpid()))
    instance.publish()
    try:
        code = instance.run(task)
    finally:
        instance.shutdown()
        if instance.strace is not None:
            instance.strace.out.flush()
    leader = instance.leader  # after a fork, this process serves the child, over its own socket
    assert leader is not None
    leader.send(Exited(instance.process.vpid, instance.exit_raw, code))
    return code


def initial_creds(manifest: Manifest) -> Creds:
    """The first process's identity: the manifest's uid/gid or the host user's; the
    host's capability sets when it runs as the host user, as a native run would have."""
    uid = manifest.uid if manifest.uid is not None else os.getuid()
    gid = manifest.gid if manifest.gid is not None else os.getgid()
    host = None
    if uid == os.getuid():
        c = pal.host_capabilities()
        host = CapSets(c.get("CapEff", 0), c.get("CapPrm", 0), c.get("CapInh", 0),
                       c.get("CapBnd", 0), c.get("CapAmb", 0))
    return Creds.initial(uid, gid, tuple(os.getgroups()), host)
