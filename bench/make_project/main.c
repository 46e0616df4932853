#include <stdio.h>
#include "util.h"

int main(int argc, char **argv)
{
    printf("%s: %s\n", argv[0], greet());
    printf("add %d mul %d fact %ld\n", add(2, 3), mul(6, 7), fact(12));
    return argc - 1;
}
