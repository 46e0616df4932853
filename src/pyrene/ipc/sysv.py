"""The System V IPC namespace: message queues, semaphore sets, shared memory segments.

One `SysVNamespace` holds the sandbox's objects, their key -> id table and limits. It
runs in the namespace leader (DESIGN.md decision 1; ipc/shared.py serves it to the
instances): every operation takes
plain values (ids, flags, a `Caller` with the virtual pid and creds) and returns plain
values or raises Errno; an operation that has to wait raises `Blocked` and changes
nothing, so the caller can park and simply ask again. Per-process state that only the
process itself needs (where segments are attached) lives with the caller (syscalls/ipc.py).

Semantics follow Linux ipc/{util,msg,sem,shm}.c: ids are `seq * 32768 + index`, the
index allocated cyclically (the next free one after the last handed out) and the sequence
number bumped when the allocation wraps; permissions are ipcperms() against the virtual uid/gid (uid 0 has
CAP_IPC_OWNER and CAP_SYS_ADMIN); IPC_RMID of an attached segment only marks it SHM_DEST
and makes its key private, and the segment goes when the last attach does.
"""

from __future__ import annotations

import errno
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..errors import Blocked, Errno
from ..fs import memfd

IPC_PRIVATE = 0
IPC_CREAT, IPC_EXCL, IPC_NOWAIT = 0o1000, 0o2000, 0o4000
IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO = 0, 1, 2, 3
MSG_STAT, MSG_INFO, MSG_STAT_ANY = 11, 12, 13
GETPID, GETVAL, GETALL, GETNCNT, GETZCNT, SETVAL, SETALL = 11, 12, 13, 14, 15, 16, 17
SEM_STAT, SEM_INFO, SEM_STAT_ANY = 18, 19, 20
SHM_LOCK, SHM_UNLOCK, SHM_STAT, SHM_INFO, SHM_STAT_ANY = 11, 12, 13, 14, 15
MSG_NOERROR, MSG_EXCEPT, MSG_COPY = 0o10000, 0o20000, 0o40000
SEM_UNDO = 0x1000
SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC = 0o10000, 0o20000, 0o40000, 0o100000
SHM_DEST, SHM_LOCKED = 0o1000, 0o2000  # kept in ipc_perm.mode, as Linux shows them

IPCMNI = 32768
IPCID_SEQ_MAX = 0x7FFFFFFF >> 15
S_IRWXUGO, S_IRUGO, S_IWUGO = 0o777, 0o444, 0o222
SEMVMX = 32767
SEMAEM = SEMVMX
SEMUSZ = 20
MSGSSZ, MSGSEG = 16, 0xFFFF
SHMMIN = 1
PAGE = 4096
MAX_FILE_SIZE = (1 << 63) - 1  # MAX_LFS_FILESIZE: what a shm segment's backing file may hold


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the virtual pid and credentials of the calling process."""

    pid: int
    uid: int
    gid: int
    groups: tuple[int, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return Caller, (self.pid, self.uid, self.gid, self.groups)  # it travels with every call

    @property
    def privileged(self) -> bool:
        return self.uid == 0

    def in_group(self, gid: int) -> bool:
        return gid == self.gid or gid in self.groups


@dataclass(frozen=True, slots=True)
class Limits:
    """The namespace's limits, Linux's /proc/sys/kernel values (read once at creation)."""

    msgmax: int = 8192
    msgmnb: int = 16384
    msgmni: int = 32000
    semmsl: int = 32000
    semmns: int = 1024000000
    semopm: int = 500
    semmni: int = 32000
    shmmax: int = (1 << 64) - (1 << 24) - 1
    shmall: int = (1 << 64) - (1 << 24) - 1
    shmmni: int = 4096

    @classmethod
    def from_sysctl(cls, read: Callable[[str], bytes]) -> "Limits":
        """Limits from `read("/proc/sys/kernel/NAME")`; defaults where unreadable."""
        values: dict[str, int] = {}
        for name in ("msgmax", "msgmnb", "msgmni", "shmmax", "shmall", "shmmni"):
            text = read(f"/proc/sys/kernel/{name}").split()
            if text and text[0].isdigit():
                values[name] = int(text[0])
        sem = read("/proc/sys/kernel/sem").split()
        if len(sem) == 4 and all(v.isdigit() for v in sem):
            values.update(zip(("semmsl", "semmns", "semopm", "semmni"), map(int, sem)))
        return cls(**values)


@dataclass(slots=True)
class IpcPerm:
    """struct ipc64_perm."""

    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    seq: int = 0

    @classmethod
    def new(cls, key: int, flags: int, caller: Caller) -> "IpcPerm":
        return cls(key, caller.uid, caller.gid, caller.uid, caller.gid, flags & S_IRWXUGO)


@dataclass(slots=True)
class IpcObject:
    perm: IpcPerm
    id: int = -1
    ctime: int = 0


@dataclass(slots=True)
class Message:
    mtype: int
    text: bytes

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return Message, (self.mtype, self.text)


@dataclass(slots=True)
class MsgQueue(IpcObject):
    qbytes: int = 0
    messages: list[Message] = field(default_factory=list)
    cbytes: int = 0
    stime: int = 0
    rtime: int = 0
    lspid: int = 0
    lrpid: int = 0


@dataclass(slots=True)
class Semaphore:
    value: int = 0
    pid: int = 0
    ncnt: int = 0  # tasks waiting for the value to grow (none until tasks can park)
    zcnt: int = 0  # tasks waiting for zero


@dataclass(slots=True)
class SemSet(IpcObject):
    sems: list[Semaphore] = field(default_factory=list)
    otime: int = 0
    undo: dict[int, list[int]] = field(default_factory=dict)  # pid -> semadj per semaphore


@dataclass(slots=True)
class ShmSegment(IpcObject):
    size: int = 0
    file: memfd.MemFile | None = None  # the host memfd: its pages are the segment
    cpid: int = 0
    lpid: int = 0
    nattch: int = 0
    atime: int = 0
    dtime: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """What *_INFO reports about the objects in use."""

    max_index: int  # highest index in use, 0 if none (the IPC_INFO/*_INFO return value)
    in_use: int
    messages: int = 0
    text_bytes: int = 0
    semaphores: int = 0
    pages: int = 0


O = TypeVar("O", bound=IpcObject)


class IdTable(Generic[O]):
    """Objects of one kind by id and by key, with Linux's id allocation."""

    def __init__(self, mni: int) -> None:
        self.mni = min(mni, IPCMNI)
        self.by_index: dict[int, O] = {}
        self.keys: dict[int, O] = {}
        self.seq = 0
        self.last_index = -1

    def add(self, obj: O) -> int:
        start = self.last_index + 1  # idr_alloc_cyclic: the next free index after the last one, wrapping
        order = itertools.chain(range(start, self.mni), range(0, min(start, self.mni)))
        index = next((i for i in order if i not in self.by_index), None)
        if index is None:
            raise Errno(errno.ENOSPC)
        if index <= self.last_index:  # wrapped: a new sequence number
            self.seq = 0 if self.seq + 1 >= IPCID_SEQ_MAX else self.seq + 1
        self.last_index = index
        obj.perm.seq = self.seq
        obj.id = self.seq * IPCMNI + index
        obj.ctime = int(time.time())
        self.by_index[index] = obj
        if obj.perm.key != IPC_PRIVATE:
            self.keys[obj.perm.key] = obj
        return obj.id

    def get(self, ident: int) -> O:
        obj = self.by_index.get(ident % IPCMNI) if ident >= 0 else None
        if obj is None or obj.id != ident:
            raise Errno(errno.EINVAL)
        return obj

    def at_index(self, index: int) -> O:
        obj = self.by_index.get(index) if 0 <= index else None
        if obj is None:
            raise Errno(errno.EINVAL)
        return obj

    def hide_key(self, obj: O) -> None:
        """The key no longer finds `obj` (IPC_RMID); Linux then shows key 0."""
        if self.keys.get(obj.perm.key) is obj:
            del self.keys[obj.perm.key]
        obj.perm.key = IPC_PRIVATE

    def remove(self, obj: O) -> None:
        self.hide_key(obj)
        del self.by_index[obj.id % IPCMNI]

    def __iter__(self) -> Iterator[O]:
        return iter(list(self.by_index.values()))

    def usage(self) -> tuple[int, int]:
        return max(self.by_index, default=0), len(self.by_index)


def check_access(perm: IpcPerm, caller: Caller, flag: int) -> None:
    """ipcperms(): the rwx bits of `flag` must be granted to the caller's class."""
    requested = ((flag >> 6) | (flag >> 3) | flag) & 0o7
    granted = perm.mode
    if caller.uid in (perm.uid, perm.cuid):
        granted >>= 6
    elif caller.in_group(perm.gid) or caller.in_group(perm.cgid):
        granted >>= 3
    if requested & ~granted & 0o7 and not caller.privileged:
        raise Errno(errno.EACCES)


def check_owner(perm: IpcPerm, caller: Caller) -> None:
    """IPC_SET and IPC_RMID: the owner, the creator or CAP_SYS_ADMIN."""
    if caller.uid not in (perm.uid, perm.cuid) and not caller.privileged:
        raise Errno(errno.EPERM)


def now() -> int:
    return int(time.time())


class SysVNamespace:
    """The System V IPC objects of one sandbox (one IPC namespace)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.queues: IdTable[MsgQueue] = IdTable(limits.msgmni)
        self.sem_sets: IdTable[SemSet] = IdTable(limits.semmni)
        self.segments: IdTable[ShmSegment] = IdTable(limits.shmmni)
        self.attached: dict[int, dict[int, int]] = {}  # pid -> shmid -> attaches of that process

    # -- shared by the three kinds ---------------------------------------------------

    @staticmethod
    def _get(table: IdTable[O], key: int, flags: int, caller: Caller,
             create: Callable[[IpcPerm], O], fits: Callable[[O], None]) -> int:
        """ipcget(): create under IPC_PRIVATE/IPC_CREAT, else find by key and check."""
        obj = None if key == IPC_PRIVATE else table.keys.get(key)
        if obj is None:
            if key != IPC_PRIVATE and not flags & IPC_CREAT:
                raise Errno(errno.ENOENT)
            new = create(IpcPerm.new(key, flags, caller))
            return table.add(new)
        if flags & IPC_CREAT and flags & IPC_EXCL:
            raise Errno(errno.EEXIST)
        check_access(obj.perm, caller, flags & S_IRWXUGO)
        fits(obj)
        return obj.id

    @staticmethod
    def _set_perm(obj: IpcObject, caller: Caller, uid: int, gid: int, mode: int) -> None:
        check_owner(obj.perm, caller)
        obj.perm.uid, obj.perm.gid = uid, gid
        obj.perm.mode = (obj.perm.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO)
        obj.ctime = now()

    @staticmethod
    def _stat(table: IdTable[O], ident: int, caller: Caller, by_index: bool, any_perm: bool = False) -> O:
        """IPC_STAT (by id) or *_STAT (by index): the object, to read (over RPC, a copy)."""
        obj = table.at_index(ident) if by_index else table.get(ident)
        if not any_perm:
            check_access(obj.perm, caller, S_IRUGO)
        return obj

    # -- message queues ----------------------------------------------------------------

    def msgget(self, key: int, flags: int, caller: Caller) -> int:
        return self._get(self.queues, key, flags, caller,
                         lambda perm: MsgQueue(perm, qbytes=self.limits.msgmnb), lambda q: None)

    def msgsnd(self, msqid: int, mtype: int, text: bytes, flags: int, caller: Caller) -> None:
        if len(text) > self.limits.msgmax or mtype < 1:
            raise Errno(errno.EINVAL)
        queue = self.queues.get(msqid)
        check_access(queue.perm, caller, S_IWUGO)
        if queue.cbytes + len(text) > queue.qbytes or len(queue.messages) + 1 > queue.qbytes:
            if flags & IPC_NOWAIT:
                raise Errno(errno.EAGAIN)
            raise Blocked("message queue full")
        queue.messages.append(Message(mtype, text))
        queue.cbytes += len(text)
        queue.lspid, queue.stime = caller.pid, now()

    def msgrcv(self, msqid: int, size: int, mtype: int, flags: int, caller: Caller) -> Message:
        """The message msgrcv(2) takes (or copies, MSG_COPY), its text cut to `size` if allowed."""
        if size < 0:
            raise Errno(errno.EINVAL)
        if flags & MSG_COPY and (flags & MSG_EXCEPT or not flags & IPC_NOWAIT):
            raise Errno(errno.EINVAL)
        queue = self.queues.get(msqid)
        check_access(queue.perm, caller, S_IRUGO)
        index = self._pick(queue.messages, mtype, flags)
        if index is None:
            if flags & IPC_NOWAIT:
                raise Errno(errno.ENOMSG)
            raise Blocked("no message")
        message = queue.messages[index]
        if len(message.text) > size and not flags & MSG_NOERROR:
            raise Errno(errno.E2BIG)
        if not flags & MSG_COPY:
            del queue.messages[index]
            queue.cbytes -= len(message.text)
            queue.lrpid, queue.rtime = caller.pid, now()
        return Message(message.mtype, message.text[:size])

    @staticmethod
    def _pick(messages: list[Message], mtype: int, flags: int) -> int | None:
        if flags & MSG_COPY:
            return mtype if 0 <= mtype < len(messages) else None
        if mtype == 0:
            return 0 if messages else None
        if mtype < 0:  # the lowest type not above -mtype, first of its type
            best = None
            for i, m in enumerate(messages):
                if m.mtype <= -mtype and (best is None or m.mtype < messages[best].mtype):
                    best = i
            return best
        want_other = bool(flags & MSG_EXCEPT)
        return next((i for i, m in enumerate(messages) if (m.mtype != mtype) == want_other), None)

    def msg_stat(self, ident: int, caller: Caller, by_index: bool = False, any_perm: bool = False) -> MsgQueue:
        return self._stat(self.queues, ident, caller, by_index, any_perm)

    def msg_set(self, msqid: int, caller: Caller, uid: int, gid: int, mode: int, qbytes: int) -> None:
        queue = self.queues.get(msqid)
        check_owner(queue.perm, caller)
        if qbytes > self.limits.msgmnb and not caller.privileged:  # CAP_SYS_RESOURCE
            raise Errno(errno.EPERM)
        self._set_perm(queue, caller, uid, gid, mode)
        queue.qbytes = qbytes

    def msg_rmid(self, msqid: int, caller: Caller) -> None:
        queue = self.queues.get(msqid)
        check_owner(queue.perm, caller)
        self.queues.remove(queue)

    def msg_usage(self) -> Usage:
        max_index, in_use = self.queues.usage()
        queues = list(self.queues)
        return Usage(max_index, in_use, messages=sum(len(q.messages) for q in queues),
                     text_bytes=sum(q.cbytes for q in queues))

    # -- semaphores --------------------------------------------------------------------

    def semget(self, key: int, nsems: int, flags: int, caller: Caller) -> int:
        if nsems < 0 or nsems > self.limits.semmsl:
            raise Errno(errno.EINVAL)

        def create(perm: IpcPerm) -> SemSet:
            if nsems == 0:
                raise Errno(errno.EINVAL)
            if self.total_sems() + nsems > self.limits.semmns:
                raise Errno(errno.ENOSPC)
            return SemSet(perm, sems=[Semaphore() for _ in range(nsems)])

        def fits(sem_set: SemSet) -> None:
            if nsems > len(sem_set.sems):
                raise Errno(errno.EINVAL)

        return self._get(self.sem_sets, key, flags, caller, create, fits)

    def total_sems(self) -> int:
        return sum(len(s.sems) for s in self.sem_sets)

    def semop(self, semid: int, ops: list[tuple[int, int, int]], caller: Caller) -> None:
        """Apply all (sem_num, sem_op, sem_flg) at once, or none of them."""
        sem_set = self.sem_sets.get(semid)
        if max(num for num, _, _ in ops) >= len(sem_set.sems):
            raise Errno(errno.EFBIG)
        alters = any(op for _, op, _ in ops)
        check_access(sem_set.perm, caller, S_IWUGO if alters else S_IRUGO)
        values = [s.value for s in sem_set.sems]
        undo = list(sem_set.undo.get(caller.pid, [0] * len(values)))
        for num, op, flg in ops:
            value = values[num]
            if (op == 0 and value) or value + op < 0:
                if flg & IPC_NOWAIT:
                    raise Errno(errno.EAGAIN)
                raise Blocked("semaphore", num, op)
            if value + op > SEMVMX:
                raise Errno(errno.ERANGE)
            if flg & SEM_UNDO:
                adj = undo[num] - op
                if adj < -SEMAEM - 1 or adj > SEMAEM:
                    raise Errno(errno.ERANGE)
                undo[num] = adj
            values[num] = value + op
        for sem, value in zip(sem_set.sems, values):
            sem.value = value
        for num, _, _ in ops:
            sem_set.sems[num].pid = caller.pid
        if any(flg & SEM_UNDO for _, _, flg in ops):
            sem_set.undo[caller.pid] = undo
        sem_set.otime = now()

    def _sem(self, semid: int, caller: Caller, flag: int) -> SemSet:
        sem_set = self.sem_sets.get(semid)
        check_access(sem_set.perm, caller, flag)
        return sem_set

    def _semaphore(self, semid: int, num: int, caller: Caller, flag: int) -> tuple[SemSet, Semaphore]:
        sem_set = self._sem(semid, caller, flag)
        if not 0 <= num < len(sem_set.sems):
            raise Errno(errno.EINVAL)
        return sem_set, sem_set.sems[num]

    def sem_get(self, semid: int, num: int, caller: Caller) -> Semaphore:
        """GETVAL, GETPID, GETNCNT, GETZCNT read one semaphore."""
        return self._semaphore(semid, num, caller, S_IRUGO)[1]

    def sem_getall(self, semid: int, caller: Caller) -> list[int]:
        return [s.value for s in self._sem(semid, caller, S_IRUGO).sems]

    def sem_setval(self, semid: int, num: int, value: int, caller: Caller) -> None:
        if not 0 <= value <= SEMVMX:
            raise Errno(errno.ERANGE)
        sem_set, sem = self._semaphore(semid, num, caller, S_IWUGO)
        sem.value, sem.pid = value, caller.pid
        for adjust in sem_set.undo.values():
            adjust[num] = 0
        sem_set.ctime = now()

    def sem_setall(self, semid: int, values: list[int], caller: Caller) -> None:
        sem_set = self._sem(semid, caller, S_IWUGO)
        if len(values) != len(sem_set.sems):
            raise Errno(errno.EINVAL)
        if any(not 0 <= v <= SEMVMX for v in values):
            raise Errno(errno.ERANGE)
        for sem, value in zip(sem_set.sems, values):
            sem.value, sem.pid = value, caller.pid
        sem_set.undo.clear()
        sem_set.ctime = now()

    def sem_nsems(self, semid: int) -> int:
        return len(self.sem_sets.get(semid).sems)

    def sem_stat(self, ident: int, caller: Caller, by_index: bool = False, any_perm: bool = False) -> SemSet:
        return self._stat(self.sem_sets, ident, caller, by_index, any_perm)

    def sem_set(self, semid: int, caller: Caller, uid: int, gid: int, mode: int) -> None:
        self._set_perm(self.sem_sets.get(semid), caller, uid, gid, mode)

    def sem_rmid(self, semid: int, caller: Caller) -> None:
        sem_set = self.sem_sets.get(semid)
        check_owner(sem_set.perm, caller)
        self.sem_sets.remove(sem_set)

    def sem_usage(self) -> Usage:
        max_index, in_use = self.sem_sets.usage()
        return Usage(max_index, in_use, semaphores=self.total_sems())

    # -- shared memory -----------------------------------------------------------------

    def shmget(self, key: int, size: int, flags: int, caller: Caller) -> int:
        def create(perm: IpcPerm) -> ShmSegment:
            if size < SHMMIN or size > self.limits.shmmax or size > MAX_FILE_SIZE:
                raise Errno(errno.EINVAL)  # (Linux: newseg, then shmem_file_setup's size check)
            pages = (size + PAGE - 1) // PAGE
            if self._shm_pages() + pages > self.limits.shmall:
                raise Errno(errno.ENOSPC)
            file = memfd.create(f"SYSV{key & 0xFFFFFFFF:08x}", 0)
            try:
                file.truncate(size)
            except Errno:
                file.release()
                raise Errno(errno.ENOMEM) from None
            return ShmSegment(perm, size=size, file=file, cpid=caller.pid)

        def fits(segment: ShmSegment) -> None:
            if size > segment.size:
                raise Errno(errno.EINVAL)

        return self._get(self.segments, key, flags, caller, create, fits)

    def _shm_pages(self) -> int:
        return sum((s.size + PAGE - 1) // PAGE for s in self.segments)

    def shm_for_attach(self, shmid: int, writable: bool, caller: Caller) -> ShmSegment:
        """The segment shmat() maps (read, or read and write, permission checked)."""
        segment = self.segments.get(shmid)
        check_access(segment.perm, caller, S_IRUGO | (S_IWUGO if writable else 0))
        return segment

    def shm_attached(self, shmid: int, caller: Caller) -> None:
        """Count an attach that succeeded (shmat, or an attach inherited over fork)."""
        segment = self.segments.get(shmid)
        segment.nattch += 1
        segment.lpid, segment.atime = caller.pid, now()
        counts = self.attached.setdefault(caller.pid, {})
        counts[shmid] = counts.get(shmid, 0) + 1

    def shm_detached(self, shmid: int, caller: Caller) -> None:
        """One attach is gone (shmdt, exit); the last one of a removed segment frees it."""
        segment = self.segments.get(shmid)
        segment.nattch -= 1
        segment.lpid, segment.dtime = caller.pid, now()
        counts = self.attached.get(caller.pid, {})
        if counts.get(shmid, 0) > 1:
            counts[shmid] -= 1
        else:
            counts.pop(shmid, None)
        if segment.nattch <= 0 and segment.perm.mode & SHM_DEST:
            self._destroy(segment)

    def _destroy(self, segment: ShmSegment) -> None:
        self.segments.remove(segment)
        if segment.file is not None:
            segment.file.release()
            segment.file = None

    def shm_stat(self, ident: int, caller: Caller, by_index: bool = False, any_perm: bool = False) -> ShmSegment:
        return self._stat(self.segments, ident, caller, by_index, any_perm)

    def shm_set(self, shmid: int, caller: Caller, uid: int, gid: int, mode: int) -> None:
        self._set_perm(self.segments.get(shmid), caller, uid, gid, mode)

    def shm_lock(self, shmid: int, caller: Caller, lock: bool) -> None:
        """SHM_LOCK/SHM_UNLOCK only flip SHM_LOCKED: the host memfd is never swapped out by us."""
        segment = self.segments.get(shmid)
        if not caller.privileged:
            check_owner(segment.perm, caller)
        segment.perm.mode = segment.perm.mode | SHM_LOCKED if lock else segment.perm.mode & ~SHM_LOCKED

    def shm_rmid(self, shmid: int, caller: Caller) -> None:
        segment = self.segments.get(shmid)
        check_owner(segment.perm, caller)
        if segment.nattch > 0:
            segment.perm.mode |= SHM_DEST
            self.segments.hide_key(segment)
        else:
            self._destroy(segment)

    def shm_usage(self) -> Usage:
        max_index, in_use = self.segments.usage()
        return Usage(max_index, in_use, pages=self._shm_pages())

    # -- process exit --------------------------------------------------------------------

    def fork_process(self, parent: int, child: int) -> None:
        """fork: the child's address space is a copy, with the parent's attaches (its
        SEM_UNDO adjustments are not inherited: they start empty, as on Linux)."""
        counts = self.attached.get(parent)
        if counts:
            self.attached[child] = dict(counts)
            for shmid, n in counts.items():
                self.segments.get(shmid).nattch += n

    def detach_process(self, pid: int) -> None:
        """The process's address space is gone (execve, exit): so are its attaches."""
        caller = Caller(pid, 0, 0)
        for shmid, n in list(self.attached.get(pid, {}).items()):
            for _ in range(n):
                self.shm_detached(shmid, caller)
        self.attached.pop(pid, None)

    def exit_process(self, pid: int) -> list[int]:
        """The process is gone: its attaches end, and exit_sem() applies its SEM_UNDO
        adjustments, clamped to [0, SEMVMX]. Returns the sets that changed."""
        self.detach_process(pid)
        changed = []
        for sem_set in self.sem_sets:
            adjust = sem_set.undo.pop(pid, None)
            if adjust is None:
                continue
            for sem, adj in zip(sem_set.sems, adjust):
                if adj:
                    sem.value = min(max(sem.value + adj, 0), SEMVMX)
                    sem.pid = pid
            changed.append(sem_set.id)
        return changed


@dataclass(slots=True)
class Attach:
    """One shmat() of a process: the segment, the length mapped at its address, and the
    memfd's host inode (to tell whether the mapping is still there, see `prune`)."""

    shmid: int
    length: int
    inode: int


@dataclass(slots=True)
class SysVClient:
    """What an instance keeps for System V IPC: the namespace's limits (asked once) and
    where its process attached segments (address -> Attach). The namespace itself is
    the leader's (ipc/shared.py). A forked instance has a copy of the table, as the child
    process has a copy of the mappings, and the leader counts the child's attaches."""

    limits: Limits
    attaches: dict[int, Attach] = field(default_factory=dict)

    def prune(self, mapped: Callable[[], set[tuple[int, int]]]) -> list[int]:
        """Forget the attaches the app has unmapped itself (munmap runs natively), and
        return their segments (one entry per attach) for the leader's count.

        `mapped()` gives the (start address, host inode) of the process's mappings; an
        attach whose start no longer maps its segment's memfd is gone, as Linux's
        munmap detaches it.
        """
        if not self.attaches:
            return []
        present = mapped()
        gone = [addr for addr, attach in self.attaches.items() if (addr, attach.inode) not in present]
        return [self.attaches.pop(addr).shmid for addr in gone]
