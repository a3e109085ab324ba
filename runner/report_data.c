/* report_data.c: reading history.jsonl back for the report (see
 * report_data.h). Nemesis bands are rebuilt from the nemesis events: a fault
 * event opens a band and each end event (heal, restart, resume, <kind>-end,
 * heal-all) closes the oldest open band of its kind, mirroring how the
 * nemesis writes them. */
#define _GNU_SOURCE
#include "report_data.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *closes_kind(const char *f)
{
    if (!strcmp(f, "heal"))
        return "partition";
    if (!strcmp(f, "restart"))
        return "kill";
    if (!strcmp(f, "resume"))
        return "pause";
    if (!strcmp(f, "heal-all"))
        return "*";
    return NULL;
}

static int is_fault(const char *f)
{
    static const char *const k[] = {"partition", "kill", "crash-stop", "pause", "clock-skew",
                                     "link-faults", "slow"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(f, k[i]))
            return 1;
    return 0;
}

static void nemesis_event(rdata *d, const char *f, json_t *value, int64_t t, size_t *cap)
{
    char kind[24];
    const char *ck = closes_kind(f);
    size_t fl = strlen(f);
    if (!ck && fl > 4 && !strcmp(f + fl - 4, "-end")) {
        snprintf(kind, sizeof kind, "%.*s", (int)(fl - 4), f);
        ck = kind;
    }
    if (ck) {
        for (size_t i = 0; i < d->nbands; i++) {
            rband *b = &d->bands[i];
            if (b->t1 >= 0)
                continue;
            if (!strcmp(ck, "*") ? strcmp(b->kind, "crash-stop") != 0 : !strcmp(b->kind, ck)) {
                b->t1 = t;
                break;
            }
        }
        return;
    }
    if (!is_fault(f))
        return;
    if (d->nbands == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        d->bands = realloc(d->bands, *cap * sizeof *d->bands);
        if (!d->bands)
            abort();
    }
    rband *b = &d->bands[d->nbands++];
    snprintf(b->kind, sizeof b->kind, "%s", f);
    char *v = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(b->text, sizeof b->text, "%s %s", f, v ? v : "");
    free(v);
    b->t0 = t;
    b->t1 = -1;
}

int report_data_load(const char *path, rdata *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0, opcap = 0, bandcap = 0, lcap = 0;
    ssize_t n;
    /* Open invocation per process -> op index (processes are small ints). */
    size_t pcap = 0;
    long *open = NULL;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *e = json_loadb(line, (size_t)n, 0, NULL);
        if (!e)
            continue;
        int64_t t = json_integer_value(json_object_get(e, "time"));
        if (t > d->t_end)
            d->t_end = t;
        json_t *proc = json_object_get(e, "process");
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *fn = json_string_value(json_object_get(e, "f"));
        const char *key = json_string_value(json_object_get(e, "key"));
        int final = json_is_true(json_object_get(e, "final"));
        int lock = key && !strcmp(key, "lock");
        if (!final && !lock) {   /* the same filter as results.c's main history */
            if (d->nlines == lcap) {
                lcap = lcap ? lcap * 2 : 4096;
                d->line_time = realloc(d->line_time, lcap * sizeof *d->line_time);
                if (!d->line_time)
                    abort();
            }
            d->line_time[d->nlines++] = t;
        }
        if (json_is_string(proc)) {
            if (fn)
                nemesis_event(d, fn, json_object_get(e, "value"), t, &bandcap);
        } else if (type && fn) {
            int64_t p = json_integer_value(proc);
            if (p < 0 || p > 10000000) {
                json_decref(e);
                continue;
            }
            if ((size_t)p >= pcap) {
                size_t old = pcap;
                pcap = (size_t)p * 2 + 16;
                open = realloc(open, pcap * sizeof *open);
                if (!open)
                    abort();
                for (size_t i = old; i < pcap; i++)
                    open[i] = -1;
            }
            if (!strcmp(type, "invoke")) {
                if (d->nops == opcap) {
                    opcap = opcap ? opcap * 2 : 4096;
                    d->ops = realloc(d->ops, opcap * sizeof *d->ops);
                    if (!d->ops)
                        abort();
                }
                rop *o = &d->ops[d->nops];
                memset(o, 0, sizeof *o);
                o->process = p;
                snprintf(o->f, sizeof o->f, "%s", fn);
                o->t0 = t, o->t1 = -1, o->final = final;
                o->main_line = (!final && !lock) ? (uint32_t)d->nlines : 0;
                open[p] = (long)d->nops++;
                if (p > d->max_process)
                    d->max_process = p;
            } else if (open[p] >= 0) {
                rop *o = &d->ops[open[p]];
                o->t1 = t;
                o->type = !strcmp(type, "ok") ? 1 : !strcmp(type, "fail") ? 2 : 3;
                open[p] = -1;
            }
        }
        json_decref(e);
    }
    free(open);
    free(line);
    fclose(f);
    return 0;
}

void report_data_free(rdata *d)
{
    free(d->ops);
    free(d->bands);
    free(d->line_time);
    memset(d, 0, sizeof *d);
}
