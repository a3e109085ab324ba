/* invariants_int.h: what the invariant checks share inside the checker
 * (invariants.h is the public side): the traces read into compact events,
 * and the list of violations being gathered. */
#ifndef RIFTLAB_CHECKER_INVARIANTS_INT_H
#define RIFTLAB_CHECKER_INVARIANTS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "checker/invariants.h"

#define INV_NONE 0xffffu         /* no node (unknown peer, leader 0, ...) */
#define INV_MAX_NODES 256        /* names beyond this resolve to INV_NONE */
#define INV_KEEP_PER_CHECK 64    /* violations kept per invariant (earliest) */

/* Event kinds the checks use; everything else (send, recv, ...) is only
 * counted. */
enum {
    IK_START, IK_ROLE, IK_VOTE, IK_APPEND, IK_COMMIT, IK_APPLY, IK_SNAPSHOT, IK_ACK,
    IK_CRECEIVE, IK_CCOMMIT, IK_CSNAPSHOT, IK_CONFIG, IK_REJECT, IK_OTHER
};

/* Invariants, in report order (inv_check_names gives their JSON keys). */
enum {
    INV_ELECTION, INV_VOTE_ONCE, INV_LOG_MATCHING, INV_LEADER_COMPLETE, INV_SM_SAFETY,
    INV_ACK_STORED, INV_CHAIN_ORDER, INV_CHAIN_KEPT, INV_COUNT
};
extern const char *const inv_check_names[INV_COUNT];

/* One trace line the checks care about. Fields by kind:
 *   role      a term, peer leader, role name in role[]
 *   vote      a term, peer the candidate
 *   append    a first, b last, c term
 *   commit/apply (raft)  a index, b term, c hash
 *   snapshot (raft)      a index, b term
 *   ack       a term, b match, peer the follower
 *   receive/commit (chain)  a seq, b rid
 *   snapshot (chain)     a seq
 *   config    a epoch, members[mfirst .. mfirst+nmembers) in chain order */
typedef struct inv_ev {
    int64_t t;                   /* ns on the run's timeline */
    uint64_t a, b, c;
    uint32_t line;               /* 1-based line of its trace file */
    uint32_t mfirst;
    uint16_t node, peer;         /* indexes into inv_run.names */
    uint16_t nmembers;
    uint8_t kind;
    uint8_t inc;                 /* incarnation of its node, 0-based (255: later) */
    char role[12];
} inv_ev;

/* A node: a trace file, or a name some trace refers to. */
typedef struct inv_node {
    char name[16];
    int traced;
    uint64_t lines, events, torn, malformed, rejected;
    uint32_t bad_line;           /* first malformed line (0: none) */
    int ninc;                    /* incarnations */
    int64_t *inc_base, *inc_last;/* per incarnation: start and last event (run time) */
    char byzantine[24];          /* as declared by its start event: shown, never trusted */
    char system[8];              /* "raft" / "chain" from its start event */
} inv_node;

typedef struct inv_viol {
    int inv;
    uint64_t term, index;
    int has_term, has_index;
    uint16_t nodes[4];
    int nnodes;
    uint16_t guilty;             /* INV_NONE: not determined */
    int64_t t;
    char detail[384];
} inv_viol;

typedef struct inv_run {
    inv_node nodes[INV_MAX_NODES];
    int nnodes;
    inv_ev *ev;
    size_t nev, cap;
    uint16_t *members;
    size_t nmembers, mcap;
    /* gathered violations */
    inv_viol *kept[INV_COUNT];
    size_t nkept[INV_COUNT];
    uint64_t count[INV_COUNT];
    uint64_t checked[INV_COUNT];
    int applicable[INV_COUNT];
    char why[256];               /* result-level note (malformed lines, ...) */
    /* Some node ran with unauthenticated links (its start event says
     * "auth":"none"): what a node received may have been altered or forged
     * in transit, so a received message proves nothing against its
     * claimed sender. Guilty verdicts that rest on one are withheld. */
    int unauth;
} inv_run;

/* invariants_trace.c */
void inv_run_init(inv_run *r);
void inv_run_free(inv_run *r);
/* Index of node `name` ("n3"), added if new; INV_NONE if the table is full. */
uint16_t inv_node_of(inv_run *r, const char *name);
/* Adds one node's trace (its bytes). starts: run time of each incarnation's
 * start (nstarts; NULL: each incarnation follows the previous one). */
void inv_read_trace(inv_run *r, const char *name, const char *data, size_t len,
                    const int64_t *starts, int nstarts);
/* Parses one line into e for node `node`. Returns 1 for an event kept for
 * the checks, 0 for a valid line of another kind, -1 for a malformed line. */
int inv_parse_line(inv_run *r, uint16_t node, const char *line, size_t len, inv_ev *e);

/* invariants.c: records a violation (counted always, kept if among the
 * earliest). nodes: nnodes indexes. */
void inv_violation(inv_run *r, int inv, const uint64_t *term, const uint64_t *index,
                   const uint16_t *nodes, int nnodes, uint16_t guilty, int64_t t,
                   const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* Three-way comparison for qsort comparators. */
#define INV_CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)
/* p with room for element n (capacity *cap doubles; aborts without memory). */
void *inv_grow(void *p, size_t n, size_t *cap, size_t size);
/* Natural order of node names (n2 before n10): <0, 0, >0. */
int inv_name_order(const char *x, const char *y);
/* The node's name, or "?" for INV_NONE. */
const char *inv_name(const inv_run *r, uint16_t node);
/* Short form of a hash for texts: "9f1c…". */
void inv_short_hash(char out[16], uint64_t h);

/* invariants_raft.c, invariants_chain.c: run their checks over r->ev. */
void inv_check_raft(inv_run *r);
void inv_check_chain(inv_run *r);

/* invariants_result.c: the result object and the text. */
void inv_build_result(inv_run *r, int nfiles, inv_result *out);

#endif
