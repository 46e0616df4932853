/* What --trace shows of memory, as strace does: bytes handed in (write, pwrite64),
 * bytes a call filled (read, pread64, readlink), escapes, truncation at 32 bytes, an
 * empty read, a failed read (an address, not bytes), struct stat (a file, a
 * directory, a device, a failed stat); and names and hex where strace has them
 * (fadvise64's advice, mmap's offset). Run with the path of a scratch file it may
 * create. */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static const char tricky[] = "\0" "8\0" "7\1a\177\200\377\"\\\t\n\r\v\f";
    static const char longer[] = "0123456789abcdefghijklmnopqrstuvwxyz-the-end";
    char buf[64], link[256];
    struct stat st;
    CHECK(argc == 2);
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, tricky, sizeof tricky - 1) == (ssize_t)(sizeof tricky - 1));
    CHECK(pwrite(fd, longer, sizeof longer - 1, 100) == (ssize_t)(sizeof longer - 1));
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(read(fd, buf, 8) == 8);
    CHECK(pread(fd, buf, sizeof buf, 100) == (ssize_t)(sizeof longer - 1));
    CHECK(lseek(fd, 0, SEEK_END) > 0);
    CHECK(read(fd, buf, sizeof buf) == 0);
    CHECK(read(-1, buf, sizeof buf) == -1);
    CHECK(readlink("/proc/self/exe", link, sizeof link) > 0);
    CHECK(readlink("/nonexistent", link, sizeof link) == -1);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    CHECK(ftruncate(fd, 8192));
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096) != MAP_FAILED);
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED);
    CHECK(fstat(fd, &st));
    CHECK(stat("/", &st));
    CHECK(stat("/dev/null", &st));
    CHECK(lstat("/nonexistent", &st));
    close(fd);
    return 0;
}
