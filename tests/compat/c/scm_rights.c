/* Passing fds between a parent and a forked child over a socketpair (SCM_RIGHTS), for
 * SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET: a regular file (the child's read moves the
 * parent's offset: one open file description), a non-blocking pipe read end, the other
 * end of another socketpair, and a directory (openat through it). Then the cmsg rules:
 * MSG_CMSG_CLOEXEC, MSG_CTRUNC for a control buffer that is too small or absent, MSG_PEEK
 * (installs the fds too), read() (drops them), RLIMIT_NOFILE in the receiver, SCM_CREDENTIALS
 * with SO_PASSCRED, SO_PEERCRED, /dev devices, sendmsg's errors (EBADF, EINVAL for bad
 * cmsg lengths and types, EFAULT for a bad pointer), abstract names shared by
 * processes, and flock through a passed fd. The child prints while the parent waits, then the
 * parent prints. Run in a scratch directory: it removes what it makes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MAXFDS 8

static ssize_t send_fds(int sock, const int *fds, int n, const char *data)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAXFDS)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        memset(u.buf, 0, sizeof u.buf);
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    return sendmsg(sock, &m, 0);
}

/* recvmsg with `room` bytes of control buffer (0: msg_control NULL); prints what came. */
static int get(int sock, int flags, size_t room, int *out, const char *tag)
{
    char data[64];
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAXFDS) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    memset(u.buf, 0x55, sizeof u.buf);
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = room ? u.buf : NULL, .msg_controllen = room};
    ssize_t n = recvmsg(sock, &m, flags);
    if (n < 0) {
        printf("%s: recvmsg = -1 %s\n", tag, strerrorname_np(errno));
        return -1;
    }
    printf("%s: %zd \"%.*s\" msg_flags=%#x controllen=%zu", tag, n, (int)n, data, m.msg_flags,
           (size_t)m.msg_controllen);
    int count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        printf(" [level=%d type=%d len=%zu]", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(out + count, CMSG_DATA(c), k * sizeof(int));
            count += k;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                   c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(c), sizeof cr);
            printf(" pid=%s uid=%u gid=%u", cr.pid == getppid() ? "parent" : cr.pid == getpid() ? "self" : "other",
                   cr.uid, cr.gid);
        }
    }
    printf(" fds:");
    for (int i = 0; i < count; i++)
        printf(" %d(cloexec=%d)", out[i], fcntl(out[i], F_GETFD) & FD_CLOEXEC);
    printf("\n");
    return count;
}

static void same_file(const char *what, int a, int b)
{
    struct stat sa, sb;
    if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0) {
        printf("%s: fstat failed %s\n", what, strerrorname_np(errno));
        return;
    }
    printf("%s: same=%d\n", what, sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void show_peercred(const char *what, int sock)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
        printf("%s: SO_PEERCRED -1 %s\n", what, strerrorname_np(errno));
        return;
    }
    printf("%s: SO_PEERCRED pid=%s uid=%u gid=%u\n", what,
           cr.pid == getppid() ? "parent" : cr.pid == getpid() ? "self" : "other", cr.uid, cr.gid);
}

static void child(int sock, int file)
{
    int fds[MAXFDS * 2], n;
    char buf[64];

    show_peercred("child (the pair is the parent's)", sock);

    n = get(sock, MSG_CMSG_CLOEXEC, CMSG_SPACE(sizeof(int) * MAXFDS), fds, "four");
    if (n == 4) {
        int f = fds[0], pr = fds[1], so = fds[2], dir = fds[3];
        CHECK(read(f, buf, 4));
        printf("file read: %.4s\n", buf);
        same_file("file is the parent's", f, file);
        show_peercred("passed socket", so);
        printf("file accmode=%d pipe nonblock=%d pipe accmode=%d\n", fcntl(f, F_GETFL) & O_ACCMODE,
               !!(fcntl(pr, F_GETFL) & O_NONBLOCK), fcntl(pr, F_GETFL) & O_ACCMODE);
        ssize_t k = read(pr, buf, sizeof buf);
        printf("pipe read: %.*s\n", (int)k, buf);
        CHECK(read(pr, buf, sizeof buf));  /* empty and non-blocking: EAGAIN */
        CHECK(write(so, "from child", 10));
        int inner = openat(dir, "inner", O_RDONLY);
        k = read(inner, buf, sizeof buf);
        printf("openat through the passed directory: %.*s\n", (int)k, buf);
        close(inner);
        struct stat st;
        fstat(dir, &st);
        printf("dir is a directory: %d\n", S_ISDIR(st.st_mode));
        close_all(fds, n);
    }

    /* devices: /dev/null and /dev/zero */
    n = get(sock, 0, CMSG_SPACE(sizeof(int) * MAXFDS), fds, "devices");
    if (n == 2) {
        struct stat st;
        fstat(fds[0], &st);
        printf("null: rdev=%u:%u accmode=%d\n", major(st.st_rdev), minor(st.st_rdev), fcntl(fds[0], F_GETFL) & O_ACCMODE);
        CHECK(write(fds[0], "gone", 4));
        CHECK(read(fds[0], buf, sizeof buf));
        CHECK(read(fds[1], buf, 4));
        printf("zero: %d%d%d%d\n", buf[0], buf[1], buf[2], buf[3]);
    }
    close_all(fds, n);

    /* room for one fd of two: one installed, the other closed, MSG_CTRUNC */
    n = get(sock, 0, CMSG_LEN(sizeof(int)), fds, "small");
    close_all(fds, n);
    /* room for the header only, and no control buffer at all */
    n = get(sock, 0, sizeof(struct cmsghdr), fds, "header-only");
    close_all(fds, n);
    n = get(sock, 0, 0, fds, "no-control");
    close_all(fds, n);
    /* MSG_PEEK installs the fds too, and the real read gets them again */
    n = get(sock, MSG_PEEK, CMSG_SPACE(sizeof(int) * MAXFDS), fds, "peek");
    int m = get(sock, 0, CMSG_SPACE(sizeof(int) * MAXFDS), fds + n, "after-peek");
    if (n == 1 && m == 1)
        same_file("peeked and read", fds[0], fds[1]);
    close_all(fds, n + m);
    /* read() drops them: the next fd is the lowest free one */
    ssize_t r = read(sock, buf, sizeof buf);
    printf("read: %zd \"%.*s\"\n", r, (int)(r > 0 ? r : 0), buf);
    int probe = dup(sock);
    printf("next fd after read(): %d\n", probe);
    close(probe);

    /* the fd limit: the files that get no fd are closed, MSG_CTRUNC */
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    probe = dup(sock);
    close(probe);
    low.rlim_cur = probe + 2;
    CHECK(setrlimit(RLIMIT_NOFILE, &low));
    n = get(sock, 0, CMSG_SPACE(sizeof(int) * MAXFDS), fds, "limit");
    close_all(fds, n);
    CHECK(setrlimit(RLIMIT_NOFILE, &old));

    /* credentials: SO_PASSCRED on, the sender's own, then ones it claims */
    int on = 1;
    CHECK(setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    CHECK(send(sock, "ready", 5, 0));
    n = get(sock, 0, CMSG_SPACE(sizeof(int) * MAXFDS) + CMSG_SPACE(sizeof(struct ucred)), fds, "creds+fd");
    close_all(fds, n);
    n = get(sock, 0, CMSG_SPACE(sizeof(struct ucred)), fds, "claimed");
    close_all(fds, n);
    CHECK(send(sock, "ack", 3, 0)); /* so that a stream does not join the next message to it */
    n = get(sock, 0, CMSG_LEN(4), fds, "creds-truncated");
    close_all(fds, n);
    fflush(stdout);
}

static void sendmsg_errors(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int bad[2] = {999, -1};
    CHECK(send_fds(sv[0], bad, 1, "x"));
    CHECK(send_fds(sv[0], bad + 1, 1, "x"));

    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {"y", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = (struct cmsghdr *)u.buf;
    memset(u.buf, 0, sizeof u.buf);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = 8; /* shorter than a cmsghdr */
    CHECK(sendmsg(sv[0], &m, 0));
    c->cmsg_len = sizeof u.buf + 8; /* longer than the control buffer */
    CHECK(sendmsg(sv[0], &m, 0));
    c->cmsg_len = CMSG_LEN(sizeof(int));
    c->cmsg_type = 99; /* no such SOL_SOCKET type */
    memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
    CHECK(sendmsg(sv[0], &m, 0));
    c->cmsg_level = 0; /* another level: skipped */
    CHECK(sendmsg(sv[0], &m, 0));
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS; /* wrong size for a ucred */
    CHECK(sendmsg(sv[0], &m, 0));
    struct ucred cr = {getpid() + 1000000, getuid(), getgid()};
    m.msg_controllen = CMSG_SPACE(sizeof cr);
    c->cmsg_len = CMSG_LEN(sizeof cr);
    memcpy(CMSG_DATA(c), &cr, sizeof cr);
    CHECK(sendmsg(sv[0], &m, 0)); /* a pid of no process (EPERM, or ESRCH for root) */
    cr.pid = getpid();
    cr.uid = (uid_t)-1;
    memcpy(CMSG_DATA(c), &cr, sizeof cr);
    CHECK(sendmsg(sv[0], &m, 0)); /* an invalid uid */
    m.msg_control = (void *)16;
    CHECK(sendmsg(sv[0], &m, 0));
    m.msg_control = NULL;
    CHECK(sendmsg(sv[0], &m, 0));
    m.msg_controllen = 0; /* NULL and 0: no control data at all */
    CHECK(sendmsg(sv[0], &m, 0));
    char buf[8];
    int got = 0;
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
        got++;
    printf("datagrams that arrived: %d\n", got);
    close(sv[0]);
    close(sv[1]);
}

static void round_trip(int type, const char *name)
{
    int sv[2], p[2], other[2];
    printf("-- %s\n", name);
    CHECK(socketpair(AF_UNIX, type, 0, sv));
    int file = open("f.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(write(file, "0123456789abcdef", 16));
    CHECK(lseek(file, 0, SEEK_SET));
    CHECK(pipe(p));
    CHECK(write(p[1], "pipe data", 9));
    CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK));
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, other));
    mkdir("d", 0755);
    int inner = open("d/inner", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(inner, "inner data", 10));
    close(inner);
    int dir = open("d", O_RDONLY | O_DIRECTORY);
    fflush(stdout);

    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        close(p[1]);
        close(other[0]);
        child(sv[1], file);
        _exit(0);
    }
    close(sv[1]);
    int four[4] = {file, p[0], other[1], dir};
    int sent = 0;
    sent += send_fds(sv[0], four, 4, "four") > 0;
    int devs[2] = {open("/dev/null", O_RDWR), open("/dev/zero", O_RDONLY)};
    sent += send_fds(sv[0], devs, 2, "devices") > 0;
    close_all(devs, 2);
    sent += send_fds(sv[0], four, 2, "small") > 0;
    sent += send_fds(sv[0], four, 1, "header-only") > 0;
    sent += send_fds(sv[0], four, 1, "no-control") > 0;
    sent += send_fds(sv[0], four + 1, 1, "peek") > 0;
    sent += send_fds(sv[0], four, 1, "read") > 0;
    sent += send_fds(sv[0], four, 3, "limit") > 0;
    char buf[64];
    ssize_t k = recv(sv[0], buf, sizeof buf, 0); /* "ready": SO_PASSCRED is on */
    sent += k == 5;
    sent += send_fds(sv[0], four, 1, "creds+fd") > 0;
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    struct ucred cr = {getpid(), getuid(), getgid()};
    struct iovec iov = {"claimed", 7};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof cr);
    memcpy(CMSG_DATA(c), &cr, sizeof cr);
    sent += sendmsg(sv[0], &m, 0) > 0;
    sent += recv(sv[0], buf, sizeof buf, 0) == 3;
    iov.iov_base = "truncated";
    iov.iov_len = 9;
    m.msg_control = NULL;
    m.msg_controllen = 0;
    sent += sendmsg(sv[0], &m, 0) > 0;
    int status;
    waitpid(pid, &status, 0);
    printf("parent: sent %d, child status %d\n", sent, status);
    printf("parent: file offset after the child's read: %ld\n", (long)lseek(file, 0, SEEK_CUR));
    k = read(other[0], buf, sizeof buf);
    printf("parent: from the passed socket: %.*s\n", (int)(k > 0 ? k : 0), buf);
    close(file);
    close(p[0]);
    close(p[1]);
    close(other[0]);
    close(other[1]);
    close(dir);
    close(sv[0]);
    unlink("d/inner");
    rmdir("d");
    unlink("f.txt");
}

/* An abstract name is the sandbox's, not one process's: a forked child that closes its
 * copy of the listener leaves the name bound, another child connects to it and passes a
 * pipe end over it, and autobind in two processes gives two different names. */
static void abstract_across_processes(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path + 1, "pyrene-scm-test", 15);
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 16;
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(srv, (struct sockaddr *)&a, alen));
    CHECK(listen(srv, 4));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(srv);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    int p[2];
    CHECK(pipe(p));
    pid = fork();
    if (pid == 0) {
        close(srv);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, alen) < 0) {
            printf("child: connect = -1 %s\n", strerrorname_np(errno));
            fflush(stdout);
            _exit(1);
        }
        send_fds(c, &p[1], 1, "pipe");
        int d = socket(AF_UNIX, SOCK_DGRAM, 0);
        struct sockaddr_un mine = {.sun_family = AF_UNIX};
        bind(d, (struct sockaddr *)&mine, offsetof(struct sockaddr_un, sun_path)); /* checked by the parent */
        socklen_t len = sizeof mine;
        getsockname(d, (struct sockaddr *)&mine, &len);
        write(c, mine.sun_path, 6);
        char go;
        read(c, &go, 1); /* keep the name until the parent has bound its own */
        _exit(0);
    }
    close(p[1]);
    int conn = accept(srv, NULL, NULL);
    printf("accept: %s\n", conn >= 0 ? "ok" : strerrorname_np(errno));
    int fds[MAXFDS];
    int n = get(conn, 0, CMSG_SPACE(sizeof(int) * MAXFDS), fds, "over an abstract name");
    char child_name[6] = {0};
    ssize_t k = read(conn, child_name, 6);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un mine = {.sun_family = AF_UNIX};
    CHECK(bind(d, (struct sockaddr *)&mine, offsetof(struct sockaddr_un, sun_path)));
    socklen_t len = sizeof mine;
    getsockname(d, (struct sockaddr *)&mine, &len);
    printf("autobind: len=%u, the child's name differs: %d\n", len, k == 6 && memcmp(child_name, mine.sun_path, 6) != 0);
    CHECK(write(conn, "g", 1));
    int status;
    waitpid(pid, &status, 0);
    if (n == 1) {
        CHECK(write(fds[0], "through the passed end", 22));
        char buf[64];
        k = read(p[0], buf, sizeof buf);
        printf("pipe: %.*s\n", (int)(k > 0 ? k : 0), buf);
        close(fds[0]);
    }
    close(p[0]);
    close(d);
    close(conn);
    close(srv);
}

/* flock belongs to the open file description: a passed fd shares it, and the lock lives
 * until the last fd of the description anywhere is closed, not the sender's last. */
static void flock_passing(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int fd = open("lock.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(flock(fd, LOCK_EX));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        close(fd);
        int fds[MAXFDS];
        char c;
        int n = get(sv[1], 0, CMSG_SPACE(sizeof(int) * MAXFDS), fds, "locked file");
        CHECK(write(sv[1], "r", 1)); /* (Pyrene: the parent closes only once it arrived) */
        CHECK(read(sv[1], &c, 1)); /* the parent has closed its fd */
        int other = open("lock.txt", O_RDWR);
        CHECK(flock(other, LOCK_EX | LOCK_NB)); /* still held: the description lives here */
        if (n == 1) {
            CHECK(flock(fds[0], LOCK_EX | LOCK_NB)); /* the same description: granted */
            CHECK(close(fds[0]));
        }
        CHECK(flock(other, LOCK_EX | LOCK_NB)); /* its last fd is gone: free */
        close(other);
        fflush(stdout);
        _exit(0);
    }
    close(sv[1]);
    send_fds(sv[0], &fd, 1, "lock");
    char c;
    read(sv[0], &c, 1);
    close(fd);
    write(sv[0], "c", 1);
    int status;
    waitpid(pid, &status, 0);
    printf("parent: child status %d\n", status);
    close(sv[0]);
    unlink("lock.txt");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    round_trip(SOCK_STREAM, "SOCK_STREAM");
    round_trip(SOCK_DGRAM, "SOCK_DGRAM");
    round_trip(SOCK_SEQPACKET, "SOCK_SEQPACKET");
    printf("-- sendmsg errors\n");
    sendmsg_errors();
    printf("-- abstract names across processes\n");
    abstract_across_processes();
    printf("-- flock through a passed fd\n");
    flock_passing();
    return 0;
}
