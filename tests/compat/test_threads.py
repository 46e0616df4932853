"""Threads (CLONE_THREAD): tasks of one instance, natively and under Pyrene.

Each program runs natively and under `pyrene run` and must agree (testing/compare.py).
"""

from __future__ import annotations

import pytest

from pyrene.testing.compare import assert_same


@pytest.mark.parametrize("link", ["dynamic", "static"])
def test_pthreads(cbuild, tmp_path, link):
    """pthread_create/join, mutex+condvar, a thread blocked in read() while main runs,
    gettid, pthread_kill/raise, detach, TLS, /proc/self/task, fork from a thread, exit()
    from a thread, the leader exiting first, a fatal signal, execve from a thread."""
    assert_same([cbuild("threads.c", link=link)], cwd=tmp_path)


def test_thread_self_names_the_calling_thread(cbuild, tmp_path):
    """/proc/thread-self is "<pid>/task/<tid>" of the calling thread, and task/TID/status
    says Pid: TID, in the main thread and in a second one."""
    out = assert_same([cbuild("thread_self.c")], cwd=tmp_path)
    assert out.stdout.count(b" 1\n") == 4


PYTHON_THREADS = r"""
import queue, threading, time
from concurrent.futures import ThreadPoolExecutor

with ThreadPoolExecutor(max_workers=4) as pool:
    print(list(pool.map(lambda n: n * n, range(20))))

q = queue.Queue()
def producer():
    for i in range(200):
        q.put(i)
    q.put(None)
got = []
def consumer():
    while (item := q.get()) is not None:
        got.append(item)
threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads: t.start()
for t in threads: t.join()
print(len(got), sum(got))

event = threading.Event()
print("wait with timeout:", event.wait(0.05))
threading.Timer(0.05, event.set).start()
print("set by a timer:", event.wait(10))

sleeper_done = []
sleeper = threading.Thread(target=lambda: (time.sleep(0.3), sleeper_done.append(1)))
sleeper.start()
work = sum(i * i for i in range(100000))  # main works while the other thread sleeps
print("main worked:", work, "sleeper done yet:", bool(sleeper_done))
sleeper.join()
print("sleeper done:", bool(sleeper_done), threading.active_count())
"""


def test_python_threading(need, tmp_path):
    python = need("/usr/bin/python3.11", "python3.11")
    assert_same([python, "-c", PYTHON_THREADS], cwd=tmp_path)


@pytest.mark.parametrize(
    "script",
    [
        "seq 200000 | sort -r --parallel=2 -S 1M | md5sum",
        "seq 200000 > in.txt; xz -T2 -c in.txt | md5sum; xz -T2 -c in.txt | xz -d -T2 | tail -1",
    ],
    ids=["sort-parallel", "xz-threads"],
)
def test_threaded_programs(need, tmp_path, script):
    bash = need("/bin/bash", "bash")
    need("/usr/bin/xz", "xz-utils")
    assert_same([bash, "-c", script], cwd=tmp_path)
