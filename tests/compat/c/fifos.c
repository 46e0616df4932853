/* FIFOs (named pipes): the open rules (O_NONBLOCK readers at once, writers ENXIO without a
 * reader, blocking opens meet their peer, O_RDWR at once), data and EOF between two
 * processes, a blocking read or open parked until a signal, O_NONBLOCK set later by
 * fcntl. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void on_alarm(int sig) { (void)sig; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    CHECK(mkfifo("ff", 0600) == 0);
    struct stat st;
    CHECK(stat("ff", &st) == 0 && S_ISFIFO(st.st_mode));

    int r = open("ff", O_RDONLY | O_NONBLOCK);
    printf("O_NONBLOCK reader without a writer: %s\n", r >= 0 ? "opened" : strerror(errno));
    int w = open("ff", O_WRONLY | O_NONBLOCK);
    printf("O_NONBLOCK writer with a reader: %s\n", w >= 0 ? "opened" : strerror(errno));
    char buf[64];
    CHECK(read(r, buf, sizeof buf) == -1 && errno == EAGAIN);  /* a writer, no data */
    CHECK(write(w, "xy", 2) == 2);
    CHECK(read(r, buf, sizeof buf) == 2);
    close(w);
    printf("read after the writer left: %zd\n", read(r, buf, sizeof buf));
    close(r);
    w = open("ff", O_WRONLY | O_NONBLOCK);
    printf("O_NONBLOCK writer without a reader: %s\n", w >= 0 ? "opened" : strerror(errno));
    int rw = open("ff", O_RDWR);
    printf("O_RDWR: %s\n", rw >= 0 ? "opened" : strerror(errno));
    CHECK(write(rw, "self", 4) == 4 && read(rw, buf, sizeof buf) == 4);
    close(rw);

    /* blocking opens meet: the child writes, the parent reads until EOF */
    pid_t p = fork();
    if (p == 0) {
        int cw = open("ff", O_WRONLY);
        if (cw < 0) _exit(1);
        for (int i = 0; i < 100; i++) (void)!write(cw, "0123456789", 10);
        _exit(0);
    }
    r = open("ff", O_RDONLY);
    CHECK(r >= 0);
    size_t total = 0;
    ssize_t n;
    while ((n = read(r, buf, sizeof buf)) > 0) total += n;
    printf("from the child: %zu bytes, then %zd\n", total, n);
    int status;
    CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(r);

    /* a blocking read with a writer present waits; SIGALRM (no SA_RESTART) ends it */
    r = open("ff", O_RDONLY | O_NONBLOCK);
    w = open("ff", O_WRONLY);
    CHECK(r >= 0 && w >= 0);
    int flags = fcntl(r, F_GETFL);
    CHECK(fcntl(r, F_SETFL, flags & ~O_NONBLOCK) == 0);
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    alarm(1);
    n = read(r, buf, sizeof buf);
    printf("blocking read interrupted: %zd %s\n", n, strerror(errno));
    CHECK(fcntl(r, F_SETFL, flags | O_NONBLOCK) == 0);
    n = read(r, buf, sizeof buf);
    printf("after F_SETFL O_NONBLOCK: %zd %s\n", n, strerror(errno));
    close(w);
    close(r);

    /* a blocking open waiting for a writer ends with EINTR on a signal without SA_RESTART */
    alarm(1);
    r = open("ff", O_RDONLY);
    printf("blocking open interrupted: %d %s\n", r, strerror(errno));
    /* ... and meets a writer that comes later */
    p = fork();
    if (p == 0) {
        usleep(200 * 1000);
        int cw = open("ff", O_WRONLY);
        _exit(cw >= 0 && write(cw, "late", 4) == 4 ? 0 : 1);
    }
    r = open("ff", O_RDONLY);
    CHECK(r >= 0);
    n = read(r, buf, sizeof buf);
    printf("reader met a late writer: %.*s\n", (int)n, buf);
    CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(r);
    CHECK(unlink("ff") == 0);
    return 0;
}
