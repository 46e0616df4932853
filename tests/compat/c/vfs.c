/* The path walk and the file syscalls, in the current directory (which must be
 * empty and writable) and on read-only host paths. Every call's result is
 * printed as "expr = value" or "expr = -1 ERRNAME", with nothing that depends on
 * the run (no inode numbers, pids or current times), so a native run and a run
 * under Pyrene can be compared line by line. The program removes what it made.
 *
 * Sections: long names, trailing slashes, open flags, O_PATH, AT_* flags,
 * openat2, rename/link/symlink/mknod, chmod/chown/utimes/truncate, statfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        if (r_ < 0)                                                            \
            printf("%s = -1 %s\n", #expr, strerrorname_np(errno));             \
        else                                                                   \
            printf("%s = %s\n", #expr, r_ > 2 ? "fd-or-positive" : r_ ? "1-or-2" : "0"); \
    } while (0)

/* the result of an open, closing the fd */
#define OPEN(expr)                                                             \
    do {                                                                       \
        errno = 0;                                                             \
        int fd_ = (expr);                                                      \
        if (fd_ < 0)                                                           \
            printf("%s = -1 %s\n", #expr, strerrorname_np(errno));             \
        else {                                                                 \
            printf("%s = fd\n", #expr);                                        \
            close(fd_);                                                        \
        }                                                                      \
    } while (0)

static long openat2_(int dirfd, const char *path, unsigned long long flags,
                     unsigned long long mode, unsigned long long resolve)
{
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static void show(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        printf("  %s: %s\n", path, strerrorname_np(errno));
        return;
    }
    char target[256] = "";
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = 0;
    }
    printf("  %s: mode %o nlink %ld size %ld uid %d gid %d%s%s\n", path, st.st_mode,
           (long)st.st_nlink, (long)st.st_size, st.st_uid, st.st_gid, *target ? " -> " : "", target);
}

static void show_times(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        printf("  %s: %s\n", path, strerrorname_np(errno));
        return;
    }
    printf("  %s: atime %ld.%09ld mtime %ld.%09ld\n", path, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        printf("write_file(%s): %s\n", path, strerrorname_np(errno));
    close(fd);
}

static void names(void)
{
    puts("== long names");
    char name[300];
    memset(name, 'n', 255);
    name[255] = 0;
    OPEN(open(name, O_RDONLY));
    OPEN(open(name, O_WRONLY | O_CREAT, 0600));
    CHECK(unlink(name));
    name[255] = 'n';
    name[256] = 0;
    OPEN(open(name, O_RDONLY));
    OPEN(open(name, O_WRONLY | O_CREAT, 0600));
    CHECK(mkdir(name, 0700));
    CHECK(access(name, F_OK));

    static char path[5000];
    /* 4095 bytes + NUL fits PATH_MAX; 4096 bytes does not */
    memset(path, 0, sizeof path);
    for (int i = 0; i < 4094; i += 2)
        memcpy(path + i, "./", 2);
    path[4094] = '.';
    printf("strlen %zu\n", strlen(path));
    CHECK(access(path, F_OK));
    path[4095] = '/';
    printf("strlen %zu\n", strlen(path));
    CHECK(access(path, F_OK));
    OPEN(open(path, O_RDONLY));
    CHECK(mkdir(path, 0700));
}

static void slashes(void)
{
    puts("== symlink chains");
    char a[16], b[16];
    for (int i = 1; i <= 41; i++) {
        snprintf(a, sizeof a, "l%d", i);
        snprintf(b, sizeof b, "l%d", i + 1);
        symlink(i == 41 ? "target" : b, a);
    }
    write_file("target", "t");
    OPEN(open("l2", O_RDONLY));  /* 40 links: fine */
    OPEN(open("l1", O_RDONLY));  /* 41: ELOOP */
    CHECK(access("l1", F_OK));
    CHECK(faccessat(AT_FDCWD, "l1", F_OK, AT_SYMLINK_NOFOLLOW));
    CHECK(symlink("self", "self"));
    OPEN(open("self", O_RDONLY));
    OPEN(open("self", O_RDONLY | O_CREAT, 0644));
    CHECK(mkdir("self/x", 0755));
    for (int i = 1; i <= 41; i++) {
        snprintf(a, sizeof a, "l%d", i);
        unlink(a);
    }
    unlink("self");
    unlink("target");

    puts("== trailing slashes");
    write_file("f", "data");
    CHECK(mkdir("d", 0755));
    CHECK(symlink("f", "lf"));
    CHECK(symlink("d", "ld"));
    OPEN(open("f/", O_RDONLY));
    OPEN(open("f/.", O_RDONLY));
    OPEN(open("lf/", O_RDONLY));
    OPEN(open("d/", O_RDONLY));
    OPEN(open("ld/", O_RDONLY));
    OPEN(open("new/", O_RDONLY | O_CREAT, 0644));
    OPEN(open("f/", O_WRONLY | O_CREAT, 0644));
    OPEN(open("d/", O_RDONLY | O_CREAT, 0644));
    OPEN(open("missing/new/", O_RDONLY | O_CREAT, 0644));
    OPEN(open("f/new/", O_RDONLY | O_CREAT, 0644));
    OPEN(open("/ro/new/", O_RDONLY | O_CREAT, 0644));
    CHECK(symlink("/", "toroot"));
    CHECK(symlink(".", "tohere"));
    OPEN(open("toroot/.", O_RDONLY | O_DIRECTORY));
    OPEN(open("tohere/./.", O_RDONLY | O_DIRECTORY));
    OPEN(open("tohere", O_RDONLY | O_DIRECTORY));
    OPEN(open("toroot/./work/./f", O_RDONLY));
    CHECK(unlink("toroot"));
    CHECK(unlink("tohere"));
    CHECK(access("f/", F_OK));
    CHECK(access("d/", F_OK));
    CHECK(mkdir("nd/", 0755));
    CHECK(rmdir("nd/"));
    CHECK(mkdir("f/", 0755));
    CHECK(symlink("x", "ns/"));
    CHECK(symlink("x", "f/"));
    CHECK(link("f", "nl/"));
    CHECK(link("f/", "nl"));
    CHECK(mknod("nn/", S_IFIFO | 0644, 0));
    CHECK(unlink("f/"));
    CHECK(unlink("d/"));
    CHECK(unlink("missing/"));
    CHECK(unlink("."));
    CHECK(unlink(".."));
    CHECK(rmdir("."));
    CHECK(rmdir(".."));
    CHECK(rmdir("d/."));
    CHECK(rmdir("d/.."));
    CHECK(rmdir("f"));
    CHECK(rmdir("/"));
    CHECK(mkdir("/", 0755));
    CHECK(mkdir(".", 0755));
    CHECK(mkdir("..", 0755));
    CHECK(rename("f", "g/"));
    CHECK(rename("f/", "g"));
    CHECK(rename("d/", "e/"));
    CHECK(rename("e/", "d"));
    CHECK(rename(".", "x"));
    CHECK(rename("d", "."));
    CHECK(rename("d", "d/sub"));
    CHECK(mkdir("d/sub", 0755));
    CHECK(rename("d/sub", "d"));
    CHECK(rename("d/sub", "d/sub/x"));
    CHECK(rmdir("d/sub"));
    CHECK(rmdir("ld"));
    CHECK(unlink("ld"));
    CHECK(unlink("lf"));
    CHECK(rmdir("d"));
    CHECK(unlink("f"));
}

static void open_flags(void)
{
    puts("== open flags");
    write_file("f", "0123456789");
    CHECK(symlink("f", "lf"));
    CHECK(symlink("dangling-target", "dl"));
    CHECK(symlink("dl", "ldl"));
    OPEN(open("lf", O_RDONLY | O_NOFOLLOW));
    OPEN(open("lf", O_RDONLY | O_NOFOLLOW | O_PATH));
    OPEN(open("f", O_RDONLY | O_NOFOLLOW));
    OPEN(open("dl", O_WRONLY | O_CREAT | O_EXCL, 0644));
    CHECK(access("dangling-target", F_OK));
    OPEN(open("ldl", O_WRONLY | O_CREAT, 0640));
    show("dangling-target");
    CHECK(unlink("dangling-target"));
    OPEN(open("f", O_RDONLY | O_DIRECTORY));
    OPEN(open(".", O_RDONLY | O_DIRECTORY));
    OPEN(open(".", O_WRONLY));
    OPEN(open(".", O_RDWR | O_CREAT, 0644));
    OPEN(open("nd", O_RDONLY | O_DIRECTORY | O_CREAT, 0644));
    OPEN(open("f", O_RDONLY | O_CREAT | O_EXCL, 0644));
    OPEN(open("f", O_WRONLY | O_CREAT, 0644));
    OPEN(open("/ro/file", O_WRONLY));
    OPEN(open("/ro/file", O_RDONLY | O_TRUNC));
    OPEN(open("/ro/newfile", O_WRONLY | O_CREAT, 0644));
    OPEN(open("/ro/file", O_RDONLY | O_CREAT, 0644));
    OPEN(open("/ro/file", O_RDONLY | O_CREAT | O_EXCL, 0644));
    OPEN(open("/ro", O_RDONLY | O_DIRECTORY));
    OPEN(open("/ro/fifo", O_RDWR)); /* special files stay writable on a read-only mount */
    OPEN(open("/ro/fifo", O_RDWR | O_TRUNC));

    int fd = open("f", O_WRONLY | O_APPEND);
    CHECK(write(fd, "ab", 2));
    CHECK(lseek(fd, 0, SEEK_SET));
    CHECK(write(fd, "cd", 2));
    CHECK(fcntl(fd, F_GETFL) == (O_WRONLY | O_APPEND | O_LARGEFILE));
    close(fd);
    show("f");
    fd = open("f", O_RDWR | O_TRUNC);
    struct stat st;
    fstat(fd, &st);
    printf("size after O_TRUNC %ld\n", (long)st.st_size);
    close(fd);

    struct statx stx;
    CHECK(fstatat(AT_FDCWD, "f", &st, 0x8000));
    CHECK(statx(AT_FDCWD, "f", 0x8000, STATX_BASIC_STATS, &stx));
    CHECK(statx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &stx));
    CHECK(statx(AT_FDCWD, "f", AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &stx));
    CHECK(statx(AT_FDCWD, "f", 0, 0x80000000u, &stx));

    puts("== root");
    CHECK(chmod("f", 0));
    OPEN(open("f", O_RDWR));
    CHECK(access("f", R_OK | W_OK));
    CHECK(access("f", X_OK));
    CHECK(chmod("f", 0010));
    CHECK(access("f", X_OK));
    CHECK(chmod("f", 0644));

    puts("== O_PATH");
    char buf[16];
    fd = open("f", O_RDWR | O_PATH);
    CHECK(read(fd, buf, 1));
    CHECK(write(fd, "x", 1));
    CHECK(fstat(fd, &st));
    CHECK(fcntl(fd, F_GETFL) == (O_PATH | O_LARGEFILE));
    CHECK(fchmod(fd, 0600));
    CHECK(fchown(fd, 0, 0));
    CHECK(futimens(fd, NULL));
    CHECK(fchdir(fd));
    close(fd);
    mkdir("pd", 0755);
    write_file("pd/inner", "inner");
    int dfd = open("pd", O_PATH | O_DIRECTORY);
    CHECK(fstatat(dfd, "inner", &st, 0));
    OPEN(openat(dfd, "inner", O_RDONLY));
    CHECK(faccessat(dfd, "inner", R_OK, 0));
    CHECK(syscall(SYS_getdents64, dfd, buf, sizeof buf));
    CHECK(fstatat(dfd, "", &st, AT_EMPTY_PATH));
    printf("O_PATH dir is dir: %d\n", S_ISDIR(st.st_mode));
    CHECK(fchdir(dfd));
    OPEN(open("inner", O_RDONLY));
    CHECK(chdir(".."));
    close(dfd);
    int lfd = open("lf", O_PATH | O_NOFOLLOW);
    char target[64] = "";
    CHECK(readlinkat(lfd, "", target, sizeof target));
    printf("readlinkat(O_PATH symlink, \"\") -> %s\n", target);
    CHECK(fstatat(lfd, "", &st, AT_EMPTY_PATH));
    printf("it is a symlink: %d\n", S_ISLNK(st.st_mode));
    CHECK(fchownat(lfd, "", 0, 0, AT_EMPTY_PATH));
    CHECK(linkat(lfd, "", AT_FDCWD, "hardlink-to-symlink", AT_EMPTY_PATH));
    show("hardlink-to-symlink");
    CHECK(unlink("hardlink-to-symlink"));
    close(lfd);
    int ffd = open("f", O_RDONLY);
    CHECK(readlinkat(ffd, "", target, sizeof target));
    CHECK(linkat(ffd, "", AT_FDCWD, "f-link", AT_EMPTY_PATH));
    CHECK(linkat(ffd, "", AT_FDCWD, "f-link2", 0));
    show("f-link");
    CHECK(unlink("f-link"));
    CHECK(faccessat(ffd, "", W_OK, AT_EMPTY_PATH));
    CHECK(faccessat(ffd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS));
    CHECK(faccessat(AT_FDCWD, "f", R_OK, 0x8000));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "lf", R_OK, AT_SYMLINK_NOFOLLOW));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", 8, 0));
    CHECK(fchmodat(ffd, "", 0640, AT_EMPTY_PATH));
    CHECK(utimensat(ffd, "", NULL, AT_EMPTY_PATH));
    close(ffd);
    CHECK(unlink("pd/inner"));
    CHECK(rmdir("pd"));
    CHECK(unlink("ldl"));
    CHECK(unlink("dl"));
    CHECK(unlink("lf"));
    CHECK(unlink("f"));
}

static void openat2_checks(void)
{
    puts("== openat2");
    mkdir("top", 0755);
    mkdir("top/sub", 0755);
    write_file("top/sub/file", "x");
    write_file("outside", "x");
    symlink("../outside", "top/up");
    symlink("/ro/file", "top/abs");
    symlink("sub/file", "top/rel");
    symlink("/", "top/root");
    int top = open("top", O_PATH | O_DIRECTORY);
    struct open_how how = {.flags = O_RDONLY};
    CHECK(syscall(SYS_openat2, top, "sub/file", &how, 0));
    CHECK(syscall(SYS_openat2, top, "sub/file", &how, 23));
    OPEN(syscall(SYS_openat2, top, "sub/file", &how, sizeof how));
    struct {
        struct open_how how;
        unsigned long long extra;
    } big = {{.flags = O_RDONLY}, 0};
    OPEN(syscall(SYS_openat2, top, "sub/file", &big, sizeof big));
    big.extra = 1;
    CHECK(syscall(SYS_openat2, top, "sub/file", &big, sizeof big));
    CHECK(syscall(SYS_openat2, top, "sub/file", &big, 8192));
    CHECK(openat2_(top, "sub/file", O_RDONLY, 0, 0x40));
    CHECK(openat2_(top, "sub/file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
    CHECK(openat2_(top, "sub/file", O_RDONLY, 0644, 0));
    CHECK(openat2_(top, "sub/new", O_RDONLY | O_CREAT, 010000, 0));
    CHECK(openat2_(top, "sub/file", O_RDONLY | (1ULL << 40), 0, 0));
    CHECK(openat2_(top, "sub/file", O_RDONLY | 0x4000000, 0, 0));
    OPEN(openat2_(top, "sub/file", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "sub/../sub/file", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "../top/sub/file", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "/ro/file", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "up", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "abs", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "rel", O_RDONLY, 0, RESOLVE_BENEATH));
    OPEN(openat2_(top, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
    OPEN(openat2_(top, "rel", O_RDONLY | O_NOFOLLOW | O_PATH, 0, RESOLVE_NO_SYMLINKS));
    OPEN(openat2_(top, "rel", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS));
    OPEN(openat2_(top, "../../../../..", O_RDONLY, 0, RESOLVE_IN_ROOT));
    OPEN(openat2_(top, "/sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT));
    OPEN(openat2_(top, "/ro/file", O_RDONLY, 0, RESOLVE_IN_ROOT));
    OPEN(openat2_(top, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT));
    OPEN(openat2_(top, "root/sub/file", O_RDONLY, 0, RESOLVE_IN_ROOT));
    OPEN(openat2_(top, "up", O_RDONLY, 0, RESOLVE_IN_ROOT));
    OPEN(openat2_(top, "sub/file", O_RDONLY, 0, RESOLVE_NO_XDEV));
    OPEN(openat2_(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_XDEV));
    OPEN(openat2_(AT_FDCWD, "/proc/self/cwd", O_RDONLY | O_DIRECTORY, 0, 0));
    OPEN(openat2_(AT_FDCWD, "/proc/self/cwd", O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_MAGICLINKS));
    OPEN(openat2_(AT_FDCWD, "/proc/self/cwd/top", O_RDONLY | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS));
    OPEN(openat2_(top, "sub/file", O_RDONLY, 0, RESOLVE_CACHED));
    OPEN(openat2_(top, "sub/newfile", O_RDONLY | O_CREAT, 0644, RESOLVE_CACHED));
    OPEN(openat2_(top, "sub/newfile", O_RDONLY | O_CREAT, 0644, RESOLVE_BENEATH));
    CHECK(unlink("top/sub/newfile"));
    close(top);
    unlink("top/up");
    unlink("top/abs");
    unlink("top/rel");
    unlink("top/root");
    unlink("top/sub/file");
    rmdir("top/sub");
    rmdir("top");
    unlink("outside");
}

static void names_ops(void)
{
    puts("== rename, link, symlink, mknod");
    write_file("a", "aaa");
    write_file("b", "bbbbb");
    mkdir("d1", 0755);
    mkdir("d2", 0755);
    write_file("d2/x", "x");
    CHECK(rename("a", "c"));
    show("c");
    CHECK(rename("c", "b"));
    show("b");
    CHECK(rename("missing", "z"));
    CHECK(rename("b", "b"));
    write_file("a", "aaa");
    CHECK(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
    CHECK(renameat2(AT_FDCWD, "a", AT_FDCWD, "n", RENAME_NOREPLACE));
    show("n");
    CHECK(renameat2(AT_FDCWD, "n", AT_FDCWD, "b", RENAME_EXCHANGE));
    show("n");
    show("b");
    CHECK(renameat2(AT_FDCWD, "n", AT_FDCWD, "nothere", RENAME_EXCHANGE));
    CHECK(renameat2(AT_FDCWD, "n", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE));
    CHECK(renameat2(AT_FDCWD, "n", AT_FDCWD, "b", 8));
    CHECK(renameat2(AT_FDCWD, "n", AT_FDCWD, "d1", RENAME_EXCHANGE));
    show("d1");
    show("n");
    CHECK(renameat2(AT_FDCWD, "n", AT_FDCWD, "d1", RENAME_EXCHANGE));
    CHECK(rename("d1", "d2"));
    CHECK(rename("d2", "d1"));
    show("d1/x");
    CHECK(rename("b", "d1"));
    CHECK(rename("d1", "b"));
    CHECK(rename("b", "/ro/b"));
    CHECK(rename("/ro/file", "b"));
    CHECK(rename("/ro/file", "/ro/file2"));
    CHECK(rename("/tmp", "tmpdir"));
    CHECK(rename("b", "/tmp/b"));
    int d1 = open("d1", O_PATH | O_DIRECTORY);
    CHECK(renameat(d1, "x", AT_FDCWD, "x-moved"));
    CHECK(renameat(AT_FDCWD, "x-moved", d1, "x"));
    close(d1);

    CHECK(link("b", "b2"));
    show("b");
    CHECK(link("b", "b2"));
    CHECK(link("d1", "d3"));
    CHECK(link("missing", "m2"));
    CHECK(link("b", "/ro/b2"));
    CHECK(link("/ro/file", "passwd-link"));
    CHECK(link("b", "/tmp/b2"));
    CHECK(symlink("b", "sb"));
    CHECK(symlink("dangling", "sd"));
    CHECK(linkat(AT_FDCWD, "sb", AT_FDCWD, "sb-nofollow", 0));
    CHECK(linkat(AT_FDCWD, "sb", AT_FDCWD, "sb-follow", AT_SYMLINK_FOLLOW));
    CHECK(linkat(AT_FDCWD, "sd", AT_FDCWD, "sd-follow", AT_SYMLINK_FOLLOW));
    CHECK(linkat(AT_FDCWD, "sb", AT_FDCWD, "x", 0x10));
    show("sb-nofollow");
    show("sb-follow");
    show("b");
    CHECK(symlink("", "empty"));
    CHECK(symlink("b", "b"));
    CHECK(symlink("t", "/ro/sym"));
    CHECK(symlink("t", "missingdir/sym"));
    CHECK(mknod("fifo", S_IFIFO | 0666, 0));
    show("fifo");
    CHECK(mknod("reg", 0640, 0));
    CHECK(mknod("reg2", S_IFREG | 0777, 0));
    show("reg");
    show("reg2");
    CHECK(mknod("dir", S_IFDIR | 0755, 0));
    CHECK(mknod("bad", 0170000 | 0644, 0));
    CHECK(mknodat(AT_FDCWD, "fifo", S_IFIFO | 0644, 0));
    CHECK(mknod("/ro/fifo", S_IFIFO | 0644, 0));
    CHECK(mkdir("/ro/newdir", 0755));
    CHECK(mkdir("/ro", 0755));
    CHECK(rmdir("/ro/nonexistent"));
    CHECK(unlink("/ro/nonexistent"));
    CHECK(unlink("/ro/file"));
    CHECK(rmdir("/tmp"));
    CHECK(rmdir("/proc"));
    CHECK(unlink("/proc/self/status"));
    CHECK(mkdir("/proc/newdir", 0755));
    const char *made[] = {"fifo", "reg", "reg2", "sb", "sd", "sb-nofollow", "sb-follow", "b2", "b", "n",
                          "d1/x", NULL};
    for (const char **p = made; *p; p++)
        CHECK(unlink(*p));
    CHECK(rmdir("d1"));
    CHECK(rmdir("d2"));
}

static void metadata(void)
{
    puts("== chmod, chown, utimes, truncate");
    struct stat st;
    struct statfs b;
    write_file("m", "0123456789");
    symlink("m", "lm");
    symlink("gone", "lgone");
    CHECK(chmod("m", 04751));
    show("m");
    CHECK(chmod("lm", 0600));
    show("m");
    CHECK(fchmodat(AT_FDCWD, "lm", 0640, 0));
    CHECK(fchmodat(AT_FDCWD, "m", 0640, 0x8000));
    CHECK(chmod("lgone", 0600));
    CHECK(chmod("/ro/file", 0600));
    CHECK(chmod("/proc/self/status", 0600));
    int fd = open("m", O_RDONLY);
    CHECK(fchmod(fd, 0604));
    show("m");
    CHECK(fchown(fd, 12, 34));
    show("m");
    close(fd);
    CHECK(chown("lm", 56, 78));
    show("m");
    show("lm");
    CHECK(lchown("lm", 90, 91));
    show("lm");
    show("m");
    CHECK(lchown("lgone", 1, 2));
    CHECK(chown("lgone", 1, 2));
    CHECK(chown("m", -1, 5));
    CHECK(fchownat(AT_FDCWD, "lm", 7, -1, AT_SYMLINK_NOFOLLOW));
    CHECK(fchownat(AT_FDCWD, "lm", 7, -1, 0x8000));
    show("m");
    show("lm");
    CHECK(chown("/ro/file", 0, 0));
    CHECK(chown("m", (uid_t)-2, 4000000000u));
    show("m");
    CHECK(chown("m", 0, 0));

    struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
    CHECK(utimensat(AT_FDCWD, "m", ts, 0));
    show_times("m");
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = 1300000000;
    CHECK(utimensat(AT_FDCWD, "m", ts, 0));
    show_times("m");
    ts[0].tv_nsec = 1000000000;
    CHECK(utimensat(AT_FDCWD, "m", ts, 0));
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_nsec = UTIME_OMIT;
    CHECK(utimensat(AT_FDCWD, "does-not-exist", ts, 0));
    CHECK(utimensat(AT_FDCWD, "m", ts, 0x8000));
    struct timespec ts2[2] = {{1400000000, 0}, {1500000000, 5}};
    CHECK(utimensat(AT_FDCWD, "lm", ts2, AT_SYMLINK_NOFOLLOW));
    show_times("lm");
    show_times("m");
    CHECK(utimensat(AT_FDCWD, "lm", ts2, 0));
    show_times("m");
    CHECK(utimensat(AT_FDCWD, "/ro/file", ts2, 0));
    CHECK(utimensat(AT_FDCWD, "/ro/file", NULL, 0));
    CHECK(syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
    fd = open("m", O_RDONLY);
    CHECK(syscall(SYS_utimensat, fd, NULL, ts2, AT_SYMLINK_NOFOLLOW));
    struct timespec ts3[2] = {{1600000000, 1}, {1700000000, 2}};
    CHECK(syscall(SYS_utimensat, fd, NULL, ts3, 0));
    show_times("m");
    close(fd);
    struct timeval tv[2] = {{1100000000, 1}, {1100000001, 999999}};
    CHECK(utimes("m", tv));
    show_times("m");
    tv[1].tv_usec = 1000000;
    CHECK(utimes("m", tv));
    tv[1].tv_usec = 5;
    CHECK(futimesat(AT_FDCWD, "lm", tv));
    show_times("m");
    struct utimbuf ub = {1234567890, 1234567891};
    CHECK(utime("m", &ub));
    show_times("m");
    CHECK(utime("missing", &ub));

    CHECK(truncate("m", 4));
    show("m");
    CHECK(truncate("lm", 100));
    show("m");
    CHECK(truncate("m", -1));
    CHECK(truncate(".", 0));
    CHECK(truncate("/ro/file", 0));
    CHECK(truncate("missing", 0));

    puts("== fd calls on a renamed or unlinked file");
    write_file("r1", "abc");
    fd = open("r1", O_RDWR);
    int pfd = open("r1", O_PATH);
    CHECK(rename("r1", "r2"));
    write_file("r1", "a new file at the old name, which must stay untouched");
    CHECK(fchmod(fd, 0600));
    CHECK(fchown(fd, 3, 4));
    CHECK(futimens(fd, ts3));
    CHECK(fchownat(pfd, "", 5, 6, AT_EMPTY_PATH));
    CHECK(utimensat(pfd, "", ts2, AT_EMPTY_PATH));
    CHECK(linkat(pfd, "", AT_FDCWD, "r3", AT_EMPTY_PATH));
    CHECK(fstatfs(fd, &b));
    show("r1");
    show("r2");
    show_times("r2");
    show("r3");
    CHECK(unlink("r2"));
    CHECK(unlink("r3"));
    CHECK(fchmod(fd, 0604));
    CHECK(linkat(fd, "", AT_FDCWD, "revived", AT_EMPTY_PATH));
    fstat(fd, &st);
    printf("unlinked file: mode %o nlink %ld\n", st.st_mode, (long)st.st_nlink);
    close(fd);
    close(pfd);
    unlink("r1");

    puts("== dirfds and the cwd follow a rename");
    mkdir("before", 0755);
    mkdir("before/in", 0755);
    write_file("before/in/f", "f");
    int bfd = open("before/in", O_RDONLY | O_DIRECTORY);
    CHECK(chdir("before"));
    CHECK(rename("../before", "../after"));
    char cwd[256];
    printf("getcwd: %s\n", strrchr(getcwd(cwd, sizeof cwd), '/'));
    OPEN(openat(bfd, "f", O_RDONLY));
    OPEN(open("in/f", O_RDONLY));
    CHECK(chdir(".."));
    mkdir("other", 0755);
    CHECK(renameat2(AT_FDCWD, "after", AT_FDCWD, "other", RENAME_EXCHANGE));
    OPEN(openat(bfd, "f", O_RDONLY));
    CHECK(fchdir(bfd));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? strstr(cwd, "/work") : "?");
    CHECK(unlink("f"));
    CHECK(chdir("/work"));
    close(bfd);
    CHECK(rmdir("other/in"));
    CHECK(rmdir("other"));
    CHECK(rmdir("after"));

    puts("== statfs");
    struct statfs a;
    CHECK(statfs(".", &a));
    fd = open("m", O_RDONLY);
    CHECK(fstatfs(fd, &b));
    close(fd);
    printf("same fs type for . and m: %d, namelen %ld\n", a.f_type == b.f_type, (long)a.f_namelen);
    CHECK(statfs("/proc", &a));
    printf("/proc f_type %lx\n", (long)a.f_type);
    CHECK(statfs("missing", &a));
    CHECK(fstatfs(0, &a));
    printf("stdin (a pipe) f_type %lx\n", (long)a.f_type);
    CHECK(statfs("/ro", &a));
    printf("/ro read-only: %d\n", (int)(a.f_flags & ST_RDONLY));
    sync();
    fd = open("m", O_RDONLY);
    CHECK(syncfs(fd));
    close(fd);
    CHECK(syncfs(99));
    unlink("m");
    unlink("lm");
    unlink("lgone");
}

/* What the sandbox refuses although root may do it natively: device nodes (as
 * without CAP_MKNOD) and whiteouts (no overlay file systems here). */
/* Bad pointers are EFAULT, never a crash of anything. */
static void bad_pointers(void)
{
    puts("== bad pointers");
    void *bad = (void *)16;
    write_file("f", "f");
    CHECK(syscall(SYS_utimensat, AT_FDCWD, "f", bad, 0));
    CHECK(syscall(SYS_utimensat, AT_FDCWD, bad, NULL, 0));
    CHECK(syscall(SYS_utimes, "f", bad));
    CHECK(syscall(SYS_utime, "f", bad));
    CHECK(syscall(SYS_futimesat, AT_FDCWD, "f", bad));
    CHECK(syscall(SYS_statfs, ".", bad));
    CHECK(syscall(SYS_fstatfs, 0, bad));
    CHECK(syscall(SYS_openat2, AT_FDCWD, "f", bad, 24));
    CHECK(syscall(SYS_rename, bad, "x"));
    CHECK(syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, bad, 0));
    CHECK(syscall(SYS_link, "f", bad));
    CHECK(syscall(SYS_symlink, bad, "x"));
    CHECK(syscall(SYS_chmod, bad, 0644));
    CHECK(syscall(SYS_fchownat, AT_FDCWD, bad, 0, 0, 0));
    CHECK(syscall(SYS_truncate, bad, 0));
    CHECK(syscall(SYS_mknodat, AT_FDCWD, bad, S_IFIFO | 0644, 0));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, bad, R_OK, 0));
    CHECK(syscall(SYS_readlinkat, AT_FDCWD, "f", bad, 10));
    CHECK(unlink("f"));
}

static void sandbox_only(void)
{
    CHECK(mknod("chr", S_IFCHR | 0600, makedev(1, 3)));
    CHECK(mknod("blk", S_IFBLK | 0600, makedev(7, 0)));
    write_file("w", "w");
    CHECK(renameat2(AT_FDCWD, "w", AT_FDCWD, "w2", RENAME_WHITEOUT));
    CHECK(unlink("w"));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    if (argc > 1 && strcmp(argv[1], "sandbox-only") == 0) {
        sandbox_only();
        return 0;
    }
    names();
    slashes();
    open_flags();
    openat2_checks();
    names_ops();
    metadata();
    bad_pointers();
    return 0;
}
