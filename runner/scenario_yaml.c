/* scenario_yaml.c: typed reads of libyaml document nodes for the scenario
 * loader. Every read that fails reports "file:line:col: ..." (1-based, the
 * position of the offending node) and returns -1; the caller keeps going so
 * all errors of a file are reported together. */
#define _GNU_SOURCE
#include "scenario_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/parse.h"

void scn_err(scn_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    if (c->e->n >= SCN_MAX_ERRORS) {
        c->e->dropped++;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *line = NULL;
    int r = n ? asprintf(&line, "%s:%zu:%zu: %s", c->file, n->start_mark.line + 1,
                         n->start_mark.column + 1, msg)
              : asprintf(&line, "%s: %s", c->file, msg);
    if (r < 0)
        abort();
    c->e->msg[c->e->n++] = line;
}

yaml_node_t *scn_node(scn_ctx *c, int id) { return yaml_document_get_node(c->doc, id); }

const char *scn_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

int scn_str(scn_ctx *c, yaml_node_t *n, const char *what, const char **out)
{
    if (n->type != YAML_SCALAR_NODE) {
        scn_err(c, n, "%s: expected a string, got %s", what, scn_type_name(n));
        return -1;
    }
    *out = (const char *)n->data.scalar.value;
    return 0;
}

int scn_enum(scn_ctx *c, yaml_node_t *n, const char *what, const char *const *names, int count,
             int *out)
{
    const char *s;
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    int v = scn_lookup(names, count, s);
    if (v < 0) {
        char list[256] = "";
        for (int i = 0; i < count; i++) {
            if (strcmp(names[i], "auto") == 0)
                continue;
            strncat(list, *list ? " | " : "", sizeof list - strlen(list) - 1);
            strncat(list, names[i], sizeof list - strlen(list) - 1);
        }
        scn_err(c, n, "%s: unknown value '%s' (use %s)", what, s, list);
        return -1;
    }
    *out = v;
    return 0;
}

int scn_int(scn_ctx *c, yaml_node_t *n, const char *what, int64_t min, int64_t max,
            int64_t *out)
{
    const char *s;
    char err[160];
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    if (parse_int64(s, min, max, out, err, sizeof err) < 0) {
        scn_err(c, n, "%s: %s", what, err);
        return -1;
    }
    return 0;
}

int scn_bool(scn_ctx *c, yaml_node_t *n, const char *what, int *out)
{
    const char *s;
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    if (strcmp(s, "true") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0)
        *out = 0;
    else {
        scn_err(c, n, "%s: expected true or false, got '%s'", what, s);
        return -1;
    }
    return 0;
}

int scn_dur(scn_ctx *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
            uint64_t *out)
{
    const char *s;
    char err[160], a[32], b[32];
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    if (parse_duration_ns(s, out, err, sizeof err) < 0) {
        scn_err(c, n, "%s: %s", what, err);
        return -1;
    }
    if (*out < min || *out > max) {
        format_duration(min, a, sizeof a);
        format_duration(max, b, sizeof b);
        scn_err(c, n, "%s: %s is out of range (%s to %s)", what, s, a, b);
        return -1;
    }
    return 0;
}

int scn_prob(scn_ctx *c, yaml_node_t *n, const char *what, double *out)
{
    const char *s;
    char err[160];
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    if (parse_probability(s, out, err, sizeof err) < 0) {
        scn_err(c, n, "%s: %s", what, err);
        return -1;
    }
    return 0;
}

int scn_number(scn_ctx *c, yaml_node_t *n, const char *what, double min, double max,
               double *out)
{
    const char *s;
    if (scn_str(c, n, what, &s) < 0)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v != v) {
        scn_err(c, n, "%s: expected a number, got '%s'", what, s);
        return -1;
    }
    if (v < min || v > max) {
        scn_err(c, n, "%s: %s is out of range (%g to %g)", what, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int scn_map(scn_ctx *c, yaml_node_t *n, const char *section, const char *known,
            scn_pair_fn fn, void *arg)
{
    if (n->type != YAML_MAPPING_NODE) {
        scn_err(c, n, "%s: expected a mapping, got %s", section, scn_type_name(n));
        return -1;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = scn_node(c, p->key), *v = scn_node(c, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            scn_err(c, k, "%s: keys must be plain names, got %s", section, scn_type_name(k));
            continue;
        }
        const char *key = (const char *)k->data.scalar.value;
        int dup = 0;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = scn_node(c, q->key);
            if (qk->type == YAML_SCALAR_NODE && strcmp((const char *)qk->data.scalar.value, key) == 0)
                dup = 1;
        }
        if (dup) {
            scn_err(c, k, "%s: key '%s' given twice", section, key);
            continue;
        }
        if (fn(c, key, k, v, arg) < 0)
            scn_err(c, k, "%s: unknown key '%s' (known: %s)", section, key, known);
    }
    return 0;
}

int scn_node_index(scn_ctx *c, yaml_node_t *n)
{
    const char *s;
    if (scn_str(c, n, "node", &s) < 0)
        return -1;
    char *end;
    long i = (s[0] == 'n' && s[1] >= '1' && s[1] <= '9') ? strtol(s + 1, &end, 10) : 0;
    if (i < 1 || *end || i > c->s->system.nodes) {
        scn_err(c, n, "unknown node '%s' (this scenario has n1..n%d)", s, c->s->system.nodes);
        return -1;
    }
    return (int)i - 1;
}

static int links_pair(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    scn_links *l = arg;
    const uint64_t ten_s = 10ull * 1000000000ull;
    char what[64];
    snprintf(what, sizeof what, "links.%s", key);
    if (strcmp(key, "delay") == 0)
        scn_dur(c, v, what, 0, ten_s, &l->delay_ns);
    else if (strcmp(key, "jitter") == 0)
        scn_dur(c, v, what, 0, ten_s, &l->jitter_ns);
    else if (strcmp(key, "drop") == 0)
        scn_prob(c, v, what, &l->drop);
    else if (strcmp(key, "duplicate") == 0)
        scn_prob(c, v, what, &l->duplicate);
    else if (strcmp(key, "reorder") == 0)
        scn_prob(c, v, what, &l->reorder);
    else if (strcmp(key, "corrupt") == 0)
        scn_prob(c, v, what, &l->corrupt);
    else if (strcmp(key, "truncate") == 0)
        scn_prob(c, v, what, &l->truncate);
    else if (strcmp(key, "replay") == 0)
        scn_prob(c, v, what, &l->replay);
    else
        return -1;
    return 0;
}

int scn_load_links(scn_ctx *c, yaml_node_t *n, const char *section, scn_links *l)
{
    return scn_map(c, n, section, "delay, jitter, drop, duplicate, reorder, corrupt, truncate, "
                                  "replay",
                   links_pair, l);
}
