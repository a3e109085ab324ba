/* test_formats.c: every reader round-trips through history.jsonl, auto
 * detection, malformed lines name file and line, and `check` exit codes. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "checker/check_cli.h"
#include "checker/checker.h"

static const char JSONL[] =
    "{\"index\":0,\"time\":1502113,\"process\":3,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k7\",\"value\":5}\n"
    "{\"index\":1,\"time\":2840021,\"process\":3,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k7\",\"value\":5,\"node\":\"n2\"}\n"
    "{\"index\":2,\"time\":2900000,\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k2\",\"value\":[3,4]}\n"
    "{\"index\":3,\"time\":3104000,\"process\":1,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"k2\",\"value\":[3,4],\"error\":\"precondition\"}\n"
    "{\"index\":4,\"time\":3200000,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k2\",\"value\":null,\"consistency\":\"lease\"}\n"
    "{\"index\":5,\"time\":3300000,\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k2\",\"value\":null,\"final\":true}\n"
    "{\"index\":6,\"time\":4100000,\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"partition\",\"value\":[[\"n1\",\"n2\"],[\"n3\",\"n4\",\"n5\"]]}\n"
    "{\"index\":7,\"time\":4200000,\"process\":2,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\\\"q\\u00e9\",\"value\":\"a\\nb\"}\n";

static const char EDN[] =
    "{:type :invoke, :f :write, :value 3, :process 0, :time 10, :index 0}\n"
    "{:type :ok, :f :write, :value 3, :process 0, :time 20, :index 1}\n"
    "{:type :invoke, :f :cas, :value [3 4], :process 1, :time 30, :index 2}\n"
    "{:type :info, :f :cas, :value [3 4], :process 1, :time 40, :index 3, :error :timeout}\n"
    "{:type :info, :f :start, :value {:a \"x\" :b nil}, :process :nemesis, :time 45, :index 4}\n"
    "{:type :invoke, :f :read, :value nil, :process 2, :time 50, :index 5}\n"
    "{:type :ok, :f :read, :value 4, :process 2, :time 60, :index 6}\n";

static const char ETCD[] =
    "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n"
    "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 0\t:ok\t:read\tnil\n"
    "INFO  jepsen.util - 2   :info   :cas    :timed-out\n";

static const char KV[] =
    "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}\n"
    "{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n"
    "{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}\n"
    "{:process 1, :type :ok, :f :get, :key \"0\", :value \"x 0 0 y\"}\n";

/* format -> read -> write jsonl -> read -> equal; writing again is byte-identical. */
static void roundtrip(const char *text, const char *want_format)
{
    history a, b;
    history_init(&a);
    history_init(&b);
    char err[512], why[128];
    assert_string_equal(history_detect_format(text, strlen(text)), want_format);
    if (history_parse(&a, "auto", text, strlen(text), "in", err, sizeof err))
        fail_msg("%s", err);
    char *out1 = NULL, *out2 = NULL;
    size_t n1 = 0, n2 = 0;
    FILE *f = open_memstream(&out1, &n1);
    assert_int_equal(history_write_jsonl(f, &a), 0);
    fclose(f);
    if (history_parse(&b, "jsonl", out1, n1, "out", err, sizeof err))
        fail_msg("%s", err);
    if (!history_equal(&a, &b, why, sizeof why))
        fail_msg("%s round trip: %s", want_format, why);
    f = open_memstream(&out2, &n2);
    assert_int_equal(history_write_jsonl(f, &b), 0);
    fclose(f);
    assert_int_equal(n1, n2);
    assert_memory_equal(out1, out2, n1);
    free(out1);
    free(out2);
    history_free(&a);
    history_free(&b);
}

static void test_roundtrip_jsonl(void **s) { (void)s; roundtrip(JSONL, "jsonl"); }
static void test_roundtrip_edn(void **s) { (void)s; roundtrip(EDN, "jepsen-edn"); }
static void test_roundtrip_etcd(void **s) { (void)s; roundtrip(ETCD, "porcupine-etcd"); }
static void test_roundtrip_kv(void **s) { (void)s; roundtrip(KV, "porcupine-kv"); }

static void test_jsonl_is_written_as_read(void **s)
{
    (void)s;
    /* Our own canonical output is reproduced byte for byte (first line). */
    history h;
    history_init(&h);
    char err[256];
    assert_int_equal(history_parse_jsonl(&h, JSONL, strlen(JSONL), "x", err, sizeof err), 0);
    assert_int_equal(h.nev, 8);
    assert_true(h.ev[5].final);
    assert_int_equal(h.ev[6].pname != 0, 1);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    history_write_event_jsonl(f, &h, &h.ev[0]);
    fclose(f);
    const char *nl = strchr(JSONL, '\n');
    assert_int_equal(n, (size_t)(nl - JSONL + 1));
    assert_memory_equal(out, JSONL, n);
    free(out);
    history_free(&h);
}

static void expect_error(const char *format, const char *text, const char *want)
{
    history h;
    history_init(&h);
    char err[512];
    assert_int_equal(history_parse(&h, format, text, strlen(text), "f.txt", err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    history_free(&h);
}

static void test_malformed(void **s)
{
    (void)s;
    expect_error("jsonl", "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n\n{\"process\":1,\"type\":\"ok\"", "f.txt:3:");
    expect_error("jsonl", "{\"process\":1,\"type\":\"done\",\"f\":\"read\"}\n", "f.txt:1: \"type\"");
    expect_error("jsonl", "[1,2]\n", "f.txt:1:");
    expect_error("jepsen-edn", "{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :value #{1}, :process 0}\n",
                 "f.txt:2: sets");
    expect_error("jepsen-edn", "{:type :invoke, :f :read, :value 1.5, :process 0}\n", "f.txt:1: unsupported number");
    expect_error("jepsen-edn", "{:type :invoke :f}\n", "f.txt:1:");
    expect_error("porcupine-etcd", "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nWARN something\n", "f.txt:2:");
    expect_error("porcupine-etcd", "INFO  jepsen.util - x\t:invoke\t:read\tnil\n", "f.txt:1: process");
    expect_error("porcupine-kv", "{:process 0, :type :invoke, :f :get, :key \"0\", :value nil}\n{:process 0, :type :ok\n",
                 "f.txt:2:");
    /* pairing errors come from check_history, also with the line */
    history h;
    history_init(&h);
    char err[256];
    const char *t = "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\n";
    assert_int_equal(history_parse(&h, "auto", t, strlen(t), "p.log", err, sizeof err), 0);
    check_options o;
    check_options_default(&o);
    assert_null(check_history(&h, "p.log", &o, err, sizeof err));
    assert_non_null(strstr(err, "p.log:2:"));
    history_free(&h);
}

static char *write_tmp(const char *text, const char *suffix)
{
    char *path;
    assert_true(asprintf(&path, "/tmp/rl-check-test-%d-%s", (int)getpid(), suffix) > 0);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int open_devnull(void) { return open("/dev/null", O_WRONLY); }

static int run_check(int n, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, n);
    argv[0] = "check";
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    argv[n + 1] = NULL;
    fflush(stdout);
    int saved = dup(1), null = open_devnull();
    dup2(null, 1);
    int rc = check_main(n + 1, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(null);
    return rc;
}

static void test_cli_exit_codes(void **s)
{
    (void)s;
    char *good = write_tmp(KV, "good.txt");
    char *bad = write_tmp("{:process 0, :type :invoke, :f :append, :key \"0\", :value \"a\"}\n"
                          "{:process 0, :type :ok, :f :append, :key \"0\", :value \"a\"}\n"
                          "{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n"
                          "{:process 1, :type :ok, :f :get, :key \"0\", :value \"b\"}\n", "bad.txt");
    char *broken = write_tmp("{\"process\":1}\n", "broken.jsonl");
    char *html = NULL;
    assert_true(asprintf(&html, "/tmp/rl-check-test-%d.html", (int)getpid()) > 0);
    assert_int_equal(run_check(1, good), 0);
    assert_int_equal(run_check(1, bad), 1);
    assert_int_equal(run_check(2, good, bad), 1);
    assert_int_equal(run_check(1, broken), 254);
    assert_int_equal(run_check(2, good, "--model"), 254);
    assert_int_equal(run_check(3, good, "--model", "nope"), 254);
    assert_int_equal(run_check(3, good, "--consistency", "strict"), 254);
    assert_int_equal(run_check(3, good, "--format", "xml"), 254);
    assert_int_equal(run_check(3, good, "--budget", "5parsecs"), 254);
    assert_int_equal(run_check(1, "/nonexistent/history.jsonl"), 254);
    assert_int_equal(run_check(1, "--help"), 0);
    assert_int_equal(run_check(0), 254);
    assert_int_equal(run_check(4, bad, "--json", "--html", html), 1);
    FILE *f = fopen(html, "r");
    assert_non_null(f);
    char buf[64] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(buf, "<!DOCTYPE html>"));
    assert_int_equal(run_check(3, good, "--consistency", "linearizable,sequential,eventual"), 0);
    unlink(good);
    unlink(bad);
    unlink(broken);
    unlink(html);
    free(good);
    free(bad);
    free(broken);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_jsonl),    cmocka_unit_test(test_roundtrip_edn),
        cmocka_unit_test(test_roundtrip_etcd),     cmocka_unit_test(test_roundtrip_kv),
        cmocka_unit_test(test_jsonl_is_written_as_read), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_cli_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
