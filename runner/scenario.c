/* scenario.c: scenario defaults, names of every enum, and writing a
 * scenario back out as YAML (the run directory's scenario.yaml, with the seed
 * that was used, so a run can be repeated exactly). */
#define _GNU_SOURCE
#include "scenario.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../common/parse.h"

const char *const scn_system_names[2] = {"raft", "chain"};
const char *const scn_read_names[7] = {"linearizable", "lease", "sequential", "eventual",
                                       "tail", "craq", "any"};
const char *const scn_backend_names[3] = {"auto", "netns", "loopback"};
const char *const scn_partitions_names[3] = {"auto", "nftables", "proxy"};
const char *const scn_workload_names[3] = {"register", "kv", "lease"};
const char *const scn_target_mode_names[3] = {"leader", "pinned", "random"};
const char *const scn_expect_names[3] = {"pass", "fail", "skip"};
const char *const scn_check_names[SCN_CHECK_COUNT] = {"linearizable", "sequential", "eventual",
                                                      "invariants", "mutex"};
const char *const scn_action_names[SCN_ACT_COUNT] = {
    "partition", "heal", "kill", "restart", "crash-stop", "pause", "resume",
    "clock-skew", "link-faults", "slow", "forge"};
const char *const scn_byz_names[SCN_BYZ_COUNT] = {"none", "double-vote", "term-inflation",
                                                  "lie-append", "equivocate", "reorder-forward"};
const char *const scn_shape_names[4] = {"halves", "majority-ring", "bridge", "isolate-leader"};

int scn_lookup(const char *const *names, int n, const char *text)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], text) == 0)
            return i;
    return -1;
}

const char *scn_system_name(enum scn_system k) { return scn_system_names[k]; }
const char *scn_read_name(enum scn_read r) { return scn_read_names[r]; }
const char *scn_backend_name(enum scn_backend b) { return scn_backend_names[b]; }
const char *scn_partitions_name(enum scn_partitions p) { return scn_partitions_names[p]; }
const char *scn_workload_name(enum scn_workload w) { return scn_workload_names[w]; }
const char *scn_target_mode_name(enum scn_target_mode t) { return scn_target_mode_names[t]; }
const char *scn_expect_name(enum scn_expect e) { return scn_expect_names[e]; }
const char *scn_check_name(enum scn_check c) { return scn_check_names[c]; }
const char *scn_action_name(enum scn_action a) { return scn_action_names[a]; }
const char *scn_shape_name(enum scn_partition_shape s)
{
    return s == SCN_SHAPE_GROUPS ? "groups" : scn_shape_names[s];
}

const char *scn_node_name(int i, char *out, size_t cap)
{
    snprintf(out, cap, "n%d", i + 1);
    return out;
}

const char *scn_forge_to_text(const scn_action_spec *a, char *out, size_t cap)
{
    if (a->forge.to < 0)
        snprintf(out, cap, "all");
    else
        scn_node_name(a->forge.to, out, cap);
    return out;
}

const char *scn_target_text(const scn_target_spec *t, char *out, size_t cap)
{
    static const char *const names[] = {"", "leader", "random", "minority", "majority",
                                        "all", "head", "tail", "middle", "killed", "paused", "client"};
    if (t->kind == SCN_TGT_NODE)
        return scn_node_name(t->node, out, cap);
    snprintf(out, cap, "%s", names[t->kind]);
    return out;
}

void scenario_defaults(scenario *s)
{
    memset(s, 0, sizeof *s);
    s->system.kind = SCN_RAFT;
    s->system.nodes = 5;
    s->system.read = SCN_READ_LINEARIZABLE;
    s->system.auth = 1;
    s->system.fsync = 1;
    s->system.ready_timeout_ns = 10ull * 1000000000ull;
    s->network.backend = SCN_BACKEND_AUTO;
    s->network.partitions = SCN_PART_AUTO;
    s->workload.kind = SCN_WL_REGISTER;
    s->workload.clients = 5;
    s->workload.keys = 4;
    s->workload.mix_read = 0.5;
    s->workload.mix_write = 0.3;
    s->workload.mix_cas = 0.2;
    s->workload.rate = 200;
    s->workload.duration_ns = 10ull * 1000000000ull;
    s->workload.timeout_ns = 1000000000ull;
    s->workload.target = SCN_CLIENT_LEADER;
    s->workload.fenced = 1;
    s->workload.lease_ns = 1000000000ull;
    s->workload.hold_ns = 5000000ull;
    s->workload.quiesce_ns = 1000000000ull;
    for (int c = 0; c < SCN_CHECK_COUNT; c++)
        s->checks[c] = SCN_EXPECT_SKIP;
}

void scenario_free(scenario *s)
{
    free(s->file);
    free(s->name);
    free(s->description);
    free(s->system.key_file);
    for (int i = 0; i < s->system.nbugs; i++)
        free(s->system.bugs[i]);
    memset(s, 0, sizeof *s);
}

/* YAML double-quoted scalar: escape quotes, backslashes and control bytes. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void put_dur(FILE *f, const char *key, uint64_t ns, const char *indent)
{
    char t[32];
    format_duration(ns, t, sizeof t);
    fprintf(f, "%s%s: %s\n", indent, key, t);
}

static void put_links(FILE *f, const scn_links *l, const char *indent)
{
    put_dur(f, "delay", l->delay_ns, indent);
    put_dur(f, "jitter", l->jitter_ns, indent);
    fprintf(f, "%sdrop: %.17g\n%sduplicate: %.17g\n%sreorder: %.17g\n%scorrupt: %.17g\n",
            indent, l->drop, indent, l->duplicate, indent, l->reorder, indent, l->corrupt);
    fprintf(f, "%struncate: %.17g\n%sreplay: %.17g\n", indent, l->truncate, indent, l->replay);
}

static void put_action(FILE *f, const scn_action_spec *a)
{
    char t[16], n[16];
    const char *ind = "    ";
    switch (a->kind) {
    case SCN_ACT_PARTITION:
        if (a->shape == SCN_SHAPE_BRIDGE && a->bridge) {
            fprintf(f, "%spartition: {bridge: %s}\n", ind, scn_node_name(a->bridge - 1, n, sizeof n));
            break;
        }
        if (a->shape != SCN_SHAPE_GROUPS) {
            fprintf(f, "%spartition: %s\n", ind, scn_shape_name(a->shape));
            break;
        }
        fprintf(f, "%spartition: [", ind);
        for (int g = 0; g < a->ngroups; g++) {
            fprintf(f, "%s[", g ? ", " : "");
            int first = 1;
            for (int i = 0; i < SCN_MAX_NODES; i++)
                if (a->group_of[i] == g) {
                    fprintf(f, "%s%s", first ? "" : ", ", scn_node_name(i, n, sizeof n));
                    first = 0;
                }
            fputc(']', f);
        }
        fprintf(f, "]\n");
        break;
    case SCN_ACT_HEAL:
        fprintf(f, "%sheal: true\n", ind);
        break;
    case SCN_ACT_CLOCK_SKEW:
        fprintf(f, "%sclock-skew: {node: %s, offset: %" PRId64 "ms, drift: %d}\n", ind,
                scn_target_text(&a->target, t, sizeof t), a->skew_offset_ns / 1000000,
                (int)a->skew_drift_ppm);
        break;
    case SCN_ACT_LINK_FAULTS:
        fprintf(f, "%slink-faults:\n", ind);
        put_links(f, &a->links, "      ");
        break;
    case SCN_ACT_FORGE:
        fprintf(f, "%sforge: {from: %s, to: %s, type: %d, count: %d", ind,
                scn_node_name(a->forge.from, n, sizeof n), scn_forge_to_text(a, t, sizeof t),
                a->forge.type, a->forge.count);
        if (a->forge.body[0])
            fprintf(f, ", body: \"%s\"", a->forge.body);
        fprintf(f, "}\n");
        break;
    case SCN_ACT_SLOW:
        fprintf(f, "%sslow: {node: %s, cpu: %.17g}\n", ind,
                scn_target_text(&a->target, t, sizeof t), a->slow_cpu);
        break;
    default:
        fprintf(f, "%s%s: %s\n", ind, scn_action_name(a->kind),
                scn_target_text(&a->target, t, sizeof t));
    }
    if (a->for_ns)
        put_dur(f, "for", a->for_ns, ind);
}

void scenario_write_yaml(const scenario *s, FILE *f)
{
    fprintf(f, "# scenario as run by riftlab (every key, seed filled in)\nname: ");
    put_quoted(f, s->name);
    fprintf(f, "\ndescription: ");
    put_quoted(f, s->description ? s->description : "");
    if (s->has_seed)
        fprintf(f, "\nseed: %" PRIu64, s->seed);
    fprintf(f, "\nsystem:\n  kind: %s\n  nodes: %d\n  read: %s\n"
               "  auth: %s\n",
            scn_system_name(s->system.kind), s->system.nodes,
            scn_read_name(s->system.read), s->system.auth ? "hmac" : "none");
    if (s->system.key_file) {
        fprintf(f, "  key-file: ");
        put_quoted(f, s->system.key_file);
        fputc('\n', f);
    }
    fprintf(f, "  fsync: %s\n  bugs: [", s->system.fsync ? "always" : "never");
    for (int i = 0; i < s->system.nbugs; i++) {
        fprintf(f, "%s", i ? ", " : "");
        put_quoted(f, s->system.bugs[i]);
    }
    fprintf(f, "]\n  byzantine: {");
    for (int i = 0, k = 0; i < s->system.nodes && i < SCN_MAX_NODES; i++)
        if (s->system.byzantine[i] != SCN_BYZ_NONE)
            fprintf(f, "%sn%d: %s", k++ ? ", " : "", i + 1, scn_byz_names[s->system.byzantine[i]]);
    fprintf(f, "}\n");
    put_dur(f, "ready-timeout", s->system.ready_timeout_ns, "  ");
    put_dur(f, "election-timeout", s->system.election_timeout_ns, "  ");
    fprintf(f, "network:\n  backend: %s\n  partitions: %s\n  links:\n",
            scn_backend_name(s->network.backend), scn_partitions_name(s->network.partitions));
    put_links(f, &s->network.links, "    ");
    fprintf(f, "workload:\n  kind: %s\n  clients: %d\n  keys: %d\n"
               "  mix: {read: %.15g, write: %.15g, cas: %.15g, delete: %.15g}\n"
               "  rate: %.15g/s\n",
            scn_workload_name(s->workload.kind), s->workload.clients, s->workload.keys,
            s->workload.mix_read, s->workload.mix_write, s->workload.mix_cas,
            s->workload.mix_delete, s->workload.rate);
    put_dur(f, "duration", s->workload.duration_ns, "  ");
    put_dur(f, "timeout", s->workload.timeout_ns, "  ");
    fprintf(f, "  target: %s\n  fenced: %s\n", scn_target_mode_name(s->workload.target),
            s->workload.fenced ? "true" : "false");
    put_dur(f, "lease", s->workload.lease_ns, "  ");
    put_dur(f, "hold", s->workload.hold_ns, "  ");
    put_dur(f, "quiesce", s->workload.quiesce_ns, "  ");
    fprintf(f, "nemesis:%s\n", s->nnemesis ? "" : " []");
    for (int i = 0; i < s->nnemesis; i++) {
        const scn_nemesis *n = &s->nemesis[i];
        if (n->random) {
            put_dur(f, "- every", n->every_ns, "  ");
            put_dur(f, "from", n->from_ns, "    ");
            put_dur(f, "until", n->until_ns, "    ");
            fprintf(f, "    pick: [");
            for (int p = 0; p < n->npick; p++)
                fprintf(f, "%s%s", p ? ", " : "", scn_action_name(n->pick[p]));
            fprintf(f, "]\n");
        } else {
            put_dur(f, "- at", n->at_ns, "  ");
            put_action(f, &n->action);
        }
    }
    fprintf(f, "checks:\n");
    for (int c = 0; c < SCN_CHECK_COUNT; c++)
        fprintf(f, "  %s: %s\n", scn_check_name(c), scn_expect_name(s->checks[c]));
}
