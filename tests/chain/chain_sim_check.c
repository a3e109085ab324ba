/* chain_sim_check.c: a direct linearizability check for the simulation's
 * registers, given the order in which the chain committed the writes.
 *
 * With unique written values and a known write order w1 < w2 < ... < wn for
 * a key, the history is linearizable iff we can pick points p1 < ... < pn,
 * p_i inside write i's [invoke, response], such that every read that saw w_j
 * has a point inside its own interval and inside [p_j, p_j+1). That read
 * forces p_j <= read.response and p_j+1 > read.invoke (a read of the
 * initial absent value forces p_1 > read.invoke). Each p_i thus has a lower
 * and an upper bound, and choosing every p_i as early as allowed is optimal,
 * so one pass decides. The write order itself comes from the system (a
 * white-box input), which is what makes the check polynomial. */
#include "chain_sim.h"

#include <stdio.h>
#include <stdlib.h>

int chain_sim_check(const sim_op *ops, size_t nops, const uint64_t *order, size_t n_order,
                    int nkeys, uint32_t modes, char *why, size_t cap)
{
    int ok = 1;
    /* Position of each committed write in its key's order (-1: not committed). */
    long *kpos = malloc((nops + 1) * sizeof *kpos);
    size_t *kcount = calloc((size_t)nkeys, sizeof *kcount);
    for (size_t i = 0; i <= nops; i++)
        kpos[i] = -1;
    for (size_t s = 1; s <= n_order; s++) {
        uint64_t rid = order[s];
        if (rid == 0 || rid > nops || !ops[rid - 1].is_write) {
            snprintf(why, cap, "seq %zu commits unknown write %llu", s, (unsigned long long)rid);
            ok = 0;
            goto out;
        }
        const sim_op *w = &ops[rid - 1];
        if (kpos[rid] >= 0) {
            snprintf(why, cap, "write %llu committed twice", (unsigned long long)rid);
            ok = 0;
            goto out;
        }
        if (w->status == SIM_FAIL) {
            snprintf(why, cap, "write %llu was reported failed but committed at seq %zu",
                     (unsigned long long)rid, s);
            ok = 0;
            goto out;
        }
        kpos[rid] = (long)kcount[w->key]++;
    }
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].is_write && ops[i].status == SIM_OK && kpos[ops[i].rid] < 0) {
            snprintf(why, cap, "acknowledged write %llu (key k%d) was lost",
                     (unsigned long long)ops[i].rid, ops[i].key);
            ok = 0;
            goto out;
        }
    }
    for (int k = 0; k < nkeys && ok; k++) {
        size_t n = kcount[k];
        double *lo = malloc((n + 1) * sizeof *lo), *hi = malloc((n + 1) * sizeof *hi);
        uint64_t *rid = malloc((n + 1) * sizeof *rid);
        for (size_t s = 1, j = 0; s <= n_order; s++) {
            const sim_op *w = &ops[order[s] - 1];
            if (w->key != k)
                continue;
            rid[j] = w->rid;
            lo[j] = (double)w->inv;
            hi[j] = w->resp == UINT64_MAX ? 1e300 : (double)w->resp;
            j++;
        }
        for (size_t i = 0; i < nops && ok; i++) {
            const sim_op *r = &ops[i];
            if (r->is_write || r->key != k || r->status != SIM_OK || !(modes & SIM_MODE_BIT(r->mode)))
                continue;
            if (r->value == 0) {
                if (n > 0 && lo[0] < (double)r->inv + 0.5)
                    lo[0] = (double)r->inv + 0.5;
                continue;
            }
            if (r->value > nops || kpos[r->value] < 0 || ops[r->value - 1].key != k) {
                snprintf(why, cap, "read %llu (%s at n%u) returned write %llu, which never committed",
                         (unsigned long long)r->rid, chain_read_mode_name(r->mode), r->node,
                         (unsigned long long)r->value);
                ok = 0;
                break;
            }
            size_t j = (size_t)kpos[r->value];
            if (hi[j] > (double)r->resp)
                hi[j] = (double)r->resp;
            if (j + 1 < n && lo[j + 1] < (double)r->inv + 0.5)
                lo[j + 1] = (double)r->inv + 0.5;
        }
        double p = -1.0;
        for (size_t j = 0; j < n && ok; j++) {
            p = p + 1e-6 > lo[j] ? p + 1e-6 : lo[j];
            if (p > hi[j]) {
                snprintf(why, cap,
                         "not linearizable: key k%d, write %llu (#%zu in commit order) cannot be "
                         "placed: must follow event %.1f but precede event %.1f",
                         k, (unsigned long long)rid[j], j, p, hi[j]);
                ok = 0;
            }
        }
        free(lo);
        free(hi);
        free(rid);
    }
out:
    free(kpos);
    free(kcount);
    return ok;
}
