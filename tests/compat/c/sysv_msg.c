/* System V message queues in one process: msgget keys and flags, msgsnd/msgrcv with
 * types (0, positive, negative, MSG_EXCEPT), MSG_NOERROR, E2BIG, IPC_NOWAIT, MSG_COPY,
 * the byte limit of a queue, msgctl IPC_STAT/IPC_SET/IPC_RMID/IPC_INFO/MSG_STAT. Ids are
 * printed only relative to each other; every queue is removed, also on failure (natively
 * they live in the host's IPC namespace). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include "check.h"

static int ids[3] = {-1, -1, -1};

static void cleanup(void)
{
    for (int i = 0; i < 3; i++)
        if (ids[i] >= 0)
            msgctl(ids[i], IPC_RMID, NULL);
}

struct msg {
    long mtype;
    char mtext[64];
};

static void send(int id, long type, const char *text)
{
    struct msg m = {.mtype = type};
    strcpy(m.mtext, text);
    errno = 0;
    int r = msgsnd(id, &m, strlen(text), IPC_NOWAIT);
    printf("send %ld %s: %s\n", type, text, r < 0 ? strerrorname_np(errno) : "ok");
}

static void receive(int id, size_t size, long type, int flags)
{
    struct msg m;
    memset(&m, 0, sizeof m);
    errno = 0;
    ssize_t n = msgrcv(id, &m, size, type, flags | IPC_NOWAIT);
    if (n < 0)
        printf("recv(size %zu, type %ld, flags %o) = -1 %s\n", size, type, flags, strerrorname_np(errno));
    else
        printf("recv(size %zu, type %ld, flags %o) = %zd: type %ld \"%.*s\"\n", size, type, flags, n, m.mtype,
               (int)n, m.mtext);
}

static void show(int id, const char *what)
{
    struct msqid_ds ds;
    if (msgctl(id, IPC_STAT, &ds) < 0) {
        printf("%s: stat %s\n", what, strerrorname_np(errno));
        return;
    }
    printf("%s: key %s mode %o qnum %lu cbytes %lu qbytes %lu lspid==me %d lrpid==me %d stime %s\n", what,
           ds.msg_perm.__key == IPC_PRIVATE ? "private" : "set", ds.msg_perm.mode, (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes, ds.msg_lspid == getpid(),
           ds.msg_lrpid == getpid(), ds.msg_stime ? "set" : "zero");
}

int main(int argc, char **argv)
{
    atexit(cleanup);
    key_t key = ftok(argc > 1 ? argv[1] : ".", 'm');
    struct msqid_ds ds;
    struct msg m = {.mtype = 1};

    CHECK(msgget(key, 0600));
    CHECK_ID(ids[0], msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    CHECK(msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    printf("same key, same id: %d\n", msgget(key, IPC_CREAT | 0600) == ids[0]);
    show(ids[0], "fresh");

    send(ids[0], 3, "three");
    send(ids[0], 1, "one");
    send(ids[0], 2, "two");
    send(ids[0], 1, "one again");
    send(ids[0], 5, "five");
    send(ids[0], 0, "type zero");
    CHECK(msgsnd(ids[0], &m, 10000, 0));        /* EINVAL: above msgmax */
    show(ids[0], "five messages");

    receive(ids[0], 64, 0, MSG_COPY);             /* by position, message stays */
    receive(ids[0], 64, 3, MSG_COPY);
    receive(ids[0], 64, 9, MSG_COPY);
    receive(ids[0], 64, 0, MSG_COPY | MSG_EXCEPT);
    receive(ids[0], 2, 1, 0);                     /* E2BIG, message stays */
    receive(ids[0], 2, 1, MSG_NOERROR);           /* cut to 2 bytes */
    receive(ids[0], 64, -2, 0);                   /* lowest type <= 2: "one again" */
    receive(ids[0], 64, 1, MSG_EXCEPT);           /* first not of type 1: "three" */
    receive(ids[0], 64, 4, 0);                    /* ENOMSG */
    receive(ids[0], 64, -100, 0);                 /* "two" */
    receive(ids[0], 64, 0, 0);                    /* "five" */
    receive(ids[0], 64, 0, 0);                    /* ENOMSG */
    show(ids[0], "drained");

    /* qbytes: a smaller limit makes a full queue EAGAIN under IPC_NOWAIT */
    CHECK(msgctl(ids[0], IPC_STAT, &ds));
    ds.msg_qbytes = 10;
    ds.msg_perm.mode = 0640;
    CHECK(msgctl(ids[0], IPC_SET, &ds));
    send(ids[0], 7, "123456");
    send(ids[0], 7, "7890");
    send(ids[0], 7, "x");
    show(ids[0], "full");
    receive(ids[0], 64, 7, 0);
    send(ids[0], 7, "x");

    /* private queues are distinct; MSG_STAT finds a queue by index */
    CHECK_ID(ids[1], msgget(IPC_PRIVATE, 0600));
    CHECK_ID(ids[2], msgget(IPC_PRIVATE, IPC_CREAT | 0600));
    printf("distinct ids: %d %d\n", ids[1] != ids[2], ids[1] != ids[0]);
    printf("MSG_STAT by index: %d\n", msgctl(ids[2] % 32768, MSG_STAT, &ds) == ids[2]);

    struct msginfo info;
    CHECK(msgctl(0, IPC_INFO, (struct msqid_ds *)&info) >= 0);
    printf("msgmax %d msgmnb %d msgmni %d msgssz %d msgseg %d\n", info.msgmax, info.msgmnb, info.msgmni,
           info.msgssz, info.msgseg);

    CHECK(msgctl(ids[0], 999, &ds));
    CHECK(msgctl(-1, IPC_STAT, &ds));
    for (int i = 0; i < 3; i++) {
        CHECK(msgctl(ids[i], IPC_RMID, NULL));
        int gone = ids[i];
        ids[i] = -1;
        CHECK(msgctl(gone, IPC_STAT, &ds));
    }
    CHECK(msgget(key, 0600));
    return 0;
}
