/* sim_client.c: simulated clients and the register state machine.
 *
 * Each client has one operation in flight: a write of a unique value to one
 * of SIM_KEYS registers, or a read in the configured mode. It talks to the
 * node it believes leads (or a random one), follows NOTLEADER hints, and
 * gives up after a timeout (outcome unknown). A write is acknowledged when
 * the contacted node applies its entry at the index and term it was given;
 * a read is answered from the node's applied state. For linearizable and
 * lease reads the node must have applied at least everything committed
 * anywhere when the read was invoked (what ReadIndex guarantees). */
#include "tests/raft/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define CLIENT_TIMEOUT_NS (300 * 1000000LL)

static void finish(sim_world *w, sim_client *k)
{
    k->busy = false;
    if (w->now < w->o.duration_ns)
        sim_schedule(w, w->now + (int64_t)prng_below(&w->clients, 10000000), EV_CLIENT, 0,
                     (uint64_t)(k - w->cl), 0);
}

static uint64_t read_id(int c, uint64_t op)
{
    return (uint64_t)c << 32 | (op & 0xffffffffu);
}

void sim_client_event(sim_world *w, int c)
{
    sim_client *k = &w->cl[c];
    if (w->now >= w->o.duration_ns || k->busy)
        return;
    k->op++;
    k->busy = true;
    k->is_write = prng_chance(&w->clients, 0.5);
    k->key = (int)prng_below(&w->clients, SIM_KEYS);
    if (k->guess && prng_chance(&w->clients, 0.85))
        k->node = k->guess - 1;
    else
        k->node = (int)prng_below(&w->clients, (uint64_t)w->o.nodes);
    sim_node *n = &w->nodes[k->node];
    if (!n->up) {
        k->guess = 0;
        finish(w, k);
        return;
    }
    sim_schedule(w, w->now + CLIENT_TIMEOUT_NS, EV_CLIENT_TIMEOUT, 0, (uint64_t)c, k->op);
    if (k->is_write) {
        uint8_t p[10];
        k->value = (uint64_t)(c + 1) << 32 | k->op;
        p[0] = 'W';
        p[1] = (uint8_t)k->key;
        memcpy(p + 2, &k->value, 8);
        raft_index idx;
        raft_term term;
        if (raft_propose(n->r, RAFT_ENTRY_NORMAL, p, sizeof p, &idx, &term) != RAFT_OK) {
            k->guess = raft_leader(n->r);
            finish(w, k);
            return;
        }
        if (n->n_pw == n->cap_pw) {
            n->cap_pw = n->cap_pw ? 2 * n->cap_pw : 16;
            n->pw = realloc(n->pw, n->cap_pw * sizeof *n->pw);
            if (!n->pw)
                abort();
        }
        n->pw[n->n_pw++] = (sim_pending_write){c, k->op, idx, term};
    } else {
        k->min_index = w->oracle.n;
        if (raft_read(n->r, w->o.read_mode, read_id(c, k->op)) != RAFT_OK) {
            finish(w, k);
            return;
        }
    }
    sim_drain(w, n);
}

void sim_client_timeout(sim_world *w, int c, uint64_t op)
{
    sim_client *k = &w->cl[c];
    if (k->busy && k->op == op) {
        k->guess = 0;
        finish(w, k);
    }
}

void sim_client_node_lost(sim_world *w, sim_node *n)
{
    (void)w;
    n->n_pw = 0; /* its clients time out: outcome unknown */
}

void sim_sm_apply(sim_world *w, sim_node *n, const raft_entry *e)
{
    if (e->index != n->sm_applied + 1) {
        sim_fail(w, "n%d applies %llu after %llu", n->id, (unsigned long long)e->index,
                 (unsigned long long)n->sm_applied);
        return;
    }
    sim_check_apply(w, n, e->index);
    if (w->failed)
        return;
    if (e->type == RAFT_ENTRY_NORMAL && e->len >= 10 && e->data[0] == 'W')
        memcpy(&n->kv[e->data[1] % SIM_KEYS], e->data + 2, 8);
    n->sm_applied = e->index;
    size_t keep = 0;
    for (size_t i = 0; i < n->n_pw; i++) {
        sim_pending_write *p = &n->pw[i];
        if (p->index != e->index) {
            n->pw[keep++] = *p;
            continue;
        }
        sim_client *k = &w->cl[p->client];
        if (!k->busy || k->op != p->op)
            continue;
        if (p->term == e->term) {
            w->acked[e->index] = true;
            w->res->writes_acked++;
        }
        finish(w, k); /* another term's entry there: the write failed */
    }
    n->n_pw = keep;
}

void sim_read_result(sim_world *w, sim_node *n, const raft_read_result *rr)
{
    int c = (int)(rr->id >> 32);
    if (c >= w->o.clients)
        return;
    sim_client *k = &w->cl[c];
    if (!k->busy || k->is_write || read_id(c, k->op) != rr->id)
        return;
    if (rr->status != RAFT_OK) {
        k->guess = rr->leader;
        finish(w, k);
        return;
    }
    bool strong = w->o.read_mode == RAFT_READ_LINEARIZABLE || w->o.read_mode == RAFT_READ_LEASE;
    if (strong && n->sm_applied < k->min_index) {
        sim_fail(w, "stale read: n%d answered a %s read of key %d from applied index %llu, "
                 "but index %llu was committed before the read was invoked", n->id,
                 w->o.read_mode == RAFT_READ_LEASE ? "lease" : "linearizable", k->key,
                 (unsigned long long)n->sm_applied, (unsigned long long)k->min_index);
        return;
    }
    if (strong && rr->index > n->sm_applied) {
        sim_fail(w, "n%d answered a read at index %llu before applying it", n->id,
                 (unsigned long long)rr->index);
        return;
    }
    w->res->reads_ok++;
    finish(w, k);
}
