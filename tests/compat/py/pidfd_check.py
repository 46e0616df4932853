"""pidfds: poll until a child exits, waitid(P_PIDFD), pidfd_send_signal, the errors."""
import errno
import os
import select
import signal
import time

def child(code):
    pid = os.fork()
    if pid == 0:
        time.sleep(0.2)
        os._exit(code)
    return pid

pid = child(7)
fd = os.pidfd_open(pid)
print("cloexec", not os.get_inheritable(fd))
p = select.poll()
p.register(fd, select.POLLIN)
print("ready before exit", p.poll(0))
print("ready after exit", [(f == fd, ev) for f, ev in p.poll(5000)])
info = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("waitid", info.si_pid == pid, info.si_code == os.CLD_EXITED, info.si_status)
os.close(fd)

pid = os.fork()
if pid == 0:
    signal.pause()
    os._exit(0)
fd = os.pidfd_open(pid, os.PIDFD_NONBLOCK if hasattr(os, "PIDFD_NONBLOCK") else 0o4000)
try:
    os.waitid(os.P_PIDFD, fd, os.WEXITED)
except BlockingIOError:
    print("non-blocking waitid: EAGAIN")
signal.pidfd_send_signal(fd, signal.SIGTERM)
select.select([fd], [], [], 5)
info = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("killed", info.si_pid == pid, info.si_code == os.CLD_KILLED, info.si_status == signal.SIGTERM)
for what, call in [("send to the dead", lambda: signal.pidfd_send_signal(fd, signal.SIGTERM)),
                   ("waitid again", lambda: os.waitid(os.P_PIDFD, fd, os.WEXITED)),
                   ("no such pid", lambda: os.pidfd_open(99999)),
                   ("bad flags", lambda: os.pidfd_open(os.getpid(), 1)),
                   ("not a pidfd", lambda: signal.pidfd_send_signal(0, 0)),
                   ("read", lambda: os.read(fd, 8))]:
    try:
        call()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
me = os.pidfd_open(os.getpid())
signal.pidfd_send_signal(me, 0)
print("own pidfd, signal 0: ok; not our child:", end=" ")
try:
    os.waitid(os.P_PIDFD, me, os.WEXITED | os.WNOHANG)
except ChildProcessError:
    print("ECHILD")
