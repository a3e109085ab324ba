/* report_spacetime.c: the report's space-time diagram (see
 * report_spacetime.h).
 *
 * Layout: x is the event's position in the happens-before order
 * (spacetime.c), compressed into columns: walking the order, an event
 * joins the current column unless its lane already has an event there or
 * its send is there, else it opens the next column. Columns so stay in run
 * time order, concurrent events on different lanes share one, and an
 * arrow always points right (a recv is in a later column than its send). */
#define _GNU_SOURCE
#include "report_spacetime.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SV_L 70          /* left margin (lane names) */
#define SV_W 1100        /* plot width the columns are fitted into */
#define SV_TOP 34        /* time axis above the lanes */
#define SV_LANE 40       /* lane height */

/* The diagram being drawn: shown positions [p0, p1) of the order. */
typedef struct sv {
    FILE *f;
    const st_trace *st;
    const st_focus *fo;
    size_t p0, p1;
    uint32_t *col;       /* column of shown position p (index p - p0) */
    uint32_t ncols;
    double dx;
} sv;

static int shown(const sv *v, const st_event *e) { return e->pos >= v->p0 && e->pos < v->p1; }
static double sx(const sv *v, const st_event *e) { return SV_L + 10 + v->col[e->pos - v->p0] * v->dx; }
static double ly(int lane) { return SV_TOP + lane * SV_LANE + SV_LANE / 2.0; }

static void esc(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

/* Lanes named in a violation's "nodes": ["n1","n2"] or [1,2]. */
static uint64_t lanes_of(const st_trace *st, json_t *nodes)
{
    uint64_t m = 0;
    size_t i;
    json_t *x;
    json_array_foreach(nodes, i, x) {
        char name[24];
        if (json_is_integer(x))
            snprintf(name, sizeof name, "n%" JSON_INTEGER_FORMAT, json_integer_value(x));
        else
            snprintf(name, sizeof name, "%s", json_is_string(x) ? json_string_value(x) : "");
        for (int l = 0; l < st->nlanes; l++)
            if (!strcmp(st->lanes[l], name))
                m |= 1ull << l;
    }
    return m;
}

/* The earliest object with an integer "time_ns" under v. */
static json_t *first_violation(json_t *v, json_t *best)
{
    if (json_is_object(v)) {
        json_t *t = json_object_get(v, "time_ns");
        if (json_is_integer(t) &&
            (!best || json_integer_value(t) < json_integer_value(json_object_get(best, "time_ns"))))
            best = v;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) best = first_violation(x, best);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) best = first_violation(x, best);
    }
    return best;
}

void st_focus_of(const st_trace *st, json_t *results, int64_t win0, int64_t win1, st_focus *out)
{
    memset(out, 0, sizeof *out);
    out->t0 = out->t1 = out->center = -1;
    json_t *inv = json_object_get(json_object_get(results, "checks"), "invariants");
    json_t *v = first_violation(inv, NULL);
    if (v) {
        out->t0 = out->t1 = json_integer_value(json_object_get(v, "time_ns"));
        out->lane_mask = lanes_of(st, json_object_get(v, "nodes"));
        const char *what = json_string_value(json_object_get(v, "invariant"));
        if (!what)
            what = json_string_value(json_object_get(v, "what"));
        snprintf(out->why, sizeof out->why, "the first broken invariant%s%s, at %.3fs",
                 what ? ": " : "", what ? what : "", (double)out->t0 / 1e9);
    } else if (win0 >= 0) {
        out->t0 = win0;
        out->t1 = win1 >= win0 ? win1 : win0;
        snprintf(out->why, sizeof out->why, "the history checker's failing window, %.3fs to %.3fs",
                 (double)out->t0 / 1e9, (double)out->t1 / 1e9);
    } else {
        /* Nothing failed: the last election (Raft) or new head (chain
         * configuration) is more telling than the heartbeats at the end.
         * Not highlighted (why says so). */
        for (size_t n = st->nev; n-- > 0;) {
            const st_event *e = &st->ev[st->order[n]];
            int chain = !strcmp(e->kind, "config");
            if (strcmp(e->role, chain ? "head" : "leader"))
                continue;
            out->center = e->t;
            snprintf(out->why, sizeof out->why, "no broken invariant or failing window: "
                     "around the last %s (%s %s in %s %" PRIu64 " at %.3fs)",
                     chain ? "reconfiguration" : "election", st->lanes[e->lane], e->role,
                     chain ? "epoch" : "term", e->term, (double)e->t / 1e9);
            break;
        }
    }
}

/* Which stretch of the order to draw: max events around the focus. */
static void choose_range(sv *v, size_t max)
{
    const st_trace *st = v->st;
    size_t n = st->nev;
    if (v->fo->t0 < 0 && v->fo->center < 0) {
        v->p1 = n;
        v->p0 = n > max ? n - max : 0;
        return;
    }
    int64_t t0 = v->fo->t0 >= 0 ? v->fo->t0 : v->fo->center;
    size_t pa = st_pos_at(st, t0, v->fo->lane_mask), pb = pa;
    if (pa >= n)
        pa = pb = n ? n - 1 : 0;
    for (size_t p = pa; p < n; p++) {
        const st_event *e = &st->ev[st->order[p]];
        if (e->t > v->fo->t1)   /* only a highlighted window spans events */
            break;
        if (!v->fo->lane_mask || (v->fo->lane_mask >> e->lane & 1))
            pb = p;
    }
    size_t span = pb - pa + 1;
    /* A window longer than max: show its start, where things went wrong. */
    size_t before = span >= max ? max / 10 : (max - span) / 2;
    v->p0 = pa > before ? pa - before : 0;
    v->p1 = v->p0 + max < n ? v->p0 + max : n;
    if (v->p1 - v->p0 < max && v->p1 == n)
        v->p0 = n > max ? n - max : 0;
}

static void layout(sv *v)
{
    const st_trace *st = v->st;
    size_t m = v->p1 - v->p0;
    v->col = calloc(m + 1, sizeof *v->col);
    uint32_t *lane_col = calloc((size_t)st->nlanes + 1, sizeof *lane_col);
    if (!v->col || !lane_col)
        abort();
    uint32_t c = 0;
    for (size_t k = 0; k < m; k++) {
        const st_event *e = &st->ev[st->order[v->p0 + k]];
        int busy = lane_col[e->lane] == c + 1;   /* lane_col: column + 1, 0 = none */
        if (e->type == ST_RECV && e->send >= 0 && shown(v, &st->ev[e->send]) &&
            v->col[st->ev[e->send].pos - v->p0] >= c)
            busy = 1;
        if (busy && k)
            c++;
        v->col[k] = c;
        lane_col[e->lane] = c + 1;
    }
    v->ncols = c + 1;
    v->dx = fmin(24, fmax(3, (double)SV_W / v->ncols));
    free(lane_col);
}

static const char *role_fill(const char *role)
{
    if (!strcmp(role, "leader") || !strcmp(role, "head"))
        return "#2e9e4f";
    if (!strcmp(role, "candidate") || !strcmp(role, "precandidate"))
        return "#e8a33d";
    if (!strcmp(role, "tail"))   /* chain: where committed reads are served */
        return "#3d8ee8";
    return NULL;
}

/* The last event of its node's incarnation: the node stopped (was killed)
 * after it, or the trace ends. */
static int last_of_inc(const st_trace *st, const st_event *e)
{
    size_t i = (size_t)(e - st->ev);
    return i + 1 >= st->nev || st->ev[i + 1].lane != e->lane || st->ev[i + 1].inc != e->inc;
}

/* Leader / candidate stretches as lane backgrounds; a stretch ends at the
 * next role, or at the incarnation's last event (a killed leader is no
 * leader), where a restart follows, a "down" mark. */
static void roles(sv *v, double x_end)
{
    const st_trace *st = v->st;
    int nl = st->nlanes;
    const st_event **cur = calloc((size_t)nl + 1, sizeof *cur);
    double *x0 = calloc((size_t)nl + 1, sizeof *x0);
    if (!cur || !x0)
        abort();
    for (size_t p = 0; p < v->p0; p++) {   /* each lane's role when the view starts */
        const st_event *e = &st->ev[st->order[p]];
        if (e->role[0] || !strcmp(e->kind, "start") || last_of_inc(st, e))
            cur[e->lane] = e->role[0] && !last_of_inc(st, e) ? e : NULL;
    }
    for (int l = 0; l < nl; l++)
        x0[l] = SV_L;
    for (size_t p = v->p0; p <= v->p1; p++) {
        const st_event *e = p < v->p1 ? &st->ev[st->order[p]] : NULL;
        int dies = e && last_of_inc(st, e);
        if (e && !e->role[0] && strcmp(e->kind, "start") && !dies)
            continue;
        for (int l = 0; l < nl; l++) {
            if (e && e->lane != l)
                continue;
            double x1 = e ? sx(v, e) : x_end;
            const st_event *r = cur[l];
            if (dies && e->role[0])   /* a role taken just before it stopped */
                r = e, x0[l] = x1, x1 += 4;
            const char *fill = r ? role_fill(r->role) : NULL;
            if (fill && x1 > x0[l]) {
                int epoch = !strcmp(r->kind, "config");   /* chain: epochs, not terms */
                fprintf(v->f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='%s' "
                              "fill-opacity='0.18'><title>%s %s %s %" PRIu64 "</title></rect>\n",
                        x0[l], ly(l) - SV_LANE / 2.0 + 3, x1 - x0[l], SV_LANE - 6, fill, st->lanes[l],
                        r->role, epoch ? "epoch" : "term", r->term);
                if (x1 - x0[l] > 60)
                    fprintf(v->f, "<text x='%.1f' y='%.1f' font-size='9' fill='%s'>%s %s%" PRIu64
                                  "</text>\n", x0[l] + 3, ly(l) - SV_LANE / 2.0 + 12, fill,
                            r->role, epoch ? "e" : "t", r->term);
            }
            if (!e)
                continue;
            cur[l] = e->role[0] && !dies ? e : NULL;
            x0[l] = x1;
            size_t i = (size_t)(e - st->ev);
            if (dies && i + 1 < st->nev && st->ev[i + 1].lane == e->lane)
                fprintf(v->f, "<text x='%.1f' y='%.1f' font-size='9' fill='#333'>down</text>\n",
                        x1 + 5, ly(l) - 4);
        }
    }
    free(cur);
    free(x0);
}

static const char *dot_color(const st_event *e)
{
    static const struct { const char *kind, *color; } k[] = {
        {"send", "#666"}, {"recv", "#666"}, {"ack", "#aaa"}, {"reject", "#d00"},
        {"byz", "#000"}, {"vote", "#8e6bd6"}, {"commit", "#3d8ee8"}, {"apply", "#3d8ee8"},
        {"append", "#3d8ee8"}, {"receive", "#3d8ee8"}, {"snapshot", "#3d8ee8"}, {"start", "#000"},
    };
    if (e->role[0])
        return role_fill(e->role) ? role_fill(e->role) : "#888";
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        if (!strcmp(e->kind, k[i].kind))
            return k[i].color;
    return "#999";
}

/* Message arrows: both ends shown -> full arrow; lost -> stub and cross;
 * the other end outside the view -> dashed stub. */
static void messages(sv *v, size_t *lost, size_t *arrows)
{
    const st_trace *st = v->st;
    for (size_t p = v->p0; p < v->p1; p++) {
        const st_event *e = &st->ev[st->order[p]];
        double x = sx(v, e), y = ly(e->lane);
        if (e->type == ST_RECV && e->send >= 0 && shown(v, &st->ev[e->send])) {
            const st_event *s = &st->ev[e->send];
            fprintf(v->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='msg' "
                          "marker-end='url(#st-arrow)'/>\n", sx(v, s), ly(s->lane), x, y);
            (*arrows)++;
        } else if (e->type == ST_RECV) {   /* from outside the view, or no send traced */
            /* Red: its sender is traced but never sent it (forged, or
             * unmatched); grey: from outside the view or an untraced node. */
            double yf = e->peer >= 0 ? ly(e->peer) : y - SV_LANE / 2.0;
            fprintf(v->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='%s'/>\n",
                    x - 14, y + (yf - y) * 0.35, x, y, e->send < 0 && e->peer >= 0 ? "orphan" : "stub");
        } else if (e->type == ST_SEND && e->peer >= 0) {
            double ye = y + (ly(e->peer) - y) * 0.35, xe = x + 14;
            int any_shown = 0;
            for (size_t q = p + 1; q < v->p1 && !any_shown && e->nrecv; q++) {
                const st_event *r = &st->ev[st->order[q]];
                any_shown = r->type == ST_RECV && r->send == (int32_t)st->order[p];
            }
            if (e->nrecv == 0) {
                (*lost)++;
                fprintf(v->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='lost'/>"
                              "<path d='M%.1f %.1fl6 6m0 -6l-6 6' class='cross'/>\n",
                        x, y, xe, ye, xe - 3, ye - 3);
            } else if (!any_shown) {
                fprintf(v->f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='stub'/>\n", x, y, xe, ye);
            }
        }
    }
}

static void axis(sv *v, double x_end)
{
    const st_trace *st = v->st;
    double next = SV_L;
    for (size_t p = v->p0; p < v->p1; p++) {
        const st_event *e = &st->ev[st->order[p]];
        double x = sx(v, e);
        if (x < next)
            continue;
        fprintf(v->f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#aaa'/><text x='%.1f' "
                      "y='%d' font-size='9' text-anchor='middle' fill='#555'>%.3fs</text>\n",
                x, SV_TOP - 6, x, SV_TOP - 2, x, SV_TOP - 10, (double)e->t / 1e9);
        next = x + 90;
    }
    for (int l = 0; l < st->nlanes; l++)
        fprintf(v->f, "<line x1='%d' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#bbb'/>"
                      "<text x='6' y='%.1f' font-size='12' font-weight='bold' class='lane'>%s</text>\n",
                SV_L, ly(l), x_end, ly(l), ly(l) + 4, st->lanes[l]);
}

/* Is the event part of the highlight? pass 0: inside [t0, t1]; pass 1
 * (nothing inside, e.g. a window shorter than the gap between events):
 * each lane's first event at or after t0. */
static int in_focus(const st_focus *fo, const st_event *e, int pass, uint64_t *taken)
{
    if (fo->lane_mask && !(fo->lane_mask >> e->lane & 1))
        return 0;
    if (pass == 0)
        return e->t >= fo->t0 && e->t <= fo->t1;
    if (e->t < fo->t0 || (*taken >> e->lane & 1))
        return 0;
    *taken |= 1ull << e->lane;
    return 1;
}

/* The highlighted window: a box over the columns of the focus events, and
 * a ring around each of them when they are few enough to pick out. */
static void highlight(sv *v)
{
    const st_focus *fo = v->fo;
    if (fo->t0 < 0)
        return;
    const st_trace *st = v->st;
    double xa = -1, xb = -1;
    size_t n = 0;
    int pass = 0;
    for (; pass < 2 && !n; pass++) {
        uint64_t taken = 0;
        for (size_t p = v->p0; p < v->p1; p++) {
            const st_event *e = &st->ev[st->order[p]];
            if (!in_focus(fo, e, pass, &taken))
                continue;
            double x = sx(v, e);
            xa = n++ ? fmin(xa, x) : x;
            xb = fmax(xb, x);
        }
    }
    if (!n)
        return;
    fprintf(v->f, "<rect x='%.1f' y='%d' width='%.1f' height='%d' class='window'><title>",
            xa - 6, SV_TOP, xb - xa + 12, st->nlanes * SV_LANE);
    esc(v->f, fo->why);
    fprintf(v->f, "</title></rect>\n");
    if (n > 20)
        return;
    uint64_t taken = 0;
    for (size_t p = v->p0; p < v->p1; p++) {
        const st_event *e = &st->ev[st->order[p]];
        if (in_focus(fo, e, pass - 1, &taken))
            fprintf(v->f, "<circle cx='%.1f' cy='%.1f' r='7' class='ring'/>\n", sx(v, e), ly(e->lane));
    }
}

static void dots(sv *v)
{
    const st_trace *st = v->st;
    for (size_t p = v->p0; p < v->p1; p++) {
        const st_event *e = &st->ev[st->order[p]];
        double x = sx(v, e), y = ly(e->lane);
        int big = e->role[0] || e->type == ST_LOCAL;
        if (!strcmp(e->kind, "start"))
            fprintf(v->f, "<rect x='%.1f' y='%.1f' width='4' height='%d' fill='#000'>", x - 2,
                    y - SV_LANE / 2.0 + 4, SV_LANE - 8);
        else
            fprintf(v->f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s'%s>", x, y, big ? 3.6 : 2.4,
                    dot_color(e), !strcmp(e->kind, "byz") ? " stroke='#d00' stroke-width='2'" : "");
        fprintf(v->f, "<title>%s ", st->lanes[e->lane]);
        esc(v->f, st_text(st, e));
        fprintf(v->f, " @%.6fs%s</title></%s>\n", (double)e->t / 1e9,
                e->type == ST_SEND && !e->nrecv ? " (lost)" : e->type == ST_RECV && e->send < 0 ? " (no send traced)" : "",
                !strcmp(e->kind, "start") ? "rect" : "circle");
    }
}

void st_svg_write(FILE *f, const st_trace *st, const st_focus *focus, size_t max_events)
{
    fprintf(f, "<h2>Space-time diagram</h2>\n");
    if (!st->nev) {
        fprintf(f, "<p class='note'>No events in the node traces.</p>\n");
        return;
    }
    sv v = {.f = f, .st = st, .fo = focus};
    choose_range(&v, max_events ? max_events : ST_SVG_EVENTS);
    layout(&v);
    double x_end = SV_L + 20 + (v.ncols - 1) * v.dx;
    const st_event *a = &st->ev[st->order[v.p0]], *b = &st->ev[st->order[v.p1 - 1]];
    fprintf(f, "<p class='note'>From the node traces: one line per node, events left to right in "
               "happens-before order (concurrent events share a column; the time axis is not "
               "linear), messages as arrows from send to receive, "
               "<span style='color:#d00'>&times;</span> a message never received (lost or "
               "dropped), dashed stubs a message whose other end is outside the view, "
               "<span style='color:#2e9e4f'>leader</span> and <span style='color:#e8a33d'>"
               "candidate</span> (chain: <span style='color:#2e9e4f'>head</span> and "
               "<span style='color:#3d8ee8'>tail</span>) stretches shaded, black bars a "
               "(re)start, red dashed stubs a receive whose send is in no trace. Events "
               "%zu&ndash;%zu of %zu (%.3fs&ndash;%.3fs); ", v.p0 + 1, v.p1, st->nev,
            (double)a->t / 1e9, (double)b->t / 1e9);
    if (focus->t0 >= 0)
        fprintf(f, "highlighted (red box, rings): ");
    esc(f, focus->why[0] ? focus->why : "no broken invariant or failing window: the run's last events");
    fprintf(f, ". Hover a dot for the event; <code>riftlab export --shiviz</code> gives the "
               "whole run for ShiViz.%s</p>\n",
            st->torn || st->cut ? " Some trace lines were torn or messages could not be "
                                  "matched consistently; they are drawn without arrows." : "");
    fprintf(f, "<div style='overflow-x:auto'><svg class='spacetime' width='%.0f' height='%d'>\n"
               "<defs><marker id='st-arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' "
               "markerHeight='6' orient='auto-start-reverse'><path d='M0 0L10 5L0 10z' fill='#777'/>"
               "</marker></defs>\n<style>.spacetime .msg{stroke:#777;stroke-width:1}"
               ".spacetime .stub{stroke:#999;stroke-dasharray:3,2}.spacetime .orphan{stroke:#d00;"
               "stroke-dasharray:2,2}.spacetime .lost{stroke:#d00}.spacetime .cross{stroke:#d00;"
               "stroke-width:2;fill:none}.spacetime .ring{fill:none;stroke:#d00;stroke-width:2}"
               ".spacetime .window{fill:#d00;fill-opacity:0.07;stroke:#d00;stroke-width:1.5;"
               "stroke-dasharray:5,3}</style>\n",
            x_end + 20, SV_TOP + st->nlanes * SV_LANE + 10);
    size_t lost = 0, arrows = 0;
    roles(&v, x_end);
    axis(&v, x_end);
    highlight(&v);
    messages(&v, &lost, &arrows);
    dots(&v);
    fprintf(f, "</svg></div>\n<p class='note'>In view: %zu messages delivered, %zu lost.</p>\n",
            arrows, lost);
    free(v.col);
}

void report_spacetime(FILE *f, const char *dir, json_t *results, int64_t win0, int64_t win1)
{
    st_trace st;
    st_init(&st);
    char err[256];
    if (st_load_run(&st, dir, err, sizeof err) < 0) {
        fprintf(f, "<h2>Space-time diagram</h2>\n<p class='note'>No node traces (");
        esc(f, err);
        fprintf(f, ").</p>\n");
    } else {
        st_focus fo;
        st_focus_of(&st, results, win0, win1, &fo);
        st_svg_write(f, &st, &fo, ST_SVG_EVENTS);
    }
    st_free(&st);
}
