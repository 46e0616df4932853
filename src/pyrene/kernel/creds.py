"""Virtual credentials with Linux's rules (kernel/sys.c, security/commoncap.c).

A process has real, effective, saved and filesystem uids and gids, supplementary
groups, and the capability sets. Nothing here touches the host: the app process keeps
running under Pyrene's host identity, and every check of "may this app do X" reads these.

Permission checks on files use the *filesystem* ids (`uid`/`gid`, which follow the
effective ids unless setfsuid/setfsgid moved them) and the capabilities in the effective
set, exactly as the kernel's generic_permission does. The capability sets follow from uid
0 by the kernel's "setuid fixup" rules (capabilities(7), "Effect of user ID changes on
capabilities"); PR_SET_KEEPCAPS keeps the permitted set over the drop of all root ids.
"""

from __future__ import annotations

import errno

from ..abi.flags import (
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_LAST_CAP,
    CAP_LINUX_IMMUTABLE, CAP_MAC_OVERRIDE, CAP_MKNOD, CAP_SETGID, CAP_SETPCAP, CAP_SETUID,
)
from ..errors import Errno
from ..record import NamedTuple

CAP_FULL_SET = (1 << (CAP_LAST_CAP + 1)) - 1
# what a change of the fsuid from/to 0 drops from/raises in the effective set (CAP_FS_SET)
CAP_FS_SET = sum(1 << c for c in (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
                                  CAP_FSETID, CAP_LINUX_IMMUTABLE, CAP_MKNOD, CAP_MAC_OVERRIDE))
NGROUPS_MAX = 65536
UNCHANGED = 0xFFFFFFFF  # -1 as an id argument: "leave this one"


class CapSets(NamedTuple):
    """The four capability sets of capabilities(7) (no ambient raising is supported)."""

    effective: int = 0
    permitted: int = 0
    inheritable: int = 0
    bounding: int = CAP_FULL_SET
    ambient: int = 0


class Creds:
    """A process's identity. `uid`/`gid` are the filesystem ids: what file permission
    checks and new files' owners use."""

    __slots__ = ("ruid", "euid", "suid", "uid", "rgid", "egid", "sgid", "gid", "groups", "caps", "keepcaps",
                 "no_new_privs")

    def __init__(self, uid: int, gid: int, groups: tuple[int, ...], caps: CapSets) -> None:
        """All ids `uid` (`gid`): what a process gets when it starts."""
        self.ruid = self.euid = self.suid = self.uid = uid  # uid: the fsuid
        self.rgid = self.egid = self.sgid = self.gid = gid  # gid: the fsgid
        self.groups = groups
        self.caps = caps
        self.keepcaps = False
        self.no_new_privs = False

    @classmethod
    def initial(cls, uid: int, gid: int, groups: tuple[int, ...], host: CapSets | None) -> "Creds":
        """The first process's credentials: `host`'s capabilities where it runs as the
        host user (so a root app sees the sets a native run would), else what a uid
        gets from an execve by root: all capabilities for 0, none otherwise."""
        if host is None:
            host = CapSets(CAP_FULL_SET, CAP_FULL_SET) if uid == 0 else CapSets()
        return cls(uid, gid, tuple(sorted(groups)), host)

    def capable(self, cap: int) -> bool:
        return bool(self.caps.effective >> cap & 1)

    def in_group(self, gid: int) -> bool:
        return gid == self.gid or gid in self.groups

    # -- uids -----------------------------------------------------------------------

    def setuid(self, uid: int) -> None:
        """setuid(2): with CAP_SETUID all four ids; without, the effective (and fs) id
        to the real or saved one."""
        check_id(uid)
        if self.capable(CAP_SETUID):
            self._set_uids(uid, uid, uid)
        elif uid in (self.ruid, self.suid):
            self._set_uids(self.ruid, uid, self.suid)
        else:
            raise Errno(errno.EPERM)

    def setreuid(self, ruid: int, euid: int) -> None:
        """setreuid(2): the saved id follows the new effective one when the real id is
        set or the effective one differs from the old real one."""
        privileged = self.capable(CAP_SETUID)
        new_r, new_e = self.ruid, self.euid
        if ruid != UNCHANGED:
            check_id(ruid)
            if not privileged and ruid not in (self.ruid, self.euid):
                raise Errno(errno.EPERM)
            new_r = ruid
        if euid != UNCHANGED:
            check_id(euid)
            if not privileged and euid not in (self.ruid, self.euid, self.suid):
                raise Errno(errno.EPERM)
            new_e = euid
        new_s = new_e if ruid != UNCHANGED or (euid != UNCHANGED and euid != self.ruid) else self.suid
        self._set_uids(new_r, new_e, new_s)

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        """setresuid(2): unprivileged, each new id must be one of the three old ones."""
        self._set_uids(*self._resolve_res((ruid, euid, suid), (self.ruid, self.euid, self.suid), CAP_SETUID))

    def setfsuid(self, fsuid: int) -> int:
        """setfsuid(2): returns the old fsuid whether or not the change was allowed."""
        old = self.uid
        if fsuid != UNCHANGED and (fsuid in (self.ruid, self.euid, self.suid, self.uid)
                                   or self.capable(CAP_SETUID)):
            self._set_fsuid(fsuid)
        return old

    def _set_uids(self, ruid: int, euid: int, suid: int) -> None:
        """Apply new r/e/s uids (the fsuid follows the euid) and cap_emulate_setxuid."""
        caps = self.caps
        was_root = 0 in (self.ruid, self.euid, self.suid)
        if was_root and 0 not in (ruid, euid, suid):
            if not self.keepcaps:
                caps = caps._replace(permitted=0, effective=0)
            caps = caps._replace(ambient=0)
        if self.euid == 0 and euid != 0:
            caps = caps._replace(effective=0)
        if self.euid != 0 and euid == 0:
            caps = caps._replace(effective=caps.permitted)
        self.caps = caps
        self.ruid, self.euid, self.suid = ruid, euid, suid
        self._set_fsuid(euid)

    def _set_fsuid(self, fsuid: int) -> None:
        """The fsuid's own fixup: leaving 0 drops the filesystem capabilities from the
        effective set, reaching 0 raises the permitted ones."""
        caps = self.caps
        if self.uid == 0 and fsuid != 0:
            caps = caps._replace(effective=caps.effective & ~CAP_FS_SET)
        elif self.uid != 0 and fsuid == 0:
            caps = caps._replace(effective=caps.effective | (caps.permitted & CAP_FS_SET))
        self.caps = caps
        self.uid = fsuid

    # -- gids (no capability effects) ------------------------------------------------

    def setgid(self, gid: int) -> None:
        check_id(gid)
        if self.capable(CAP_SETGID):
            self.rgid = self.egid = self.sgid = self.gid = gid
        elif gid in (self.rgid, self.sgid):
            self.egid = self.gid = gid
        else:
            raise Errno(errno.EPERM)

    def setregid(self, rgid: int, egid: int) -> None:
        privileged = self.capable(CAP_SETGID)
        new_r, new_e = self.rgid, self.egid
        if rgid != UNCHANGED:
            check_id(rgid)
            if not privileged and rgid not in (self.rgid, self.egid):
                raise Errno(errno.EPERM)
            new_r = rgid
        if egid != UNCHANGED:
            check_id(egid)
            if not privileged and egid not in (self.rgid, self.egid, self.sgid):
                raise Errno(errno.EPERM)
            new_e = egid
        if rgid != UNCHANGED or (egid != UNCHANGED and egid != self.rgid):
            self.sgid = new_e
        self.rgid, self.egid, self.gid = new_r, new_e, new_e

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        self.rgid, self.egid, self.sgid = self._resolve_res(
            (rgid, egid, sgid), (self.rgid, self.egid, self.sgid), CAP_SETGID)
        self.gid = self.egid

    def setfsgid(self, fsgid: int) -> int:
        old = self.gid
        if fsgid != UNCHANGED and (fsgid in (self.rgid, self.egid, self.sgid, self.gid)
                                   or self.capable(CAP_SETGID)):
            self.gid = fsgid
        return old

    def setgroups(self, groups: tuple[int, ...]) -> None:
        """setgroups(2): CAP_SETGID only; the kernel keeps the list sorted."""
        if not self.capable(CAP_SETGID):
            raise Errno(errno.EPERM)
        for g in groups:
            check_id(g)
        self.groups = tuple(sorted(groups))

    def _resolve_res(self, new: tuple[int, int, int], old: tuple[int, int, int], cap: int) -> tuple[int, int, int]:
        """The setres[ug]id rule: -1 keeps an id; unprivileged, the others must be old ids."""
        privileged = self.capable(cap)
        for i in new:
            if i != UNCHANGED:
                check_id(i)
                if not privileged and i not in old:
                    raise Errno(errno.EPERM)
        return tuple(o if n == UNCHANGED else n for n, o in zip(new, old))  # type: ignore[return-value]

    # -- capabilities ----------------------------------------------------------------

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """capset(2) on oneself (security/commoncap.c cap_capset)."""
        old = self.caps
        effective, permitted, inheritable = (v & CAP_FULL_SET for v in (effective, permitted, inheritable))
        if not self.capable(CAP_SETPCAP) and inheritable & ~(old.inheritable | old.permitted):
            raise Errno(errno.EPERM)
        if inheritable & ~(old.inheritable | old.bounding):
            raise Errno(errno.EPERM)
        if permitted & ~old.permitted or effective & ~permitted:
            raise Errno(errno.EPERM)
        self.caps = CapSets(effective, permitted, inheritable, old.bounding,
                            old.ambient & permitted & inheritable)

    def execve(self) -> None:
        """What an execve of a program without file capabilities or set-id bits does
        (cap_bprm_creds_from_file): saved and fs ids follow the effective ones; a process
        with a root real or effective uid gets its bounding and inheritable sets as
        permitted (effective too with euid 0), any other keeps only its ambient set;
        keepcaps is cleared. For the execve handler of the process work to call."""
        caps = self.caps
        if 0 in (self.ruid, self.euid):
            permitted = (caps.bounding | caps.inheritable) & CAP_FULL_SET
            effective = permitted if self.euid == 0 else 0
            caps = caps._replace(permitted=permitted, effective=effective, ambient=0)
        else:
            caps = caps._replace(permitted=caps.ambient, effective=caps.ambient)
        self.caps = caps
        self.suid = self.uid = self.euid
        self.sgid = self.gid = self.egid
        self.keepcaps = False

    def set_ambient(self, ambient: int) -> None:
        """PR_CAP_AMBIENT: only what is both permitted and inheritable may be raised."""
        if ambient & ~self.caps.ambient & ~(self.caps.permitted & self.caps.inheritable):
            raise Errno(errno.EPERM)
        self.caps = self.caps._replace(ambient=ambient)

    def drop_bounding(self, cap: int) -> None:
        """PR_CAPBSET_DROP: needs CAP_SETPCAP."""
        if not self.capable(CAP_SETPCAP):
            raise Errno(errno.EPERM)
        self.caps = self.caps._replace(bounding=self.caps.bounding & ~(1 << cap))


def check_id(value: int) -> None:
    """(uid_t)-1 is no id; every other 32-bit value maps in the initial namespace."""
    if value == UNCHANGED:
        raise Errno(errno.EINVAL)
