"""An instance's end of its connection to the leader.

Process creation and exit talk to the leader, and so do /proc of other processes and
the rare events that change what it shows (execve, a new name or identity, a reaped
child); the syscall hot path never does.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from .messages import MAX_MESSAGE, Message, decode, encode


@dataclass(eq=False)
class LeaderClient:
    sock: socket.socket

    def send(self, msg: Message, fds: tuple[int, ...] = ()) -> None:
        if fds:
            socket.send_fds(self.sock, [encode(msg)], list(fds))
        else:
            self.sock.send(encode(msg))

    def request(self, msg: Message, fds: tuple[int, ...] = ()) -> Message:
        """Send `msg` and wait for the leader's answer (it answers at once)."""
        self.send(msg, fds)
        data = self.sock.recv(MAX_MESSAGE)
        if not data:
            raise ConnectionError("the namespace leader is gone")
        return decode(data)

    def close(self) -> None:
        self.sock.close()


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """(leader's end, instance's end), close-on-exec, message boundaries kept."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
