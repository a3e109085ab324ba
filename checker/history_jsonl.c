/* history_jsonl.c: riftlab's own history.jsonl (DESIGN.md), read and written.
 *
 * The writer is the one the runner uses while a run records, so a history
 * written and read back is the same event for event. Field order on output:
 * index, time, process, type, f, key, value, node, consistency, error, final;
 * absent fields are left out. A first line {"initial": V} (written only when
 * the keys do not start as null, e.g. a converted Porcupine kv log) sets the
 * initial value of every key. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checker.h"
#include "checker/history_io.h"

uint32_t history_intern_json(history *h, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return HIST_NULL;
    case JSON_INTEGER:
        return history_intern_int(h, json_integer_value(v));
    case JSON_STRING:
        return history_intern_string(h, json_string_value(v), json_string_length(v));
    default: {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!t)
            return HIST_ABSENT;
        uint32_t id = history_intern_text(h, t, strlen(t));
        free(t);
        return id;
    }
    }
}

static int64_t type_of(const char *s)
{
    for (int t = HIST_INVOKE; t <= HIST_INFO; t++)
        if (strcmp(s, history_type_name(t)) == 0)
            return t;
    return -1;
}

int history_event_from_json(history *h, json_t *obj, uint32_t line, hist_event *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->line = line;
    e->index = (int64_t)h->nev;
    e->time = HIST_NO_TIME;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "an event must be an object");
        return -1;
    }
    json_t *v;
    if ((v = json_object_get(obj, "index"))) {
        if (!json_is_integer(v)) {
            snprintf(err, errlen, "\"index\" must be an integer");
            return -1;
        }
        e->index = json_integer_value(v);
    }
    if ((v = json_object_get(obj, "time")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) == HIST_NO_TIME) {
            snprintf(err, errlen, "\"time\" must be an integer (nanoseconds)");
            return -1;
        }
        e->time = json_integer_value(v);
    }
    v = json_object_get(obj, "process");
    if (json_is_integer(v)) {
        e->process = json_integer_value(v);
    } else if (json_is_string(v)) {
        e->pname = history_intern_json(h, v);
    } else {
        snprintf(err, errlen, "\"process\" must be an integer or a name such as \"nemesis\"");
        return -1;
    }
    v = json_object_get(obj, "type");
    int64_t t = json_is_string(v) ? type_of(json_string_value(v)) : -1;
    if (t < 0) {
        snprintf(err, errlen, "\"type\" must be one of invoke, ok, fail, info");
        return -1;
    }
    e->type = (uint8_t)t;
    v = json_object_get(obj, "f");
    if (!json_is_string(v)) {
        snprintf(err, errlen, "\"f\" must be a string");
        return -1;
    }
    e->fname = history_intern_json(h, v);
    e->f = (uint8_t)history_f_of(json_string_value(v), json_string_length(v));
    static const char *const names[] = {"key", "value", "node", "consistency", "error"};
    uint32_t *slots[] = {&e->key, &e->value, &e->node, &e->consistency, &e->error};
    for (int i = 0; i < 5; i++)
        if ((v = json_object_get(obj, names[i])) && !(*slots[i] = history_intern_json(h, v))) {
            snprintf(err, errlen, "\"%s\" cannot be stored", names[i]);
            return -1;
        }
    if ((v = json_object_get(obj, "final"))) {
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "\"final\" must be true or false");
            return -1;
        }
        e->final = json_is_true(v);
    }
    return 0;
}

int history_parse_jsonl(history *h, const char *data, size_t len, const char *name, char *err, size_t errlen)
{
    size_t pos = 0, n;
    const char *line;
    char why[200];
    h->format = "jsonl";
    for (uint32_t lineno = 1; history_next_line(data, len, &pos, &line, &n); lineno++) {
        if (history_blank(line, n))
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!obj) {
            snprintf(err, errlen, "%s:%u: not JSON: %s (column %d)", name, lineno, jerr.text, jerr.column);
            return -1;
        }
        int rc;
        json_t *init;
        if (h->nev == 0 && json_is_object(obj) && !json_object_get(obj, "type") &&
            (init = json_object_get(obj, "initial")) && json_object_size(obj) == 1) {
            h->initial = history_intern_json(h, init);
            rc = h->initial ? 0 : -1;
            snprintf(why, sizeof why, "bad initial value");
        } else {
            hist_event e;
            rc = history_event_from_json(h, obj, lineno, &e, why, sizeof why);
            if (rc == 0)
                history_add(h, &e);
        }
        json_decref(obj);
        if (rc) {
            snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
            return -1;
        }
    }
    return 0;
}

static void put_field(FILE *out, const history *h, const char *name, uint32_t id)
{
    if (id)
        fprintf(out, ",\"%s\":%s", name, h->vals[id].text);
}

int history_write_event_jsonl(FILE *out, const history *h, const hist_event *e)
{
    fprintf(out, "{\"index\":%" PRId64, e->index);
    if (e->time != HIST_NO_TIME)
        fprintf(out, ",\"time\":%" PRId64, e->time);
    if (e->pname)
        fprintf(out, ",\"process\":%s", h->vals[e->pname].text);
    else
        fprintf(out, ",\"process\":%" PRId64, e->process);
    fprintf(out, ",\"type\":\"%s\",\"f\":%s", history_type_name(e->type), h->vals[e->fname].text);
    put_field(out, h, "key", e->key);
    put_field(out, h, "value", e->value);
    put_field(out, h, "node", e->node);
    put_field(out, h, "consistency", e->consistency);
    put_field(out, h, "error", e->error);
    if (e->final)
        fputs(",\"final\":true", out);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}

int history_write_jsonl(FILE *out, const history *h)
{
    if (h->initial != HIST_NULL)
        fprintf(out, "{\"initial\":%s}\n", h->vals[h->initial].text);
    for (size_t i = 0; i < h->nev; i++)
        if (history_write_event_jsonl(out, h, &h->ev[i]))
            return -1;
    return fflush(out) ? -1 : 0;
}
