"""An instance's end of its connection to the leader.

Process creation and exit talk to the leader, and so do /proc of other processes and
the rare events that change what it shows (execve, a new name or identity, a reaped
child), file locks and System V IPC; the syscall hot path never does.
"""

from __future__ import annotations

import socket

from ..errors import Blocked, Errno
from .messages import MAX_MESSAGE, Message, SharedCall, SharedReply, decode, encode


class LeaderClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

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

    def call(self, vpid: int, tid: int, op: str, args: tuple[object, ...], wait: bool = False) -> tuple[object, list[int]]:
        """A shared-state operation in the leader (ipc/shared.py): (value, host fds);
        raises Errno, or Blocked when it must wait. `vpid` is for the in-process
        port's sake: the leader knows who we are from the socket."""
        self.send(SharedCall(op, args, tid, wait))
        data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_MESSAGE, 4)
        if not data:
            raise ConnectionError("the namespace leader is gone")
        reply = decode(data)
        assert isinstance(reply, SharedReply)
        if reply.errno:
            raise Errno(reply.errno)
        if reply.blocked:
            raise Blocked()
        return reply.value, fds


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """(leader's end, instance's end), close-on-exec, message boundaries kept."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
