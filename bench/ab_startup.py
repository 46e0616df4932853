#!/usr/bin/env python3
"""A/B of Pyrene source trees on `pyrene run /bin/true`, interleaved run by run.

    python3 bench/ab_startup.py TREE [TREE...] [--runs R] [--python EXE]... [--cpu N]

A tree is a checkout (its `src` goes on PYTHONPATH), e.g. one made with
`git archive COMMIT src | tar -x -C /var/tmp/before`; each is byte-compiled first, as
run.py does. Each tree runs `EXE -m pyrene run -- /bin/true` R times, the trees
alternating with `EXE -c pass` (the interpreter's own start, for reference); with
several `--python`, every tree runs under each of them, all interleaved; all pinned
to one CPU as run.py pins, so that the other load of a shared machine falls on all
alike. Prints the median and min wall time and the median CPU time (user+system of
the whole process tree, the steadier figure when other work competes). Stdlib only.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of `argv`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{argv} failed ({out.returncode}): {out.stderr[-500:]!r}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--python", action="append",
                        help="an interpreter that runs Pyrene; repeatable (default: python3 on PATH)")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    pythons = args.python or [os.environ.get("PYTHON", "python3")]
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for python in pythons:
        suffix = f", {python}" if len(pythons) > 1 else ""
        commands["interpreter (-c pass)" + suffix] = ([python, "-c", "pass"], dict(os.environ))
        for tree in args.trees:
            src = Path(tree) / "src"
            compileall.compile_dir(src / "pyrene", quiet=1)
            commands[tree + suffix] = ([python, "-m", "pyrene", "run", "--", "/bin/true"],
                                       dict(os.environ, PYTHONPATH=str(src)))
    for argv, env in commands.values():  # warm-up: page cache, byte code
        run_once(argv, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (argv, env) in commands.items():
            samples[name].append(run_once(argv, env))
    print(f"{', '.join(pythons)}, {args.runs} runs each, CPU {args.cpu}: wall median (min), CPU median, ms")
    for name, runs in samples.items():
        walls = [w * 1e3 for w, _ in runs]
        cpus = [c * 1e3 for _, c in runs]
        print(f"  {statistics.median(walls):7.1f} ({min(walls):6.1f})  {statistics.median(cpus):7.1f}  {name}")


if __name__ == "__main__":
    main()
