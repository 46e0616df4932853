/* Ways out of a chroot that must all fail. Run at the root of the layout
 * test_escape.py builds: the host directory above the root holds "secret" files
 * that no path may reach. Each attempt prints what it got: the errno, or the
 * first line of what it read (so a "SECRET" in the output is an escape).
 *
 *   /inside/          plain directory, file "f", and symlinks planted in it
 *   /mnt/             a bind mount of a host directory whose own symlinks point
 *                     out of it on the host side (../secret, /abs/host/secret)
 *   /proc             proc
 *   /tmp              tmpfs
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void got(const char *what, int fd)
{
    if (fd < 0) {
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
        return;
    }
    char buf[64] = "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0)
        snprintf(buf, sizeof buf, "(read: %s)", strerrorname_np(errno));
    else
        buf[strcspn(buf, "\n")] = 0;
    printf("%-44s read \"%s\"\n", what, buf);
    close(fd);
}

static void try_open(const char *path)
{
    errno = 0;
    got(path, open(path, O_RDONLY));
}

static void check(const char *what, long r)
{
    if (r < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, r);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* a directory listing, sorted, without '.' and '..' */
static void list(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        printf("ls %s: %s\n", path, strerrorname_np(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static int same_inode(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
        return -1;
    return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *host_secret = argc > 1 ? argv[1] : "/nonexistent";
    char buf[4200];

    puts("== .. past /");
    try_open("/../secret");
    try_open("/../../../../../../secret");
    try_open("../../../../../../../../secret");
    try_open("/inside/../../secret");
    try_open("/mnt/../../secret");
    try_open("/proc/../../secret");
    try_open("/tmp/../../secret");
    printf("/.. is /: %d\n", same_inode("/..", "/"));
    printf("/mnt/../.. is /: %d\n", same_inode("/mnt/../..", "/"));
    list("/..");
    list("/../../..");
    try_open(host_secret);

    puts("== symlinks planted in the sandbox");
    check("symlink abs", symlink("/../secret", "/inside/abs"));
    check("symlink rel", symlink("../../../../secret", "/inside/rel"));
    check("symlink host", symlink(host_secret, "/inside/host"));
    check("symlink dir", symlink("../../..", "/inside/up"));
    try_open("/inside/abs");
    try_open("/inside/rel");
    try_open("/inside/host");
    try_open("/inside/up/secret");
    try_open("/inside/up/inside/f");
    list("/inside/up");

    puts("== symlinks planted on the host side of a mount");
    try_open("/mnt/hostlink-rel");
    try_open("/mnt/hostlink-abs");
    try_open("/mnt/hostlink-up/secret");
    try_open("/mnt/file");
    list("/mnt/hostlink-up");
    ssize_t n = readlink("/mnt/hostlink-rel", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlink /mnt/hostlink-rel: %s\n", buf);

    puts("== /proc");
    n = readlink("/proc/self/root", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlink /proc/self/root: %s\n", buf);
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlink /proc/self/exe: %s\n", buf);
    try_open("/proc/self/root/../secret");
    try_open("/proc/self/root/../../../secret");
    try_open("/proc/self/root/inside/f");
    printf("/proc/self/root is /: %d\n", same_inode("/proc/self/root", "/"));
    printf("/proc/self/root/.. is /: %d\n", same_inode("/proc/self/root/..", "/"));
    check("chdir /mnt", chdir("/mnt"));
    n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlink /proc/self/cwd: %s\n", buf);
    try_open("/proc/self/cwd/../secret");
    try_open("/proc/self/cwd/../../../secret");
    try_open("/proc/self/cwd/file");
    check("chdir ../../../..", chdir("../../../.."));
    printf("getcwd: %s\n", getcwd(buf, sizeof buf));
    try_open("secret");
    check("chdir /", chdir("/"));

    int rootfd = open("/", O_PATH | O_DIRECTORY);
    int mntfd = open("/mnt", O_PATH | O_DIRECTORY);
    snprintf(buf, sizeof buf, "/proc/self/fd/%d/../secret", rootfd);
    errno = 0;
    got("/proc/self/fd/<O_PATH />/../secret", open(buf, O_RDONLY));
    snprintf(buf, sizeof buf, "/proc/self/fd/%d/../../secret", mntfd);
    errno = 0;
    got("/proc/self/fd/<O_PATH /mnt>/../../secret", open(buf, O_RDONLY));
    snprintf(buf, sizeof buf, "/proc/self/fd/%d/file", mntfd);
    errno = 0;
    got("/proc/self/fd/<O_PATH /mnt>/file", open(buf, O_RDONLY));
    snprintf(buf, sizeof buf, "/proc/self/fd/%d", mntfd);
    printf("/proc/self/fd/<O_PATH /mnt>/.. is /: %d\n",
           same_inode(strcat(buf, "/.."), "/"));

    puts("== openat with .. chains");
    errno = 0;
    got("openat(/mnt, ../../../../secret)", openat(mntfd, "../../../../secret", O_RDONLY));
    errno = 0;
    got("openat(/mnt, ../inside/f)", openat(mntfd, "../inside/f", O_RDONLY));
    errno = 0;
    got("openat(/mnt, hostlink-up/secret)", openat(mntfd, "hostlink-up/secret", O_RDONLY));
    struct stat sa, sb;
    fstatat(mntfd, "../../../..", &sa, 0);
    stat("/", &sb);
    printf("openat /mnt/../../../.. is /: %d\n", sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
    int innerfd = open("/inside", O_RDONLY | O_DIRECTORY);
    errno = 0;
    got("openat(/inside, ../../secret)", openat(innerfd, "../../secret", O_RDONLY));
    check("fchdir(O_PATH /mnt)", fchdir(mntfd));
    try_open("../../../secret");
    try_open("../inside/f");
    check("chdir /", chdir("/"));
    struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_IN_ROOT};
    errno = 0;
    got("openat2(/mnt, /../secret, IN_ROOT)", syscall(SYS_openat2, mntfd, "/../secret", &how, sizeof how));
    errno = 0;
    got("openat2(/mnt, hostlink-rel, IN_ROOT)", syscall(SYS_openat2, mntfd, "hostlink-rel", &how, sizeof how));
    how.resolve = RESOLVE_BENEATH;
    errno = 0;
    got("openat2(/mnt, ../secret, BENEATH)", syscall(SYS_openat2, mntfd, "../secret", &how, sizeof how));

    puts("== hard links and renames out of a mount");
    check("link /mnt/file /inside/x", link("/mnt/file", "/inside/x"));
    check("link /inside/f /mnt/x", link("/inside/f", "/mnt/x"));
    check("link /mnt/file /tmp/x", link("/mnt/file", "/tmp/x"));
    check("linkat(/mnt, file, /, inside/x)", linkat(mntfd, "file", rootfd, "inside/x", 0));
    check("linkat(/mnt fd, \"\", /inside/x, EMPTY)", linkat(mntfd, "", AT_FDCWD, "/inside/x", AT_EMPTY_PATH));
    check("linkat(stdout, \"\", /inside/x, EMPTY)", linkat(1, "", AT_FDCWD, "/inside/x", AT_EMPTY_PATH));
    check("rename /mnt/file /inside/x", rename("/mnt/file", "/inside/x"));
    check("rename /inside/f /mnt/x", rename("/inside/f", "/mnt/x"));
    check("rename /mnt /inside/m", rename("/mnt", "/inside/m"));
    check("rename /inside /mnt/inside", rename("/inside", "/mnt/inside"));
    check("rename /mnt/file /mnt/../inside/x", rename("/mnt/file", "/mnt/../inside/x"));
    check("renameat2 exchange /mnt/file /inside/f",
          syscall(SYS_renameat2, AT_FDCWD, "/mnt/file", AT_FDCWD, "/inside/f", RENAME_EXCHANGE));
    check("rename /mnt/sub /mnt/sub2 (inside)", rename("/mnt/sub", "/mnt/sub2"));
    check("rename back", rename("/mnt/sub2", "/mnt/sub"));
    check("rmdir /mnt", rmdir("/mnt"));
    check("rmdir /proc", rmdir("/proc"));
    check("unlink /mnt/../secret", unlink("/mnt/../secret"));
    check("mkdir /../escape", mkdir("/../escape", 0755));
    check("rmdir /../escape", rmdir("/../escape"));

    unlink("/inside/abs");
    unlink("/inside/rel");
    unlink("/inside/host");
    unlink("/inside/up");
    return 0;
}
