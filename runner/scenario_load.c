/* scenario_load.c: the scenario loader: YAML syntax, the top-level sections
 * (system, network, workload, checks) and the checks that span sections
 * (read mode vs system kind, expectations vs workload, backend vs
 * partitions). The nemesis list is in scenario_nemesis.c. */
#define _GNU_SOURCE
#include "scenario_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/parse.h"
#include "scenario_yaml.h"

#define NS_S 1000000000ull
#define NS_MS 1000000ull

void scn_errors_free(scn_errors *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->msg[i]);
    memset(e, 0, sizeof *e);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* The top-level sections and the nodes the cross-section checks point at. */
struct top {
    yaml_node_t *system, *network, *workload, *nemesis, *checks;
    yaml_node_t *system_key, *checks_key, *read, *byzantine;
};

/* ---- system ---- */

static int bugs_list(scn_ctx *c, yaml_node_t *v)
{
    scenario *s = c->s;
    if (v->type != YAML_SEQUENCE_NODE) {
        scn_err(c, v, "system.bugs: expected a list of bug names, got %s", scn_type_name(v));
        return -1;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *b = scn_node(c, *it);
        const char *name;
        if (scn_str(c, b, "system.bugs", &name) < 0)
            continue;
        if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name)) {
            scn_err(c, b, "system.bugs: '%s' is not a bug name (lowercase letters, digits, -)", name);
            continue;
        }
        if (s->system.nbugs == SCN_MAX_BUGS) {
            scn_err(c, b, "system.bugs: at most %d bugs", SCN_MAX_BUGS);
            break;
        }
        s->system.bugs[s->system.nbugs++] = xstrdup(name);
    }
    return 0;
}

/* system.byzantine: {n2: double-vote, ...}. Read after the rest of system
 * (node names and the kind decide what is valid). */
static int byz_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)key, (void)arg;
    scenario *s = c->s;
    int i = scn_node_index(c, k), mode;
    if (i < 0)
        return 0;
    if (scn_enum(c, v, "system.byzantine", scn_byz_names, SCN_BYZ_COUNT, &mode) < 0)
        return 0;
    int chain_mode = mode == SCN_BYZ_REORDER_FORWARD;
    if (mode != SCN_BYZ_NONE && chain_mode != (s->system.kind == SCN_CHAIN)) {
        scn_err(c, v, "system.byzantine: '%s' is not a %s mode (%s)", scn_byz_names[mode],
                scn_system_name(s->system.kind),
                s->system.kind == SCN_RAFT ? "double-vote, term-inflation, lie-append, equivocate"
                                           : "reorder-forward");
        return 0;
    }
    s->system.byzantine[i] = mode;
    return 0;
}

static void load_byzantine(scn_ctx *c, yaml_node_t *v)
{
    scn_map(c, v, "system.byzantine", "node names n1..nN", byz_pair, NULL);
}

/* arg: the struct top, where to note `read` (its default depends on the
 * kind) and `byzantine` (read once the node count is known). */
static int system_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    struct top *t = arg;
    scenario *s = c->s;
    int e;
    int64_t i;
    const char *str;
    if (strcmp(key, "kind") == 0) {
        if (scn_enum(c, v, "system.kind", scn_system_names, 2, &e) == 0)
            s->system.kind = e;
    } else if (strcmp(key, "nodes") == 0) {
        if (scn_int(c, v, "system.nodes", 1, SCN_MAX_NODES, &i) == 0)
            s->system.nodes = (int)i;
    } else if (strcmp(key, "read") == 0) {
        if (scn_enum(c, v, "system.read", scn_read_names, 7, &e) == 0)
            s->system.read = e;
        t->read = v;
    } else if (strcmp(key, "auth") == 0) {
        static const char *const names[] = {"none", "hmac"};
        if (scn_enum(c, v, "system.auth", names, 2, &e) == 0)
            s->system.auth = e;
    } else if (strcmp(key, "key-file") == 0) {
        if (scn_str(c, v, "system.key-file", &str) == 0) {
            free(s->system.key_file);
            s->system.key_file = xstrdup(str);
        }
    } else if (strcmp(key, "fsync") == 0) {
        static const char *const names[] = {"never", "always"};
        if (scn_enum(c, v, "system.fsync", names, 2, &e) == 0)
            s->system.fsync = e;
    } else if (strcmp(key, "bugs") == 0) {
        bugs_list(c, v);
    } else if (strcmp(key, "byzantine") == 0) {
        t->byzantine = v;
    } else if (strcmp(key, "ready-timeout") == 0) {
        scn_dur(c, v, "system.ready-timeout", 100 * NS_MS, 300 * NS_S, &s->system.ready_timeout_ns);
    } else if (strcmp(key, "election-timeout") == 0) {
        uint64_t d;
        if (scn_dur(c, v, "system.election-timeout", 0, 60 * NS_S, &d) == 0) {
            if (d && d < 10 * NS_MS)
                scn_err(c, v, "system.election-timeout: must be 0 (node default) or at least 10ms");
            else
                s->system.election_timeout_ns = d;
        }
    } else
        return -1;
    return 0;
}

/* ---- network ---- */

static int network_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k, (void)arg;
    scenario *s = c->s;
    int e;
    if (strcmp(key, "backend") == 0) {
        if (scn_enum(c, v, "network.backend", scn_backend_names, 3, &e) == 0)
            s->network.backend = e;
    } else if (strcmp(key, "partitions") == 0) {
        if (scn_enum(c, v, "network.partitions", scn_partitions_names, 3, &e) == 0)
            s->network.partitions = e;
    } else if (strcmp(key, "links") == 0) {
        scn_load_links(c, v, "network.links", &s->network.links);
    } else
        return -1;
    return 0;
}

/* ---- workload ---- */

static int mix_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k, (void)arg;
    scenario *s = c->s;
    double *slot = strcmp(key, "read") == 0     ? &s->workload.mix_read
                   : strcmp(key, "write") == 0  ? &s->workload.mix_write
                   : strcmp(key, "cas") == 0    ? &s->workload.mix_cas
                   : strcmp(key, "delete") == 0 ? &s->workload.mix_delete
                                                : NULL;
    if (!slot)
        return -1;
    char what[32];
    snprintf(what, sizeof what, "workload.mix.%s", key);
    scn_number(c, v, what, 0, 1e6, slot);
    return 0;
}

static void load_rate(scn_ctx *c, yaml_node_t *v)
{
    const char *str;
    char err[160];
    if (scn_str(c, v, "workload.rate", &str) < 0)
        return;
    double r;
    if (strcmp(str, "0") == 0 || strcmp(str, "unlimited") == 0)
        r = 0;
    else if (parse_rate(str, &r, err, sizeof err) < 0) {
        scn_err(c, v, "workload.rate: %s", err);
        return;
    }
    if (r < 0 || r > 1e6) {
        scn_err(c, v, "workload.rate: %s is out of range (0 = unlimited, up to 1000000/s)", str);
        return;
    }
    c->s->workload.rate = r;
}

static int workload_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k, (void)arg;
    scenario *s = c->s;
    int e;
    int64_t i;
    if (strcmp(key, "kind") == 0) {
        if (scn_enum(c, v, "workload.kind", scn_workload_names, 3, &e) == 0)
            s->workload.kind = e;
    } else if (strcmp(key, "clients") == 0) {
        if (scn_int(c, v, "workload.clients", 1, 256, &i) == 0)
            s->workload.clients = (int)i;
    } else if (strcmp(key, "keys") == 0) {
        if (scn_int(c, v, "workload.keys", 1, 100000, &i) == 0)
            s->workload.keys = (int)i;
    } else if (strcmp(key, "mix") == 0) {
        s->workload.mix_read = s->workload.mix_write = s->workload.mix_cas = 0;
        s->workload.mix_delete = 0;
        scn_map(c, v, "workload.mix", "read, write, cas, delete", mix_pair, NULL);
    } else if (strcmp(key, "rate") == 0) {
        load_rate(c, v);
    } else if (strcmp(key, "duration") == 0) {
        scn_dur(c, v, "workload.duration", NS_S, 3600 * NS_S, &s->workload.duration_ns);
    } else if (strcmp(key, "timeout") == 0) {
        scn_dur(c, v, "workload.timeout", NS_MS, 60 * NS_S, &s->workload.timeout_ns);
    } else if (strcmp(key, "target") == 0) {
        if (scn_enum(c, v, "workload.target", scn_target_mode_names, 3, &e) == 0)
            s->workload.target = e;
    } else if (strcmp(key, "fenced") == 0) {
        scn_bool(c, v, "workload.fenced", &s->workload.fenced);
    } else if (strcmp(key, "lease") == 0) {
        scn_dur(c, v, "workload.lease", 10 * NS_MS, 60 * NS_S, &s->workload.lease_ns);
    } else if (strcmp(key, "hold") == 0) {
        scn_dur(c, v, "workload.hold", 0, 10 * NS_S, &s->workload.hold_ns);
    } else if (strcmp(key, "quiesce") == 0) {
        scn_dur(c, v, "workload.quiesce", 0, 60 * NS_S, &s->workload.quiesce_ns);
    } else
        return -1;
    return 0;
}

/* ---- checks ---- */

static int checks_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k, (void)arg;
    int which = scn_lookup(scn_check_names, SCN_CHECK_COUNT, key), e;
    if (which < 0)
        return -1;
    char what[40];
    snprintf(what, sizeof what, "checks.%s", key);
    if (scn_enum(c, v, what, scn_expect_names, 3, &e) == 0)
        c->s->checks[which] = e;
    return 0;
}

/* ---- top level ---- */

static int top_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct top *t = arg;
    scenario *s = c->s;
    const char *str;
    if (strcmp(key, "name") == 0) {
        if (scn_str(c, v, "name", &str) == 0) {
            if (!*str || strspn(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-_.") != strlen(str) || str[0] == '.')
                scn_err(c, v, "name: '%s' must be letters, digits, '-', '_' or '.' "
                              "(it names the run directory)", str);
            else {
                free(s->name);
                s->name = xstrdup(str);
            }
        }
    } else if (strcmp(key, "description") == 0) {
        if (scn_str(c, v, "description", &str) == 0) {
            free(s->description);
            s->description = xstrdup(str);
        }
    } else if (strcmp(key, "seed") == 0) {
        if (scn_str(c, v, "seed", &str) == 0) {
            char err[160];
            if (parse_uint64(str, 0, UINT64_MAX, &s->seed, err, sizeof err) < 0)
                scn_err(c, v, "seed: %s", err);
            else
                s->has_seed = 1;
        }
    } else if (strcmp(key, "system") == 0) {
        t->system = v, t->system_key = k;
    } else if (strcmp(key, "network") == 0) {
        t->network = v;
    } else if (strcmp(key, "workload") == 0) {
        t->workload = v;
    } else if (strcmp(key, "nemesis") == 0) {
        t->nemesis = v;
    } else if (strcmp(key, "checks") == 0) {
        t->checks = v, t->checks_key = k;
    } else
        return -1;
    return 0;
}

/* Options that only make sense together. */
static void cross_checks(scn_ctx *c, const struct top *t)
{
    scenario *s = c->s;
    int raft = s->system.kind == SCN_RAFT;
    if (raft && s->system.read > SCN_READ_EVENTUAL)
        scn_err(c, t->read, "system.read: '%s' is a chain read mode; raft uses linearizable | "
                            "lease | sequential | eventual", scn_read_name(s->system.read));
    if (!raft && s->system.read <= SCN_READ_EVENTUAL) {
        if (t->read)
            scn_err(c, t->read, "system.read: '%s' is a raft read mode; chain uses tail | craq | any",
                    scn_read_name(s->system.read));
        else
            s->system.read = SCN_READ_TAIL;  /* the chain default */
    }
    /* raft-node's deliberate bugs (docs/raft-node.md); chain-node checks its own. */
    static const char *const raft_bugs[] = {"stale-read", "commit-old-term", "no-log-check",
                                            "forget-vote", "ack-before-fsync"};
    static const char *const chain_bugs[] = {"tail-early-ack", "skip-resend", "craq-dirty-read"};
    for (int b = 0; b < s->system.nbugs; b++) {
        if (raft && scn_lookup(raft_bugs, 5, s->system.bugs[b]) < 0)
            scn_err(c, t->system_key, "system.bugs: raft-node has no bug '%s' (stale-read, "
                                      "commit-old-term, no-log-check, forget-vote, "
                                      "ack-before-fsync)", s->system.bugs[b]);
        if (!raft && scn_lookup(chain_bugs, 3, s->system.bugs[b]) < 0)
            scn_err(c, t->system_key, "system.bugs: chain-node has no bug '%s' (tail-early-ack, "
                                      "skip-resend, craq-dirty-read)", s->system.bugs[b]);
    }
    if (!raft && s->workload.kind == SCN_WL_LEASE)
        scn_err(c, t->workload, "workload.kind: lease needs raft (chain-node has no key expiry)");
    if (s->network.backend == SCN_BACKEND_LOOPBACK && s->network.partitions == SCN_PART_NFTABLES)
        scn_err(c, t->network, "network.partitions: nftables needs the netns backend "
                               "(on loopback partitions are cut by the proxy)");
    double sum = s->workload.mix_read + s->workload.mix_write + s->workload.mix_cas +
                 s->workload.mix_delete;
    if (s->workload.kind != SCN_WL_LEASE && sum <= 0)
        scn_err(c, t->workload, "workload.mix: at least one operation needs a weight above 0");
    else if (sum > 0) {
        s->workload.mix_read /= sum, s->workload.mix_write /= sum;
        s->workload.mix_cas /= sum, s->workload.mix_delete /= sum;
    }
    if (s->workload.kind == SCN_WL_REGISTER && s->workload.mix_delete > 0)
        scn_err(c, t->workload, "workload.mix.delete: only the kv workload deletes keys");
    if (s->workload.kind == SCN_WL_LEASE && s->workload.lease_ns <= s->workload.hold_ns)
        scn_err(c, t->workload, "workload.lease must be longer than workload.hold");
    if (s->workload.timeout_ns >= s->workload.duration_ns)
        scn_err(c, t->workload, "workload.timeout must be shorter than workload.duration");
    if (s->checks[SCN_CHECK_MUTEX] != SCN_EXPECT_SKIP && s->workload.kind != SCN_WL_LEASE)
        scn_err(c, t->checks_key, "checks.mutex: only the lease workload is checked as a mutex");
    if (s->checks[SCN_CHECK_SEQUENTIAL] != SCN_EXPECT_SKIP && s->workload.kind == SCN_WL_LEASE)
        scn_err(c, t->checks_key, "checks.sequential: the lease workload is checked with "
                                  "linearizable and mutex");
}

static void load_doc(scn_ctx *c)
{
    scenario *s = c->s;
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root) {
        scn_err(c, NULL, "the file is empty (a scenario needs at least a name)");
        return;
    }
    struct top t = {0};
    scn_map(c, root, "scenario", "name, description, seed, system, network, workload, "
                                 "nemesis, checks", top_pair, &t);
    /* system first: node names and the kind decide what the others may say. */
    if (t.system)
        scn_map(c, t.system, "system", "kind, nodes, read, auth, key-file, fsync, bugs, "
                                       "byzantine, ready-timeout, election-timeout",
                system_pair, &t);
    if (t.byzantine)
        load_byzantine(c, t.byzantine);
    if (t.network)
        scn_map(c, t.network, "network", "backend, partitions, links", network_pair, NULL);
    if (t.workload)
        scn_map(c, t.workload, "workload", "kind, clients, keys, mix, rate, duration, timeout, "
                                           "target, fenced, lease, hold, quiesce",
                workload_pair, NULL);
    if (t.checks)
        scn_map(c, t.checks, "checks", "linearizable, sequential, eventual, invariants, mutex",
                checks_pair, NULL);
    else {
        /* No expectations given: every check that fits the workload must pass. */
        for (int i = 0; i < SCN_CHECK_COUNT; i++)
            s->checks[i] = SCN_EXPECT_PASS;
        if (s->workload.kind == SCN_WL_LEASE)
            s->checks[SCN_CHECK_SEQUENTIAL] = SCN_EXPECT_SKIP;
        else
            s->checks[SCN_CHECK_MUTEX] = SCN_EXPECT_SKIP;
    }
    cross_checks(c, &t);
    if (t.nemesis)
        scn_load_nemesis(c, t.nemesis);
    if (!s->name)
        scn_err(c, root, "name: missing (every scenario needs a name)");
}

int scenario_load_text(const char *file, const char *text, size_t len, scenario *s,
                       scn_errors *e)
{
    memset(e, 0, sizeof *e);
    scenario_defaults(s);
    s->file = xstrdup(file);
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p))
        abort();
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    scn_ctx c = {.file = file, .doc = &doc, .s = s, .e = e};
    if (!yaml_parser_load(&p, &doc)) {
        if (e->n < SCN_MAX_ERRORS &&
            asprintf(&e->msg[e->n], "%s:%zu:%zu: YAML syntax: %s%s%s", file,
                     p.problem_mark.line + 1, p.problem_mark.column + 1,
                     p.problem ? p.problem : "error", p.context ? " " : "",
                     p.context ? p.context : "") >= 0)
            e->n++;
        yaml_parser_delete(&p);
        scenario_free(s);
        return -1;
    }
    load_doc(&c);
    yaml_document_delete(&doc);
    /* A second document in the same file is almost certainly a mistake. */
    if (e->n == 0 && yaml_parser_load(&p, &doc)) {
        if (yaml_document_get_root_node(&doc))
            scn_err(&c, yaml_document_get_root_node(&doc),
                    "only one scenario per file (found a second YAML document)");
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&p);
    if (e->n || e->dropped) {
        scenario_free(s);
        return -1;
    }
    return 0;
}

int scenario_load_file(const char *path, scenario *s, scn_errors *e)
{
    memset(e, 0, sizeof *e);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (asprintf(&e->msg[0], "%s: cannot read: %s", path, strerror(errno)) < 0)
            abort();
        e->n = 1;
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (4u << 20)) {
                free(text);
                fclose(f);
                if (asprintf(&e->msg[0], "%s: larger than 4 MiB; not a scenario", path) < 0)
                    abort();
                e->n = 1;
                return -1;
            }
            text = realloc(text, cap);
            if (!text)
                abort();
        }
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    int rc = scenario_load_text(path, text, len, s, e);
    free(text);
    return rc;
}

int scenario_load_default(scenario *s, scn_errors *e)
{
    return scenario_load_text("<built-in>", scenario_default_yaml, strlen(scenario_default_yaml),
                              s, e);
}
