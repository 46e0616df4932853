"""ipc/shared.py, the leader's state shared by processes, on its own: who owns a lock
across processes, waits recorded and woken, EDEADLK, EIDRM, GETNCNT, and what a
process's exit releases. tests/compat/c/locks_procs.c and sysv_procs.c check the same
against the kernel with real processes."""

from __future__ import annotations

import errno

import pytest

from pyrene.errors import Errno
from pyrene.fs.locks import F_UNLCK, F_WRLCK, OFFSET_MAX
from pyrene.ipc import sysv
from pyrene.ipc.shared import Asker, SharedState

KEY_A, KEY_B = (1, 10), (1, 11)
DESC = (100, 1, 1)


@pytest.fixture
def state() -> SharedState:
    woken: list[int] = []
    st = SharedState(wake=woken.append, read_sysctl=lambda _path: b"")
    st.woken = woken  # type: ignore[attr-defined]
    return st


def asker(vpid: int, wait: bool = False) -> Asker:
    return Asker(vpid, tid=vpid * 10, instance_pid=1000 + vpid, wait=wait)


def call(state: SharedState, who: Asker, op: str, *args: object) -> object:
    return state.serve(who, op, args)[0]


def fails(code: int, state: SharedState, who: Asker, op: str, *args: object) -> None:
    with pytest.raises(Errno) as info:
        call(state, who, op, *args)
    assert info.value.errno == code


def test_posix_lock_between_processes_waits_and_is_woken(state):
    call(state, asker(1), "lock_set", KEY_A, None, F_WRLCK, 0, OFFSET_MAX)
    assert call(state, asker(2), "lock_test", KEY_A, None, F_WRLCK, 5, 5) == (F_WRLCK, 0, OFFSET_MAX, 1)
    assert call(state, asker(1), "lock_test", KEY_A, None, F_WRLCK, 5, 5) is None  # its own
    fails(errno.EAGAIN, state, asker(2), "lock_set", KEY_A, None, F_WRLCK, 0, 0)
    with pytest.raises(sysv.Blocked):
        call(state, asker(2, wait=True), "lock_set", KEY_A, None, F_WRLCK, 0, 0)
    call(state, asker(1), "lock_set", KEY_A, None, F_UNLCK, 0, OFFSET_MAX)
    assert state.woken == [1002] and not state.waiters
    call(state, asker(2, wait=True), "lock_set", KEY_A, None, F_WRLCK, 0, 0)


def test_deadlock_between_two_processes(state):
    call(state, asker(1), "lock_set", KEY_A, None, F_WRLCK, 0, 0)
    call(state, asker(2), "lock_set", KEY_B, None, F_WRLCK, 0, 0)
    with pytest.raises(sysv.Blocked):
        call(state, asker(1, wait=True), "lock_set", KEY_B, None, F_WRLCK, 0, 0)
    fails(errno.EDEADLK, state, asker(2, wait=True), "lock_set", KEY_A, None, F_WRLCK, 0, 0)
    # OFD locks are never EDEADLK
    call(state, asker(2), "lock_set", KEY_B, None, F_UNLCK, 0, 0)
    call(state, asker(2), "lock_set", KEY_B, DESC, F_WRLCK, 0, 0)


def test_description_locks_live_while_a_process_holds_it(state):
    call(state, asker(1), "flock", KEY_A, DESC, F_WRLCK)
    state.forked(1, 2)
    call(state, asker(2), "flock", KEY_A, DESC, F_WRLCK)  # the same description: same owner
    fails(errno.EAGAIN, state, asker(2), "flock", KEY_A, (100, 1, 2), F_WRLCK)  # another open
    call(state, asker(1), "desc_closed", DESC)
    fails(errno.EAGAIN, state, asker(3), "flock", KEY_A, (100, 1, 2), F_WRLCK)
    with pytest.raises(sysv.Blocked):
        call(state, asker(3, wait=True), "flock", KEY_A, (100, 1, 2), F_WRLCK)
    state.exited(2)
    assert state.woken == [1003]
    call(state, asker(3), "flock", KEY_A, (100, 1, 2), F_WRLCK)


def test_exit_releases_posix_locks_not_inherited(state):
    call(state, asker(1), "lock_set", KEY_A, None, F_WRLCK, 0, 0)
    state.forked(1, 2)
    fails(errno.EAGAIN, state, asker(2), "lock_set", KEY_A, None, F_WRLCK, 0, 0)
    call(state, asker(1), "exiting")
    call(state, asker(2), "lock_set", KEY_A, None, F_WRLCK, 0, 0)


def test_semaphore_waits_counts_undo_and_removal(state):
    owner = sysv.Caller(0, 0, 0)
    semid = call(state, asker(1), "sysv", "semget", sysv.IPC_PRIVATE, 1, 0o600, owner)
    with pytest.raises(sysv.Blocked):
        call(state, asker(2, wait=True), "semop", owner, semid, [(0, -1, 0)])
    assert call(state, asker(1), "sem_get", owner, semid, 0).ncnt == 1
    call(state, asker(1), "semop", owner, semid, [(0, 2, sysv.SEM_UNDO)])
    assert state.woken == [1002]
    call(state, asker(2, wait=True), "semop", owner, semid, [(0, -1, 0)])
    assert call(state, asker(2), "sem_get", owner, semid, 0).pid == 2
    state.exited(1)  # SEM_UNDO: -2, clamped at 0
    assert call(state, asker(2), "sysv", "sem_getall", semid, owner) == [0]
    with pytest.raises(sysv.Blocked):
        call(state, asker(2, wait=True), "semop", owner, semid, [(0, -1, 0)])
    call(state, asker(1), "sysv", "sem_rmid", semid, owner)
    fails(errno.EIDRM, state, asker(2, wait=True), "semop", owner, semid, [(0, -1, 0)])


def test_message_queue_between_processes(state):
    owner = sysv.Caller(0, 0, 0)
    msqid = call(state, asker(1), "sysv", "msgget", sysv.IPC_PRIVATE, 0o600, owner)
    with pytest.raises(sysv.Blocked):
        call(state, asker(2, wait=True), "msgrcv", owner, msqid, 100, 2, 0)
    call(state, asker(1), "msgsnd", owner, msqid, 1, b"one", 0)
    call(state, asker(1), "msgsnd", owner, msqid, 2, b"two", 0)
    assert call(state, asker(2, wait=True), "msgrcv", owner, msqid, 100, 2, 0) == sysv.Message(2, b"two")
    queue, qnum = call(state, asker(2), "msg_stat", owner, msqid, False, False)
    assert (qnum, queue.lspid, queue.lrpid) == (1, 1, 2)


def test_unknown_operations_are_refused(state):
    fails(errno.ENOSYS, state, asker(1), "no_such_op")
    fails(errno.ENOSYS, state, asker(1), "sysv", "_destroy", None)
