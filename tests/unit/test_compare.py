"""Unit tests of pyrene.testing.compare, run natively only (no sandbox)."""

from __future__ import annotations

import signal

import pytest

from pyrene.testing.compare import (
    Outcome,
    default_env,
    describe_difference,
    run_native,
)


def test_run_native_true_and_false():
    assert run_native(["true"]) == Outcome(0, b"", b"")
    assert run_native(["false"]).returncode == 1


def test_run_native_captures_both_streams(tmp_path):
    result = run_native(
        ["sh", "-c", "echo out; echo err >&2; cat; pwd; exit 3"],
        input=b"in\n",
        cwd=tmp_path,
        env=default_env(),
    )
    assert result == Outcome(3, f"out\nin\n{tmp_path}\n".encode(), b"err\n")


def test_outcome_is_frozen():
    with pytest.raises(AttributeError):
        Outcome(0, b"", b"").returncode = 1  # type: ignore[misc]


def test_status_of_a_signal_death():
    result = run_native(["sh", "-c", "kill -TERM $$"])
    assert result.returncode == -signal.SIGTERM
    assert result.status == 128 + signal.SIGTERM
    assert Outcome(143, b"", b"").status == 143


def test_same_outcomes_have_no_difference():
    a = run_native(["true"])
    assert describe_difference(a, run_native(["true"])) == ""
    # A signal death and the shell's 128+N status are the same thing.
    assert describe_difference(Outcome(-15, b"", b""), Outcome(143, b"", b"")) == ""


def test_difference_is_readable():
    native = Outcome(0, b"one\ntwo\nthree\n", b"")
    other = Outcome(1, b"one\n2\nthree\n", b"warning\n")
    text = describe_difference(native, other)
    assert "exit status: native 0" in text and "pyrene 1" in text
    assert "-two\n+2\n" in text
    assert "stderr differs" in text and "+warning" in text


def test_difference_in_bytes_only():
    text = describe_difference(Outcome(0, b"a\xff", b""), Outcome(0, b"a\\xff", b""))
    assert "stdout differs" in text


def test_default_env_is_fixed_and_extendable():
    env = default_env(FOO="bar")
    assert env["LC_ALL"] == "C" and env["FOO"] == "bar"
    assert "PYTHONPATH" in env
    assert default_env() == default_env()
