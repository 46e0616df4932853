"""ptrace + seccomp mechanics: registers, memory, stops. No Linux semantics here."""
