/* Say "ready", then burn CPU forever without making a single syscall.
 * Used by the tracer-kill test: the app must die with its tracer even
 * though it never stops in a syscall. */
#include <stdio.h>

int main(void)
{
    printf("ready\n");
    fflush(stdout);
    for (volatile unsigned long n = 0;; n++)
        ;
}
