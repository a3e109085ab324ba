/* check_text.c: the plain-text evidence `riftlab check` prints under the
 * verdict line of a history that is not valid. */
#include <stdlib.h>

#include "checker/checker.h"

static void put_json(FILE *out, const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(t ? t : "?", out);
    free(t);
}

/* "p3 cas [1,2] ok (lines 40-41)" from an op object of the result. */
static void put_op(FILE *out, const json_t *op)
{
    fprintf(out, "p%lld %s", (long long)json_integer_value(json_object_get(op, "process")),
            json_string_value(json_object_get(op, "f")) ? json_string_value(json_object_get(op, "f")) : "?");
    const json_t *k = json_object_get(op, "key");
    if (k) {
        fputs(" key=", out);
        put_json(out, k);
    }
    fputc(' ', out);
    put_json(out, json_object_get(op, "value"));
    fprintf(out, " %s (line %lld", json_string_value(json_object_get(op, "type")),
            (long long)json_integer_value(json_object_get(op, "line")));
    const json_t *e = json_object_get(op, "end_line");
    if (json_is_integer(e))
        fprintf(out, "-%lld", (long long)json_integer_value(e));
    fputc(')', out);
}

static void text_linearizable(FILE *out, const json_t *c)
{
    const json_t *stuck = json_object_get(c, "stuck");
    if (!stuck)
        return;
    const json_t *key = json_object_get(c, "key");
    if (key && !json_is_null(key)) {
        fputs("    key ", out);
        put_json(out, key);
        fputc(':', out);
    }
    fputs("    no linearization gets past the completion of\n      ", out);
    put_op(out, stuck);
    fputs("\n    operations that could not be linearized there:\n", out);
    size_t i;
    const json_t *op;
    json_array_foreach(json_object_get(c, "window"), i, op) {
        fputs("      ", out);
        put_op(out, op);
        fputc('\n', out);
    }
    const json_t *prefix = json_object_get(c, "prefix");
    size_t n = json_array_size(prefix), from = n > 12 ? n - 12 : 0;
    fprintf(out, "    longest linearizable prefix: %zu operations%s\n", n, from ? ", the last 12:" : ":");
    for (i = from; i < n; i++) {
        fprintf(out, "      %zu. ", i + 1);
        put_op(out, json_array_get(prefix, i));
        fputc('\n', out);
    }
}

void check_print_text(FILE *out, const history *h, const json_t *r)
{
    (void)h;
    const char *name;
    json_t *c;
    json_object_foreach(json_object_get(r, "checks"), name, c) {
        const json_t *v = json_object_get(c, "valid");
        if (json_is_true(v))
            continue;
        fprintf(out, "  %s: %s", name, json_is_false(v) ? "false" : "unknown");
        const json_t *reason = json_object_get(c, "reason");
        if (reason)
            fprintf(out, " (%s)", json_string_value(reason));
        fputc('\n', out);
        if (json_object_get(c, "stuck"))
            text_linearizable(out, c);
        const json_t *keys = json_object_get(c, "failing_keys");
        if (json_array_size(keys)) {
            fputs("    failing keys: ", out);
            put_json(out, keys);
            fputc('\n', out);
        }
        const json_t *per = json_object_get(c, "per_key"), *whole = json_object_get(c, "whole");
        if (per) {
            fprintf(out, "    per key: %s", json_is_true(json_object_get(per, "valid")) ? "true"
                                            : json_is_false(json_object_get(per, "valid")) ? "false" : "unknown");
            if (json_array_size(json_object_get(per, "failing_keys"))) {
                fputs(", failing keys ", out);
                put_json(out, json_object_get(per, "failing_keys"));
            }
            fputc('\n', out);
        }
        if (whole && json_object_get(whole, "reason"))
            fprintf(out, "    whole history: %s\n", json_string_value(json_object_get(whole, "reason")));
        const json_t *detail = json_object_get(c, "problems");
        if (detail) {
            size_t i;
            const json_t *p;
            json_array_foreach(detail, i, p) fprintf(out, "    %s\n", json_string_value(p));
        }
    }
}
