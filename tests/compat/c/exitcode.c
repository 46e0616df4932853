/* Exit with the status given as argv[1] (default 0): checks that the status
 * of exit_group reaches the caller unchanged, including values above 127. */
#include <stdlib.h>

int main(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}
