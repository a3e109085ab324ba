/* invariants_result.c: turns the gathered violations into the result object
 * (shape in docs/checker.md, "Invariants"), the role timeline the report
 * draws, and the plain-text verdict of `riftlab check --invariants`. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "checker/invariants_int.h"

#define INV_TEXT_VIOLATIONS 12   /* listed in the text; the JSON keeps INV_MAX_VIOLATIONS */

/* What each invariant's `checked` counts. */
static const char *const checked_what[INV_COUNT] = {
    "terms with a leader", "votes", "(index, term) pairs", "committed indexes",
    "applied indexes",     "acks",  "committed seqs",      "(seq, later epoch) pairs",
};

static int chain_inv(int inv) { return inv == INV_CHAIN_ORDER || inv == INV_CHAIN_KEPT; }

static int cmp_viol(const void *a, const void *b)
{
    const inv_viol *x = *(inv_viol *const *)a, *y = *(inv_viol *const *)b;
    return x->t < y->t ? -1 : x->t > y->t ? 1 : x->inv - y->inv;
}

static json_t *viol_json(const inv_run *r, const inv_viol *v)
{
    json_t *o = json_pack("{s:s}", "invariant", inv_check_names[v->inv]);
    int ch = chain_inv(v->inv);
    if (v->has_term)
        json_object_set_new(o, ch ? "epoch" : "term", json_integer((json_int_t)v->term));
    if (v->has_index)
        json_object_set_new(o, ch ? "seq" : "index", json_integer((json_int_t)v->index));
    json_t *nodes = json_array();
    for (int i = 0; i < v->nnodes; i++)
        json_array_append_new(nodes, json_string(inv_name(r, v->nodes[i])));
    json_object_set_new(o, "nodes", nodes);
    json_object_set_new(o, "guilty", v->guilty == INV_NONE ? json_null() : json_string(inv_name(r, v->guilty)));
    json_object_set_new(o, "time_ns", json_integer((json_int_t)v->t));
    json_object_set_new(o, "detail", json_string(v->detail));
    return o;
}

static void collect_roles(const inv_run *r, inv_result *out)
{
    size_t cap = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const inv_ev *e = &r->ev[i];
        if (e->kind != IK_ROLE && e->kind != IK_CONFIG)
            continue;
        if (out->nroles == cap) {
            cap = cap ? cap * 2 : 64;
            out->roles = realloc(out->roles, cap * sizeof *out->roles);
            if (!out->roles)
                abort();
        }
        inv_role *ro = &out->roles[out->nroles++];
        memset(ro, 0, sizeof *ro);
        snprintf(ro->name, sizeof ro->name, "%s", inv_name(r, e->node));
        ro->node = ro->name[0] == 'n' && ro->name[1] >= '1' && ro->name[1] <= '9' ? atoi(ro->name + 1) - 1 : -1;
        snprintf(ro->role, sizeof ro->role, "%s", e->role);
        ro->term = e->a;
        ro->t0 = e->t;
    }
}

void inv_build_result(inv_run *r, int nfiles, inv_result *out)
{
    uint64_t events = 0, torn = 0, malformed = 0, total = 0;
    const inv_node *first_bad = NULL;
    json_t *nodes = json_object();
    const char *system = "unknown";
    for (int i = 0; i < r->nnodes; i++) {
        const inv_node *n = &r->nodes[i];
        if (!n->traced)
            continue;
        events += n->events, torn += n->torn, malformed += n->malformed;
        if (n->malformed && !first_bad)
            first_bad = n;
        if (n->system[0])
            system = !strcmp(n->system, "raft") ? "raft" : !strcmp(n->system, "chain") ? "chain" : system;
        json_t *o = json_pack("{s:I,s:i,s:I,s:I,s:I}", "events", (json_int_t)n->events, "incarnations",
                              n->ninc, "torn_lines", (json_int_t)n->torn, "malformed_lines",
                              (json_int_t)n->malformed, "rejected", (json_int_t)n->rejected);
        if (n->bad_line)
            json_object_set_new(o, "first_malformed_line", json_integer(n->bad_line));
        if (n->byzantine[0])   /* shown for the reader; no verdict uses it */
            json_object_set_new(o, "declared_byzantine", json_string(n->byzantine));
        json_object_set_new(nodes, n->name, o);
    }
    /* Without start events, the kinds of events tell the system. */
    for (size_t i = 0; i < r->nev && !strcmp(system, "unknown"); i++) {
        int k = r->ev[i].kind;
        if (k == IK_ROLE || k == IK_VOTE || k == IK_APPEND || k == IK_COMMIT || k == IK_APPLY || k == IK_ACK)
            system = "raft";
        else if (k == IK_CRECEIVE || k == IK_CCOMMIT || k == IK_CONFIG)
            system = "chain";
    }
    json_t *checks = json_object(), *na = json_array();
    inv_viol **all = NULL;
    size_t nall = 0;
    for (int k = 0; k < INV_COUNT; k++) {
        total += r->count[k];
        if (!r->applicable[k] && !r->count[k]) {
            json_array_append_new(na, json_string(inv_check_names[k]));
            continue;
        }
        json_object_set_new(checks, inv_check_names[k],
                            json_pack("{s:b,s:I,s:s,s:I}", "valid", r->count[k] == 0, "checked",
                                      (json_int_t)r->checked[k], "checked_what", checked_what[k],
                                      "violations", (json_int_t)r->count[k]));
        all = realloc(all, (nall + r->nkept[k] + 1) * sizeof *all);
        if (!all)
            abort();
        for (size_t i = 0; i < r->nkept[k]; i++)
            all[nall++] = &r->kept[k][i];
    }
    if (nall)
        qsort(all, nall, sizeof *all, cmp_viol);
    json_t *viol = json_array(), *guilty = json_array();
    for (size_t i = 0; i < nall; i++) {
        if (i < INV_MAX_VIOLATIONS)
            json_array_append_new(viol, viol_json(r, all[i]));
        if (all[i]->guilty == INV_NONE)
            continue;
        const char *g = inv_name(r, all[i]->guilty);
        size_t j;
        json_t *x;
        int seen = 0;
        json_array_foreach(guilty, j, x) seen |= !strcmp(json_string_value(x), g);
        if (!seen)
            json_array_append_new(guilty, json_string(g));
    }
    free(all);
    if (total)
        out->valid = 0;
    else if (nfiles == 0)
        out->valid = 2, snprintf(r->why, sizeof r->why, "no trace files");
    else if (malformed)
        out->valid = 2, snprintf(r->why, sizeof r->why, "%llu malformed trace lines (first: nodes/%s"
                                 ".trace.jsonl line %u)", (unsigned long long)malformed,
                                 first_bad->name, first_bad->bad_line);
    else if (!events)
        out->valid = 2, snprintf(r->why, sizeof r->why, "the traces hold no events");
    else
        out->valid = 1;
    out->detail = json_pack("{s:o,s:s,s:i,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:I,s:o,s:o}", "valid",
                          out->valid == 2 ? json_string("unknown") : json_boolean(out->valid), "system",
                          system, "trace_files", nfiles, "events", (json_int_t)events, "torn_lines",
                          (json_int_t)torn, "malformed_lines", (json_int_t)malformed,
                          "terms_with_leader", (json_int_t)r->checked[INV_ELECTION], "invariants",
                          checks, "not_applicable", na, "violations", viol, "violations_total",
                          (json_int_t)total, "guilty", guilty, "nodes", nodes);
    if (r->why[0])
        json_object_set_new(out->detail, "why", json_string(r->why));
    collect_roles(r, out);
}

void inv_print_text(FILE *f, const inv_result *res)
{
    json_t *j = res->detail;
    const char *verdict = res->valid == 1 ? "true" : res->valid == 0 ? "false" : "unknown";
    fprintf(f, "invariants: %s (%s; %lld trace files, %lld events, %lld torn lines)\n", verdict,
            json_string_value(json_object_get(j, "system")),
            (long long)json_integer_value(json_object_get(j, "trace_files")),
            (long long)json_integer_value(json_object_get(j, "events")),
            (long long)json_integer_value(json_object_get(j, "torn_lines")));
    if (json_is_string(json_object_get(j, "why")))
        fprintf(f, "  why: %s\n", json_string_value(json_object_get(j, "why")));
    const char *k;
    json_t *c;
    json_object_foreach(json_object_get(j, "invariants"), k, c) {
        long long nv = (long long)json_integer_value(json_object_get(c, "violations"));
        fprintf(f, "  %-22s %-6s %lld %s checked", k, nv ? "false" : "true",
                (long long)json_integer_value(json_object_get(c, "checked")),
                json_string_value(json_object_get(c, "checked_what")));
        if (nv)
            fprintf(f, ", %lld violation%s", nv, nv == 1 ? "" : "s");
        fputc('\n', f);
    }
    json_t *v = json_object_get(j, "violations");
    size_t shown = json_array_size(v) < INV_TEXT_VIOLATIONS ? json_array_size(v) : INV_TEXT_VIOLATIONS;
    if (shown) {
        fprintf(f, "violations (%zu of %lld, earliest first%s):\n", shown,
                (long long)json_integer_value(json_object_get(j, "violations_total")),
                shown < json_array_size(v) ? "; --json lists more" : "");
        for (size_t i = 0; i < shown; i++) {
            c = json_array_get(v, i);
            fprintf(f, "  %9.3fs  %s: %s\n", (double)json_integer_value(json_object_get(c, "time_ns")) / 1e9,
                    json_string_value(json_object_get(c, "invariant")),
                    json_string_value(json_object_get(c, "detail")));
        }
    }
    json_t *g = json_object_get(j, "guilty");
    if (json_array_size(g)) {
        fprintf(f, "guilty:");
        size_t i;
        json_array_foreach(g, i, c) fprintf(f, " %s", json_string_value(c));
        fputc('\n', f);
    }
}
