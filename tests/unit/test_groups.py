"""The leader's process groups and sessions (ipc/leader.py): Linux's setpgid/setsid
rules and whom kill(2) reaches, on the virtual tree alone (no process is started)."""

from __future__ import annotations

import errno
import selectors

from pyrene.ipc.client import socket_pair
from pyrene.ipc.leader import Leader
from pyrene.ipc.messages import GroupQuery, SetGroup, SignalQuery, ThreadExited, encode


def tree() -> Leader:
    """1 (session and group leader) with children 2 and 3; 4 is a child of 2."""
    leader = Leader(prctl=lambda *_: None)
    for ppid in (0, 1, 1, 2):
        entry = leader.allocate(ppid)
        entry.host_pid = 100 + entry.vpid
    leader.processes[1].host_pgid = 99
    for vpid in (2, 3, 4):
        leader.processes[vpid].host_pgid = 99
    return leader


def setpgid(leader: Leader, caller: int, pid: int, pgid: int) -> int:
    answer = leader.set_group(SetGroup(caller, pid, pgid))
    if not answer.error:
        leader.set_group(SetGroup(caller, pid, pgid, commit=True))
    return answer.error


def test_setpgid_rules():
    leader = tree()
    assert setpgid(leader, 1, 0, 0) == errno.EPERM  # a session leader keeps its group
    assert setpgid(leader, 1, 4, 0) == errno.ESRCH  # not a child of the caller
    assert setpgid(leader, 1, 2, -1) == errno.EINVAL
    assert setpgid(leader, 1, 2, 77) == errno.EPERM  # no such group in the session
    assert setpgid(leader, 1, 2, 0) == 0
    assert leader.processes[2].host_pgid == 102  # a new group: its leader's host pid
    assert setpgid(leader, 1, 3, 2) == 0
    assert leader.processes[3].host_pgid == 102
    assert leader.ids(GroupQuery(1, -2)).host_pgid == 102
    assert leader.processes[4].pgid == 1  # a child keeps the group it was forked in


def test_setsid_rules():
    leader = tree()
    assert leader.set_group(SetGroup(1, 0, 0, session=True)).error == errno.EPERM  # a group leader
    assert leader.set_group(SetGroup(2, 0, 0, session=True)).error == 0
    leader.set_group(SetGroup(2, 0, 0, session=True, commit=True))
    two = leader.ids(GroupQuery(1, 2))
    assert (two.pgid, two.sid, two.host_pgid) == (2, 2, 102)
    assert setpgid(leader, 1, 2, 1) == errno.EPERM  # now in another session


def test_signal_targets():
    leader = tree()
    setpgid(leader, 1, 2, 0)
    assert [v for v, _, _ in leader.signal_targets(1, -2).targets] == [2]
    assert [v for v, _, _ in leader.signal_targets(1, 0).targets] == [1, 3, 4]
    assert [v for v, _, _ in leader.signal_targets(3, -1).targets] == [2, 4]  # not 1, not the caller
    assert leader.signal_targets(1, 42).error == errno.ESRCH
    leader.processes[3].status = 0  # a zombie: kill(2) succeeds and sends nothing, as on Linux
    zombie = leader.signal_targets(1, 3)
    assert (zombie.error, zombie.targets) == (0, ())
    assert [v for v, _, _ in leader.signal_targets(1, 0).targets] == [1, 4]
    del leader.processes[3]  # reaped
    assert leader.signal_targets(1, 3).error == errno.ESRCH


def test_thread_numbers_are_forgotten():
    """A thread's number leaves the leader's table when it ends, and with its process."""
    leader = tree()
    a, b = leader.allocate_tid(3, 103), leader.allocate_tid(3, 104)
    c = leader.allocate_tid(4, 105)
    assert {a, b, c} <= set(leader.threads) and not {a, b, c} & set(leader.processes)
    ours, theirs = socket_pair()
    theirs.send(encode(ThreadExited(a)))  # as an instance does when the thread ends
    assert leader._message(ours, selectors.DefaultSelector())
    ours.close()
    theirs.close()
    assert a not in leader.threads and leader.threads[b] == (3, 104)
    leader._exited(3, 0)
    assert a not in leader.threads and b not in leader.threads and leader.threads[c] == (4, 105)


def test_a_thread_of_another_process_is_named_with_its_process():
    """tgkill's target: thread `tid` of process `tgid` (any, for tkill), or its main
    thread by the process's pid; ESRCH when the thread is not that process's."""
    leader = tree()
    vtid = leader.allocate_tid(3, 1003)
    host_pid = leader.processes[3].host_pid
    assert leader.thread_target(SignalQuery(1, 3, 10, vtid)).host_tid == 1003
    assert leader.thread_target(SignalQuery(1, 0, 10, vtid)).host_tid == 1003
    assert leader.thread_target(SignalQuery(1, 3, 10, 3)).host_tid == host_pid
    assert leader.thread_target(SignalQuery(1, 4, 10, vtid)).error == errno.ESRCH
    assert leader.thread_target(SignalQuery(1, 3, 10, 4)).error == errno.ESRCH
    assert leader.thread_target(SignalQuery(1, 0, 10, 99)).error == errno.ESRCH
