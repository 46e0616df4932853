"""System V IPC: msg*, sem*, shm* (the client side of ipc/sysv.py).

Handlers decode the app's structs and call the namespace with plain values, so the same
calls can later go to the leader over RPC. Shared memory is real: each segment is a host
memfd held by the namespace, and shmat maps that memfd MAP_SHARED into the app
(kernel/memory.map_host_fd), so every attach sees the same pages.

A call that has to wait (msgrcv with no message, msgsnd to a full queue, semop that
cannot proceed) parks its task; with one process only a signal or a semtimedop timeout
can end it (see `waits`).
munmap of an attach runs natively: the calls on shared memory first `prune` the attaches
whose mapping is gone (read from the host's /proc/PID/maps), so nattch drops at the
next shm* call of the process, not at the munmap itself.
"""

from __future__ import annotations

import errno
import logging
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..abi import structs
from ..abi.flags import MapFlags, Prot
from ..abi.types import Int, Long, Ptr, SizeT, ULong
from ..errors import Errno, WouldBlock
from ..ipc import sysv
from ..ipc.sysv import Caller, IpcPerm
from ..kernel import memory
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from ..pal import linux as pal

log = logging.getLogger("pyrene.ipc")

SHMLBA = memory.PAGE
NR_MUNMAP = memory.NR_MUNMAP
WAIT_NOTE = "waits end by a signal or timeout only: no other process can wake them yet (issue 4)"


def client(t: Task) -> sysv.SysVClient:
    """The instance's System V IPC state, created at first use: most programs never use
    System V IPC, and reading its limits from the host would cost every start.

    With processes (issue 4), the exit path must call `exit_process` (SEM_UNDO, detach)
    and execve `detach_all`; with one process the sandbox ends with it.
    """
    state = getattr(t.instance, "sysv", None)
    if state is None:
        state = sysv.SysVClient(sysv.SysVNamespace(sysv.Limits.from_sysctl(pal.read_host_text)))
        t.instance.sysv = state  # type: ignore[attr-defined]
    return state


def caller(t: Task) -> Caller:
    creds = t.proc.creds  # System V IPC checks the effective ids (ipc/util.c ipcperms)
    return Caller(t.proc.vpid, creds.euid, creds.egid, tuple(creds.groups))


@contextmanager
def waits(t: Task, deadline: int | None = None) -> Iterator[None]:
    """A call that must wait parks its task (kernel/waits.py) until a signal ends it with
    EINTR (System V waits are never restarted, signal(7)) or `deadline` passes (EAGAIN).
    Within one process nothing else can change the namespace, as natively a lone
    single-threaded process would wait for a signal too; with processes (issue 4) the
    leader will wake it when the object changes."""
    try:
        yield
    except sysv.Blocked:
        if deadline is not None and deadline <= time.monotonic_ns():
            raise Errno(errno.EAGAIN) from None
        raise WouldBlock((), deadline, restartable=False) from None


def signed(value: int, bits: int = 64) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def pack_perm(perm: IpcPerm) -> tuple[int, ...]:
    return (signed(perm.key & 0xFFFFFFFF, 32), perm.uid, perm.gid, perm.cuid, perm.cgid, perm.mode, perm.seq, 0)


def read_perm_fields(t: Task, layout: struct.Struct, buf: int) -> tuple[int, ...]:
    """IPC_SET: the whole *_ds struct (uid, gid, mode are fields 1, 2, 5)."""
    return layout.unpack(t.mem.read(buf, layout.size))


# -- message queues ------------------------------------------------------------------------


@syscall("msgget", Int, Int)
def msgget(t: Task, key: int, flags: int) -> int:
    return client(t).namespace.msgget(key, flags, caller(t))


@syscall("msgsnd", Int, Ptr, SizeT, Int, support=PARTIAL, note=WAIT_NOTE)
def msgsnd(t: Task, msqid: int, msgp: int, size: int, flags: int) -> int:
    ns = client(t).namespace
    mtype = signed(int.from_bytes(t.mem.read(msgp, 8), "little"))
    if size > ns.limits.msgmax or msqid < 0:
        raise Errno(errno.EINVAL)
    if mtype < 1:
        raise Errno(errno.EINVAL)
    text = t.mem.read(msgp + 8, size)
    with waits(t):
        ns.msgsnd(msqid, mtype, text, flags, caller(t))
    return 0


@syscall("msgrcv", Int, Ptr, SizeT, Long, Int, support=PARTIAL, note=WAIT_NOTE)
def msgrcv(t: Task, msqid: int, msgp: int, size: int, mtype: int, flags: int) -> int:
    if msqid < 0:
        raise Errno(errno.EINVAL)
    with waits(t):
        message = client(t).namespace.msgrcv(msqid, signed(size), mtype, flags, caller(t))
    t.mem.write(msgp, message.mtype.to_bytes(8, "little", signed=True) + message.text)
    return len(message.text)


@syscall("msgctl", Int, Int, Ptr)
def msgctl(t: Task, msqid: int, cmd: int, buf: int) -> int:
    ns, who = client(t).namespace, caller(t)
    if cmd in (sysv.IPC_STAT, sysv.MSG_STAT, sysv.MSG_STAT_ANY):
        queue = ns.msg_stat(msqid, who, by_index=cmd != sysv.IPC_STAT, any_perm=cmd == sysv.MSG_STAT_ANY)
        t.mem.write(buf, structs.MSQID64_DS.pack(
            *pack_perm(queue.perm), queue.stime, queue.rtime, queue.ctime, queue.cbytes, len(queue.messages),
            queue.qbytes, queue.lspid, queue.lrpid))
        return 0 if cmd == sysv.IPC_STAT else queue.id
    if cmd == sysv.IPC_SET:
        fields = read_perm_fields(t, structs.MSQID64_DS, buf)
        ns.msg_set(msqid, who, fields[1], fields[2], fields[5], fields[13])
        return 0
    if cmd == sysv.IPC_RMID:
        ns.msg_rmid(msqid, who)
        return 0
    if cmd in (sysv.IPC_INFO, sysv.MSG_INFO):
        limits, usage = ns.limits, ns.msg_usage()
        pool = min(limits.msgmni * limits.msgmnb // 1024, 0x7FFFFFFF)
        if cmd == sysv.MSG_INFO:  # msgpool, msgmap, msgtql: objects, messages and bytes in use
            counts = (usage.in_use, usage.messages, usage.text_bytes)
        else:
            counts = (pool, limits.msgmnb, limits.msgmnb)
        t.mem.write(buf, structs.MSGINFO.pack(counts[0], counts[1], limits.msgmax, limits.msgmnb, limits.msgmni,
                                              sysv.MSGSSZ, counts[2], sysv.MSGSEG))
        return usage.max_index
    raise Errno(errno.EINVAL)


# -- semaphores ----------------------------------------------------------------------------


@syscall("semget", Int, Int, Int)
def semget(t: Task, key: int, nsems: int, flags: int) -> int:
    return client(t).namespace.semget(key, nsems, flags, caller(t))


@syscall("semop", Int, Ptr, SizeT, support=PARTIAL, note=WAIT_NOTE)
def semop(t: Task, semid: int, sops: int, nsops: int) -> int:
    return semtimedop(t, semid, sops, nsops, 0)


@syscall("semtimedop", Int, Ptr, SizeT, Ptr, support=PARTIAL, note=WAIT_NOTE)
def semtimedop(t: Task, semid: int, sops: int, nsops: int, timeout: int) -> int:
    ns = client(t).namespace
    if nsops < 1 or semid < 0:
        raise Errno(errno.EINVAL)
    if nsops > ns.limits.semopm:
        raise Errno(errno.E2BIG)
    raw = t.mem.read(sops, nsops * structs.SEMBUF.size)
    ops = [tuple(op) for op in structs.SEMBUF.iter_unpack(raw)]
    timeout_ns = None
    if timeout:
        sec, nsec = structs.TIMESPEC.unpack(t.mem.read(timeout, structs.TIMESPEC.size))
        if sec < 0 or not 0 <= nsec < 1_000_000_000:
            raise Errno(errno.EINVAL)
        timeout_ns = sec * 1_000_000_000 + nsec
    with waits(t, t.instance.waits.deadline(t, timeout_ns)):
        ns.semop(semid, ops, caller(t))  # type: ignore[arg-type]
    return 0


@syscall("semctl", Int, Int, Int, ULong)
def semctl(t: Task, semid: int, num: int, cmd: int, arg: int) -> int:
    ns, who = client(t).namespace, caller(t)
    if cmd in (sysv.GETVAL, sysv.GETPID, sysv.GETNCNT, sysv.GETZCNT):
        sem = ns.sem_get(semid, num, who)
        return {sysv.GETVAL: sem.value, sysv.GETPID: sem.pid, sysv.GETNCNT: sem.ncnt, sysv.GETZCNT: sem.zcnt}[cmd]
    if cmd == sysv.SETVAL:
        ns.sem_setval(semid, num, signed(arg & 0xFFFFFFFF, 32), who)
        return 0
    if cmd == sysv.GETALL:
        values = ns.sem_getall(semid, who)
        t.mem.write(arg, b"".join(v.to_bytes(2, "little") for v in values))
        return 0
    if cmd == sysv.SETALL:
        count = ns.sem_nsems(semid)
        raw = t.mem.read(arg, 2 * count)
        ns.sem_setall(semid, [int.from_bytes(raw[i:i + 2], "little") for i in range(0, 2 * count, 2)], who)
        return 0
    if cmd in (sysv.IPC_STAT, sysv.SEM_STAT, sysv.SEM_STAT_ANY):
        sem_set = ns.sem_stat(semid, who, by_index=cmd != sysv.IPC_STAT, any_perm=cmd == sysv.SEM_STAT_ANY)
        t.mem.write(arg, structs.SEMID64_DS.pack(*pack_perm(sem_set.perm), sem_set.otime, sem_set.ctime,
                                                 len(sem_set.sems)))
        return 0 if cmd == sysv.IPC_STAT else sem_set.id
    if cmd == sysv.IPC_SET:
        fields = read_perm_fields(t, structs.SEMID64_DS, arg)
        ns.sem_set(semid, who, fields[1], fields[2], fields[5])
        return 0
    if cmd == sysv.IPC_RMID:
        ns.sem_rmid(semid, who)
        return 0
    if cmd in (sysv.IPC_INFO, sysv.SEM_INFO):
        limits, usage = ns.limits, ns.sem_usage()
        if cmd == sysv.SEM_INFO:  # semusz, semaem: sets and semaphores in use
            usz, aem = usage.in_use, usage.semaphores
        else:
            usz, aem = sysv.SEMUSZ, sysv.SEMAEM
        t.mem.write(arg, structs.SEMINFO.pack(limits.semmns, limits.semmni, limits.semmns, limits.semmns,
                                              limits.semmsl, limits.semopm, limits.semopm, usz, sysv.SEMVMX, aem))
        return usage.max_index
    raise Errno(errno.EINVAL)


# -- shared memory -------------------------------------------------------------------------


def host_mappings(t: Task) -> set[tuple[int, int]]:
    """(start, inode) of every mapping of the app process, from the host's maps."""
    present = set()
    for line in pal.host_pid_maps(t.tracee.pid).splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] != b"0":
            present.add((int(fields[0].split(b"-")[0], 16), int(fields[4])))
    return present


def pruned(t: Task) -> tuple[sysv.SysVClient, Caller]:
    """The client and caller, after forgetting the attaches the app munmapped itself."""
    state, who = client(t), caller(t)
    state.prune(who, lambda: host_mappings(t))
    return state, who


@syscall("shmget", Int, SizeT, Int)
def shmget(t: Task, key: int, size: int, flags: int) -> int:
    return client(t).namespace.shmget(key, size, flags, caller(t))


@syscall("shmat", Int, Ptr, Int, ret=Ptr)
def shmat(t: Task, shmid: int, addr: int, flags: int) -> int:
    if addr % SHMLBA:
        if not flags & sysv.SHM_RND:
            raise Errno(errno.EINVAL)
        addr -= addr % SHMLBA
        if addr == 0 and flags & sysv.SHM_REMAP:
            raise Errno(errno.EINVAL)
    elif not addr and flags & sysv.SHM_REMAP:
        raise Errno(errno.EINVAL)
    state, who = pruned(t)
    segment = state.namespace.shm_for_attach(shmid, not flags & sysv.SHM_RDONLY, who)
    prot = Prot.PROT_READ | (0 if flags & sysv.SHM_RDONLY else Prot.PROT_WRITE)
    prot |= Prot.PROT_EXEC if flags & sysv.SHM_EXEC else 0
    map_flags = MapFlags.MAP_SHARED
    if addr:  # Linux refuses to attach over another mapping unless SHM_REMAP
        map_flags |= MapFlags.MAP_FIXED if flags & sysv.SHM_REMAP else MapFlags.MAP_FIXED_NOREPLACE
    length = memory.page_up(segment.size)
    assert segment.file is not None  # a segment in the table has its memfd
    result = memory.map_host_fd(t.tracee, addr, length, prot, map_flags, segment.file.fd, 0)
    if result is None:
        raise Errno(errno.ENOMEM, "the host refused pidfd_getfd: shared memory cannot be mapped")
    if result == -errno.EEXIST:
        raise Errno(errno.EINVAL)
    start = memory.checked(result)
    attaches = state.attaches_of(who.pid)
    replaced = attaches.pop(start, None)  # SHM_REMAP over an earlier attach at the same address
    if replaced is not None:
        state.namespace.shm_detached(replaced.shmid, who)
    state.namespace.shm_attached(shmid, who)
    attaches[start] = sysv.Attach(shmid, length, segment.file.stat().ino)
    return start


@syscall("shmdt", Ptr)
def shmdt(t: Task, addr: int) -> int:
    state, who = pruned(t)
    attach = state.attaches_of(who.pid).pop(addr, None) if addr % memory.PAGE == 0 else None
    if attach is None:
        raise Errno(errno.EINVAL)
    t.tracee.inject(NR_MUNMAP, addr, attach.length)
    state.namespace.shm_detached(attach.shmid, who)
    return 0


@syscall("shmctl", Int, Int, Ptr)
def shmctl(t: Task, shmid: int, cmd: int, buf: int) -> int:
    state, who = pruned(t)
    ns = state.namespace
    if cmd in (sysv.IPC_STAT, sysv.SHM_STAT, sysv.SHM_STAT_ANY):
        seg = ns.shm_stat(shmid, who, by_index=cmd != sysv.IPC_STAT, any_perm=cmd == sysv.SHM_STAT_ANY)
        t.mem.write(buf, structs.SHMID64_DS.pack(*pack_perm(seg.perm), seg.size, seg.atime, seg.dtime, seg.ctime,
                                                 seg.cpid, seg.lpid, seg.nattch))
        return 0 if cmd == sysv.IPC_STAT else seg.id
    if cmd == sysv.IPC_SET:
        fields = read_perm_fields(t, structs.SHMID64_DS, buf)
        ns.shm_set(shmid, who, fields[1], fields[2], fields[5])
        return 0
    if cmd == sysv.IPC_RMID:
        ns.shm_rmid(shmid, who)
        return 0
    if cmd in (sysv.SHM_LOCK, sysv.SHM_UNLOCK):
        ns.shm_lock(shmid, who, cmd == sysv.SHM_LOCK)
        return 0
    if cmd == sysv.IPC_INFO:
        limits = ns.limits
        t.mem.write(buf, structs.SHMINFO64.pack(limits.shmmax, sysv.SHMMIN, limits.shmmni, limits.shmmni,
                                                limits.shmall))
        return ns.shm_usage().max_index
    if cmd == sysv.SHM_INFO:  # shm_rss: every page counts as resident (the memfd's are never swapped by us)
        usage = ns.shm_usage()
        t.mem.write(buf, structs.SHM_INFO.pack(usage.in_use, usage.pages, usage.pages, 0, 0, 0))
        return usage.max_index
    raise Errno(errno.EINVAL)
