/* cluster.c: bringing the system under test up and down: hosts, the HMAC
 * key, faultproxy in the hub, one node per host (peers pointed at the
 * proxy's ports), readiness (every node answers RIFT.STATUS and a leader is
 * elected), leader probes, the end phase's final reads, and teardown.
 *
 * Ports. On loopback every process shares 127.0.0.1, so node i gets a block
 * of ports at base + 10*i (UDP, client, proxy port) with base picked per
 * run; on netns every host has its own address and the ports are fixed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/wire.h"
#include "nemesis.h"
#include "run.h"

#define NS_MS 1000000ull

void run_key_name(int k, char *out, size_t cap) { snprintf(out, cap, "k%d", k); }

int cluster_node_by_id(run *r, long id)
{
    return id >= 1 && id <= r->nnodes ? (int)id - 1 : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* 1 if a TCP and a UDP socket can bind port on 127.0.0.1. */
static int port_free(int port)
{
    int ok = 1;
    for (int t = 0; t < 2 && ok; t++) {
        int fd = socket(AF_INET, (t ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
            close(fd);
    }
    return ok;
}

/* A block of 10*(n+1) free loopback ports, away from the ephemeral range. */
static int pick_base(int n)
{
    unsigned start = (unsigned)getpid() * 7919u;
    for (unsigned tries = 0; tries < 200; tries++) {
        int base = 20000 + (int)((start + tries * 131u) % 1200u) * 10;
        int ok = 1;
        for (int p = base; p < base + 10 * (n + 1) && ok; p++)
            ok = port_free(p);
        if (ok)
            return base;
    }
    return -1;
}

static void plan_ports(run *r)
{
    int n = r->nnodes;
    if (!strcmp(r->be.ops->name, "loopback")) {
        int base = pick_base(n + r->nctrl);
        if (base < 0)
            base = 30000;
        snprintf(r->proxy_addr, sizeof r->proxy_addr, "127.0.0.1");
        r->proxy_ctl_port = base + 1;
        for (int i = 0; i < n; i++) {
            run_node *x = &r->nodes[i];
            snprintf(x->addr, sizeof x->addr, "127.0.0.1");
            x->host = i + 1;
            x->udp_port = base + 10 * (i + 1);
            x->client_port = x->udp_port + 1;
            x->proxy_port = x->udp_port + 2;
        }
        for (int k = 0; k < r->nctrl; k++) {
            run_node *x = &r->ctrl[k];
            snprintf(x->addr, sizeof x->addr, "127.0.0.1");
            x->host = 0;
            x->udp_port = base + 10 * (n + 1 + k);
            x->client_port = x->udp_port + 1;
        }
        return;
    }
    snprintf(r->proxy_addr, sizeof r->proxy_addr, "%s", r->be.ops->addr(&r->be, 0));
    for (int k = 0; k < r->nctrl; k++) {   /* the control plane lives in the hub */
        run_node *x = &r->ctrl[k];
        snprintf(x->addr, sizeof x->addr, "%s", r->proxy_addr);
        x->host = 0;
        x->udp_port = 7400 + k;
        x->client_port = 7410 + k;
    }
    r->proxy_ctl_port = 7300;
    for (int i = 0; i < n; i++) {
        run_node *x = &r->nodes[i];
        x->host = i + 1;
        snprintf(x->addr, sizeof x->addr, "%s", r->be.ops->addr(&r->be, i + 1));
        x->udp_port = 7000;
        x->client_port = 6379;
        x->proxy_port = 7101 + i;
    }
}

/* argv builder: a fixed array of owned strings. */
typedef struct argvb {
    int n;
    char *v[96];
} argvb;

static void av_add(argvb *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void av_add(argvb *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->n < 95 && vasprintf(&a->v[a->n], fmt, ap) >= 0)
        a->n++;
    va_end(ap);
    a->v[a->n] = NULL;
}

static void av_free(argvb *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

static int start_proxy(run *r, char *err, size_t errlen)
{
    argvb a = {0};
    char ready[1200];
    snprintf(ready, sizeof ready, "%s/proxy.ready", r->dir);
    unlink(ready);
    av_add(&a, "%s/faultproxy", r->opts.bin_dir);
    for (int i = 0; i < r->nnodes; i++) {
        av_add(&a, "--node");
        av_add(&a, "n%d,%d,%s:%d,%d", i + 1, i + 1, r->nodes[i].addr, r->nodes[i].udp_port,
               r->nodes[i].proxy_port);
    }
    av_add(&a, "--bind");
    av_add(&a, "%s", r->proxy_addr);
    av_add(&a, "--control");
    av_add(&a, "%s:%d", r->proxy_addr, r->proxy_ctl_port);
    av_add(&a, "--seed");
    av_add(&a, "%llu", (unsigned long long)r->seed);
    av_add(&a, "--decision-log");
    av_add(&a, "%s/proxy-decisions.jsonl", r->dir);
    av_add(&a, "--stats");
    av_add(&a, "%s/proxy-stats.json", r->dir);
    av_add(&a, "--ready");
    av_add(&a, "%s", ready);
    char log[1200];
    snprintf(log, sizeof log, "%s/proxy.log", r->dir);
    r->proxy_proc = backend_start(&r->be, 0, "proxy", a.v, log, err, errlen);
    av_free(&a);
    if (r->proxy_proc < 0)
        return -1;
    uint64_t end = mono_now_ns() + 5000 * NS_MS;
    while (access(ready, F_OK) != 0) {
        if (!backend_running(&r->be, r->proxy_proc)) {
            snprintf(err, errlen, "faultproxy exited at start (see %s)", log);
            return -1;
        }
        if (mono_now_ns() > end) {
            snprintf(err, errlen, "faultproxy not listening after 5s (see %s)", log);
            return -1;
        }
        sleep_ms(10);
    }
    rclient_init(&r->ctl, &r->be, 0, r->proxy_addr, r->proxy_ctl_port);
    return 0;
}

/* --id, --listen, --client and the data peers, the same for raft-node and
 * chain-node: peers are reached through the proxy (node i -> P_j -> node j). */
static void node_identity(run *r, int i, argvb *a)
{
    av_add(a, "--id");
    av_add(a, "%d", i + 1);
    av_add(a, "--listen");
    av_add(a, "%s:%d", r->nodes[i].addr, r->nodes[i].udp_port);
    av_add(a, "--client");
    av_add(a, "%s:%d", r->nodes[i].addr, r->nodes[i].client_port);
    for (int j = 0; j < r->nnodes; j++) {
        if (j == i)
            continue;
        av_add(a, "--peer");
        av_add(a, "%d=%s:%d", j + 1, r->proxy_addr, r->nodes[j].proxy_port);
        av_add(a, "--peer-client");
        av_add(a, "%d=%s:%d", j + 1, r->nodes[j].addr, r->nodes[j].client_port);
    }
}

/* chain-node's member lists: "1,2,3" and "11,12,13" (control ids follow the data
 * ids' range: RUN_CTRL_ID). */

static void chain_common(run *r, argvb *a)
{
    char list[64] = "";
    size_t o = 0;
    for (int k = 0; k < r->nctrl; k++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", k ? "," : "", RUN_CTRL_ID(k));
    av_add(a, "--ctrl");
    av_add(a, "%s", list);
    o = 0;
    for (int j = 0; j < r->nnodes; j++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", j ? "," : "", j + 1);
    av_add(a, "--data");
    av_add(a, "%s", list);
    av_add(a, "--cluster");
    av_add(a, "1");
    if (r->s->system.auth) {
        av_add(a, "--key");
        av_add(a, "%s", r->key_path);
    }
}

/* --byzantine MODE for a node the scenario makes Byzantine (system.byzantine). */
static void node_byzantine(run *r, int i, argvb *a)
{
    enum scn_byz m = r->s->system.byzantine[i];
    if (m != SCN_BYZ_NONE) {
        av_add(a, "--byzantine");
        av_add(a, "%s", scn_byz_names[m]);
    }
}

/* A chain member: data peers through the proxy, control nodes direct. */
static void chain_data_argv(run *r, int i, argvb *a)
{
    av_add(a, "%s/chain-node", r->opts.bin_dir);
    av_add(a, "--role");
    av_add(a, "data");
    node_identity(r, i, a);
    for (int k = 0; k < r->nctrl; k++) {
        av_add(a, "--peer");
        av_add(a, "%d=%s:%d", RUN_CTRL_ID(k), r->ctrl[k].addr, r->ctrl[k].udp_port);
    }
    chain_common(r, a);
    av_add(a, "--trace");
    av_add(a, "%s/nodes/n%d.trace.jsonl", r->dir, i + 1);
    for (int b = 0; b < r->s->system.nbugs; b++) {
        av_add(a, "--bug");
        av_add(a, "%s", r->s->system.bugs[b]);
    }
    node_byzantine(r, i, a);
}

static void chain_ctrl_argv(run *r, int k, argvb *a)
{
    av_add(a, "%s/chain-node", r->opts.bin_dir);
    av_add(a, "--role");
    av_add(a, "ctrl");
    av_add(a, "--id");
    av_add(a, "%d", RUN_CTRL_ID(k));
    av_add(a, "--listen");
    av_add(a, "%s:%d", r->ctrl[k].addr, r->ctrl[k].udp_port);
    av_add(a, "--client");
    av_add(a, "%s:%d", r->ctrl[k].addr, r->ctrl[k].client_port);
    /* Traced like the data nodes, so the space-time diagram and the ShiViz
     * export show the control plane's messages end to end. */
    av_add(a, "--trace");
    av_add(a, "%s/nodes/n%d.trace.jsonl", r->dir, RUN_CTRL_ID(k));
    for (int j = 0; j < r->nnodes; j++) {
        av_add(a, "--peer");
        av_add(a, "%d=%s:%d", j + 1, r->nodes[j].addr, r->nodes[j].udp_port);
    }
    for (int m = 0; m < r->nctrl; m++)
        if (m != k) {
            av_add(a, "--peer");
            av_add(a, "%d=%s:%d", RUN_CTRL_ID(m), r->ctrl[m].addr, r->ctrl[m].udp_port);
        }
    chain_common(r, a);
}

static void node_argv(run *r, int i, argvb *a)
{
    const scenario *s = r->s;
    if (s->system.kind == SCN_CHAIN) {
        chain_data_argv(r, i, a);
        return;
    }
    char fsync[8];
    snprintf(fsync, sizeof fsync, "%s", s->system.fsync ? "always" : "never");
    av_add(a, "%s/raft-node", r->opts.bin_dir);
    node_identity(r, i, a);
    av_add(a, "--cluster");
    av_add(a, "1");
    av_add(a, "--data");
    av_add(a, "%s/data/n%d", r->dir, i + 1);
    if (s->system.auth) {
        av_add(a, "--key");
        av_add(a, "%s", r->key_path);
    }
    av_add(a, "--fsync");
    av_add(a, "%s", fsync);
    av_add(a, "--trace");
    av_add(a, "%s/nodes/n%d.trace.jsonl", r->dir, i + 1);
    if (s->system.election_timeout_ns) {
        av_add(a, "--election-timeout");
        av_add(a, "%llums", (unsigned long long)(s->system.election_timeout_ns / NS_MS));
    }
    for (int b = 0; b < s->system.nbugs; b++) {
        av_add(a, "--bug");
        av_add(a, "%s", s->system.bugs[b]);
    }
    node_byzantine(r, i, a);
}

int cluster_up(run *r, char *err, size_t errlen)
{
    const scenario *s = r->s;
    r->nnodes = s->system.nodes;
    r->nctrl = s->system.kind == SCN_CHAIN ? 3 : 0;
    if (r->be.ops->up(&r->be, r->nnodes, err, errlen) < 0)
        return -1;
    r->backend_up = 1;
    plan_ports(r);
    char path[1200];
    snprintf(path, sizeof path, "%s/nodes", r->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/data", r->dir);
    mkdir(path, 0755);
    if (s->system.auth) {
        wire_key k;
        char kerr[256];
        if (s->system.key_file)
            snprintf(r->key_path, sizeof r->key_path, "%s", s->system.key_file);
        else {
            snprintf(r->key_path, sizeof r->key_path, "%s/hmac.key", r->dir);
            if (wire_key_generate(r->key_path, &k, kerr, sizeof kerr) < 0) {
                snprintf(err, errlen, "HMAC key: %s", kerr);
                return -1;
            }
        }
        if (wire_key_load(r->key_path, &k, kerr, sizeof kerr) < 0) {
            snprintf(err, errlen, "HMAC key: %s", kerr);
            return -1;
        }
    }
    if (start_proxy(r, err, errlen) < 0)
        return -1;
    /* Background link faults before the first datagram: then the proxy's
     * per-link decision streams line up datagram by datagram between runs
     * with the same seed. */
    if (nemesis_set_links(r, &s->network.links) != 0) {
        snprintf(err, errlen, "faultproxy refused the network.links rule (see proxy.log)");
        return -1;
    }
    for (int k = 0; k < r->nctrl; k++) {
        argvb a = {0};
        chain_ctrl_argv(r, k, &a);
        char name[16], log[1200];
        snprintf(name, sizeof name, "c%d", RUN_CTRL_ID(k));
        snprintf(log, sizeof log, "%s/nodes/c%d.log", r->dir, RUN_CTRL_ID(k));
        r->ctrl[k].proc = backend_start(&r->be, 0, name, a.v, log, err, errlen);
        av_free(&a);
        if (r->ctrl[k].proc < 0)
            return -1;
    }
    for (int i = 0; i < r->nnodes; i++) {
        argvb a = {0};
        node_argv(r, i, &a);
        char name[16], log[1200];
        snprintf(name, sizeof name, "n%d", i + 1);
        snprintf(path, sizeof path, "%s/data/n%d", r->dir, i + 1);
        mkdir(path, 0755);
        snprintf(log, sizeof log, "%s/nodes/n%d.log", r->dir, i + 1);
        r->nodes[i].proc = backend_start(&r->be, r->nodes[i].host, name, a.v, log, err, errlen);
        av_free(&a);
        if (r->nodes[i].proc < 0)
            return -1;
        if (s->system.kind == SCN_CHAIN)   /* a restarted member comes back empty */
            backend_set_restart_arg(&r->be, r->nodes[i].proc, "--join");
    }
    return 0;
}

int cluster_node_call(run *r, int i, uint64_t timeout_ns, resp_value *out, int argc,
                      const char **argv)
{
    rclient c;
    rclient_init(&c, &r->be, 0, r->nodes[i].addr, r->nodes[i].client_port);
    int rc = rclient_call(&c, timeout_ns, out, argc, argv);
    rclient_close(&c);
    return rc;
}

int cluster_proxy_call(run *r, char *reply, size_t cap, int argc, const char **argv)
{
    pthread_mutex_lock(&r->ctl_mu);
    resp_value v;
    int rc = rclient_call(&r->ctl, 2000 * NS_MS, &v, argc, argv);
    if (rc == RCLIENT_OK) {
        if (reply)
            snprintf(reply, cap, "%s", v.type == RESP_INTEGER ? "int" : v.str ? v.str : "");
        if (v.type == RESP_ERROR) {
            progress_log(r, "proxy refused %s: %s", argv[0], v.str);
            rc = -1;
        }
        resp_value_free(&v);
    }
    pthread_mutex_unlock(&r->ctl_mu);
    return rc;
}

/* RIFT.STATUS of node i as JSON (caller decrefs), or NULL. */
static json_t *node_status(run *r, int i, uint64_t timeout_ns)
{
    const char *argv[] = {"RIFT.STATUS"};
    resp_value v;
    if (cluster_node_call(r, i, timeout_ns, &v, 1, argv) != RCLIENT_OK)
        return NULL;
    json_t *j = NULL;
    if (v.type == RESP_BULK || v.type == RESP_SIMPLE) {
        j = json_loadb(v.str, v.len, 0, NULL);
        /* A term above 2^63 (a corrupted message adopted with auth none)
         * does not fit jansson's integers: read numbers as reals then. */
        if (!j)
            j = json_loadb(v.str, v.len, JSON_DECODE_INT_AS_REAL, NULL);
    }
    resp_value_free(&v);
    return j;
}

void cluster_collect_status(run *r)
{
    json_t *all = json_object();
    for (int i = 0; i < r->nnodes; i++) {
        char name[16];
        scn_node_name(i, name, sizeof name);
        json_t *j = NULL;
        if (!r->nodes[i].killed && !r->nodes[i].crashed && !r->nodes[i].paused)
            j = node_status(r, i, 1000 * NS_MS);
        /* null: down at the end (crash-stop) or did not answer. */
        json_object_set_new(all, name, j ? j : json_null());
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/nodes/status.json", r->dir);
    json_dump_file(all, path, JSON_COMPACT);
    json_decref(all);
}

int cluster_probe_leader(run *r, uint64_t timeout_ns)
{
    uint64_t best_term = 0;
    int leader = -1;
    for (int i = 0; i < r->nnodes; i++) {
        if (r->nodes[i].killed || r->nodes[i].crashed || r->nodes[i].paused)
            continue;
        json_t *j = node_status(r, i, timeout_ns);
        if (!j)
            continue;
        const char *role = json_string_value(json_object_get(j, "role"));
        /* raft: the leader of the highest term; chain: the head of the
         * highest epoch (writes enter there). */
        uint64_t term = (uint64_t)json_integer_value(json_object_get(j, "term")) +
                        (uint64_t)json_integer_value(json_object_get(j, "epoch"));
        if (role && (!strcmp(role, "leader") || !strcmp(role, "head") || !strcmp(role, "single")) &&
            term >= best_term)
            best_term = term, leader = i;
        json_decref(j);
    }
    if (leader >= 0)
        atomic_store(&r->leader, leader);
    return leader;
}

int cluster_chain_role(run *r, const char *want, uint64_t timeout_ns)
{
    int found[SCN_MAX_NODES], n = 0;
    for (int i = 0; i < r->nnodes; i++) {
        if (r->nodes[i].killed || r->nodes[i].paused)
            continue;
        json_t *j = node_status(r, i, timeout_ns);
        const char *role = json_string_value(json_object_get(j, "role"));
        if (role && (!strcmp(role, want) || !strcmp(role, "single")))
            found[n++] = i;
        json_decref(j);
    }
    return n ? found[0] : -1;
}

int cluster_wait_ready(run *r, char *err, size_t errlen)
{
    uint64_t end = mono_now_ns() + r->s->system.ready_timeout_ns;
    int answered[SCN_MAX_NODES] = {0};
    for (;;) {
        int all = 1;
        for (int i = 0; i < r->nnodes; i++) {
            if (!answered[i]) {
                json_t *j = node_status(r, i, 300 * NS_MS);
                answered[i] = j != NULL;
                json_decref(j);
            }
            all &= answered[i];
        }
        /* raft: a leader is elected; chain: the control plane configured a head. */
        if (all && cluster_probe_leader(r, 300 * NS_MS) >= 0)
            return 0;
        for (int i = 0; i < r->nnodes; i++)
            if (!backend_running(&r->be, r->nodes[i].proc)) {
                snprintf(err, errlen, "n%d exited during start-up (see %s/nodes/n%d.log)", i + 1,
                         r->dir, i + 1);
                return -1;
            }
        if (mono_now_ns() > end || run_interrupted) {
            size_t o = (size_t)snprintf(err, errlen, "cluster not ready after %.1fs:",
                                        (double)r->s->system.ready_timeout_ns / 1e9);
            for (int i = 0; i < r->nnodes && o < errlen; i++)
                if (!answered[i])
                    o += (size_t)snprintf(err + o, errlen - o, " n%d does not answer RIFT.STATUS"
                                          " (see nodes/n%d.log);", i + 1, i + 1);
            if (o < errlen && all)
                snprintf(err + o, errlen - o, r->s->system.kind == SCN_RAFT
                                                  ? " no leader elected"
                                                  : " the chain has no head (control plane "
                                                    "not configured; see nodes/c11.log)");
            return -1;
        }
        sleep_ms(100);
    }
}

/* End phase: every key from every live node, as the node itself sees it
 * (CONSISTENCY eventual: a local read), marked final for the eventual check. */
void cluster_final_reads(run *r)
{
    const scenario *s = r->s;
    int nkeys = s->workload.kind == SCN_WL_LEASE ? 1 : s->workload.keys;
    for (int i = 0; i < r->nnodes; i++) {
        if (r->nodes[i].crashed || !backend_running(&r->be, r->nodes[i].proc))
            continue;
        rclient c;
        rclient_init(&c, &r->be, 0, r->nodes[i].addr, r->nodes[i].client_port);
        const char *mode = s->system.kind == SCN_RAFT ? "eventual" : "any";
        resp_value v;
        int process = 100000 + i;   /* one process per node, far from client ids */
        if (rclient_callv(&c, 1000 * NS_MS, &v, "CONSISTENCY", mode, NULL) == RCLIENT_OK)
            resp_value_free(&v);
        char node[16];
        snprintf(node, sizeof node, "n%d", i + 1);
        for (int k = 0; k < nkeys && !run_interrupted; k++) {
            char key[24];
            if (s->workload.kind == SCN_WL_LEASE)
                snprintf(key, sizeof key, "counter");
            else
                run_key_name(k, key, sizeof key);
            size_t op = hrec_invoke(&r->h, process, "read", key, NULL, mode, 1);
            int rc = rclient_callv(&c, 1000 * NS_MS, &v, "GET", key, NULL);
            if (rc != RCLIENT_OK || v.type == RESP_ERROR) {
                int notsent = rc == RCLIENT_NOTSENT ||
                              (rc == RCLIENT_OK && (!strncmp(v.str, "NOTREADY", 8) ||
                                                    !strncmp(v.str, "BUSY", 4)));
                hrec_complete(&r->h, op, notsent ? HREC_FAIL : HREC_INFO, NULL, node,
                              rc == RCLIENT_OK ? v.str : "no reply", INT64_MIN);
                if (rc == RCLIENT_OK)
                    resp_value_free(&v);
                if (rc != RCLIENT_OK)
                    process += 1000;   /* an info ends the process */
                continue;
            }
            json_t *val = json_null();
            if (v.type == RESP_BULK) {
                char *end;
                long long x = strtoll(v.str, &end, 10);
                val = *end || !v.len ? json_string(v.str) : json_integer(x);
            }
            hrec_complete(&r->h, op, HREC_OK, val, node, NULL, INT64_MIN);
            resp_value_free(&v);
        }
        rclient_close(&c);
    }
}

void cluster_down(run *r)
{
    rclient_close(&r->ctl);
    /* Graceful first (nodes flush traces, the proxy writes its stats). */
    backend_stop_all(&r->be, 2000 * NS_MS);
    if (r->backend_up) {
        char err[256];
        r->be.ops->heal(&r->be, err, sizeof err);
        r->be.ops->down(&r->be);
        r->backend_up = 0;
    }
}
