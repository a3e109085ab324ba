/* results.c: computing and writing a run's verdicts (see results.h). */
#define _GNU_SOURCE
#include "results.h"
#include "results_auth.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#ifdef RIFTLAB_HAVE_CHECKER
#include "checker/checker.h"
#endif

/* The history split the checks need: client ops without final reads
 * (linearizable, sequential), everything (eventual), the lock's events
 * (lease workload) and the counter's successful writes. */
typedef struct split {
    buf main, all, lock;
    json_t *writes;
    size_t lines;
} split;

static int split_history(const char *path, split *sp, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    buf_init(&sp->main), buf_init(&sp->all), buf_init(&sp->lock);
    sp->writes = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    /* Pending counter write per process: value written on invoke. */
    json_t *pending = json_object();
    while ((n = getline(&line, &cap, f)) > 0) {
        sp->lines++;
        json_t *e = json_loadb(line, (size_t)n, 0, NULL);
        if (!e)
            continue;   /* a torn last line after a crash */
        buf_append(&sp->all, line, (size_t)n);
        const char *key = json_string_value(json_object_get(e, "key"));
        json_t *proc = json_object_get(e, "process");
        int nemesis = json_is_string(proc);
        if (key && !strcmp(key, "lock"))
            buf_append(&sp->lock, line, (size_t)n);
        else if (!json_is_true(json_object_get(e, "final")))
            buf_append(&sp->main, line, (size_t)n);
        if (nemesis) {
            buf_append(&sp->lock, line, (size_t)n);
        } else if (key && !strcmp(key, "counter")) {
            const char *type = json_string_value(json_object_get(e, "type"));
            const char *fn = json_string_value(json_object_get(e, "f"));
            char pk[32];
            snprintf(pk, sizeof pk, "%" JSON_INTEGER_FORMAT, json_integer_value(proc));
            json_t *val = json_object_get(e, "value");
            if (type && fn && !strcmp(type, "invoke") && (!strcmp(fn, "write") || !strcmp(fn, "cas")))
                json_object_set(pending, pk, !strcmp(fn, "cas") ? json_array_get(val, 1) : val);
            else if (type && !strcmp(type, "ok") && json_object_get(pending, pk))
                json_array_append_new(sp->writes, json_pack("{sOsOsO}", "value",
                                                            json_object_get(pending, pk),
                                                            "process", proc, "index",
                                                            json_object_get(e, "index")));
            if (type && strcmp(type, "invoke"))
                json_object_del(pending, pk);
        }
        json_decref(e);
    }
    json_decref(pending);
    free(line);
    fclose(f);
    return 0;
}

static void split_free(split *sp)
{
    buf_free(&sp->main), buf_free(&sp->all), buf_free(&sp->lock);
    json_decref(sp->writes);
}

int results_lost_updates(json_t *writes, json_t **evidence)
{
    json_t *seen = json_object(), *dups = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(writes, i, w) {
        char k[64];
        json_t *v = json_object_get(w, "value");
        snprintf(k, sizeof k, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        json_t *prev = json_object_get(seen, k);
        if (prev && json_array_size(dups) < 10)
            json_array_append_new(dups, json_pack("{sOsOsO}", "value", v, "first", prev,
                                                  "second", w));
        else if (!prev)
            json_object_set(seen, k, w);
    }
    int ok = json_array_size(dups) == 0;
    *evidence = json_pack("{sbsIso}", "valid", ok, "successful_writes",
                          (json_int_t)json_array_size(writes), "lost_updates", dups);
    json_decref(seen);
    return ok;
}

static int verdict_of(json_t *v)
{
    if (json_is_true(v))
        return VERDICT_TRUE;
    if (json_is_false(v))
        return VERDICT_FALSE;
    return VERDICT_UNKNOWN;
}

#ifdef RIFTLAB_HAVE_CHECKER
static json_t *run_checker(const char *name, const buf *data, const char *model, unsigned checks,
                           char *err, size_t errlen)
{
    history h;
    history_init(&h);
    json_t *r = NULL;
    if (history_parse_jsonl(&h, buf_size(data) ? buf_ptr(data) : "", buf_size(data), name, err,
                            errlen) == 0) {
        check_options o;
        check_options_default(&o);
        o.model = model;
        o.checks = checks;
        o.budget_seconds = 60;   /* a run must end: past this the verdict is unknown */
        r = check_history(&h, name, &o, err, errlen);
    }
    history_free(&h);
    return r;
}
#endif

static void read_starts(const char *dir, int nodes, int64_t starts[][16], int *nstarts)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/nodes/starts.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    for (int i = 0; i < nodes; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i + 1);
        json_t *a = json_object_get(j, name);
        nstarts[i] = 0;
        for (size_t k = 0; k < json_array_size(a) && k < 16; k++)
            starts[i][nstarts[i]++] = json_integer_value(json_array_get(a, k));
    }
    json_decref(j);
}

int results_compute(const char *dir, const scenario *s, uint64_t seed, outcome *o, char *err,
                    size_t errlen)
{
    memset(o, 0, sizeof *o);
    for (int c = 0; c < SCN_CHECK_COUNT; c++)
        o->valid[c] = VERDICT_NOT_RUN, o->met[c] = -1;
    char path[1200];
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    split sp;
    if (split_history(path, &sp, err, errlen) < 0)
        return -1;
    json_t *checks = json_object();
    o->results = json_pack("{sssssIsssssi}", "file", "history.jsonl", "scenario", s->name,
                           "seed", (json_int_t)seed, "system", scn_system_name(s->system.kind),
                           "read", scn_read_name(s->system.read), "nodes", s->system.nodes);
    const char *model = "kv";
    unsigned want = 0;
    if (s->checks[SCN_CHECK_LINEARIZABLE] != SCN_EXPECT_SKIP)
        want |= 1;
    if (s->checks[SCN_CHECK_SEQUENTIAL] != SCN_EXPECT_SKIP)
        want |= 2;
#ifdef RIFTLAB_HAVE_CHECKER
    uint64_t t = mono_now_ns();
    /* Linearizable first: a linearizable history is sequentially consistent
     * (a linearization is a sequential order), so a true verdict settles
     * sequential without its much larger search. */
    for (unsigned bit = 1; bit <= 2; bit <<= 1) {
        if (!(want & bit))
            continue;
        if (bit == 2 && json_is_true(json_object_get(json_object_get(checks, "linearizable"), "valid"))) {
            json_object_set_new(checks, "sequential",
                                json_pack("{sbss}", "valid", 1, "implied_by", "linearizable"));
            break;
        }
        json_t *r = run_checker("history.jsonl", &sp.main, model, bit, err, errlen);
        if (!r) {
            split_free(&sp);
            json_decref(checks);
            return -1;
        }
        json_t *cs = json_object_get(r, "checks");
        const char *k;
        json_t *v;
        json_object_foreach(cs, k, v) json_object_set(checks, k, v);
        if (bit == 1 || !json_object_get(o->results, "strongest"))
            json_object_set(o->results, "strongest", json_object_get(r, "strongest"));
        json_object_set(o->results, "ops", json_object_get(r, "ops"));
        json_decref(r);
    }
    double lin_s = (double)(mono_now_ns() - t) / 1e9;
    o->seconds[SCN_CHECK_LINEARIZABLE] = o->seconds[SCN_CHECK_SEQUENTIAL] = lin_s;
    if (s->checks[SCN_CHECK_EVENTUAL] != SCN_EXPECT_SKIP) {
        t = mono_now_ns();
        json_t *r = run_checker("history.jsonl", &sp.all, model, 4, err, errlen);
        if (r) {
            json_object_set(checks, "eventual",
                            json_object_get(json_object_get(r, "checks"), "eventual"));
            json_decref(r);
        } else
            json_object_set_new(checks, "eventual", json_pack("{sssss}", "valid", "unknown",
                                                              "why", err));
        o->seconds[SCN_CHECK_EVENTUAL] = (double)(mono_now_ns() - t) / 1e9;
    }
#else
    (void)model;
    const char *c3[] = {"linearizable", "sequential", "eventual"};
    for (int c = 0; c < 3; c++)
        if (s->checks[c] != SCN_EXPECT_SKIP)
            json_object_set_new(checks, c3[c], json_pack("{ssss}", "valid", "unknown", "why",
                                                         "this build has no checker"));
#endif
    /* Always read the traces: the report draws the roles from them. */
    int64_t starts[SCN_MAX_NODES][16];
    int nstarts[SCN_MAX_NODES];
    read_starts(dir, s->system.nodes, starts, nstarts);
    invariants_check(dir, s->system.nodes, starts, nstarts, &o->inv);
    if (s->checks[SCN_CHECK_INVARIANTS] != SCN_EXPECT_SKIP)
        json_object_set(checks, "invariants", o->inv.detail);
    if (s->checks[SCN_CHECK_MUTEX] != SCN_EXPECT_SKIP) {
        json_t *ev;
        results_lost_updates(sp.writes, &ev);
#ifdef RIFTLAB_HAVE_CHECKER
        /* The lock's own history under the mutex model: shown as evidence
         * (a lease that expired while held shows up here even when fencing
         * kept the data safe). */
        json_t *lr = run_checker("lock", &sp.lock, "mutex", 1, err, errlen);
        if (lr) {
            json_object_set(ev, "lock_exclusive",
                            json_object_get(json_object_get(json_object_get(lr, "checks"),
                                                            "linearizable"), "valid"));
            json_decref(lr);
        }
#endif
        json_object_set_new(checks, "mutex", ev);
    }
    split_free(&sp);
    /* Verdicts vs expectations. */
    json_t *expected = json_object(), *met = json_object();
    int any_not = 0, any_unknown = 0;
    for (int c = 0; c < SCN_CHECK_COUNT; c++) {
        if (s->checks[c] == SCN_EXPECT_SKIP)
            continue;
        json_t *cv = json_object_get(checks, scn_check_name(c));
        o->valid[c] = cv ? verdict_of(json_object_get(cv, "valid")) : VERDICT_UNKNOWN;
        if (o->valid[c] == VERDICT_UNKNOWN)
            o->met[c] = 2, any_unknown = 1;
        else
            o->met[c] = (o->valid[c] == VERDICT_TRUE) == (s->checks[c] == SCN_EXPECT_PASS);
        if (o->met[c] == 0)
            any_not = 1;
        json_object_set_new(expected, scn_check_name(c), json_string(scn_expect_name(s->checks[c])));
        json_object_set_new(met, scn_check_name(c),
                            o->met[c] == 2 ? json_string("unknown") : json_boolean(o->met[c]));
    }
    o->exit_code = any_not ? 1 : any_unknown ? 2 : 0;
    json_object_set_new(o->results, "checks", checks);
    json_object_set_new(o->results, "expected", expected);
    json_object_set_new(o->results, "met", met);
    json_object_set_new(o->results, "valid", o->exit_code == 0 ? json_true()
                                             : o->exit_code == 1 ? json_false()
                                                                 : json_string("unknown"));
    json_object_set_new(o->results, "exit_code", json_integer(o->exit_code));
    json_object_set_new(o->results, "authentication", results_auth(dir, s));
    if (!json_object_get(o->results, "strongest"))
        json_object_set_new(o->results, "strongest", json_null());
    return 0;
}

static void xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

static const char *verdict_text(int v)
{
    return v == VERDICT_TRUE ? "true" : v == VERDICT_FALSE ? "false" : v == VERDICT_UNKNOWN ? "unknown" : "-";
}

/* The invariants test case's <system-out>: each violation's evidence (the
 * guilty node, term, index), also when a broken invariant was expected. */
static void junit_violations(FILE *f, const outcome *o)
{
    json_t *v = json_object_get(o->inv.detail, "violations"), *x;
    size_t i;
    if (!json_array_size(v))
        return;
    fprintf(f, "<system-out>");
    json_array_foreach(v, i, x) {
        if (i == 20) {
            fprintf(f, "... %zu more\n", json_array_size(v) - 20);
            break;
        }
        xml_escape(f, json_string_value(json_object_get(x, "invariant")) ?: "?");
        fprintf(f, ": ");
        xml_escape(f, json_string_value(json_object_get(x, "detail")) ?: "");
        fputc('\n', f);
    }
    fprintf(f, "</system-out>");
}

int results_write(const char *dir, const scenario *s, const outcome *o)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    if (json_dump_file(o->results, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int tests = 0, failures = 0, skipped = 0;
    for (int c = 0; c < SCN_CHECK_COUNT; c++) {
        tests++;
        if (o->met[c] == -1)
            skipped++;
        else if (o->met[c] != 1)
            failures++;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
               "  <testsuite name=\"riftlab.");
    xml_escape(f, s->name);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n", tests, failures,
            skipped);
    for (int c = 0; c < SCN_CHECK_COUNT; c++) {
        fprintf(f, "    <testcase classname=\"riftlab.");
        xml_escape(f, s->name);
        fprintf(f, "\" name=\"%s\" time=\"%.3f\">", scn_check_name(c), o->seconds[c]);
        if (o->met[c] == -1)
            fprintf(f, "<skipped message=\"not expected by the scenario\"/>");
        else if (o->met[c] != 1) {
            fprintf(f, "<failure message=\"expected %s, got %s\">", scn_expect_name(s->checks[c]),
                    verdict_text(o->valid[c]));
            json_t *cv = json_object_get(json_object_get(o->results, "checks"), scn_check_name(c));
            char *txt = cv ? json_dumps(cv, JSON_COMPACT) : NULL;
            if (txt) {
                if (strlen(txt) > 4000)
                    strcpy(txt + 3990, "...");
                xml_escape(f, txt);
            }
            free(txt);
            fprintf(f, "</failure>");
        }
        if (c == SCN_CHECK_INVARIANTS)
            junit_violations(f, o);
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return fclose(f);
}

void results_print(FILE *f, const scenario *s, const outcome *o)
{
    fprintf(f, "\n  %-14s %-9s %-9s %s\n", "check", "expected", "got", "");
    for (int c = 0; c < SCN_CHECK_COUNT; c++) {
        if (o->met[c] == -1)
            continue;
        fprintf(f, "  %-14s %-9s %-9s %s\n", scn_check_name(c), scn_expect_name(s->checks[c]),
                verdict_text(o->valid[c]),
                o->met[c] == 1 ? "ok" : o->met[c] == 2 ? "UNKNOWN" : "NOT MET");
    }
}

void outcome_free(outcome *o)
{
    json_decref(o->results);
    invariants_free(&o->inv);
    o->results = NULL;
}
