"""What the processes of a sandbox share, held by the namespace leader: file locks and
System V IPC (DESIGN.md decision 1).

Each app process has its own library-OS instance, and instances share no memory, so
state that several processes must see the same lives here, in the leader, and is reached
over the instance's socket with `SharedCall` messages (ipc/messages.py). The leader
answers each call at once; nothing here ever waits.

Who asks. Every call comes on the socket of one instance, which serves one app process:
the leader knows its virtual pid and its instance's host pid, so a caller cannot speak
for another process. The task (thread) id travels in the call, for the waits.

Waiting. A call that cannot proceed (F_SETLKW on a held range, flock without LOCK_NB,
msgrcv on an empty queue, semop that must wait) changes nothing and is answered
"blocked". If the caller means to wait (`SharedCall.wait`), the leader records a
`Waiter` under the object's topic; the instance parks the task with
`WouldBlock(wake=True)` (kernel/waits.py). Any change to the object wakes the instances
of its waiters (`wake(instance_pid)`, the WAKE_SIGNAL of kernel/waits.py) and forgets
them; each parked handler runs again and asks again, and re-registers if it must still
wait. A wake is a hint, so a spurious one costs a round trip and a lost one cannot
happen: the waiter is recorded before the "blocked" answer leaves, so a change made
after it always wakes. The records also give GETNCNT/GETZCNT their counts and
F_SETLKW its deadlock detection, and IPC_RMID of an object its waiters' EIDRM.

Locks (fs/locks.py has the rules). Owners are (POSIX, vpid) for POSIX record locks and
(DESC, description id) for OFD and flock locks; a description id is given at open
(fs/file.py `OpenFile.description_id`) and so is equal in every process that shares the
description after fork. A description's locks go when its last fd in the sandbox is
closed: the leader keeps, per description that holds locks, the processes that hold it
(`holders`: those that locked through it, and their children forked since), and each
process says when it closes its last fd of it (`desc_closed`) or when it exits.

Processes. `forked(parent, child)` gives the child the parent's description holdings
and shared memory attaches (its address space is a copy); POSIX locks and SEM_UNDO
adjustments are not inherited, as on Linux. `exited(vpid)` releases the process's POSIX
locks and description holdings, applies its SEM_UNDO adjustments, detaches its segments
and forgets its waits. It runs when the process calls exit_group (before the host ends
it, so its parent's wait cannot see it gone with its locks still held), when a parent
reaps it, and when its instance says it exited or its socket closes; it is idempotent.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Blocked, Errno
from ..fs.locks import F_UNLCK, FileKey, LockTable
from ..lazy import lazy_module
from ..pal import linux as pal

if TYPE_CHECKING:
    from . import sysv
else:
    sysv = lazy_module("pyrene.ipc.sysv")  # most sandboxes never use System V IPC

POSIX, DESC = "posix", "desc"
DescId = tuple[int, int, int]
MAX_DEADLOCK_STEPS = 10  # Linux's MAX_DEADLK_ITERATIONS
MAX_MESSAGE_TEXT = 32768  # the longest System V message, within ipc/messages.MAX_MESSAGE


@dataclass(frozen=True, slots=True)
class Asker:
    """Who makes a call: process, task, instance, and whether it will wait if blocked."""

    vpid: int
    tid: int
    instance_pid: int
    wait: bool


@dataclass(slots=True)
class Waiter:
    """A parked task of some instance, woken when `topic` changes."""

    instance_pid: int
    topic: Hashable
    detail: tuple[Any, ...] = ()


@dataclass(slots=True)
class WithFds:
    """A reply value that comes with host fds (sent by SCM_RIGHTS)."""

    value: object
    fds: list[int]


@dataclass(eq=False)
class SharedState:
    wake: Callable[[int], None]
    read_sysctl: Callable[[str], bytes] = pal.read_host_text
    locks: LockTable = field(default_factory=LockTable)
    holders: dict[DescId, set[int]] = field(default_factory=dict)
    waiters: dict[tuple[int, int], Waiter] = field(default_factory=dict)  # (vpid, tid) -> waiter
    removed: set[tuple[int, int]] = field(default_factory=set)  # waiters whose object went (EIDRM)
    _sysv: sysv.SysVNamespace | None = None

    @property
    def sysv(self) -> sysv.SysVNamespace:
        """Created at first use: most sandboxes never use System V IPC."""
        if self._sysv is None:
            limits = sysv.Limits.from_sysctl(self.read_sysctl)
            # a message travels in one leader message (MAX_MESSAGE): a host allowing
            # longer ones (the default is 8192) gets EINVAL beyond this, and sees it in IPC_INFO
            limits = dataclasses.replace(limits, msgmax=min(limits.msgmax, MAX_MESSAGE_TEXT))
            self._sysv = sysv.SysVNamespace(limits)
        return self._sysv

    # -- serving one call ------------------------------------------------------------------

    def serve(self, asker: Asker, op: str, args: tuple[Any, ...]) -> tuple[object, list[int]]:
        """Run `op`: (value, fds); raises Errno, or Blocked (recorded if asker.wait)."""
        method = getattr(self, "op_" + op, None)
        if method is None:
            raise Errno(errno.ENOSYS, f"no shared operation {op!r}")
        value = method(asker, *args)
        if isinstance(value, WithFds):
            return value.value, value.fds
        return value, []

    def _begin_wait(self, a: Asker) -> None:
        """A call that may wait starts: forget the task's earlier record; EIDRM if the
        object it waited for was removed meanwhile."""
        key = (a.vpid, a.tid)
        self.waiters.pop(key, None)
        if key in self.removed:
            self.removed.discard(key)
            raise Errno(errno.EIDRM)

    def _block(self, a: Asker, topic: Hashable, detail: tuple[Any, ...] = ()) -> Blocked:
        if a.wait:
            self.waiters[(a.vpid, a.tid)] = Waiter(a.instance_pid, topic, detail)
        return Blocked(topic)

    def changed(self, *topics: Hashable, removed: bool = False) -> None:
        """The objects of `topics` changed: wake their waiters (once per instance)."""
        woken: set[int] = set()
        for key, waiter in list(self.waiters.items()):
            if waiter.topic in topics:
                del self.waiters[key]
                if removed:
                    self.removed.add(key)
                woken.add(waiter.instance_pid)
        for pid in woken:
            try:
                self.wake(pid)
            except Errno:
                pass  # the instance is gone; its exit cleans up

    def op_cancel_wait(self, a: Asker) -> None:
        """The parked task got a signal instead (EINTR): it waits no more."""
        self.waiters.pop((a.vpid, a.tid), None)
        self.removed.discard((a.vpid, a.tid))

    # -- processes -------------------------------------------------------------------------

    def forked(self, parent: int, child: int) -> None:
        for holding in self.holders.values():
            if parent in holding:
                holding.add(child)
        if self._sysv is not None:
            self._sysv.fork_process(parent, child)

    def exited(self, vpid: int) -> None:
        owner = (POSIX, vpid)
        keys = set(self.locks.held.get(owner, ()))
        self.locks.release(owner)
        for desc in [d for d, holding in self.holders.items() if vpid in holding]:
            keys |= self._drop_holder(desc, vpid)
        for key in [k for k in self.waiters if k[0] == vpid]:
            del self.waiters[key]
        self.removed = {k for k in self.removed if k[0] != vpid}
        self.changed(*self._lock_topics(keys))
        if self._sysv is not None:
            self.changed(*(("sem", semid) for semid in self._sysv.exit_process(vpid)))

    def op_exiting(self, a: Asker) -> None:
        """exit_group: the process ends now (see the module doc)."""
        self.exited(a.vpid)

    def op_reaped(self, a: Asker, child: int) -> None:
        """The caller reaped `child`: its exit is complete, whatever its instance says."""
        self.exited(child)

    # -- file locks ------------------------------------------------------------------------

    @staticmethod
    def _owner(a: Asker, desc: DescId | None) -> tuple[str, object]:
        return (POSIX, a.vpid) if desc is None else (DESC, desc)

    @staticmethod
    def _lock_topics(keys: set[FileKey]) -> list[tuple[str, FileKey]]:
        return [("lock", k) for k in keys] + [("flock", k) for k in keys]

    def _hold(self, a: Asker, desc: DescId | None) -> None:
        if desc is not None:
            if self.locks.holds((DESC, desc)):
                self.holders.setdefault(desc, set()).add(a.vpid)
            elif not self.holders.get(desc):
                self.holders.pop(desc, None)

    def _drop_holder(self, desc: DescId, vpid: int) -> set[FileKey]:
        """`vpid` no longer holds the description; its locks go with the last holder."""
        holding = self.holders.get(desc)
        if holding is None:
            return set()
        holding.discard(vpid)
        if holding:
            return set()
        del self.holders[desc]
        owner = (DESC, desc)
        keys = set(self.locks.held.get(owner, ()))
        self.locks.release(owner)
        return keys

    def op_lock_test(self, a: Asker, key: FileKey, desc: DescId | None, kind: int, start: int,
                     end: int) -> tuple[int, int, int, int] | None:
        """F_GETLK/F_OFD_GETLK: (kind, start, end, pid) of the first conflicting lock."""
        held = self.locks.test_range(key, self._owner(a, desc), kind, start, end)
        return None if held is None else (held.kind, held.start, held.end, held.pid)

    def op_lock_set(self, a: Asker, key: FileKey, desc: DescId | None, kind: int, start: int, end: int) -> None:
        """F_SETLK(W)/F_OFD_SETLK(W); with `a.wait` a conflict waits (or is EDEADLK)."""
        owner = self._owner(a, desc)
        self._begin_wait(a)
        try:
            self.locks.set_range(key, owner, -1 if desc is not None else a.vpid, kind, start, end)
        except Errno as e:
            if not a.wait or e.errno != errno.EAGAIN:
                raise
            if desc is None and self._deadlock(owner, key, kind, start, end):
                raise Errno(errno.EDEADLK) from None
            raise self._block(a, ("lock", key), (owner, kind, start, end)) from None
        self._hold(a, desc)
        self.changed(("lock", key))

    def _deadlock(self, owner: tuple[str, object], key: FileKey, kind: int, start: int, end: int) -> bool:
        """posix_locks_deadlock(): would `owner` wait, through a chain of POSIX owners
        each waiting for the next, for itself?"""
        held = self.locks.test_range(key, owner, kind, start, end)
        for _ in range(MAX_DEADLOCK_STEPS):
            if held is None or held.owner[0] != POSIX:  # type: ignore[index]
                return False
            if held.owner == owner:
                return True
            waiting = next((w for w in self.waiters.values()
                            if w.topic[0] == "lock" and w.detail[0] == held.owner), None)  # type: ignore[index]
            if waiting is None:
                return False
            _, wkind, wstart, wend = waiting.detail
            held = self.locks.test_range(waiting.topic[1], held.owner, wkind, wstart, wend)  # type: ignore[index]
        return False

    def op_flock(self, a: Asker, key: FileKey, desc: DescId, kind: int) -> None:
        owner = (DESC, desc)
        self._begin_wait(a)
        had = owner in self.locks.flocks.get(key, {})
        try:
            self.locks.flock(key, owner, kind)
        except Errno as e:
            if had:  # a conversion drops the old lock first, as Linux does
                self.changed(("flock", key))
            if not a.wait or e.errno != errno.EAGAIN:
                raise
            raise self._block(a, ("flock", key)) from None
        self._hold(a, desc)
        if had or kind == F_UNLCK:
            self.changed(("flock", key))

    def op_lock_release(self, a: Asker, key: FileKey) -> None:
        """The process closed an fd of the file: its POSIX locks on it go."""
        owner = (POSIX, a.vpid)
        if key in self.locks.held.get(owner, ()):
            self.locks.release(owner, key)
            self.changed(("lock", key))

    def op_desc_closed(self, a: Asker, desc: DescId) -> None:
        """The process closed its last fd of the description."""
        self.changed(*self._lock_topics(self._drop_holder(desc, a.vpid)))

    def op_desc_received(self, a: Asker, desc: DescId) -> None:
        """The process got an fd of the description over a socket (SCM_RIGHTS): it holds
        the description's locks too, as a forked child does."""
        holding = self.holders.get(desc)
        if holding is not None:
            holding.add(a.vpid)

    # -- System V IPC (ipc/sysv.py has the rules) -----------------------------------------

    @staticmethod
    def _caller(a: Asker, caller: sysv.Caller) -> sysv.Caller:
        return caller if caller.pid == a.vpid else dataclasses.replace(caller, pid=a.vpid)

    def op_sysv_limits(self, a: Asker) -> sysv.Limits:
        return self.sysv.limits

    def op_sysv(self, a: Asker, name: str, *args: Any) -> object:
        """The namespace operations that never wait, with the namespace's own arguments
        (the Caller among them speaks for the asking process)."""
        if name not in SYSV_PLAIN:
            raise Errno(errno.ENOSYS, f"no System V operation {name!r}")
        value = getattr(self.sysv, name)(*(self._caller(a, x) if isinstance(x, sysv.Caller) else x for x in args))
        if name in SYSV_CHANGES:
            self.changed((SYSV_CHANGES[name], args[0]), removed=name.endswith("rmid"))
        return value

    def op_msgsnd(self, a: Asker, caller: sysv.Caller, msqid: int, mtype: int, text: bytes, flags: int) -> None:
        self._begin_wait(a)
        try:
            self.sysv.msgsnd(msqid, mtype, text, flags, self._caller(a, caller))
        except Blocked:
            raise self._block(a, ("msg", msqid)) from None
        self.changed(("msg", msqid))

    def op_msgrcv(self, a: Asker, caller: sysv.Caller, msqid: int, size: int, mtype: int, flags: int) -> sysv.Message:
        self._begin_wait(a)
        try:
            message = self.sysv.msgrcv(msqid, size, mtype, flags, self._caller(a, caller))
        except Blocked:
            raise self._block(a, ("msg", msqid)) from None
        if not flags & sysv.MSG_COPY:
            self.changed(("msg", msqid))
        return message

    def op_msg_stat(self, a: Asker, caller: sysv.Caller, ident: int, by_index: bool,
                    any_perm: bool) -> tuple[sysv.MsgQueue, int]:
        """IPC_STAT/MSG_STAT: a copy without the messages, and how many there are."""
        queue = self.sysv.msg_stat(ident, self._caller(a, caller), by_index, any_perm)
        return dataclasses.replace(queue, messages=[]), len(queue.messages)

    def op_semop(self, a: Asker, caller: sysv.Caller, semid: int, ops: list[tuple[int, int, int]]) -> None:
        self._begin_wait(a)
        try:
            self.sysv.semop(semid, ops, self._caller(a, caller))
        except Blocked as blocked:
            raise self._block(a, ("sem", semid), blocked.args[1:]) from None
        if any(op for _, op, _ in ops):
            self.changed(("sem", semid))

    def op_sem_get(self, a: Asker, caller: sysv.Caller, semid: int, num: int) -> sysv.Semaphore:
        """GETVAL/GETPID/GETNCNT/GETZCNT: the counts are the tasks waiting in semop for
        this semaphore, by the operation that blocks them (ipc/sem.c count_semcnt)."""
        sem = dataclasses.replace(self.sysv.sem_get(semid, num, self._caller(a, caller)))
        for waiter in self.waiters.values():
            if waiter.topic == ("sem", semid) and waiter.detail and waiter.detail[0] == num:
                if waiter.detail[1] == 0:
                    sem.zcnt += 1
                else:
                    sem.ncnt += 1
        return sem

    def op_sem_stat(self, a: Asker, caller: sysv.Caller, ident: int, by_index: bool,
                    any_perm: bool) -> tuple[sysv.SemSet, int]:
        sem_set = self.sysv.sem_stat(ident, self._caller(a, caller), by_index, any_perm)
        return dataclasses.replace(sem_set, sems=[], undo={}), len(sem_set.sems)

    def op_shm_stat(self, a: Asker, caller: sysv.Caller, ident: int, by_index: bool, any_perm: bool) -> sysv.ShmSegment:
        return dataclasses.replace(self.sysv.shm_stat(ident, self._caller(a, caller), by_index, any_perm), file=None)

    def op_shm_attach(self, a: Asker, caller: sysv.Caller, shmid: int, writable: bool) -> WithFds:
        """shmat: (size, memfd inode) and the segment's memfd (a copy, SCM_RIGHTS)."""
        segment = self.sysv.shm_for_attach(shmid, writable, self._caller(a, caller))
        assert segment.file is not None
        return WithFds((segment.size, segment.file.stat().ino), [segment.file.fd])

    def op_sysv_exec(self, a: Asker) -> None:
        """execve: the process's address space, and its attaches, are gone."""
        if self._sysv is not None:
            self._sysv.detach_process(a.vpid)


# what op_sysv may call, and the topic whose waiters a successful call wakes
SYSV_PLAIN = frozenset({
    "msgget", "msg_set", "msg_rmid", "msg_usage",
    "semget", "sem_getall", "sem_setval", "sem_setall", "sem_nsems", "sem_set", "sem_rmid", "sem_usage",
    "shmget", "shm_attached", "shm_detached", "shm_set", "shm_lock", "shm_rmid", "shm_usage",
})
SYSV_CHANGES = {"msg_set": "msg", "msg_rmid": "msg", "sem_setval": "sem", "sem_setall": "sem", "sem_rmid": "sem"}


@dataclass(eq=False)
class LocalPort:
    """The shared state kept in the instance itself, for an instance without a leader
    (unit tests, `pyrene check`): the same calls, served in process."""

    state: SharedState = field(default_factory=lambda: SharedState(wake=lambda _pid: None))

    def call(self, vpid: int, tid: int, op: str, args: tuple[Any, ...], wait: bool = False) -> tuple[object, list[int]]:
        value, fds = self.state.serve(Asker(vpid, tid, os.getpid(), wait), op, args)
        return value, [os.dup(fd) for fd in fds]  # as SCM_RIGHTS gives copies
