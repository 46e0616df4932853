/* Threads (CLONE_THREAD): create/join, mutex+condvar, a thread blocked in read() while
 * another writes, gettid, pthread_kill and raise with handlers, detach, TLS, fork from
 * a thread, exit() from a thread while others block, the leader exiting first, and
 * finally execve of /bin/echo from a non-main thread while another thread sleeps.
 * Only deterministic output: what threads find out is printed by main after a join. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* -- create/join, return values, TLS, gettid ------------------------------------- */

static __thread int tls_value = -1;
static pid_t tids[4];

static void *worker(void *arg) {
    long i = (long)arg;
    tls_value = (int)i * 10;
    tids[i] = gettid();
    sleep_ms(20);
    long sum = 0;
    for (long k = 0; k <= 1000 * (i + 1); k++)
        sum += k;
    return (void *)(sum * 100 + tls_value);  /* the TLS value survived the sleep */
}

static void create_join(void) {
    pthread_t th[4];
    for (long i = 0; i < 4; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
            printf("pthread_create failed\n");
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        printf("thread %d: sum*100+tls = %ld\n", i, (long)ret);
    }
    int distinct = 1;
    for (int i = 0; i < 4; i++) {
        if (tids[i] == getpid() || tids[i] <= 0)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (tids[i] == tids[j])
                distinct = 0;
    }
    printf("main: gettid == getpid: %d, thread tids distinct and not the pid: %d, main tls %d\n",
           gettid() == getpid(), distinct, tls_value);
}

/* -- mutex + condvar ping-pong --------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *pong(void *arg) {
    (void)arg;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&mu);
        while (turn != 1)
            pthread_cond_wait(&cv, &mu);
        rounds++;
        turn = 0;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void ping_pong(void) {
    pthread_t th;
    pthread_create(&th, NULL, pong, NULL);
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&mu);
        while (turn != 0)
            pthread_cond_wait(&cv, &mu);
        rounds++;
        turn = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    pthread_join(th, NULL);
    printf("ping-pong rounds: %d\n", rounds);
}

/* -- a thread blocked in read() on a pipe, poll() in another ----------------------- */

static int pipefd[2], pollpipe[2];

static void *reader(void *arg) {
    (void)arg;
    char buf[32] = {0};
    ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
    printf("reader got %zd bytes: %s\n", n, buf);
    return NULL;
}

static void *poller(void *arg) {
    (void)arg;
    struct pollfd p = {pollpipe[0], POLLIN, 0};
    int n = poll(&p, 1, 10000);
    return (void *)(long)(n * 10 + ((p.revents & POLLIN) != 0));
}

static void blocked_reader(void) {
    pipe(pipefd);
    pipe(pollpipe);
    pthread_t r, p;
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&p, NULL, poller, NULL);
    sleep_ms(100);  /* both threads are blocked by now: main must still run */
    write(pollpipe[1], "x", 1);
    void *ret;
    pthread_join(p, &ret);
    printf("poller: %ld\n", (long)ret);
    write(pipefd[1], "hello", 5);
    pthread_join(r, NULL);
    close(pipefd[0]);
    close(pipefd[1]);
    close(pollpipe[0]);
    close(pollpipe[1]);
}

/* -- pthread_kill and raise: the handler runs in the target thread --------------- */

static volatile pid_t handler_tid;
static volatile int stop_waiting;

static void on_usr1(int sig) {
    (void)sig;
    handler_tid = gettid();
}

static void *waiter(void *arg) {
    (void)arg;
    pid_t me = gettid();
    while (!stop_waiting)
        sleep_ms(5);
    int in_target = handler_tid == me;
    handler_tid = 0;
    raise(SIGUSR1);
    return (void *)(long)(in_target * 10 + (handler_tid == me));
}

static void kill_thread(void) {
    signal(SIGUSR1, on_usr1);
    pthread_t th;
    pthread_create(&th, NULL, waiter, NULL);
    sleep_ms(20);
    printf("pthread_kill = %d\n", pthread_kill(th, SIGUSR1));
    while (!handler_tid)
        sleep_ms(5);
    stop_waiting = 1;
    void *ret;
    pthread_join(th, &ret);
    printf("handler in target thread: %ld, raise in thread: %ld\n", (long)ret / 10, (long)ret % 10);
    long r = syscall(SYS_tgkill, getpid(), tids[0], 0);
    printf("tgkill of a joined thread's tid = %s\n", r == -1 ? strerrorname_np(errno) : "0");
    r = syscall(SYS_tgkill, getpid() + 1000000, gettid(), 0);
    printf("tgkill with another tgid = %s\n", r == -1 ? strerrorname_np(errno) : "0");
}

/* -- a process-wide signal interrupts one thread, not every sleeping one ----------- */

static volatile pid_t usr2_tid;

static void on_usr2(int sig) {
    (void)sig;
    usr2_tid = gettid();
}

static void *nap(void *arg) {
    (void)arg;
    struct timespec ts = {0, 300 * 1000000L};
    return (void *)(long)nanosleep(&ts, NULL);
}

static void process_signal(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t a, b;
    pthread_create(&a, NULL, nap, NULL);
    pthread_create(&b, NULL, nap, NULL);
    sleep_ms(50);
    kill(getpid(), SIGUSR2);  /* main does not block it: main takes it */
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    printf("kill(getpid()): handled by main %d, sleepers' nanosleep %ld %ld\n", usr2_tid == gettid(), (long)ra,
           (long)rb);
}

/* -- detach ---------------------------------------------------------------------- */

static sem_t done;

static void *detached(void *arg) {
    (void)arg;
    pthread_detach(pthread_self());
    sleep_ms(10);
    sem_post(&done);
    return NULL;
}

static void detach(void) {
    sem_init(&done, 0, 0);
    pthread_t th;
    pthread_create(&th, NULL, detached, NULL);
    sem_wait(&done);
    printf("detached thread ran\n");
}

/* -- /proc/self/task ------------------------------------------------------------- */

static int count_tasks(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void *idle(void *arg) {
    (void)arg;
    while (!stop_waiting)
        sleep_ms(5);
    return NULL;
}

static void proc_tasks(void) {
    stop_waiting = 0;
    pthread_t th[2];
    pthread_create(&th[0], NULL, idle, NULL);
    pthread_create(&th[1], NULL, idle, NULL);
    int n = count_tasks();  /* the detached thread of detach() may still be ending */
    for (int i = 0; i < 200 && n != 3; i++) {
        sleep_ms(5);
        n = count_tasks();
    }
    printf("tasks with 2 more threads: %d\n", n);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", gettid());
    printf("own task dir: %d\n", access(path, R_OK) == 0);
    stop_waiting = 1;
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    n = count_tasks();  /* a joined thread's task may linger a moment after its futex wake */
    for (int i = 0; i < 200 && n != 1; i++) {
        sleep_ms(5);
        n = count_tasks();
    }
    printf("tasks after join: %d\n", n);
}

/* -- fork from a thread: the child has only the forking thread ------------------- */

static void *forker(void *arg) {
    (void)arg;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("child: tasks %d, gettid == getpid %d\n", count_tasks(), gettid() == getpid());
        pthread_t th;
        pthread_create(&th, NULL, worker, (void *)1L);  /* threads work in the child too */
        void *ret;
        pthread_join(th, &ret);
        printf("child: thread returned %ld\n", (long)ret);
        fflush(stdout);
        _exit(7);
    }
    int status;
    waitpid(pid, &status, 0);
    return (void *)(long)WEXITSTATUS(status);
}

static void fork_from_thread(void) {
    stop_waiting = 0;
    pthread_t busy, f;
    pthread_create(&busy, NULL, idle, NULL);
    pthread_create(&f, NULL, forker, NULL);
    void *ret;
    pthread_join(f, &ret);
    stop_waiting = 1;
    pthread_join(busy, NULL);
    printf("forked child's status: %ld\n", (long)ret);
}

/* -- exit() from a thread while others block (in a child process) ---------------- */

static void *block_in_read(void *arg) {
    char c;
    read(*(int *)arg, &c, 1);
    return NULL;
}

static void *block_in_sleep(void *arg) {
    (void)arg;
    sleep(100);
    return NULL;
}

static void *exit_process(void *arg) {
    (void)arg;
    sleep_ms(50);
    exit(5);
}

static void *outlive_leader(void *arg) {
    (void)arg;
    sleep_ms(50);
    printf("leader gone, thread still runs\n");
    fflush(stdout);
    exit(3);
}

static void exits(void) {
    fflush(stdout);
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t a, b, c;
        pthread_create(&a, NULL, block_in_read, &p[0]);
        pthread_create(&b, NULL, block_in_sleep, NULL);
        pthread_create(&c, NULL, exit_process, NULL);
        pthread_join(a, NULL);
        _exit(1);
    }
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    printf("exit() in a thread: exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
    close(p[1]);

    pid = fork();
    if (pid == 0) {
        pthread_t a;
        pthread_create(&a, NULL, outlive_leader, NULL);
        pthread_exit(NULL);
    }
    waitpid(pid, &status, 0);
    printf("leader exited first: exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));

    pid = fork();
    if (pid == 0) {
        pthread_t a;
        pthread_create(&a, NULL, block_in_sleep, NULL);
        sleep_ms(20);
        kill(getpid(), SIGTERM);
        sleep(100);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    printf("SIGTERM to a threaded process: signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));
}

/* -- execve from a non-main thread ----------------------------------------------- */

static void *exec_echo(void *arg) {
    (void)arg;
    sleep_ms(20);
    fflush(stdout);
    char *argv[] = {"echo", "exec from a thread", NULL};
    execv("/bin/echo", argv);
    perror("execv");
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    create_join();
    ping_pong();
    blocked_reader();
    kill_thread();
    process_signal();
    detach();
    proc_tasks();
    fork_from_thread();
    exits();
    pthread_t sleeper, execer;
    pthread_create(&sleeper, NULL, block_in_sleep, NULL);
    pthread_create(&execer, NULL, exec_echo, NULL);
    int never[2];
    pipe(never);
    char c;
    read(never[0], &c, 1);  /* main blocks in read (parked under Pyrene) while a thread execs */
    printf("not reached\n");
    return 1;
}
