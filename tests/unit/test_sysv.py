"""The System V IPC namespace (ipc/sysv.py) directly, for what one app process cannot
show natively: SEM_UNDO applied at process exit (clamped), Linux's id sequence numbers, the
permission checks against another user, and a removed segment's memfd closed by its last
detach. The expected values are Linux's (ipc/util.c, ipc/sem.c, ipc/shm.c)."""

from __future__ import annotations

import errno
import os

import pytest

from pyrene.errors import Errno
from pyrene.ipc import sysv

OWNER = sysv.Caller(pid=10, uid=1000, gid=1000)
OTHER = sysv.Caller(pid=11, uid=2000, gid=2000)
ROOT = sysv.Caller(pid=12, uid=0, gid=0)


@pytest.fixture
def ns() -> sysv.SysVNamespace:
    return sysv.SysVNamespace(sysv.Limits())


def raises(code: int, fn, *args) -> None:
    with pytest.raises(Errno) as info:
        fn(*args)
    assert info.value.errno == code


def test_ids_are_cyclic_with_a_sequence_bumped_on_wrap():
    ns = sysv.SysVNamespace(sysv.Limits(msgmni=3))
    ids = [ns.msgget(sysv.IPC_PRIVATE, 0o600, OWNER) for _ in range(3)]
    assert ids == [0, 1, 2]
    raises(errno.ENOSPC, ns.msgget, sysv.IPC_PRIVATE, 0o600, OWNER)
    ns.msg_rmid(ids[1], OWNER)
    again = ns.msgget(sysv.IPC_PRIVATE, 0o600, OWNER)
    assert again == 1 * 32768 + 1  # the only free index, reached by wrapping: next sequence
    raises(errno.EINVAL, ns.msg_stat, ids[1], OWNER)  # the old id no longer finds it
    assert ns.msg_stat(again, OWNER).id == again


def test_sem_undo_applies_at_exit_clamped(ns):
    semid = ns.semget(sysv.IPC_PRIVATE, 2, 0o600, OWNER)
    ns.sem_setval(semid, 0, 5, OWNER)
    ns.semop(semid, [(0, -2, sysv.SEM_UNDO), (1, 3, sysv.SEM_UNDO)], OWNER)
    ns.semop(semid, [(1, -2, 0)], sysv.Caller(pid=11, uid=1000, gid=1000))  # another process, no undo
    assert ns.sem_getall(semid, OWNER) == [3, 1]
    assert ns.exit_process(OWNER.pid) == [semid]
    assert ns.sem_getall(semid, OWNER) == [5, 0]  # +2, and 1-3 clamped to 0
    assert ns.sem_get(semid, 1, OWNER).pid == OWNER.pid
    ns.exit_process(OWNER.pid)  # applied once
    assert ns.sem_getall(semid, OWNER) == [5, 0]


def test_setval_clears_undo(ns):
    semid = ns.semget(sysv.IPC_PRIVATE, 1, 0o600, OWNER)
    ns.semop(semid, [(0, 4, sysv.SEM_UNDO)], OWNER)
    ns.sem_setval(semid, 0, 1, OWNER)
    ns.exit_process(OWNER.pid)
    assert ns.sem_getall(semid, OWNER) == [1]


def test_blocked_changes_nothing(ns):
    semid = ns.semget(sysv.IPC_PRIVATE, 2, 0o600, OWNER)
    with pytest.raises(sysv.Blocked):
        ns.semop(semid, [(1, 1, sysv.SEM_UNDO), (0, -1, 0)], OWNER)
    assert ns.sem_getall(semid, OWNER) == [0, 0]
    assert OWNER.pid not in ns.sem_stat(semid, OWNER).undo
    msqid = ns.msgget(sysv.IPC_PRIVATE, 0o600, OWNER)
    with pytest.raises(sysv.Blocked):
        ns.msgrcv(msqid, 10, 0, 0, OWNER)


def test_permissions_of_another_user(ns):
    msqid = ns.msgget(42, sysv.IPC_CREAT | 0o640, OWNER)
    raises(errno.EACCES, ns.msgget, 42, 0o600, OTHER)
    raises(errno.EACCES, ns.msgsnd, msqid, 1, b"x", 0, OTHER)
    raises(errno.EPERM, ns.msg_rmid, msqid, OTHER)
    group_member = sysv.Caller(pid=13, uid=3000, gid=3000, groups=(1000,))
    assert ns.msgget(42, 0o040, group_member) == msqid
    raises(errno.EACCES, ns.msgget, 42, 0o020, group_member)
    assert ns.msgget(42, 0o600, ROOT) == msqid  # CAP_IPC_OWNER
    ns.msg_rmid(msqid, ROOT)


def test_removed_segment_lives_until_last_detach(ns):
    shmid = ns.shmget(sysv.IPC_PRIVATE, 100, 0o600, OWNER)
    segment = ns.shm_for_attach(shmid, True, OWNER)
    fd = segment.file.fd
    ns.shm_attached(shmid, OWNER)
    ns.shm_rmid(shmid, OWNER)
    os.fstat(fd)  # still open: the segment is attached
    assert ns.shm_stat(shmid, OWNER).perm.mode & sysv.SHM_DEST
    ns.shm_detached(shmid, OWNER)
    raises(errno.EINVAL, ns.shm_stat, shmid, OWNER)
    with pytest.raises(OSError):
        os.fstat(fd)


def test_exit_and_fork_count_attaches(ns):
    """The leader counts each process's attaches: a forked child has its parent's, an
    exit or exec detaches them all (the last detach of a removed segment frees it)."""
    shmid = ns.shmget(sysv.IPC_PRIVATE, 100, 0o600, OWNER)
    ns.shm_attached(shmid, OWNER)
    ns.shm_attached(shmid, OWNER)
    ns.fork_process(OWNER.pid, 20)
    assert ns.shm_stat(shmid, OWNER).nattch == 4
    ns.exit_process(OWNER.pid)
    assert ns.shm_stat(shmid, OWNER).nattch == 2
    ns.shm_rmid(shmid, OWNER)
    ns.detach_process(20)
    raises(errno.EINVAL, ns.shm_stat, shmid, OWNER)


def test_client_prunes_unmapped_attaches():
    client = sysv.SysVClient(sysv.Limits())
    client.attaches[0x10000] = sysv.Attach(7, 4096, inode=1)
    client.attaches[0x20000] = sysv.Attach(8, 4096, inode=2)
    assert client.prune(lambda: {(0x10000, 1), (0x20000, 99)}) == [8]
    assert list(client.attaches) == [0x10000]


def test_limits_from_sysctl():
    files = {"/proc/sys/kernel/msgmax": b"100\n", "/proc/sys/kernel/sem": b"250\t32000\t32\t128\n"}
    limits = sysv.Limits.from_sysctl(lambda path: files.get(path, b""))
    assert (limits.msgmax, limits.msgmnb, limits.semmsl, limits.semopm, limits.semmni) == (100, 16384, 250, 32, 128)
