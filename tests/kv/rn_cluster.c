/* rn_cluster.c: real raft-node processes on loopback for integration tests
 * (rn_cluster.h). */
#define _GNU_SOURCE
#include "rn_cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/wire.h"

static int free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void rn_cluster_init(rn_cluster *c, int n, int key)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    snprintf(c->dir, sizeof c->dir, "/tmp/rn-test-%d-XXXXXX", (int)getpid());
    if (!mkdtemp(c->dir))
        abort();
    char kf[256], err[256];
    snprintf(kf, sizeof kf, "%s/link.key", c->dir);
    wire_key k;
    if (key && wire_key_generate(kf, &k, err, sizeof err) < 0)
        abort();
    for (int i = 0; i < n; i++) {
        rn_node *nd = &c->nodes[i];
        nd->id = i + 1;
        nd->udp_port = free_port(SOCK_DGRAM);
        nd->client_port = free_port(SOCK_STREAM);
        if (key)
            snprintf(nd->key_file, sizeof nd->key_file, "%s", kf);
    }
}

int rn_node_start(rn_cluster *c, int i)
{
    rn_node *nd = &c->nodes[i];
    char args[64][300];
    const char *argv[96];
    int a = 0, s = 0;
    const char *bin = getenv("RIFTLAB_BIN");
    char path[512];
    snprintf(path, sizeof path, "%s/raft-node", bin ? bin : ".");
    for (int w = 0; c->wrapper[w]; w++)
        argv[a++] = c->wrapper[w];
    argv[a++] = path;
#define ARG(...) (snprintf(args[s], sizeof args[s], __VA_ARGS__), argv[a++] = args[s++])
    ARG("--id=%d", nd->id);
    ARG("--listen=127.0.0.1:%d", nd->udp_port);
    ARG("--client=127.0.0.1:%d", nd->client_port);
    ARG("--data=%s/data-%d", c->dir, nd->id);
    ARG("--trace=%s/trace-%d.jsonl", c->dir, nd->id);
    /* Calm timers by default: tests that assert on one leader must not see
     * spurious elections on a loaded CI machine. Tests about failover pass
     * the production defaults (300ms/50ms) through c->extra. */
    ARG("--election-timeout=1s");
    ARG("--heartbeat=100ms");
    ARG("--log-level=warn");
    if (nd->key_file[0])
        ARG("--key=%s", nd->key_file);
    for (int j = 0; j < c->n; j++) {
        if (j == i)
            continue;
        ARG("--peer=%d=127.0.0.1:%d", c->nodes[j].id, c->nodes[j].udp_port);
        ARG("--peer-client=%d=127.0.0.1:%d", c->nodes[j].id, c->nodes[j].client_port);
    }
#undef ARG
    for (int e = 0; c->extra[e]; e++)
        argv[a++] = c->extra[e];
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* The node's log (and valgrind's report) go to <dir>/node-<id>.log. */
        char logf[300];
        snprintf(logf, sizeof logf, "%s/node-%d.log", c->dir, nd->id);
        int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0][0] == '/' ? argv[0] : path, (char *const *)argv);
        _exit(127);
    }
    nd->pid = pid;
    /* Wait until it accepts clients (bounded). */
    for (int t = 0; t < 300; t++) {
        rn_client cl;
        if (rn_connect(&cl, nd->client_port) == 0) {
            rn_close(&cl);
            return 0;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            nd->pid = 0;
            return -1;
        }
        sleep_ms(50);
    }
    return -1;
}

int rn_cluster_start(rn_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        if (rn_node_start(c, i) < 0)
            return -1;
    return 0;
}

void rn_node_kill(rn_cluster *c, int i)
{
    if (c->nodes[i].pid > 0) {
        kill(c->nodes[i].pid, SIGKILL);
        waitpid(c->nodes[i].pid, NULL, 0);
        c->nodes[i].pid = 0;
    }
}

int rn_node_term(rn_cluster *c, int i, int timeout_ms)
{
    pid_t pid = c->nodes[i].pid;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int t = 0; t < timeout_ms / 20; t++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            c->nodes[i].pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_ms(20);
    }
    rn_node_kill(c, i);
    return -1;
}

int rn_cluster_term_all(rn_cluster *c)
{
    int bad = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->nodes[i].pid <= 0)
            continue;
        int st = rn_node_term(c, i, 20000);
        if (st != 0) {
            fprintf(stderr, "rn_cluster: node %d exited %d on SIGTERM (log: %s/node-%d.log)\n",
                    c->nodes[i].id, st, c->dir, c->nodes[i].id);
            bad++;
        }
    }
    return bad;
}

void rn_cluster_stop(rn_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        rn_node_kill(c, i);
    if (c->dir[0]) {
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/rm", "rm", "-rf", c->dir, (char *)NULL);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
        c->dir[0] = 0;
    }
}

#define RN_TIMEOUT_NS 10000000000ull

int rn_connect(rn_client *cl, int port)
{
    char hp[32], err[128];
    snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
    cl->rc = resp_client_connect(hp, RN_TIMEOUT_NS, err, sizeof err);
    return cl->rc ? 0 : -1;
}

void rn_close(rn_client *cl)
{
    if (cl->rc)
        resp_client_close(cl->rc);
    cl->rc = NULL;
}

void rn_append(rn_client *cl, int argc, const char *const *argv)
{
    resp_client_append(cl->rc, argc, argv, NULL);
}

int rn_flush(rn_client *cl)
{
    return resp_client_flush(cl->rc, RN_TIMEOUT_NS) == RESP_CLIENT_OK ? 0 : -1;
}

int rn_read(rn_client *cl, resp_value *out)
{
    return resp_client_read(cl->rc, out, RN_TIMEOUT_NS) == RESP_CLIENT_OK ? 0 : -1;
}

static int vcall(rn_client *cl, resp_value *out, va_list ap)
{
    const char *argv[16];
    int argc = 0;
    const char *s;
    while ((s = va_arg(ap, const char *)) && argc < 16)
        argv[argc++] = s;
    return resp_client_call(cl->rc, out, RN_TIMEOUT_NS, argc, argv, NULL) == RESP_CLIENT_OK ? 0 : -1;
}

int rn_call(rn_client *cl, resp_value *out, ...)
{
    va_list ap;
    va_start(ap, out);
    int rc = vcall(cl, out, ap);
    va_end(ap);
    return rc;
}

int rn_call_node(rn_cluster *c, int i, resp_value *out, ...)
{
    rn_client cl;
    if (c->nodes[i].pid <= 0 || rn_connect(&cl, c->nodes[i].client_port) < 0)
        return -1;
    va_list ap;
    va_start(ap, out);
    int rc = vcall(&cl, out, ap);
    va_end(ap);
    rn_close(&cl);
    return rc;
}

int rn_status_field(rn_cluster *c, int i, const char *field, long long *value)
{
    resp_value v;
    if (rn_call_node(c, i, &v, "RIFT.STATUS", NULL) < 0)
        return -1;
    json_t *j = v.type == RESP_BULK ? json_loadb(v.str, v.len, 0, NULL) : NULL;
    json_t *f = j ? json_object_get(j, field) : NULL;
    int rc = json_is_integer(f) ? 0 : -1;
    if (rc == 0)
        *value = json_integer_value(f);
    json_decref(j);
    resp_value_free(&v);
    return rc;
}

int rn_status(rn_cluster *c, int i, char *role, size_t rolecap, long long *term,
              const char *counter, long long *counter_value)
{
    resp_value v;
    if (rn_call_node(c, i, &v, "RIFT.STATUS", NULL) < 0)
        return -1;
    int rc = -1;
    json_t *j = v.type == RESP_BULK ? json_loadb(v.str, v.len, 0, NULL) : NULL;
    if (j) {
        const char *r = json_string_value(json_object_get(j, "role"));
        if (r && role)
            snprintf(role, rolecap, "%s", r);
        if (term)
            *term = json_integer_value(json_object_get(j, "term"));
        if (counter && counter_value)
            *counter_value = json_integer_value(
                json_object_get(json_object_get(j, "counters"), counter));
        rc = r ? 0 : -1;
        json_decref(j);
    }
    resp_value_free(&v);
    return rc;
}

/* A leader counts once a majority (itself included) reports it as leader in
 * its term: a deposed leader that has not noticed yet is not returned. */
int rn_wait_leader(rn_cluster *c, int timeout_ms, int exclude)
{
    uint64_t end = mono_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (mono_now_ns() < end) {
        char role[RN_MAX][32];
        long long term[RN_MAX], leader[RN_MAX];
        int up[RN_MAX];
        for (int i = 0; i < c->n; i++)
            up[i] = i != exclude &&
                    rn_status(c, i, role[i], sizeof role[i], &term[i], NULL, NULL) == 0 &&
                    rn_status_field(c, i, "leader", &leader[i]) == 0;
        for (int i = 0; i < c->n; i++) {
            if (!up[i] || strcmp(role[i], "leader") != 0)
                continue;
            int votes = 0;
            for (int j = 0; j < c->n; j++)
                votes += up[j] && term[j] == term[i] && leader[j] == c->nodes[i].id;
            if (votes * 2 > c->n)
                return i;
        }
        sleep_ms(20);
    }
    return -1;
}

int rn_call_leader(rn_cluster *c, rn_client *cl, int *node, resp_value *out, ...)
{
    const char *argv[16];
    int argc = 0;
    const char *s;
    va_list ap;
    va_start(ap, out);
    while ((s = va_arg(ap, const char *)) && argc < 16)
        argv[argc++] = s;
    va_end(ap);
    for (int attempt = 0; attempt < 6; attempt++) {
        if (!cl->rc) {
            *node = rn_wait_leader(c, 10000, -1);
            if (*node < 0 || rn_connect(cl, c->nodes[*node].client_port) < 0)
                continue;
        }
        if (resp_client_call(cl->rc, out, RN_TIMEOUT_NS, argc, argv, NULL) != RESP_CLIENT_OK) {
            rn_close(cl);
            return -1;
        }
        if (out->type != RESP_ERROR || strncmp(out->str, "NOTLEADER", 9) != 0)
            return 0;
        resp_value_free(out); /* not executed: find the leader and retry */
        rn_close(cl);
        sleep_ms(50);
    }
    return -1;
}
