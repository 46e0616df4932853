"""Nothing left behind": the host processes a test leaves, found and reaped.

The test process is made a child subreaper while a test runs, so anything Pyrene leaves
behind (an instance, a stub, an app process, a zombie) stays its descendant whoever its
parent was. `watch` fails the test if one remains once the test is done (dead processes
re-parented to us, because a test killed Pyrene, are reaped first).
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_CHILD_SUBREAPER = 36


def descendants(pid: int) -> set[int]:
    """Every live or zombie host process below `pid`."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = {int(k) for k in f.read().split()}
        except OSError:
            continue
        out |= kids
        todo.extend(kids)
    return out


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0]
    except OSError:
        return "gone"


@contextmanager
def watch(grace: float = 5.0) -> Iterator[None]:
    """Raise AssertionError if the body leaves host processes behind (after `grace`
    seconds for them to end)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    before = descendants(os.getpid())
    try:
        yield
    finally:
        deadline = time.monotonic() + grace
        while True:
            left = descendants(os.getpid()) - before
            for pid in list(left):
                # a process whose parent died (Pyrene killed on purpose) is re-parented to
                # us and ours to reap, once dead; a zombie whose parent lives is not
                try:
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        left.discard(pid)
                except ChildProcessError:
                    pass
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    if left:
        raise AssertionError(f"host processes left behind (pid: state): { {p: _state(p) for p in left} }")
