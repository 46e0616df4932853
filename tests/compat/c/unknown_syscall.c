/* Syscalls no kernel implements (vserver, tuxcall): ENOSYS natively, and under Pyrene
 * ENOSYS from the dispatcher, each name logged once however often it is called. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void call(long nr, const char *name)
{
    long r = syscall(nr, 0, 0, 0);
    printf("%s: %ld %s\n", name, r, r == -1 ? strerror(errno) : "");
}

int main(void)
{
    call(SYS_vserver, "vserver");
    call(SYS_vserver, "vserver");
    call(SYS_tuxcall, "tuxcall");
    return 0;
}
