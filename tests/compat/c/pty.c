/* Pseudo-terminals: posix_openpt/grantpt/unlockpt/ptsname, the slave opened by name and by
 * openpty (TIOCGPTPEER), data both ways in raw mode, window sizes, ttyname, isatty, the lock.
 * Pty numbers differ between runs, so only their relations are printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

static void raw(int fd) {
    struct termios t;
    CHECK(tcgetattr(fd, &t));
    cfmakeraw(&t);
    CHECK(tcsetattr(fd, TCSANOW, &t));
}

static void transfer(const char *what, int from, int to, const char *msg) {
    char buf[64] = {0};
    CHECK(write(from, msg, strlen(msg)));
    ssize_t n = read(to, buf, sizeof buf - 1);  /* blocks until the line discipline passes it on */
    printf("%s: %zd \"%s\"\n", what, n, buf);
}

static void pair(const char *how, int master, int slave, const char *name) {
    printf("-- %s\n", how);
    printf("isatty master %d slave %d\n", isatty(master), isatty(slave));
    struct stat sl, sn;
    CHECK(fstat(slave, &sl));
    CHECK(stat(name, &sn));
    printf("slave is a char device %d, stat by name matches fstat %d\n", S_ISCHR(sl.st_mode),
           sl.st_rdev == sn.st_rdev && sl.st_ino == sn.st_ino && sl.st_dev == sn.st_dev);
    char *tn = ttyname(slave);
    printf("ttyname(slave) == ptsname %d\n", tn != NULL && strcmp(tn, name) == 0);
    int n = -1;
    CHECK(ioctl(master, TIOCGPTN, &n));
    printf("TIOCGPTN matches the name %d\n", n >= 0 && atoi(name + strlen("/dev/pts/")) == n);

    struct winsize ws = {.ws_row = 33, .ws_col = 101}, got = {0};
    CHECK(ioctl(master, TIOCSWINSZ, &ws));
    CHECK(ioctl(slave, TIOCGWINSZ, &got));
    printf("winsize on slave %d x %d\n", got.ws_row, got.ws_col);
    ws.ws_row = 24; ws.ws_col = 80;
    CHECK(ioctl(slave, TIOCSWINSZ, &ws));
    CHECK(ioctl(master, TIOCGWINSZ, &got));
    printf("winsize on master %d x %d\n", got.ws_row, got.ws_col);

    raw(slave);
    transfer("slave -> master", slave, master, "hello master");
    transfer("master -> slave", master, slave, "hello slave");
    int avail = -1;
    CHECK(write(slave, "abc", 3));
    struct pollfd pfd = {.fd = master, .events = POLLIN};
    CHECK(poll(&pfd, 1, -1));
    CHECK(ioctl(master, FIONREAD, &avail));
    printf("FIONREAD %d\n", avail);
    char buf[8];
    CHECK(read(master, buf, sizeof buf));
}

int main(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0);
    CHECK(grantpt(master));
    int lock = -1;
    CHECK(ioctl(master, TIOCGPTLCK, &lock));
    printf("locked before unlockpt %d\n", lock);
    char *name = ptsname(master);
    printf("ptsname %s\n", name && strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : "?");
    CHECK(open(name, O_RDWR | O_NOCTTY));  /* still locked: EIO */
    CHECK(unlockpt(master));
    CHECK(ioctl(master, TIOCGPTLCK, &lock));
    printf("locked after unlockpt %d\n", lock);
    int slave = open(name, O_RDWR | O_NOCTTY);
    CHECK(slave >= 0);
    pair("posix_openpt", master, slave, name);
    CHECK(close(slave));
    CHECK(close(master));

    int m2, s2;
    char name2[64];
    struct winsize ws = {.ws_row = 10, .ws_col = 20};
    CHECK(openpty(&m2, &s2, name2, NULL, &ws));
    struct winsize got = {0};
    CHECK(ioctl(s2, TIOCGWINSZ, &got));
    printf("openpty winsize %d x %d\n", got.ws_row, got.ws_col);
    pair("openpty", m2, s2, name2);
    int peer = ioctl(m2, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(peer >= 0);
    printf("peer cloexec %d\n", (fcntl(peer, F_GETFD) & FD_CLOEXEC) != 0);
    char *pn = ttyname(peer);
    printf("ttyname(peer) == name %d\n", pn != NULL && strcmp(pn, name2) == 0);
    CHECK(close(peer));
    CHECK(close(s2));
    /* the slave closed: the master reads EIO (the kernel hangs the pair up) */
    char buf[8];
    CHECK(read(m2, buf, sizeof buf));
    CHECK(close(m2));
    return 0;
}
