/* history.c: the event list, the value interning table, and the pairing of
 * invocations with completions into operations (see history.h). */
#define _GNU_SOURCE
#include "checker/history.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checker/hash.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("riftlab check: out of memory\n", stderr);
        abort();
    }
    return q;
}

void history_init(history *h)
{
    memset(h, 0, sizeof *h);
    h->vcap = 64;
    h->vals = xrealloc(NULL, h->vcap * sizeof *h->vals);
    memset(&h->vals[0], 0, sizeof h->vals[0]);
    h->nvals = 1;
    h->vtab_mask = 127;
    h->vtab = calloc(h->vtab_mask + 1, sizeof *h->vtab);
    if (!h->vtab)
        abort();
    uint32_t n = history_intern_text(h, "null", 4);
    (void)n; /* always HIST_NULL: the first value interned */
    h->initial = HIST_NULL;
    h->format = "jsonl";
}

void history_free(history *h)
{
    free(h->ev);
    free(h->vals);
    free(h->vtab);
    for (size_t i = 0; i < h->narenas; i++)
        free(h->arenas[i]);
    free(h->arenas);
    memset(h, 0, sizeof *h);
}

hist_event *history_add(history *h, const hist_event *e)
{
    if (h->nev == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->ev = xrealloc(h->ev, h->cap * sizeof *h->ev);
    }
    h->ev[h->nev] = *e;
    return &h->ev[h->nev++];
}

/* Copies n bytes (plus a NUL) into the text arenas; texts never move. */
static char *arena_copy(history *h, const char *s, size_t n)
{
    if (h->narenas == 0 || h->arena_used + n + 1 > h->arena_cap) {
        size_t cap = n + 1 > 65536 ? n + 1 : 65536;
        h->arenas = xrealloc(h->arenas, (h->narenas + 1) * sizeof *h->arenas);
        h->arenas[h->narenas++] = xrealloc(NULL, cap);
        h->arena_cap = cap;
        h->arena_used = 0;
    }
    char *p = h->arenas[h->narenas - 1] + h->arena_used;
    memcpy(p, s, n);
    p[n] = 0;
    h->arena_used += n + 1;
    return p;
}

static void vtab_grow(history *h)
{
    uint32_t mask = h->vtab_mask * 2 + 1;
    uint32_t *t = calloc((size_t)mask + 1, sizeof *t);
    if (!t)
        abort();
    for (uint32_t id = 1; id < h->nvals; id++) {
        uint32_t i = (uint32_t)h->vals[id].hash & mask;
        while (t[i])
            i = (i + 1) & mask;
        t[i] = id;
    }
    free(h->vtab);
    h->vtab = t;
    h->vtab_mask = mask;
}

/* Fills kind and the decoded parts of a new value from its JSON text. */
static void value_decode(history *h, uint32_t id)
{
    hist_value *v = &h->vals[id];
    json_error_t jerr;
    json_t *j = json_loadb(v->text, v->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j)
        return; /* cannot happen for canonical text; kind stays NULL */
    switch (json_typeof(j)) {
    case JSON_NULL: v->kind = HIST_V_NULL; break;
    case JSON_TRUE: case JSON_FALSE: v->kind = HIST_V_BOOL; break;
    case JSON_INTEGER:
        v->kind = HIST_V_INT;
        v->ival = json_integer_value(j);
        break;
    case JSON_REAL: v->kind = HIST_V_REAL; break;
    case JSON_STRING:
        v->kind = HIST_V_STRING;
        v->slen = (uint32_t)json_string_length(j);
        v->str = arena_copy(h, json_string_value(j), v->slen);
        break;
    case JSON_ARRAY:
        v->kind = HIST_V_ARRAY;
        if (json_array_size(j) == 2) {
            char *ta = json_dumps(json_array_get(j, 0), JSON_COMPACT | JSON_ENCODE_ANY);
            char *tb = json_dumps(json_array_get(j, 1), JSON_COMPACT | JSON_ENCODE_ANY);
            uint32_t a = history_intern_text(h, ta, strlen(ta));
            uint32_t b = history_intern_text(h, tb, strlen(tb));
            free(ta);
            free(tb);
            h->vals[id].a = a; /* vals may have moved */
            h->vals[id].b = b;
        }
        break;
    case JSON_OBJECT: v->kind = HIST_V_OBJECT; break;
    }
    json_decref(j);
}

/* Looks text up; when absent adds it, and if `decode` fills the parts.
 * The fast paths below fill the parts themselves (no JSON parse). */
static uint32_t intern(history *h, const char *text, size_t len, bool decode, bool *added)
{
    uint64_t hash = chk_hash_bytes(text, len);
    uint32_t i = (uint32_t)hash & h->vtab_mask;
    for (uint32_t id; (id = h->vtab[i]); i = (i + 1) & h->vtab_mask) {
        const hist_value *v = &h->vals[id];
        if (v->hash == hash && v->len == len && memcmp(v->text, text, len) == 0) {
            *added = false;
            return id;
        }
    }
    if (h->nvals == h->vcap) {
        h->vcap *= 2;
        h->vals = xrealloc(h->vals, h->vcap * sizeof *h->vals);
    }
    uint32_t id = h->nvals++;
    hist_value *v = &h->vals[id];
    memset(v, 0, sizeof *v);
    v->text = arena_copy(h, text, len);
    v->len = (uint32_t)len;
    v->hash = hash;
    h->vtab[i] = id;
    if ((uint64_t)h->nvals * 2 > h->vtab_mask)
        vtab_grow(h);
    *added = true;
    if (decode)
        value_decode(h, id);
    return id;
}

uint32_t history_intern_text(history *h, const char *text, size_t len)
{
    bool added;
    return intern(h, text, len, true, &added);
}

uint32_t history_intern_int(history *h, int64_t v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    bool added;
    uint32_t id = intern(h, t, (size_t)n, false, &added);
    if (added) {
        h->vals[id].kind = HIST_V_INT;
        h->vals[id].ival = v;
    }
    return id;
}

uint32_t history_intern_string(history *h, const char *s, size_t len)
{
    bool plain = true; /* printable ASCII without quote or backslash: text is "s" */
    for (size_t i = 0; i < len && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
    }
    if (!plain) {
        json_t *j = json_stringn(s, len);
        if (!j)
            return HIST_ABSENT; /* not UTF-8 */
        char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        uint32_t id = history_intern_text(h, t, strlen(t));
        free(t);
        return id;
    }
    char small[256];
    char *t = len + 2 <= sizeof small ? small : xrealloc(NULL, len + 2);
    t[0] = '"';
    memcpy(t + 1, s, len);
    t[len + 1] = '"';
    bool added;
    uint32_t id = intern(h, t, len + 2, false, &added);
    if (t != small)
        free(t);
    if (added) {
        hist_value *v = &h->vals[id];
        v->kind = HIST_V_STRING;
        v->str = v->text + 1; /* the decoded bytes are the text minus quotes */
        v->slen = (uint32_t)len;
    }
    return id;
}

uint32_t history_intern_pair(history *h, uint32_t a, uint32_t b)
{
    size_t la = h->vals[a].len, lb = h->vals[b].len;
    char *t = xrealloc(NULL, la + lb + 3);
    t[0] = '[';
    memcpy(t + 1, h->vals[a].text, la);
    t[la + 1] = ',';
    memcpy(t + la + 2, h->vals[b].text, lb);
    t[la + lb + 2] = ']';
    bool added;
    uint32_t id = intern(h, t, la + lb + 3, false, &added);
    free(t);
    if (added) {
        h->vals[id].kind = HIST_V_ARRAY;
        h->vals[id].a = a;
        h->vals[id].b = b;
    }
    return id;
}

hist_f history_f_of(const char *s, size_t n)
{
    static const struct { const char *name; hist_f f; } names[] = {
        {"read", HIST_F_READ},     {"get", HIST_F_READ},       {"write", HIST_F_WRITE},
        {"put", HIST_F_WRITE},     {"set", HIST_F_WRITE},      {"cas", HIST_F_CAS},
        {"delete", HIST_F_DELETE}, {"del", HIST_F_DELETE},     {"append", HIST_F_APPEND},
        {"acquire", HIST_F_ACQUIRE}, {"lock", HIST_F_ACQUIRE}, {"release", HIST_F_RELEASE},
        {"unlock", HIST_F_RELEASE},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0)
            return names[i].f;
    return HIST_F_OTHER;
}

const char *history_type_name(int type)
{
    static const char *const names[] = {"invoke", "ok", "fail", "info"};
    return type >= 0 && type <= HIST_INFO ? names[type] : "?";
}

/* ---- pairing invocations with completions ---- */

/* Open-addressing map from a process number to its pending op (or -1). */
typedef struct pmap {
    int64_t *keys;
    int64_t *vals;
    size_t mask, n;
} pmap;

static int64_t *pmap_slot(pmap *m, int64_t key)
{
    if (m->n * 2 >= m->mask) {
        pmap old = *m;
        m->mask = m->mask ? m->mask * 2 + 1 : 63;
        m->keys = xrealloc(NULL, (m->mask + 1) * sizeof *m->keys);
        m->vals = xrealloc(NULL, (m->mask + 1) * sizeof *m->vals);
        for (size_t i = 0; i <= m->mask; i++)
            m->vals[i] = INT64_MIN; /* empty slot */
        m->n = 0;
        for (size_t i = 0; old.keys && i <= old.mask; i++)
            if (old.vals[i] != INT64_MIN)
                *pmap_slot(m, old.keys[i]) = old.vals[i];
        free(old.keys);
        free(old.vals);
    }
    size_t i = chk_mix64((uint64_t)key) & m->mask;
    while (m->vals[i] != INT64_MIN && m->keys[i] != key)
        i = (i + 1) & m->mask;
    if (m->vals[i] == INT64_MIN) {
        m->keys[i] = key;
        m->vals[i] = -1;
        m->n++;
    }
    return &m->vals[i];
}

static int fail_at(char *err, size_t errlen, const hist_event *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(err, errlen, "line %u: ", e->line);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Fills the model arguments of op from its invocation (and completion). */
static int op_args(const history *h, hist_op *o, char *err, size_t errlen)
{
    const hist_event *inv = &h->ev[o->inv];
    const hist_event *cmp = o->cmp == HIST_NO_COMPLETION ? NULL : &h->ev[o->cmp];
    uint32_t v = inv->value ? inv->value : cmp ? cmp->value : HIST_ABSENT;
    o->key = inv->key ? inv->key : cmp ? cmp->key : HIST_ABSENT;
    switch (o->f) {
    case HIST_F_WRITE:
    case HIST_F_APPEND:
        if (!v)
            return fail_at(err, errlen, inv, "%s without a value", h->vals[inv->fname].text);
        o->arg = v;
        break;
    case HIST_F_CAS: {
        const hist_value *p = &h->vals[v];
        if (!v || p->kind != HIST_V_ARRAY || !p->a)
            return fail_at(err, errlen, inv, "cas value must be [expected, new]");
        o->arg = p->a;
        o->arg2 = p->b;
        break;
    }
    case HIST_F_READ:
        if (o->type == HIST_OK) {
            if (!cmp->value)
                return fail_at(err, errlen, cmp, "ok read without a value");
            o->ret = cmp->value;
        }
        break;
    default:
        break;
    }
    return 0;
}

int history_ops(const history *h, hist_op **out, size_t *nout, char *err, size_t errlen)
{
    hist_op *ops = NULL;
    size_t n = 0, cap = 0;
    pmap pending = {0};
    int rc = 0;
    for (size_t i = 0; i < h->nev && rc == 0; i++) {
        const hist_event *e = &h->ev[i];
        if (e->pname)
            continue; /* the nemesis and other named processes: drawn, never checked */
        int64_t *slot = pmap_slot(&pending, e->process);
        if (e->type == HIST_INVOKE) {
            if (*slot >= 0) {
                rc = fail_at(err, errlen, e, "process %" PRId64 " invokes while its operation from line %u is pending",
                             e->process, h->ev[ops[*slot].inv].line);
                break;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                ops = xrealloc(ops, cap * sizeof *ops);
            }
            memset(&ops[n], 0, sizeof ops[n]);
            ops[n].inv = (uint32_t)i;
            ops[n].cmp = HIST_NO_COMPLETION;
            ops[n].process = e->process;
            ops[n].type = HIST_INFO;
            ops[n].f = e->f;
            *slot = (int64_t)n++;
        } else {
            if (*slot < 0) {
                rc = fail_at(err, errlen, e, "%s of process %" PRId64 " without an invocation",
                             history_type_name(e->type), e->process);
                break;
            }
            hist_op *o = &ops[*slot];
            if (e->fname != h->ev[o->inv].fname) {
                rc = fail_at(err, errlen, e, "completion f %s does not match the invocation's %s (line %u)",
                             h->vals[e->fname].text, h->vals[h->ev[o->inv].fname].text, h->ev[o->inv].line);
                break;
            }
            o->cmp = (uint32_t)i;
            o->type = e->type;
            *slot = -1;
        }
    }
    free(pending.keys);
    free(pending.vals);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = op_args(h, &ops[i], err, errlen);
    if (rc) {
        free(ops);
        return -1;
    }
    *out = ops;
    *nout = n;
    return 0;
}

void history_op_describe(const history *h, const hist_op *o, FILE *out)
{
    const hist_event *inv = &h->ev[o->inv];
    fprintf(out, "p%" PRId64 " %s", o->process, h->vals[inv->fname].text[0] == '"'
                                                    ? h->vals[inv->fname].str : h->vals[inv->fname].text);
    if (o->key)
        fprintf(out, " key=%s", h->vals[o->key].text);
    if (o->f == HIST_F_CAS)
        fprintf(out, " %s->%s", h->vals[o->arg].text, h->vals[o->arg2].text);
    else if (o->arg)
        fprintf(out, " %s", h->vals[o->arg].text);
    if (o->f == HIST_F_READ && o->type == HIST_OK)
        fprintf(out, " -> %s", h->vals[o->ret].text);
    fprintf(out, " %s", o->cmp == HIST_NO_COMPLETION ? "pending" : history_type_name(o->type));
    if (inv->line)
        fprintf(out, " (line %u", inv->line);
    if (inv->line && o->cmp != HIST_NO_COMPLETION)
        fprintf(out, "-%u)", h->ev[o->cmp].line);
    else if (inv->line)
        fputc(')', out);
}

static bool same_text(const history *a, uint32_t x, const history *b, uint32_t y)
{
    if (!x || !y)
        return x == y;
    return a->vals[x].len == b->vals[y].len && memcmp(a->vals[x].text, b->vals[y].text, a->vals[x].len) == 0;
}

bool history_equal(const history *a, const history *b, char *why, size_t whylen)
{
    if (a->nev != b->nev) {
        snprintf(why, whylen, "%zu events vs %zu", a->nev, b->nev);
        return false;
    }
    if (!same_text(a, a->initial, b, b->initial)) {
        snprintf(why, whylen, "initial values differ");
        return false;
    }
    for (size_t i = 0; i < a->nev; i++) {
        const hist_event *x = &a->ev[i], *y = &b->ev[i];
        const char *field = NULL;
        if (x->index != y->index) field = "index";
        else if (x->time != y->time) field = "time";
        else if (!same_text(a, x->pname, b, y->pname) || (!x->pname && x->process != y->process)) field = "process";
        else if (x->type != y->type) field = "type";
        else if (!same_text(a, x->fname, b, y->fname)) field = "f";
        else if (!same_text(a, x->key, b, y->key)) field = "key";
        else if (!same_text(a, x->value, b, y->value)) field = "value";
        else if (!same_text(a, x->node, b, y->node)) field = "node";
        else if (!same_text(a, x->consistency, b, y->consistency)) field = "consistency";
        else if (!same_text(a, x->error, b, y->error)) field = "error";
        else if (x->final != y->final) field = "final";
        if (field) {
            snprintf(why, whylen, "event %zu differs in %s", i, field);
            return false;
        }
    }
    return true;
}
