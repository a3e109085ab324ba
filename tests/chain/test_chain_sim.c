#define _GNU_SOURCE
/* test_chain_sim.c: runs the deterministic chain simulation over many seeds.
 *
 *   test_chain_sim --seeds A:B [--modes tail,craq]      every seed must pass
 *   test_chain_sim --bug NAME --within N [--modes ...]  some seed in 1..N must fail
 *   test_chain_sim --seed S [--bug NAME] [--modes ...] [--verbose]   replay one seed
 * --ctrl runs the real control plane (nodes/ctrl on Raft) instead of the
 * in-test configuration master; --no-lease makes members ignore their read
 * leases, which false suspicions then turn into stale reads.
 *
 * A failing seed prints the command that replays it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain_sim.h"

static uint64_t seed_from = 1, seed_to = 100;
static uint32_t bugs;
static const char *bug_name;
static uint32_t modes = SIM_MODE_BIT(CHAIN_READ_TAIL) | SIM_MODE_BIT(CHAIN_READ_CRAQ);
static const char *modes_text = "tail,craq";
static int expect_violation, verbose, use_ctrl, no_lease;
static const char *self;

static void print_replay(uint64_t seed)
{
    printf("replay: %s --seed %llu --modes %s%s%s%s --verbose\n", self, (unsigned long long)seed,
           modes_text, bug_name ? " --bug " : "", bug_name ? bug_name : "", use_ctrl ? (no_lease ? " --ctrl --no-lease" : " --ctrl") : "");
}

/* Runs one seed; on a violation prints it and the replay command. */
static int run_seed(uint64_t seed, sim_result *r, const char *verb)
{
    sim_opts o = { .seed = seed, .bugs = bugs, .modes = modes, .verbose = verbose, .ctrl = use_ctrl,
                   .no_lease = no_lease };
    chain_sim_run(&o, r);
    if (!r->ok) {
        printf("%s seed %llu: %s\n", verb, (unsigned long long)seed, r->why);
        print_replay(seed);
    }
    return r->ok;
}

/* Every seed in the range passes every check. */
static void test_seeds_pass(void **state)
{
    (void)state;
    uint64_t ops = 0, crashes = 0, joins = 0, committed = 0, pauses = 0, epochs = 0, suspicions = 0;
    for (uint64_t seed = seed_from; seed <= seed_to; seed++) {
        sim_result r;
        assert_true(run_seed(seed, &r, "violation at"));
        ops += r.ops;
        crashes += r.crashes;
        joins += r.joins;
        committed += r.committed;
        pauses += r.pauses;
        epochs += r.epochs;
        suspicions += r.false_suspicions;
    }
    printf("seeds %llu..%llu passed: %llu operations, %llu commits, %llu crashes, %llu pauses, "
           "%llu false suspicions, %llu joins, %llu epochs\n", (unsigned long long)seed_from, (unsigned long long)seed_to,
           (unsigned long long)ops, (unsigned long long)committed, (unsigned long long)crashes,
           (unsigned long long)pauses, (unsigned long long)suspicions, (unsigned long long)joins, (unsigned long long)epochs);
    /* The runs must actually exercise failures, or the test proves little. */
    if (seed_to - seed_from >= 50) {
        assert_true(crashes > (seed_to - seed_from) / 2);
        assert_true(joins > 0);
    }
}

/* With a deliberate bug (or read mode `any`), some seed must be caught. */
static void test_violation_found(void **state)
{
    (void)state;
    for (uint64_t seed = seed_from; seed <= seed_to; seed++) {
        sim_result r;
        if (!run_seed(seed, &r, "caught at"))
            return;
    }
    fail_msg("no seed in %llu..%llu caught the defect", (unsigned long long)seed_from,
             (unsigned long long)seed_to);
}

static int parse_modes(const char *s)
{
    modes = 0;
    modes_text = s;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", s);
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum chain_read_mode m;
        if (chain_read_mode_parse(t, &m) < 0)
            return -1;
        modes |= SIM_MODE_BIT(m);
    }
    return modes ? 0 : -1;
}

int main(int argc, char **argv)
{
    self = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long x, y;
        if (!strcmp(a, "--seeds") && v && sscanf(v, "%llu:%llu", &x, &y) == 2 && x <= y) {
            seed_from = x;
            seed_to = y;
            i++;
        } else if (!strcmp(a, "--seed") && v && sscanf(v, "%llu", &x) == 1) {
            seed_from = seed_to = x;
            i++;
        } else if (!strcmp(a, "--within") && v && sscanf(v, "%llu", &x) == 1 && x > 0) {
            seed_from = 1;
            seed_to = x;
            expect_violation = 1;
            i++;
        } else if (!strcmp(a, "--bug") && v && chain_bug_parse(v)) {
            bugs |= chain_bug_parse(v);
            bug_name = v;
            i++;
        } else if (!strcmp(a, "--modes") && v && parse_modes(v) == 0) {
            i++;
        } else if (!strcmp(a, "--ctrl")) {
            use_ctrl = 1;
        } else if (!strcmp(a, "--no-lease")) {
            no_lease = 1;
        } else if (!strcmp(a, "--verbose")) {
            verbose = 1;
        } else {
            fprintf(stderr, "usage: %s [--seeds A:B | --seed S | --within N] [--bug NAME] "
                            "[--modes tail,craq,any] [--ctrl [--no-lease]] [--verbose]\n", argv[0]);
            return 254;
        }
    }
    const struct CMUnitTest pass[] = { cmocka_unit_test(test_seeds_pass) };
    const struct CMUnitTest caught[] = { cmocka_unit_test(test_violation_found) };
    if (expect_violation)
        return cmocka_run_group_tests(caught, NULL, NULL);
    return cmocka_run_group_tests(pass, NULL, NULL);
}
