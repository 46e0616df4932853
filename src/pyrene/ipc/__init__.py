"""RPC between library-OS instances and the namespace leader (DESIGN.md decision 1)."""
