/* sim_check.c: the simulation's oracle and invariants.
 *
 * The oracle is the committed log: the first time any node's commit index
 * passes an index, that node's entry there becomes the oracle's. From then
 * on every other node that commits or applies that index must have the same
 * entry (state machine safety), every new leader must hold the whole oracle
 * log (leader completeness, which also means no committed write is lost),
 * and any two logs holding an entry with the same index and term must be
 * identical up to it (log matching, checked with hash chains). */
#include "tests/raft/sim_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t sim_rec_hash(const sim_rec *r)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < r->len; i++)
        h = (h ^ r->data[i]) * 1099511628211ULL;
    return mix64(h ^ r->term * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)r->type << 56) ^ r->len);
}

void sim_log_reserve(sim_log *l, size_t last)
{
    if (last + 1 <= l->cap)
        return;
    size_t cap = l->cap ? l->cap : 256;
    while (cap < last + 1)
        cap *= 2;
    l->rec = realloc(l->rec, cap * sizeof *l->rec);
    l->chain = realloc(l->chain, cap * sizeof *l->chain);
    if (!l->rec || !l->chain)
        abort();
    if (!l->cap) {
        memset(&l->rec[0], 0, sizeof l->rec[0]);
        l->chain[0] = 0;
    }
    l->cap = cap;
}

void sim_log_set(sim_log *l, raft_index i, const sim_rec *r)
{
    sim_log_reserve(l, (size_t)i);
    l->rec[i] = *r;
    l->chain[i] = mix64(l->chain[i - 1] * 31 + sim_rec_hash(r) + i);
    l->n = (size_t)i;
}

void sim_log_free(sim_log *l)
{
    free(l->rec);
    free(l->chain);
    memset(l, 0, sizeof *l);
}

void sim_mirror_from_oracle(sim_world *w, sim_node *n, raft_index upto)
{
    if (upto > w->oracle.n) {
        sim_fail(w, "n%d holds a snapshot at %llu but only %zu entries are known committed",
                 n->id, (unsigned long long)upto, w->oracle.n);
        return;
    }
    sim_log_reserve(&n->mirror, (size_t)upto);
    if (upto) {
        memcpy(n->mirror.rec, w->oracle.rec, (upto + 1) * sizeof *n->mirror.rec);
        memcpy(n->mirror.chain, w->oracle.chain, (upto + 1) * sizeof *n->mirror.chain);
    }
    n->mirror.n = (size_t)upto;
}

void sim_check_append(sim_world *w, sim_node *n, raft_index i)
{
    const sim_log *a = &n->mirror;
    for (int k = 0; k < w->o.nodes; k++) {
        const sim_node *m = &w->nodes[k];
        if (m == n || !m->up || m->mirror.n < i || m->mirror.rec[i].term != a->rec[i].term)
            continue;
        if (m->mirror.chain[i] != a->chain[i]) {
            sim_fail(w, "log matching: n%d and n%d both hold index %llu term %llu but differ "
                     "at or before it", n->id, m->id, (unsigned long long)i,
                     (unsigned long long)a->rec[i].term);
            return;
        }
    }
    if (i <= w->oracle.n && w->oracle.rec[i].term == a->rec[i].term &&
        w->oracle.chain[i] != a->chain[i])
        sim_fail(w, "log matching: n%d holds index %llu term %llu unlike the committed log",
                 n->id, (unsigned long long)i, (unsigned long long)a->rec[i].term);
}

static void check_commit(sim_world *w, sim_node *n)
{
    raft_index c = raft_commit_index(n->r);
    if (c <= n->seen_commit)
        return;
    if (c > n->mirror.n) {
        sim_fail(w, "n%d commits %llu beyond its last entry %zu", n->id,
                 (unsigned long long)c, n->mirror.n);
        return;
    }
    size_t known = w->oracle.n;
    size_t k = c < known ? (size_t)c : known;
    if (k && n->mirror.chain[k] != w->oracle.chain[k]) {
        sim_fail(w, "state machine safety: n%d commits a different log up to index %zu than "
                 "the one committed before (committed entry lost or replaced)", n->id, k);
        return;
    }
    for (size_t i = known + 1; i <= c; i++)
        sim_log_set(&w->oracle, i, &n->mirror.rec[i]);
    if (w->oracle.n + 1 > w->cap_acked) {
        size_t old = w->cap_acked;
        w->cap_acked = (w->oracle.n + 1) * 2;
        w->acked = realloc(w->acked, w->cap_acked * sizeof *w->acked);
        if (!w->acked)
            abort();
        memset(w->acked + old, 0, (w->cap_acked - old) * sizeof *w->acked);
    }
    n->seen_commit = c;
}

void sim_check_apply(sim_world *w, sim_node *n, raft_index i)
{
    check_commit(w, n);
    if (w->failed)
        return;
    if (i > w->oracle.n || i > n->mirror.n || n->mirror.chain[i] != w->oracle.chain[i])
        sim_fail(w, "state machine safety: n%d applies index %llu unlike the committed log",
                 n->id, (unsigned long long)i);
}

static void check_leader(sim_world *w, sim_node *n)
{
    raft_term t = raft_current_term(n->r);
    if (t + 1 > w->cap_leader_of) {
        size_t old = w->cap_leader_of;
        w->cap_leader_of = (t + 1) * 2;
        w->leader_of = realloc(w->leader_of, w->cap_leader_of * sizeof *w->leader_of);
        if (!w->leader_of)
            abort();
        memset(w->leader_of + old, 0, (w->cap_leader_of - old) * sizeof *w->leader_of);
    }
    if (w->leader_of[t] && w->leader_of[t] != n->id) {
        sim_fail(w, "election safety: n%d and n%d are both leaders of term %llu",
                 w->leader_of[t], n->id, (unsigned long long)t);
        return;
    }
    w->leader_of[t] = n->id;
    if (n->seen_role == RAFT_LEADER && n->seen_term == t)
        return;
    size_t L = w->oracle.n;
    if (L && (n->mirror.n < L || n->mirror.chain[L] != w->oracle.chain[L]))
        sim_fail(w, "leader completeness: n%d became leader of term %llu without every "
                 "committed entry (committed up to %zu, its log has %zu)", n->id,
                 (unsigned long long)t, L, n->mirror.n);
}

void sim_check_step(sim_world *w)
{
    for (int k = 0; k < w->o.nodes && !w->failed; k++) {
        sim_node *n = &w->nodes[k];
        if (!n->up)
            continue;
        check_commit(w, n);
        int role = raft_role(n->r);
        if (role == RAFT_LEADER)
            check_leader(w, n);
        n->seen_role = role;
        n->seen_term = raft_current_term(n->r);
    }
}

void sim_check_final(sim_world *w)
{
    sim_node *lead = NULL;
    for (int k = 0; k < w->o.nodes; k++) {
        sim_node *n = &w->nodes[k];
        if (n->up && raft_role(n->r) == RAFT_LEADER &&
            (!lead || raft_current_term(n->r) > raft_current_term(lead->r)))
            lead = n;
    }
    if (!lead) {
        sim_fail(w, "liveness: no leader after the quiet period");
        return;
    }
    raft_index c = raft_commit_index(lead->r);
    if (c > w->oracle.n) {
        sim_fail(w, "leader commit %llu beyond the oracle", (unsigned long long)c);
        return;
    }
    uint64_t kv[SIM_KEYS] = {0};
    for (raft_index i = 1; i <= c; i++) {
        const sim_rec *r = &w->oracle.rec[i];
        if (r->type == RAFT_ENTRY_NORMAL && r->len >= 10 && r->data[0] == 'W') {
            uint64_t v;
            memcpy(&v, r->data + 2, 8);
            kv[r->data[1] % SIM_KEYS] = v;
        }
    }
    for (size_t i = c + 1; i <= w->oracle.n && i < w->cap_acked; i++)
        if (w->acked[i]) {
            sim_fail(w, "acknowledged write at index %zu is not committed by the final leader", i);
            return;
        }
    for (int k = 0; k < w->o.nodes; k++) {
        sim_node *n = &w->nodes[k];
        if (!n->up) {
            sim_fail(w, "n%d is down at the end", n->id);
            return;
        }
        if (n->sm_applied != c) {
            sim_fail(w, "liveness: n%d applied %llu, the leader n%d committed %llu", n->id,
                     (unsigned long long)n->sm_applied, lead->id, (unsigned long long)c);
            return;
        }
        if (memcmp(n->kv, kv, sizeof kv) != 0) {
            sim_fail(w, "n%d's state differs from the committed log replayed", n->id);
            return;
        }
    }
}
