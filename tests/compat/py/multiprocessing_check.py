"""multiprocessing under each start method given: Pool, Queue, Process exit codes, shared memory."""
import multiprocessing as mp
import sys
from multiprocessing import shared_memory


def square(x):
    return x * x


def producer(q, n):
    for i in range(n):
        q.put(i)
    q.put(None)


def writer(name):
    shm = shared_memory.SharedMemory(name=name)
    shm.buf[:5] = b"hello"
    shm.close()


def exit_with(code):
    sys.exit(code)


def main(method):
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        print(method, "pool:", sum(pool.map(square, range(100))))
    q = ctx.Queue()
    p = ctx.Process(target=producer, args=(q, 50))
    p.start()
    got = []
    while (item := q.get()) is not None:
        got.append(item)
    p.join()
    print(method, "queue:", len(got), sum(got), p.exitcode)
    shm = shared_memory.SharedMemory(create=True, size=16)
    try:
        p = ctx.Process(target=writer, args=(shm.name,))
        p.start()
        p.join()
        print(method, "shared_memory:", bytes(shm.buf[:5]))
    finally:
        shm.close()
        shm.unlink()
    codes = []
    for code in (0, 3):
        p = ctx.Process(target=exit_with, args=(code,))
        p.start()
        p.join()
        codes.append(p.exitcode)
    print(method, "exit codes:", codes)


if __name__ == "__main__":
    for method in sys.argv[1:]:
        main(method)
