/* rn_cluster.h: test helper that runs real raft-node processes on loopback
 * (free ports, a temp data dir, fork+execve) and talks RESP to them with a
 * small blocking client. Every process is SIGKILLed and the directory
 * removed in rn_cluster_stop, which tests call in teardown. */
#ifndef RIFTLAB_RN_CLUSTER_H
#define RIFTLAB_RN_CLUSTER_H

#include <stddef.h>
#include <sys/types.h>

#include "common/resp.h"
#include "common/resp_client.h"

#define RN_MAX 5

typedef struct rn_node {
    int id;
    int udp_port, client_port;
    pid_t pid;             /* 0: not running */
    char key_file[256];    /* "" none */
} rn_node;

typedef struct rn_cluster {
    int n;
    char dir[128];
    rn_node nodes[RN_MAX];
    const char *wrapper[8]; /* argv prefix (e.g. valgrind ...), NULL-terminated */
    const char *extra[8];   /* extra raft-node flags for every node */
} rn_cluster;

/* Pick ports and a directory, write a shared key file when `key`. */
void rn_cluster_init(rn_cluster *c, int n, int key);
/* Start node i (0-based) with the cluster's flags. Returns 0 or -1. */
int rn_node_start(rn_cluster *c, int i);
int rn_cluster_start(rn_cluster *c);
/* SIGKILL node i (and reap it). */
void rn_node_kill(rn_cluster *c, int i);
/* SIGTERM node i and wait; returns its exit status (or -1). */
int rn_node_term(rn_cluster *c, int i, int timeout_ms);
/* SIGTERM every running node and wait (bounded); returns how many did not
 * exit 0 (a sanitizer report or a crash on the way out), printing which. */
int rn_cluster_term_all(rn_cluster *c);
/* Kill everything still running and remove the directory. */
void rn_cluster_stop(rn_cluster *c);

/* Index of the node that a majority (by RIFT.STATUS) reports as leader of
 * its term, waiting at most timeout_ms; -1 if none. */
int rn_wait_leader(rn_cluster *c, int timeout_ms, int exclude);
/* A top-level integer field of node i's RIFT.STATUS. */
int rn_status_field(rn_cluster *c, int i, const char *field, long long *value);

/* A blocking RESP client (common/resp_client) with a 10 s timeout per call. */
typedef struct rn_client {
    resp_client *rc;
} rn_client;

int rn_connect(rn_client *cl, int port);    /* 0 or -1 */
void rn_close(rn_client *cl);
/* Send one command (NULL-terminated strings) and read its reply. */
int rn_call(rn_client *cl, resp_value *out, ...);
/* Pipelining: queue commands, send them, read the replies one by one. */
void rn_append(rn_client *cl, int argc, const char *const *argv);
int rn_flush(rn_client *cl);
int rn_read(rn_client *cl, resp_value *out);
/* Run a command on the leader through cl (connected on demand; *node says
 * where), retrying after -NOTLEADER (which proves it did not run). 0 with
 * any other reply in out, -1 on no reply. */
int rn_call_leader(rn_cluster *c, rn_client *cl, int *node, resp_value *out, ...);
/* One-shot helpers: connect to node i, run a command, close. */
int rn_call_node(rn_cluster *c, int i, resp_value *out, ...);
/* RIFT.STATUS of node i parsed: role ("leader"...), numeric fields by name. */
int rn_status(rn_cluster *c, int i, char *role, size_t rolecap, long long *term,
              const char *counter, long long *counter_value);

#endif
