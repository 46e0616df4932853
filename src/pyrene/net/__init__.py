"""Sockets of the sandbox. Only AF_UNIX exists (unix.py); no network is granted yet."""
