/* invariants_trace.c: reads node traces into the compact events the
 * invariant checks use (invariants_int.h).
 *
 * A trace file holds every incarnation of its node: a restart appends, with
 * a `start` line (or, in older traces, times that go back). A node killed
 * mid-write may leave a torn last line, and the next incarnation's first
 * line may even be glued onto it: such lines are skipped and counted as
 * torn, never fatal. Any other line that does not parse is malformed:
 * skipped, counted, and the first one's line number kept for the report. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "checker/invariants_int.h"

void inv_run_init(inv_run *r) { memset(r, 0, sizeof *r); }

void inv_run_free(inv_run *r)
{
    for (int i = 0; i < r->nnodes; i++) {
        free(r->nodes[i].inc_base);
        free(r->nodes[i].inc_last);
    }
    for (int k = 0; k < INV_COUNT; k++)
        free(r->kept[k]);
    free(r->ev);
    free(r->members);
    memset(r, 0, sizeof *r);
}

uint16_t inv_node_of(inv_run *r, const char *name)
{
    for (int i = 0; i < r->nnodes; i++)
        if (!strcmp(r->nodes[i].name, name))
            return (uint16_t)i;
    if (r->nnodes >= INV_MAX_NODES || !name[0])
        return INV_NONE;
    inv_node *n = &r->nodes[r->nnodes];
    snprintf(n->name, sizeof n->name, "%s", name);
    return (uint16_t)r->nnodes++;
}

/* A node named in a field: "n3", or the number 3 (vote `for`, role
 * `leader`, config `members`); 0 and "unknown" are no node. */
static uint16_t peer_of(inv_run *r, json_t *v)
{
    char name[16];
    if (json_is_number(v)) {
        double id = json_number_value(v);
        if (id <= 0 || id > 65535)
            return INV_NONE;
        snprintf(name, sizeof name, "n%d", (int)id);
    } else if (json_is_string(v) && json_string_length(v) < sizeof name) {
        snprintf(name, sizeof name, "%s", json_string_value(v));
        if (!strcmp(name, "unknown"))
            return INV_NONE;
    } else {
        return INV_NONE;
    }
    return inv_node_of(r, name);
}

/* A non-negative number field (an integer, or a double when the line was
 * read with every number as a double: see inv_parse_line); 0 if absent. */
static uint64_t u64(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return d > 0 ? d < 1.8e19 ? (uint64_t)d : UINT64_MAX : 0;
    }
    json_int_t x = json_integer_value(v);
    return x > 0 ? (uint64_t)x : 0;
}

/* Hashes are 16 hex digits; 0 if absent or not hex. */
static uint64_t hash_of(json_t *o)
{
    const char *s = json_string_value(json_object_get(o, "hash"));
    if (!s)
        return 0;
    char *end;
    unsigned long long h = strtoull(s, &end, 16);
    return *end ? 0 : (uint64_t)h;
}

static void add_members(inv_run *r, json_t *m, inv_ev *e)
{
    e->mfirst = (uint32_t)r->nmembers;
    e->nmembers = 0;
    size_t i;
    json_t *x;
    json_array_foreach(m, i, x) {
        uint16_t id = peer_of(r, x);
        if (id == INV_NONE || e->nmembers >= 64 || r->nmembers >= UINT32_MAX)
            continue;
        r->members = inv_grow(r->members, r->nmembers, &r->mcap, sizeof *r->members);
        r->members[r->nmembers++] = id;
        e->nmembers++;
    }
}

int inv_parse_line(inv_run *r, uint16_t node, const char *line, size_t len, inv_ev *e)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    /* Clocks are unsigned 64-bit: a forged or bit-flipped datagram can push
     * a node's Lamport clock or vector clock past 2^63, which jansson does
     * not read as an integer. Such a line is read again with every number
     * as a double (exact below 2^53, which indexes, terms and times are). */
    if (!o)
        o = json_loadb(line, len, JSON_DECODE_INT_AS_REAL, NULL);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!kind)   /* traces before `kind` had only `event` */
        kind = json_string_value(json_object_get(o, "event"));
    if (!json_is_object(o) || !kind || !json_is_number(json_object_get(o, "time"))) {
        json_decref(o);
        return -1;
    }
    memset(e, 0, sizeof *e);
    e->node = node;
    e->peer = INV_NONE;
    uint64_t t = u64(o, "time");
    /* Clamped so that adding an incarnation's start cannot overflow. */
    e->t = t > (uint64_t)1 << 60 ? (int64_t)1 << 60 : (int64_t)t;
    int chain = json_object_get(o, "seq") && !json_object_get(o, "index");
    e->kind = IK_OTHER;
    if (!strcmp(kind, "start")) {
        e->kind = IK_START;
        inv_node *n = &r->nodes[node];
        const char *s = json_string_value(json_object_get(o, "system"));
        const char *b = json_string_value(json_object_get(o, "byzantine"));
        if (s)
            snprintf(n->system, sizeof n->system, "%s", s);
        if (b)
            snprintf(n->byzantine, sizeof n->byzantine, "%s", b);
        const char *auth = json_string_value(json_object_get(o, "auth"));
        if (auth && !strcmp(auth, "none"))
            r->unauth = 1;
    } else if (!strcmp(kind, "role") || !strcmp(kind, "config")) {
        const char *role = json_string_value(json_object_get(o, "role"));
        snprintf(e->role, sizeof e->role, "%s", role ? role : "?");
        if (kind[0] == 'r') {
            e->kind = IK_ROLE;
            e->a = u64(o, "term");
            e->peer = peer_of(r, json_object_get(o, "leader"));
        } else {
            e->kind = IK_CONFIG;
            e->a = u64(o, "epoch");
            add_members(r, json_object_get(o, "members"), e);
        }
    } else if (!strcmp(kind, "vote")) {
        e->kind = IK_VOTE;
        e->a = u64(o, "term");
        e->peer = peer_of(r, json_object_get(o, "for"));
    } else if (!strcmp(kind, "append")) {
        e->kind = IK_APPEND;
        e->a = u64(o, "first"), e->b = u64(o, "last"), e->c = u64(o, "term");
    } else if (!strcmp(kind, "ack")) {
        e->kind = IK_ACK;
        e->a = u64(o, "term"), e->b = u64(o, "match");
        e->peer = peer_of(r, json_object_get(o, "from"));
    } else if (!strcmp(kind, "commit") || !strcmp(kind, "apply") || !strcmp(kind, "receive")) {
        if (chain) {
            e->kind = kind[0] == 'r' ? IK_CRECEIVE : kind[0] == 'c' ? IK_CCOMMIT : IK_OTHER;
            e->a = u64(o, "seq"), e->b = u64(o, "rid");
        } else if (kind[0] != 'r') {
            e->kind = kind[0] == 'c' ? IK_COMMIT : IK_APPLY;
            e->a = u64(o, "index"), e->b = u64(o, "term"), e->c = hash_of(o);
        }
    } else if (!strcmp(kind, "snapshot")) {
        e->kind = chain ? IK_CSNAPSHOT : IK_SNAPSHOT;
        e->a = chain ? u64(o, "seq") : u64(o, "index");
        e->b = u64(o, "term");
    } else if (!strcmp(kind, "reject")) {
        e->kind = IK_REJECT;
    }
    json_decref(o);
    return e->kind == IK_OTHER ? 0 : 1;
}

static void push_ev(inv_run *r, const inv_ev *e)
{
    r->ev = inv_grow(r->ev, r->nev, &r->cap, sizeof *r->ev);
    r->ev[r->nev++] = *e;
}

static void new_incarnation(inv_node *n, int64_t base)
{
    if ((n->ninc & (n->ninc - 1)) == 0) {   /* grow at powers of two */
        size_t cap = n->ninc ? (size_t)n->ninc * 2 : 1;
        n->inc_base = realloc(n->inc_base, cap * sizeof *n->inc_base);
        n->inc_last = realloc(n->inc_last, cap * sizeof *n->inc_last);
        if (!n->inc_base || !n->inc_last)
            abort();
    }
    n->inc_base[n->ninc] = base;
    n->inc_last[n->ninc] = base;
    n->ninc++;
}

static int blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return 0;
    return 1;
}

/* A line that does not parse may hold the next incarnation's first line
 * glued to a torn one: parse from the last `{"time"` in it. */
static int recover_glued(inv_run *r, uint16_t node, const char *line, size_t len, inv_ev *e)
{
    static const char key[] = "{\"time\"";
    for (size_t i = len; i-- > 1;)
        if (i + sizeof key - 1 <= len && !memcmp(line + i, key, sizeof key - 1))
            return inv_parse_line(r, node, line + i, len - i, e);
    return -1;
}

void inv_read_trace(inv_run *r, const char *name, const char *data, size_t len,
                    const int64_t *starts, int nstarts)
{
    uint16_t id = inv_node_of(r, name);
    if (id == INV_NONE)
        return;
    inv_node *n = &r->nodes[id];
    n->traced = 1;
    int64_t last_t = 0;
    uint32_t lineno = 0, pending_bad = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line = p, *le = nl ? nl : end;
        p = nl ? nl + 1 : end;
        lineno++;
        if (blank(line, le))
            continue;
        n->lines++;
        inv_ev e;
        int rc = inv_parse_line(r, id, line, (size_t)(le - line), &e);
        int glued = 0;
        if (rc < 0 && (rc = recover_glued(r, id, line, (size_t)(le - line), &e)) >= 0)
            glued = 1;
        if (rc < 0) {
            if (pending_bad) {   /* two bad lines in a row: the first was not a last line */
                n->malformed++;
                if (!n->bad_line)
                    n->bad_line = pending_bad;
            }
            pending_bad = lineno;
            continue;
        }
        n->events++;
        int fresh = n->ninc == 0 || ((e.kind == IK_START || e.t < last_t) && n->events > 1);
        if (glued)
            n->torn++;
        if (pending_bad) {
            /* A bad line just before a new incarnation was its
             * predecessor's torn last line; elsewhere it is malformed. */
            if (fresh && n->ninc > 0)
                n->torn++;
            else {
                n->malformed++;
                if (!n->bad_line)
                    n->bad_line = pending_bad;
            }
            pending_bad = 0;
        }
        if (fresh) {
            int k = n->ninc;
            int64_t base = starts && k < nstarts ? starts[k]
                           : k ? n->inc_last[k - 1] + 1 : 0;
            new_incarnation(n, base < 0 ? 0 : base > (int64_t)1 << 60 ? (int64_t)1 << 60 : base);
        }
        last_t = e.t;
        e.inc = (uint8_t)(n->ninc - 1 > 255 ? 255 : n->ninc - 1);
        e.t += n->inc_base[n->ninc - 1];
        e.line = lineno;
        if (e.t > n->inc_last[n->ninc - 1])
            n->inc_last[n->ninc - 1] = e.t;
        if (e.kind == IK_REJECT)
            n->rejected++;
        else if (rc == 1 && e.kind != IK_START)
            push_ev(r, &e);
    }
    if (pending_bad)
        n->torn++;   /* the file's torn last line */
}
