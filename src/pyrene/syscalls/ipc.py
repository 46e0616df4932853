"""System V IPC: msg*, sem*, shm* (the client side of ipc/sysv.py).

The namespace is the sandbox's, held by the namespace leader (ipc/shared.py): handlers
decode the app's structs and call it with plain values over the instance's socket (one
round trip per call; nothing else of the instance's hot path talks to the leader).
Shared memory is real: each segment is a host memfd held by the leader; shmat gets a
copy of it (SCM_RIGHTS), maps it MAP_SHARED into the app (kernel/memory.map_host_fd) and
closes the copy, so every attach of every process sees the same pages.

A call that has to wait (msgrcv with no message, msgsnd to a full queue, semop that
cannot proceed) parks its task until the leader wakes the instance (the object changed:
the call is asked again), a signal ends it (EINTR), IPC_RMID removes the object (EIDRM)
or semtimedop's timeout passes (see `waits`). munmap of an attach runs natively: the
calls on shared memory first `prune` the attaches whose mapping is gone (read from the
host's /proc/PID/maps), so nattch drops at the next shm* call of the process, not at
the munmap itself.
"""

from __future__ import annotations

import errno
import struct
import time

from ..abi import structs
from ..abi.flags import MapFlags, Prot
from ..abi.types import Int, Long, Ptr, SizeT, ULong
from ..errors import Blocked, Errno, WouldBlock
from ..kernel import memory
from ..kernel.table import syscall
from ..kernel.task import Task
from ..lazy import lazy_module
from ..pal import linux as pal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import Any

    from ..ipc import sysv
else:
    sysv = lazy_module("pyrene.ipc.sysv")  # imported at a program's first System V call

SHMLBA = memory.PAGE
NR_MUNMAP = memory.NR_MUNMAP


def client(t: Task) -> sysv.SysVClient:
    """The instance's System V IPC state, created at first use (most programs never use
    System V IPC): the namespace's limits, asked of the leader once, and the attaches."""
    state: sysv.SysVClient | None = getattr(t.instance, "sysv", None)
    if state is None:
        limits, _ = t.instance.shared_call(t.tid, "sysv_limits", ())
        assert isinstance(limits, sysv.Limits)
        state = sysv.SysVClient(limits)
        t.instance.sysv = state  # type: ignore[attr-defined]
    return state


def call(t: Task, name: str, *args: object) -> Any:
    """A namespace operation that never waits (ipc/shared.py op_sysv)."""
    return t.instance.shared_call(t.tid, "sysv", (name, *args))[0]


def caller(t: Task) -> sysv.Caller:
    creds = t.proc.creds  # System V IPC checks the effective ids (ipc/util.c ipcperms)
    return sysv.Caller(t.proc.vpid, creds.euid, creds.egid, tuple(creds.groups))


def waiting(t: Task, op: str, args: tuple[object, ...], deadline: int | None = None) -> Any:
    """An operation that may wait: if it must, the task parks (kernel/waits.py) until the
    leader wakes the instance (the object changed: the handler runs again), a signal
    ends it with EINTR (System V waits are never restarted, signal(7)) or `deadline`
    passes (EAGAIN)."""
    expired = deadline is not None and deadline <= time.monotonic_ns()
    try:
        return t.instance.shared_call(t.tid, op, args, wait=not expired)[0]
    except Blocked:
        if expired:
            raise Errno(errno.EAGAIN) from None
        raise WouldBlock((), deadline, restartable=False, wake=True,
                         on_eintr=lambda: t.instance.shared_call(t.tid, "cancel_wait", ())) from None


def signed(value: int, bits: int = 64) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def pack_perm(perm: sysv.IpcPerm) -> tuple[int, ...]:
    return (signed(perm.key & 0xFFFFFFFF, 32), perm.uid, perm.gid, perm.cuid, perm.cgid, perm.mode, perm.seq, 0)


def read_perm_fields(t: Task, layout: struct.Struct, buf: int) -> tuple[int, ...]:
    """IPC_SET: the whole *_ds struct (uid, gid, mode are fields 1, 2, 5)."""
    return layout.unpack(t.mem.read(buf, layout.size))


# -- message queues ------------------------------------------------------------------------


@syscall("msgget", Int, Int)
def msgget(t: Task, key: int, flags: int) -> int:
    return int(call(t, "msgget", key, flags, caller(t)))


@syscall("msgsnd", Int, Ptr, SizeT, Int)
def msgsnd(t: Task, msqid: int, msgp: int, size: int, flags: int) -> int:
    mtype = signed(int.from_bytes(t.mem.read(msgp, 8), "little"))
    if size > client(t).limits.msgmax or msqid < 0:
        raise Errno(errno.EINVAL)
    if mtype < 1:
        raise Errno(errno.EINVAL)
    text = t.mem.read(msgp + 8, size)
    waiting(t, "msgsnd", (caller(t), msqid, mtype, text, flags))
    return 0


@syscall("msgrcv", Int, Ptr, SizeT, Long, Int)
def msgrcv(t: Task, msqid: int, msgp: int, size: int, mtype: int, flags: int) -> int:
    if msqid < 0:
        raise Errno(errno.EINVAL)
    message = waiting(t, "msgrcv", (caller(t), msqid, signed(size), mtype, flags))
    t.mem.write(msgp, message.mtype.to_bytes(8, "little", signed=True) + message.text)
    return len(message.text)


@syscall("msgctl", Int, Int, Ptr)
def msgctl(t: Task, msqid: int, cmd: int, buf: int) -> int:
    who = caller(t)
    if cmd in (sysv.IPC_STAT, sysv.MSG_STAT, sysv.MSG_STAT_ANY):
        (queue, qnum), _ = t.instance.shared_call(t.tid, "msg_stat", (
            who, msqid, cmd != sysv.IPC_STAT, cmd == sysv.MSG_STAT_ANY))
        t.mem.write(buf, structs.MSQID64_DS.pack(
            *pack_perm(queue.perm), queue.stime, queue.rtime, queue.ctime, queue.cbytes, qnum,
            queue.qbytes, queue.lspid, queue.lrpid))
        return 0 if cmd == sysv.IPC_STAT else int(queue.id)
    if cmd == sysv.IPC_SET:
        fields = read_perm_fields(t, structs.MSQID64_DS, buf)
        call(t, "msg_set", msqid, who, fields[1], fields[2], fields[5], fields[13])
        return 0
    if cmd == sysv.IPC_RMID:
        call(t, "msg_rmid", msqid, who)
        return 0
    if cmd in (sysv.IPC_INFO, sysv.MSG_INFO):
        limits, usage = client(t).limits, call(t, "msg_usage")
        pool = min(limits.msgmni * limits.msgmnb // 1024, 0x7FFFFFFF)
        if cmd == sysv.MSG_INFO:  # msgpool, msgmap, msgtql: objects, messages and bytes in use
            counts = (usage.in_use, usage.messages, usage.text_bytes)
        else:
            counts = (pool, limits.msgmnb, limits.msgmnb)
        t.mem.write(buf, structs.MSGINFO.pack(counts[0], counts[1], limits.msgmax, limits.msgmnb, limits.msgmni,
                                              sysv.MSGSSZ, counts[2], sysv.MSGSEG))
        return int(usage.max_index)
    raise Errno(errno.EINVAL)


# -- semaphores ----------------------------------------------------------------------------


@syscall("semget", Int, Int, Int)
def semget(t: Task, key: int, nsems: int, flags: int) -> int:
    return int(call(t, "semget", key, nsems, flags, caller(t)))


@syscall("semop", Int, Ptr, SizeT)
def semop(t: Task, semid: int, sops: int, nsops: int) -> int:
    return semtimedop(t, semid, sops, nsops, 0)


@syscall("semtimedop", Int, Ptr, SizeT, Ptr)
def semtimedop(t: Task, semid: int, sops: int, nsops: int, timeout: int) -> int:
    if nsops < 1 or semid < 0:
        raise Errno(errno.EINVAL)
    if nsops > client(t).limits.semopm:
        raise Errno(errno.E2BIG)
    raw = t.mem.read(sops, nsops * structs.SEMBUF.size)
    ops = [tuple(op) for op in structs.SEMBUF.iter_unpack(raw)]
    timeout_ns = None
    if timeout:
        sec, nsec = structs.TIMESPEC.unpack(t.mem.read(timeout, structs.TIMESPEC.size))
        if sec < 0 or not 0 <= nsec < 1_000_000_000:
            raise Errno(errno.EINVAL)
        timeout_ns = sec * 1_000_000_000 + nsec
    waiting(t, "semop", (caller(t), semid, ops), t.instance.waits.deadline(t, timeout_ns))
    return 0


@syscall("semctl", Int, Int, Int, ULong)
def semctl(t: Task, semid: int, num: int, cmd: int, arg: int) -> int:
    who = caller(t)
    if cmd in (sysv.GETVAL, sysv.GETPID, sysv.GETNCNT, sysv.GETZCNT):
        sem, _ = t.instance.shared_call(t.tid, "sem_get", (who, semid, num))
        return int({sysv.GETVAL: sem.value, sysv.GETPID: sem.pid, sysv.GETNCNT: sem.ncnt,  # type: ignore[attr-defined]
                    sysv.GETZCNT: sem.zcnt}[cmd])  # type: ignore[attr-defined]
    if cmd == sysv.SETVAL:
        call(t, "sem_setval", semid, num, signed(arg & 0xFFFFFFFF, 32), who)
        return 0
    if cmd == sysv.GETALL:
        values = call(t, "sem_getall", semid, who)
        t.mem.write(arg, b"".join(v.to_bytes(2, "little") for v in values))
        return 0
    if cmd == sysv.SETALL:
        count = call(t, "sem_nsems", semid)
        raw = t.mem.read(arg, 2 * count)
        call(t, "sem_setall", semid, [int.from_bytes(raw[i:i + 2], "little") for i in range(0, 2 * count, 2)], who)
        return 0
    if cmd in (sysv.IPC_STAT, sysv.SEM_STAT, sysv.SEM_STAT_ANY):
        (sem_set, nsems), _ = t.instance.shared_call(t.tid, "sem_stat", (
            who, semid, cmd != sysv.IPC_STAT, cmd == sysv.SEM_STAT_ANY))
        t.mem.write(arg, structs.SEMID64_DS.pack(*pack_perm(sem_set.perm), sem_set.otime, sem_set.ctime, nsems))
        return 0 if cmd == sysv.IPC_STAT else int(sem_set.id)
    if cmd == sysv.IPC_SET:
        fields = read_perm_fields(t, structs.SEMID64_DS, arg)
        call(t, "sem_set", semid, who, fields[1], fields[2], fields[5])
        return 0
    if cmd == sysv.IPC_RMID:
        call(t, "sem_rmid", semid, who)
        return 0
    if cmd in (sysv.IPC_INFO, sysv.SEM_INFO):
        limits, usage = client(t).limits, call(t, "sem_usage")
        if cmd == sysv.SEM_INFO:  # semusz, semaem: sets and semaphores in use
            usz, aem = usage.in_use, usage.semaphores
        else:
            usz, aem = sysv.SEMUSZ, sysv.SEMAEM
        t.mem.write(arg, structs.SEMINFO.pack(limits.semmns, limits.semmni, limits.semmns, limits.semmns,
                                              limits.semmsl, limits.semopm, limits.semopm, usz, sysv.SEMVMX, aem))
        return int(usage.max_index)
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


def pruned(t: Task) -> tuple[sysv.SysVClient, sysv.Caller]:
    """The client and caller, after forgetting the attaches the app munmapped itself."""
    state, who = client(t), caller(t)
    for shmid in state.prune(lambda: host_mappings(t)):
        call(t, "shm_detached", shmid, who)
    return state, who


def exec_detach(t: Task) -> None:
    """execve: the old address space and its attaches are gone (the leader counts them)."""
    state: sysv.SysVClient | None = getattr(t.instance, "sysv", None)
    if state is not None and state.attaches:
        state.attaches.clear()
        t.instance.shared_call(t.tid, "sysv_exec", ())


@syscall("shmget", Int, SizeT, Int)
def shmget(t: Task, key: int, size: int, flags: int) -> int:
    return int(call(t, "shmget", key, size, flags, caller(t)))


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
    (size, inode), fds = t.instance.shared_call(t.tid, "shm_attach", (who, shmid, not flags & sysv.SHM_RDONLY))
    prot = Prot.PROT_READ | (0 if flags & sysv.SHM_RDONLY else Prot.PROT_WRITE)
    prot |= Prot.PROT_EXEC if flags & sysv.SHM_EXEC else 0
    map_flags = MapFlags.MAP_SHARED
    if addr:  # Linux refuses to attach over another mapping unless SHM_REMAP
        map_flags |= MapFlags.MAP_FIXED if flags & sysv.SHM_REMAP else MapFlags.MAP_FIXED_NOREPLACE
    length = memory.page_up(size)
    try:
        result = memory.map_host_fd(t.tracee, addr, length, prot, map_flags, fds[0], 0)
    finally:
        for fd in fds:
            pal.close(fd)
    if result is None:
        raise Errno(errno.ENOMEM, "the host refused pidfd_getfd: shared memory cannot be mapped")
    if result == -errno.EEXIST:
        raise Errno(errno.EINVAL)
    start = memory.checked(result)
    replaced = state.attaches.pop(start, None)  # SHM_REMAP over an earlier attach at the same address
    if replaced is not None:
        call(t, "shm_detached", replaced.shmid, who)
    call(t, "shm_attached", shmid, who)
    state.attaches[start] = sysv.Attach(shmid, length, inode)
    return start


@syscall("shmdt", Ptr)
def shmdt(t: Task, addr: int) -> int:
    state, who = pruned(t)
    attach = state.attaches.pop(addr, None) if addr % memory.PAGE == 0 else None
    if attach is None:
        raise Errno(errno.EINVAL)
    t.tracee.inject(NR_MUNMAP, addr, attach.length)
    call(t, "shm_detached", attach.shmid, who)
    return 0


@syscall("shmctl", Int, Int, Ptr)
def shmctl(t: Task, shmid: int, cmd: int, buf: int) -> int:
    state, who = pruned(t)
    if cmd in (sysv.IPC_STAT, sysv.SHM_STAT, sysv.SHM_STAT_ANY):
        seg, _ = t.instance.shared_call(t.tid, "shm_stat", (who, shmid, cmd != sysv.IPC_STAT,
                                                            cmd == sysv.SHM_STAT_ANY))
        t.mem.write(buf, structs.SHMID64_DS.pack(*pack_perm(seg.perm), seg.size, seg.atime, seg.dtime,  # type: ignore[attr-defined]
                                                 seg.ctime, seg.cpid, seg.lpid, seg.nattch))  # type: ignore[attr-defined]
        return 0 if cmd == sysv.IPC_STAT else int(seg.id)  # type: ignore[attr-defined]
    if cmd == sysv.IPC_SET:
        fields = read_perm_fields(t, structs.SHMID64_DS, buf)
        call(t, "shm_set", shmid, who, fields[1], fields[2], fields[5])
        return 0
    if cmd == sysv.IPC_RMID:
        call(t, "shm_rmid", shmid, who)
        return 0
    if cmd in (sysv.SHM_LOCK, sysv.SHM_UNLOCK):
        call(t, "shm_lock", shmid, who, cmd == sysv.SHM_LOCK)
        return 0
    if cmd == sysv.IPC_INFO:
        limits = state.limits
        t.mem.write(buf, structs.SHMINFO64.pack(limits.shmmax, sysv.SHMMIN, limits.shmmni, limits.shmmni,
                                                limits.shmall))
        return int(call(t, "shm_usage").max_index)
    if cmd == sysv.SHM_INFO:  # shm_rss: every page counts as resident (the memfd's are never swapped by us)
        usage = call(t, "shm_usage")
        t.mem.write(buf, structs.SHM_INFO.pack(usage.in_use, usage.pages, usage.pages, 0, 0, 0))
        return int(usage.max_index)
    raise Errno(errno.EINVAL)
