"""What is global to the sandbox: RPC between library-OS instances and the namespace
leader (leader.py, client.py, messages.py; DESIGN.md decision 1), and System V IPC
state (sysv.py), which takes and returns plain values, never a Task, so that it can move
to the leader behind an RPC call without changing the handlers in syscalls/ipc.py.
"""
