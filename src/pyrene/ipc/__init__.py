"""What is global to the sandbox: RPC between library-OS instances and the namespace
leader (leader.py, client.py, messages.py; DESIGN.md decision 1), and the state the
leader holds for all processes (shared.py): file locks and System V IPC (sysv.py), which
take and return plain values, never a Task.
"""
