"""`pyrene run`'s command line (cli.parse_run): options first, then the program."""

from __future__ import annotations

import pytest

from pyrene.cli import RunArgs, ShowHelp, UsageError, parse_run, run_help


def test_options_then_the_program_and_its_own_options():
    args = parse_run(["--log-level", "debug", "--mount", "/a:/b:ro", "--mount=/c:/d", "--trace", "--cpu=1",
                      "--pts", "ls", "-l", "--trace"])
    assert args == RunArgs(argv=["ls", "-l", "--trace"], mount=("/a:/b:ro", "/c:/d"), log_level="debug",
                           trace="-", cpu=1, pts=True)


def test_trace_takes_a_file_only_after_an_equals_sign():
    assert parse_run(["--trace", "ls", "-l"]) == RunArgs(argv=["ls", "-l"], trace="-")
    assert parse_run(["--trace=t.txt", "--", "-x"]) == RunArgs(argv=["-x"], trace="t.txt")


def test_double_dash_ends_the_options_and_a_unique_prefix_names_one():
    assert parse_run(["--man", "m.toml", "--", "--env", "x"]) == RunArgs(argv=["--env", "x"], manifest="m.toml")
    assert parse_run(["--env", "A=1", "--env=B"]) == RunArgs(argv=[], env=("A=1", "B"))
    assert parse_run(["-"]) == RunArgs(argv=["-"])  # a program named "-"


@pytest.mark.parametrize(("argv", "message"), [
    (["--nope", "ls"], "unrecognized option: --nope"),
    (["-x", "ls"], "unrecognized option: -x"),
    (["--log", "x"], "ambiguous option: --log could be --log-level, --log-file"),
    (["--manifest"], "option --manifest needs a value: FILE"),
    (["--pts=1", "ls"], "option --pts takes no value"),
    (["--cpu", "one", "ls"], "option --cpu: not a CPU number: 'one'"),
    (["--log-level", "loud", "ls"], "option --log-level: 'loud' is not one of none, error, warning, debug, trace, all"),
])
def test_bad_command_lines_say_what_is_wrong(argv, message):
    with pytest.raises(UsageError) as exc:
        parse_run(argv)
    assert str(exc.value) == message


def test_help_lists_every_option():
    with pytest.raises(ShowHelp):
        parse_run(["--cpu", "0", "--help", "ls"])
    text = run_help()
    for flag in ("--manifest FILE", "--mount HOST:SANDBOX[:ro]", "--trace[=FILE]", "--pts ", "--cpu N"):
        assert flag in text
