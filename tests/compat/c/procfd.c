/* /proc/self/fd/N as magic links: what they show and what opening them gives.
 * Run with a pipe as stdin and stdout and a scratch cwd; pipe inode numbers and the
 * cwd are printed as placeholders so that native and Pyrene runs compare. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char cwd[PATH_MAX];

static void show_link(const char *label, int fd) {
    char path[64], link[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) {
        printf("%s: readlink: %s\n", label, strerror(errno));
        return;
    }
    link[n] = 0;
    size_t c = strlen(cwd);
    if (strncmp(link, "pipe:[", 6) == 0)
        printf("%s -> pipe:[N]\n", label);
    else if (strncmp(link, cwd, c) == 0)
        printf("%s -> CWD%s\n", label, link + c);
    else
        printf("%s -> %s\n", label, link);
}

static void reopen(const char *label, int fd, int flags) {
    char path[64], data[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int again = open(path, flags);
    if (again < 0) {
        printf("%s: open: %s\n", label, strerror(errno));
        return;
    }
    ssize_t n = (flags & O_ACCMODE) == O_WRONLY ? write(again, "written through the link\n", 25)
                                                : read(again, data, sizeof data - 1);
    printf("%s: %zd %s\n", label, n, (flags & O_ACCMODE) == O_WRONLY ? "" : data);
    close(again);
}

int main(void) {
    getcwd(cwd, sizeof cwd);
    setvbuf(stdout, NULL, _IONBF, 0);
    show_link("stdin", 0);
    show_link("stdout", 1);
    reopen("stdin reopened", 0, O_RDONLY);
    reopen("stdout reopened", 1, O_WRONLY);

    int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "file data", 9);
    show_link("file", fd);
    reopen("file reopened", fd, O_RDONLY);
    int opath = open("file", O_PATH);
    show_link("O_PATH file", opath);
    reopen("O_PATH file reopened", opath, O_RDONLY);
    unlink("file");
    show_link("deleted file", fd);
    reopen("deleted file reopened", fd, O_RDONLY);
    close(opath);
    close(fd);

    int dir = open(".", O_RDONLY | O_DIRECTORY);
    show_link("cwd", dir);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d/../%s", dir, strrchr(cwd, '/') + 1);
    struct stat a, b;
    printf("dir link/../name is the dir: %s\n", stat(path, &a) == 0 && stat(".", &b) == 0 && a.st_ino == b.st_ino
                                                    ? "yes" : "no");
    snprintf(path, sizeof path, "/proc/self/fd/%d", dir);
    int link = open(path, O_PATH | O_NOFOLLOW);
    printf("O_PATH|O_NOFOLLOW of the link: %s\n",
           link >= 0 && fstat(link, &a) == 0 && S_ISLNK(a.st_mode) ? "a link" : strerror(errno));
    printf("bad fd: %s\n", open("/proc/self/fd/999", O_RDONLY) < 0 ? strerror(errno) : "opened");
    printf("dev stdin is fd 0: %s\n", stat("/dev/stdin", &a) == 0 && fstat(0, &b) == 0 && a.st_ino == b.st_ino
                                          ? "yes" : "no");
    return 0;
}
