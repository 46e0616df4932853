/* Try the two doors around a seccomp filter that only checks syscall numbers:
 *   int80  - `int $0x80` with eax=20, i.e. getpid through the i386 entry
 *            (AUDIT_ARCH_I386 in the seccomp data);
 *   x32    - `syscall` with nr 0x40000000|39, getpid through the x32 ABI.
 * Natively the call simply returns (a pid, or -ENOSYS when the kernel lacks
 * IA32 emulation or x32) and the program prints "returned" and exits 0.
 * Under Pyrene the filter must kill the process (SIGSYS) before the call
 * reaches the host kernel. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "int80";
    long ret;

    if (strcmp(mode, "int80") == 0) {
        ret = 20;
        /* int 0x80 clobbers r8-r11 (they are zeroed on return). */
        __asm__ volatile("int $0x80"
                         : "+a"(ret)
                         :
                         : "r8", "r9", "r10", "r11", "memory");
    } else if (strcmp(mode, "x32") == 0) {
        ret = 0x40000000L | 39;
        __asm__ volatile("syscall"
                         : "+a"(ret)
                         :
                         : "rcx", "r11", "memory");
    } else {
        fprintf(stderr, "usage: int80 [int80|x32]\n");
        return 2;
    }
    (void)ret;
    printf("%s returned\n", mode);
    return 0;
}
