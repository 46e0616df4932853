/* Extended attributes on files of the writable cwd mount: the user namespace set, read,
 * listed and removed by path, through a symlink and by fd, with each call's errors. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"

static void show_list(const char *what, ssize_t n, const char *buf)
{
    printf("%s:", what);
    for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (!strncmp(buf + i, "user.", 5))
            printf(" %s", buf + i);
    printf("\n");
}

int main(void)
{
    char buf[256];
    setvbuf(stdout, NULL, _IONBF, 0);
    close(open("f", O_CREAT | O_WRONLY, 0644));
    symlink("f", "link");
    symlink("nowhere", "dangling");
    CHECK(setxattr("f", "user.color", "blue", 4, 0));
    CHECK(setxattr("f", "user.color", "red", 3, XATTR_CREATE));
    CHECK(setxattr("f", "user.size", "big", 3, XATTR_REPLACE));
    CHECK(setxattr("f", "user.size", "big", 3, XATTR_CREATE));
    CHECK(setxattr("f", "user.x", "1", 1, 4));
    CHECK(setxattr("f", "nonamespace", "1", 1, 0));
    CHECK(setxattr("f", "", "1", 1, 0));
    CHECK(getxattr("f", "user.color", NULL, 0));
    CHECK(getxattr("f", "user.color", buf, 2));
    memset(buf, 0, sizeof buf);
    CHECK(getxattr("f", "user.color", buf, sizeof buf));
    printf("value %s\n", buf);
    CHECK(getxattr("link", "user.color", buf, sizeof buf));
    CHECK(lgetxattr("link", "user.color", buf, sizeof buf));
    CHECK(getxattr("f", "user.missing", buf, sizeof buf));
    CHECK(getxattr("missing", "user.color", buf, sizeof buf));
    CHECK(getxattr("dangling", "user.color", buf, sizeof buf));
    CHECK(lgetxattr("dangling", "user.color", buf, sizeof buf));
    CHECK(lsetxattr("link", "user.color", "x", 1, 0));
    ssize_t n = listxattr("f", buf, sizeof buf);
    show_list("list f", n, buf);
    n = llistxattr("dangling", buf, sizeof buf);
    printf("llistxattr dangling = %zd\n", n);
    int fd = open("f", O_RDONLY);
    CHECK(fgetxattr(fd, "user.size", buf, sizeof buf));
    CHECK(fsetxattr(fd, "user.fd", "yes", 3, 0));
    n = flistxattr(fd, buf, sizeof buf);
    show_list("flist f", n, buf);
    CHECK(fremovexattr(fd, "user.fd"));
    CHECK(fremovexattr(fd, "user.fd"));
    int path_fd = open("f", O_PATH);
    CHECK(fgetxattr(path_fd, "user.size", buf, sizeof buf));
    CHECK(removexattr("f", "user.color"));
    CHECK(removexattr("link", "user.size"));
    n = listxattr("f", buf, sizeof buf);
    show_list("list after", n, buf);
    int p[2];
    pipe(p);
    CHECK(fgetxattr(p[0], "user.x", buf, sizeof buf));
    CHECK(fsetxattr(p[0], "user.x", "1", 1, 0));
    CHECK(flistxattr(p[0], buf, sizeof buf));
    CHECK(getxattr("/proc/self/status", "user.x", buf, sizeof buf));
    CHECK(setxattr("/proc/self/status", "user.x", "1", 1, 0));
    unlink("f");
    unlink("link");
    unlink("dangling");
    return 0;
}
