/* CHECK(expr): run a call and print it with its result in a run-independent form,
 * "expr = N" or "expr = -1 ENAME", so that native and Pyrene runs compare line by line. */
#ifndef PYRENE_TEST_CHECK_H
#define PYRENE_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(expr);                                                \
        if (r_ < 0)                                                            \
            printf("%s = -1 %s\n", #expr, strerrorname_np(errno));             \
        else                                                                   \
            printf("%s = %ld\n", #expr, r_);                                   \
    } while (0)

/* CHECK_ID(var, expr): like CHECK for a call returning an id that differs between runs
 * (System V IPC ids): stores it in var and prints "expr = id" or the errno name. */
#define CHECK_ID(var, expr)                                                    \
    do {                                                                       \
        errno = 0;                                                             \
        var = (expr);                                                          \
        if (var < 0)                                                           \
            printf("%s = -1 %s\n", #expr, strerrorname_np(errno));             \
        else                                                                   \
            printf("%s = id\n", #expr);                                        \
    } while (0)

#endif
