"""System information and per-process odds and ends: uname, sysinfo, arch_prctl, prctl,
CPU affinity."""

from __future__ import annotations

import errno
import os
import struct

from ..abi.flags import ArchPrctl
from ..abi.structs import SYSINFO, pack_utsname
from ..abi.types import Int, Ptr, SizeT, ULong, enum_type
from ..errors import Errno, RunOnHost
from ..ipc.messages import DeathSignal
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from .creds import CREDS_PRCTL
from ..pal import linux as pal

ARCH_ALLOWED = frozenset(code.value for code in ArchPrctl)  # the thread-register and CPUID codes
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE = 1, 2, 3, 4
PR_SET_NAME, PR_GET_NAME = 15, 16
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37


@syscall("uname", Ptr)
def uname(t: Task, buf: int) -> int:
    u = os.uname()
    t.mem.write(buf, pack_utsname(u.sysname, u.nodename, u.release, u.version, u.machine, "(none)"))
    return 0


@syscall("sysinfo", Ptr)
def sysinfo(t: Task, buf: int) -> int:
    uptime, mem = pal.host_uptime_and_memory()
    procs = len(t.instance.sandbox_pids())
    t.mem.write(buf, SYSINFO.pack(int(uptime), 0, 0, 0, mem["MemTotal"], mem["MemFree"], mem["Shmem"],
                                  mem["Buffers"], mem["SwapTotal"], mem["SwapFree"], procs, 0, 0, 1))
    return 0


ArchPrctlCode = enum_type(ArchPrctl)


@syscall("arch_prctl", ArchPrctlCode, Ptr)
def arch_prctl(t: Task, code: int, addr: int) -> int:
    """Thread-register and CPUID controls run on the host: they touch only this thread."""
    if code not in ARCH_ALLOWED:
        raise Errno(errno.EINVAL)
    raise RunOnHost()


@syscall("prctl", Int, ULong, ULong, ULong, ULong, support=PARTIAL,
         note="names, pdeathsig (sent by the leader when the parent process exits), dumpable, child subreaper (stored), and syscalls/creds.py's "
              "capability options")
def prctl(t: Task, option: int, a2: int, a3: int, a4: int, a5: int) -> int:
    p = t.proc
    if option == PR_SET_NAME:
        p.comm = t.mem.read_cstr(a2, 4096)[:15].decode("utf-8", "replace")
        t.instance.publish()
        return 0
    if option == PR_GET_NAME:
        t.mem.write(a2, p.comm.encode()[:15].ljust(16, b"\0"))
        return 0
    if option == PR_SET_PDEATHSIG:
        if a2 > 64:
            raise Errno(errno.EINVAL)
        p.pdeathsig = a2
        if t.instance.leader is not None:  # the leader sends it when the parent exits
            t.instance.leader.request(DeathSignal(p.vpid, a2))  # answered: recorded before any exit it is about
        return 0
    if option == PR_GET_PDEATHSIG:
        t.mem.write(a2, struct.pack("<i", p.pdeathsig))
        return 0
    if option == PR_GET_DUMPABLE:
        return p.dumpable
    if option == PR_SET_DUMPABLE:
        if a2 not in (0, 1):
            raise Errno(errno.EINVAL)
        p.dumpable = a2
        t.instance.publish()
        return 0
    if option in CREDS_PRCTL:
        return CREDS_PRCTL[option](p.creds, a2, a3, a4, a5)
    if option == PR_SET_CHILD_SUBREAPER:
        p.child_subreaper = bool(a2)
        return 0
    if option == PR_GET_CHILD_SUBREAPER:
        t.mem.write(a2, struct.pack("<i", int(p.child_subreaper)))
        return 0
    raise Errno(errno.EINVAL)


@syscall("sched_getaffinity", Int, SizeT, Ptr)
def sched_getaffinity(t: Task, pid: int, size: int, mask: int) -> int:
    """The CPUs Pyrene may use, not the one CPU the instance pinned the app to."""
    if pid not in (0, t.proc.vpid) and t.instance.thread(pid) is None:  # a thread's tid: its process's values
        raise Errno(errno.ESRCH)
    cpus = t.instance.visible_cpus
    nbytes = max(8, ((max(cpus) // 64) + 1) * 8)
    if size < nbytes or size % 8:
        raise Errno(errno.EINVAL)
    bits = 0
    for c in cpus:
        bits |= 1 << c
    t.mem.write(mask, bits.to_bytes(nbytes, "little"))
    return nbytes


@syscall("sched_setaffinity", Int, SizeT, Ptr, support=PARTIAL, note="accepted, not applied")
def sched_setaffinity(t: Task, pid: int, size: int, mask: int) -> int:
    if pid not in (0, t.proc.vpid) and t.instance.thread(pid) is None:  # a thread's tid: its process's values
        raise Errno(errno.ESRCH)
    t.mem.read(mask, min(size, 128))
    return 0


@syscall("getcpu", Ptr, Ptr, Ptr)
def getcpu(t: Task, cpu: int, node: int, cache: int) -> int:
    if cpu:
        t.mem.write(cpu, b"\0\0\0\0")
    if node:
        t.mem.write(node, b"\0\0\0\0")
    return 0
