/* check_html.c: the HTML evidence page of a checked history.
 *
 * One self-contained page (inline CSS and SVG, no fetches): a lane per
 * process, each operation a bar from its invocation to its completion
 * (info and pending ones run to the end, hatched), the failing window of a
 * non-linearizable key shaded red with the op that could not be passed
 * outlined, and the longest linearizable prefix numbered in the order the
 * search found. x is the event time when the history has times, else the
 * event's position (line order, which is real-time order). Large histories
 * are cut to the failing key and a window around the failure. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checker.h"

#define LANE_H 34
#define LEFT 70
#define TOP 30
#define MAX_OPS 400

static void html_text(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '<') fputs("&lt;", out);
        else if (c == '>') fputs("&gt;", out);
        else if (c == '&') fputs("&amp;", out);
        else if (c == '"') fputs("&quot;", out);
        else fputc(c, out);
    }
}

static void html_value(FILE *out, const history *h, uint32_t id)
{
    if (id)
        html_text(out, h->vals[id].text, h->vals[id].len);
}

static int64_t op_json_index(const json_t *op)
{
    const json_t *v = json_object_get(op, "op");
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

typedef struct layout {
    bool times;
    double x0, scale;       /* x = LEFT + (t - x0) * scale */
    size_t first_ev, last_ev;
} layout;

static double ev_x(const history *h, const layout *L, uint32_t ev)
{
    double t = L->times ? (double)h->ev[ev].time : (double)ev;
    return LEFT + (t - L->x0) * L->scale;
}

void check_html_svg(FILE *out, const history *h, const json_t *result)
{
    hist_op *ops = NULL;
    size_t nops = 0;
    char err[256];
    if (h->nev == 0) {
        fputs("<p>(empty history)</p>\n", out);
        return;
    }
    if (history_ops(h, &ops, &nops, err, sizeof err) != 0) {
        fprintf(out, "<p>cannot draw: ");
        html_text(out, err, strlen(err));
        fputs("</p>\n", out);
        return;
    }
    const json_t *lin = json_object_get(json_object_get(result, "checks"), "linearizable");
    int64_t stuck = op_json_index(json_object_get(lin, "stuck"));
    /* Marks per op: order in the prefix (1-based), in the failing window. */
    int32_t *order = calloc(nops + 1, sizeof *order);
    bool *inwin = calloc(nops + 1, 1);
    size_t i;
    const json_t *op;
    json_array_foreach(json_object_get(lin, "prefix"), i, op) {
        int64_t k = op_json_index(op);
        if (k >= 0 && (size_t)k < nops)
            order[k] = (int32_t)i + 1;
    }
    json_array_foreach(json_object_get(lin, "window"), i, op) {
        int64_t k = op_json_index(op);
        if (k >= 0 && (size_t)k < nops)
            inwin[k] = true;
    }
    /* Which ops to draw: the failing key's, near the failure if many. */
    uint32_t key = stuck >= 0 ? ops[stuck].key : 0;
    size_t lo_ev = 0, hi_ev = h->nev ? h->nev - 1 : 0;
    size_t count = 0;
    for (size_t k = 0; k < nops; k++)
        count += !key || ops[k].key == key;
    if (count > MAX_OPS && stuck >= 0) {
        size_t c = ops[stuck].inv, cnt = 0;
        lo_ev = c;
        for (size_t k = (size_t)stuck + 1; k-- > 0 && cnt < MAX_OPS * 3 / 4;)
            if (!key || ops[k].key == key)
                lo_ev = ops[k].inv, cnt++;
        hi_ev = ops[stuck].cmp != HIST_NO_COMPLETION ? ops[stuck].cmp : c;
        for (size_t k = (size_t)stuck; k < nops && cnt < MAX_OPS; k++)
            if (!key || ops[k].key == key)
                hi_ev = ops[k].cmp != HIST_NO_COMPLETION ? ops[k].cmp : ops[k].inv, cnt++;
    } else if (count > MAX_OPS) {
        hi_ev = 0;
        for (size_t k = 0, cnt = 0; k < nops && cnt < MAX_OPS; k++)
            if (!key || ops[k].key == key)
                hi_ev = ops[k].cmp != HIST_NO_COMPLETION ? ops[k].cmp : ops[k].inv, cnt++;
    }
    layout L = {true, 0, 1, lo_ev, hi_ev};
    for (size_t e = lo_ev; e <= hi_ev && e < h->nev; e++)
        L.times &= h->ev[e].time != HIST_NO_TIME;
    double t0 = L.times ? (double)h->ev[lo_ev].time : (double)lo_ev;
    double t1 = L.times ? (double)h->ev[hi_ev].time : (double)hi_ev;
    double width = 1300 - LEFT;
    if (!L.times && (t1 - t0) * 8 > width)
        width = (t1 - t0) * 8; /* at least 8 px per event */
    L.x0 = t0;
    L.scale = t1 > t0 ? width / (t1 - t0 + (L.times ? 0 : 1)) : 1;
    /* Lanes: processes in order of first appearance among drawn ops. */
    int64_t *lanes = malloc((nops + 1) * sizeof *lanes);
    size_t nl = 0;
    int32_t *lane_of = malloc((nops + 1) * sizeof *lane_of);
    for (size_t k = 0; k < nops; k++) {
        lane_of[k] = -1;
        if ((key && ops[k].key != key) || ops[k].inv < lo_ev || ops[k].inv > hi_ev)
            continue;
        size_t l = 0;
        while (l < nl && lanes[l] != ops[k].process)
            l++;
        if (l == nl)
            lanes[nl++] = ops[k].process;
        lane_of[k] = (int32_t)l;
    }
    double W = LEFT + width + 40, H = TOP + (double)nl * LANE_H + 30;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" class=\"timeline\">\n", W, H);
    fputs("<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ddd\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/></pattern></defs>\n", out);
    for (size_t l = 0; l < nl; l++) {
        double y = TOP + (double)l * LANE_H;
        fprintf(out, "<rect x=\"0\" y=\"%.0f\" width=\"%.0f\" height=\"%d\" fill=\"%s\"/>", y, W, LANE_H,
                l % 2 ? "#f6f7f9" : "#ffffff");
        fprintf(out, "<text x=\"8\" y=\"%.0f\" class=\"lane\">p%" PRId64 "</text>\n", y + LANE_H / 2 + 4, lanes[l]);
    }
    /* The failing window: from the earliest candidate's call to the stuck op's return. */
    if (stuck >= 0) {
        double wx0 = ev_x(h, &L, ops[stuck].inv);
        for (size_t k = 0; k < nops; k++)
            if (inwin[k] && lane_of[k] >= 0 && ev_x(h, &L, ops[k].inv) < wx0)
                wx0 = ev_x(h, &L, ops[k].inv);
        double wx1 = ops[stuck].cmp != HIST_NO_COMPLETION ? ev_x(h, &L, ops[stuck].cmp) : LEFT + width;
        fprintf(out, "<rect id=\"fail\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.0f\" class=\"window\"/>\n",
                wx0 - 3, TOP - 18, wx1 - wx0 + 6, (double)nl * LANE_H + 22);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"wlabel\">failing window: no linearization passes here</text>\n",
                wx0, TOP - 6);
    }
    for (size_t k = 0; k < nops; k++) {
        if (lane_of[k] < 0)
            continue;
        const hist_op *o = &ops[k];
        const hist_event *inv = &h->ev[o->inv];
        double x0 = ev_x(h, &L, o->inv);
        double x1 = o->cmp != HIST_NO_COMPLETION && o->type != HIST_INFO ? ev_x(h, &L, o->cmp) : LEFT + width;
        if (x1 - x0 < 4)
            x1 = x0 + 4;
        double y = TOP + lane_of[k] * LANE_H + 6;
        const char *cls = (int64_t)k == stuck ? "stuck" : inwin[k] ? "cand" : order[k] ? "lin"
                        : o->type == HIST_FAIL ? "failed" : o->type == HIST_INFO ? "info" : "ok";
        fprintf(out, "<g class=\"%s\"><title>", cls);
        html_text(out, "", 0);
        fprintf(out, "p%" PRId64 " ", o->process);
        html_value(out, h, inv->fname);
        fputc(' ', out);
        html_value(out, h, inv->value);
        if (o->f == HIST_F_READ && o->type == HIST_OK) {
            fputs(" -&gt; ", out);
            html_value(out, h, o->ret);
        }
        fprintf(out, " %s, line %u", o->cmp == HIST_NO_COMPLETION ? "pending" : history_type_name(o->type), inv->line);
        if (order[k])
            fprintf(out, ", linearized #%d", order[k]);
        fprintf(out, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"3\"/>", x0, y, x1 - x0,
                LANE_H - 12);
        /* Label: f and values, when the bar is wide enough. */
        if (x1 - x0 > 34) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x0 + 3, y + 15);
            if (order[k])
                fprintf(out, "#%d ", order[k]);
            const hist_value *fv = &h->vals[inv->fname];
            html_text(out, fv->kind == HIST_V_STRING ? fv->str : fv->text, fv->kind == HIST_V_STRING ? fv->slen : fv->len);
            fputc(' ', out);
            if (o->f == HIST_F_READ)
                html_value(out, h, o->type == HIST_OK ? o->ret : HIST_ABSENT);
            else
                html_value(out, h, inv->value);
            fputs("</text>", out);
        } else if (order[k]) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"num\">%d</text>", x0, y - 1, order[k]);
        }
        fputs("</g>\n", out);
    }
    /* Nemesis events: a line across the lanes. */
    for (size_t e = lo_ev; e <= hi_ev && e < h->nev; e++) {
        if (!h->ev[e].pname)
            continue;
        double x = ev_x(h, &L, (uint32_t)e);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\" class=\"nemesis\"><title>", x, TOP, x,
                TOP + (double)nl * LANE_H);
        html_value(out, h, h->ev[e].fname);
        fputc(' ', out);
        html_value(out, h, h->ev[e].value);
        fputs("</title></line>\n", out);
    }
    fprintf(out, "<text x=\"%d\" y=\"%.0f\" class=\"axis\">%s &#8594;</text>\n", LEFT, H - 8,
            L.times ? "time" : "history order (line)");
    fputs("</svg>\n", out);
    free(order);
    free(inwin);
    free(lanes);
    free(lane_of);
    free(ops);
}

static const char CSS[] =
    "body{font:14px system-ui,sans-serif;margin:16px;color:#222}"
    "h1{font-size:18px;margin:0 0 6px}.verdict{font-weight:bold}.false{color:#c00}.true{color:#070}"
    ".unknown{color:#a60}pre{background:#f4f4f4;padding:8px;overflow:auto;font-size:12px}"
    ".scroll{overflow-x:auto;border:1px solid #ccc}svg text{font:11px monospace}.lane{font-weight:bold}"
    "g.ok rect{fill:#9ec5e8;stroke:#4a7fb0}g.lin rect{fill:#a8dba8;stroke:#3c8d3c}"
    "g.info rect{fill:url(#hatch);stroke:#888}g.failed rect{fill:#eee;stroke:#bbb;stroke-dasharray:3 2}"
    "g.cand rect{fill:#ffb3a7;stroke:#d9534f}g.stuck rect{fill:#ff6b5b;stroke:#900;stroke-width:3}"
    ".window{fill:rgba(255,0,0,.10);stroke:#e00;stroke-width:2;stroke-dasharray:6 3}"
    ".wlabel{fill:#c00;font-weight:bold}.num{fill:#2a6a2a}.nemesis{stroke:#a0a;stroke-width:2;stroke-dasharray:2 2}"
    ".legend span{display:inline-block;padding:1px 6px;margin-right:6px;border:1px solid #888;font-size:12px}";

int check_html_page(FILE *out, const history *h, const json_t *result)
{
    const json_t *file = json_object_get(result, "file"), *valid = json_object_get(result, "valid");
    const char *vw = json_is_true(valid) ? "true" : json_is_false(valid) ? "false" : "unknown";
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>riftlab check: ", out);
    html_text(out, json_string_value(file), strlen(json_string_value(file)));
    fprintf(out, "</title><style>%s</style></head><body>\n<h1>", CSS);
    html_text(out, json_string_value(file), strlen(json_string_value(file)));
    fprintf(out, "</h1>\n<p>valid: <span class=\"verdict %s\">%s</span>", vw, vw);
    const char *k;
    json_t *c;
    json_object_foreach(json_object_get(result, "checks"), k, c) {
        const json_t *v = json_object_get(c, "valid");
        const char *w = json_is_true(v) ? "true" : json_is_false(v) ? "false" : "unknown";
        fprintf(out, " &nbsp; %s: <span class=\"verdict %s\">%s</span>", k, w, w);
    }
    fprintf(out, " &nbsp; model %s, %lld ops</p>\n", json_string_value(json_object_get(result, "model")),
            (long long)json_integer_value(json_object_get(result, "ops")));
    fputs("<p class=\"legend\"><span style=\"background:#a8dba8\">#n linearized (order found)</span>"
          "<span style=\"background:#ffb3a7\">could not be linearized</span>"
          "<span style=\"background:#ff6b5b\">op whose completion no order passes</span>"
          "<span style=\"background:#9ec5e8\">ok</span><span style=\"background:#ddd\">info / pending</span>"
          "<span style=\"background:#eee\">failed (ignored)</span></p>\n<div class=\"scroll\" id=\"scroll\">\n", out);
    check_html_svg(out, h, result);
    fputs("</div>\n<pre>", out);
    char *text = NULL;
    size_t n = 0;
    FILE *t = open_memstream(&text, &n);
    if (t) {
        check_print_text(t, h, result);
        fclose(t);
        html_text(out, text, n);
        free(text);
    }
    fputs("</pre>\n<script>var f=document.getElementById('fail');"
          "if(f){var s=document.getElementById('scroll');var b=f.getBBox();"
          "s.scrollLeft=Math.max(0,b.x-s.clientWidth/2+b.width/2);}</script>\n</body></html>\n", out);
    return ferror(out) ? -1 : 0;
}
