"""Identity: the uid/gid families, supplementary groups and capabilities, all virtual
(kernel/creds.py has the rules). The host process keeps Pyrene's own identity."""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable

from ..abi.flags import (CAP_LAST_CAP, CAP_SETGID, LINUX_CAPABILITY_VERSION_1, LINUX_CAPABILITY_VERSION_2,
                         LINUX_CAPABILITY_VERSION_3)
from ..abi.types import Int, Ptr, UInt
from ..errors import Errno
from ..kernel.creds import NGROUPS_MAX, Creds
from ..kernel.table import PARTIAL, syscall
from ..kernel.task import Task
from ..pal import linux as pal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

CAP_HEADER = struct.Struct("<Ii")  # __user_cap_header_struct: version, pid
CAP_DATA = struct.Struct("<III")  # __user_cap_data_struct: effective, permitted, inheritable


def commit(t: Task, change: Callable[[Creds], T]) -> T:
    """Apply a change of credentials; as the kernel's commit_creds, a process whose
    effective or fs ids change, or whose permitted capabilities grow, stops being
    dumpable (it becomes fs.suid_dumpable)."""
    c = t.proc.creds
    before = (c.euid, c.egid, c.uid, c.gid)
    permitted = c.caps.permitted
    result = change(c)
    if (c.euid, c.egid, c.uid, c.gid) != before or c.caps.permitted & ~permitted:
        t.proc.dumpable = pal.suid_dumpable()
    t.instance.publish()  # /proc/PID/status of the others shows the ids; RLIMIT_NPROC counts real uids
    return result


@syscall("getuid")
def getuid(t: Task) -> int:
    return t.proc.creds.ruid


@syscall("geteuid")
def geteuid(t: Task) -> int:
    return t.proc.creds.euid


@syscall("getgid")
def getgid(t: Task) -> int:
    return t.proc.creds.rgid


@syscall("getegid")
def getegid(t: Task) -> int:
    return t.proc.creds.egid


def write_ids(t: Task, ptrs: tuple[int, int, int], ids: tuple[int, int, int]) -> int:
    for ptr, value in zip(ptrs, ids):
        t.mem.write(ptr, struct.pack("<I", value))
    return 0


@syscall("getresuid", Ptr, Ptr, Ptr)
def getresuid(t: Task, r: int, e: int, s: int) -> int:
    c = t.proc.creds
    return write_ids(t, (r, e, s), (c.ruid, c.euid, c.suid))


@syscall("getresgid", Ptr, Ptr, Ptr)
def getresgid(t: Task, r: int, e: int, s: int) -> int:
    c = t.proc.creds
    return write_ids(t, (r, e, s), (c.rgid, c.egid, c.sgid))


@syscall("setuid", UInt)
def setuid(t: Task, uid: int) -> int:
    commit(t, lambda c: c.setuid(uid))
    return 0


@syscall("setgid", UInt)
def setgid(t: Task, gid: int) -> int:
    commit(t, lambda c: c.setgid(gid))
    return 0


@syscall("setreuid", UInt, UInt)
def setreuid(t: Task, ruid: int, euid: int) -> int:
    commit(t, lambda c: c.setreuid(ruid, euid))
    return 0


@syscall("setregid", UInt, UInt)
def setregid(t: Task, rgid: int, egid: int) -> int:
    commit(t, lambda c: c.setregid(rgid, egid))
    return 0


@syscall("setresuid", UInt, UInt, UInt)
def setresuid(t: Task, ruid: int, euid: int, suid: int) -> int:
    commit(t, lambda c: c.setresuid(ruid, euid, suid))
    return 0


@syscall("setresgid", UInt, UInt, UInt)
def setresgid(t: Task, rgid: int, egid: int, sgid: int) -> int:
    commit(t, lambda c: c.setresgid(rgid, egid, sgid))
    return 0


@syscall("setfsuid", UInt)
def setfsuid(t: Task, uid: int) -> int:
    return commit(t, lambda c: c.setfsuid(uid))


@syscall("setfsgid", UInt)
def setfsgid(t: Task, gid: int) -> int:
    return commit(t, lambda c: c.setfsgid(gid))


@syscall("getgroups", Int, Ptr)
def getgroups(t: Task, size: int, ptr: int) -> int:
    groups = t.proc.creds.groups
    if size < 0:
        raise Errno(errno.EINVAL)
    if size == 0:
        return len(groups)
    if size < len(groups):
        raise Errno(errno.EINVAL)
    t.mem.write(ptr, struct.pack(f"<{len(groups)}I", *groups))
    return len(groups)


@syscall("setgroups", Int, Ptr)
def setgroups(t: Task, size: int, ptr: int) -> int:
    creds = t.proc.creds
    if not creds.capable(CAP_SETGID):  # checked before the size as the kernel does
        raise Errno(errno.EPERM)
    if not 0 <= size <= NGROUPS_MAX:
        raise Errno(errno.EINVAL)
    groups = struct.unpack(f"<{size}I", t.mem.read(ptr, 4 * size)) if size else ()
    creds.setgroups(groups)
    t.instance.publish()
    return 0


# -- capabilities -------------------------------------------------------------------------

def cap_header(t: Task, header: int) -> tuple[int, int]:
    """The header's pid and how many 32-bit words of each set the version carries; an
    unknown version is answered with the preferred one written back, and EINVAL."""
    version, pid = CAP_HEADER.unpack(t.mem.read(header, CAP_HEADER.size))
    if version == LINUX_CAPABILITY_VERSION_1:
        return pid, 1
    if version in (LINUX_CAPABILITY_VERSION_2, LINUX_CAPABILITY_VERSION_3):
        return pid, 2
    t.mem.write(header, struct.pack("<I", LINUX_CAPABILITY_VERSION_3))
    raise Errno(errno.EINVAL)


@syscall("capget", Ptr, Ptr, support=PARTIAL, note="the calling process only (other pids: ESRCH)")
def capget(t: Task, header: int, data: int) -> int:
    try:
        pid, words = cap_header(t, header)
    except Errno as e:
        if e.errno == errno.EINVAL and not data:
            return 0  # a probe for the preferred version
        raise
    if not data:
        return 0
    if pid < 0:
        raise Errno(errno.EINVAL)
    if pid not in (0, t.proc.vpid):
        raise Errno(errno.ESRCH)
    caps = t.proc.creds.caps
    out = b"".join(CAP_DATA.pack(caps.effective >> (32 * i) & 0xFFFFFFFF, caps.permitted >> (32 * i) & 0xFFFFFFFF,
                                 caps.inheritable >> (32 * i) & 0xFFFFFFFF) for i in range(words))
    t.mem.write(data, out)
    return 0


@syscall("capset", Ptr, Ptr)
def capset(t: Task, header: int, data: int) -> int:
    """Only on oneself, as the kernel allows since 2.6.24."""
    pid, words = cap_header(t, header)
    if pid not in (0, t.proc.vpid):
        raise Errno(errno.EPERM)
    raw = t.mem.read(data, CAP_DATA.size * words)
    sets = [0, 0, 0]
    for i in range(words):
        for j, value in enumerate(CAP_DATA.unpack_from(raw, CAP_DATA.size * i)):
            sets[j] |= value << (32 * i)
    commit(t, lambda c: c.capset(*sets))
    return 0


# -- prctl's capability and privilege options ------------------------------------------------

PR_GET_KEEPCAPS, PR_SET_KEEPCAPS, PR_CAPBSET_READ, PR_CAPBSET_DROP, PR_GET_SECUREBITS = 7, 8, 23, 24, 27
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 38, 39, 47
PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_CLEAR_ALL = 1, 2, 3, 4
SECBIT_KEEP_CAPS = 1 << 4


def valid_cap(cap: int) -> int:
    if cap > CAP_LAST_CAP:
        raise Errno(errno.EINVAL)
    return cap


def set_keepcaps(c: Creds, on: int, *_: int) -> int:
    if on > 1:
        raise Errno(errno.EINVAL)
    c.keepcaps = bool(on)
    return 0


def drop_bounding(c: Creds, cap: int, *_: int) -> int:
    c.drop_bounding(valid_cap(cap))
    return 0


def set_no_new_privs(c: Creds, a2: int, a3: int, a4: int, a5: int) -> int:
    """One-way: nothing clears it."""
    if a2 != 1 or a3 or a4 or a5:
        raise Errno(errno.EINVAL)
    c.no_new_privs = True
    return 0


def get_no_new_privs(c: Creds, a2: int, a3: int, a4: int, a5: int) -> int:
    if a2 or a3 or a4 or a5:
        raise Errno(errno.EINVAL)
    return int(c.no_new_privs)


def cap_ambient(c: Creds, op: int, cap: int, a4: int, a5: int) -> int:
    if op == PR_CAP_AMBIENT_CLEAR_ALL:
        if cap or a4 or a5:
            raise Errno(errno.EINVAL)
        c.set_ambient(0)
        return 0
    if a4 or a5:
        raise Errno(errno.EINVAL)
    bit = 1 << valid_cap(cap)
    if op == PR_CAP_AMBIENT_IS_SET:
        return int(bool(c.caps.ambient & bit))
    if op == PR_CAP_AMBIENT_RAISE:
        c.set_ambient(c.caps.ambient | bit)
        return 0
    if op == PR_CAP_AMBIENT_LOWER:
        c.set_ambient(c.caps.ambient & ~bit)
        return 0
    raise Errno(errno.EINVAL)


CREDS_PRCTL: dict[int, Callable[[Creds, int, int, int, int], int]] = {
    PR_GET_KEEPCAPS: lambda c, *_: int(c.keepcaps),
    PR_SET_KEEPCAPS: set_keepcaps,
    PR_GET_SECUREBITS: lambda c, *_: SECBIT_KEEP_CAPS if c.keepcaps else 0,
    PR_CAPBSET_READ: lambda c, cap, *_: c.caps.bounding >> valid_cap(cap) & 1,
    PR_CAPBSET_DROP: drop_bounding,
    PR_SET_NO_NEW_PRIVS: set_no_new_privs,
    PR_GET_NO_NEW_PRIVS: get_no_new_privs,
    PR_CAP_AMBIENT: cap_ambient,
}
