/* Per-process odds and ends: nice values, scheduling policies, getrusage/times and the
 * prctl flags (pdeathsig, subreaper, dumpable, no_new_privs). Prints only what is the same
 * in every run. As root it ends as uid 1000, to see what an unprivileged process may not. */
#define _GNU_SOURCE
#include "check.h"
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NO_SUCH_PID 0x7ffffff0

static void usage(int who, const char *name) {
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    if (getrusage(who, &ru) != 0) {
        printf("getrusage(%s): %s\n", name, strerrorname_np(errno));
        return;
    }
    printf("getrusage(%s): times>=0 %d usec<1e6 %d maxrss>0 %d minflt>0 %d nvcsw>=0 %d\n", name,
           ru.ru_utime.tv_sec >= 0 && ru.ru_stime.tv_sec >= 0,
           ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000, ru.ru_maxrss > 0,
           ru.ru_minflt > 0, ru.ru_nvcsw >= 0 && ru.ru_nivcsw >= 0);
}

static void nonewprivs_status(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "NoNewPrivs:", 11))
            fputs(line, stdout);
    if (f)
        fclose(f);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);

    /* nice: the raw syscall answers 20 - nice */
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    CHECK(setpriority(PRIO_PROCESS, 0, 5));
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    CHECK(getpriority(PRIO_PROCESS, getpid()));
    CHECK(setpriority(PRIO_PROCESS, 0, 100));
    CHECK(getpriority(PRIO_PROCESS, 0));
    CHECK(syscall(SYS_getpriority, 3, 0));
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, NO_SUCH_PID));
    CHECK(syscall(SYS_getpriority, PRIO_USER, 54321));
    CHECK(setpriority(PRIO_PROCESS, NO_SUCH_PID, 1));

    /* scheduling policies */
    struct sched_param sp = {0};
    CHECK(sched_getscheduler(0));
    CHECK(sched_getscheduler(-1));
    CHECK(sched_getscheduler(NO_SUCH_PID));
    CHECK(sched_get_priority_max(SCHED_FIFO));
    CHECK(sched_get_priority_min(SCHED_RR));
    CHECK(sched_get_priority_max(SCHED_OTHER));
    CHECK(sched_get_priority_min(SCHED_IDLE));
    CHECK(sched_get_priority_max(42));
    CHECK(sched_getparam(0, &sp));
    printf("priority %d\n", sp.sched_priority);
    CHECK(syscall(SYS_sched_getparam, 0, NULL));
    CHECK(sched_setscheduler(0, SCHED_BATCH, &sp));
    CHECK(sched_getscheduler(0));
    CHECK(sched_setscheduler(0, 42, &sp));
    sp.sched_priority = 5;
    CHECK(sched_setscheduler(0, SCHED_OTHER, &sp));
    CHECK(sched_setparam(0, &sp));
    sp.sched_priority = 0;
    CHECK(sched_setscheduler(0, SCHED_OTHER, &sp));
    CHECK(sched_setparam(0, &sp));
    CHECK(sched_getscheduler(0));

    /* accounting */
    for (volatile long i = 0; i < 20000000; i++)
        ;
    usage(RUSAGE_SELF, "SELF");
    usage(RUSAGE_THREAD, "THREAD");
    struct rusage ru;
    CHECK(getrusage(RUSAGE_CHILDREN, &ru));
    printf("children utime %ld maxrss %ld\n", (long)ru.ru_utime.tv_sec, ru.ru_maxrss);
    CHECK(getrusage(5, &ru));
    struct tms tms;
    clock_t now = times(&tms);
    printf("times > 0 %d, utime >= 0 %d, cutime %ld\n", now > 0, tms.tms_utime >= 0, (long)tms.tms_cutime);
    printf("times(NULL) >= then %d\n", times(NULL) >= now);
    /* a child's time counts for its parent once the parent has waited for it */
    pid_t child = fork();
    if (child == 0) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        do  /* 0.3 s of user time */
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        while ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec < 300000000L);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    CHECK(getrusage(RUSAGE_CHILDREN, &ru));
    times(&tms);
    printf("after a child: children's time >= 0.2 s %d, maxrss > 0 %d, cutime+cstime >= 20 ticks %d\n",
           ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec >= 200000,
           ru.ru_maxrss > 0, tms.tms_cutime + tms.tms_cstime >= 20);

    /* prctl flags */
    int value = -1;
    CHECK(prctl(PR_GET_PDEATHSIG, &value));
    printf("pdeathsig %d\n", value);
    CHECK(prctl(PR_SET_PDEATHSIG, 9));
    CHECK(prctl(PR_SET_PDEATHSIG, 65));
    CHECK(prctl(PR_GET_PDEATHSIG, &value));
    printf("pdeathsig %d\n", value);
    CHECK(prctl(PR_GET_CHILD_SUBREAPER, &value));
    printf("subreaper %d\n", value);
    CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1));
    CHECK(prctl(PR_GET_CHILD_SUBREAPER, &value));
    printf("subreaper %d\n", value);
    CHECK(prctl(PR_GET_DUMPABLE));
    CHECK(prctl(PR_SET_DUMPABLE, 2));
    CHECK(prctl(PR_SET_DUMPABLE, 0));
    CHECK(prctl(PR_GET_DUMPABLE));
    CHECK(prctl(PR_SET_DUMPABLE, 1));
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    nonewprivs_status();
    CHECK(prctl(12345, 0, 0, 0, 0));

    /* unprivileged: a nice value may only go up; real-time and leaving SCHED_IDLE need rights */
    CHECK(setpriority(PRIO_PROCESS, 0, 3));  /* lower again: as root, or refused */
    if (geteuid() == 0 && (setgid(1000) != 0 || setuid(1000) != 0))
        return 1;
    CHECK(prctl(PR_GET_DUMPABLE));
    CHECK(setpriority(PRIO_PROCESS, 0, 10));
    CHECK(setpriority(PRIO_PROCESS, 0, 19));
    CHECK(setpriority(PRIO_PROCESS, 0, 5));
    CHECK(getpriority(PRIO_PROCESS, 0));
    sp.sched_priority = 10;
    CHECK(sched_setscheduler(0, SCHED_FIFO, &sp));
    sp.sched_priority = 0;
    CHECK(sched_setscheduler(0, SCHED_IDLE, &sp));
    CHECK(sched_getscheduler(0));
    CHECK(sched_setscheduler(0, SCHED_OTHER, &sp));
    CHECK(sched_getscheduler(0));
    return 0;
}
