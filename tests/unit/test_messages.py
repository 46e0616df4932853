"""The leader's wire format (ipc/messages.py): every message comes back as it went, the
common ones without pickle, and nothing but a message is ever built."""

from __future__ import annotations

import marshal
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pyrene.ipc import messages as m
from pyrene.ipc.sysv import IpcPerm

SRC = Path(__file__).resolve().parents[2] / "src"

FACTS = m.Facts(("ls", "-l"), ("A=1",), "ls", "/bin/ls", (0, 0, 0, 0), (0, 0, 0, 0), (1, 2), (1, 2, 3, 4, 5), False, 1)
SAMPLES = [
    m.NewProcess(1, 4242, -1), m.PidGiven(2), m.Refused(11, "limit"), m.Started(1, 10, 11), m.Exited(1, 0, 0),
    m.Describe(1, FACTS), m.Noted(), m.Reaped(3), m.ListProcesses(), m.ProcessList((1, 2, 3)),
    m.DescribeProcess(2, 99), m.ProcessDescription(2, 1, 77, 1, 1, False, FACTS), m.ProcessDescription(5),
    m.NewThread(1, 88), m.ThreadExited(4), m.SignalQuery(1, -1, signal.SIGTERM, 0),
    m.Targets(0, ((2, 77, 70), (3, 78, 71)), 0), m.GroupQuery(1, 2, 0), m.SetGroup(1, 2, 2, False, True),
    m.Ids(0, 1, 1, 77, 77), m.DeathSignal(2, signal.SIGKILL),
    m.SharedCall("msgget", (5, 0o600), 3, True), m.SharedReply(IpcPerm(1, 0, 0, 0, 0, 0o600, 0)),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda msg: type(msg).__name__)
def test_every_message_comes_back_as_it_went(msg):
    back = m.decode(m.encode(msg))
    assert type(back) is type(msg) and back == msg
    assert type(getattr(back, "facts", None)) in (m.Facts, type(None))
    assert len(m.encode(msg)) < m.MAX_MESSAGE


def test_enum_values_go_as_plain_ints():
    back = m.decode(m.encode(m.SignalQuery(1, 2, signal.SIGTERM)))
    assert type(back.sig) is int and back.sig == 15


@pytest.mark.parametrize("data", [
    b"", b"x", b"m", b"m" + marshal.dumps(("Started", (1, 2, 3))), b"m" + marshal.dumps({"Evil": (1,)}),
    b"m" + marshal.dumps({"Started": [1, 2, 3]}), b"m" + marshal.dumps(42), b"m\xff\x00",
    b"p" + pickle.dumps(ValueError("x")),
])
def test_anything_else_is_refused(data):
    with pytest.raises((ValueError, pickle.UnpicklingError)):
        m.decode(data)


def test_the_common_messages_need_no_pickle():
    script = ("import sys; from pyrene.ipc import messages as m\n"
              "facts = m.Facts(('a',), (), 'a', '/a', (0,)*4, (0,)*4, (), (0,)*5, False, 1)\n"
              "assert m.decode(m.encode(m.Describe(1, facts))).facts == facts\n"
              "print('pickle' in sys.modules)")
    out = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC)})
    assert (out.returncode, out.stdout) == (0, "False\n"), out.stderr
