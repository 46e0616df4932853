/* The /dev a program may use: device numbers, what each device does on read, write and
 * lseek, the stdio links, /dev/tty without a controlling terminal, and /dev/shm. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void show(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    char kind = S_ISCHR(st.st_mode) ? 'c' : S_ISLNK(st.st_mode) ? 'l' : S_ISDIR(st.st_mode) ? 'd' : '?';
    printf("%s: %c %o %u,%u size %lld", path, kind, st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev),
           S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    if (S_ISLNK(st.st_mode)) {
        char link[256];
        ssize_t n = readlink(path, link, sizeof link - 1);
        printf(" -> %.*s", (int)(n > 0 ? n : 0), link);
    }
    printf("\n");
}

static void rw(const char *path) {
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        printf("%s: open: %s\n", path, strerror(errno));
        return;
    }
    unsigned char buf[4096];
    memset(buf, 0xAA, sizeof buf);
    ssize_t r = read(fd, buf, sizeof buf);
    int zeros = 1;
    for (ssize_t i = 0; i < r; i++)
        zeros &= buf[i] == 0;
    errno = 0;
    ssize_t w = write(fd, "0123456789", 10);
    int werr = errno;
    off_t off = lseek(fd, 100, SEEK_SET);
    printf("%s: read %zd%s, write %zd%s%s, lseek %lld\n", path, r, r > 0 ? (zeros ? " zeros" : " bytes") : "", w,
           w < 0 ? " " : "", w < 0 ? strerror(werr) : "", (long long)off);
    close(fd);
}

/* d_type and d_ino in the /dev listing agree with lstat */
static void listing(void) {
    static const char *want[] = {"null", "zero", "full", "random", "urandom", "tty", "stdin", "stdout",
                                 "stderr", "fd", "shm", "pts", NULL};
    DIR *d = opendir("/dev");
    struct dirent *e;
    int seen = 0, agree = 1;
    while ((e = readdir(d))) {
        for (int i = 0; want[i]; i++) {
            if (strcmp(e->d_name, want[i]))
                continue;
            char path[300];
            struct stat st;
            snprintf(path, sizeof path, "/dev/%s", e->d_name);
            seen++;
            agree &= lstat(path, &st) == 0 && IFTODT(st.st_mode) == e->d_type;
            agree &= S_ISDIR(st.st_mode) || st.st_ino == e->d_ino; /* a mount point's d_ino is the one below */
        }
    }
    closedir(d);
    printf("/dev listing: %d of ours, d_type and d_ino agree: %s\n", seen, agree ? "yes" : "no");
}

int main(void) {
    listing();
    static const char *nodes[] = {"/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                                  "/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd", "/dev/shm",
                                  NULL};
    for (const char **p = nodes; *p; p++)
        show(*p);
    rw("/dev/null");
    rw("/dev/zero");
    rw("/dev/full");
    rw("/dev/urandom");
    rw("/dev/random");

    /* two reads of urandom differ */
    char a[16], b[16];
    int fd = open("/dev/urandom", O_RDONLY);
    read(fd, a, sizeof a);
    read(fd, b, sizeof b);
    printf("urandom reads differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
    close(fd);

    /* a big read of /dev/zero */
    static char big[3 << 20];
    fd = open("/dev/zero", O_RDONLY);
    ssize_t total = 0, n;
    while (total < (ssize_t)sizeof big && (n = read(fd, big + total, sizeof big - total)) > 0)
        total += n;
    printf("read %zd bytes of /dev/zero\n", total);
    close(fd);

    /* no controlling terminal here: ENXIO, as on Linux */
    fd = open("/dev/tty", O_RDWR);
    printf("/dev/tty: %s\n", fd < 0 ? strerror(errno) : "opened");

    /* /dev/stdout reaches fd 1 */
    fd = open("/dev/stdout", O_WRONLY);
    dprintf(fd, "through /dev/stdout\n");
    close(fd);
    fd = open("/dev/fd/1", O_WRONLY);
    dprintf(fd, "through /dev/fd/1\n");
    close(fd);

    /* POSIX shared memory lives in /dev/shm */
    char name[64];
    snprintf(name, sizeof name, "/pyrene-test-%d", getpid());
    int shm = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (shm < 0) {
        printf("shm_open: %s\n", strerror(errno));
        return 0;
    }
    ftruncate(shm, 4096);
    char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    strcpy(mem, "shared");
    char path[128];
    snprintf(path, sizeof path, "/dev/shm%s", name);
    struct stat st = {0};
    int found = stat(path, &st) == 0;
    printf("shm object in /dev/shm: %s, size %lld\n", found ? "yes" : "no", (long long)st.st_size);
    int again = shm_open(name, O_RDONLY, 0);
    char back[8] = {0};
    pread(again, back, 6, 0);
    printf("shm content: %s\n", back);
    munmap(mem, 4096);
    close(again);
    close(shm);
    printf("shm_unlink: %s\n", shm_unlink(name) == 0 ? "ok" : strerror(errno));
    printf("gone: %s\n", stat(path, &st) < 0 && errno == ENOENT ? "yes" : "no");
    return 0;
}
