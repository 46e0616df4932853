"""Process identity, exit, fork, wait and exec."""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Callable

from ..abi.flags import CAP_SYS_RESOURCE, RLIM_INFINITY, OpenFlags, Rlimit
from ..abi.structs import RLIMIT
from ..abi.types import DirFd, Fd, Int, Path, Ptr, SizeT, UInt, ULong, enum_type
from ..errors import Errno, RunOnHost
from ..fs.pidfd import PidFd
from ..ipc.messages import GroupQuery, Ids, SetGroup
from ..kernel import exec as execmod
from ..kernel import fork as forkmod
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from ..pal import linux as pal
from . import ipc
from .fs import base_dir

RlimitArg = enum_type(Rlimit)


@syscall("getpid")
def getpid(t: Task) -> int:
    return t.proc.vpid


@syscall("gettid")
def gettid(t: Task) -> int:
    return t.vtid


@syscall("getppid")
def getppid(t: Task) -> int:
    return forkmod.parent_vpid(t)


# -- process groups and sessions -----------------------------------------------------------
#
# The leader keeps every process's virtual pgid and sid (ipc/leader.py) and checks
# Linux's rules; the groups and sessions are mirrored on the host (setpgid/setsid run for
# the app's host process with translated ids), so that the host terminal's job control
# (its foreground group, Ctrl-C, SIGTTIN) works on them, and wait4 of a group can run on
# the host. Virtual group and session 1 are Pyrene's own host group and session.


def ask_leader(t: Task, msg: object) -> Ids:
    leader = t.instance.leader
    if leader is None:
        raise Errno(errno.ENOSYS)
    answer = leader.request(msg)  # type: ignore[arg-type]
    assert isinstance(answer, Ids)
    if answer.error:
        raise Errno(answer.error)
    return answer


@syscall("getpgrp")
def getpgrp(t: Task) -> int:
    return ask_leader(t, GroupQuery(t.proc.vpid)).pgid


@syscall("getpgid", Int)
def getpgid(t: Task, pid: int) -> int:
    return ask_leader(t, GroupQuery(t.proc.vpid, pid)).pgid


@syscall("getsid", Int)
def getsid(t: Task, pid: int) -> int:
    return ask_leader(t, GroupQuery(t.proc.vpid, pid)).sid


def group_host_pgid(t: Task, pgid: int) -> int:
    """The host pgid of virtual group `pgid`."""
    return ask_leader(t, GroupQuery(t.proc.vpid, -pgid)).host_pgid


@syscall("setpgid", Int, Int)
def setpgid(t: Task, pid: int, pgid: int) -> int:
    """Checked by the leader, then run on the host with host ids (EACCES for a child that
    has exec'd is the host's), then recorded by the leader. The instance follows its own
    app into the group, so that it reads and writes the terminal as its app would."""
    ids = ask_leader(t, SetGroup(t.proc.vpid, pid, pgid))
    forkmod.set_arg(t, 0, ids.host_pid)
    forkmod.set_arg(t, 1, ids.host_pgid)

    def post(task: Task, result: int) -> int:
        if result == 0:
            assert task.instance.leader is not None
            task.instance.leader.send(SetGroup(task.proc.vpid, pid, pgid, commit=True))
            if ids.host_pid == task.proc.host_pid:
                pal.host_setpgid(ids.host_pgid)
        return result

    raise RunOnHost(post=post)


@syscall("setsid")
def setsid(t: Task) -> int:
    ids = ask_leader(t, SetGroup(t.proc.vpid, 0, 0, session=True))

    def post(task: Task, result: int) -> int:
        if result < 0:
            return result
        assert task.instance.leader is not None
        task.instance.leader.send(SetGroup(task.proc.vpid, 0, 0, session=True, commit=True))
        return ids.sid

    raise RunOnHost(post=post)


TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCNOTTY, TIOCGSID = 0x540E, 0x540F, 0x5410, 0x5422, 0x5429
JOB_IOCTLS = (TIOCGPGRP, TIOCSPGRP, TIOCGSID)


def tty_job_ioctl(t: Task, host_fd: int | None, request: int, arg: int) -> int:
    """tcgetpgrp/tcsetpgrp/tcgetsid on a host terminal, with group ids translated both
    ways. The instance issues them (it holds the terminal and is in the app's session)."""
    if host_fd is None or not pal.is_tty(host_fd):
        raise Errno(errno.ENOTTY)
    if request == TIOCSPGRP:
        pgid = struct.unpack("<i", t.mem.read(arg, 4))[0]
        if pgid < 0:
            raise Errno(errno.EINVAL)
        me = ask_leader(t, GroupQuery(t.proc.vpid))
        group = ask_leader(t, GroupQuery(t.proc.vpid, -pgid))
        if group.sid != me.sid:
            raise Errno(errno.EPERM)
        pal.set_tty_pgrp(host_fd, group.host_pgid)
        return 0
    if request == TIOCGPGRP:
        try:
            pgid = ask_leader(t, GroupQuery(t.proc.vpid, host_pgid=pal.tty_pgrp(host_fd))).pgid
        except Errno:
            pgid = NO_GROUP
        t.mem.write(arg, struct.pack("<i", pgid))
        return 0
    me = ask_leader(t, GroupQuery(t.proc.vpid))
    if pal.tty_sid(host_fd) != pal.host_sid(me.host_pid):
        raise Errno(errno.ENOTTY)
    t.mem.write(arg, struct.pack("<i", me.sid))
    return 0


NO_GROUP = 0x3FFFFFFF  # tcgetpgrp of a terminal whose foreground group is no sandbox group


def limits_of(t: Task, pid: int) -> dict[int, tuple[int, int]]:
    if pid not in (0, t.proc.vpid):
        raise Errno(errno.ESRCH)
    return t.proc.rlimits


def set_limit(t: Task, resource: int, soft: int, hard: int) -> None:
    if soft > hard and hard != RLIM_INFINITY:
        raise Errno(errno.EINVAL)
    old_soft, old_hard = t.proc.rlimits[resource]
    if hard > old_hard and not t.proc.creds.capable(CAP_SYS_RESOURCE):
        raise Errno(errno.EPERM)
    t.proc.rlimits[resource] = (soft, hard)
    if resource == Rlimit.RLIMIT_NOFILE:
        t.files.limit = min(soft, 1 << 20)


@syscall("prlimit64", Int, RlimitArg, Ptr, Ptr)
def prlimit64(t: Task, pid: int, resource: int, new: int, old: int) -> int:
    limits = limits_of(t, pid)
    if resource not in limits:
        raise Errno(errno.EINVAL)
    if old:
        t.mem.write(old, RLIMIT.pack(*limits[resource]))
    if new:
        set_limit(t, resource, *RLIMIT.unpack(t.mem.read(new, RLIMIT.size)))
    return 0


@syscall("getrlimit", RlimitArg, Ptr)
def getrlimit(t: Task, resource: int, old: int) -> int:
    return prlimit64(t, 0, resource, 0, old)


@syscall("setrlimit", RlimitArg, Ptr)
def setrlimit(t: Task, resource: int, new: int) -> int:
    return prlimit64(t, 0, resource, new, 0)


@syscall("exit_group", Int)
def exit_group(t: Task, status: int) -> int:
    t.proc.exit_status = status & 0xFF
    t.instance.process_exiting()
    raise RunOnHost()


@syscall("exit", Int)
def exit_(t: Task, status: int) -> int:
    raise RunOnHost()


@syscall("set_tid_address", Ptr)
def set_tid_address(t: Task, ptr: int) -> int:
    """The host records the clear-child-tid address; the app gets its virtual tid."""
    raise RunOnHost(post=lambda task, _host_result: task.vtid)


# -- fork, vfork, clone, wait4, waitid (kernel/fork.py) ----------------------------------
#
# fork runs on the host, traced (PTRACE_O_TRACEFORK): the instance forks with it and the
# new instance takes the child over. The app's host children are its children in the
# sandbox too, so wait4/waitid run on the host with pids translated both ways: statuses
# (exit code, signal, core), WNOHANG, WUNTRACED, __WALL, zombies and the host's SIGCHLD
# to the parent are Linux's own. The call blocks the app's thread in the host kernel,
# never the instance.

FORK_NOTE = ("processes sharing nothing, and threads as pthread_create makes them; other sharing "
             "(CLONE_FS/FILES/SIGHAND without CLONE_THREAD, CLONE_VM without CLONE_VFORK or CLONE_THREAD) is EINVAL")
CLONE3_NOTE = "threads only: a process-creating clone3 is ENOSYS, so that libc falls back to clone"


@syscall("fork")
@syscall("vfork")
def fork(t: Task) -> int:
    forkmod.check_may_fork(t)
    raise RunOnHost(post=forkmod.forked)


@syscall("clone", ULong, Ptr, Ptr, Ptr, ULong, support=PARTIAL, note=FORK_NOTE)
def clone(t: Task, flags: int, stack: int, parent_tid: int, child_tid: int, tls: int) -> int:
    if forkmod.is_thread_clone(flags):
        raise RunOnHost(post=forkmod.thread_started)
    forkmod.check_clone_flags(flags)
    forkmod.check_may_fork(t)
    raise RunOnHost(post=forkmod.forked)


@syscall("clone3", Ptr, SizeT, support=PARTIAL, note=CLONE3_NOTE)
def clone3(t: Task, args: int, size: int) -> int:
    if size < forkmod.CLONE_ARGS_SIZE_VER0:
        raise Errno(errno.EINVAL)
    (flags,) = struct.unpack("<Q", t.mem.read(args, 8))
    if not forkmod.is_thread_clone(flags):
        raise Errno(errno.ENOSYS, "clone3 of a process: libc falls back to clone")
    if size > forkmod.CLONE_ARGS_SIZE_VER0:  # set_tid, cgroup: namespaces' business
        extra = t.mem.read(args + forkmod.CLONE_ARGS_SIZE_VER0, size - forkmod.CLONE_ARGS_SIZE_VER0)
        if extra.strip(b"\0"):
            raise Errno(errno.EINVAL, "clone3: set_tid and cgroup are not supported")
    raise RunOnHost(post=forkmod.thread_started)


def wait_target(t: Task, pid: int) -> int:
    """wait4's pid for the host: a child's host pid, or a group's host pgid (groups are
    mirrored on the host); ECHILD for a group with no process left."""
    if pid < -1:
        return -wait_group(t, -pid)
    return forkmod.host_wait_target(t, pid)


def wait_group(t: Task, pgid: int) -> int:
    try:
        return group_host_pgid(t, pgid)
    except Errno:
        raise Errno(errno.ECHILD) from None


@syscall("wait4", Int, Ptr, Int, Ptr)
def wait4(t: Task, pid: int, status: int, options: int, rusage: int) -> int:
    forkmod.set_arg(t, 0, wait_target(t, pid))

    def post(task: Task, result: int) -> int:
        """The child's virtual pid. A stopped or continued child (WUNTRACED, WCONTINUED) is
        still ours to wait for; one reaped has dropped its locks and System V state in the
        leader before its parent learns it is gone (if it was killed, its own instance may
        not have told the leader yet)."""
        keep = False
        if result > 0 and status:
            try:
                raw = int.from_bytes(task.mem.read(status, 4), "little")
                keep = os.WIFSTOPPED(raw) or os.WIFCONTINUED(raw)
            except Errno:
                pass
        vpid = forkmod.reaped(task, result, keep=keep)
        if vpid > 0 and not keep and task.instance.shared_used and not pal.host_parent(result):
            task.instance.shared_call(task.tid, "reaped", (vpid,))
        return vpid
    raise RunOnHost(post=forkmod.after_host_wait({0: pid}, post))


@syscall("waitid", Int, Int, Ptr, Int, Ptr)
def waitid(t: Task, idtype: int, ident: int, infop: int, options: int, rusage: int) -> int:
    done = forkmod.waitid_done
    if idtype == forkmod.P_PID:
        if ident <= 0:
            raise Errno(errno.EINVAL)
        forkmod.set_arg(t, 1, forkmod.host_wait_target(t, ident))
    elif idtype == forkmod.P_PGID:
        if ident < 0:
            raise Errno(errno.EINVAL)
        forkmod.set_arg(t, 1, wait_group(t, ident) if ident else 0)
    elif idtype == forkmod.P_PIDFD:
        done = wait_pidfd(t, ident, options)
    elif idtype != forkmod.P_ALL:
        raise Errno(errno.EINVAL)
    raise RunOnHost(post=forkmod.after_host_wait({0: idtype, 1: ident, 3: options}, done))


def wait_pidfd(t: Task, fd: int, options: int) -> Callable[[Task, int], int]:
    """waitid(P_PIDFD) becomes a host P_PID wait for the child the pidfd names (a pidfd
    of a process that is not our child: ECHILD). A non-blocking pidfd waits as WNOHANG,
    and finding nothing is EAGAIN, as Linux does. Returns the post hook."""
    file = t.files.get(fd)
    if not isinstance(file, PidFd):
        raise Errno(errno.EINVAL)
    forkmod.set_arg(t, 0, forkmod.P_PID)
    forkmod.set_arg(t, 1, forkmod.host_wait_target(t, file.vpid))
    if not file.flags & PIDFD_NONBLOCK or options & os.WNOHANG:
        return forkmod.waitid_done
    forkmod.set_arg(t, 3, options | os.WNOHANG)

    def done(task: Task, host_result: int) -> int:
        regs = task.tracee.get_regs()
        if host_result == 0 and regs.rdx:
            if not int.from_bytes(task.mem.read(regs.rdx + forkmod.SI_PID, 4), "little"):
                return -errno.EAGAIN
        return forkmod.waitid_done(task, host_result)
    return done


# -- pidfds (fs/pidfd.py) ---------------------------------------------------------------------

PIDFD_NONBLOCK = int(OpenFlags.O_NONBLOCK)


@syscall("pidfd_open", Int, UInt, ret=Fd)
def pidfd_open(t: Task, pid: int, flags: int) -> int:
    """A pidfd of a process of the sandbox: ESRCH if there is none, EINVAL for a thread
    that is not its process's main thread."""
    if flags & ~PIDFD_NONBLOCK or pid <= 0:
        raise Errno(errno.EINVAL)
    if pid == t.proc.vpid:
        host_pid = t.proc.host_pid
    elif t.instance.thread(pid) is not None:
        raise Errno(errno.EINVAL)
    else:
        host_pid = ask_leader(t, GroupQuery(t.proc.vpid, pid)).host_pid
    return t.files.install_new(PidFd(pal.pidfd_open(host_pid), pid, int(OpenFlags.O_RDWR) | flags), True)


# -- execve, execveat (kernel/exec.py) ----------------------------------------------------

AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW = 0x1000, 0x100
EXEC_NOTE = "no setuid/setgid bits"


@syscall("execve", Path, Ptr, Ptr, support=PARTIAL, note=EXEC_NOTE)
def execve(t: Task, path: str, argv: int, envp: int) -> int:
    result = execmod.execve(t, path, execmod.read_strings(t, argv), execmod.read_strings(t, envp))
    ipc.exec_detach(t)
    return result


@syscall("execveat", DirFd, Path, Ptr, Ptr, Int, support=PARTIAL, note=EXEC_NOTE)
def execveat(t: Task, dirfd: int, path: str, argv: int, envp: int, flags: int) -> int:
    if flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW):
        raise Errno(errno.EINVAL)
    if not path and flags & AT_EMPTY_PATH:
        full = t.files.get(dirfd).path
    else:
        full = os.path.join(base_dir(t, dirfd, path), path)
    result = execmod.execve(t, full, execmod.read_strings(t, argv), execmod.read_strings(t, envp))
    ipc.exec_detach(t)
    return result
