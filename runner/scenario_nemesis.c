/* scenario_nemesis.c: loading the `nemesis:` list of a scenario.
 *
 * Each entry is either a fixed action
 *     - at: 5s
 *       partition: isolate-leader        (exactly one action key, optional `for`)
 * or a random schedule drawn from the seed
 *     - every: 3s
 *       from: 20s
 *       until: 28s
 *       pick: [partition, kill, pause]
 * Targets are checked against the system: head/tail/middle are chain
 * positions, leader and isolate-leader only exist on raft. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "../common/parse.h"
#include "scenario_yaml.h"

#define NS_MS 1000000ull
#define NS_S 1000000000ull

/* Parse a target; `recover` allows killed/paused (restart/resume). */
static int load_target(scn_ctx *c, yaml_node_t *n, const char *what, int recover,
                       scn_target_spec *t)
{
    static const char *const names[] = {"", "leader", "random", "minority", "majority", "all",
                                        "head", "tail", "middle", "killed", "paused", "client"};
    const char *s;
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    int k = scn_lookup(names, 12, s);
    if (k <= 0) {
        if (s[0] != 'n') {
            scn_err(c, n, "%s: unknown target '%s' (use a node name n1..n%d, leader, random, "
                          "minority, majority, all, head, tail or middle)",
                    what, s, c->s->system.nodes);
            return -1;
        }
        int i = scn_node_index(c, n);
        if (i < 0)
            return -1;
        t->kind = SCN_TGT_NODE, t->node = i;
        return 0;
    }
    int raft = c->s->system.kind == SCN_RAFT;
    if (raft && (k == SCN_TGT_HEAD || k == SCN_TGT_TAIL || k == SCN_TGT_MIDDLE)) {
        scn_err(c, n, "%s: '%s' is a chain position; raft targets are leader, a node name, "
                      "random, minority, majority or all", what, s);
        return -1;
    }
    if (!raft && k == SCN_TGT_LEADER) {
        scn_err(c, n, "%s: chain has no leader; use head, middle or tail", what);
        return -1;
    }
    if (k == SCN_TGT_MIDDLE && c->s->system.nodes < 3) {
        scn_err(c, n, "%s: a chain of %d nodes has no middle", what, c->s->system.nodes);
        return -1;
    }
    if (!recover && (k == SCN_TGT_KILLED || k == SCN_TGT_PAUSED)) {
        scn_err(c, n, "%s: '%s' only names what restart/resume bring back", what, s);
        return -1;
    }
    if (recover && k != SCN_TGT_KILLED && k != SCN_TGT_PAUSED && k != SCN_TGT_ALL) {
        scn_err(c, n, "%s: use %s, all or a node name", what,
                strcmp(what, "restart") == 0 ? "killed" : "paused");
        return -1;
    }
    if (k == SCN_TGT_CLIENT && (strcmp(what, "pause") != 0 || c->s->workload.kind != SCN_WL_LEASE)) {
        scn_err(c, n, "%s: 'client' (a client's GC pause) is only for pause in the lease workload",
                what);
        return -1;
    }
    t->kind = k;
    return 0;
}

/* Explicit groups: [[n1,n2],[n3,n4,n5]]. Every node in exactly one group. */
static int load_groups(scn_ctx *c, yaml_node_t *n, scn_action_spec *a)
{
    a->shape = SCN_SHAPE_GROUPS;
    for (int i = 0; i < SCN_MAX_NODES; i++)
        a->group_of[i] = -1;
    int g = 0, bad = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, g++) {
        yaml_node_t *grp = scn_node(c, *it);
        if (grp->type != YAML_SEQUENCE_NODE || grp->data.sequence.items.start == grp->data.sequence.items.top) {
            scn_err(c, grp, "partition: each group is a non-empty list of node names");
            bad = 1;
            continue;
        }
        for (yaml_node_item_t *jt = grp->data.sequence.items.start; jt < grp->data.sequence.items.top; jt++) {
            yaml_node_t *nn = scn_node(c, *jt);
            int i = scn_node_index(c, nn);
            if (i < 0) {
                bad = 1;
                continue;
            }
            if (a->group_of[i] >= 0) {
                scn_err(c, nn, "partition: n%d is in two groups", i + 1);
                bad = 1;
            }
            a->group_of[i] = g;
        }
    }
    a->ngroups = g;
    if (bad)
        return -1;
    if (g < 2) {
        scn_err(c, n, "partition: give at least two groups");
        return -1;
    }
    for (int i = 0; i < c->s->system.nodes; i++)
        if (a->group_of[i] < 0) {
            scn_err(c, n, "partition: n%d is in no group (list every node)", i + 1);
            return -1;
        }
    return 0;
}

/* partition: {bridge: n3}: a bridge whose middle node is chosen. */
static int bridge_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    scn_action_spec *a = arg;
    if (strcmp(key, "bridge") != 0)
        return -1;
    int i = scn_node_index(c, v);
    if (i >= 0)
        a->bridge = i + 1;
    return 0;
}

static int load_partition(scn_ctx *c, yaml_node_t *v, scn_action_spec *a)
{
    if (v->type == YAML_SEQUENCE_NODE)
        return load_groups(c, v, a);
    if (v->type == YAML_MAPPING_NODE) {
        a->shape = SCN_SHAPE_BRIDGE;
        if (c->s->system.nodes < 3) {
            scn_err(c, v, "partition: bridge needs more than %d nodes", c->s->system.nodes);
            return -1;
        }
        return scn_map(c, v, "partition", "bridge", bridge_pair, a);
    }
    int shape;
    if (scn_enum(c, v, "partition", scn_shape_names, 4, &shape) < 0)
        return -1;
    if (shape == SCN_SHAPE_ISOLATE_LEADER && c->s->system.kind != SCN_RAFT) {
        scn_err(c, v, "partition: chain has no leader to isolate");
        return -1;
    }
    if (c->s->system.nodes < (shape == SCN_SHAPE_HALVES ? 2 : 3)) {
        scn_err(c, v, "partition: %s needs more than %d nodes", scn_shape_names[shape],
                c->s->system.nodes);
        return -1;
    }
    a->shape = shape;
    return 0;
}

static int skew_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    scn_action_spec *a = arg;
    if (strcmp(key, "node") == 0) {
        load_target(c, v, "clock-skew.node", 0, &a->target);
    } else if (strcmp(key, "offset") == 0) {
        const char *s;
        uint64_t d;
        if (scn_str(c, v, "clock-skew.offset", &s) < 0)
            return 0;
        int neg = s[0] == '-';
        /* Re-point the node at the text after the sign for the duration parser. */
        yaml_node_t tmp = *v;
        tmp.data.scalar.value = (yaml_char_t *)(s + neg);
        if (scn_dur(c, &tmp, "clock-skew.offset", 0, 3600 * NS_S, &d) == 0)
            a->skew_offset_ns = neg ? -(int64_t)d : (int64_t)d;
    } else if (strcmp(key, "drift") == 0) {
        int64_t ppm;
        if (scn_int(c, v, "clock-skew.drift", -500000, 500000, &ppm) == 0)
            a->skew_drift_ppm = (int32_t)ppm;
    } else
        return -1;
    return 0;
}

static int slow_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    scn_action_spec *a = arg;
    if (strcmp(key, "node") == 0)
        load_target(c, v, "slow.node", 0, &a->target);
    else if (strcmp(key, "cpu") == 0) {
        if (scn_prob(c, v, "slow.cpu", &a->slow_cpu) == 0 && a->slow_cpu < 0.01) {
            scn_err(c, v, "slow.cpu: at least 0.01 (1%% of a CPU)");
            a->slow_cpu = 0.2;
        }
    } else
        return -1;
    return 0;
}

/* forge: {from: n1, to: n2|all, type: 5, count: 20, body: "00ff"}: forged
 * datagrams (no tag) injected by the proxy, as PROXY.FORGE. */
static int forge_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    scn_action_spec *a = arg;
    int64_t i;
    const char *str;
    if (strcmp(key, "from") == 0) {
        int n = scn_node_index(c, v);
        if (n >= 0)
            a->forge.from = n;
    } else if (strcmp(key, "to") == 0) {
        if (v->type == YAML_SCALAR_NODE && strcmp((const char *)v->data.scalar.value, "all") == 0)
            a->forge.to = -1;
        else {
            int n = scn_node_index(c, v);
            if (n >= 0)
                a->forge.to = n;
        }
    } else if (strcmp(key, "type") == 0) {
        if (scn_int(c, v, "forge.type", 0, 255, &i) == 0)
            a->forge.type = (int)i;
    } else if (strcmp(key, "count") == 0) {
        if (scn_int(c, v, "forge.count", 1, 1000, &i) == 0)
            a->forge.count = (int)i;
    } else if (strcmp(key, "body") == 0) {
        if (scn_str(c, v, "forge.body", &str) < 0)
            return 0;
        size_t len = strlen(str);
        if (len >= sizeof a->forge.body || len % 2 ||
            strspn(str, "0123456789abcdefABCDEF") != len)
            scn_err(c, v, "forge.body: an even number of hex digits, at most %zu",
                    sizeof a->forge.body - 1);
        else
            memcpy(a->forge.body, str, len + 1);
    } else
        return -1;
    return 0;
}

static void load_forge(scn_ctx *c, yaml_node_t *v, scn_action_spec *a)
{
    a->forge.from = 0, a->forge.to = -1, a->forge.type = 1, a->forge.count = 10;
    a->forge.body[0] = 0;
    scn_map(c, v, "forge", "from, to, type, count, body", forge_pair, a);
    if (a->forge.to == a->forge.from)
        scn_err(c, v, "forge: from and to are the same node");
}

/* The value of an action key. */
static void load_action(scn_ctx *c, enum scn_action kind, yaml_node_t *v, scn_action_spec *a)
{
    a->kind = kind;
    switch (kind) {
    case SCN_ACT_PARTITION:
        load_partition(c, v, a);
        break;
    case SCN_ACT_HEAL: {
        int b;
        if (scn_bool(c, v, "heal", &b) == 0 && !b)
            scn_err(c, v, "heal: only 'heal: true' means something");
        break;
    }
    case SCN_ACT_KILL: case SCN_ACT_CRASH_STOP: case SCN_ACT_PAUSE:
        load_target(c, v, scn_action_name(kind), 0, &a->target);
        break;
    case SCN_ACT_RESTART: case SCN_ACT_RESUME:
        load_target(c, v, scn_action_name(kind), 1, &a->target);
        break;
    case SCN_ACT_CLOCK_SKEW:
        a->target.kind = SCN_TGT_RANDOM;
        scn_map(c, v, "clock-skew", "node, offset, drift", skew_pair, a);
        break;
    case SCN_ACT_LINK_FAULTS:
        if (v->type == YAML_SCALAR_NODE && strcmp((const char *)v->data.scalar.value, "off") == 0)
            memset(&a->links, 0, sizeof a->links);
        else
            scn_load_links(c, v, "link-faults", &a->links);
        break;
    case SCN_ACT_SLOW:
        a->slow_cpu = 0.2;
        if (v->type == YAML_SCALAR_NODE)
            load_target(c, v, "slow", 0, &a->target);
        else
            scn_map(c, v, "slow", "node, cpu", slow_pair, a);
        break;
    case SCN_ACT_FORGE:
        load_forge(c, v, a);
        break;
    default:
        break;
    }
}

struct entry {
    scn_nemesis *n;
    yaml_node_t *at, *every, *from, *until, *pick, *forv, *action, *action_key, *map;
    int nactions;
};

static int entry_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct entry *e = arg;
    int act = scn_lookup(scn_action_names, SCN_ACT_COUNT, key);
    if (act >= 0) {
        if (e->nactions++ == 0) {
            e->action = v, e->action_key = k;
            load_action(c, act, v, &e->n->action);
        } else
            scn_err(c, k, "nemesis: one action per entry ('%s' and '%s'); add another entry",
                    (const char *)e->action_key->data.scalar.value, key);
        return 0;
    }
    yaml_node_t **slot = strcmp(key, "at") == 0      ? &e->at
                         : strcmp(key, "every") == 0 ? &e->every
                         : strcmp(key, "from") == 0  ? &e->from
                         : strcmp(key, "until") == 0 ? &e->until
                         : strcmp(key, "pick") == 0  ? &e->pick
                         : strcmp(key, "for") == 0   ? &e->forv
                                                     : NULL;
    if (!slot)
        return -1;
    *slot = v;
    return 0;
}

static void load_pick(scn_ctx *c, yaml_node_t *v, scn_nemesis *n)
{
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.start == v->data.sequence.items.top) {
        scn_err(c, v, "pick: expected a non-empty list of actions");
        return;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *p = scn_node(c, *it);
        int a;
        if (scn_enum(c, p, "pick", scn_action_names, SCN_ACT_COUNT, &a) < 0)
            continue;
        if (a == SCN_ACT_FORGE) {
            scn_err(c, p, "pick: 'forge' needs its from/to/type; use fixed entries");
            continue;
        }
        if (a == SCN_ACT_HEAL || a == SCN_ACT_RESTART || a == SCN_ACT_RESUME) {
            scn_err(c, p, "pick: '%s' is not a fault (the random schedule undoes each fault "
                          "itself)", scn_action_name(a));
            continue;
        }
        if (n->npick < SCN_MAX_PICK)
            n->pick[n->npick++] = a;
    }
}

static void load_entry(scn_ctx *c, yaml_node_t *m, scn_nemesis *n)
{
    const uint64_t dur = c->s->workload.duration_ns;
    struct entry e = {.n = n, .map = m};
    n->line = (int)m->start_mark.line + 1, n->col = (int)m->start_mark.column + 1;
    if (m->type != YAML_MAPPING_NODE) {
        scn_err(c, m, "nemesis: each entry is a mapping (at: + one action, or every/from/until/pick)");
        return;
    }
    scn_map(c, m, "nemesis", "at, for, every, from, until, pick, partition, heal, kill, restart, "
                             "crash-stop, pause, resume, clock-skew, link-faults, slow, forge",
            entry_pair, &e);
    if (e.every) {
        n->random = 1;
        if (e.at || e.action || e.forv)
            scn_err(c, m, "nemesis: an entry is either fixed (at + action) or random "
                          "(every/from/until/pick), not both");
        if (!e.pick)
            scn_err(c, m, "nemesis: a random entry needs pick: [actions]");
        else
            load_pick(c, e.pick, n);
        scn_dur(c, e.every, "every", 10 * NS_MS, dur, &n->every_ns);
        n->from_ns = 0, n->until_ns = dur;
        if (e.from)
            scn_dur(c, e.from, "from", 0, dur, &n->from_ns);
        if (e.until)
            scn_dur(c, e.until, "until", 0, dur, &n->until_ns);
        if (n->from_ns >= n->until_ns)
            scn_err(c, e.from ? e.from : m, "nemesis: from must be before until");
        return;
    }
    if (e.from || e.until || e.pick)
        scn_err(c, m, "nemesis: from/until/pick belong to a random entry (with every)");
    if (!e.at)
        scn_err(c, m, "nemesis: entry needs at: (a time) or every: (a random schedule)");
    else if (scn_dur(c, e.at, "at", 0, UINT64_MAX, &n->at_ns) == 0 && n->at_ns >= dur) {
        char a[32], d[32];
        format_duration(n->at_ns, a, sizeof a);
        format_duration(dur, d, sizeof d);
        scn_err(c, e.at, "at: %s is not before the end of the workload (duration %s)", a, d);
    }
    if (!e.action)
        scn_err(c, m, "nemesis: entry has no action (partition, heal, kill, restart, crash-stop, "
                      "pause, resume, clock-skew, link-faults, slow or forge)");
    if (e.forv) {
        enum scn_action k = n->action.kind;
        if (e.action && (k == SCN_ACT_HEAL || k == SCN_ACT_RESTART || k == SCN_ACT_RESUME ||
                         k == SCN_ACT_CRASH_STOP || k == SCN_ACT_FORGE))
            scn_err(c, e.forv, "for: '%s' cannot be undone after a while", scn_action_name(k));
        else
            scn_dur(c, e.forv, "for", NS_MS, 3600 * NS_S, &n->action.for_ns);
    }
}

void scn_load_nemesis(scn_ctx *c, yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        scn_err(c, n, "nemesis: expected a list of entries, got %s", scn_type_name(n));
        return;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        if (c->s->nnemesis == SCN_MAX_NEMESIS) {
            scn_err(c, scn_node(c, *it), "nemesis: at most %d entries", SCN_MAX_NEMESIS);
            return;
        }
        load_entry(c, scn_node(c, *it), &c->s->nemesis[c->s->nnemesis++]);
    }
}
