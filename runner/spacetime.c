/* spacetime.c: node traces -> events, matched messages, happens-before
 * order and vector clocks (see spacetime.h). Trace lines are parsed with
 * jansson one at a time; a line that does not parse (the torn last line of
 * a killed node) is counted and skipped, never fatal. */
#define _GNU_SOURCE
#include "spacetime.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errf.h"

void st_init(st_trace *st)
{
    memset(st, 0, sizeof *st);
    buf_init(&st->text);
}

void st_free(st_trace *st)
{
    free(st->ev);
    free(st->order);
    free(st->vc);
    buf_free(&st->text);
    memset(st, 0, sizeof *st);
}

/* Lane names go into ShiViz's host field and JSON keys: keep them plain. */
static void plain_name(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < cap; src++)
        dst[n++] = isalnum((unsigned char)*src) || strchr("_.#-", *src) ? *src : '_';
    dst[n] = 0;
}

/* "kind k=v k=v ...": the event's own fields, strings unquoted. */
static void describe(buf *b, const char *kind, json_t *o)
{
    size_t start = buf_size(b);
    buf_puts(b, kind);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (!strcmp(k, "time") || !strcmp(k, "node") || !strcmp(k, "kind") ||
            !strcmp(k, "event") || !strcmp(k, "lamport") || !strcmp(k, "vc"))
            continue;
        if (json_is_string(v)) {
            buf_printf(b, " %s=%s", k, json_string_value(v));
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            buf_printf(b, " %s=%s", k, s ? s : "?");
            free(s);
        }
        if (buf_size(b) - start > 200)
            break;
    }
    /* One line, no control characters (ShiViz reads it as one line). */
    char *p = (char *)buf_ptr(b) + start, *end = (char *)buf_ptr(b) + buf_size(b);
    for (; p < end; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    buf_append(b, "", 1);
}

static st_event *new_event(st_trace *st)
{
    if (st->nev >= ST_MAX_EVENTS) {
        st->truncated = 1;
        return NULL;
    }
    if (st->nev == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 1024;
        st->ev = realloc(st->ev, st->cap * sizeof *st->ev);
        if (!st->ev)
            abort();
    }
    st_event *e = &st->ev[st->nev++];
    memset(e, 0, sizeof *e);
    e->send = -1;
    e->peer = -1;
    return e;
}

/* Times from a file: kept within [0, 2^56] (2 years) so sums and the
 * matching cost (8 x a difference) never overflow. */
static int64_t clamp_ns(int64_t t)
{
    return t < 0 ? 0 : t > (INT64_C(1) << 56) ? INT64_C(1) << 56 : t;
}

static int blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!isspace((unsigned char)*p))
            return 0;
    return 1;
}

static void str_field(char *dst, size_t cap, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, cap, "%s", s ? s : "");
}

int st_add_trace(st_trace *st, const char *name, const char *data, size_t len,
                 const int64_t *starts, int nstarts)
{
    if (st->nlanes >= ST_MAX_LANES)
        return -1;
    int lane = st->nlanes++;
    plain_name(st->lanes[lane], sizeof st->lanes[lane], name);
    int inc = 0, any = 0;
    int64_t last_t = 0, base = clamp_ns(nstarts > 0 ? starts[0] : 0), last_run = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line = p, *le = nl ? nl : end;
        json_t *o = json_loadb(line, (size_t)(le - line), 0, NULL);
        p = nl ? nl + 1 : end;
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "kind"))) {
            json_decref(o);
            if (!blank(line, le))   /* blank lines are not torn lines */
                st->torn++;
            continue;
        }
        const char *kind = json_string_value(json_object_get(o, "kind"));
        int64_t t = clamp_ns(json_integer_value(json_object_get(o, "time")));
        /* A new incarnation: its `start` line, or time going back. */
        if (any && (!strcmp(kind, "start") || t < last_t)) {
            inc++;
            base = clamp_ns(inc < nstarts ? starts[inc] : last_run + 1);
        }
        any = 1;
        last_t = t;
        st_event *e = new_event(st);
        if (!e) {
            json_decref(o);
            break;
        }
        e->lane = (uint16_t)lane;
        e->inc = (uint8_t)(inc > 255 ? 255 : inc);
        e->t = base + t;
        last_run = e->t;
        snprintf(e->kind, sizeof e->kind, "%s", kind);
        if (!strcmp(kind, "send")) {
            e->type = ST_SEND;
            str_field(e->peer_name, sizeof e->peer_name, o, "to");
        } else if (!strcmp(kind, "recv")) {
            e->type = ST_RECV;
            str_field(e->peer_name, sizeof e->peer_name, o, "from");
        } else if (!strcmp(kind, "reject") || !strcmp(kind, "ack")) {
            str_field(e->peer_name, sizeof e->peer_name, o, "from");
        }
        if (e->type != ST_LOCAL)
            str_field(e->mtype, sizeof e->mtype, o, "type");
        json_t *seq = json_object_get(o, "seq");
        e->seq = json_is_integer(seq) ? (uint64_t)json_integer_value(seq) : 0;
        if (e->type != ST_LOCAL && !json_is_integer(seq))
            e->type = ST_LOCAL;   /* cannot be matched without its seq */
        if (!strcmp(kind, "role") || !strcmp(kind, "config")) {
            str_field(e->role, sizeof e->role, o, "role");
            json_t *term = json_object_get(o, kind[0] == 'r' ? "term" : "epoch");
            e->term = (uint64_t)json_integer_value(term);
        }
        e->text = (uint32_t)buf_size(&st->text);
        describe(&st->text, kind, o);
        json_decref(o);
    }
    return lane;
}

static int lane_by_name(const st_trace *st, const char *name)
{
    for (int i = 0; i < st->nlanes; i++)
        if (!strcmp(st->lanes[i], name))
            return i;
    return -1;
}

/* Sends sorted by (lane, peer, seq, t) so a recv finds its candidates by
 * binary search. */
static const st_trace *sort_st;
static int cmp_send(const void *a, const void *b)
{
    const st_event *x = &sort_st->ev[*(const uint32_t *)a], *y = &sort_st->ev[*(const uint32_t *)b];
    if (x->lane != y->lane)
        return x->lane < y->lane ? -1 : 1;
    if (x->peer != y->peer)
        return x->peer < y->peer ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

static void match_messages(st_trace *st)
{
    size_t ns = 0;
    uint32_t *sends = malloc((st->nev + 1) * sizeof *sends);
    if (!sends)
        abort();
    for (size_t i = 0; i < st->nev; i++)
        if (st->ev[i].type == ST_SEND && st->ev[i].peer >= 0)
            sends[ns++] = (uint32_t)i;
    sort_st = st;
    qsort(sends, ns, sizeof *sends, cmp_send);
    for (size_t i = 0; i < st->nev; i++) {
        st_event *r = &st->ev[i];
        if (r->type != ST_RECV || r->peer < 0)
            continue;
        /* First candidate with (lane=r.peer, peer=r.lane, seq). */
        size_t lo = 0, hi = ns;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const st_event *s = &st->ev[sends[mid]];
            int less = s->lane != r->peer ? s->lane < r->peer
                       : s->peer != r->lane ? s->peer < r->lane
                                            : s->seq < r->seq;
            if (less)
                lo = mid + 1;
            else
                hi = mid;
        }
        int32_t best = -1;
        int64_t best_cost = 0;
        for (size_t k = lo; k < ns; k++) {
            const st_event *s = &st->ev[sends[k]];
            if (s->lane != r->peer || s->peer != r->lane || s->seq != r->seq)
                break;
            if (strcmp(s->mtype, r->mtype))
                continue;
            /* Nearest in run time; a send after its recv only within the
             * incarnations' start skew, so that direction costs more. */
            int64_t cost = r->t >= s->t ? r->t - s->t : (s->t - r->t) * 8;
            if (best < 0 || cost < best_cost)
                best = (int32_t)sends[k], best_cost = cost;
        }
        r->send = best;
        if (best >= 0)
            st->ev[best].nrecv++;
    }
    free(sends);
}

/* Kahn's algorithm over the lanes: repeatedly place the earliest (in run
 * time) lane head that is not a recv waiting for its send. If every head
 * waits, the matched messages form a cycle (a mismatched restart seq, a
 * forged header): cut the earliest waiting recv loose and go on. */
static void order_events(st_trace *st)
{
    size_t *start = calloc((size_t)st->nlanes + 1, sizeof *start);
    size_t *cur = calloc((size_t)st->nlanes + 1, sizeof *cur);
    uint8_t *placed = calloc(st->nev + 1, 1);
    st->order = malloc((st->nev + 1) * sizeof *st->order);
    if (!start || !cur || !placed || !st->order)
        abort();
    /* Lanes are contiguous in ev (added one trace at a time). */
    for (int l = 0, i = 0; l < st->nlanes; l++) {
        start[l] = cur[l] = (size_t)i;
        while ((size_t)i < st->nev && st->ev[i].lane == l)
            i++;
    }
    for (size_t n = 0; n < st->nev; n++) {
        int best = -1, wait = -1;
        for (int l = 0; l < st->nlanes; l++) {
            size_t i = cur[l];
            if (i >= st->nev || st->ev[i].lane != l)
                continue;
            st_event *e = &st->ev[i];
            int ready = !(e->type == ST_RECV && e->send >= 0 && !placed[e->send]);
            int *slot = ready ? &best : &wait;
            if (*slot < 0 || e->t < st->ev[cur[*slot]].t)
                *slot = l;
        }
        if (best < 0) {
            st_event *e = &st->ev[cur[wait]];
            st->ev[e->send].nrecv--;
            e->send = -1;
            st->cut++;
            best = wait;
        }
        size_t i = cur[best]++;
        placed[i] = 1;
        st->ev[i].pos = (uint32_t)n;
        st->order[n] = (uint32_t)i;
    }
    free(start);
    free(cur);
    free(placed);
}

void st_build(st_trace *st)
{
    for (size_t i = 0; i < st->nev; i++) {
        st_event *e = &st->ev[i];
        e->peer = (int16_t)(e->peer_name[0] ? lane_by_name(st, e->peer_name) : -1);
    }
    match_messages(st);
    order_events(st);
    st->vc = calloc(st->nev * (size_t)st->nlanes + 1, sizeof *st->vc);
    if (!st->vc)
        abort();
    st_clocks(st, NULL, st->vc);
}

void st_clocks(const st_trace *st, const uint8_t *keep, uint32_t *out)
{
    size_t nl = (size_t)st->nlanes;
    int64_t last[ST_MAX_LANES];
    for (size_t l = 0; l < nl; l++)
        last[l] = -1;
    memset(out, 0, st->nev * nl * sizeof *out);
    for (size_t n = 0; n < st->nev; n++) {
        uint32_t i = st->order[n];
        if (keep && !keep[i])
            continue;
        const st_event *e = &st->ev[i];
        uint32_t *vc = out + (size_t)i * nl;
        if (last[e->lane] >= 0)
            memcpy(vc, out + (size_t)last[e->lane] * nl, nl * sizeof *vc);
        if (e->type == ST_RECV && e->send >= 0 && (!keep || keep[e->send])) {
            const uint32_t *s = out + (size_t)e->send * nl;
            for (size_t l = 0; l < nl; l++)
                if (s[l] > vc[l])
                    vc[l] = s[l];
        }
        vc[e->lane]++;
        last[e->lane] = i;
    }
}

size_t st_pos_at(const st_trace *st, int64_t t, uint64_t lane_mask)
{
    for (size_t n = 0; n < st->nev; n++) {
        const st_event *e = &st->ev[st->order[n]];
        if (e->t >= t && (!lane_mask || (lane_mask >> e->lane & 1)))
            return n;
    }
    return st->nev;
}

/* Natural order of lane names: "n2" before "n10". */
static int cmp_name(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t px = strcspn(x, "0123456789"), py = strcspn(y, "0123456789");
    if (px != py || strncmp(x, y, px))
        return strcmp(x, y);
    long nx = strtol(x + px, NULL, 10), ny = strtol(y + py, NULL, 10);
    return nx != ny ? (nx < ny ? -1 : 1) : strcmp(x, y);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    *len = buf_size(&b);
    char *s = malloc(*len + 1);
    if (!s)
        abort();
    memcpy(s, buf_ptr(&b), *len);
    s[*len] = 0;
    buf_free(&b);
    return s;
}

long st_load_run(st_trace *st, const char *run_dir, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/nodes", run_dir);
    DIR *d = opendir(path);
    if (!d) {
        errf(err, errlen, "%s: cannot open (is it a run directory?)", path);
        return -1;
    }
    char *names[ST_MAX_LANES];
    int n = 0;
    struct dirent *de;
    const char *suffix = ".trace.jsonl";
    while ((de = readdir(d)) && n < ST_MAX_LANES) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l > sl && !strcmp(de->d_name + l - sl, suffix) && (names[n] = strndup(de->d_name, l - sl)))
            n++;
    }
    closedir(d);
    if (n == 0) {
        errf(err, errlen, "%s: no *.trace.jsonl files", path);
        return -1;
    }
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    snprintf(path, sizeof path, "%s/nodes/starts.json", run_dir);
    json_t *starts = json_load_file(path, 0, NULL);
    for (int i = 0; i < n; i++) {
        int64_t s[64];
        int ns = 0;
        json_t *a = json_object_get(starts, names[i]);
        for (size_t k = 0; k < json_array_size(a) && ns < 64; k++)
            s[ns++] = json_integer_value(json_array_get(a, k));
        snprintf(path, sizeof path, "%s/nodes/%s.trace.jsonl", run_dir, names[i]);
        size_t len = 0;
        char *data = read_all(path, &len);
        if (data)
            st_add_trace(st, names[i], data, len, s, ns);
        free(data);
        free(names[i]);
    }
    json_decref(starts);
    st_build(st);
    return (long)st->nev;
}
