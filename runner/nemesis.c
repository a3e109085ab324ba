/* nemesis.c: running the fault plan against a live cluster (see nemesis.h).
 *
 * One thread walks the plan in time order. Each fault step resolves its
 * target (leader, random, minority, ... with a seeded PRNG), acts through
 * the backend (SIGKILL/SIGSTOP, nftables cuts), the proxy (partitions, link
 * faults) or the node's admin command (RIFT.CLOCK), and opens a band: an
 * info event in the history and a shaded interval in the report. The
 * matching undo (a later step, heal/restart/resume, or the end phase)
 * closes it. A slow node is a SIGSTOP/SIGCONT duty cycle run by a second
 * thread, which works the same on both backends. */
#define _GNU_SOURCE
#include "nemesis.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/prng.h"
#include "workload.h"

#define NS_MS 1000000ull
#define PRNG_STREAM_NEMESIS_RUN 0x30000u
#define SLOW_PERIOD_NS (20 * NS_MS)

/* What one executed step did, so its undo can reverse exactly that. */
typedef struct nem_done {
    unsigned nodes;              /* bit i: node i affected */
    int band;                    /* hrec band, -1 none */
    int open;
} nem_done;

struct nemesis {
    run *r;
    struct workload *w;
    nem_step steps[NEM_MAX_STEPS];
    nem_done done[NEM_MAX_STEPS];
    int nsteps;
    prng p;
    pthread_t t, slow_t;
    atomic_int quit;
    atomic_int finished;
    pthread_mutex_t mu;          /* slow_cpu and proxy rule bookkeeping */
    double slow_cpu[SCN_MAX_NODES];
    int proxy_cuts[SCN_MAX_NODES][SCN_MAX_NODES];  /* blackhole rules we set */
};

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

static void set_now(run *r, const char *text)
{
    pthread_mutex_lock(&r->nem_mu);
    snprintf(r->nemesis_now, sizeof r->nemesis_now, "%.*s", (int)sizeof r->nemesis_now - 1, text);
    pthread_mutex_unlock(&r->nem_mu);
}

static int live(run *r, int i) { return !r->nodes[i].killed && !r->nodes[i].crashed; }

static unsigned pick_random(nemesis *n, unsigned candidates, int count)
{
    int idx[SCN_MAX_NODES], k = 0;
    for (int i = 0; i < n->r->nnodes; i++)
        if (candidates & (1u << i))
            idx[k++] = i;
    unsigned out = 0;
    for (int c = 0; c < count && k > 0; c++) {
        int j = (int)prng_below(&n->p, (uint64_t)k);
        out |= 1u << idx[j];
        idx[j] = idx[--k];
    }
    return out;
}

/* Resolve a target to a node mask (0 if nothing fits). */
static unsigned resolve(nemesis *n, const scn_target_spec *t)
{
    run *r = n->r;
    unsigned livem = 0, all = (1u << r->nnodes) - 1;
    for (int i = 0; i < r->nnodes; i++)
        if (live(r, i))
            livem |= 1u << i;
    switch (t->kind) {
    case SCN_TGT_NODE: return 1u << t->node;
    case SCN_TGT_ALL: return all;
    case SCN_TGT_LEADER: {
        int l = cluster_probe_leader(r, 300 * NS_MS);
        if (l < 0)
            l = atomic_load(&r->leader);
        return l >= 0 ? 1u << l : pick_random(n, livem, 1);
    }
    case SCN_TGT_RANDOM: return pick_random(n, livem, 1);
    case SCN_TGT_MINORITY: return pick_random(n, livem, (r->nnodes - 1) / 2);
    case SCN_TGT_MAJORITY: return pick_random(n, livem, r->nnodes / 2 + 1);
    case SCN_TGT_HEAD:
    case SCN_TGT_TAIL:
    case SCN_TGT_MIDDLE: {
        /* The chain's positions move with reconfigurations: ask the nodes. */
        const char *role = t->kind == SCN_TGT_HEAD ? "head" : t->kind == SCN_TGT_TAIL ? "tail" : "middle";
        int i = cluster_chain_role(r, role, 300 * NS_MS);
        return i >= 0 ? 1u << i : pick_random(n, livem, 1);
    }
    case SCN_TGT_KILLED: {
        unsigned m = 0;
        for (int i = 0; i < r->nnodes; i++)
            if (r->nodes[i].killed && !r->nodes[i].crashed)
                m |= 1u << i;
        return m;
    }
    case SCN_TGT_PAUSED: {
        unsigned m = 0;
        for (int i = 0; i < r->nnodes; i++)
            if (r->nodes[i].paused)
                m |= 1u << i;
        return m;
    }
    default: return 0;
    }
}

static void mask_text(run *r, unsigned m, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < r->nnodes && o < cap; i++)
        if (m & (1u << i))
            o += (size_t)snprintf(out + o, cap - o, "%sn%d", o ? " " : "", i + 1);
}

static json_t *mask_json(run *r, unsigned m)
{
    json_t *a = json_array();
    char name[16];
    for (int i = 0; i < r->nnodes; i++)
        if (m & (1u << i)) {
            snprintf(name, sizeof name, "n%d", i + 1);
            json_array_append_new(a, json_string(name));
        }
    return a;
}

/* ---- partitions ---- */

/* Fill group[] (1-based group per node, 0 = bridge/ring: use cut[][]) and
 * the directed cut matrix for a shape. */
static void shape_cuts(nemesis *n, const scn_action_spec *a, int group[], int cut[][SCN_MAX_NODES])
{
    run *r = n->r;
    int nn = r->nnodes, order[SCN_MAX_NODES];
    for (int i = 0; i < nn; i++)
        order[i] = i;
    for (int i = nn - 1; i > 0; i--) {   /* seeded shuffle */
        int j = (int)prng_below(&n->p, (uint64_t)i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    memset(cut, 0, sizeof(int) * SCN_MAX_NODES * SCN_MAX_NODES);
    for (int i = 0; i < nn; i++)
        group[i] = 0;
    switch (a->shape) {
    case SCN_SHAPE_GROUPS:
        for (int i = 0; i < nn; i++)
            group[i] = a->group_of[i] + 1;
        break;
    case SCN_SHAPE_HALVES:
        for (int k = 0; k < nn; k++)
            group[order[k]] = k < nn / 2 ? 1 : 2;
        break;
    case SCN_SHAPE_ISOLATE_LEADER: {
        int l = cluster_probe_leader(r, 300 * NS_MS);
        if (l < 0)
            l = atomic_load(&r->leader);
        if (l < 0)
            l = order[0];
        for (int i = 0; i < nn; i++)
            group[i] = i == l ? 1 : 2;
        break;
    }
    case SCN_SHAPE_BRIDGE: {
        if (a->bridge) {   /* the scenario names the bridge: put it in the middle */
            for (int k = 0; k < nn; k++)
                if (order[k] == a->bridge - 1) {
                    order[k] = order[nn / 2];
                    order[nn / 2] = a->bridge - 1;
                    break;
                }
        }
        int b = order[nn / 2];
        for (int k = 0; k < nn; k++)
            if (order[k] != b)
                for (int m = 0; m < nn; m++)
                    if (order[m] != b && (k < nn / 2) != (m < nn / 2))
                        cut[order[k]][order[m]] = 1;
        return;
    }
    case SCN_SHAPE_MAJORITY_RING: {
        /* Ring positions; each node keeps links to its ring neighbours
         * within reach, so it sees a majority but no two see the same one. */
        int reach = (nn / 2 + 1 - 1 + 1) / 2;
        if (reach < 1)
            reach = 1;
        for (int k = 0; k < nn; k++)
            for (int m = 0; m < nn; m++) {
                int d = abs(k - m);
                if (nn - d < d)
                    d = nn - d;
                if (d > reach)
                    cut[order[k]][order[m]] = 1;
            }
        return;
    }
    }
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < nn; j++)
            cut[i][j] = group[i] != group[j];
}

static void apply_cuts(nemesis *n, const scn_action_spec *a, const int group[],
                       int cut[][SCN_MAX_NODES])
{
    run *r = n->r;
    int nn = r->nnodes;
    char err[256];
    int kernel = !r->cut_by_proxy;
    for (int i = 0; i < nn && kernel; i++)
        for (int j = 0; j < nn && kernel; j++)
            if (i != j && cut[i][j] &&
                r->be.ops->cut(&r->be, i + 1, j + 1, r->nodes[i].proxy_port, err, sizeof err) < 0) {
                progress_log(r, "nftables cut n%d->n%d failed (%s); using the proxy", i + 1, j + 1, err);
                kernel = 0;
                r->cut_by_proxy = 1;
            }
    if (kernel)
        return;
    if (a->shape != SCN_SHAPE_BRIDGE && a->shape != SCN_SHAPE_MAJORITY_RING) {
        char groups[SCN_MAX_NODES][64];
        const char *argv[SCN_MAX_NODES + 1] = {"PROXY.PARTITION"};
        int ng = 0;
        for (int g = 1; g <= nn; g++) {
            size_t o = 0;
            for (int i = 0; i < nn; i++)
                if (group[i] == g)
                    o += (size_t)snprintf(groups[ng] + o, sizeof groups[ng] - o, "%sn%d",
                                          o ? "," : "", i + 1);
            if (o)
                argv[1 + ng] = groups[ng], ng++;
        }
        cluster_proxy_call(r, NULL, 0, 1 + ng, argv);
        return;
    }
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < nn; j++)
            if (i != j && cut[i][j]) {
                char f[16], t[16];
                snprintf(f, sizeof f, "n%d", i + 1);
                snprintf(t, sizeof t, "n%d", j + 1);
                const char *argv[] = {"PROXY.RULE", f, t, "blackhole"};
                if (cluster_proxy_call(r, NULL, 0, 4, argv) == 0)
                    n->proxy_cuts[i][j] = 1;
            }
}

static void heal_cuts(run *r, nemesis *n)
{
    char err[256];
    r->be.ops->heal(&r->be, err, sizeof err);
    const char *argv[] = {"PROXY.HEAL"};
    cluster_proxy_call(r, NULL, 0, 1, argv);
    if (!n)
        return;
    for (int i = 0; i < r->nnodes; i++)
        for (int j = 0; j < r->nnodes; j++)
            if (n->proxy_cuts[i][j]) {
                char f[16], t[16];
                snprintf(f, sizeof f, "n%d", i + 1);
                snprintf(t, sizeof t, "n%d", j + 1);
                const char *cl[] = {"PROXY.RULE", f, t, "clear"};
                cluster_proxy_call(r, NULL, 0, 4, cl);
                n->proxy_cuts[i][j] = 0;
            }
}

static json_t *partition_json(run *r, const int group[], int cut[][SCN_MAX_NODES])
{
    json_t *v = json_array();
    int any_group = 0;
    for (int i = 0; i < r->nnodes; i++)
        any_group |= group[i] != 0;
    char a[16], b[16];
    if (any_group) {
        for (int g = 1; g <= r->nnodes; g++) {
            unsigned m = 0;
            for (int i = 0; i < r->nnodes; i++)
                if (group[i] == g)
                    m |= 1u << i;
            if (m)
                json_array_append_new(v, mask_json(r, m));
        }
        return v;
    }
    for (int i = 0; i < r->nnodes; i++)
        for (int j = 0; j < r->nnodes; j++)
            if (cut[i][j]) {
                snprintf(a, sizeof a, "n%d", i + 1);
                snprintf(b, sizeof b, "n%d", j + 1);
                json_array_append_new(v, json_pack("[ss]", a, b));
            }
    return v;
}

/* ---- link faults ---- */

int nemesis_set_links(run *r, const scn_links *l)
{
    if (!l->delay_ns && !l->jitter_ns && l->drop == 0 && l->duplicate == 0 && l->reorder == 0 &&
        l->corrupt == 0 && l->truncate == 0 && l->replay == 0) {
        const char *argv[] = {"PROXY.RULE", "*", "*", "clear"};
        return cluster_proxy_call(r, NULL, 0, 4, argv);
    }
    char d[32], j[32], drop[32], dup[32], ro[32], co[32], tr[32], rp[32];
    snprintf(d, sizeof d, "%lluus", (unsigned long long)(l->delay_ns / 1000));
    snprintf(j, sizeof j, "%lluus", (unsigned long long)(l->jitter_ns / 1000));
    snprintf(drop, sizeof drop, "%.6f", l->drop);
    snprintf(dup, sizeof dup, "%.6f", l->duplicate);
    snprintf(ro, sizeof ro, "%.6f", l->reorder);
    snprintf(co, sizeof co, "%.6f", l->corrupt);
    snprintf(tr, sizeof tr, "%.6f", l->truncate);
    snprintf(rp, sizeof rp, "%.6f", l->replay);
    const char *argv[] = {"PROXY.RULE", "*", "*", "delay", d, "jitter", j, "drop", drop,
                          "duplicate", dup, "reorder", ro, "corrupt", co, "truncate", tr,
                          "replay", rp};
    return cluster_proxy_call(r, NULL, 0, 19, argv);
}

/* forge: PROXY.FORGE from -> to (or every other node); how many forged
 * datagrams the proxy accepted to send (recorded in the nemesis event). */
static int forge_send(run *r, const scn_action_spec *a)
{
    int sent = 0;
    for (int k = 0; k < r->nnodes; k++) {
        if (k == a->forge.from || (a->forge.to >= 0 && k != a->forge.to))
            continue;
        char from[16], to[16], type[16], count[16];
        scn_node_name(a->forge.from, from, sizeof from);
        scn_node_name(k, to, sizeof to);
        snprintf(type, sizeof type, "%d", a->forge.type);
        snprintf(count, sizeof count, "%d", a->forge.count);
        const char *argv[] = {"PROXY.FORGE", from, to, type, "count", count, "body",
                              a->forge.body};
        if (cluster_proxy_call(r, NULL, 0, a->forge.body[0] ? 8 : 6, argv) == 0)
            sent += a->forge.count;
    }
    return sent;
}

/* ---- the slow-node duty cycle ---- */

static void *slow_main(void *arg)
{
    nemesis *n = arg;
    run *r = n->r;
    while (!atomic_load(&n->quit)) {
        double cpu[SCN_MAX_NODES];
        pthread_mutex_lock(&n->mu);
        memcpy(cpu, n->slow_cpu, sizeof cpu);
        pthread_mutex_unlock(&n->mu);
        double least = 1.0;
        for (int i = 0; i < r->nnodes; i++)
            if (cpu[i] < least && live(r, i) && !r->nodes[i].paused)
                least = cpu[i];
        if (least >= 1.0) {
            sleep_ns(SLOW_PERIOD_NS);
            continue;
        }
        /* Stopped for (1 - cpu) of each period, per node. */
        for (int i = 0; i < r->nnodes; i++)
            if (cpu[i] < 1.0 && live(r, i) && !r->nodes[i].paused)
                backend_signal(&r->be, r->nodes[i].proc, SIGSTOP);
        uint64_t start = mono_now_ns();
        for (int i = 0; i < r->nnodes; i++) {
            if (cpu[i] >= 1.0 || !live(r, i) || r->nodes[i].paused)
                continue;
            uint64_t until = start + (uint64_t)((1.0 - cpu[i]) * SLOW_PERIOD_NS);
            uint64_t now = mono_now_ns();
            if (until > now)
                sleep_ns(until - now);
            backend_signal(&r->be, r->nodes[i].proc, SIGCONT);
        }
        uint64_t end = start + SLOW_PERIOD_NS, now = mono_now_ns();
        if (end > now)
            sleep_ns(end - now);
    }
    return NULL;
}

/* ---- steps ---- */

static void node_signal(run *r, unsigned m, int sig)
{
    for (int i = 0; i < r->nnodes; i++)
        if (m & (1u << i))
            backend_signal(&r->be, r->nodes[i].proc, sig);
}

static void restart_nodes(run *r, unsigned m)
{
    char err[256];
    for (int i = 0; i < r->nnodes; i++)
        if ((m & (1u << i)) && r->nodes[i].killed && !r->nodes[i].crashed) {
            if (backend_restart(&r->be, r->nodes[i].proc, err, sizeof err) < 0)
                progress_log(r, "restart n%d failed: %s", i + 1, err);
            else {
                atomic_store(&r->nodes[i].killed, 0);
                run_note_start(r, i);
            }
        }
}

static void clock_set(run *r, unsigned m, int64_t offset_ns, int32_t ppm)
{
    char off[32], drift[32];
    snprintf(off, sizeof off, "%lld", (long long)(offset_ns / (int64_t)NS_MS));
    snprintf(drift, sizeof drift, "%d", (int)ppm);
    for (int i = 0; i < r->nnodes; i++)
        if ((m & (1u << i)) && live(r, i) && !r->nodes[i].paused) {
            const char *argv[] = {"RIFT.CLOCK", off, drift};
            resp_value v;
            if (cluster_node_call(r, i, 1000 * NS_MS, &v, 3, argv) == RCLIENT_OK)
                resp_value_free(&v);
        }
}

/* Close the open bands of kind k (whose nodes intersect m, if m != 0). */
static void close_bands(nemesis *n, enum scn_action k, unsigned m, const char *f, json_t *v)
{
    for (int i = 0; i < n->nsteps; i++) {
        nem_done *d = &n->done[i];
        if (!d->open || n->steps[i].a.kind != k || (m && !(d->nodes & m)))
            continue;
        d->open = 0;
        if (d->band >= 0)
            hrec_fault_end(&n->r->h, (size_t)d->band, f, json_incref(v));
    }
    json_decref(v);
}

static void open_band(nemesis *n, int i, unsigned nodes, const char *kind, const char *text,
                      json_t *v)
{
    nem_done *d = &n->done[i];
    d->nodes = nodes;
    d->open = 1;
    d->band = (int)hrec_fault_start(&n->r->h, kind, text, kind, v);
}

static void undo(nemesis *n, int i)
{
    run *r = n->r;
    int o = n->steps[i].undo_of;
    nem_done *d = &n->done[o];
    if (!d->open)
        return;   /* already undone by a heal/restart/resume */
    json_t *v = mask_json(r, d->nodes);
    switch (n->steps[o].a.kind) {
    case SCN_ACT_PARTITION: heal_cuts(r, n); close_bands(n, SCN_ACT_PARTITION, 0, "heal", v); return;
    case SCN_ACT_KILL: restart_nodes(r, d->nodes); close_bands(n, SCN_ACT_KILL, d->nodes, "restart", v); return;
    case SCN_ACT_PAUSE:
        for (int k = 0; k < r->nnodes; k++)
            if (d->nodes & (1u << k))
                atomic_store(&r->nodes[k].paused, 0);
        node_signal(r, d->nodes, SIGCONT);
        close_bands(n, SCN_ACT_PAUSE, d->nodes, "resume", v);
        return;
    case SCN_ACT_CLOCK_SKEW: clock_set(r, d->nodes, 0, 0); break;
    case SCN_ACT_LINK_FAULTS: nemesis_set_links(r, &r->s->network.links); break;
    case SCN_ACT_SLOW:
        pthread_mutex_lock(&n->mu);
        for (int k = 0; k < r->nnodes; k++)
            if (d->nodes & (1u << k))
                n->slow_cpu[k] = 1.0;
        pthread_mutex_unlock(&n->mu);
        break;
    default: break;
    }
    d->open = 0;
    char f[32];
    snprintf(f, sizeof f, "%s-end", scn_action_name(n->steps[o].a.kind));
    if (d->band >= 0)
        hrec_fault_end(&r->h, (size_t)d->band, f, v);
    else
        json_decref(v);
}

static void execute(nemesis *n, int i)
{
    run *r = n->r;
    nem_step *st = &n->steps[i];
    const scn_action_spec *a = &st->a;
    char text[160], who[64];
    nemesis_step_text(st, text, sizeof text);
    n->done[i].band = -1;
    if (st->undo_of >= 0) {
        progress_log(r, "nemesis: %s", text);
        undo(n, i);
        return;
    }
    unsigned m = 0;
    switch (a->kind) {
    case SCN_ACT_PARTITION: {
        /* A partition replaces the one in force (no heal in between: a node
         * cut off until now gets no chance to catch up first). */
        int group[SCN_MAX_NODES], cut[SCN_MAX_NODES][SCN_MAX_NODES];
        shape_cuts(n, a, group, cut);
        heal_cuts(r, n);
        close_bands(n, SCN_ACT_PARTITION, 0, "heal", json_true());
        apply_cuts(n, a, group, cut);
        json_t *v = partition_json(r, group, cut);
        char *s = json_dumps(v, JSON_COMPACT);
        snprintf(who, sizeof who, "%s %s", scn_shape_name(a->shape), s ? s : "");
        free(s);
        open_band(n, i, (1u << r->nnodes) - 1, "partition", who, v);
        break;
    }
    case SCN_ACT_HEAL:
        heal_cuts(r, n);
        close_bands(n, SCN_ACT_PARTITION, 0, "heal", json_true());
        break;
    case SCN_ACT_KILL:
    case SCN_ACT_CRASH_STOP:
        m = resolve(n, &a->target);
        for (int k = 0; k < r->nnodes; k++)
            if (m & (1u << k)) {
                atomic_store(&r->nodes[k].paused, 0);
                atomic_store(&r->nodes[k].killed, 1);
                if (a->kind == SCN_ACT_CRASH_STOP)
                    atomic_store(&r->nodes[k].crashed, 1);
            }
        node_signal(r, m, SIGKILL);
        mask_text(r, m, who, sizeof who);
        open_band(n, i, m, scn_action_name(a->kind), who, mask_json(r, m));
        break;
    case SCN_ACT_RESTART:
        m = resolve(n, &a->target);
        restart_nodes(r, m);
        close_bands(n, SCN_ACT_KILL, m, "restart", mask_json(r, m));
        break;
    case SCN_ACT_PAUSE:
        if (a->target.kind == SCN_TGT_CLIENT) {
            uint64_t ns = a->for_ns ? a->for_ns : 2000 * NS_MS;
            int c = n->w ? workload_pause_client(n->w, ns) : -1;
            if (c >= 0)
                snprintf(who, sizeof who, "client %d", c);
            else
                snprintf(who, sizeof who, "the next lock holder");
            /* The client resumes by itself; the band closes with the undo step. */
            open_band(n, i, 0, "pause", who, json_pack("{si}", "client", c));
            break;
        }
        m = resolve(n, &a->target);
        for (int k = 0; k < r->nnodes; k++)
            if (m & (1u << k))
                atomic_store(&r->nodes[k].paused, 1);
        node_signal(r, m, SIGSTOP);
        mask_text(r, m, who, sizeof who);
        open_band(n, i, m, "pause", who, mask_json(r, m));
        break;
    case SCN_ACT_RESUME:
        m = resolve(n, &a->target);
        for (int k = 0; k < r->nnodes; k++)
            if (m & (1u << k))
                atomic_store(&r->nodes[k].paused, 0);
        node_signal(r, m, SIGCONT);
        close_bands(n, SCN_ACT_PAUSE, m, "resume", mask_json(r, m));
        break;
    case SCN_ACT_CLOCK_SKEW:
        m = resolve(n, &a->target);
        clock_set(r, m, a->skew_offset_ns, a->skew_drift_ppm);
        mask_text(r, m, who, sizeof who);
        open_band(n, i, m, "clock-skew", text + strlen("clock-skew "),
                  json_pack("{so,sI,si}", "nodes", mask_json(r, m), "offset_ms",
                            (json_int_t)(a->skew_offset_ns / (int64_t)NS_MS), "drift_ppm",
                            (int)a->skew_drift_ppm));
        break;
    case SCN_ACT_LINK_FAULTS:
        nemesis_set_links(r, &a->links);
        open_band(n, i, (1u << r->nnodes) - 1, "link-faults", text + strlen("link-faults "),
                  json_pack("{sfsfsIsfsfsfsf}", "drop", a->links.drop, "duplicate",
                            a->links.duplicate, "delay_us", (json_int_t)(a->links.delay_ns / 1000),
                            "reorder", a->links.reorder, "corrupt", a->links.corrupt, "truncate",
                            a->links.truncate, "replay", a->links.replay));
        break;
    case SCN_ACT_FORGE: {
        /* One shot: the band opens and closes at once (a mark in the report). */
        int sent = forge_send(r, a);
        open_band(n, i, (1u << r->nnodes) - 1, "forge", text + strlen("forge "),
                  json_pack("{sisisi}", "type", a->forge.type, "per_node", a->forge.count,
                            "sent", sent));
        hrec_fault_end(&r->h, (size_t)n->done[i].band, "forge-end", json_integer(sent));
        n->done[i].open = 0;
        break;
    }
    case SCN_ACT_SLOW:
        m = resolve(n, &a->target);
        pthread_mutex_lock(&n->mu);
        for (int k = 0; k < r->nnodes; k++)
            if (m & (1u << k))
                n->slow_cpu[k] = a->slow_cpu;
        pthread_mutex_unlock(&n->mu);
        mask_text(r, m, who, sizeof who);
        open_band(n, i, m, "slow", who, json_pack("{sosf}", "nodes", mask_json(r, m), "cpu", a->slow_cpu));
        break;
    default:
        break;
    }
    if (m)
        mask_text(r, m, who, sizeof who);
    progress_log(r, "nemesis: %s%s%s", text, m ? " -> " : "", m ? who : "");
    set_now(r, text);
}

static void *nemesis_main(void *arg)
{
    nemesis *n = arg;
    run *r = n->r;
    for (int i = 0; i < n->nsteps && !atomic_load(&n->quit); i++) {
        while (!atomic_load(&n->quit) && (uint64_t)hrec_now(&r->h) < n->steps[i].t_ns) {
            uint64_t left = n->steps[i].t_ns - (uint64_t)hrec_now(&r->h);
            sleep_ns(left > 20 * NS_MS ? 20 * NS_MS : left);
        }
        if (!atomic_load(&n->quit))
            execute(n, i);
    }
    atomic_store(&n->finished, 1);
    return NULL;
}

nemesis *nemesis_start(run *r, struct workload *w)
{
    nemesis *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    n->r = r;
    n->w = w;
    pthread_mutex_init(&n->mu, NULL);
    for (int i = 0; i < SCN_MAX_NODES; i++)
        n->slow_cpu[i] = 1.0;
    prng_seed(&n->p, prng_derive(r->seed, PRNG_STREAM_NEMESIS_RUN));
    n->nsteps = nemesis_plan(r->s, r->seed, n->steps, NEM_MAX_STEPS);
    if (pthread_create(&n->t, NULL, nemesis_main, n) != 0 ||
        pthread_create(&n->slow_t, NULL, slow_main, n) != 0)
        abort();
    return n;
}

void nemesis_stop_async(nemesis *n)
{
    if (n)
        atomic_store(&n->quit, 1);
}

int nemesis_stopped(nemesis *n) { return !n || atomic_load(&n->finished); }

void nemesis_stop(nemesis *n)
{
    if (!n)
        return;
    atomic_store(&n->quit, 1);
    pthread_join(n->t, NULL);
    pthread_join(n->slow_t, NULL);
}

void nemesis_heal_all(run *r, nemesis *n)
{
    heal_cuts(r, n);
    nemesis_set_links(r, &r->s->network.links);
    unsigned paused = 0, killed = 0, all = (1u << r->nnodes) - 1;
    for (int i = 0; i < r->nnodes; i++) {
        if (r->nodes[i].paused)
            paused |= 1u << i;
        if (r->nodes[i].killed && !r->nodes[i].crashed)
            killed |= 1u << i;
        atomic_store(&r->nodes[i].paused, 0);
    }
    node_signal(r, all, SIGCONT);   /* also ends a slow duty cycle's stop */
    restart_nodes(r, killed);
    if (n) {
        for (int i = 0; i < n->nsteps; i++)
            if (n->done[i].open && n->steps[i].a.kind == SCN_ACT_CLOCK_SKEW)
                clock_set(r, n->done[i].nodes, 0, 0);
        for (int i = 0; i < n->nsteps; i++) {
            nem_done *d = &n->done[i];
            if (d->open && n->steps[i].a.kind != SCN_ACT_CRASH_STOP) {
                d->open = 0;
                if (d->band >= 0)
                    hrec_fault_end(&r->h, (size_t)d->band, "heal-all", json_true());
            }
        }
        pthread_mutex_destroy(&n->mu);
        free(n);
    }
    (void)paused;
    set_now(r, "");
}
