#!/usr/bin/env python3
"""A/B of two Pyrene source trees on bench/proc_loop and path_loop, interleaved run by run.

    python3 bench/ab_proc_loop.py BEFORE_TREE AFTER_TREE [--fork N] [--exec N] [--stat N]
                                  [--open N] [--runs R]

A tree is a checkout (its `src` goes on PYTHONPATH), e.g. one made with
`git archive COMMIT src | tar -x -C /var/tmp/before`. For each loop, each tree runs
`python3 -m pyrene run -- bench/build/proc_loop MODE n` (path_loop for stat and open) for n=0 and n=N, R times, the
trees alternating, all pinned to one CPU as run.py pins (so the other load of a shared
machine falls on both alike); the cost per iteration is the slope of the medians, in
wall time and in the CPU time (user+system) of the whole process tree. Run
`bench/run.py` once first: it builds bench/build/proc_loop and path_loop. Stdlib only.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUILD = Path(__file__).resolve().parent / "build"
# loop mode -> the program that runs it (both print "N FAILS")
PROGRAMS = {"fork": BUILD / "proc_loop", "exec": BUILD / "proc_loop", "stat": BUILD / "path_loop",
            "open": BUILD / "path_loop"}


def run_once(tree: str, mode: str, n: int) -> tuple[float, float]:
    """(wall, cpu) seconds of one `pyrene run -- PROGRAM MODE n` with `tree`'s sources."""
    env = dict(os.environ, PYTHONPATH=str(Path(tree) / "src"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pyrene", "run", "--", str(PROGRAMS[mode]), mode, str(n)],
                         env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.stdout.split() != [str(n), "0"]:
        raise SystemExit(f"{tree}: {PROGRAMS[mode].name} {mode} {n} failed: {out.stdout!r} {out.stderr[-500:]!r}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--fork", type=int, default=200, help="N for fork+exit+wait")
    parser.add_argument("--exec", type=int, default=40, help="N for fork+exec+wait")
    parser.add_argument("--stat", type=int, default=0, help="N for stat of a deep path (path_loop; 0: skip)")
    parser.add_argument("--open", type=int, default=0, help="N for open+close of it (0: skip)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    trees = {"before": args.before, "after": args.after}
    loops = {mode: n for mode, n in (("fork", args.fork), ("exec", args.exec), ("stat", args.stat),
                                      ("open", args.open)) if n}
    samples: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for mode, n_max in loops.items():
            for n in (0, n_max):
                for name, tree in trees.items():
                    samples.setdefault((name, mode, n), []).append(run_once(tree, mode, n))
    for mode, n_max in loops.items():
        for name in trees:
            slopes = []
            for i in (0, 1):  # wall, cpu
                hi = statistics.median(s[i] for s in samples[(name, mode, n_max)])
                lo = statistics.median(s[i] for s in samples[(name, mode, 0)])
                slopes.append((hi - lo) / n_max * 1e3)
            print(f"{mode:5s} {name:6s} {slopes[0] * 1e3:9.1f} us/iter wall, {slopes[1] * 1e3:9.1f} us/iter CPU "
                  f"(N={n_max}, {args.runs} runs each, CPU {args.cpu})")


if __name__ == "__main__":
    main()
