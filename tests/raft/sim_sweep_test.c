/* sim_sweep_test.c: runs the Raft cluster simulation over a range of seeds
 * and fails on the first seed that violates a property, printing the exact
 * command that replays it with a trace.
 *
 *   raft_sim_sweep --nodes 3 --profile default --seeds 0:250
 *   raft_sim_sweep --nodes 5 --profile crashy --seed 17 --bug forget-vote -v
 *
 * RIFTLAB_SIM_SEEDS=N runs N seeds from the range's start instead of the
 * range's size (smaller for sanitizer builds, larger for a soak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/raft/sim.h"

static struct {
    const char *argv0;
    int nodes;
    const char *profile;
    uint64_t first, count;
    unsigned bugs;
    const char *bug_name;
    int verbose;
} opt = {NULL, 3, "default", 0, 100, 0, NULL, 0};

static int usage_to(FILE *out, int status)
{
    fprintf(out, "usage: %s [--nodes N] [--profile default|lease|skew|crashy|churn|fig8]\n"
                 "          [--seeds A:B | --seed S] [--bug NAME] [-v|-vv]\n", opt.argv0);
    return status;
}

static int usage(void)
{
    return usage_to(stderr, 254);
}

static void sweep(void **state)
{
    (void)state;
    uint64_t ok = 0, acked = 0, reads = 0;
    for (uint64_t s = opt.first; s < opt.first + opt.count; s++) {
        sim_options o;
        assert_int_equal(sim_options_profile(&o, opt.profile, s, opt.nodes), 0);
        o.bugs = opt.bugs;
        o.verbose = opt.verbose;
        sim_result r;
        if (sim_run(&o, &r) != 0) {
            fprintf(stderr, "seed %llu FAILED: %s\nreplay: %s --nodes %d --profile %s --seed %llu%s%s -v\n",
                    (unsigned long long)s, r.why, opt.argv0, opt.nodes, opt.profile,
                    (unsigned long long)s, opt.bug_name ? " --bug " : "",
                    opt.bug_name ? opt.bug_name : "");
            fail_msg("seed %llu: %s", (unsigned long long)s, r.why);
        }
        ok++;
        acked += r.writes_acked;
        reads += r.reads_ok;
    }
    fprintf(stderr, "%llu seeds passed (%d nodes, profile %s): %llu writes acknowledged, %llu reads\n",
            (unsigned long long)ok, opt.nodes, opt.profile, (unsigned long long)acked,
            (unsigned long long)reads);
    /* The runs must have done real work, or the checks prove nothing (one
     * seed alone may, under heavy faults, get no write through). */
    if (opt.count >= 10)
        assert_true(acked > 0);
}

int main(int argc, char **argv)
{
    opt.argv0 = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return usage_to(stdout, 0);
        } else if (!strcmp(a, "-v")) {
            opt.verbose = 1;
        } else if (!strcmp(a, "-vv")) {
            opt.verbose = 2;
        } else if (!strcmp(a, "--nodes") && v) {
            opt.nodes = atoi(v);
            i++;
        } else if (!strcmp(a, "--profile") && v) {
            opt.profile = v;
            i++;
        } else if (!strcmp(a, "--seeds") && v) {
            unsigned long long x, y;
            if (sscanf(v, "%llu:%llu", &x, &y) != 2 || y <= x)
                return usage();
            opt.first = x;
            opt.count = y - x;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            opt.first = strtoull(v, NULL, 10);
            opt.count = 1;
            i++;
        } else if (!strcmp(a, "--bug") && v) {
            opt.bugs |= raft_bug_parse(v);
            if (!raft_bug_parse(v))
                return usage();
            opt.bug_name = v;
            i++;
        } else {
            return usage();
        }
    }
    sim_options probe;
    if (opt.nodes < 1 || opt.nodes > 5 || sim_options_profile(&probe, opt.profile, 0, opt.nodes))
        return usage();
    const char *env = getenv("RIFTLAB_SIM_SEEDS");
    if (env && *env && opt.count > 1)
        opt.count = strtoull(env, NULL, 10);
    const struct CMUnitTest tests[] = {cmocka_unit_test(sweep)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
