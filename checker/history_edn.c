/* history_edn.c: the EDN subset found in Jepsen's history.edn and in
 * Porcupine's kv logs, one map per line.
 *
 * Supported: maps, vectors, lists, strings (with \" \\ \n \t \r escapes),
 * keywords (become strings without the colon), integers, nil, true, false;
 * commas are whitespace. Anything else (sets, tagged values, floats, symbols,
 * characters) is an error that says what was found, because guessing at a
 * value would change what the checker judges. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checker.h"
#include "checker/history_io.h"

#define EDN_MAX_DEPTH 64

typedef struct edn {
    const char *start, *s, *end;
    char *err;
    size_t errlen;
} edn;

static json_t *edn_fail(edn *p, const char *what)
{
    snprintf(p->err, p->errlen, "%s at column %ld", what, (long)(p->s - p->start) + 1);
    return NULL;
}

static void edn_ws(edn *p)
{
    while (p->s < p->end && (isspace((unsigned char)*p->s) || *p->s == ','))
        p->s++;
}

static int edn_delim(char c)
{
    return isspace((unsigned char)c) || c == ',' || c == '{' || c == '}' || c == '[' || c == ']' ||
           c == '(' || c == ')' || c == '"';
}

static json_t *edn_value(edn *p, int depth);

static json_t *edn_string(edn *p)
{
    size_t cap = 64, n = 0;
    char *b = malloc(cap);
    if (!b)
        abort();
    p->s++; /* opening quote */
    while (p->s < p->end && *p->s != '"') {
        char c = *p->s++;
        if (c == '\\') {
            if (p->s >= p->end)
                break;
            char x = *p->s++;
            c = x == 'n' ? '\n' : x == 't' ? '\t' : x == 'r' ? '\r' : x == '"' ? '"' : x == '\\' ? '\\' : 0;
            if (!c) {
                free(b);
                return edn_fail(p, "unsupported string escape");
            }
        }
        if (n + 1 >= cap)
            b = realloc(b, cap *= 2);
        if (!b)
            abort();
        b[n++] = c;
    }
    if (p->s >= p->end) {
        free(b);
        return edn_fail(p, "unterminated string");
    }
    p->s++;
    json_t *j = json_stringn(b, n);
    free(b);
    return j ? j : edn_fail(p, "string is not UTF-8");
}

static json_t *edn_atom(edn *p)
{
    const char *a = p->s;
    while (p->s < p->end && !edn_delim(*p->s))
        p->s++;
    size_t n = (size_t)(p->s - a);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
            return edn_fail(p, "control character in a keyword or number");
    if (n == 0)
        return edn_fail(p, "unexpected character");
    if (a[0] == ':' && n > 1)
        return json_stringn(a + 1, n - 1);
    if (n == 3 && memcmp(a, "nil", 3) == 0)
        return json_null();
    if (n == 4 && memcmp(a, "true", 4) == 0)
        return json_true();
    if (n == 5 && memcmp(a, "false", 5) == 0)
        return json_false();
    size_t i = (a[0] == '-' || a[0] == '+') ? 1 : 0;
    if (i < n && isdigit((unsigned char)a[i])) {
        size_t j = i;
        while (j < n && isdigit((unsigned char)a[j]))
            j++;
        if (j == n && n < 32) {
            char t[32];
            memcpy(t, a, n);
            t[n] = 0;
            errno = 0;
            long long v = strtoll(t, NULL, 10);
            if (errno)
                return edn_fail(p, "integer out of range");
            return json_integer(v);
        }
        return edn_fail(p, "unsupported number (only integers)");
    }
    return edn_fail(p, "unsupported value (symbols, characters and tags are not history values)");
}

static json_t *edn_seq(edn *p, char close, int depth)
{
    json_t *arr = json_array();
    p->s++;
    for (;;) {
        edn_ws(p);
        if (p->s >= p->end) {
            json_decref(arr);
            return edn_fail(p, "unterminated vector or list");
        }
        if (*p->s == close) {
            p->s++;
            return arr;
        }
        json_t *v = edn_value(p, depth + 1);
        if (!v) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
}

static json_t *edn_map(edn *p, int depth)
{
    json_t *obj = json_object();
    p->s++;
    for (;;) {
        edn_ws(p);
        if (p->s >= p->end) {
            json_decref(obj);
            return edn_fail(p, "unterminated map");
        }
        if (*p->s == '}') {
            p->s++;
            return obj;
        }
        if (*p->s != ':' && *p->s != '"') {
            json_decref(obj);
            return edn_fail(p, "map keys must be keywords or strings");
        }
        json_t *k = edn_value(p, depth + 1);
        if (!k) {
            json_decref(obj);
            return NULL;
        }
        if (!json_is_string(k) || strlen(json_string_value(k)) != json_string_length(k)) {
            json_decref(k);
            json_decref(obj);
            return edn_fail(p, "map keys must be keywords or strings without NUL");
        }
        edn_ws(p);
        json_t *v = p->s < p->end && *p->s != '}' ? edn_value(p, depth + 1) : NULL;
        if (!v) {
            json_decref(k);
            json_decref(obj);
            return p->err[0] ? NULL : edn_fail(p, "map key without a value");
        }
        int dup = json_object_getn(obj, json_string_value(k), json_string_length(k)) != NULL;
        json_object_setn_new(obj, json_string_value(k), json_string_length(k), v);
        json_decref(k);
        if (dup) {
            json_decref(obj);
            return edn_fail(p, "duplicate map key");
        }
    }
}

static json_t *edn_value(edn *p, int depth)
{
    if (depth > EDN_MAX_DEPTH)
        return edn_fail(p, "nested too deeply");
    edn_ws(p);
    if (p->s >= p->end)
        return edn_fail(p, "value expected");
    switch (*p->s) {
    case '{': return edn_map(p, depth);
    case '[': return edn_seq(p, ']', depth);
    case '(': return edn_seq(p, ')', depth);
    case '"': return edn_string(p);
    case '#': return edn_fail(p, "sets and tagged values are not supported");
    default: return edn_atom(p);
    }
}

json_t *edn_parse(const char *text, size_t len, char *err, size_t errlen)
{
    edn p = {text, text, text + len, err, errlen};
    err[0] = 0;
    json_t *v = edn_value(&p, 0);
    if (!v)
        return NULL;
    edn_ws(&p);
    if (p.s != p.end) {
        json_decref(v);
        return edn_fail(&p, "unexpected text after the value");
    }
    return v;
}

/* Shared by the Jepsen and the Porcupine kv readers: one EDN map per line. */
int history_parse_edn_lines_from(history *h, const char *data, size_t len, const char *name, uint32_t first,
                                 char *err, size_t errlen)
{
    size_t pos = 0, n;
    const char *line;
    char why[200];
    for (uint32_t lineno = first; history_next_line(data, len, &pos, &line, &n); lineno++) {
        if (history_blank(line, n))
            continue;
        json_t *obj = edn_parse(line, n, why, sizeof why);
        hist_event e;
        int rc = obj ? history_event_from_json(h, obj, lineno, &e, why, sizeof why) : -1;
        json_decref(obj);
        if (rc) {
            snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
            return -1;
        }
        history_add(h, &e);
    }
    return 0;
}

int history_parse_edn_lines(history *h, const char *data, size_t len, const char *name, char *err, size_t errlen)
{
    return history_parse_edn_lines_from(h, data, len, name, 1, err, errlen);
}

int history_parse_edn(history *h, const char *data, size_t len, const char *name, char *err, size_t errlen)
{
    h->format = "jepsen-edn";
    return history_parse_edn_lines(h, data, len, name, err, errlen);
}
