"""Human-readable output about what the app does: strace lines, the support table."""
