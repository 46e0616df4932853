"""The credential rules that no native-vs-Pyrene program can reach yet: what execve does
to ids and capabilities (execve of a new program arrives with the process work). The
set*id and capability rules themselves are tested natively vs Pyrene by
tests/compat/c/creds.c."""

from __future__ import annotations

from pyrene.abi.flags import CAP_CHOWN, CAP_SETUID
from pyrene.kernel.creds import CAP_FULL_SET, CapSets, Creds

CHOWN = 1 << CAP_CHOWN


def test_execve_as_root_restores_dropped_capabilities():
    c = Creds.initial(0, 0, (), CapSets(CAP_FULL_SET, CAP_FULL_SET, 0, CAP_FULL_SET & ~CHOWN))
    c.capset(0, 1 << CAP_SETUID, 0)
    c.keepcaps = True
    c.execve()
    assert c.caps.permitted == c.caps.effective == CAP_FULL_SET & ~CHOWN  # the bounding set
    assert not c.keepcaps


def test_execve_with_root_real_uid_only():
    c = Creds.initial(0, 0, (), None)
    c.setresuid(0, 1000, 1000)
    c.execve()
    assert c.caps.permitted == CAP_FULL_SET and c.caps.effective == 0
    assert (c.ruid, c.euid, c.suid, c.uid) == (0, 1000, 1000, 1000)


def test_execve_unprivileged_keeps_nothing_and_saved_follows_effective():
    c = Creds.initial(0, 0, (), None)
    c.keepcaps = True
    c.setresuid(1000, 1000, 1000)
    assert c.caps.permitted == CAP_FULL_SET  # kept over the drop of root...
    c.setresuid(1000, 1000, 1000)
    c.setfsuid(1000)
    c.execve()
    assert c.caps.permitted == c.caps.effective == 0  # ...but not over an execve
