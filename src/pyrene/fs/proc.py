"""Synthesized /proc, computed from the instance's own state, and for the other
processes of the sandbox from what the namespace leader keeps of them.

Only the sandbox's processes exist here, under their virtual pids (the first app process
is 1); the host's /proc is never visible: it would show host pids, and /proc/<pid>/root
of a host process is a way out of any chroot. Per-process files that only the host
kernel knows (memory counters, maps) are read from the host's entry for the app's host
pid, with every pid, identity and path rewritten to what the sandbox sees.

The links are the sandbox's:

  * root is "/", cwd and exe are sandbox paths: following them walks the sandbox's own
    namespace, so /proc/self/root/etc/passwd is the sandbox's /etc/passwd;
  * fd/N shows the file's sandbox path when that path still names the very file (same
    device and inode). Otherwise it shows what Linux shows for a file without a
    reachable path (pipe:[ino], socket:[ino], "PATH (deleted)"), and following the
    link reopens the open file itself (`OpenFile.reopen`), as Linux does. A file that
    came from outside the sandbox (Pyrene's own stdio redirected to a host file) never
    shows its host path;
  * maps shows a mapped file's sandbox path only when a host mount translates its host
    path to a sandbox path naming the same inode; other file mappings (Pyrene's stub)
    look anonymous.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from ..abi.flags import S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFSOCK, Rlimit
from ..abi.structs import Stat
from ..errors import Errno
from ..ipc.messages import Facts, ProcessDescription
from ..pal import linux as pal
from . import synth
from .file import OpenFile
from .host import HostFS
from .mounts import Mount

if TYPE_CHECKING:
    from ..kernel.instance import Instance
    from ..kernel.task import Process

# host files copied as they are: the machine is the host's
HOST_COPIES = ("cpuinfo", "meminfo", "uptime", "version", "filesystems", "stat", "swaps", "cgroups")
HOST_SYS = (
    "kernel/hostname", "kernel/domainname", "kernel/osrelease", "kernel/ostype", "kernel/version",
    "kernel/pid_max", "kernel/ngroups_max", "kernel/cap_last_cap", "kernel/overflowuid",
    "kernel/overflowgid", "kernel/random/boot_id", "kernel/random/uuid", "kernel/random/entropy_avail",
    "kernel/random/poolsize", "kernel/threads-max", "kernel/shmmax", "kernel/shmall", "kernel/shmmni",
    "kernel/msgmax", "kernel/msgmnb", "kernel/msgmni", "kernel/sem",
    "vm/overcommit_memory", "vm/max_map_count", "vm/mmap_min_addr",
    "fs/pipe-max-size", "fs/file-max", "fs/nr_open",
)
FSTYPES = {"chroot": ("hostfs", "hostfs"), "tmpfs": ("tmpfs", "tmpfs"), "proc": ("proc", "proc"),
           "dev": ("devtmpfs", "udev")}  # mount kind -> (fstype, source) as mounts shows them
FIRST_MOUNT_ID = 21
TTY_MAJORS = {4, 5} | set(range(136, 144))
NO_ID = 4294967295  # (uid_t)-1: loginuid and sessionid of a process no login set

# /proc/PID/limits: (name, unit) by resource number, as fs/proc/base.c prints them
LIMIT_NAMES = {
    Rlimit.RLIMIT_CPU: ("Max cpu time", "seconds"), Rlimit.RLIMIT_FSIZE: ("Max file size", "bytes"),
    Rlimit.RLIMIT_DATA: ("Max data size", "bytes"), Rlimit.RLIMIT_STACK: ("Max stack size", "bytes"),
    Rlimit.RLIMIT_CORE: ("Max core file size", "bytes"), Rlimit.RLIMIT_RSS: ("Max resident set", "bytes"),
    Rlimit.RLIMIT_NPROC: ("Max processes", "processes"), Rlimit.RLIMIT_NOFILE: ("Max open files", "files"),
    Rlimit.RLIMIT_MEMLOCK: ("Max locked memory", "bytes"), Rlimit.RLIMIT_AS: ("Max address space", "bytes"),
    Rlimit.RLIMIT_LOCKS: ("Max file locks", "locks"), Rlimit.RLIMIT_SIGPENDING: ("Max pending signals", "signals"),
    Rlimit.RLIMIT_MSGQUEUE: ("Max msgqueue size", "bytes"), Rlimit.RLIMIT_NICE: ("Max nice priority", ""),
    Rlimit.RLIMIT_RTPRIO: ("Max realtime priority", ""), Rlimit.RLIMIT_RTTIME: ("Max realtime timeout", "us"),
}
RLIM_INFINITY = (1 << 64) - 1


def host_file(path: str) -> synth.File:
    return synth.text(lambda: pal.read_host_text(path))


def make_procfs(instance: "Instance", start_ns: int) -> synth.SynthFS:
    """The /proc file system of the sandbox whose kernel is `instance`."""
    view = ProcView(instance)
    cache: dict[int, tuple["Process", synth.Dir]] = {}

    def process_dir(p: "Process") -> synth.Dir:
        hit = cache.get(p.vpid)
        if hit is None or hit[0] is not p:
            hit = cache[p.vpid] = (p, synth.static_dir(view.process_entries(p), owner=view.owner(p)))
        return hit[1]

    others: dict[int, synth.Dir] = {}

    def other_dir(vpid: int) -> synth.Dir:
        node = others.get(vpid)
        if node is None:
            node = others[vpid] = view.other_dir(vpid)
        return node

    def root_children() -> "ProcRoot":
        """Every process of the sandbox: ours from our own state, the others from what
        the leader and the host know of them (vpids are never reused: no stale dirs)."""
        own = {p.vpid: p for p in instance.processes()}

        def listing() -> dict[str, synth.Node]:
            entries: dict[str, synth.Node] = {}
            for vpid in sorted(set(instance.sandbox_pids()) | set(own)):
                entries[str(vpid)] = process_dir(own[vpid]) if vpid in own else other_dir(vpid)
            entries.update(fixed)
            return entries

        return ProcRoot(fixed, {str(vpid): process_dir(p) for vpid, p in own.items()}, listing)

    def me() -> "Process":
        return instance.process

    def my_thread() -> int:
        """The calling thread's virtual tid: the task whose call walks this path."""
        task = instance.current
        return task.vtid if task is not None else instance.process.vpid

    fixed: dict[str, synth.Node] = {
        "self": synth.link(lambda: str(me().vpid)),
        "thread-self": synth.link(lambda: f"{me().vpid}/task/{my_thread()}"),
        "mounts": synth.link(lambda: "self/mounts"),
        "loadavg": synth.text(view.loadavg),
        "sys": sys_tree(),
    }
    fixed.update({name: host_file(f"/proc/{name}") for name in HOST_COPIES})
    return synth.SynthFS(synth.directory(root_children), start_ns)


def sys_tree() -> synth.Dir:
    """/proc/sys: the few host settings programs read (all read-only)."""
    root: dict[str, synth.Node] = {}
    for name in HOST_SYS:
        *dirs, leaf = name.split("/")
        node = root
        for d in dirs:
            sub = node.setdefault(d, synth.static_dir({}))
            node = sub.children()  # type: ignore[attr-defined]
        node[leaf] = host_file(f"/proc/sys/{name}")
    return synth.static_dir(root)


class ProcRoot(Mapping[str, synth.Node]):
    """/proc's entries. A lookup of a fixed name (self, ...) or of our own pid asks
    nobody (programs walk /proc/self often); only another pid, or a listing, asks the
    leader, once per walk."""

    def __init__(self, fixed: dict[str, synth.Node], own: dict[str, synth.Node],
                 listing: Callable[[], dict[str, synth.Node]]) -> None:
        self.fixed, self.own, self.listing = fixed, own, listing
        self.everything: dict[str, synth.Node] | None = None

    def _all(self) -> dict[str, synth.Node]:
        if self.everything is None:
            self.everything = self.listing()
        return self.everything

    def __getitem__(self, name: str) -> synth.Node:
        node = self.fixed.get(name) or self.own.get(name)
        if node is not None:
            return node
        if not name.isdigit():
            raise KeyError(name)
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


@dataclass(frozen=True, slots=True)
class FdView:
    """What /proc/PID/fd/N shows, and the file a follow reopens (None: walk `target`)."""

    target: str
    file: OpenFile | None


class ProcView:
    """The per-process files, as functions of the instance's state."""

    def __init__(self, instance: "Instance") -> None:
        self.instance = instance
        self.oom_score_adj: dict[int, int] = {}

    # -- identities ------------------------------------------------------------------

    @staticmethod
    def owner(p: "Process") -> Callable[[], tuple[int, int]]:
        """task_dump_owner: the effective ids, or root's for a non-dumpable process."""
        return lambda: (p.creds.euid, p.creds.egid) if p.dumpable == 1 else (0, 0)

    # -- the process directory ---------------------------------------------------------

    def process_entries(self, p: "Process") -> dict[str, synth.Node]:
        own = self.owner(p)

        def text(content: Callable[[], bytes], mode: int = 0o444,
                 store: Callable[[bytes], None] | None = None) -> synth.File:
            return synth.text(content, mode, own, store)

        entries: dict[str, synth.Node] = {
            "exe": synth.link(lambda: p.exe, owner=own),
            "cwd": synth.link(lambda: p.cwd, owner=own),
            "root": synth.link(lambda: "/", owner=own),
            "cmdline": text(lambda: b"".join(os.fsencode(a) + b"\0" for a in p.argv)),
            "environ": text(lambda: b"".join(os.fsencode(e) + b"\0" for e in p.env), mode=0o400),
            "comm": text(lambda: p.comm.encode() + b"\n", 0o644, lambda data: self.set_comm(p, data)),
            "status": text(lambda: self.status(p)),
            "stat": text(lambda: self.stat(p)),
            "statm": text(lambda: pal.read_host_text(f"/proc/{p.host_pid}/statm")),
            "maps": text(lambda: self.maps(p, "maps")),
            "smaps": text(lambda: self.maps(p, "smaps")),
            "smaps_rollup": text(lambda: self.maps(p, "smaps_rollup")),
            **self.process_entries_static(own),
            "limits": text(lambda: limits(p).encode()),
            "oom_score_adj": text(lambda: b"%d\n" % self.oom_score_adj.get(p.vpid, 0), 0o644,
                                  lambda data: self.set_oom_score_adj(p, data)),
            "fd": synth.Dir(S_IFDIR | 0o500, owner=own, children=lambda: self.fd_links(p),
                            size=lambda: len(p.files.entries)),  # Linux: the number of open fds
            "fdinfo": synth.directory(lambda: self.fd_infos(p), mode=0o500, owner=own),
        }
        threads: dict[int, synth.Dir] = {}

        def thread(vtid: int) -> synth.Dir:
            """task/TID/: the process's files (no task/ again), the status the thread's."""
            node = threads.get(vtid)
            if node is None:
                node = threads[vtid] = synth.static_dir(
                    dict(entries, status=text(lambda: self.status(p, vtid))), owner=own)
            return node

        entries["task"] = synth.directory(lambda: {str(vtid): thread(vtid) for vtid in thread_ids(self.instance, p)},
                                          owner=own)
        return entries

    def process_entries_static(self, own: Callable[[], tuple[int, int]]) -> dict[str, synth.Node]:
        """The files that are the same for every process of the sandbox (one mount
        namespace, no cgroups, no audit login)."""

        def plain(value: str, mode: int = 0o444) -> synth.File:
            return synth.text(lambda: value.encode(), mode, own)

        return {
            "mounts": synth.text(lambda: self.mounts().encode(), owner=own),
            "mountinfo": synth.text(lambda: self.mountinfo().encode(), owner=own),
            "cgroup": plain("0::/\n"),
            "loginuid": plain(str(NO_ID), 0o644),
            "sessionid": plain(str(NO_ID)),
            "oom_score": plain("0\n"),
            "personality": plain("00000000\n"),
            "wchan": plain("0"),
            "setgroups": plain("allow\n"),
            "uid_map": plain("%10d %10d %10d\n" % (0, 0, NO_ID)),
            "gid_map": plain("%10d %10d %10d\n" % (0, 0, NO_ID)),
        }

    def set_comm(self, p: "Process", data: bytes) -> None:
        """Linux keeps what was written, newline included, up to 15 bytes."""
        p.comm = data[:15].decode("utf-8", "replace")
        self.instance.publish()

    def set_oom_score_adj(self, p: "Process", data: bytes) -> None:
        try:
            value = int(data.strip())
        except ValueError:
            raise Errno(errno.EINVAL) from None
        if not -1000 <= value <= 1000:
            raise Errno(errno.EINVAL)
        self.oom_score_adj[p.vpid] = value

    # -- fd/ and fdinfo/ ----------------------------------------------------------------

    def fd_view(self, file: OpenFile) -> FdView:
        st = file.stat()
        path = file.path
        if path.startswith("/"):
            try:
                res = self.instance.vfs.resolve("/", path, follow=False)
                if res.stat is not None and same_file(res.stat, st):
                    # an fd may write a file its path shows read-only (Pyrene's stdout
                    # redirected to a host file outside the writable mounts): following
                    # the link then reopens through the fd, as Linux does, never wider
                    writes_ro = file.writable and isinstance(res.mount.fs, HostFS) and res.mount.fs.readonly
                    return FdView(path, file if writes_ro else None)
            except Errno:
                pass
        kind = st.mode & S_IFMT
        if kind == S_IFIFO:
            return FdView(f"pipe:[{st.ino}]", file)
        if kind == S_IFSOCK:
            return FdView(f"socket:[{st.ino}]", file)
        if not path.startswith("/") or (kind == S_IFCHR and os.major(st.rdev) in TTY_MAJORS):
            return FdView(path, file)  # anon_inode:[...], a terminal: the name says nothing of the host
        if st.nlink == 0 and self._parent_exists(path):
            return FdView(f"{path} (deleted)", file)
        return FdView(f"host:[{st.ino}]", file)

    def _parent_exists(self, path: str) -> bool:
        try:
            self.instance.vfs.resolve("/", os.path.dirname(path) or "/")
            return True
        except Errno:
            return False

    def fd_links(self, p: "Process") -> dict[str, synth.Node]:
        own = self.owner(p)
        out: dict[str, synth.Node] = {}
        for fd, e in sorted(p.files.entries.items()):
            f = e.file
            mode = (0o400 if f.readable else 0) | (0o200 if f.writable else 0) | 0o100
            out[str(fd)] = synth.link(lambda f=f: self.fd_view(f).target, mode=mode, owner=own,  # type: ignore[misc]
                                      magic=lambda f=f: self.fd_view(f).file, size=64)  # type: ignore[misc]
        return out

    def fd_infos(self, p: "Process") -> dict[str, synth.Node]:
        own = self.owner(p)
        return {str(fd): synth.text(lambda fd=fd: self.fdinfo(p, fd), owner=own)  # type: ignore[misc]
                for fd in sorted(p.files.entries)}

    def fdinfo(self, p: "Process", fd: int) -> bytes:
        entry = p.files.entry(fd)
        file = entry.file
        st = file.stat()
        if st.mode & S_IFMT == S_IFDIR:
            pos = file.dir_pos
        else:
            try:
                pos = file.seek(0, os.SEEK_CUR)
            except Errno:
                pos = 0
        flags = file.flags | (os.O_CLOEXEC if entry.cloexec else 0)
        return f"pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{self.mount_id_of(file)}\nino:\t{st.ino}\n".encode()

    def mount_id_of(self, file: OpenFile) -> int:
        try:
            res = self.instance.vfs.resolve("/", file.path, follow=False)
        except Errno:
            return 0
        return next((i for i, (m, _) in self.mount_ids().items() if m is res.mount), 0)

    # -- status and stat --------------------------------------------------------------

    def status(self, p: "Process", tid: int = 0) -> bytes:
        return self.format_status(described(p), p, tid)

    def stat(self, p: "Process") -> bytes:
        return self.format_stat(described(p), running=True)

    def format_status(self, d: ProcessDescription, own: "Process | None" = None, tid: int = 0) -> bytes:
        """The host's status of the app process with the sandbox's pids and identities
        put in; `own` is given for our own process (umask and fds are known only here),
        `tid` for one of its threads (task/TID/status)."""
        f = facts(d)
        host = pal.read_host_text(f"/proc/{d.host_pid}/status").decode(errors="replace").splitlines()
        if not host:
            host = [f"{key}:" for key in ("Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid",
                                          "Uid", "Gid", "FDSize", "Groups")] + ["Threads:\t1"]
        host_state = next((line.split(":", 1)[1].strip() for line in host if line.startswith("State:")), "R")
        caps = f.caps
        cpus = self.instance.visible_cpus
        fields = {
            "Name": escape_comm(f.comm),
            "State": "R (running)" if own is not None else sandbox_state(host_state, d.exited, long=True),
            "Tgid": str(d.vpid), "Ngid": "0", "Pid": str(tid or d.vpid), "PPid": str(d.ppid), "TracerPid": "0",
            "Uid": "\t".join(map(str, f.uids)), "Gid": "\t".join(map(str, f.gids)),
            "Groups": " ".join(map(str, f.groups)) + " ",
            "NStgid": str(d.vpid), "NSpid": str(tid or d.vpid), "NSpgid": str(d.pgid), "NSsid": str(d.sid),
            "CapInh": f"{caps[2]:016x}", "CapPrm": f"{caps[1]:016x}", "CapEff": f"{caps[0]:016x}",
            "CapBnd": f"{caps[3]:016x}", "CapAmb": f"{caps[4]:016x}", "NoNewPrivs": str(int(f.no_new_privs)),
            "Seccomp": "0", "Seccomp_filters": "0",
            "Cpus_allowed": cpu_mask(cpus), "Cpus_allowed_list": cpu_list(cpus),
        }
        if own is not None:
            fields["Umask"], fields["FDSize"] = f"{own.umask:04o}", str(fd_size(own))
        out = []
        for line in host:
            key = line.split(":", 1)[0]
            if key == "Umask" and own is None:
                continue  # another process's umask is known only to its instance
            out.append(f"{key}:\t{fields[key]}" if key in fields else line)
        return ("\n".join(out) + "\n").encode()

    def format_stat(self, d: ProcessDescription, running: bool = False) -> bytes:
        """proc(5)'s stat line: the host's counters, the sandbox's pids (`running`: the
        reader's own process, which is running as it reads)."""
        host = pal.read_host_text(f"/proc/{d.host_pid}/stat").decode(errors="replace")
        m = re.match(r"\d+ \(.*\) (.*)", host, re.S)
        rest = (m.group(1) if m else "R" + " 0" * 49).split()
        # rest[0] = state (3), [1] ppid, [2] pgrp, [3] session, [4] tty_nr, [5] tpgid
        host_pgrp, host_tpgid = rest[2], rest[5]
        rest[0] = "R" if running else sandbox_state(rest[0], d.exited)
        rest[1:4] = [str(d.ppid), str(d.pgid), str(d.sid)]
        # the terminal's foreground group: the sandbox's (one host group) when it is in front;
        # another group is one the sandbox cannot see (0, as Linux shows it across pid namespaces)
        rest[5] = "-1" if host_tpgid == "-1" else str(d.pgid) if host_tpgid == host_pgrp != "0" else "0"
        return f"{d.vpid} ({facts(d).comm}) {' '.join(rest)}\n".encode()

    def loadavg(self) -> bytes:
        """The host's load, with the sandbox's process count and last pid."""
        fields = pal.read_host_text("/proc/loadavg").decode().split()[:3] or ["0.00"] * 3
        pids = self.instance.sandbox_pids()
        return f"{' '.join(fields)} 1/{len(pids)} {max(pids, default=1)}\n".encode()

    # -- maps -------------------------------------------------------------------------

    def maps(self, p: "Process | ProcessDescription", name: str) -> bytes:
        """maps, smaps or smaps_rollup of the host, each mapping's file named as the sandbox
        names it; the other lines (smaps' counters) as they are."""
        out = []
        seen: dict[tuple[str, str, str], str] = {}
        host = pal.read_host_text(f"/proc/{p.host_pid}/{name}").decode("utf-8", "surrogateescape")
        for line in host.splitlines():
            m = MAPS_LINE.match(line)
            if m is None:
                out.append(line)
                continue
            head, dev, ino, path = m.groups()
            if path.startswith("/"):
                key = (dev, ino, path)
                if key not in seen:
                    seen[key] = self.sandbox_path_of_mapping(dev, int(ino), path)
                path = seen[key]
                if not path:
                    dev, ino = "00:00", "0"
            out.append(f"{head} {dev} {ino}".ljust(73) + path if path else f"{head} {dev} {ino} ")
        return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape") if out else b""

    def sandbox_path_of_mapping(self, dev: str, ino: int, host_path: str) -> str:
        """The sandbox path naming the mapped host file, or "" if there is none."""
        if host_path.endswith(" (deleted)"):
            return ""  # nothing left to check the name against (Pyrene's stub is one)
        major, minor = (int(x, 16) for x in dev.split(":"))
        for m in self.instance.vfs.mounts.mounts:  # deepest first
            if not isinstance(m.fs, HostFS):
                continue
            root = m.fs.host_path.rstrip("/")
            if host_path != root and not host_path.startswith(root + "/"):
                continue
            candidate = os.path.normpath(m.path + "/" + host_path[len(root):])
            try:
                st = self.instance.vfs.resolve("/", candidate, follow=False).stat
            except Errno:
                continue
            if st is not None and st.ino == ino and (os.major(st.dev), os.minor(st.dev)) == (major, minor):
                return candidate
        return ""

    # -- mounts -----------------------------------------------------------------------

    def mount_ids(self) -> dict[int, tuple[Mount, int]]:
        """Mount id -> (mount, parent id), in mount order (a mount after its parent)."""
        order = list(reversed(self.instance.vfs.mounts.mounts))
        ids: dict[int, tuple[Mount, int]] = {}
        for k, m in enumerate(order):
            parent = FIRST_MOUNT_ID - 1
            for j in range(k - 1, -1, -1):
                if order[j].parts == m.parts[:len(order[j].parts)]:
                    parent = FIRST_MOUNT_ID + j
                    break
            ids[FIRST_MOUNT_ID + k] = (m, parent)
        return ids

    def mounts(self) -> str:
        lines = []
        for m, _ in self.mount_ids().values():
            fstype, source = FSTYPES.get(m.kind, (m.kind, m.kind))
            lines.append(f"{source} {mangle(m.path)} {fstype} {mount_opts(m)} 0 0\n")
        return "".join(lines)

    def mountinfo(self) -> str:
        lines = []
        for mid, (m, parent) in self.mount_ids().items():
            fstype, source = FSTYPES.get(m.kind, (m.kind, m.kind))
            try:
                dev = m.fs.lstat("").dev
            except Errno:
                dev = 0
            lines.append(f"{mid} {parent} {os.major(dev)}:{os.minor(dev)} / {mangle(m.path)} {mount_opts(m)} - "
                         f"{fstype} {source} {'ro' if m.fs.readonly else 'rw'}\n")
        return "".join(lines)

    # -- other processes of the sandbox ------------------------------------------------

    def describe(self, vpid: int) -> ProcessDescription:
        """What the sandbox knows of process `vpid`, asked at each use (ENOENT once gone)."""
        d = self.instance.describe_process(vpid)
        if d.facts is None:
            raise Errno(errno.ENOENT)
        host = host_state_of(d.host_pid)
        if host == "X" or (d.exited and host != "Z"):
            raise Errno(errno.ENOENT)  # reaped on the host: its host pid may be another's now
        # dead before its instance could tell the leader: a zombie all the same
        return d._replace(exited=True) if host == "Z" and not d.exited else d

    def other_dir(self, vpid: int) -> synth.Dir:
        """/proc/PID of another process: what its instance told the leader (cmdline,
        environ, comm, exe, identity) and what the host counts (stat, status, statm, maps),
        with the sandbox's pids. What lives only in its instance and changes often (fds,
        cwd) is refused with EACCES, as Linux refuses it for a process one may not ptrace."""

        def own() -> tuple[int, int]:
            f = facts(self.describe(vpid))
            return (f.uids[1], f.gids[1]) if f.dumpable == 1 else (0, 0)

        def text(content: Callable[[ProcessDescription], bytes], mode: int = 0o444) -> synth.File:
            return synth.text(lambda: content(self.describe(vpid)), mode, own)

        def refused() -> NoReturn:
            raise Errno(errno.EACCES)

        def exe() -> str:
            d = self.describe(vpid)
            if d.exited:
                raise Errno(errno.ENOENT)  # a zombie has no program any more
            return facts(d).exe

        def cmdline(d: ProcessDescription) -> bytes:
            return b"" if d.exited else b"".join(os.fsencode(a) + b"\0" for a in facts(d).argv)

        def environ(d: ProcessDescription) -> bytes:
            return b"" if d.exited else b"".join(os.fsencode(e) + b"\0" for e in facts(d).env)

        entries: dict[str, synth.Node] = {
            "exe": synth.link(exe, owner=own),
            "cwd": synth.link(refused, owner=own),
            "root": synth.link(lambda: "/", owner=own),
            "cmdline": text(cmdline),
            "environ": text(environ, 0o400),
            "comm": text(lambda d: facts(d).comm.encode() + b"\n", 0o644),
            "status": text(self.format_status),
            "stat": text(self.format_stat),
            "statm": text(lambda d: pal.read_host_text(f"/proc/{d.host_pid}/statm")),
            "maps": text(lambda d: self.maps(d, "maps")),
            "smaps": text(lambda d: self.maps(d, "smaps")),
            "smaps_rollup": text(lambda d: self.maps(d, "smaps_rollup")),
            "fd": synth.Dir(S_IFDIR | 0o500, owner=own, children=refused),
            "fdinfo": synth.Dir(S_IFDIR | 0o500, owner=own, children=refused),
            **self.process_entries_static(own),
        }
        thread = synth.static_dir(dict(entries), owner=own)
        entries["task"] = synth.directory(lambda: {str(vpid): thread}, owner=own)
        return synth.Dir(S_IFDIR | 0o555, owner=own, children=lambda: entries)


def facts(d: ProcessDescription) -> Facts:
    assert d.facts is not None  # ProcView.describe and `described` give only known processes
    return d.facts


def described(p: "Process") -> ProcessDescription:
    """Our own process as the leader describes the others: one formatter serves both."""
    pgid, sid = group_and_session(p)
    return ProcessDescription(p.vpid, p.ppid, p.host_pid, pgid, sid, False, p.facts())


def group_and_session(p: "Process") -> tuple[int, int]:
    """The process group and session: the Process's once it keeps them, else pid 1's,
    the one group every process is in (syscalls/process.py)."""
    return getattr(p, "pgid", 1), getattr(p, "sid", 1)


def host_state_of(host_pid: int) -> str:
    host = pal.read_host_text(f"/proc/{host_pid}/stat").decode(errors="replace")
    m = re.match(r"\d+ \(.*\) (\S)", host, re.S)
    return m.group(1) if m else "X"  # gone


STATE_NAMES = {"R": "running", "S": "sleeping", "D": "disk sleep", "T": "stopped", "t": "tracing stop",
               "Z": "zombie", "X": "dead", "I": "idle"}


def sandbox_state(host: str, exited: bool, long: bool = False) -> str:
    """A process's state as the sandbox sees it: a host tracing stop is a syscall its
    instance serves or waits on (S); a process whose exit the leader knows is a zombie
    until reaped. `long`: status's "S (sleeping)" form."""
    state = "Z" if exited else host[:1] or "R"
    if state == "t":
        state = "S"
    return f"{state} ({STATE_NAMES.get(state, 'unknown')})" if long else state


MAPS_LINE = re.compile(r"^([0-9a-f]+-[0-9a-f]+ \S+ [0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$")


def same_file(a: Stat, b: Stat) -> bool:
    """Whether two stats are of one file; a device is the same device wherever its node
    is (the host's /dev/null given as stdin is the sandbox's /dev/null)."""
    if a.mode & S_IFMT == S_IFCHR:
        return b.mode & S_IFMT == S_IFCHR and a.rdev == b.rdev
    return (a.dev, a.ino) == (b.dev, b.ino)


def mount_opts(m: Mount) -> str:
    return ("ro" if m.fs.readonly else "rw") + ",relatime"


def mangle(path: str) -> str:
    """Escape a path as the kernel's mounts files do (space, tab, newline, backslash)."""
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


def escape_comm(comm: str) -> str:
    return comm.replace("\\", "\\\\").replace("\n", "\\n")


def fd_size(p: "Process") -> int:
    """The size of the kernel's fd array: a power of two >= 64 holding the highest fd."""
    top = max(p.files.entries, default=0) + 1
    size = 64
    while size < top:
        size *= 2
    return size


def cpu_mask(cpus: tuple[int, ...], possible: int | None = None) -> str:
    """A cpumask as the kernel prints it (%*pb): 32-bit hex words, most significant first,
    the first one only as wide as the number of possible CPUs needs."""
    nbits = max(possible or os.cpu_count() or 1, max(cpus, default=0) + 1)
    bits = sum(1 << c for c in set(cpus))
    words = (nbits + 31) // 32
    first_digits = ((nbits - 1) % 32 + 4) // 4
    chunks = [f"{(bits >> (32 * i)) & 0xFFFFFFFF:08x}" for i in reversed(range(words))]
    chunks[0] = chunks[0][-first_digits:]
    return ",".join(chunks)


def cpu_list(cpus: tuple[int, ...]) -> str:
    """0-3,6 style."""
    runs: list[list[int]] = []
    for c in sorted(cpus):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def limits(p: "Process") -> str:
    def value(v: int) -> str:
        return "unlimited" if v == RLIM_INFINITY else str(v)

    lines = ["%-25s %-20s %-20s %-10s\n" % ("Limit", "Soft Limit", "Hard Limit", "Units")]
    for res, (name, unit) in LIMIT_NAMES.items():
        soft, hard = p.rlimits.get(int(res), (RLIM_INFINITY, RLIM_INFINITY))
        line = "%-25s %-20s %-20s " % (name, value(soft), value(hard))
        lines.append(line + ("%-10s" % unit if unit else "") + "\n")
    return "".join(lines)


def thread_ids(instance: "Instance", p: "Process") -> list[int]:
    """The virtual tids of `p`'s threads (task/): the leader's is the vpid."""
    return sorted(t.vtid for t in instance.tasks.values() if t.proc is p) or [p.vpid]
