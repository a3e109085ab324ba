/* results_auth.c: the "authentication" section of results.json and the
 * Authentication table of report.html: per node, the datagrams it rejected
 * by reason (RIFT.STATUS `rejected`, collected into nodes/status.json at
 * the end of the run, before the nodes stop), its Byzantine mode, and what
 * the proxy did to the traffic towards it (corrupted, truncated, replayed;
 * proxy-stats.json); and the proxy's forged datagrams in total.
 *
 * RIFT.STATUS counts since the node's last start: a node restarted during
 * the run shows its last incarnation only, one down at the end shows null. */
#define _GNU_SOURCE
#include "results_auth.h"

#include <stdio.h>
#include <string.h>

static const char *const reasons[] = {"bad_tag", "missing_tag", "malformed", "wrong_cluster",
                                      "misdirected"};
#define NREASONS (sizeof reasons / sizeof reasons[0])

/* Counters may be reals (see cluster.c's node_status: huge terms). */
static json_int_t num(json_t *o, const char *k)
{
    return (json_int_t)json_number_value(json_object_get(o, k));
}

/* Sum of the proxy's counters `field` over the links towards node `to`. */
static json_int_t links_to(json_t *stats, const char *to, const char *field)
{
    json_int_t n = 0;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(stats, "links"), i, l)
        if (!strcmp(json_string_value(json_object_get(l, "to")) ?: "", to))
            n += num(l, field);
    return n;
}

json_t *results_auth(const char *dir, const scenario *s)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/nodes/status.json", dir);
    json_t *status = json_load_file(path, 0, NULL);
    snprintf(path, sizeof path, "%s/proxy-stats.json", dir);
    json_t *stats = json_load_file(path, 0, NULL);
    json_t *out = json_object(), *nodes = json_object();
    json_int_t total = 0, by_reason[NREASONS] = {0};
    for (int i = 0; i < s->system.nodes; i++) {
        char name[16];
        scn_node_name(i, name, sizeof name);
        json_t *st = json_object_get(status, name), *rej = json_object_get(st, "rejected");
        json_t *n = json_object();
        const char *byz = json_string_value(json_object_get(st, "byzantine"));
        if (!byz && s->system.byzantine[i] != SCN_BYZ_NONE)
            byz = scn_byz_names[s->system.byzantine[i]];
        json_object_set_new(n, "byzantine", byz ? json_string(byz) : json_null());
        if (json_is_object(rej)) {
            json_t *r = json_object();
            json_int_t sum = 0;
            for (size_t k = 0; k < NREASONS; k++) {
                json_int_t v = num(rej, reasons[k]);
                json_object_set_new(r, reasons[k], json_integer(v));
                sum += v, by_reason[k] += v;
            }
            json_object_set_new(n, "rejected", r);
            json_object_set_new(n, "rejected_total", json_integer(sum));
            total += sum;
        } else {
            json_object_set_new(n, "rejected", json_null());   /* down at the end */
            json_object_set_new(n, "rejected_total", json_null());
        }
        json_object_set_new(n, "proxy_corrupted", json_integer(links_to(stats, name, "corrupted")));
        json_object_set_new(n, "proxy_truncated", json_integer(links_to(stats, name, "truncated")));
        json_object_set_new(n, "proxy_replayed", json_integer(links_to(stats, name, "replayed")));
        json_object_set_new(nodes, name, n);
    }
    json_t *r = json_object();
    for (size_t k = 0; k < NREASONS; k++)
        json_object_set_new(r, reasons[k], json_integer(by_reason[k]));
    json_object_set_new(out, "auth", json_string(s->system.auth ? "hmac" : "none"));
    json_object_set_new(out, "nodes", nodes);
    json_object_set_new(out, "rejected", r);
    json_object_set_new(out, "rejected_total", json_integer(total));
    json_object_set_new(out, "proxy_forged", json_integer(num(stats, "forged")));
    json_object_set_new(out, "status_collected", json_boolean(status != NULL));
    json_decref(status);
    json_decref(stats);
    return out;
}

static void cell(FILE *f, json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "<td>%" JSON_INTEGER_FORMAT "</td>", json_integer_value(v));
    else
        fprintf(f, "<td>&ndash;</td>");
}

void report_auth_table(FILE *f, json_t *auth)
{
    if (!json_is_object(auth))
        return;
    fprintf(f, "<h2>Authentication</h2>\n<p class='note'>Links: <b>%s</b>. Datagrams each node "
               "rejected, by reason (RIFT.STATUS at the end of the run; &ndash;: the node was "
               "down), and what the proxy did to the traffic towards it. The proxy forged "
               "%" JSON_INTEGER_FORMAT " datagrams in all; the nodes rejected %"
               JSON_INTEGER_FORMAT ".</p>\n",
            json_string_value(json_object_get(auth, "auth")) ?: "?",
            json_integer_value(json_object_get(auth, "proxy_forged")),
            json_integer_value(json_object_get(auth, "rejected_total")));
    fprintf(f, "<table class='stats'><tr><th>node</th><th>byzantine</th>");
    for (size_t k = 0; k < NREASONS; k++)
        fprintf(f, "<th>%s</th>", reasons[k]);
    fprintf(f, "<th>rejected</th><th>proxy corrupted</th><th>truncated</th><th>replayed</th></tr>\n");
    const char *name;
    json_t *n;
    json_object_foreach(json_object_get(auth, "nodes"), name, n) {
        const char *byz = json_string_value(json_object_get(n, "byzantine"));
        /* Node names are n1..n9 and modes come from a fixed list: no escaping needed. */
        fprintf(f, "<tr%s><td>%s</td><td>%s</td>", byz ? " class='fail'" : "", name,
                byz ? byz : "honest");
        json_t *r = json_object_get(n, "rejected");
        for (size_t k = 0; k < NREASONS; k++)
            cell(f, json_object_get(r, reasons[k]));
        cell(f, json_object_get(n, "rejected_total"));
        cell(f, json_object_get(n, "proxy_corrupted"));
        cell(f, json_object_get(n, "proxy_truncated"));
        cell(f, json_object_get(n, "proxy_replayed"));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
}
