/* memfd_create: flags, the /proc/self/fd name, read/write/lseek/ftruncate/fstat,
 * a MAP_SHARED mapping coherent with read and write, and seals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static void show_link(int fd)
{
    char link[64], target[300];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("fd link: %s\n", target);
}

int main(void)
{
    char buf[64] = {0};
    struct stat st;
    int fd = memfd_create("pyrene-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd);
    CHECK(fcntl(fd, F_GETFD));
    CHECK(fcntl(fd, F_GETFL));
    show_link(fd);
    CHECK(fstat(fd, &st));
    printf("mode %o size %ld nlink %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
    CHECK(write(fd, "hello memfd", 11));
    CHECK(lseek(fd, 0, SEEK_CUR));
    CHECK(pread(fd, buf, sizeof buf - 1, 6));
    printf("pread: %s\n", buf);
    CHECK(ftruncate(fd, 8192));
    CHECK(fstat(fd, &st));
    printf("size %ld\n", (long)st.st_size);

    char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap: %s\n", map == MAP_FAILED ? strerrorname_np(errno) : "ok");
    if (map == MAP_FAILED)
        return 1;
    printf("map sees: %.11s\n", map);
    memcpy(map + 6, "MAPPED", 6);
    memcpy(map + 5000, "far away", 8);
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 12, 0));
    printf("read sees: %s\n", buf);
    CHECK(pread(fd, buf, 8, 5000));
    printf("read sees: %.8s\n", buf);
    CHECK(pwrite(fd, "written", 7, 100));
    printf("map sees: %.7s\n", map + 100);

    /* seals */
    CHECK(fcntl(fd, F_GET_SEALS));
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)); /* a shared writable mapping exists */
    CHECK(munmap(map, 8192));
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
    CHECK(fcntl(fd, F_GET_SEALS));
    CHECK(ftruncate(fd, 100));
    CHECK(ftruncate(fd, 10000));
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL));
    CHECK(write(fd, "x", 1));
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    CHECK(fcntl(fd, F_GET_SEALS));
    map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("read-only shared map after seal: %s\n", map == MAP_FAILED ? strerrorname_np(errno) : map + 6);
    map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("writable shared map after seal: %s\n", map == MAP_FAILED ? strerrorname_np(errno) : "ok");

    /* without MFD_ALLOW_SEALING, F_SEAL_SEAL is already set */
    int plain = memfd_create("plain", 0);
    CHECK(fcntl(plain, F_GETFD));
    CHECK(fcntl(plain, F_GET_SEALS));
    CHECK(fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
    show_link(plain);

    /* errors */
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(memfd_create(longname, 0));
    CHECK(memfd_create("x", 0x100));
    CHECK(memfd_create(NULL, 0));
    int f = open("memfd.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fcntl(f, F_GET_SEALS));
    CHECK(fcntl(f, F_ADD_SEALS, F_SEAL_WRITE));
    close(f);
    unlink("memfd.tmp");
    return 0;
}
