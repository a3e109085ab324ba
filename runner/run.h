/* run.h: the state of one `riftlab run` of one scenario, shared by the
 * pieces that act on it: cluster (bring-up, status, final reads), workload
 * (client threads), nemesis (fault schedule) and the outputs. */
#ifndef RIFTLAB_RUN_H
#define RIFTLAB_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "backend.h"
#include "hrec.h"
#include "rclient.h"
#include "scenario.h"

enum run_verbosity { RUN_QUIET, RUN_NORMAL, RUN_VERBOSE };

typedef struct run_opts {
    int has_seed;
    uint64_t seed;
    int backend;                 /* enum scn_backend; AUTO: netns as root, else loopback */
    const char *out_dir;         /* default "runs" */
    const char *bin_dir;         /* where raft-node, chain-node, faultproxy live */
    enum run_verbosity verbosity;
} run_opts;

/* One node of the cluster under test. */
typedef struct run_node {
    int proc;                    /* backend process handle, -1 before start */
    int host;                    /* backend host (1..N) */
    char addr[20];               /* its address */
    int udp_port, client_port;   /* where it listens */
    int proxy_port;              /* P_i: the proxy port its peers send to */
    atomic_int killed;           /* killed, may be restarted */
    atomic_int crashed;          /* crash-stop: never restarted */
    atomic_int paused;
    int64_t starts[16];          /* run time of each (re)start, for the trace timeline */
    int nstarts;
} run_node;

typedef struct run {
    scenario *s;
    run_opts opts;
    uint64_t seed;
    char dir[1024];              /* the run directory */
    char prefix[16];             /* resource prefix ("rl4711") */
    backend be;
    int backend_up;
    int cut_by_proxy;            /* partitions via the proxy (loopback, or asked for) */
    int nnodes;
    run_node nodes[SCN_MAX_NODES];
    int nctrl;                   /* chain: control plane nodes (in the hub), else 0; node
                                    ids RUN_CTRL_ID(k), traced as nodes/n<id>.trace.jsonl */
    run_node ctrl[3];
    int proxy_proc;
    char proxy_addr[20];
    int proxy_ctl_port;
    pthread_mutex_t ctl_mu;      /* one proxy control connection, shared */
    rclient ctl;
    hrec h;
    int hrec_open;
    uint64_t t0;                 /* monotonic start of the run (history time 0) */
    atomic_int leader;           /* 0-based index of the last known leader, -1 unknown */
    atomic_int stop;             /* set by Ctrl-C / end of workload */
    char nemesis_now[96];        /* current fault, for the progress line */
    pthread_mutex_t nem_mu;
    char key_path[1100];
} run;

/* The process-wide interrupt count (1: stop and clean up; 2+: hurry). */
extern volatile sig_atomic_t run_interrupted;

/* cluster.c */
int cluster_up(run *r, char *err, size_t errlen);              /* hosts, key, proxy, nodes */
int cluster_wait_ready(run *r, char *err, size_t errlen);       /* leader elected */
int cluster_probe_leader(run *r, uint64_t timeout_ns);          /* index or -1; updates r->leader */
/* Chain: the node (0-based) in role "head", "tail" or "middle" now, or -1. */
int cluster_chain_role(run *r, const char *role, uint64_t timeout_ns);
/* A command to node i's client port from the hub (own short connection). */
int cluster_node_call(run *r, int i, uint64_t timeout_ns, resp_value *out, int argc,
                      const char **argv);
int cluster_proxy_call(run *r, char *reply, size_t cap, int argc, const char **argv);
void cluster_final_reads(run *r);
/* RIFT.STATUS of every node still up into nodes/status.json (before the
 * stop: the authentication table reads its `rejected` counts). */
void cluster_collect_status(run *r);
void cluster_down(run *r);                                      /* stop everything; idempotent */
/* Node index by name "n3" or id 3 (as in -NOTLEADER) -> 0-based, or -1. */
int cluster_node_by_id(run *r, long id);

/* Keys used by the workload ("k0".."k<keys-1>", "counter"/"lock" for lease). */
void run_key_name(int k, char *out, size_t cap);

/* Run one loaded scenario to the end (run.c); returns the exit code. */
int run_scenario(scenario *s, const run_opts *opts);
/* Note that node i (re)started now (for traces' timelines). */
void run_note_start(run *r, int i);
/* Chain control plane node k's id (after the data nodes' 1..9). */
#define RUN_CTRL_ID(k) (11 + (k))

/* Progress (progress.c). */
void progress_log(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_status(run *r, int final);

#endif
