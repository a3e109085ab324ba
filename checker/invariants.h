/* invariants.h: white-box invariants over a run's node traces
 * (RUNDIR/nodes/<id>.trace.jsonl, format in common/trace.h and the
 * event tables of docs/raft-node.md and docs/chain.md).
 *
 * Raft: election safety (one leader per term), vote once (one granted vote
 * per node and term), log matching (same index and term -> same entry hash
 * and the same prefix), leader completeness (a committed entry is in every
 * later leader's log), state machine safety (no two nodes apply different
 * entries at one index), acknowledged means stored (a leader's ack from X
 * up to index I is backed by X's own append/snapshot events). Chain: every
 * replica commits the head's order (one rid per seq), and no acknowledged
 * update disappears across a reconfiguration.
 *
 * Every violation names the nodes involved and, where the evidence allows,
 * the guilty node, from what the traces show (never from a node's own
 * `--byzantine` declaration). Times are on the run's timeline: each
 * incarnation's trace times plus its start from nodes/starts.json (see
 * docs/checker.md, "Invariants"). */
#ifndef RIFTLAB_CHECKER_INVARIANTS_H
#define RIFTLAB_CHECKER_INVARIANTS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define INV_MAX_VIOLATIONS 32   /* kept in the result (earliest first); all are counted */

/* One role change on the run's timeline, for the report's role lanes
 * (raft `role` events; chain `config` events with role head/middle/tail and
 * the epoch as term). In file order per node, so the next entry of the
 * same node ends this one. */
typedef struct inv_role {
    char name[16];               /* "n2" (the trace file's name) */
    int node;                    /* 0-based: 1 for "n2"; -1 if the name is not n<number> */
    char role[12];
    uint64_t term;               /* raft term, chain epoch */
    int64_t t0;                  /* ns since run start */
} inv_role;

typedef struct inv_result {
    int valid;                   /* 1 true, 0 false, 2 unknown */
    json_t *detail;              /* the result object (docs/checker.md, "Invariants") */
    inv_role *roles;
    size_t nroles;
} inv_result;

/* Reads every trace of run_dir and checks. Returns 0 (out filled; valid is
 * unknown when there are no traces), or -1 with err set when run_dir is not
 * a run directory or a trace cannot be read (bad input). */
int inv_check_run(const char *run_dir, inv_result *out, char *err, size_t errlen);
/* The same with the incarnation starts given instead of read from
 * nodes/starts.json: node "n<i+1>" (i < nodes) started its incarnations at
 * run times starts[i][0 .. nstarts[i]). */
int inv_check_run_starts(const char *run_dir, int nodes, const int64_t (*starts)[16],
                         const int *nstarts, inv_result *out, char *err, size_t errlen);
void inv_result_free(inv_result *r);

/* The human-readable verdict and violations. */
void inv_print_text(FILE *f, const inv_result *r);

/* `riftlab check --invariants RUNDIR [--json]` (argv as check_main got
 * it). Exit 0 valid, 1 invalid, 2 unknown, 254 bad usage or input. */
int inv_check_main(int argc, char **argv);

#endif
