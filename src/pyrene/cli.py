"""Command line: `pyrene run [options] [--] PROG [ARGS...]`, `pyrene syscalls`."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import PyreneError
from .log import LEVELS, setup


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyrene", description="Run Linux x86-64 programs on a library OS in Python.")
    parser.add_argument("--version", action="version", version=f"pyrene {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a program in the sandbox")
    run.add_argument("--manifest", metavar="FILE", help="TOML manifest (default: the embedded one)")
    run.add_argument("--log-level", choices=list(LEVELS), default=None,
                     help="Gramine log levels; default: error")
    run.add_argument("--log-file", metavar="FILE", help="write Pyrene's log here instead of stderr")
    run.add_argument("--trace", nargs="?", const="-", metavar="FILE",
                     help="strace-like lines of every syscall, to FILE or stderr (never stdout)")
    run.add_argument("--cpu", type=int, help="pin the instance and its app to this CPU")
    run.add_argument("prog", metavar="PROG")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    syscalls = sub.add_parser("syscalls", help="list the syscalls Pyrene implements")
    syscalls.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "syscalls":
        return list_syscalls(args.json)
    return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    from .manifest.default import default_manifest
    from .sandbox import RunOptions, run

    if args.manifest:
        print("pyrene: --manifest: manifest files are not supported yet", file=sys.stderr)
        return 2
    manifest = default_manifest()
    setup(args.log_level or manifest.log_level, args.log_file)
    argv = [args.prog] + list(args.args)
    try:
        return run(RunOptions(argv=argv, manifest=manifest, strace_file=args.trace, cpu=args.cpu))
    except PyreneError as exc:
        print(str(exc), file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


def list_syscalls(as_json: bool) -> int:
    import json

    from .abi import sysnum
    from .kernel.table import SyscallTable
    from .syscalls import MODULES

    table = SyscallTable.build(MODULES)
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
