/* scenario.h: a scenario (DESIGN.md "Scenario YAML (v1)") as a typed struct.
 *
 * The loader (scenario_load.c) turns YAML into this struct and validates
 * everything before anything starts; the rest of the runner only ever reads
 * the struct. Every field has a default (scenario_defaults), documented in
 * docs/scenarios.md. Durations are nanoseconds, probabilities are in [0, 1]. */
#ifndef RIFTLAB_SCENARIO_H
#define RIFTLAB_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#define SCN_MAX_NODES   9
#define SCN_MAX_NEMESIS 256
#define SCN_MAX_BUGS    8
#define SCN_MAX_PICK    16

enum scn_system { SCN_RAFT, SCN_CHAIN };
/* Read modes: the first four are raft's, the last three chain's. */
enum scn_read {
    SCN_READ_LINEARIZABLE, SCN_READ_LEASE, SCN_READ_SEQUENTIAL, SCN_READ_EVENTUAL,
    SCN_READ_TAIL, SCN_READ_CRAQ, SCN_READ_ANY
};
enum scn_backend { SCN_BACKEND_AUTO, SCN_BACKEND_NETNS, SCN_BACKEND_LOOPBACK };
enum scn_partitions { SCN_PART_AUTO, SCN_PART_NFTABLES, SCN_PART_PROXY };
enum scn_workload { SCN_WL_REGISTER, SCN_WL_KV, SCN_WL_LEASE };
enum scn_target_mode { SCN_CLIENT_LEADER, SCN_CLIENT_PINNED, SCN_CLIENT_RANDOM };
enum scn_expect { SCN_EXPECT_PASS, SCN_EXPECT_FAIL, SCN_EXPECT_SKIP };

/* The checks a scenario can ask for, in results order. */
enum scn_check { SCN_CHECK_LINEARIZABLE, SCN_CHECK_SEQUENTIAL, SCN_CHECK_EVENTUAL,
                 SCN_CHECK_INVARIANTS, SCN_CHECK_MUTEX, SCN_CHECK_COUNT };

/* Which node(s) a nemesis action hits. SCN_TGT_NODE names one node. */
enum scn_target {
    SCN_TGT_NODE, SCN_TGT_LEADER, SCN_TGT_RANDOM, SCN_TGT_MINORITY, SCN_TGT_MAJORITY,
    SCN_TGT_ALL, SCN_TGT_HEAD, SCN_TGT_TAIL, SCN_TGT_MIDDLE,
    SCN_TGT_KILLED, SCN_TGT_PAUSED,  /* only for restart / resume */
    SCN_TGT_CLIENT                   /* pause only, lease workload: a client's "GC pause" */
};

typedef struct scn_target_spec {
    enum scn_target kind;
    int node;                        /* 0-based index when kind == SCN_TGT_NODE */
} scn_target_spec;

enum scn_action {
    SCN_ACT_PARTITION, SCN_ACT_HEAL, SCN_ACT_KILL, SCN_ACT_RESTART, SCN_ACT_CRASH_STOP,
    SCN_ACT_PAUSE, SCN_ACT_RESUME, SCN_ACT_CLOCK_SKEW, SCN_ACT_LINK_FAULTS, SCN_ACT_SLOW,
    SCN_ACT_FORGE, SCN_ACT_COUNT
};

enum scn_partition_shape { SCN_SHAPE_HALVES, SCN_SHAPE_MAJORITY_RING, SCN_SHAPE_BRIDGE,
                           SCN_SHAPE_ISOLATE_LEADER, SCN_SHAPE_GROUPS };

/* Link faults: on every node-to-node link (network.links) or as a nemesis action. */
typedef struct scn_links {
    uint64_t delay_ns, jitter_ns;
    double drop, duplicate, reorder, corrupt;
    double truncate, replay;         /* Byzantine-looking damage (faultproxy) */
} scn_links;

/* Byzantine node modes (--byzantine MODE): the first four are raft-node's,
 * the last chain-node's. SCN_BYZ_NONE: an honest node. */
enum scn_byz { SCN_BYZ_NONE, SCN_BYZ_DOUBLE_VOTE, SCN_BYZ_TERM_INFLATION, SCN_BYZ_LIE_APPEND,
               SCN_BYZ_EQUIVOCATE, SCN_BYZ_REORDER_FORWARD, SCN_BYZ_COUNT };

typedef struct scn_action_spec {
    enum scn_action kind;
    scn_target_spec target;          /* kill/restart/crash-stop/pause/resume/clock-skew/slow */
    enum scn_partition_shape shape;  /* partition */
    int bridge;                      /* bridge: the bridge node's index + 1; 0: from the seed */
    int ngroups;                     /* explicit groups: group[i] of node i (-1: in none) */
    int group_of[SCN_MAX_NODES];
    int64_t skew_offset_ns;          /* clock-skew */
    int32_t skew_drift_ppm;
    scn_links links;                 /* link-faults (all zero: clear) */
    double slow_cpu;                 /* slow: share of one CPU, (0, 1] */
    struct {                         /* forge: PROXY.FORGE from -> to (to -1: every other node) */
        int from, to, type, count;
        char body[129];              /* hex, "" for none */
    } forge;
    uint64_t for_ns;                 /* > 0: undo the action after this long */
} scn_action_spec;

/* One nemesis entry: a fixed action at `at`, or a random schedule drawing
 * one of `pick` every `every` between `from` and `until` (from the seed). */
typedef struct scn_nemesis {
    int random;
    uint64_t at_ns;
    scn_action_spec action;          /* fixed */
    uint64_t every_ns, from_ns, until_ns;
    int npick;
    enum scn_action pick[SCN_MAX_PICK];
    int line, col;                   /* where it was written (messages) */
} scn_nemesis;

typedef struct scenario {
    char *file;                      /* as given, or "<built-in>" */
    char *name;
    char *description;
    int has_seed;
    uint64_t seed;
    struct {
        enum scn_system kind;
        int nodes;
        enum scn_read read;
        int auth;                    /* 1: hmac, 0: none */
        char *key_file;              /* NULL: generate per run */
        int fsync;                   /* 1: always, 0: never */
        int nbugs;
        char *bugs[SCN_MAX_BUGS];
        enum scn_byz byzantine[SCN_MAX_NODES];  /* per node; SCN_BYZ_NONE: honest */
        uint64_t ready_timeout_ns;
        uint64_t election_timeout_ns;  /* 0: the node's default */
    } system;
    struct {
        enum scn_backend backend;
        enum scn_partitions partitions;
        scn_links links;
    } network;
    struct {
        enum scn_workload kind;
        int clients;
        int keys;
        double mix_read, mix_write, mix_cas, mix_delete;  /* normalised to sum 1 */
        double rate;                 /* ops/s over all clients; 0: unlimited */
        uint64_t duration_ns;
        uint64_t timeout_ns;
        enum scn_target_mode target;
        int fenced;                  /* lease: guard writes with the key's version */
        uint64_t lease_ns;           /* lease: PX of the lock */
        uint64_t hold_ns;            /* lease: time between read and write */
        uint64_t quiesce_ns;         /* end phase: wait after heal before final reads */
    } workload;
    int nnemesis;
    scn_nemesis nemesis[SCN_MAX_NEMESIS];
    enum scn_expect checks[SCN_CHECK_COUNT];
} scenario;

void scenario_defaults(scenario *s);
void scenario_free(scenario *s);
/* Write the scenario as run (every key, the seed filled in) as YAML that
 * loads back into the same struct. */
void scenario_write_yaml(const scenario *s, FILE *f);

/* Names used in YAML, messages and results. */
const char *scn_system_name(enum scn_system k);
const char *scn_read_name(enum scn_read r);
const char *scn_backend_name(enum scn_backend b);
const char *scn_partitions_name(enum scn_partitions p);
const char *scn_workload_name(enum scn_workload w);
const char *scn_target_mode_name(enum scn_target_mode t);
const char *scn_expect_name(enum scn_expect e);
const char *scn_check_name(enum scn_check c);
const char *scn_action_name(enum scn_action a);
const char *scn_shape_name(enum scn_partition_shape s);
/* Target as text ("leader", "n3"); out must hold 16 bytes. */
const char *scn_target_text(const scn_target_spec *t, char *out, size_t cap);
/* A forge action's receiver as text ("n2", or "all"); out must hold 16 bytes. */
const char *scn_forge_to_text(const scn_action_spec *a, char *out, size_t cap);
/* Node name of index i ("n1"...); out must hold 8 bytes. */
const char *scn_node_name(int i, char *out, size_t cap);

/* Lookups from text to enum: the value, or -1. */
int scn_lookup(const char *const *names, int n, const char *text);
extern const char *const scn_system_names[2];
extern const char *const scn_read_names[7];
extern const char *const scn_backend_names[3];
extern const char *const scn_partitions_names[3];
extern const char *const scn_workload_names[3];
extern const char *const scn_target_mode_names[3];
extern const char *const scn_expect_names[3];
extern const char *const scn_check_names[SCN_CHECK_COUNT];
extern const char *const scn_action_names[SCN_ACT_COUNT];
extern const char *const scn_shape_names[4];
extern const char *const scn_byz_names[SCN_BYZ_COUNT];

/* Built-in default scenario (YAML text), run when `riftlab run` gets no file. */
extern const char scenario_default_yaml[];

#endif
