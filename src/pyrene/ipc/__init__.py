"""Sandbox-global IPC state (System V message queues, semaphores, shared memory).

Everything here takes plain values and returns plain values or raises Errno, never a
Task, so that the state can move to the namespace leader behind an RPC call (DESIGN.md
decision 1) without changing the handlers in syscalls/ipc.py.
"""
