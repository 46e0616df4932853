"""Command line: `pyrene run [options] [--] PROG [ARGS...]`, `pyrene manifest check|render`,
`pyrene syscalls`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .errors import PyreneError
from .log import LEVELS, flush_stdio, setup

if TYPE_CHECKING:
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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the subcommand the arguments start with, only
    that one is added: each costs ~1 ms (argparse asks gettext for a translation of
    every string), felt in a `pyrene run /bin/true`. `pyrene --help` and an unknown
    subcommand need them all (`command` None)."""
    parser = argparse.ArgumentParser(prog="pyrene", description="Run Linux x86-64 programs on a library OS in Python.")
    parser.add_argument("--version", action="version", version=f"pyrene {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, add in SUBCOMMANDS.items():
        if command in (None, name):
            add(sub)
    return parser


def _add_run(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    run = sub.add_parser("run", help="run a program in the sandbox", epilog=RUN_EPILOG,
                         usage="pyrene run [options] [--] PROG [ARGS...]\n"
                               "       pyrene run --manifest FILE [options] [--] [ARGS...]",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--manifest", metavar="FILE", help="TOML manifest, Gramine's keys (default: the embedded one)")
    run.add_argument("--rootfs", metavar="DIR", help="the host directory DIR as / (read-write)")
    run.add_argument("--mount", metavar="HOST:SANDBOX[:ro]", action="append", default=[],
                     help="mount a host path at SANDBOX (read-write unless :ro); repeatable")
    run.add_argument("--tmpfs", metavar="PATH", action="append", default=[], help="a fresh tmpfs at PATH; repeatable")
    run.add_argument("--env", metavar="K=V", action="append", default=[],
                     help="set K in the app's environment (K alone: the host's value); repeatable")
    run.add_argument("--cwd", metavar="PATH", help="the app's start directory (a sandbox path)")
    run.add_argument("--pts", action="store_true",
                     help="grant new pseudo-terminals: /dev/ptmx (pyrene.dev.pts = true)")
    run.add_argument("--log-level", choices=list(LEVELS), default=None,
                     help="Gramine log levels; default: loader.log_level, else error")
    run.add_argument("--log-file", metavar="FILE", help="write Pyrene's log here instead of stderr")
    run.add_argument("--trace", nargs="?", const="-", metavar="FILE",
                     help="strace-like lines of every syscall, to FILE or stderr (never stdout)")
    run.add_argument("--cpu", type=int, help="pin the instance and its app to this CPU")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="PROG ARGS")


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


SUBCOMMANDS = {"run": _add_run, "manifest": _add_manifest, "syscalls": _add_syscalls}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None).parse_args(argv)
    try:
        if args.command == "syscalls":
            return list_syscalls(args.json)
        if args.command == "manifest":
            return manifest_command(args)
        return run_command(args)
    except PyreneError as exc:
        print(str(exc), file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


def entry() -> NoReturn:
    """The `pyrene` command: main's status, without the interpreter's teardown. Freeing
    every module and object at exit takes ~30 ms, a sixth of `pyrene run /bin/true`, and
    frees nothing that matters: by then the sandbox is gone and its files removed."""
    code = main()
    logging.shutdown()
    flush_stdio()
    os._exit(code)


def load_manifest(path: str) -> "Manifest":
    """The manifest at `path`, its warnings printed (to stderr, one line each)."""
    from .manifest.load import load_file

    result = load_file(path)
    for w in result.warnings:
        print(w, file=sys.stderr)
    return result.manifest


def run_command(args: argparse.Namespace) -> int:
    from .manifest.default import default_manifest
    from .manifest.overrides import Overrides, apply, program_argv
    from .sandbox import RunOptions, run

    cmdline = list(args.argv)
    if cmdline[:1] == ["--"]:
        cmdline = cmdline[1:]
    manifest = load_manifest(args.manifest) if args.manifest else default_manifest()
    overrides = Overrides(rootfs=args.rootfs, mounts=tuple(args.mount), tmpfs=tuple(args.tmpfs),
                          env=tuple(args.env), cwd=args.cwd, pts=args.pts, is_default=not args.manifest)
    manifest = apply(manifest, overrides)
    setup(args.log_level or manifest.log_level, args.log_file or manifest.log_file)
    argv = program_argv(manifest, cmdline)
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
