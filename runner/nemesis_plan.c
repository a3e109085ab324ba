/* nemesis_plan.c: expanding a scenario's nemesis list into timed steps
 * (pure; see nemesis.h). Random parameters come from one PRNG stream of the
 * run seed, drawn in a fixed order, so a seed always yields the same plan. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "common/prng.h"
#include "nemesis.h"

#define NS_MS ((uint64_t)1000000)
#define PRNG_STREAM_NEMESIS_PLAN 0x20000u

static int add(nem_step *out, int *n, int max, uint64_t t, const scn_action_spec *a, int undo_of,
               int entry)
{
    if (*n >= max)
        return -1;
    nem_step *st = &out[(*n)++];
    memset(st, 0, sizeof *st);
    st->t_ns = t;
    st->a = *a;
    st->undo_of = undo_of;
    st->entry = entry;
    return *n - 1;
}

static int undoable(enum scn_action k)
{
    return k != SCN_ACT_HEAL && k != SCN_ACT_RESTART && k != SCN_ACT_RESUME &&
           k != SCN_ACT_CRASH_STOP;
}

/* A random fault of kind k with drawn parameters. */
static void draw(const scenario *s, prng *p, enum scn_action k, scn_action_spec *a)
{
    memset(a, 0, sizeof *a);
    a->kind = k;
    int raft = s->system.kind == SCN_RAFT;
    static const enum scn_target raft_targets[] = {SCN_TGT_LEADER, SCN_TGT_RANDOM, SCN_TGT_MINORITY};
    static const enum scn_target chain_targets[] = {SCN_TGT_HEAD, SCN_TGT_TAIL, SCN_TGT_RANDOM};
    a->target.kind = raft ? raft_targets[prng_below(p, 3)] : chain_targets[prng_below(p, 3)];
    switch (k) {
    case SCN_ACT_PARTITION: {
        int shapes = s->system.nodes < 3 ? 1 : raft ? 4 : 3;
        a->shape = (enum scn_partition_shape)prng_below(p, (uint64_t)shapes);
        break;
    }
    case SCN_ACT_CRASH_STOP:
    case SCN_ACT_CLOCK_SKEW:
        if (a->target.kind == SCN_TGT_MINORITY)
            a->target.kind = SCN_TGT_RANDOM;
        if (k == SCN_ACT_CLOCK_SKEW) {
            int64_t ms = 50 + (int64_t)prng_below(p, 951);
            a->skew_offset_ns = (prng_chance(p, 0.5) ? -ms : ms) * (int64_t)NS_MS;
            a->skew_drift_ppm = (int32_t)prng_below(p, 2001) - 1000;
        }
        break;
    case SCN_ACT_LINK_FAULTS:
        a->links.drop = 0.05 + 0.25 * prng_double(p);
        a->links.duplicate = 0.2 * prng_double(p);
        a->links.delay_ns = prng_below(p, 20) * NS_MS;
        a->links.jitter_ns = prng_below(p, 10) * NS_MS;
        a->links.reorder = 0.2 * prng_double(p);
        break;
    case SCN_ACT_SLOW:
        a->slow_cpu = 0.05 + 0.25 * prng_double(p);
        break;
    default:
        break;
    }
}

static int cmp_step(const void *x, const void *y)
{
    const nem_step *a = x, *b = y;
    if (a->t_ns != b->t_ns)
        return a->t_ns < b->t_ns ? -1 : 1;
    return 0;
}

int nemesis_plan(const scenario *s, uint64_t seed, nem_step *out, int max)
{
    prng p;
    prng_seed(&p, prng_derive(seed, PRNG_STREAM_NEMESIS_PLAN));
    int n = 0;
    for (int e = 0; e < s->nnemesis; e++) {
        const scn_nemesis *ne = &s->nemesis[e];
        if (!ne->random) {
            int id = add(out, &n, max, ne->at_ns, &ne->action, -1, e);
            if (id >= 0 && ne->action.for_ns && undoable(ne->action.kind))
                add(out, &n, max, ne->at_ns + ne->action.for_ns, &ne->action, id, e);
            continue;
        }
        uint64_t hold = ne->every_ns * 6 / 10;
        for (uint64_t t = ne->from_ns; t < ne->until_ns && n < max; t += ne->every_ns) {
            scn_action_spec a;
            draw(s, &p, ne->pick[prng_below(&p, (uint64_t)ne->npick)], &a);
            int id = add(out, &n, max, t, &a, -1, e);
            if (id >= 0 && undoable(a.kind))
                add(out, &n, max, t + hold, &a, id, e);
        }
    }
    /* Sort by time, stably (entries at equal times keep their written
     * order), then renumber undo_of to the new positions. */
    nem_step *tmp = malloc(sizeof *tmp * (size_t)(n ? n : 1));
    int *pos = malloc(sizeof *pos * (size_t)(n ? n : 1));
    if (!tmp || !pos)
        abort();
    /* Insertion sort: stable, and plans are small. */
    for (int i = 0; i < n; i++)
        pos[i] = i;
    for (int i = 1; i < n; i++) {
        int x = pos[i], j = i - 1;
        while (j >= 0 && cmp_step(&out[pos[j]], &out[x]) > 0) {
            pos[j + 1] = pos[j];
            j--;
        }
        pos[j + 1] = x;
    }
    int *newidx = malloc(sizeof *newidx * (size_t)(n ? n : 1));
    if (!newidx)
        abort();
    for (int i = 0; i < n; i++) {
        tmp[i] = out[pos[i]];
        newidx[pos[i]] = i;
    }
    for (int i = 0; i < n; i++) {
        out[i] = tmp[i];
        if (out[i].undo_of >= 0)
            out[i].undo_of = newidx[out[i].undo_of];
    }
    free(newidx);
    free(tmp);
    free(pos);
    return n;
}

void nemesis_step_text(const nem_step *st, char *out, size_t cap)
{
    const scn_action_spec *a = &st->a;
    char t[16], extra[128] = "";
    switch (a->kind) {
    case SCN_ACT_PARTITION:
        snprintf(extra, sizeof extra, " %s", scn_shape_name(a->shape));
        break;
    case SCN_ACT_HEAL:
        break;
    case SCN_ACT_CLOCK_SKEW:
        snprintf(extra, sizeof extra, " %s offset=%" PRId64 "ms drift=%dppm",
                 scn_target_text(&a->target, t, sizeof t), a->skew_offset_ns / (int64_t)NS_MS,
                 (int)a->skew_drift_ppm);
        break;
    case SCN_ACT_LINK_FAULTS:
        snprintf(extra, sizeof extra,
                 " drop=%.2f dup=%.2f delay=%" PRIu64 "ms reorder=%.2f corrupt=%.2f"
                 " truncate=%.2f replay=%.2f",
                 a->links.drop, a->links.duplicate, (uint64_t)(a->links.delay_ns / NS_MS),
                 a->links.reorder, a->links.corrupt, a->links.truncate, a->links.replay);
        break;
    case SCN_ACT_FORGE:
        snprintf(extra, sizeof extra, " n%d->%s type=%d count=%d", a->forge.from + 1,
                 scn_forge_to_text(a, t, sizeof t), a->forge.type, a->forge.count);
        break;
    case SCN_ACT_SLOW:
        snprintf(extra, sizeof extra, " %s cpu=%.2f", scn_target_text(&a->target, t, sizeof t),
                 a->slow_cpu);
        break;
    default:
        snprintf(extra, sizeof extra, " %s", scn_target_text(&a->target, t, sizeof t));
    }
    if (st->undo_of >= 0)
        snprintf(out, cap, "undo #%d %s%s", st->undo_of, scn_action_name(a->kind), extra);
    else
        snprintf(out, cap, "%s%s", scn_action_name(a->kind), extra);
}

void nemesis_plan_write(const nem_step *steps, int n, FILE *f)
{
    fprintf(f, "[\n");
    for (int i = 0; i < n; i++) {
        char text[200], t[32];
        nemesis_step_text(&steps[i], text, sizeof text);
        format_duration(steps[i].t_ns, t, sizeof t);
        fprintf(f, "  {\"step\":%d,\"at\":\"%s\",\"at_ns\":%" PRIu64 ",\"action\":\"%s\"}%s\n", i,
                t, steps[i].t_ns, text, i + 1 < n ? "," : "");
    }
    fprintf(f, "]\n");
}
