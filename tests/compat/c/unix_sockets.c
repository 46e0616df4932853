/* AF_UNIX sockets inside one process: socketpair (stream, datagram, seqpacket),
 * named and abstract servers with bind/listen/connect/accept, the names reported
 * back, shutdown and EPIPE, and the errors of each call. Run in a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static socklen_t make_addr(struct sockaddr_un *a, const char *path, int abstract)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (abstract) {
        memcpy(a->sun_path + 1, path, n);
        return offsetof(struct sockaddr_un, sun_path) + 1 + n;
    }
    memcpy(a->sun_path, path, n);
    return offsetof(struct sockaddr_un, sun_path) + n + 1;
}

static void show_name(const char *what, int fd, int peer)
{
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    memset(&a, 'x', sizeof a);
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len) : getsockname(fd, (struct sockaddr *)&a, &len);
    if (r < 0) {
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
        return;
    }
    printf("%s: len=%u family=%d", what, len, a.sun_family);
    if (len > 2 && a.sun_path[0] == 0)
        printf(" abstract=%.*s", (int)(len - 3), a.sun_path + 1);
    else if (len > 2)
        printf(" path=%s", a.sun_path);
    printf("\n");
}

static void pair(int type, const char *name)
{
    int sv[2];
    char buf[64];
    printf("-- socketpair %s\n", name);
    CHECK(socketpair(AF_UNIX, type, 0, sv));
    CHECK(write(sv[0], "hello", 5));
    CHECK(write(sv[0], "world", 5));
    CHECK(read(sv[1], buf, 3));
    CHECK(recv(sv[1], buf, sizeof buf, 0));
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    CHECK(send(sv[1], "back", 4, 0));
    CHECK(recv(sv[0], buf, sizeof buf, MSG_PEEK));
    CHECK(recv(sv[0], buf, sizeof buf, 0));
    show_name("pair name", sv[0], 0);
    show_name("pair peer", sv[0], 1);
    int v = 0;
    socklen_t len = sizeof v;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len));
    printf("SO_TYPE=%d len=%u\n", v, len);
    CHECK(shutdown(sv[0], SHUT_WR));
    CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)); /* EOF for streams; EAGAIN for datagrams */
    CHECK(close(sv[1]));
    CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL));
    CHECK(close(sv[0]));
}

static void server(const char *path, int abstract)
{
    struct sockaddr_un a;
    char buf[64];
    socklen_t alen = make_addr(&a, path, abstract);
    printf("-- server %s%s\n", abstract ? "@" : "", path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s);
    CHECK(bind(s, (struct sockaddr *)&a, alen));
    CHECK(bind(s, (struct sockaddr *)&a, alen));
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(s2, (struct sockaddr *)&a, alen));
    close(s2);
    show_name("server name", s, 0);
    show_name("server peer", s, 1);
    if (!abstract) {
        struct stat st;
        CHECK(stat(path, &st));
        printf("is socket: %d, mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
    }
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&a, alen));
    CHECK(listen(s, 5));
    CHECK(connect(c, (struct sockaddr *)&a, alen));
    struct sockaddr_un peer;
    socklen_t plen = sizeof peer;
    int conn = accept4(s, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
    CHECK(conn);
    printf("accepted peer len=%u\n", plen);
    show_name("client peer", c, 1);
    show_name("conn name", conn, 0);
    CHECK(write(c, "ping", 4));
    CHECK(read(conn, buf, sizeof buf));
    CHECK(read(conn, buf, sizeof buf));
    CHECK(write(conn, "pong", 4));
    CHECK(read(c, buf, sizeof buf));
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    CHECK(accept(s, NULL, NULL));
    close(conn);
    close(c);
    close(s);
    if (!abstract)
        CHECK(unlink(path));
}

static void datagrams(void)
{
    struct sockaddr_un a;
    char buf[64];
    printf("-- datagrams\n");
    socklen_t alen = make_addr(&a, "dgram.sock", 0);
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(r, (struct sockaddr *)&a, alen));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(s, "one", 3, 0, (struct sockaddr *)&a, alen));
    CHECK(sendto(s, "two!", 4, 0, (struct sockaddr *)&a, alen));
    CHECK(recv(r, buf, 2, 0));
    CHECK(recv(r, buf, sizeof buf, 0));
    CHECK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CHECK(connect(s, (struct sockaddr *)&a, alen));
    CHECK(send(s, "three", 5, 0));
    CHECK(recv(r, buf, sizeof buf, 0));
    close(s);
    close(r);
    unlink("dgram.sock");
}

static void errors(void)
{
    struct sockaddr_un a;
    printf("-- errors\n");
    CHECK(socket(AF_UNIX, SOCK_RAW, 0));
    CHECK(socket(AF_UNIX, SOCK_STREAM, 7));
    CHECK(socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t alen = make_addr(&a, "missing.sock", 0);
    CHECK(connect(s, (struct sockaddr *)&a, alen));
    alen = make_addr(&a, "nosuch-abstract", 1);
    CHECK(connect(s, (struct sockaddr *)&a, alen));
    alen = make_addr(&a, "plain-file", 0);
    close(open("plain-file", O_CREAT | O_WRONLY, 0644));
    CHECK(connect(s, (struct sockaddr *)&a, alen));
    CHECK(bind(s, (struct sockaddr *)&a, alen));
    unlink("plain-file");
    CHECK(bind(s, (struct sockaddr *)&a, 1));
    CHECK(getpeername(s, (struct sockaddr *)&a, &alen));
    CHECK(listen(0, 1));
    CHECK(shutdown(s, 7));
    CHECK(send(s, "x", 1, MSG_NOSIGNAL));
    CHECK(recv(s, &a, 1, MSG_DONTWAIT));
    close(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(027);
    pair(SOCK_STREAM, "stream");
    pair(SOCK_DGRAM, "dgram");
    pair(SOCK_SEQPACKET, "seqpacket");
    server("srv.sock", 0);
    server("abstract-srv", 1);
    datagrams();
    errors();
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    printf("-- SIGPIPE next\n");
    write(sv[0], "x", 1);
    printf("not reached\n");
    return 0;
}
