/* sim.h: deterministic simulation of a whole Raft cluster in one process.
 *
 * Every node is a real raft core (nodes/raft/raft.h) with a simulated disk
 * (what is durable vs. still pending an fsync), a small key/value register
 * state machine, a simulated network (drops, duplicates, delays that
 * reorder, partitions), crash-restarts that lose whatever was not fsynced
 * (a random prefix of the pending writes survives, as after a real crash),
 * node clocks that may drift, and simulated clients that write and read.
 * Everything random comes from one seed, so a seed replays exactly.
 *
 * After every single step (one event: a delivery, a tick, an fsync, a
 * client request, a fault) the checker asserts: at most one leader per
 * term, log matching, leader completeness, state machine safety, that no
 * acknowledged client write is lost, and that linearizable (ReadIndex or
 * lease) reads see every write committed before they were invoked. At the
 * end the network heals, every node restarts, and after a quiet period all
 * nodes must agree on one state containing every acknowledged write. */
#ifndef RIFTLAB_TESTS_RAFT_SIM_H
#define RIFTLAB_TESTS_RAFT_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "nodes/raft/raft.h"

typedef struct sim_options {
    uint64_t seed;
    int nodes;                     /* 1..5 */
    unsigned bugs;                 /* RAFT_BUG_* */
    enum raft_read_mode read_mode; /* what clients' reads ask for */
    int clients;
    int64_t duration_ns;           /* phase with faults and clients */
    int64_t quiesce_ns;            /* healed phase, then final checks */
    double drop, dup;              /* per message */
    int64_t delay_min_ns, delay_max_ns;
    int64_t fault_every_ns;        /* mean gap between nemesis actions (0: none) */
    double w_partition, w_heal, w_crash, w_power_loss; /* nemesis weights */
    double w_clock_jump;           /* a node's clock jumps by up to +-500 ms */
    double target_leader;          /* chance a partition/crash picks the leader */
    int64_t restart_min_ns, restart_max_ns;
    int64_t fsync_min_ns, fsync_max_ns;
    int32_t drift_ppm;             /* each node's clock drifts by up to +-this */
    int32_t slow_leader_ppm;       /* >0: every new leader's clock slows by this
                                      (a lease-under-skew scenario) */
    bool check_quorum, pre_vote;
    int64_t lease_ns;              /* -1: default (0.9 x election timeout) */
    uint32_t max_batch_entries;    /* 0: core default */
    int verbose;                   /* 1: trace events to stderr, 2: and messages */
} sim_options;

/* Named bundles of options (the bug tests use them). "default" is what the
 * seed sweep runs. Returns -1 for an unknown name. */
int sim_options_profile(sim_options *o, const char *profile, uint64_t seed, int nodes);

typedef struct sim_result {
    bool failed;
    char why[640];          /* first violated property, with time and step */
    uint64_t steps;
    uint64_t writes_acked, reads_ok, leaders, crashes;
} sim_result;

/* Runs one simulation; returns 0 when every check held, -1 otherwise. */
int sim_run(const sim_options *o, sim_result *res);

#endif
