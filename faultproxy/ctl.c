/* ctl.c: faultproxy's control commands (see ctl.h; syntax in
 * docs/faultproxy.md). Each command is parsed completely before anything
 * changes, so a bad command never leaves a half-applied rule behind. */
#include "ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/parse.h"
#include "common/resp.h"
#include "common/wire.h"

#define ERRLEN 256
#define ELEN 120 /* reasons from parse.h, quoted inside ERRLEN messages */

/* A cursor over the arguments after the command name. */
typedef struct args {
    int argc, i;
    char **argv;
    const char *cmd;
    char err[ERRLEN];
} args;

static const char *next_arg(args *a)
{
    return a->i < a->argc ? a->argv[a->i++] : NULL;
}

/* "<keyword>: <reason from parse.h>" */
static int fail_kw(args *a, const char *kw, const char *reason)
{
    snprintf(a->err, sizeof a->err, "%.40s: %s", kw, reason);
    return -1;
}

static int fail(args *a, const char *fmt, const char *x)
{
    char tmp[ERRLEN];
    snprintf(tmp, sizeof tmp, fmt, x);
    snprintf(a->err, sizeof a->err, "%s", tmp);
    return -1;
}

/* Value after a keyword, parsed by kind. */
static const char *value_of(args *a, const char *kw)
{
    const char *v = next_arg(a);
    if (!v)
        fail(a, "'%s' needs a value", kw);
    return v;
}

static int arg_prob(args *a, const char *kw, double *out)
{
    const char *v = value_of(a, kw);
    char e[ELEN];
    if (!v)
        return -1;
    if (parse_probability(v, out, e, sizeof e) < 0)
        return fail_kw(a, kw, e);
    return 0;
}

static int arg_duration(args *a, const char *kw, uint64_t *out)
{
    const char *v = value_of(a, kw);
    char e[ELEN];
    if (!v)
        return -1;
    if (parse_duration_ns(v, out, e, sizeof e) < 0)
        return fail_kw(a, kw, e);
    if (*out > PROXY_MAX_DELAY_NS)
        return fail(a, "duration '%s' is above the 60s limit", v);
    return 0;
}

static int arg_uint(args *a, const char *kw, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *v = value_of(a, kw);
    char e[ELEN];
    if (!v)
        return -1;
    if (parse_uint64(v, min, max, out, e, sizeof e) < 0)
        return fail_kw(a, kw, e);
    return 0;
}

/* "SIZE/s": bytes per second, e.g. 1MiB/s or 64k/s. */
static int arg_bandwidth(args *a, const char *kw, double *out)
{
    const char *v = value_of(a, kw);
    char e[ELEN], num[64];
    uint64_t size;
    if (!v)
        return -1;
    const char *slash = strchr(v, '/');
    if (!slash || strcmp(slash, "/s") != 0 || (size_t)(slash - v) >= sizeof num)
        return fail(a, "bandwidth '%s' must be a size per second, e.g. 1MiB/s", v);
    memcpy(num, v, (size_t)(slash - v));
    num[slash - v] = '\0';
    if (parse_size(num, &size, e, sizeof e) < 0)
        return fail_kw(a, kw, e);
    if (size == 0)
        return fail(a, "bandwidth '%s' must be above zero", v);
    *out = (double)size;
    return 0;
}

/* A node name/id, or "*" when wild is allowed. */
static int arg_node(proxy_ctl *c, args *a, int wild, int *out)
{
    const char *v = next_arg(a);
    if (!v)
        return fail(a, "missing node in %s", a->cmd);
    if (wild && strcmp(v, "*") == 0) {
        *out = PROXY_ANY;
        return 0;
    }
    *out = proxy_node_lookup(c->eng, v);
    if (*out < 0)
        return fail(a, "unknown node '%s'", v);
    return 0;
}

/* The faults of PROXY.RULE, keyword by keyword. */
static int parse_fault(args *a, const char *kw, proxy_faults *f)
{
    uint64_t u;
    if (!strcasecmp(kw, "blackhole")) {
        f->blackhole = 1;
        return 0;
    }
    if (!strcasecmp(kw, "drop") || !strcasecmp(kw, "loss"))
        return arg_prob(a, kw, &f->drop);
    if (!strcasecmp(kw, "duplicate") || !strcasecmp(kw, "dup"))
        return arg_prob(a, kw, &f->duplicate);
    if (!strcasecmp(kw, "copies")) {
        if (arg_uint(a, kw, 1, PROXY_MAX_DUP, &u) < 0)
            return -1;
        f->copies = (uint32_t)u;
        return 0;
    }
    if (!strcasecmp(kw, "delay"))
        return arg_duration(a, kw, &f->delay_ns);
    if (!strcasecmp(kw, "jitter"))
        return arg_duration(a, kw, &f->jitter_ns);
    if (!strcasecmp(kw, "dist")) {
        const char *v = value_of(a, kw);
        if (!v)
            return -1;
        if (!strcasecmp(v, "uniform"))
            f->dist = PROXY_DIST_UNIFORM;
        else if (!strcasecmp(v, "normal"))
            f->dist = PROXY_DIST_NORMAL;
        else if (!strcasecmp(v, "pareto"))
            f->dist = PROXY_DIST_PARETO;
        else
            return fail(a, "unknown dist '%s' (use uniform, normal or pareto)", v);
        return 0;
    }
    if (!strcasecmp(kw, "alpha")) {
        const char *v = value_of(a, kw);
        char *end;
        if (!v)
            return -1;
        double x = strtod(v, &end);
        if (end == v || *end || !(x >= 0.1 && x <= 100))
            return fail(a, "alpha '%s' must be a number between 0.1 and 100", v);
        f->alpha = x;
        return 0;
    }
    if (!strcasecmp(kw, "reorder"))
        return arg_prob(a, kw, &f->reorder);
    if (!strcasecmp(kw, "hold"))
        return arg_duration(a, kw, &f->hold_ns);
    if (!strcasecmp(kw, "corrupt"))
        return arg_prob(a, kw, &f->corrupt);
    if (!strcasecmp(kw, "bits")) {
        if (arg_uint(a, kw, 1, 64, &u) < 0)
            return -1;
        f->bits = (uint32_t)u;
        return 0;
    }
    if (!strcasecmp(kw, "where")) {
        const char *v = value_of(a, kw);
        if (!v)
            return -1;
        if (!strcasecmp(v, "header"))
            f->where = PROXY_WHERE_HEADER;
        else if (!strcasecmp(v, "body"))
            f->where = PROXY_WHERE_BODY;
        else if (!strcasecmp(v, "any"))
            f->where = PROXY_WHERE_ANY;
        else
            return fail(a, "unknown where '%s' (use header, body or any)", v);
        return 0;
    }
    if (!strcasecmp(kw, "truncate"))
        return arg_prob(a, kw, &f->truncate);
    if (!strcasecmp(kw, "replay"))
        return arg_prob(a, kw, &f->replay);
    if (!strcasecmp(kw, "after"))
        return arg_duration(a, kw, &f->replay_after_ns);
    if (!strcasecmp(kw, "rate")) {
        const char *v = value_of(a, kw);
        char e[ELEN];
        if (!v)
            return -1;
        if (parse_rate(v, &f->rate_msgs, e, sizeof e) < 0)
            return fail_kw(a, kw, e);
        if (!(f->rate_msgs > 0))
            return fail(a, "rate '%s' must be above zero", v);
        return 0;
    }
    if (!strcasecmp(kw, "bandwidth"))
        return arg_bandwidth(a, kw, &f->rate_bytes);
    return fail(a, "unknown fault '%s' (use drop, duplicate, copies, delay, jitter, dist, alpha, "
                   "reorder, hold, corrupt, bits, where, truncate, replay, after, rate, bandwidth, "
                   "blackhole or clear)", kw);
}

/* PROXY.RULE <from> <to> [type T] [both] (clear | fault...) */
static int cmd_rule(proxy_ctl *c, args *a, buf *out)
{
    int from, to, type = PROXY_ANY, both = 0, clear = 0;
    proxy_faults f;
    proxy_faults_init(&f);
    if (arg_node(c, a, 1, &from) < 0 || arg_node(c, a, 1, &to) < 0)
        return -1;
    const char *kw;
    while ((kw = next_arg(a))) {
        if (!strcasecmp(kw, "type")) {
            const char *v = value_of(a, kw);
            uint64_t t;
            char e[ELEN];
            if (!v)
                return -1;
            if (strcmp(v, "*") == 0) {
                type = PROXY_ANY;
                continue;
            }
            if (parse_uint64(v, 0, 255, &t, e, sizeof e) < 0)
                return fail(a, "type: %s", e);
            type = (int)t;
        } else if (!strcasecmp(kw, "both")) {
            both = 1;
        } else if (!strcasecmp(kw, "clear")) {
            clear = 1;
        } else if (parse_fault(a, kw, &f) < 0) {
            return -1;
        }
    }
    if (clear && !proxy_faults_empty(&f))
        return fail(a, "%s", "'clear' cannot be combined with faults");
    if (clear) {
        int n = proxy_rule_clear(c->eng, from, to, type);
        if (both && from != to)
            n += proxy_rule_clear(c->eng, to, from, type);
        resp_put_int(out, n);
        return 0;
    }
    if (proxy_rule_set(c->eng, from, to, type, &f) < 0 ||
        (both && from != to && proxy_rule_set(c->eng, to, from, type, &f) < 0))
        return fail(a, "%s", "too many rules (clear some first)");
    resp_put_simple(out, "OK");
    return 0;
}

/* PROXY.PARTITION n1,n2 n3,n4,n5 ... */
static int cmd_partition(proxy_ctl *c, args *a, buf *out)
{
    uint8_t group[PROXY_MAX_NODES] = {0};
    int ngroups = 0;
    const char *g;
    if (a->argc - a->i < 1)
        return fail(a, "%s", "PROXY.PARTITION needs groups, e.g. n1,n2 n3,n4,n5");
    if (a->argc - a->i > 255)
        return fail(a, "%s", "too many groups");
    while ((g = next_arg(a))) {
        ngroups++;
        char name[PROXY_NAME_MAX + 8];
        const char *p = g;
        if (*p == '\0')
            return fail(a, "%s", "empty group");
        while (*p) {
            size_t n = strcspn(p, ",");
            if (n == 0 || n >= sizeof name)
                return fail(a, "bad node list '%s'", g);
            memcpy(name, p, n);
            name[n] = '\0';
            int idx = proxy_node_lookup(c->eng, name);
            if (idx < 0)
                return fail(a, "unknown node '%s'", name);
            if (group[idx])
                return fail(a, "node '%s' is in two groups", name);
            group[idx] = (uint8_t)ngroups;
            p += n;
            if (*p == ',' && *++p == '\0')
                return fail(a, "bad node list '%s'", g);
        }
    }
    proxy_partition(c->eng, group);
    resp_put_simple(out, "OK");
    return 0;
}

/* PROXY.TCP <listener> [up|down|both] (clear | fault...) */
static int cmd_tcp(proxy_ctl *c, args *a, buf *out)
{
    const char *name = next_arg(a);
    if (!name)
        return fail(a, "%s", "PROXY.TCP needs a listener name");
    int li = -1;
    for (int i = 0; i < c->ntcp; i++)
        if (strcmp(c->tcp_names[i], name) == 0)
            li = i;
    if (li < 0)
        return fail(a, "unknown TCP listener '%s'", name);
    proxy_tcp_rule r = c->tcp_rules[li];
    int dirs = 3, clear = 0, any = 0;
    proxy_tcp_faults nf;
    memset(&nf, 0, sizeof nf);
    const char *kw;
    while ((kw = next_arg(a))) {
        uint64_t u;
        if (!strcasecmp(kw, "up"))
            dirs = 1;
        else if (!strcasecmp(kw, "down"))
            dirs = 2;
        else if (!strcasecmp(kw, "both"))
            dirs = 3;
        else if (!strcasecmp(kw, "clear"))
            clear = 1;
        else if (!strcasecmp(kw, "latency") || !strcasecmp(kw, "delay")) {
            if (arg_duration(a, kw, &nf.latency_ns) < 0)
                return -1;
        } else if (!strcasecmp(kw, "jitter")) {
            if (arg_duration(a, kw, &nf.jitter_ns) < 0)
                return -1;
        } else if (!strcasecmp(kw, "bandwidth")) {
            if (arg_bandwidth(a, kw, &nf.bandwidth) < 0)
                return -1;
        } else if (!strcasecmp(kw, "slice")) {
            if (arg_uint(a, kw, 1, 65536, &u) < 0)
                return -1;
            nf.slice = (uint32_t)u;
        } else if (!strcasecmp(kw, "slicedelay")) {
            if (arg_duration(a, kw, &nf.slice_delay_ns) < 0)
                return -1;
        } else if (!strcasecmp(kw, "blackhole")) {
            nf.blackhole = 1;
        } else if (!strcasecmp(kw, "reset")) {
            r.reset = 1;
            r.reset_after_ns = 0;
        } else if (!strcasecmp(kw, "after")) {
            if (arg_duration(a, kw, &r.reset_after_ns) < 0)
                return -1;
            r.reset = 1;
        } else {
            return fail(a, "unknown TCP fault '%s' (use up, down, both, latency, jitter, "
                           "bandwidth, slice, slicedelay, blackhole, reset, after or clear)", kw);
        }
        any = 1;
    }
    if (!any)
        return fail(a, "%s", "PROXY.TCP needs faults or 'clear'");
    if (clear)
        memset(&r, 0, sizeof r);
    else
        for (int d = 0; d < 2; d++)
            if (dirs & (1 << d))
                r.dir[d] = nf;
    c->tcp_rules[li] = r;
    if (c->tcp_changed)
        c->tcp_changed(c->arg, li);
    resp_put_simple(out, "OK");
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* PROXY.FORGE <from> <to> <type> [body HEX] [seq N] [lamport N] [cluster N] [count N] */
static int cmd_forge(proxy_ctl *c, args *a, buf *out)
{
    int from, to;
    uint64_t type, count = 1, u;
    wire_header h = {0};
    static uint8_t body[4096], dgram[4096 + WIRE_HEADER_LEN];
    size_t blen = 0;
    if (arg_node(c, a, 0, &from) < 0 || arg_node(c, a, 0, &to) < 0 ||
        arg_uint(a, "type", 0, 255, &type) < 0)
        return -1;
    h.cluster = c->cluster;
    const char *kw;
    while ((kw = next_arg(a))) {
        if (!strcasecmp(kw, "body")) {
            const char *v = value_of(a, kw);
            if (!v)
                return -1;
            size_t n = strlen(v);
            if (n % 2 || n / 2 > sizeof body)
                return fail(a, "%s", "body must be an even number of hex digits (at most 4096 bytes)");
            for (size_t i = 0; i < n / 2; i++) {
                int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    return fail(a, "%s", "body must be hex digits");
                body[i] = (uint8_t)(hi << 4 | lo);
            }
            blen = n / 2;
        } else if (!strcasecmp(kw, "seq")) {
            if (arg_uint(a, kw, 0, UINT64_MAX, &h.seq) < 0)
                return -1;
        } else if (!strcasecmp(kw, "lamport")) {
            if (arg_uint(a, kw, 0, UINT64_MAX, &h.lamport) < 0)
                return -1;
        } else if (!strcasecmp(kw, "cluster")) {
            if (arg_uint(a, kw, 0, UINT32_MAX, &u) < 0)
                return -1;
            h.cluster = (uint32_t)u;
        } else if (!strcasecmp(kw, "count")) {
            if (arg_uint(a, kw, 1, 1000, &count) < 0)
                return -1;
        } else {
            return fail(a, "unknown PROXY.FORGE option '%s' (use body, seq, lamport, cluster or count)", kw);
        }
    }
    if (!c->forge)
        return fail(a, "%s", "forging is not available here");
    h.type = (uint8_t)type;
    h.src = c->eng->nodes[from].id;
    h.dst = c->eng->nodes[to].id;
    int len = wire_encode(dgram, sizeof dgram, &h, body, blen, NULL);
    if (len < 0)
        return fail(a, "cannot encode: %s", wire_strerror(len));
    for (uint64_t i = 0; i < count; i++) {
        char e[ELEN];
        if (c->forge(c->arg, from, to, dgram, (size_t)len, e, sizeof e) < 0)
            return fail(a, "%s", e);
    }
    resp_put_int(out, (int64_t)count);
    return 0;
}

static void faults_json(buf *o, const proxy_faults *f)
{
    static const char *dists[] = {"uniform", "normal", "pareto"};
    static const char *wheres[] = {"any", "header", "body"};
    buf_printf(o, "\"blackhole\":%s,\"drop\":%g,\"duplicate\":%g,\"copies\":%u,"
                  "\"delay_ns\":%" PRIu64 ",\"jitter_ns\":%" PRIu64 ",\"dist\":\"%s\",\"alpha\":%g,"
                  "\"reorder\":%g,\"hold_ns\":%" PRIu64 ",\"corrupt\":%g,\"bits\":%u,\"where\":\"%s\","
                  "\"truncate\":%g,\"replay\":%g,\"after_ns\":%" PRIu64 ",\"rate\":%g,\"bandwidth\":%g",
               f->blackhole ? "true" : "false", f->drop, f->duplicate, f->copies, f->delay_ns,
               f->jitter_ns, dists[f->dist], f->alpha, f->reorder, f->hold_ns, f->corrupt, f->bits,
               wheres[f->where], f->truncate, f->replay, f->replay_after_ns, f->rate_msgs,
               f->rate_bytes);
}

static const char *node_or_any(const proxy_engine *e, int i)
{
    return i == PROXY_ANY ? "*" : e->nodes[i].name;
}

static void cmd_rules(proxy_ctl *c, buf *out)
{
    buf o;
    buf_init(&o);
    buf_puts(&o, "[");
    for (int k = 0; k < c->eng->nrules; k++) {
        const proxy_rule *r = &c->eng->rules[k];
        buf_printf(&o, "%s{\"from\":\"%s\",\"to\":\"%s\",", k ? "," : "",
                   node_or_any(c->eng, r->from), node_or_any(c->eng, r->to));
        if (r->type == PROXY_ANY)
            buf_puts(&o, "\"type\":\"*\",");
        else
            buf_printf(&o, "\"type\":%d,", r->type);
        faults_json(&o, &r->f);
        buf_puts(&o, "}");
    }
    buf_puts(&o, "]");
    resp_put_bulk(out, buf_ptr(&o), buf_size(&o));
    buf_free(&o);
}

void proxy_stats_json(proxy_ctl *c, buf *o)
{
    proxy_engine *e = c->eng;
    buf_printf(o, "{\"seed\":%" PRIu64 ",", e->seed);
    if (c->stats_extra)
        c->stats_extra(c->arg, o);
    buf_puts(o, "\"links\":[");
    int first = 1;
    for (int i = 0; i < e->nnodes; i++)
        for (int j = 0; j < e->nnodes; j++) {
            const proxy_link_stats *s = &proxy_link_at(e, i, j)->st;
            if (i == j && s->received == 0)
                continue;
            buf_printf(o, "%s{\"from\":\"%s\",\"to\":\"%s\",\"received\":%" PRIu64
                          ",\"forwarded\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"duplicated\":%" PRIu64
                          ",\"delayed\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"corrupted\":%" PRIu64
                          ",\"truncated\":%" PRIu64 ",\"replayed\":%" PRIu64 ",\"blackholed\":%" PRIu64
                          ",\"ratelimited\":%" PRIu64 ",\"send_errors\":%" PRIu64
                          ",\"overflow\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
                          ",\"partitioned\":%s}",
                       first ? "" : ",", e->nodes[i].name, e->nodes[j].name, s->received,
                       s->forwarded, s->dropped, s->duplicated, s->delayed, s->reordered,
                       s->corrupted, s->truncated, s->replayed, s->blackholed, s->ratelimited,
                       s->send_errors, s->overflow, s->bytes_in, s->bytes_out,
                       proxy_partitioned(e, i, j) ? "true" : "false");
            first = 0;
        }
    buf_puts(o, "]}");
}

static void cmd_info(proxy_ctl *c, buf *out)
{
    buf o;
    buf_init(&o);
    buf_printf(&o, "# faultproxy\r\nnodes:%d\r\nseed:%" PRIu64 "\r\nrules:%d\r\ntcp_listeners:%d\r\n",
               c->eng->nnodes, c->eng->seed, c->eng->nrules, c->ntcp);
    int part = 0;
    for (int i = 0; i < c->eng->nnodes; i++)
        part |= c->eng->group[i] != 0;
    buf_printf(&o, "partitioned:%d\r\n", part);
    if (c->info_extra)
        c->info_extra(c->arg, &o);
    resp_put_bulk(out, buf_ptr(&o), buf_size(&o));
    buf_free(&o);
}

int proxy_ctl_exec(proxy_ctl *c, int argc, char **argv, buf *out)
{
    args a = {.argc = argc, .i = 1, .argv = argv, .cmd = argc > 0 ? argv[0] : ""};
    if (argc < 1) {
        resp_put_error(out, "ERR empty command");
        return 0;
    }
    const char *cmd = argv[0];
    int rc = 0, changed = 0;
    if (!strcasecmp(cmd, "PING")) {
        if (argc > 2)
            rc = fail(&a, "%s", "PING takes at most one argument");
        else if (argc == 2)
            resp_put_bulk(out, argv[1], strlen(argv[1]));
        else
            resp_put_simple(out, "PONG");
    } else if (!strcasecmp(cmd, "INFO")) {
        cmd_info(c, out);
    } else if (!strcasecmp(cmd, "PROXY.RULE")) {
        rc = cmd_rule(c, &a, out);
        changed = 1;
    } else if (!strcasecmp(cmd, "PROXY.RULES")) {
        cmd_rules(c, out);
    } else if (!strcasecmp(cmd, "PROXY.PARTITION")) {
        rc = cmd_partition(c, &a, out);
        changed = 1;
    } else if (!strcasecmp(cmd, "PROXY.HEAL")) {
        if (argc != 1) {
            rc = fail(&a, "%s", "PROXY.HEAL takes no arguments");
        } else {
            proxy_heal(c->eng);
            resp_put_simple(out, "OK");
            changed = 1;
        }
    } else if (!strcasecmp(cmd, "PROXY.STATS")) {
        buf o;
        buf_init(&o);
        proxy_stats_json(c, &o);
        resp_put_bulk(out, buf_ptr(&o), buf_size(&o));
        buf_free(&o);
    } else if (!strcasecmp(cmd, "PROXY.SEED")) {
        uint64_t s;
        if (argc == 1) {
            resp_put_int(out, (int64_t)c->eng->seed);
        } else if (argc == 2 && arg_uint(&a, "seed", 0, INT64_MAX, &s) == 0) {
            proxy_engine_seed(c->eng, s);
            resp_put_simple(out, "OK");
            changed = 1;
        } else {
            rc = argc == 2 ? -1 : fail(&a, "%s", "usage: PROXY.SEED [seed]");
        }
    } else if (!strcasecmp(cmd, "PROXY.RESET")) {
        if (argc == 2 && !strcasecmp(argv[1], "stats")) {
            for (int i = 0; i < c->eng->nnodes * c->eng->nnodes; i++)
                memset(&c->eng->links[i].st, 0, sizeof c->eng->links[i].st);
            resp_put_simple(out, "OK");
        } else if (argc == 1) {
            proxy_engine_reset(c->eng);
            for (int i = 0; i < c->ntcp; i++) {
                memset(&c->tcp_rules[i], 0, sizeof c->tcp_rules[i]);
                if (c->tcp_changed)
                    c->tcp_changed(c->arg, i);
            }
            resp_put_simple(out, "OK");
            changed = 1;
        } else {
            rc = fail(&a, "%s", "usage: PROXY.RESET [stats]");
        }
    } else if (!strcasecmp(cmd, "PROXY.TCP")) {
        rc = cmd_tcp(c, &a, out);
        changed = 1;
    } else if (!strcasecmp(cmd, "PROXY.FORGE")) {
        rc = cmd_forge(c, &a, out);
    } else {
        char name[40];
        snprintf(name, sizeof name, "%.32s", cmd);
        rc = fail(&a, "unknown command '%s' (PING, INFO, PROXY.RULE, PROXY.RULES, PROXY.PARTITION, "
                      "PROXY.HEAL, PROXY.STATS, PROXY.SEED, PROXY.RESET, PROXY.TCP, PROXY.FORGE)",
                  name);
    }
    if (rc < 0) {
        /* RESP errors are one line: make sure user text cannot break it. */
        for (char *p = a.err; *p; p++)
            if (*p == '\r' || *p == '\n')
                *p = ' ';
        resp_put_error(out, "ERR %s", a.err);
        return 0;
    }
    return changed;
}
