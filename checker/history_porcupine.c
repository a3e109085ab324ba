/* history_porcupine.c: the two log formats of Porcupine's test data
 * (../shared/histories/porcupine/README.md).
 *
 * etcd logs: "INFO  jepsen.util - <process> <:type> <:f> <value>", fields
 * separated by tabs or runs of spaces; value is nil, an integer, [a b] or a
 * keyword such as :timed-out. kv logs: one EDN map per line with get, put
 * and append on string keys, every key initially "". Neither has timestamps
 * or indices: events are numbered in line order, which is real-time order. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checker.h"
#include "checker/history_io.h"

static const char ETCD_PREFIX[] = "INFO  jepsen.util - ";

/* Next whitespace-separated field of [*s, end). */
static int etcd_field(const char **s, const char *end, const char **f, size_t *n)
{
    while (*s < end && (**s == ' ' || **s == '\t'))
        (*s)++;
    *f = *s;
    while (*s < end && **s != ' ' && **s != '\t')
        (*s)++;
    *n = (size_t)(*s - *f);
    return *n > 0;
}

static int etcd_int(const char *s, size_t n, int64_t *out)
{
    char t[24];
    if (n == 0 || n >= sizeof t)
        return -1;
    memcpy(t, s, n);
    t[n] = 0;
    char *e;
    errno = 0;
    long long v = strtoll(t, &e, 10);
    if (errno || *e || !(isdigit((unsigned char)t[0]) || (t[0] == '-' && n > 1)))
        return -1;
    *out = v;
    return 0;
}

/* The value: the rest of the line ("[3 0]" contains a space). */
static uint32_t etcd_value(history *h, const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - s);
    int64_t a, b;
    if (n == 3 && memcmp(s, "nil", 3) == 0)
        return HIST_NULL;
    if (n > 1 && s[0] == ':')
        return history_intern_string(h, s + 1, n - 1);
    if (etcd_int(s, n, &a) == 0)
        return history_intern_int(h, a);
    if (n >= 5 && s[0] == '[' && s[n - 1] == ']') {
        const char *p = s + 1, *q = s + n - 1, *f1, *f2;
        size_t n1, n2;
        if (etcd_field(&p, q, &f1, &n1) && etcd_field(&p, q, &f2, &n2) && p == q &&
            etcd_int(f1, n1, &a) == 0 && etcd_int(f2, n2, &b) == 0)
            return history_intern_pair(h, history_intern_int(h, a), history_intern_int(h, b));
    }
    return HIST_ABSENT;
}

int history_parse_porcupine_etcd(history *h, const char *data, size_t len, const char *name, char *err,
                                 size_t errlen)
{
    size_t pos = 0, n;
    const char *line;
    h->format = "porcupine-etcd";
    for (uint32_t lineno = 1; history_next_line(data, len, &pos, &line, &n); lineno++) {
        if (history_blank(line, n))
            continue;
        const char *why = NULL;
        const char *s = line + sizeof ETCD_PREFIX - 1, *end = line + n, *f;
        size_t fl;
        hist_event e = {0};
        e.line = lineno;
        e.index = (int64_t)h->nev;
        e.time = HIST_NO_TIME;
        if (n < sizeof ETCD_PREFIX - 1 || memcmp(line, ETCD_PREFIX, sizeof ETCD_PREFIX - 1) != 0)
            why = "expected \"INFO  jepsen.util - <process> <type> <f> <value>\"";
        else if (!etcd_field(&s, end, &f, &fl) || etcd_int(f, fl, &e.process) != 0)
            why = "process must be an integer";
        else if (!etcd_field(&s, end, &f, &fl) || f[0] != ':')
            why = "type must be :invoke, :ok, :fail or :info";
        else {
            int t = -1;
            for (int i = HIST_INVOKE; i <= HIST_INFO; i++)
                if (strlen(history_type_name(i)) == fl - 1 && memcmp(history_type_name(i), f + 1, fl - 1) == 0)
                    t = i;
            e.type = (uint8_t)t;
            if (t < 0)
                why = "type must be :invoke, :ok, :fail or :info";
            else if (!etcd_field(&s, end, &f, &fl) || f[0] != ':' || fl < 2)
                why = "f must be a keyword such as :read";
            else {
                e.fname = history_intern_string(h, f + 1, fl - 1);
                e.f = (uint8_t)history_f_of(f + 1, fl - 1);
                e.value = etcd_value(h, s, end);
                if (!e.fname)
                    why = "f must be a UTF-8 keyword";
                else if (!e.value)
                    why = "value must be nil, an integer, [a b] or a keyword";
            }
        }
        if (why) {
            snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
            return -1;
        }
        history_add(h, &e);
    }
    return 0;
}

/* Consumes literal text. */
static int kv_lit(const char **s, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *s) < n || memcmp(*s, lit, n) != 0)
        return 0;
    *s += n;
    return 1;
}

/* A keyword or a plain string (no escapes) up to its delimiter. */
static int kv_token(const char **s, const char *end, char stop, const char **t, size_t *n)
{
    const char *q = memchr(*s, stop, (size_t)(end - *s));
    if (!q)
        return 0;
    *t = *s;
    *n = (size_t)(q - *s);
    *s = q + 1;
    return memchr(*t, '\\', *n) == NULL;
}

/* The exact line shape Porcupine's kv logs use, parsed without building
 * JSON (three times faster than the general EDN path). Returns 0 if the line
 * is not in that shape; the caller then uses the general EDN reader. */
static int kv_fast_line(history *h, const char *s, size_t len, uint32_t lineno, hist_event *e)
{
    const char *end = s + len, *t;
    size_t n;
    memset(e, 0, sizeof *e);
    e->line = lineno;
    e->index = (int64_t)h->nev;
    e->time = HIST_NO_TIME;
    if (!kv_lit(&s, end, "{:process ") || !kv_token(&s, end, ',', &t, &n) || etcd_int(t, n, &e->process) != 0 ||
        !kv_lit(&s, end, " :type :") || !kv_token(&s, end, ',', &t, &n))
        return 0;
    int type = -1;
    for (int i = HIST_INVOKE; i <= HIST_INFO; i++)
        if (strlen(history_type_name(i)) == n && memcmp(history_type_name(i), t, n) == 0)
            type = i;
    if (type < 0 || !kv_lit(&s, end, " :f :") || !kv_token(&s, end, ',', &t, &n) || n == 0)
        return 0;
    e->type = (uint8_t)type;
    e->fname = history_intern_string(h, t, n);
    e->f = (uint8_t)history_f_of(t, n);
    if (!kv_lit(&s, end, " :key \"") || !kv_token(&s, end, '"', &t, &n))
        return 0;
    e->key = history_intern_string(h, t, n);
    if (!kv_lit(&s, end, ", :value "))
        return 0;
    if (kv_lit(&s, end, "nil}")) {
        e->value = HIST_NULL;
    } else {
        if (!kv_lit(&s, end, "\"") || !kv_token(&s, end, '"', &t, &n) || !kv_lit(&s, end, "}"))
            return 0;
        e->value = history_intern_string(h, t, n);
    }
    return s == end && e->fname && e->key && e->value;
}

int history_parse_porcupine_kv(history *h, const char *data, size_t len, const char *name, char *err,
                               size_t errlen)
{
    h->format = "porcupine-kv";
    h->initial = history_intern_string(h, "", 0);
    size_t pos = 0, n;
    const char *line;
    for (uint32_t lineno = 1; history_next_line(data, len, &pos, &line, &n); lineno++) {
        hist_event e;
        if (history_blank(line, n))
            continue;
        if (kv_fast_line(h, line, n, lineno, &e)) {
            history_add(h, &e);
            continue;
        }
        /* Anything else goes through the general reader, from this line on,
         * so its errors name the right line. */
        size_t start = (size_t)(line - data);
        return history_parse_edn_lines_from(h, data + start, len - start, name, lineno, err, errlen);
    }
    return 0;
}
