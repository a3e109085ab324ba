/* test_invariants.c: the trace invariant checker (checker/invariants.h) on
 * hand-made run directories: each invariant holding and broken, the guilty
 * node named from the evidence, torn and malformed lines, run-time
 * placement of incarnations, the result's shape and the CLI's exit codes. */
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

#include "checker/invariants.h"

static char dir[64];
static char files[16][32];   /* names written under nodes/, for cleanup */
static int nfiles;

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/rl-inv-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/nodes", dir);
    nfiles = 0;
    return mkdir(p, 0755);
}

static int teardown(void **st)
{
    (void)st;
    char p[640]; /* gcc -O2 bounds files[i] by the whole array */
    for (int i = 0; i < nfiles; i++) {
        snprintf(p, sizeof p, "%s/nodes/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/nodes", dir);
    rmdir(p);
    rmdir(dir);
    return 0;
}

static void put(const char *name, const char *text)
{
    char p[160];
    snprintf(p, sizeof p, "%s/nodes/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    for (int i = 0; i < nfiles; i++)
        if (!strcmp(files[i], name))
            return;
    snprintf(files[nfiles++], sizeof files[0], "%s", name);
}

/* A trace of node `node`: lines "TIME KIND FIELDS" joined by '|', e.g.
 * "10 role \"role\":\"leader\",\"term\":2|20 apply ...". */
static void trace(const char *node, const char *spec)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char *copy = strdup(spec), *save = NULL;
    for (char *l = strtok_r(copy, "|", &save); l; l = strtok_r(NULL, "|", &save)) {
        long long t;
        char kind[32];
        int off = 0;
        assert_int_equal(sscanf(l, "%lld %31s %n", &t, kind, &off), 2);
        fprintf(m, "{\"time\":%lld,\"node\":\"%s\",\"kind\":\"%s\"%s%s}\n", t, node, kind,
                l[off] ? "," : "", l + off);
    }
    fclose(m);
    free(copy);
    char name[32];
    snprintf(name, sizeof name, "%s.trace.jsonl", node);
    put(name, text);
    free(text);
}

static inv_result check(void)
{
    inv_result r;
    char err[256];
    assert_int_equal(inv_check_run(dir, &r, err, sizeof err), 0);
    return r;
}

static json_t *verdict(const inv_result *r, const char *inv)
{
    return json_object_get(json_object_get(json_object_get(r->detail, "invariants"), inv), "valid");
}

/* The first violation of invariant inv (NULL if none). */
static json_t *violation(const inv_result *r, const char *inv)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r->detail, "violations"), i, v)
        if (!strcmp(json_string_value(json_object_get(v, "invariant")), inv))
            return v;
    return NULL;
}

static const char *guilty(const inv_result *r, const char *inv)
{
    json_t *v = violation(r, inv);
    assert_non_null(v);
    return json_string_value(json_object_get(v, "guilty"));
}

/* A healthy three-node Raft run: n1 leads term 1, everyone stores and
 * applies entries 1-3, acks are backed. */
static void honest_raft(void)
{
    trace("n1", "1 start \"system\":\"raft\"|10 vote \"for\":1,\"term\":1|"
                "20 role \"role\":\"leader\",\"term\":1,\"leader\":1|"
                "30 append \"first\":1,\"last\":3,\"term\":1|"
                "40 ack \"from\":\"n2\",\"term\":1,\"match\":3|41 ack \"from\":\"n3\",\"term\":1,\"match\":3|"
                "50 commit \"index\":3,\"term\":1,\"hash\":\"00000000000000c3\"|"
                "51 apply \"index\":1,\"term\":1,\"hash\":\"00000000000000c1\"|"
                "52 apply \"index\":2,\"term\":1,\"hash\":\"00000000000000c2\"|"
                "53 apply \"index\":3,\"term\":1,\"hash\":\"00000000000000c3\"");
    for (int i = 2; i <= 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        trace(name, "1 start \"system\":\"raft\"|11 vote \"for\":1,\"term\":1|"
                    "21 role \"role\":\"follower\",\"term\":1,\"leader\":1|"
                    "35 append \"first\":1,\"last\":3,\"term\":1|"
                    "55 apply \"index\":1,\"term\":1,\"hash\":\"00000000000000c1\"|"
                    "56 apply \"index\":2,\"term\":1,\"hash\":\"00000000000000c2\"|"
                    "57 apply \"index\":3,\"term\":1,\"hash\":\"00000000000000c3\"");
    }
}

static void test_honest_raft(void **st)
{
    (void)st;
    honest_raft();
    inv_result r = check();
    assert_int_equal(r.valid, 1);
    const char *all[] = {"election_safety", "vote_once", "log_matching", "leader_completeness",
                         "state_machine_safety", "acked_stored"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_true(json_is_true(verdict(&r, all[i])));
    assert_string_equal(json_string_value(json_object_get(r.detail, "system")), "raft");
    assert_int_equal(json_array_size(json_object_get(r.detail, "violations")), 0);
    assert_int_equal(r.nroles, 3);
    assert_string_equal(r.roles[0].role, "leader");
    assert_int_equal(r.roles[0].node, 0);
    inv_result_free(&r);
}

/* n3 votes for n1 and n2 in term 2; both become leader. */
static void test_double_vote(void **st)
{
    (void)st;
    honest_raft();
    trace("n1", "10 vote \"for\":1,\"term\":2|20 role \"role\":\"leader\",\"term\":2,\"leader\":1");
    trace("n2", "11 vote \"for\":2,\"term\":2|25 role \"role\":\"leader\",\"term\":2,\"leader\":2");
    trace("n3", "12 vote \"for\":1,\"term\":2|13 vote \"for\":2,\"term\":2|14 vote \"for\":2,\"term\":2|"
                "30 role \"role\":\"follower\",\"term\":2,\"leader\":2");
    inv_result r = check();
    assert_int_equal(r.valid, 0);
    assert_true(json_is_false(verdict(&r, "election_safety")));
    assert_string_equal(guilty(&r, "election_safety"), "n3");
    assert_string_equal(guilty(&r, "vote_once"), "n3");
    json_t *v = violation(&r, "election_safety");
    assert_int_equal(json_integer_value(json_object_get(v, "term")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "time_ns")), 25);
    assert_string_equal(json_string_value(json_array_get(json_object_get(v, "nodes"), 0)), "n1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(v, "nodes"), 1)), "n2");
    /* one violation per node and term, however many votes */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
                         r.detail, "invariants"), "vote_once"), "violations")), 1);
    /* no entries in these traces: nothing to match */
    assert_null(verdict(&r, "log_matching"));
    json_t *na = json_object_get(r.detail, "not_applicable");
    int listed = 0;
    size_t i;
    json_t *x;
    json_array_foreach(na, i, x) listed |= !strcmp(json_string_value(x), "log_matching");
    assert_true(listed);
    inv_result_free(&r);
}

/* Leader n1 of term 2 sends n2 and n3 different entries at index 5 (n3's
 * apply is the one that shows it, on a line with a forged huge clock). */
static void test_equivocation(void **st)
{
    (void)st;
    trace("n1", "20 role \"role\":\"leader\",\"term\":2,\"leader\":1|"
                "60 apply \"index\":5,\"term\":2,\"hash\":\"9f1c000000000001\"");
    trace("n2", "21 role \"role\":\"follower\",\"term\":2,\"leader\":1|"
                "61 apply \"index\":5,\"term\":2,\"hash\":\"9f1c000000000001\"");
    trace("n3", "22 role \"role\":\"follower\",\"term\":2,\"leader\":1|"
                "62 commit \"index\":5,\"term\":2,\"hash\":\"77ab000000000002\"|"
                "63 apply \"lamport\":18446744073709551615,\"vc\":{\"n1\":18446744073709551615},"
                "\"index\":5,\"term\":2,\"hash\":\"77ab000000000002\"");
    inv_result r = check();
    /* clocks above 2^63 (a forged datagram's) do not make a line unreadable */
    assert_int_equal(json_integer_value(json_object_get(r.detail, "malformed_lines")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.detail, "torn_lines")), 0);
    assert_int_equal(r.valid, 0);
    assert_true(json_is_true(verdict(&r, "election_safety")));
    assert_string_equal(guilty(&r, "log_matching"), "n1");
    assert_string_equal(guilty(&r, "state_machine_safety"), "n1");
    json_t *v = violation(&r, "log_matching");
    assert_int_equal(json_integer_value(json_object_get(v, "index")), 5);
    assert_int_equal(json_integer_value(json_object_get(v, "term")), 2);
    const char *d = json_string_value(json_object_get(v, "detail"));
    assert_non_null(strstr(d, "log matching broken at index 5 (term 2)"));
    assert_non_null(strstr(d, "9f1c"));
    assert_non_null(strstr(d, "77ab"));
    assert_non_null(strstr(d, "(guilty: n1)"));
    json_t *g = json_object_get(r.detail, "guilty");
    assert_int_equal(json_array_size(g), 1);
    assert_string_equal(json_string_value(json_array_get(g, 0)), "n1");
    inv_result_free(&r);
    /* Without authentication a received entry proves nothing against the
     * leader: the links may have altered it. */
    trace("n1", "1 start \"system\":\"raft\",\"auth\":\"none\"|"
                "20 role \"role\":\"leader\",\"term\":2,\"leader\":1|"
                "60 apply \"index\":5,\"term\":2,\"hash\":\"9f1c000000000001\"");
    r = check();
    assert_int_equal(r.valid, 0);
    assert_true(json_is_null(json_object_get(violation(&r, "log_matching"), "guilty")));
    assert_non_null(strstr(json_string_value(json_object_get(violation(&r, "log_matching"), "detail")),
                           "unproven"));
    assert_int_equal(json_array_size(json_object_get(r.detail, "guilty")), 0);
    inv_result_free(&r);
}

/* Logs that agree at (3, term 3) but hold entries of different terms at 2. */
static void test_prefix(void **st)
{
    (void)st;
    trace("n1", "5 role \"role\":\"leader\",\"term\":3,\"leader\":1|"
                "10 commit \"index\":2,\"term\":1,\"hash\":\"00000000000000a1\"|"
                "11 commit \"index\":3,\"term\":3,\"hash\":\"00000000000000a3\"");
    trace("n2", "12 commit \"index\":2,\"term\":2,\"hash\":\"00000000000000b2\"|"
                "13 commit \"index\":3,\"term\":3,\"hash\":\"00000000000000a3\"");
    inv_result r = check();
    assert_int_equal(r.valid, 0);
    json_t *v = violation(&r, "log_matching");
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "index")), 2);
    assert_non_null(strstr(json_string_value(json_object_get(v, "detail")), "prefix"));
    assert_string_equal(guilty(&r, "log_matching"), "n1");
    inv_result_free(&r);
}

/* n3 acknowledges entries it never stores (it keeps writing other events
 * long after, so nothing died unflushed); n1 commits index 2 counting it; the next
 * leader n2, which never had index 2, applies something else there. */
static void test_lie_append(void **st)
{
    (void)st;
    trace("n1", "10 role \"role\":\"leader\",\"term\":1,\"leader\":1|"
                "20 append \"first\":1,\"last\":2,\"term\":1|"
                "30 ack \"from\":\"n3\",\"term\":1,\"match\":2|"
                "31 commit \"index\":2,\"term\":1,\"hash\":\"00000000000000a2\"|"
                "32 apply \"index\":2,\"term\":1,\"hash\":\"00000000000000a2\"");
    trace("n2", "11 role \"role\":\"follower\",\"term\":1,\"leader\":1|"
                "21 append \"first\":1,\"last\":1,\"term\":1|"
                "100 role \"role\":\"leader\",\"term\":2,\"leader\":2|"
                "110 append \"first\":2,\"last\":2,\"term\":2|"
                "120 commit \"index\":2,\"term\":2,\"hash\":\"00000000000000b2\"|"
                "121 apply \"index\":2,\"term\":2,\"hash\":\"00000000000000b2\"");
    trace("n3", "12 role \"role\":\"follower\",\"term\":1,\"leader\":1|"
                "101 role \"role\":\"follower\",\"term\":2,\"leader\":2|"
                "900000000 role \"role\":\"follower\",\"term\":2,\"leader\":2");
    inv_result r = check();
    assert_int_equal(r.valid, 0);
    assert_true(json_is_false(verdict(&r, "acked_stored")));
    assert_string_equal(guilty(&r, "acked_stored"), "n3");
    json_t *v = violation(&r, "acked_stored");
    assert_int_equal(json_integer_value(json_object_get(v, "index")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "time_ns")), 30);
    /* the lost entry: its loss is blamed on the liar */
    assert_string_equal(guilty(&r, "state_machine_safety"), "n3");
    assert_string_equal(guilty(&r, "leader_completeness"), "n3");
    inv_result_free(&r);
}

/* Acks that cannot be judged are not accusations: the follower's last
 * events may have died unflushed, or it recovered entries from disk. */
static void test_ack_unverifiable(void **st)
{
    (void)st;
    trace("n1", "10 role \"role\":\"leader\",\"term\":1,\"leader\":1|"
                "20 append \"first\":1,\"last\":9,\"term\":1|"
                "30 ack \"from\":\"n2\",\"term\":1,\"match\":9|"
                "300 ack \"from\":\"n3\",\"term\":1,\"match\":8|"
                "310 ack \"from\":\"n3\",\"term\":1,\"match\":9");
    /* n2 was killed soon after acking: its trace ends within the flush
     * margin (events may have died unflushed). */
    trace("n2", "11 role \"role\":\"follower\",\"term\":1,\"leader\":1|"
                "100000000 role \"role\":\"follower\",\"term\":1,\"leader\":1");
    /* n3 restarted (time goes back) and recovered 1..8 from disk; it then
     * appended 9 itself. */
    trace("n3", "12 role \"role\":\"follower\",\"term\":1,\"leader\":1|"
                "5 start \"system\":\"raft\"|305 append \"first\":9,\"last\":9,\"term\":1|"
                "900000000 role \"role\":\"follower\",\"term\":1,\"leader\":1");
    /* n3's second incarnation starts at run time 0 + ... : give starts */
    put("starts.json", "{\"n1\":[0],\"n2\":[0],\"n3\":[0,200]}");
    inv_result r = check();
    assert_true(json_is_true(verdict(&r, "acked_stored")));
    assert_int_equal(r.valid, 1);
    inv_result_free(&r);
}

/* A chain n1 -> n2 -> n3 where n2 forwards seqs 2 and 3 swapped. */
static void test_chain_reorder(void **st)
{
    (void)st;
    const char *good = "10 commit \"seq\":1,\"rid\":281474976710657|"
                       "11 commit \"seq\":2,\"rid\":281474976710658|"
                       "12 commit \"seq\":3,\"rid\":281474976710659";
    char spec[512];
    snprintf(spec, sizeof spec, "1 start \"system\":\"chain\"|%s", good);
    trace("n1", spec);
    trace("n2", spec);
    trace("n3", "1 start \"system\":\"chain\"|20 commit \"seq\":1,\"rid\":281474976710657");
    inv_result r = check();
    assert_int_equal(r.valid, 1);
    assert_true(json_is_true(verdict(&r, "chain_order")));
    assert_string_equal(json_string_value(json_object_get(r.detail, "system")), "chain");
    inv_result_free(&r);
    trace("n3", "1 start \"system\":\"chain\"|20 commit \"seq\":1,\"rid\":281474976710657|"
                "21 commit \"seq\":2,\"rid\":281474976710659|"
                "22 commit \"seq\":3,\"rid\":281474976710658");
    r = check();
    assert_int_equal(r.valid, 0);
    assert_string_equal(guilty(&r, "chain_order"), "n2");
    json_t *v = violation(&r, "chain_order");
    assert_int_equal(json_integer_value(json_object_get(v, "seq")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "time_ns")), 21);
    inv_result_free(&r);
    /* With a configuration whose chain is n3 -> n2 -> n1, n3 is upstream:
     * n2 differs from it, so n3 forwarded the other order. */
    trace("n1", "1 start \"system\":\"chain\"|5 config \"epoch\":2,\"members\":[3,2,1],\"role\":\"tail\"|"
                "10 commit \"seq\":1,\"rid\":281474976710657|"
                "11 commit \"seq\":2,\"rid\":281474976710658");
    trace("n2", "1 start \"system\":\"chain\"|11 commit \"seq\":2,\"rid\":281474976710658");
    trace("n3", "1 start \"system\":\"chain\"|21 commit \"seq\":2,\"rid\":281474976710659");
    r = check();
    assert_string_equal(guilty(&r, "chain_order"), "n3");
    inv_result_free(&r);
}

/* Seq 2 acknowledged in epoch 1; epoch 2 = [n2, n3]; n2 never has it but
 * commits seq 3; n3 has no evidence either way (not judged). */
static void test_chain_lost_ack(void **st)
{
    (void)st;
    trace("n1", "10 commit \"seq\":1,\"rid\":11|11 commit \"seq\":2,\"rid\":12");
    trace("n2", "10 commit \"seq\":1,\"rid\":11|50 config \"epoch\":2,\"members\":[2,3],\"role\":\"head\"|"
                "60 receive \"seq\":3,\"rid\":13|70 commit \"seq\":3,\"rid\":13");
    trace("n3", "10 commit \"seq\":1,\"rid\":11|51 config \"epoch\":2,\"members\":[2,3],\"role\":\"tail\"");
    inv_result r = check();
    assert_int_equal(r.valid, 0);
    assert_true(json_is_false(verdict(&r, "chain_acked_kept")));
    assert_string_equal(guilty(&r, "chain_acked_kept"), "n2");
    json_t *v = violation(&r, "chain_acked_kept");
    assert_int_equal(json_integer_value(json_object_get(v, "seq")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "epoch")), 2);
    inv_result_free(&r);
    /* A snapshot past it counts as having it. */
    trace("n2", "10 commit \"seq\":1,\"rid\":11|50 config \"epoch\":2,\"members\":[2,3],\"role\":\"head\"|"
                "55 snapshot \"seq\":2|60 receive \"seq\":3,\"rid\":13|70 commit \"seq\":3,\"rid\":13");
    r = check();
    assert_int_equal(r.valid, 1);
    inv_result_free(&r);
}

static void test_torn_and_malformed(void **st)
{
    (void)st;
    honest_raft();
    /* a torn last line, and a torn line with the next incarnation glued on */
    put("n2.trace.jsonl",
        "{\"time\":21,\"node\":\"n2\",\"kind\":\"role\",\"role\":\"follower\",\"term\":1,\"leader\":1}\n"
        "{\"time\":35,\"node\":\"n2\",\"kind\":\"append\",\"first\":1,\"last\":3,\"term\":1}\n"
        "{\"time\":36,\"node\":\"n2\",\"ki{\"time\":2,\"node\":\"n2\",\"kind\":\"start\"}\n"
        "{\"time\":5,\"node\":\"n2\",\"kind\":\"role\",\"role\":\"follower\",\"term\":1,\"leader\":1}\n"
        "{\"time\":7,\"node\":\"n2\",\"kind\":\"ap");
    inv_result r = check();
    assert_int_equal(r.valid, 1);
    assert_int_equal(json_integer_value(json_object_get(r.detail, "torn_lines")), 2);
    json_t *n2 = json_object_get(json_object_get(r.detail, "nodes"), "n2");
    assert_int_equal(json_integer_value(json_object_get(n2, "incarnations")), 2);
    inv_result_free(&r);
    /* garbage in the middle of a file: reported, verdict unknown */
    put("n3.trace.jsonl",
        "{\"time\":21,\"node\":\"n3\",\"kind\":\"role\",\"role\":\"follower\",\"term\":1,\"leader\":1}\n"
        "not json at all\n"
        "{\"time\":35,\"node\":\"n3\",\"kind\":\"append\",\"first\":1,\"last\":3,\"term\":1}\n");
    r = check();
    assert_int_equal(r.valid, 2);
    assert_int_equal(json_integer_value(json_object_get(r.detail, "malformed_lines")), 1);
    const char *why = json_string_value(json_object_get(r.detail, "why"));
    assert_non_null(why);
    assert_non_null(strstr(why, "n3.trace.jsonl line 2"));
    inv_result_free(&r);
}

/* Incarnations are placed on the run's timeline from starts.json. */
static void test_run_time(void **st)
{
    (void)st;
    trace("n1", "1 start|20 role \"role\":\"leader\",\"term\":1,\"leader\":1|"
                "2 start|30 role \"role\":\"leader\",\"term\":1,\"leader\":1");
    trace("n2", "1 start|40 role \"role\":\"leader\",\"term\":1,\"leader\":2");
    put("starts.json", "{\"n1\":[1000,5000],\"n2\":[2000]}");
    inv_result r = check();
    assert_int_equal(r.nroles, 3);
    assert_int_equal(r.roles[0].t0, 1020);
    assert_int_equal(r.roles[1].t0, 5030);
    assert_int_equal(r.roles[2].t0, 2040);
    assert_string_equal(r.roles[2].name, "n2");
    json_t *v = violation(&r, "election_safety");
    assert_int_equal(json_integer_value(json_object_get(v, "time_ns")), 2040);
    inv_result_free(&r);
    /* the caller's starts win over the file */
    int64_t starts[2][16] = {{0, 100}, {0}};
    int nstarts[2] = {2, 1};
    char err[128];
    assert_int_equal(inv_check_run_starts(dir, 2, starts, nstarts, &r, err, sizeof err), 0);
    assert_int_equal(r.roles[1].t0, 130);
    inv_result_free(&r);
}

static void test_no_traces_and_bad_dir(void **st)
{
    (void)st;
    inv_result r = check();
    assert_int_equal(r.valid, 2);
    assert_string_equal(json_string_value(json_object_get(r.detail, "valid")), "unknown");
    inv_result_free(&r);
    char err[256];
    assert_int_equal(inv_check_run("/nonexistent/run", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a directory"));
    char p[128];
    snprintf(p, sizeof p, "%s/nodes", dir);
    assert_int_equal(inv_check_run(p, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a run directory"));
}

static int cli(const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"check", (char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = a3 ? 4 : a2 ? 3 : 2;
    fflush(stdout);
    int saved = dup(1);
    FILE *null = freopen("/dev/null", "w", stdout);
    int code = inv_check_main(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    (void)null;
    return code;
}

static void test_cli(void **st)
{
    (void)st;
    assert_int_equal(cli("--invariants", dir, NULL), 2);   /* no traces */
    honest_raft();
    assert_int_equal(cli("--invariants", dir, "--json"), 0);
    trace("n3", "12 vote \"for\":1,\"term\":1|13 vote \"for\":2,\"term\":1");
    assert_int_equal(cli("--invariants", dir, NULL), 1);
    assert_int_equal(cli("--invariants", "/nonexistent/run", NULL), 254);
    assert_int_equal(cli("--invariants", dir, "--model"), 254);
    assert_int_equal(cli("--invariants", NULL, NULL), 254);
    assert_int_equal(cli("--invariants", "--help", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_honest_raft, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_vote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equivocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lie_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_unverifiable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_reorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_lost_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_and_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_traces_and_bad_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
