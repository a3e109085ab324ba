/* report.c: report.html (see report.h). Plain HTML + inline SVG, written in
 * one pass; every plot shares the same time axis and the same nemesis
 * bands, so a failure can be read against the fault that caused it. */
#define _GNU_SOURCE
#include "report.h"
#include "results_auth.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "report_data.h"
#include "report_spacetime.h"
#ifdef RIFTLAB_HAVE_CHECKER
#include "checker/checker.h"
#endif

#define W 1100           /* plot width */
#define L 110            /* left margin (lane labels) */
#define R 20

typedef struct ctx {
    FILE *f;
    const scenario *s;
    const outcome *o;
    rdata d;
    int64_t t_end;
    int64_t win0, win1;  /* failing window, -1 if none */
} ctx;

static double X(const ctx *c, int64_t t) { return L + (double)t * W / (double)c->t_end; }

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static const char *band_color(const char *kind)
{
    if (!strcmp(kind, "partition")) return "#e8a33d";
    if (!strcmp(kind, "kill") || !strcmp(kind, "crash-stop")) return "#d64545";
    if (!strcmp(kind, "pause")) return "#8e6bd6";
    if (!strcmp(kind, "clock-skew")) return "#3d8ee8";
    if (!strcmp(kind, "link-faults")) return "#7a7a7a";
    if (!strcmp(kind, "forge")) return "#222222";   /* a one-shot mark */
    return "#3dbfa8";   /* slow */
}

static const char *type_color(int type)
{
    return type == 1 ? "#2e9e4f" : type == 2 ? "#d64545" : type == 3 ? "#e8a33d" : "#999";
}

/* Nemesis bands and the failing window over a plot area [y0, y0+h). */
static void bands(ctx *c, double y0, double h, int labels)
{
    for (size_t i = 0; i < c->d.nbands; i++) {
        rband *b = &c->d.bands[i];
        double x0 = X(c, b->t0), x1 = X(c, b->t1 >= 0 ? b->t1 : c->t_end);
        fprintf(c->f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' "
                      "fill-opacity='0.16'><title>", x0, y0, x1 - x0 < 1 ? 1 : x1 - x0, h,
                band_color(b->kind));
        esc(c->f, b->text);
        fprintf(c->f, " (%.2fs-%.2fs)</title></rect>\n", (double)b->t0 / 1e9,
                (double)(b->t1 >= 0 ? b->t1 : c->t_end) / 1e9);
        if (labels)
            fprintf(c->f, "<text x='%.1f' y='%.1f' font-size='10' fill='%s'>%s</text>\n", x0 + 2,
                    y0 + 10 + 11 * (double)(i % 3), band_color(b->kind), b->kind);
    }
    if (c->win0 >= 0)
        fprintf(c->f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' "
                      "stroke='#d00' stroke-width='2' stroke-dasharray='5,3'>"
                      "<title>failing window</title></rect>\n",
                X(c, c->win0), y0, fmax(2, X(c, c->win1) - X(c, c->win0)), h);
}

static void axis(ctx *c, double y)
{
    double secs = (double)c->t_end / 1e9;
    double step = secs > 120 ? 30 : secs > 40 ? 10 : secs > 15 ? 5 : secs > 4 ? 1 : 0.5;
    fprintf(c->f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#444'/>\n", L, y, L + W, y);
    for (double t = 0; t <= secs + 1e-9; t += step)
        fprintf(c->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>"
                      "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%gs</text>\n",
                X(c, (int64_t)(t * 1e9)), y, X(c, (int64_t)(t * 1e9)), y + 4,
                X(c, (int64_t)(t * 1e9)), y + 15, t);
}

static int lane_of(const ctx *c, int64_t p)
{
    int clients = c->s->workload.clients;
    if (p >= 100000)
        return clients + (int)((p - 100000) % 1000 % c->s->system.nodes);
    if (p == 99999)
        return -1;
    return (int)(p % clients);
}

static void timeline(ctx *c)
{
    int lanes = c->s->workload.clients + c->s->system.nodes, lh = 14;
    double h = lanes * lh;
    fprintf(c->f, "<h2>Operations per process</h2><p class='note'>One lane per client thread "
                  "(a process that ended in <i>info</i> continues in the same lane under a new id); "
                  "the last lanes are the final reads from each node. Bars run from invocation "
                  "to completion.</p>\n<svg width='%d' height='%.0f'>\n", L + W + R, h + 30);
    bands(c, 0, h, 1);
    for (int i = 0; i < lanes; i++)
        fprintf(c->f, "<text x='4' y='%d' font-size='10'>%s %d</text>\n", i * lh + 10,
                i < c->s->workload.clients ? "client" : "final n",
                i < c->s->workload.clients ? i : i - c->s->workload.clients + 1);
    for (size_t i = 0; i < c->d.nops; i++) {
        rop *o = &c->d.ops[i];
        int lane = lane_of(c, o->process);
        if (lane < 0)
            continue;
        double x0 = X(c, o->t0), x1 = X(c, o->t1 >= 0 ? o->t1 : c->t_end);
        fprintf(c->f, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'/>\n", x0,
                lane * lh + 2, fmax(1, x1 - x0), lh - 4, type_color(o->type));
    }
    axis(c, h + 4);
    fprintf(c->f, "</svg>\n");
}

static void latency(ctx *c)
{
    const double h = 260;
    double maxl = 1e-3;
    for (size_t i = 0; i < c->d.nops; i++)
        if (c->d.ops[i].t1 >= 0)
            maxl = fmax(maxl, (double)(c->d.ops[i].t1 - c->d.ops[i].t0) / 1e9);
    double lo = log10(1e-4), hi = log10(maxl) + 0.1;
    fprintf(c->f, "<h2>Latency</h2><p class='note'>Each operation at its invocation time, "
                  "latency on a log scale: <span style='color:#2e9e4f'>ok</span>, "
                  "<span style='color:#d64545'>fail</span>, <span style='color:#e8a33d'>info</span> "
                  "(timeouts sit at the top).</p>\n<svg width='%d' height='%.0f'>\n", L + W + R, h + 30);
    bands(c, 0, h, 1);
    for (double e = ceil(lo); e <= hi; e += 1) {
        double y = h - (e - lo) / (hi - lo) * h;
        fprintf(c->f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
                      "<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%gms</text>\n",
                L, y, L + W, y, L - 4, y + 3, pow(10, e) * 1000);
    }
    for (size_t i = 0; i < c->d.nops; i++) {
        rop *o = &c->d.ops[i];
        if (o->t1 < 0 || o->final)
            continue;
        double lat = fmax(1e-4, (double)(o->t1 - o->t0) / 1e9);
        double y = h - (log10(lat) - lo) / (hi - lo) * h;
        fprintf(c->f, "<circle cx='%.1f' cy='%.1f' r='1.8' fill='%s'/>\n", X(c, o->t0), y,
                type_color(o->type));
    }
    axis(c, h + 4);
    fprintf(c->f, "</svg>\n");
}

static void throughput(ctx *c)
{
    const double h = 140;
    int nb = (int)(c->t_end / 250000000) + 1;   /* 250 ms buckets */
    double *cnt = calloc((size_t)nb * 4, sizeof *cnt);
    if (!cnt)
        return;
    double maxc = 1;
    for (size_t i = 0; i < c->d.nops; i++) {
        rop *o = &c->d.ops[i];
        if (o->t1 < 0 || o->final)
            continue;
        int b = (int)(o->t1 / 250000000);
        cnt[b * 4 + o->type] += 4;   /* per second */
        maxc = fmax(maxc, cnt[b * 4 + o->type]);
    }
    fprintf(c->f, "<h2>Throughput</h2><p class='note'>Completions per second (250 ms buckets), "
                  "by outcome; peak %.0f/s.</p>\n<svg width='%d' height='%.0f'>\n", maxc,
            L + W + R, h + 30);
    bands(c, 0, h, 0);
    for (int t = 1; t <= 3; t++) {
        fprintf(c->f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", type_color(t));
        for (int b = 0; b < nb; b++)
            fprintf(c->f, "%.1f,%.1f ", X(c, (int64_t)b * 250000000 + 125000000),
                    h - cnt[b * 4 + t] / maxc * (h - 5));
        fprintf(c->f, "'/>\n");
    }
    axis(c, h + 4);
    fprintf(c->f, "</svg>\n");
    free(cnt);
}

static void roles(ctx *c)
{
    const inv_result *inv = &c->o->inv;
    int n = c->s->system.nodes, lh = 18;
    fprintf(c->f, "<h2>Node roles</h2>");
    if (!inv->nroles) {
        fprintf(c->f, "<p class='note'>No role events in the node traces.</p>\n");
        return;
    }
    fprintf(c->f, "<p class='note'>From the node traces: <span style='color:#2e9e4f'>leader</span>, "
                  "<span style='color:#e8a33d'>candidate</span>, <span style='color:#bbb'>follower"
                  "</span>, <span style='color:#333'>down</span>, <span style='color:#8e6bd6'>"
                  "paused/slow</span>; hover for the term.</p>\n<svg width='%d' height='%d'>\n", L + W + R,
            n * lh + 30);
    bands(c, 0, n * lh, 0);
    for (int i = 0; i < n; i++)
        fprintf(c->f, "<text x='4' y='%d' font-size='11'>n%d</text>\n", i * lh + 13, i + 1);
    for (size_t k = 0; k < inv->nroles; k++) {
        const inv_role *r = &inv->roles[k];
        int64_t t1 = c->t_end;
        for (size_t j = k + 1; j < inv->nroles; j++)
            if (inv->roles[j].node == r->node) {
                t1 = inv->roles[j].t0;
                break;
            }
        /* A role ends when its node is killed or paused. */
        char name[16];
        snprintf(name, sizeof name, "\"n%d\"", r->node + 1);
        for (size_t b = 0; b < c->d.nbands; b++) {
            const rband *bd = &c->d.bands[b];
            if ((!strcmp(bd->kind, "kill") || !strcmp(bd->kind, "crash-stop")) &&
                strstr(bd->text, name) && bd->t0 > r->t0 && bd->t0 < t1)
                t1 = bd->t0;
        }
        if (r->t0 < 0 || t1 <= r->t0)
            continue;
        const char *col = !strcmp(r->role, "leader") ? "#2e9e4f"
                          : !strcmp(r->role, "candidate") || !strcmp(r->role, "precandidate") ? "#e8a33d"
                                                                                             : "#bbb";
        fprintf(c->f, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'><title>n%d %s term %"
                      PRIu64 "</title></rect>\n", X(c, r->t0), r->node * lh + 3,
                fmax(1, X(c, t1 > c->t_end ? c->t_end : t1) - X(c, r->t0)), lh - 6, col,
                r->node + 1, r->role, r->term);
    }
    /* Down (killed) and stopped (paused) stretches of each node. */
    for (size_t b = 0; b < c->d.nbands; b++) {
        const rband *bd = &c->d.bands[b];
        int down = !strcmp(bd->kind, "kill") || !strcmp(bd->kind, "crash-stop");
        if (!down && strcmp(bd->kind, "pause") && strcmp(bd->kind, "slow"))
            continue;
        for (int i = 0; i < n; i++) {
            char name[16];
            snprintf(name, sizeof name, "\"n%d\"", i + 1);
            if (!strstr(bd->text, name))
                continue;
            int64_t e = bd->t1 >= 0 ? bd->t1 : c->t_end;
            fprintf(c->f, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s' "
                          "fill-opacity='0.85'><title>n%d %s</title></rect>\n",
                    X(c, bd->t0), i * lh + 3, fmax(1, X(c, e) - X(c, bd->t0)), lh - 6,
                    down ? "#333" : "#8e6bd6", i + 1, bd->kind);
        }
    }
    axis(c, n * lh + 4);
    fprintf(c->f, "</svg>\n");
}

/* Collect the history lines of evidence ops ("line", "end_line" inside
 * "window"/"stuck") of checks whose verdict is false. */
static void window_scan(ctx *c, json_t *v, int inside)
{
    if (json_is_object(v)) {
        json_t *ln = json_object_get(v, "line"), *el = json_object_get(v, "end_line");
        if (inside && json_is_integer(ln)) {
            size_t a = (size_t)json_integer_value(ln), b = json_is_integer(el) ? (size_t)json_integer_value(el) : a;
            if (a >= 1 && a <= c->d.nlines) {
                int64_t t0 = c->d.line_time[a - 1];
                int64_t t1 = b >= 1 && b <= c->d.nlines ? c->d.line_time[b - 1] : t0;
                if (c->win0 < 0 || t0 < c->win0)
                    c->win0 = t0;
                if (t1 > c->win1)
                    c->win1 = t1;
            }
        }
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) window_scan(c, x, inside || !strcmp(k, "window") || !strcmp(k, "stuck"));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) window_scan(c, x, inside);
    }
}

/* Under the verdict table, when invariants broke: which invariant, at
 * which term/index, and the guilty node, first violation of each kind. */
static void broken_invariants(ctx *c)
{
    json_t *v = json_object_get(c->o->inv.detail, "violations"), *x;
    if (c->o->inv.valid != 0 || !json_array_size(v))
        return;
    fprintf(c->f, "<div class='window'><b>Broken invariants</b> (guilty: ");
    json_t *g = json_object_get(c->o->inv.detail, "guilty"), *n;
    size_t i, j;
    json_array_foreach(g, i, n) {
        fprintf(c->f, "%s<b>", i ? ", " : "");
        esc(c->f, json_string_value(n) ?: "?");
        fprintf(c->f, "</b>");
    }
    fprintf(c->f, "%s)<ul>\n", json_array_size(g) ? "" : "not determined");
    json_array_foreach(v, i, x) {
        const char *inv = json_string_value(json_object_get(x, "invariant")) ?: "?";
        int seen = 0;
        for (j = 0; j < i && !seen; j++)
            seen = !strcmp(inv, json_string_value(json_object_get(json_array_get(v, j),
                                                                  "invariant")) ?: "");
        if (seen)
            continue;
        fprintf(c->f, "<li><b>");
        esc(c->f, inv);
        fprintf(c->f, "</b>");
        if (json_is_integer(json_object_get(x, "term")))
            fprintf(c->f, " term %" JSON_INTEGER_FORMAT,
                    json_integer_value(json_object_get(x, "term")));
        if (json_is_integer(json_object_get(x, "index")))
            fprintf(c->f, " index %" JSON_INTEGER_FORMAT,
                    json_integer_value(json_object_get(x, "index")));
        const char *who = json_string_value(json_object_get(x, "guilty"));
        if (who) {
            fprintf(c->f, ", guilty <b>");
            esc(c->f, who);
            fprintf(c->f, "</b>");
        }
        fprintf(c->f, ": ");
        esc(c->f, json_string_value(json_object_get(x, "detail")) ?: "");
        fprintf(c->f, "</li>\n");
    }
    fprintf(c->f, "</ul></div>\n");
}

static void verdicts(ctx *c)
{
    const outcome *o = c->o;
    const char *cls = o->exit_code == 0 ? "pass" : o->exit_code == 1 ? "fail" : "unknown";
    fprintf(c->f, "<div class='banner %s'>%s</div>\n", cls,
            o->exit_code == 0 ? "Every check gave the expected verdict"
            : o->exit_code == 1 ? "A check did NOT give the expected verdict"
                                : "A verdict is unknown (see the check details)");
    fprintf(c->f, "<table><tr><th>check</th><th>expected</th><th>got</th><th></th></tr>\n");
    static const char *const vt[] = {"false", "true", "unknown"};
    for (int k = 0; k < SCN_CHECK_COUNT; k++) {
        if (o->met[k] == -1)
            continue;
        fprintf(c->f, "<tr class='%s'><td>%s</td><td>%s</td><td><b>%s</b></td><td>%s</td></tr>\n",
                o->met[k] == 1 ? "pass" : o->met[k] == 2 ? "unknown" : "fail", scn_check_name(k),
                scn_expect_name(c->s->checks[k]), o->valid[k] >= 0 ? vt[o->valid[k]] : "-",
                o->met[k] == 1 ? "as expected" : o->met[k] == 2 ? "unknown" : "NOT as expected");
    }
    fprintf(c->f, "</table>\n");
    broken_invariants(c);
    if (c->win0 >= 0) {
        fprintf(c->f, "<p class='window'><b>Failing window:</b> %.3fs &ndash; %.3fs (dashed red "
                      "box in the plots). Faults active then: ", (double)c->win0 / 1e9,
                (double)c->win1 / 1e9);
        int any = 0;
        for (size_t i = 0; i < c->d.nbands; i++) {
            rband *b = &c->d.bands[i];
            int64_t e = b->t1 >= 0 ? b->t1 : c->t_end;
            if (b->t0 <= c->win1 && e >= c->win0) {
                fprintf(c->f, "%s<span style='color:%s'>", any++ ? "; " : "", band_color(b->kind));
                esc(c->f, b->text);
                fprintf(c->f, "</span> (%.2fs&ndash;%.2fs)", (double)b->t0 / 1e9, (double)e / 1e9);
            }
        }
        fprintf(c->f, "%s.</p>\n", any ? "" : "none (the failure is not caused by an active fault)");
    }
}

static void pre_file(FILE *f, const char *path, size_t max)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(f, "<p class='note'>(%s not found)</p>\n", strrchr(path, '/') + 1);
        return;
    }
    fprintf(f, "<pre>");
    char b[4096];
    size_t n, total = 0;
    while ((n = fread(b, 1, sizeof b - 1, in)) > 0 && total < max) {
        b[n] = 0;
        esc(f, b);
        total += n;
    }
    fprintf(f, "%s</pre>\n", total >= max ? "\n..." : "");
    fclose(in);
}

/* faultproxy's per-link counters as a table (links with no traffic left out). */
static void proxy_table(FILE *f, const char *path)
{
    fprintf(f, "<h2>Proxy statistics</h2>\n");
    json_t *j = json_load_file(path, 0, NULL);
    json_t *links = json_object_get(j, "links");
    if (!json_is_array(links) || !json_array_size(links)) {
        fprintf(f, "<p class='note'>(no proxy-stats.json)</p>\n");
        json_decref(j);
        return;
    }
    json_t *first = json_array_get(links, 0);
    const char *k;
    json_t *v;
    fprintf(f, "<table class='stats'><tr><th>link</th>");
    json_object_foreach(first, k, v) if (json_is_integer(v)) fprintf(f, "<th>%s</th>", k);
    fprintf(f, "</tr>\n");
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l) {
        if (!json_integer_value(json_object_get(l, "received")))
            continue;
        fprintf(f, "<tr><td>%s&rarr;%s</td>", json_string_value(json_object_get(l, "from")),
                json_string_value(json_object_get(l, "to")));
        json_object_foreach(first, k, v) if (json_is_integer(v))
            fprintf(f, "<td>%" JSON_INTEGER_FORMAT "</td>", json_integer_value(json_object_get(l, k)));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    json_decref(j);
}

#ifdef RIFTLAB_HAVE_CHECKER
/* The checker's own drawing of the failing window (linearizable/sequential). */
static void checker_svg(ctx *c, const char *dir)
{
    json_t *checks = json_object_get(c->o->results, "checks");
    int bad = 0;
    for (int k = 0; k < 2; k++)
        bad |= c->o->valid[k] == VERDICT_FALSE;
    if (!bad || !checks)
        return;
    char path[1200];
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        return;
    buf main;
    buf_init(&main);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        json_t *e = json_loadb(line, (size_t)n, 0, NULL);
        const char *key = e ? json_string_value(json_object_get(e, "key")) : NULL;
        if (e && !json_is_true(json_object_get(e, "final")) && !(key && !strcmp(key, "lock")))
            buf_append(&main, line, (size_t)n);
        json_decref(e);
    }
    free(line);
    fclose(in);
    history h;
    history_init(&h);
    char err[256];
    if (history_parse_jsonl(&h, buf_size(&main) ? buf_ptr(&main) : "", buf_size(&main),
                            "history.jsonl", err, sizeof err) == 0) {
        char *svg = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&svg, &len);
        if (m) {
            check_html_svg(m, &h, c->o->results);
            fclose(m);
            if (len)   /* the checker may have nothing to draw */
                fprintf(c->f, "<h2>The checker's failing window</h2>\n<div class='checker'>%s</div>\n",
                        svg);
            free(svg);
        }
    }
    history_free(&h);
    buf_free(&main);
}
#endif

int report_write(const char *dir, const scenario *s, const outcome *o)
{
    char path[1200];
    ctx c = {.s = s, .o = o, .win0 = -1, .win1 = -1};
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    if (report_data_load(path, &c.d) < 0)
        return -1;
    c.t_end = c.d.t_end > 0 ? c.d.t_end : 1;
    for (int k = 0; k < SCN_CHECK_COUNT; k++)
        if (o->valid[k] == VERDICT_FALSE)
            window_scan(&c, json_object_get(json_object_get(o->results, "checks"), scn_check_name(k)), 0);
    snprintf(path, sizeof path, "%s/report.html", dir);
    c.f = fopen(path, "w");
    if (!c.f) {
        report_data_free(&c.d);
        return -1;
    }
    FILE *f = c.f;
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>riftlab: ");
    esc(f, s->name);
    fprintf(f, "</title>\n<style>body{font-family:sans-serif;margin:20px;max-width:%dpx}"
               "h1{margin-bottom:0}h2{margin-top:28px;border-bottom:1px solid #ccc}"
               ".banner{font-size:22px;font-weight:bold;padding:10px 14px;margin:12px 0;color:#fff}"
               ".banner.pass{background:#2e9e4f}.banner.fail{background:#c62828}"
               ".banner.unknown{background:#e8a33d}table{border-collapse:collapse}"
               "td,th{border:1px solid #ccc;padding:3px 10px;text-align:left}"
               "table.stats td,table.stats th{font-size:11px;padding:1px 4px}"
               "tr.pass td:last-child{color:#2e9e4f}tr.fail td{background:#fde4e4}"
               "tr.fail td:last-child{color:#c62828;font-weight:bold}.note{color:#555;font-size:13px}"
               ".window{background:#fff3f3;border-left:4px solid #c62828;padding:8px}"
               "pre{background:#f6f6f6;padding:8px;font-size:12px;overflow:auto;max-height:400px}"
               ".meta{color:#444}</style></head><body>\n<h1>", L + W + R + 40);
    esc(f, s->name);
    fprintf(f, "</h1>\n<p class='meta'>");
    esc(f, s->description ? s->description : "");
    fprintf(f, "<br>%s, %d nodes, read %s; workload %s, %d clients; seed %" JSON_INTEGER_FORMAT
               "; %.1fs of history, %zu operations</p>\n",
            scn_system_name(s->system.kind), s->system.nodes, scn_read_name(s->system.read),
            scn_workload_name(s->workload.kind), s->workload.clients,
            json_integer_value(json_object_get(o->results, "seed")), (double)c.t_end / 1e9, c.d.nops);
    verdicts(&c);
    fprintf(f, "<p class='note'>Nemesis bands: ");
    static const char *const kinds[] = {"partition", "kill", "pause", "clock-skew", "link-faults",
                                        "slow", "forge"};
    for (size_t k = 0; k < 7; k++)
        fprintf(f, "<span style='background:%s;color:#fff;padding:1px 6px;margin-right:4px'>%s</span>",
                band_color(kinds[k]), kinds[k]);
    fprintf(f, "</p>\n");
    timeline(&c);
    latency(&c);
    throughput(&c);
    roles(&c);
    report_spacetime(f, dir, o->results, c.win0, c.win1);
#ifdef RIFTLAB_HAVE_CHECKER
    checker_svg(&c, dir);
#endif
    fprintf(f, "<h2>Check details</h2>\n<pre>");
    char *txt = json_dumps(json_object_get(o->results, "checks"), JSON_INDENT(1));
    if (txt && strlen(txt) > 20000)
        strcpy(txt + 20000, "\n...");
    esc(f, txt);
    free(txt);
    fprintf(f, "</pre>\n");
    snprintf(path, sizeof path, "%s/proxy-stats.json", dir);
    proxy_table(f, path);
    report_auth_table(f, json_object_get(o->results, "authentication"));
    fprintf(f, "<h2>Scenario as run</h2>\n");
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    pre_file(f, path, 20000);
    fprintf(f, "</body></html>\n");
    report_data_free(&c.d);
    return fclose(f);
}
