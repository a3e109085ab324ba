/* fake_cluster.c: see fake_cluster.h. */
#define _GNU_SOURCE
#include "fake_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/loop.h"
#include "common/resp_server.h"

#define KEYS 64

typedef struct impl {
    loop *l;
    pthread_t t;
    resp_server *srv[FAKE_MAX];
    char key[KEYS][32];
    char val[KEYS][32];
    int used[KEYS];
} impl;

typedef struct srv_arg {
    fake_cluster *fc;
    int idx;
} srv_arg;

static srv_arg args[FAKE_MAX];

static int slot(impl *m, const char *k, int create)
{
    for (int i = 0; i < KEYS; i++)
        if (m->used[i] && !strcmp(m->key[i], k))
            return i;
    if (!create)
        return -1;
    for (int i = 0; i < KEYS; i++)
        if (!m->used[i]) {
            m->used[i] = 1;
            snprintf(m->key[i], sizeof m->key[i], "%s", k);
            m->val[i][0] = 0;
            return i;
        }
    return -1;
}

static void handle(resp_conn *c, resp_command *cmd, void *arg)
{
    srv_arg *a = arg;
    fake_cluster *fc = a->fc;
    impl *m = fc->impl;
    buf *out = resp_conn_out(c);
    const char *op = cmd->argv[0];
    if (!strcasecmp(op, "CONSISTENCY") || !strcasecmp(op, "RIFT.CLOCK")) {
        resp_put_simple(out, "OK");
        return;
    }
    if (!strcasecmp(op, "RIFT.STATUS")) {
        char j[128];
        snprintf(j, sizeof j, "{\"id\":%d,\"role\":\"%s\",\"term\":1,\"leader\":1}", a->idx + 1,
                 a->idx == 0 ? "leader" : "follower");
        resp_put_cstr(out, j);
        return;
    }
    if (a->idx != 0) {
        resp_put_error(out, "NOTLEADER 1 127.0.0.1:%d", fc->port[0]);
        return;
    }
    fc->commands++;
    if (!strcasecmp(op, "GET") && cmd->argc == 2) {
        int s = slot(m, cmd->argv[1], 0);
        if (s < 0)
            resp_put_nil(out);
        else
            resp_put_cstr(out, m->val[s]);
    } else if (!strcasecmp(op, "SET") && cmd->argc >= 3) {
        int nx = cmd->argc >= 4 && !strcasecmp(cmd->argv[3], "NX");
        if (nx && slot(m, cmd->argv[1], 0) >= 0) {
            resp_put_nil(out);
            return;
        }
        int s = slot(m, cmd->argv[1], 1);
        snprintf(m->val[s], sizeof m->val[s], "%s", cmd->argv[2]);
        resp_put_simple(out, "OK");
    } else if (!strcasecmp(op, "CAS") && cmd->argc == 4) {
        if (fc->hang_cas) {
            resp_conn_defer(c);   /* never answered */
            return;
        }
        int s = slot(m, cmd->argv[1], 0);
        if (s >= 0 && !strcmp(m->val[s], cmd->argv[2])) {
            snprintf(m->val[s], sizeof m->val[s], "%s", cmd->argv[3]);
            resp_put_int(out, 1);
        } else
            resp_put_int(out, 0);
    } else if (!strcasecmp(op, "DEL") && cmd->argc == 2) {
        int s = slot(m, cmd->argv[1], 0);
        if (s >= 0)
            m->used[s] = 0;
        resp_put_int(out, s >= 0);
    } else
        resp_put_error(out, "ERR unknown command");
}

static void *loop_main(void *arg)
{
    loop_run(((impl *)arg)->l);
    return NULL;
}

int fake_cluster_start(fake_cluster *fc, int n)
{
    impl *m = calloc(1, sizeof *m);
    fc->impl = m;
    fc->n = n;
    m->l = loop_new();
    char err[128];
    for (int i = 0; i < n; i++) {
        args[i] = (srv_arg){fc, i};
        m->srv[i] = resp_server_new(m->l, "127.0.0.1:0", handle, &args[i], err, sizeof err);
        if (!m->srv[i])
            return -1;
        fc->port[i] = resp_server_port(m->srv[i]);
    }
    return pthread_create(&m->t, NULL, loop_main, m) == 0 ? 0 : -1;
}

void fake_cluster_stop(fake_cluster *fc)
{
    impl *m = fc->impl;
    loop_stop_async(m->l);
    pthread_join(m->t, NULL);
    for (int i = 0; i < fc->n; i++)
        resp_server_free(m->srv[i]);
    loop_free(m->l);
    free(m);
}
