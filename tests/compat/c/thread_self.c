/* /proc/thread-self names the calling thread: "<pid>/task/<tid>" in the main thread and
 * in a second thread, and /proc/thread-self/status says whose it is. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void check(const char *who)
{
    char link[64], want[64], line[128];
    ssize_t n = readlink("/proc/thread-self", link, sizeof link - 1);
    link[n < 0 ? 0 : n] = 0;
    snprintf(want, sizeof want, "%d/task/%ld", getpid(), (long)syscall(SYS_gettid));
    printf("%s: thread-self is the caller %d\n", who, strcmp(link, want) == 0);
    FILE *f = fopen("/proc/thread-self/status", "r");
    long pid = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Pid: %ld", &pid) == 1)
            break;
    if (f)
        fclose(f);
    printf("%s: its status is the caller's %d\n", who, pid == syscall(SYS_gettid));
}

static void *second(void *arg)
{
    (void)arg;
    check("second thread");
    return NULL;
}

int main(void)
{
    check("main thread");
    pthread_t th;
    pthread_create(&th, NULL, second, NULL);
    pthread_join(th, NULL);
    return 0;
}
