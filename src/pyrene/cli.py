"""Command line: `pyrene run [options] [--] PROG [ARGS...]`, `pyrene manifest check|render`,
`pyrene syscalls`."""

from __future__ import annotations

import gc
import os
import sys

from . import __version__
from .errors import PyreneError
from .log import LEVELS, flush_stdio, setup, shutdown as shutdown_logging
from .record import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (docs/architecture.md, "Startup")
if TYPE_CHECKING:
    import argparse
    from typing import NoReturn

    from .manifest.schema import Manifest


RUN_EPILOG = """\
With --manifest, the program is the manifest's libos.entrypoint and ARGS are allowed only
if it sets loader.insecure__use_cmdline_argv = true. Without it, the embedded default
applies: host / read-only, the current directory read-write, a private /tmp, /proc, /dev.

Flags win over the manifest: --rootfs replaces the mount at / (and, with the default
manifest, drops the current-directory mount and starts in /); a --mount or --tmpfs at a
path the manifest already mounts replaces that mount, others go on top; --env sets a
variable over loader.env (--env K alone passes the host's K through); --cwd sets
fs.start_dir; --pts sets pyrene.dev.pts. See docs/manifest.md.
"""


RUN_USAGE = """\
usage: pyrene run [options] [--] PROG [ARGS...]
       pyrene run --manifest FILE [options] [--] [ARGS...]
"""


class RunOption(NamedTuple):
    """One option of `pyrene run`: `metavar` None for a flag, "[=X]" for a value given
    only as `--name=X` ("-" without one); `repeat`: each use adds a value."""

    metavar: str | None
    help: str
    repeat: bool = False


RUN_OPTIONS = {
    "manifest": RunOption("FILE", "TOML manifest, Gramine's keys (default: the embedded one)"),
    "rootfs": RunOption("DIR", "the host directory DIR as / (read-write)"),
    "mount": RunOption("HOST:SANDBOX[:ro]", "mount a host path at SANDBOX (read-write unless :ro); repeatable", True),
    "tmpfs": RunOption("PATH", "a fresh tmpfs at PATH; repeatable", True),
    "env": RunOption("K=V", "set K in the app's environment (K alone: the host's value); repeatable", True),
    "cwd": RunOption("PATH", "the app's start directory (a sandbox path)"),
    "pts": RunOption(None, "grant new pseudo-terminals: /dev/ptmx (pyrene.dev.pts = true)"),
    "log-level": RunOption("L", f"Gramine log levels ({', '.join(LEVELS)}); default: loader.log_level, else error"),
    "log-file": RunOption("FILE", "write Pyrene's log here instead of stderr"),
    "trace": RunOption("[=FILE]", "strace-like lines of every syscall, to FILE or stderr (never stdout)"),
    "cpu": RunOption("N", "pin the instance and its app to CPU N (default: spread by pid)"),
}


class RunArgs(NamedTuple):
    """`pyrene run`'s command line: the options, then the program and its arguments."""

    argv: list[str]
    manifest: str | None = None
    rootfs: str | None = None
    mount: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    cwd: str | None = None
    pts: bool = False
    log_level: str | None = None
    log_file: str | None = None
    trace: str | None = None
    cpu: int | None = None


class UsageError(Exception):
    """A bad `pyrene run` command line (exit 2, as argparse's errors)."""


class ShowHelp(Exception):
    """`pyrene run --help`."""


def parse_run(args: list[str]) -> RunArgs:
    """The arguments after `run`. Options come first: `--name VALUE`, `--name=VALUE`, or a
    unique prefix of the name; the first word that is not an option, or what follows
    `--`, is the program. `--trace` takes a file only as `--trace=FILE`, so that
    `pyrene run --trace ls -l` traces ls. (By hand rather than argparse: building
    argparse's parser took ~7 ms of every `pyrene run`, gettext lookups and the import
    of shutil for the terminal's width.)"""
    values: dict[str, object] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg in ("-h", "--help"):
            raise ShowHelp
        if not arg.startswith("-") or arg == "-":
            break
        name, has_value, value = arg[2:].partition("=")
        if not arg.startswith("--") or not name:
            raise UsageError(f"unrecognized option: {arg}")
        name = _run_option(name)
        option = RUN_OPTIONS[name]
        key = name.replace("-", "_")
        if option.metavar is None:
            if has_value:
                raise UsageError(f"option --{name} takes no value")
            values[key] = True
            i += 1
            continue
        if option.metavar.startswith("[="):
            value = value if has_value else "-"
        elif not has_value:
            i += 1
            if i == len(args):
                raise UsageError(f"option --{name} needs a value: {option.metavar}")
            value = args[i]
        if option.repeat:
            values[key] = (*values.get(key, ()), value)  # type: ignore[misc]
        else:
            values[key] = _run_value(name, value)
        i += 1
    return RunArgs(argv=args[i:], **values)  # type: ignore[arg-type]


def _run_option(name: str) -> str:
    """The option `name` is, or is the unique prefix of."""
    if name in RUN_OPTIONS:
        return name
    matches = [o for o in RUN_OPTIONS if o.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"ambiguous option: --{name} could be {', '.join('--' + m for m in matches)}")
    raise UsageError(f"unrecognized option: --{name}")


def _run_value(name: str, value: str) -> object:
    if name == "cpu":
        try:
            return int(value)
        except ValueError:
            raise UsageError(f"option --cpu: not a CPU number: {value!r}") from None
    if name == "log-level" and value not in LEVELS:
        raise UsageError(f"option --log-level: {value!r} is not one of {', '.join(LEVELS)}")
    return value


def run_help() -> str:
    lines = [RUN_USAGE, "Run a program in the sandbox.", "", "options:"]
    for name, option in RUN_OPTIONS.items():
        flag = f"--{name}" + ("" if option.metavar is None else
                              option.metavar if option.metavar.startswith("[=") else f" {option.metavar}")
        lines.append(f"  {flag:<28}{option.help}" if len(flag) < 28 else f"  {flag}\n  {'':<28}{option.help}")
    return "\n".join(lines) + "\n\n" + RUN_EPILOG


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand but `run`, which it only lists: a command line
    whose first word is not `run` cannot name it (the top level's only options, -h and
    --version, exit), and `main` hands those that do to parse_run."""
    import argparse

    parser = argparse.ArgumentParser(prog="pyrene", description="Run Linux x86-64 programs on a library OS in Python.")
    parser.add_argument("--version", action="version", version=f"pyrene {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run a program in the sandbox (pyrene run --help)", add_help=False)
    _add_manifest(sub)
    _add_syscalls(sub)
    return parser


def _add_manifest(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    manifest = sub.add_parser("manifest", help="check or render manifests")
    msub = manifest.add_subparsers(dest="manifest_command", required=True)
    check = msub.add_parser("check", help="validate a manifest: errors and warnings, exit 0 or 2")
    check.add_argument("file", metavar="FILE")
    render = msub.add_parser("render", help="render a Jinja2 manifest template, as gramine-manifest does")
    render.add_argument("template", metavar="TEMPLATE")
    render.add_argument("-D", "--define", metavar="NAME=VALUE", action="append", default=[],
                        help="define a template variable; repeatable")
    render.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")


def _add_syscalls(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    syscalls = sub.add_parser("syscalls", help="list the syscalls Pyrene implements")
    syscalls.add_argument("--json", action="store_true")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["run"]:  # without building argparse's parser: every `pyrene run` starts here
            return run_command(parse_run(argv[1:]))
        args = build_parser().parse_args(argv)
        if args.command == "syscalls":
            return list_syscalls(args.json)
        return manifest_command(args)
    except ShowHelp:
        sys.stdout.write(run_help())
        return 0
    except UsageError as exc:
        print(f"{RUN_USAGE}pyrene run: error: {exc}", file=sys.stderr)
        return 2
    except PyreneError as exc:
        print(str(exc), file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


def entry() -> NoReturn:
    """The `pyrene` command: main's status, without the interpreter's teardown. Freeing
    every module and object at exit takes ~30 ms, a sixth of `pyrene run /bin/true`, and
    frees nothing that matters: by then the sandbox is gone and its files removed.

    The start runs without the cyclic garbage collector: loading the modules is ~20
    collections that find nothing (~4 ms). The leader turns it back on when it forks
    the first instance (ipc/leader.py)."""
    gc.disable()
    code = main()
    shutdown_logging()
    flush_stdio()
    os._exit(code)


def load_manifest(path: str) -> "Manifest":
    """The manifest at `path`, its warnings printed (to stderr, one line each)."""
    from .manifest.load import load_file

    result = load_file(path)
    for w in result.warnings:
        print(w, file=sys.stderr)
    return result.manifest


def run_command(args: RunArgs) -> int:
    from .manifest.default import default_manifest
    from .manifest.overrides import Overrides, apply, program_argv
    from .sandbox import RunOptions, run

    manifest = load_manifest(args.manifest) if args.manifest else default_manifest()
    overrides = Overrides(rootfs=args.rootfs, mounts=args.mount, tmpfs=args.tmpfs,
                          env=args.env, cwd=args.cwd, pts=args.pts, is_default=not args.manifest)
    manifest = apply(manifest, overrides)
    setup(args.log_level or manifest.log_level, args.log_file or manifest.log_file)
    argv = program_argv(manifest, args.argv)
    return run(RunOptions(argv=argv, manifest=manifest, strace_file=args.trace, cpu=args.cpu))


def manifest_command(args: argparse.Namespace) -> int:
    if args.manifest_command == "render":
        from .manifest.render import parse_defines, render

        text = render(args.template, parse_defines(args.define))
        if args.output:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        return 0
    from .sandbox import check

    setup("error")
    check(load_manifest(args.file))
    print(f"{args.file}: OK")
    return 0


def list_syscalls(as_json: bool) -> int:
    import json

    from .abi import sysnum
    from .kernel.table import SyscallTable
    from .syscalls import all_modules

    table = SyscallTable.build(all_modules())
    rows = []
    for number, name in sysnum.SYSCALLS:
        spec = table.entries[number]
        rows.append({"number": number, "name": name, "support": spec.support if spec else "none",
                     "note": spec.note if spec else ""})
    if as_json:
        json.dump(rows, sys.stdout, indent=1)
        print()
    else:
        for r in rows:
            if r["support"] != "none":
                print(f"{r['number']:4} {r['name']:24} {r['support']:8} {r['note']}")
        print(f"{sum(r['support'] != 'none' for r in rows)} of {len(rows)} syscalls implemented")
    return 0
