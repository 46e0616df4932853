/* File-backed mmap in the current directory:
 *   - MAP_PRIVATE read: the mapping shows the file; writes to it stay private;
 *   - MAP_SHARED read+write: a store through the mapping is seen by read()
 *     (page cache coherence), and a write() is seen through the mapping;
 *   - msync, munmap, and a mapping of a read-only fd with PROT_WRITE|MAP_SHARED
 *     (EACCES), and of a host file under / read-only (MAP_PRIVATE works). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void fail(const char *what)
{
    printf("%s failed: %s\n", what, strerrorname_np(errno));
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("map.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fail("open"), 1;
    char content[8192];
    for (size_t i = 0; i < sizeof content; i++)
        content[i] = 'a' + i % 26;
    if (write(fd, content, sizeof content) != (ssize_t)sizeof content)
        return fail("write"), 1;

    /* MAP_PRIVATE, read-only */
    char *p = mmap(NULL, sizeof content, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return fail("mmap private"), 1;
    printf("private mapping matches file = %d\n", memcmp(p, content, sizeof content) == 0);
    printf("private [0..8) = %.8s, [4096..4104) = %.8s\n", p, p + 4096);
    printf("munmap = %d\n", munmap(p, sizeof content));

    /* MAP_PRIVATE with an offset, written to: copy-on-write */
    p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, page);
    if (p == MAP_FAILED)
        return fail("mmap private offset"), 1;
    printf("offset mapping [0..4) = %.4s\n", p);
    memcpy(p, "XXXX", 4);
    char back[16] = {0};
    pread(fd, back, 4, page);
    printf("after private store: mapping=%.4s file=%s\n", p, back);
    munmap(p, (size_t)page);

    /* MAP_SHARED read+write */
    char *s = mmap(NULL, sizeof content, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED)
        return fail("mmap shared"), 1;
    memcpy(s + 10, "SHARED", 6);
    memset(back, 0, sizeof back);
    lseek(fd, 8, SEEK_SET);
    ssize_t n = read(fd, back, 10);
    printf("read after shared store = %zd [%s]\n", n, back);
    pwrite(fd, "written", 7, 4100);
    printf("mapping after pwrite = %.7s\n", s + 4100);
    printf("msync = %d\n", msync(s, sizeof content, MS_SYNC));
    printf("munmap = %d\n", munmap(s, sizeof content));
    memset(back, 0, sizeof back);
    pread(fd, back, 6, 10);
    printf("file after munmap = %s\n", back);

    /* a mapping that outlives its fd */
    s = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    printf("mapping after close = %.16s\n", s);
    munmap(s, (size_t)page);

    /* PROT_WRITE + MAP_SHARED on an O_RDONLY fd: EACCES */
    fd = open("map.txt", O_RDONLY);
    p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared writable mapping of O_RDONLY fd: %s\n",
           p == MAP_FAILED ? strerrorname_np(errno) : "mapped");
    close(fd);

    /* a read-only host file */
    fd = open("/etc/passwd", O_RDONLY);
    p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return fail("mmap /etc/passwd"), 1;
    printf("/etc/passwd starts with %.5s\n", p);
    munmap(p, (size_t)page);
    close(fd);

    /* bad fd */
    p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, 42, 0);
    printf("mmap of a bad fd: %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "mapped");

    printf("unlink = %d\n", unlink("map.txt"));
    return 0;
}
