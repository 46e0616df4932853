"""Synthesized /proc, computed from the instance's own state.

Only the sandbox's processes exist here, under their virtual pids; the host's /proc is
never visible (it would show host pids, and /proc/<pid>/root of a host process is a way
out of any chroot). Per-process files that only the host kernel knows (maps, memory
counters) are read from the host's entry for the app's host pid and have their pid
fields rewritten.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ..pal import linux as pal
from . import synth

if TYPE_CHECKING:
    from ..kernel.instance import Instance
    from ..kernel.task import Process

HOST_COPIES = ("cpuinfo", "meminfo", "uptime", "loadavg", "version", "filesystems", "stat", "swaps")
SYS_KERNEL = ("hostname", "osrelease", "ostype", "pid_max", "ngroups_max", "random/boot_id", "random/uuid")


def host_file(path: str) -> synth.File:
    return synth.text(lambda: pal.read_host_text(path))


def make_procfs(instance: "Instance", start_ns: int) -> synth.SynthFS:
    def process_dir(p: "Process") -> synth.Dir:
        return synth.static_dir(process_entries(p))

    def root_children() -> dict[str, synth.Node]:
        entries: dict[str, synth.Node] = {}
        for p in instance.processes():
            entries[str(p.vpid)] = process_dir(p)
        me = instance.process
        entries["self"] = synth.link(lambda: str(me.vpid))
        entries["thread-self"] = synth.link(lambda: f"{me.vpid}/task/{me.vpid}")
        entries["mounts"] = synth.link(lambda: "self/mounts")
        for name in HOST_COPIES:
            entries[name] = host_file(f"/proc/{name}")
        entries["sys"] = sys_dir
        return entries

    kernel: dict[str, synth.Node] = {}
    for name in SYS_KERNEL:
        if "/" in name:
            sub, leaf = name.split("/")
            kernel.setdefault(sub, synth.static_dir({}))
            kernel[sub].children()[leaf] = host_file(f"/proc/sys/kernel/{name}")  # type: ignore[attr-defined]
        else:
            kernel[name] = host_file(f"/proc/sys/kernel/{name}")
    sys_dir = synth.static_dir({
        "kernel": synth.static_dir(kernel),
        "vm": synth.static_dir({"overcommit_memory": host_file("/proc/sys/vm/overcommit_memory")}),
    })
    return synth.SynthFS(synth.directory(root_children), start_ns)


def process_entries(p: "Process") -> dict[str, synth.Node]:
    def fd_links() -> dict[str, synth.Node]:
        return {str(fd): synth.link(lambda e=e: e.file.path) for fd, e in sorted(p.files.entries.items())}

    entries: dict[str, synth.Node] = {
        "exe": synth.link(lambda: p.exe),
        "cwd": synth.link(lambda: p.cwd),
        "root": synth.link(lambda: "/"),
        "cmdline": synth.text(lambda: b"".join(os.fsencode(a) + b"\0" for a in p.argv)),
        "environ": synth.text(lambda: b"".join(os.fsencode(e) + b"\0" for e in p.env), mode=0o400),
        "comm": synth.text(lambda: p.comm.encode() + b"\n", mode=0o644),
        "status": synth.text(lambda: status(p)),
        "stat": synth.text(lambda: stat(p)),
        "maps": synth.text(lambda: pal.host_pid_maps(p.host_pid)),
        "mounts": synth.text(lambda: p.mounts_text()),
        "fd": synth.directory(fd_links, mode=0o500),
    }
    entries["task"] = synth.directory(lambda: {str(p.vpid): synth.static_dir(entries)})
    return entries


def status(p: "Process") -> bytes:
    """The host's status of the app process with Pyrene's identities put in."""
    fields = {
        "Name": p.comm, "Tgid": str(p.vpid), "Pid": str(p.vpid), "PPid": str(p.ppid),
        "TracerPid": "0", "NStgid": str(p.vpid), "NSpid": str(p.vpid), "NSpgid": str(p.vpid),
        "NSsid": str(p.vpid), "Ngid": "0",
        "Uid": "\t".join([str(p.creds.uid)] * 4), "Gid": "\t".join([str(p.creds.gid)] * 4),
    }
    out = []
    for line in pal.read_host_text(f"/proc/{p.host_pid}/status").decode(errors="replace").splitlines():
        key = line.split(":", 1)[0]
        out.append(f"{key}:\t{fields[key]}" if key in fields else line)
    return ("\n".join(out) + "\n").encode()


def stat(p: "Process") -> bytes:
    host = pal.read_host_text(f"/proc/{p.host_pid}/stat").decode(errors="replace")
    m = re.match(r"\d+ \(.*\) (.*)", host, re.S)
    rest = (m.group(1) if m else "R 0 0 0 0 -1 0").split(" ")
    rest[1:4] = [str(p.ppid), str(p.vpid), str(p.vpid)]
    return f"{p.vpid} ({p.comm}) {' '.join(rest)}".encode()
