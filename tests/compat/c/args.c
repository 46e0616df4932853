/* Print argc, every argv[] string and the string AT_EXECFN points to.
 * Used to check that argv[0] is passed as given (bare name found on PATH,
 * relative path, symlink) and how #! scripts rewrite argv. */
#include <stdio.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    printf("execfn=%s\n", execfn ? execfn : "(none)");
    return 0;
}
