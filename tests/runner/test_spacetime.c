/* test_spacetime.c: node traces -> happens-before order, vector clocks,
 * ShiViz export and the report's SVG, on hand-made traces of three nodes:
 * matched and lost messages, a restarted node whose clock and sequence
 * numbers start again, a torn last line, and a message cycle. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <regex.h>

#include "runner/export_shiviz.h"
#include "runner/report_spacetime.h"
#include "runner/spacetime.h"

#define EV(t, node, rest) "{\"time\":" #t ",\"node\":\"" node "\",\"kind\":" rest "}\n"

/* n1 leads; its first append to n3 is lost. n3 restarts at run time 8000
 * (starts.json): its clock and seq start again, so n2 gets two `vote`
 * datagrams from n3 with seq 1, one per incarnation. n2's last line is torn. */
static const char *const N1 =
    EV(1000, "n1", "\"start\",\"system\":\"raft\"")
    EV(2000, "n1", "\"role\",\"role\":\"leader\",\"term\":2")
    EV(3000, "n1", "\"send\",\"to\":\"n2\",\"type\":\"append\",\"seq\":1,\"term\":2")
    EV(3100, "n1", "\"send\",\"to\":\"n3\",\"type\":\"append\",\"seq\":1,\"term\":2")
    EV(6000, "n1", "\"recv\",\"from\":\"n2\",\"type\":\"append-resp\",\"seq\":1,\"term\":2")
    EV(6100, "n1", "\"commit\",\"index\":1,\"term\":2,\"hash\":\"00000000000000ab\"")
    EV(8150, "n1", "\"send\",\"to\":\"n3\",\"type\":\"append\",\"seq\":2,\"term\":2");
static const char *const N2 =
    EV(1000, "n2", "\"start\",\"system\":\"raft\"")
    EV(2500, "n2", "\"recv\",\"from\":\"n3\",\"type\":\"vote\",\"seq\":1,\"term\":1")
    EV(4000, "n2", "\"recv\",\"from\":\"n1\",\"type\":\"append\",\"seq\":1,\"term\":2")
    EV(4100, "n2", "\"append\",\"first\":1,\"last\":1,\"term\":2")
    EV(5000, "n2", "\"send\",\"to\":\"n1\",\"type\":\"append-resp\",\"seq\":1,\"term\":2")
    EV(8300, "n2", "\"recv\",\"from\":\"n3\",\"type\":\"vote\",\"seq\":1,\"term\":3")
    "{\"time\":8400,\"node\":\"n2\",\"ki";
static const char *const N3 =
    EV(0, "n3", "\"start\",\"system\":\"raft\"")
    EV(100, "n3", "\"role\",\"role\":\"follower\",\"term\":1")
    EV(200, "n3", "\"send\",\"to\":\"n2\",\"type\":\"vote\",\"seq\":1,\"term\":1")
    EV(0, "n3", "\"start\",\"system\":\"raft\"")
    EV(100, "n3", "\"send\",\"to\":\"n2\",\"type\":\"vote\",\"seq\":1,\"term\":3")
    EV(200, "n3", "\"recv\",\"from\":\"n1\",\"type\":\"append\",\"seq\":2,\"term\":2");

static const int64_t n3_starts[] = {0, 8000};

static void load(st_trace *st)
{
    st_init(st);
    int64_t zero = 0;
    assert_int_equal(st_add_trace(st, "n1", N1, strlen(N1), &zero, 1), 0);
    assert_int_equal(st_add_trace(st, "n2", N2, strlen(N2), &zero, 1), 1);
    assert_int_equal(st_add_trace(st, "n3", N3, strlen(N3), n3_starts, 2), 2);
    st_build(st);
}

/* The event of lane `lane` whose description starts with `text`, at run time t. */
static const st_event *find(const st_trace *st, int lane, const char *text, int64_t t)
{
    for (size_t i = 0; i < st->nev; i++)
        if (st->ev[i].lane == lane && st->ev[i].t == t && !strncmp(st_text(st, &st->ev[i]), text, strlen(text)))
            return &st->ev[i];
    fail_msg("no %s event on lane %d at %lld", text, lane, (long long)t);
    return NULL;
}

static uint32_t vc(const st_trace *st, const st_event *e, int lane)
{
    return st->vc[(size_t)(e - st->ev) * (size_t)st->nlanes + (size_t)lane];
}

static void test_order_and_clocks(void **s)
{
    (void)s;
    st_trace st;
    load(&st);
    assert_int_equal(st.nev, 19);
    assert_int_equal(st.torn, 1);   /* n2's torn last line skipped */
    assert_int_equal(st.cut, 0);
    /* Every event placed exactly once; every lane in file order; every
     * matched send before its recv. */
    uint8_t seen[19] = {0};
    for (size_t n = 0; n < st.nev; n++) {
        assert_false(seen[st.order[n]]);
        seen[st.order[n]] = 1;
        assert_int_equal(st.ev[st.order[n]].pos, n);
    }
    for (size_t i = 0; i < st.nev; i++) {
        if (i && st.ev[i].lane == st.ev[i - 1].lane)
            assert_true(st.ev[i].pos > st.ev[i - 1].pos);
        if (st.ev[i].type == ST_RECV && st.ev[i].send >= 0)
            assert_true(st.ev[st.ev[i].send].pos < st.ev[i].pos);
    }
    /* The restart continues n3's line: run times from starts.json. */
    const st_event *late = find(&st, 2, "send to=n2 type=vote seq=1 term=3", 8100);
    assert_int_equal(late->inc, 1);
    /* Each recv of seq 1 from n3 got its own incarnation's send. */
    const st_event *r1 = find(&st, 1, "recv from=n3", 2500), *r2 = find(&st, 1, "recv from=n3", 8300);
    assert_ptr_equal(&st.ev[r1->send], find(&st, 2, "send", 200));
    assert_ptr_equal(&st.ev[r2->send], late);
    assert_int_equal(vc(&st, r1, 2), 3);
    assert_int_equal(vc(&st, r2, 2), 5);
    /* Lost: n1's first append to n3. */
    assert_int_equal(find(&st, 0, "send to=n3 type=append seq=1", 3100)->nrecv, 0);
    assert_int_equal(find(&st, 0, "send to=n2", 3000)->nrecv, 1);
    /* Clocks: own entry counts 1, 2, 3 ... per lane; a recv dominates its send. */
    uint32_t count[3] = {0};
    for (size_t n = 0; n < st.nev; n++) {
        const st_event *e = &st.ev[st.order[n]];
        assert_int_equal(vc(&st, e, e->lane), ++count[e->lane]);
        if (e->type == ST_RECV && e->send >= 0)
            for (int l = 0; l < 3; l++)
                assert_true(vc(&st, e, l) >= vc(&st, &st.ev[e->send], l));
    }
    st_free(&st);
}

static void two_nodes(st_trace *st, const char *n1, const int64_t *starts, int nstarts, const char *n2)
{
    st_init(st);
    assert_int_equal(st_add_trace(st, "n1", n1, strlen(n1), starts, nstarts), 0);
    assert_int_equal(st_add_trace(st, "n2", n2, strlen(n2), NULL, 0), 1);
    st_build(st);
}

static void test_match_across_restart(void **s)
{
    (void)s;
    /* n1 restarts at run time 10000 and reuses seq 0. n2's recv comes
     * 100 ns "before" the new send (incarnation start skew): it is still
     * that send's, not the old one's. A recv of another type matches none. */
    const char *a = EV(100, "n1", "\"send\",\"to\":\"n2\",\"type\":\"append\",\"seq\":0")
                    EV(0, "n1", "\"start\"")
                    EV(500, "n1", "\"send\",\"to\":\"n2\",\"type\":\"append\",\"seq\":0");
    const char *b = EV(10400, "n2", "\"recv\",\"from\":\"n1\",\"type\":\"append\",\"seq\":0")
                    EV(10600, "n2", "\"recv\",\"from\":\"n1\",\"type\":\"vote\",\"seq\":0");
    const int64_t starts[] = {0, 10000};
    st_trace st;
    two_nodes(&st, a, starts, 2, b);
    assert_int_equal(st.nev, 5);
    assert_int_equal(st.ev[3].send, 2);
    assert_int_equal(st.ev[4].send, -1);
    assert_int_equal(st.ev[0].nrecv, 0);   /* the old incarnation's send was lost */
    assert_true(st.ev[2].pos < st.ev[3].pos);
    st_free(&st);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static char *svg_of(const st_trace *st, const st_focus *fo, size_t max)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    st_svg_write(f, st, fo, max);
    fclose(f);
    return out;
}

/* Chain membership comes as `config` events: head and tail stretches
 * with their epoch; a run where nothing failed centres on the last head. */
static const char *const CHAIN_HEAD =
    EV(100, "n1", "\"config\",\"epoch\":2,\"role\":\"head\"")
    EV(300, "n1", "\"commit\",\"seq\":1,\"rid\":7");
static const char *const CHAIN_TAIL =
    EV(150, "n2", "\"config\",\"epoch\":2,\"role\":\"tail\"")
    EV(350, "n2", "\"commit\",\"seq\":1,\"rid\":7");

static void test_chain_roles(void **s)
{
    (void)s;
    st_trace st;
    two_nodes(&st, CHAIN_HEAD, NULL, 0, CHAIN_TAIL);
    st_focus fo;
    st_focus_of(&st, NULL, -1, -1, &fo);
    assert_int_equal(fo.center, 100);
    assert_non_null(strstr(fo.why, "last reconfiguration (n1 head in epoch 2"));
    char *svg = svg_of(&st, &fo, ST_SVG_EVENTS);
    assert_non_null(strstr(svg, "n1 head epoch 2</title>"));
    assert_non_null(strstr(svg, "n2 tail epoch 2</title>"));
    free(svg);
    st_free(&st);
}

static void test_cycle_is_cut(void **s)
{
    (void)s;
    /* Each node receives the other's datagram before sending its own:
     * impossible, so one edge must go for an order to exist. */
    const char *a = EV(1, "n1", "\"recv\",\"from\":\"n2\",\"type\":\"x\",\"seq\":1")
                    EV(2, "n1", "\"send\",\"to\":\"n2\",\"type\":\"x\",\"seq\":1");
    const char *b = EV(1, "n2", "\"recv\",\"from\":\"n1\",\"type\":\"x\",\"seq\":1")
                    EV(2, "n2", "\"send\",\"to\":\"n1\",\"type\":\"x\",\"seq\":1");
    st_trace st;
    two_nodes(&st, a, NULL, 0, b);
    assert_int_equal(st.nev, 4);
    assert_int_equal(st.cut, 1);
    for (size_t i = 0; i < st.nev; i++)
        if (st.ev[i].type == ST_RECV && st.ev[i].send >= 0)
            assert_true(st.ev[st.ev[i].send].pos < st.ev[i].pos);
    st_free(&st);
}

/* SHIVIZ_REGEX as ShiViz applies it (^...$), named groups made plain for
 * POSIX: host, clock, event are groups 1, 2, 3. */
static void compile_shiviz(regex_t *re, const char *named)
{
    char plain[512] = "^";
    size_t n = 1;
    for (const char *p = named; *p && n < sizeof plain - 2; p++) {
        if (!strncmp(p, "(?<", 3)) {
            plain[n++] = '(';
            p = strchr(p, '>');
            continue;
        }
        plain[n++] = *p;
    }
    plain[n++] = '$';
    plain[n] = 0;
    assert_int_equal(regcomp(re, plain, REG_EXTENDED), 0);
}

typedef struct xline {
    char host[16], text[256];
    json_t *clock;
} xline;

static void test_shiviz_export(void **s)
{
    (void)s;
    st_trace st;
    load(&st);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(shiviz_write(f, &st, "raft-x/20260101T000000Z", 0, INT64_MAX), 19);
    fclose(f);
    regex_t re, delim;
    compile_shiviz(&re, SHIVIZ_REGEX);
    compile_shiviz(&delim, SHIVIZ_DELIM);
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    assert_string_equal(line, SHIVIZ_REGEX);
    assert_string_equal(strtok_r(NULL, "\n", &save), SHIVIZ_DELIM);
    line = strtok_r(NULL, "\n", &save);
    regmatch_t m[4];
    assert_int_equal(regexec(&delim, line, 2, m, 0), 0);
    assert_int_equal(regexec(&re, line, 4, m, 0), REG_NOMATCH);   /* not read as an event */
    xline x[19];
    int nx = 0, lost = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        assert_true(nx < 19);
        assert_int_equal(regexec(&re, line, 4, m, 0), 0);
        /* ShiViz starts matching at the newline before an execution's
         * first line: the host must not take it in. */
        char nl_line[600];
        snprintf(nl_line, sizeof nl_line, "\n%s", line);
        assert_int_equal(regexec(&re, nl_line, 4, m, 0), REG_NOMATCH);
        snprintf(x[nx].host, sizeof x[nx].host, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
        snprintf(x[nx].text, sizeof x[nx].text, "%.*s", (int)(m[3].rm_eo - m[3].rm_so), line + m[3].rm_so);
        x[nx].clock = json_loadb(line + m[2].rm_so, (size_t)(m[2].rm_eo - m[2].rm_so), 0, NULL);
        assert_true(json_is_object(x[nx].clock));
        if (strstr(x[nx].text, " LOST")) {
            lost++;
            assert_non_null(strstr(x[nx].text, "send to=n3 type=append seq=1 "));
        }
        nx++;
    }
    assert_int_equal(nx, 19);
    assert_int_equal(lost, 1);
    /* ShiViz's rules: each host's own entry is 1, 2, 3, ... in log order;
     * other entries name events that exist; a recv dominates its send. */
    int own[3] = {0}, total[3] = {0};
    for (int i = 0; i < nx; i++)
        total[x[i].host[1] - '1']++;
    for (int i = 0; i < nx; i++) {
        int h = x[i].host[1] - '1';
        assert_int_equal(json_integer_value(json_object_get(x[i].clock, x[i].host)), ++own[h]);
        const char *k;
        json_t *v;
        json_object_foreach(x[i].clock, k, v) {
            assert_true(json_integer_value(v) >= 1);
            assert_true(json_integer_value(v) <= total[k[1] - '1']);
        }
        char from[8];
        unsigned seq;
        if (sscanf(x[i].text, "recv from=%7s type=%*s seq=%u", from, &seq) != 2)
            continue;
        /* Its send: the latest earlier line of `from` sending to us with that seq. */
        char want[64];
        snprintf(want, sizeof want, "send to=%.15s ", x[i].host);
        int sj = -1;
        for (int j = 0; j < i; j++) {
            unsigned sseq;
            if (!strcmp(x[j].host, from) && !strncmp(x[j].text, want, strlen(want)) &&
                sscanf(strstr(x[j].text, "seq="), "seq=%u", &sseq) == 1 && sseq == seq)
                sj = j;
        }
        assert_true(sj >= 0);
        json_object_foreach(x[sj].clock, k, v)
            assert_true(json_integer_value(json_object_get(x[i].clock, k)) >= json_integer_value(v));
    }
    for (int i = 0; i < nx; i++)
        json_decref(x[i].clock);
    /* A slice recomputes the clocks: own entries start at 1 again. */
    free(out);
    out = NULL;
    f = open_memstream(&out, &len);
    assert_int_equal(shiviz_write(f, &st, "slice", 5000, 6100), 3);
    fclose(f);
    assert_non_null(strstr(out, "n2 {\"n2\":1} send to=n1"));
    assert_non_null(strstr(out, "n1 {\"n1\":1, \"n2\":1} recv from=n2"));
    free(out);
    regfree(&re);
    regfree(&delim);
    st_free(&st);
}

static void test_svg(void **s)
{
    (void)s;
    st_trace st;
    load(&st);
    json_t *res = json_pack("{s:{s:{s:[{s:s,s:I,s:[s]},{s:I}]}}}", "checks", "invariants",
                            "violations", "invariant", "election safety", "time_ns", (json_int_t)4000,
                            "nodes", "n2", "time_ns", (json_int_t)9000);
    st_focus fo;
    st_focus_of(&st, res, 5000, 6000, &fo);
    assert_int_equal(fo.t0, 4000);
    assert_int_equal(fo.lane_mask, 2);
    char *svg = svg_of(&st, &fo, ST_SVG_EVENTS);
    assert_int_equal(count(svg, "class='lane'"), 3);
    assert_int_equal(count(svg, "class='msg'"), 5);   /* one arrow per matched message */
    assert_int_equal(count(svg, "class='cross'"), 1); /* the lost append */
    assert_int_equal(count(svg, "class='window'"), 1);
    /* The ring is on n2's lane (the second: y = 34 + 40 + 20) at its event at 4000. */
    assert_int_equal(count(svg, "class='ring'"), 1);
    assert_non_null(strstr(svg, "cy='94.0' r='7' class='ring'"));
    /* Arrows never point backwards. */
    for (const char *p = svg; (p = strstr(p, "<line x1=")); p++) {
        double x1, y1, x2, y2;
        char cls[8];
        if (sscanf(p, "<line x1='%lf' y1='%lf' x2='%lf' y2='%lf' class='%7[a-z]'", &x1, &y1, &x2, &y2, cls) == 5 &&
            !strcmp(cls, "msg"))
            assert_true(x2 > x1);
    }
    /* The leader's stretch is shaded; n3 went down before its restart. */
    assert_non_null(strstr(svg, "n1 leader term 2"));
    assert_int_equal(count(svg, ">down</text>"), 1);
    free(svg);
    /* A window with no event inside: each lane's next event is ringed. */
    st_focus gap = {.t0 = 4050, .t1 = 4060, .center = -1};
    svg = svg_of(&st, &gap, ST_SVG_EVENTS);
    assert_int_equal(count(svg, "class='window'"), 1);
    assert_int_equal(count(svg, "class='ring'"), 3);
    free(svg);
    /* No violation: the history window; neither: the last events. */
    st_focus_of(&st, NULL, 5000, 6000, &fo);
    assert_int_equal(fo.t0, 5000);
    assert_int_equal(fo.t1, 6000);
    assert_int_equal(fo.lane_mask, 0);
    /* Nothing failed: centred on the last election, nothing highlighted. */
    st_focus_of(&st, NULL, -1, -1, &fo);
    assert_true(fo.t0 < 0);
    assert_int_equal(fo.center, 2000);
    svg = svg_of(&st, &fo, 3);
    assert_non_null(strstr(svg, "around the last election (n1 leader in term 2"));
    assert_non_null(strstr(svg, "n1 role role=leader term=2 @0.000002s"));
    assert_non_null(strstr(svg, "Events 5&ndash;7 of 19"));
    assert_int_equal(count(svg, "class='window'"), 0);
    free(svg);
    /* No election either: the last events. */
    fo.center = -1;
    fo.why[0] = 0;
    svg = svg_of(&st, &fo, 5);
    assert_non_null(strstr(svg, "Events 15&ndash;19 of 19"));
    assert_int_equal(count(svg, "class='window'"), 0);
    free(svg);
    json_decref(res);
    st_free(&st);
}

static char dir[256];

static void test_run_dir_and_cli(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/rl-test-spacetime-%d", (int)getpid());
    char p[512], out[600];
    mkdir(dir, 0755);
    char *empty = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&empty, &len);
    report_spacetime(f, dir, NULL, -1, -1);   /* no nodes/: a note, no SVG */
    fclose(f);
    assert_non_null(strstr(empty, "No node traces"));
    assert_null(strstr(empty, "<svg"));
    free(empty);
    snprintf(p, sizeof p, "%s/nodes", dir);
    mkdir(p, 0755);
    const char *files[] = {"n1.trace.jsonl", "n2.trace.jsonl", "n3.trace.jsonl", "starts.json"};
    const char *texts[] = {N1, N2, N3, "{\"n1\":[0],\"n2\":[0],\"n3\":[0,8000]}"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/nodes/%s", dir, files[i]);
        FILE *tf = fopen(p, "w");
        assert_non_null(tf);
        assert_true(fputs(texts[i], tf) >= 0);
        fclose(tf);
    }
    st_trace st;
    st_init(&st);
    char err[256];
    assert_int_equal(st_load_run(&st, dir, err, sizeof err), 19);
    assert_int_equal(st.ev[find(&st, 2, "send to=n2 type=vote seq=1 term=3", 8100) - st.ev].inc, 1);
    st_free(&st);

    snprintf(out, sizeof out, "%s/run.shiviz", dir);
    char *ok[] = {"export", "--shiviz", dir, "-o", out, NULL};
    assert_int_equal(export_main(5, ok), 0);
    FILE *in = fopen(out, "r");
    assert_non_null(in);
    char first[256];
    assert_non_null(fgets(first, sizeof first, in));
    fclose(in);
    assert_string_equal(first, SHIVIZ_REGEX "\n");
    char *no_format[] = {"export", dir, NULL};
    assert_int_equal(export_main(2, no_format), 254);
    char *no_dir[] = {"export", "--shiviz", "/nonexistent/run", NULL};
    assert_int_equal(export_main(3, no_dir), 254);
    char *bad_from[] = {"export", "--shiviz", "--from", "soon", dir, NULL};
    assert_int_equal(export_main(5, bad_from), 254);

    unlink(out);
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/nodes/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/nodes", dir);
    rmdir(p);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_clocks),
        cmocka_unit_test(test_match_across_restart),
        cmocka_unit_test(test_chain_roles),
        cmocka_unit_test(test_cycle_is_cut),
        cmocka_unit_test(test_shiviz_export),
        cmocka_unit_test(test_svg),
        cmocka_unit_test(test_run_dir_and_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
