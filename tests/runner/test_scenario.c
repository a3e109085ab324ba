/* test_scenario.c: the scenario loader: defaults, a full round trip through
 * scenario_write_yaml, and every validation error path with its golden
 * file:line:col message. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/scenario_load.h"

static int load(const char *text, scenario *s, scn_errors *e)
{
    return scenario_load_text("t.yaml", text, strlen(text), s, e);
}

/* Load text that must fail and compare the first error message with the
 * golden one; returns 0 if it matches (mismatches are printed, so one run
 * shows all of them). */
static int expect_error(const char *text, const char *golden)
{
    scenario s;
    scn_errors e;
    if (load(text, &s, &e) == 0) {
        scenario_free(&s);
        print_error("loaded but expected: %s\n", golden);
        return -1;
    }
    int rc = e.n >= 1 && strcmp(e.msg[0], golden) == 0 ? 0 : -1;
    if (rc)
        print_error("got      '%s'\nexpected '%s'\n", e.n ? e.msg[0] : "(nothing)", golden);
    scn_errors_free(&e);
    return rc;
}

static void test_minimal_defaults(void **st)
{
    (void)st;
    scenario s;
    scn_errors e;
    assert_int_equal(load("name: m\n", &s, &e), 0);
    assert_string_equal(s.name, "m");
    assert_int_equal(s.system.kind, SCN_RAFT);
    assert_int_equal(s.system.nodes, 5);
    assert_int_equal(s.system.read, SCN_READ_LINEARIZABLE);
    assert_int_equal(s.system.auth, 1);
    assert_int_equal(s.network.backend, SCN_BACKEND_AUTO);
    assert_int_equal(s.workload.kind, SCN_WL_REGISTER);
    assert_int_equal(s.workload.clients, 5);
    assert_int_equal(s.has_seed, 0);
    /* No checks section: every check that fits the workload must pass. */
    assert_int_equal(s.checks[SCN_CHECK_LINEARIZABLE], SCN_EXPECT_PASS);
    assert_int_equal(s.checks[SCN_CHECK_MUTEX], SCN_EXPECT_SKIP);
    scenario_free(&s);
}

static void test_chain_default_read(void **st)
{
    (void)st;
    scenario s;
    scn_errors e;
    assert_int_equal(load("name: c\nsystem: {kind: chain, nodes: 3}\n", &s, &e), 0);
    assert_int_equal(s.system.read, SCN_READ_TAIL);
    scenario_free(&s);
}

/* The as-run YAML of s, loaded back into t. */
static void roundtrip(const scenario *s, scenario *t)
{
    char *text = NULL;
    size_t len = 0;
    scn_errors e;
    FILE *f = open_memstream(&text, &len);
    scenario_write_yaml(s, f);
    fclose(f);
    if (scenario_load_text("as-run.yaml", text, len, t, &e) < 0)
        fail_msg("%s\n%s", e.msg[0], text);
    free(text);
}

static const char full[] =
    "name: full-1\n"
    "description: every key\n"
    "seed: 42\n"
    "system:\n"
    "  kind: raft\n  nodes: 5\n  read: lease\n  auth: none\n  fsync: never\n"
    "  bugs: [stale-read]\n  ready-timeout: 5s\n  election-timeout: 300ms\n"
    "network:\n  backend: loopback\n  partitions: proxy\n"
    "  links: {delay: 2ms, jitter: 500us, drop: 0.01, duplicate: 1%, reorder: 0.1, corrupt: 0}\n"
    "workload:\n  kind: kv\n  clients: 7\n  keys: 20\n"
    "  mix: {read: 2, write: 1, cas: 1}\n  rate: 300/s\n  duration: 20s\n  timeout: 500ms\n"
    "  target: random\n  quiesce: 2s\n"
    "nemesis:\n"
    "  - at: 1s\n    partition: [[n1, n2], [n3, n4, n5]]\n    for: 2s\n"
    "  - at: 4s\n    clock-skew: {node: leader, offset: -300ms, drift: 500}\n"
    "  - at: 5s\n    link-faults: {drop: 0.2}\n"
    "  - at: 6s\n    slow: {node: n2, cpu: 10%}\n"
    "  - at: 7s\n    pause: n3\n    for: 1s\n"
    "  - every: 2s\n    from: 10s\n    until: 18s\n    pick: [partition, kill, pause]\n"
    "checks:\n  linearizable: fail\n  sequential: pass\n  eventual: skip\n";

static void test_full_and_roundtrip(void **st)
{
    (void)st;
    scenario s, t;
    scn_errors e;
    assert_int_equal(load(full, &s, &e), 0);
    assert_int_equal(s.seed, 42);
    assert_int_equal(s.system.read, SCN_READ_LEASE);
    assert_int_equal(s.system.nbugs, 1);
    assert_string_equal(s.system.bugs[0], "stale-read");
    assert_int_equal(s.network.links.delay_ns, 2000000);
    assert_true(s.network.links.duplicate > 0.0099 && s.network.links.duplicate < 0.0101);
    assert_true(s.workload.mix_read > 0.49 && s.workload.mix_read < 0.51);
    assert_int_equal(s.nnemesis, 6);
    assert_int_equal(s.nemesis[0].action.shape, SCN_SHAPE_GROUPS);
    assert_int_equal(s.nemesis[0].action.group_of[2], 1);
    assert_int_equal(s.nemesis[0].action.for_ns, 2000000000ull);
    assert_int_equal(s.nemesis[1].action.skew_offset_ns, -300000000ll);
    assert_int_equal(s.nemesis[1].action.target.kind, SCN_TGT_LEADER);
    assert_int_equal(s.nemesis[3].action.target.node, 1);
    assert_true(s.nemesis[5].random);
    assert_int_equal(s.nemesis[5].npick, 3);
    assert_int_equal(s.checks[SCN_CHECK_LINEARIZABLE], SCN_EXPECT_FAIL);
    assert_int_equal(s.checks[SCN_CHECK_EVENTUAL], SCN_EXPECT_SKIP);

    /* As-run YAML loads back into the same scenario. */
    roundtrip(&s, &t);
    assert_string_equal(t.name, s.name);
    assert_int_equal(t.seed, s.seed);
    assert_int_equal(t.nnemesis, s.nnemesis);
    for (int i = 0; i < s.nnemesis; i++) {
        assert_memory_equal(&t.nemesis[i].action, &s.nemesis[i].action, sizeof s.nemesis[i].action);
        assert_int_equal(t.nemesis[i].at_ns, s.nemesis[i].at_ns);
        assert_int_equal(t.nemesis[i].every_ns, s.nemesis[i].every_ns);
        assert_memory_equal(t.nemesis[i].pick, s.nemesis[i].pick, sizeof s.nemesis[i].pick);
    }
    assert_int_equal(t.workload.duration_ns, s.workload.duration_ns);
    assert_true(t.workload.rate == s.workload.rate);
    assert_memory_equal(t.checks, s.checks, sizeof s.checks);
    assert_memory_equal(&t.network, &s.network, sizeof s.network);
    scenario_free(&t);
    scenario_free(&s);
}

/* Byzantine keys: node modes, damage on links, forged traffic, a chosen
 * bridge; loaded as written and back through the as-run YAML. */
static const char byz[] =
    "name: byz\n"
    "system: {kind: raft, nodes: 3, auth: none, byzantine: {n3: double-vote, n1: none}}\n"
    "network: {links: {corrupt: 0.05, truncate: 0.02, replay: 0.1}}\n"
    "workload: {duration: 5s}\n"
    "nemesis:\n"
    "  - at: 1s\n    forge: {from: n2, to: n1, type: 5, count: 7, body: 00ff}\n"
    "  - at: 2s\n    forge: {from: n3}\n"
    "  - at: 3s\n    partition: {bridge: n2}\n"
    "  - at: 4s\n    link-faults: {truncate: 0.5, replay: 0.25}\n";

static void test_byzantine_roundtrip(void **st)
{
    (void)st;
    scenario s, t;
    scn_errors e;
    assert_int_equal(load(byz, &s, &e), 0);
    assert_int_equal(s.system.byzantine[2], SCN_BYZ_DOUBLE_VOTE);
    assert_int_equal(s.system.byzantine[0], SCN_BYZ_NONE);
    assert_int_equal(s.system.byzantine[1], SCN_BYZ_NONE);
    assert_true(s.network.links.truncate == 0.02 && s.network.links.replay == 0.1);
    assert_int_equal(s.nemesis[0].action.kind, SCN_ACT_FORGE);
    assert_int_equal(s.nemesis[0].action.forge.from, 1);
    assert_int_equal(s.nemesis[0].action.forge.to, 0);
    assert_int_equal(s.nemesis[0].action.forge.type, 5);
    assert_int_equal(s.nemesis[0].action.forge.count, 7);
    assert_string_equal(s.nemesis[0].action.forge.body, "00ff");
    assert_int_equal(s.nemesis[1].action.forge.to, -1);   /* default: every other node */
    assert_int_equal(s.nemesis[1].action.forge.count, 10);
    assert_int_equal(s.nemesis[2].action.shape, SCN_SHAPE_BRIDGE);
    assert_int_equal(s.nemesis[2].action.bridge, 2);
    assert_true(s.nemesis[3].action.links.truncate == 0.5);
    roundtrip(&s, &t);
    assert_memory_equal(t.system.byzantine, s.system.byzantine, sizeof s.system.byzantine);
    assert_memory_equal(&t.network, &s.network, sizeof s.network);
    assert_int_equal(t.nnemesis, s.nnemesis);
    for (int i = 0; i < s.nnemesis; i++)
        assert_memory_equal(&t.nemesis[i].action, &s.nemesis[i].action, sizeof s.nemesis[i].action);
    scenario_free(&t);
    scenario_free(&s);
}

static void test_default_scenario(void **st)
{
    (void)st;
    scenario s;
    scn_errors e;
    assert_int_equal(scenario_load_default(&s, &e), 0);
    assert_string_equal(s.name, "default");
    assert_true(s.workload.duration_ns <= 15000000000ull);
    assert_true(s.nnemesis >= 2);
    scenario_free(&s);
}

/* Every error path, with its golden message. */
static const struct {
    const char *text, *golden;
} cases[] = {
    {"name: a\nsystem: [\n", "t.yaml:3:1: YAML syntax: did not find expected node content while parsing a flow node"},
    {"", "t.yaml: the file is empty (a scenario needs at least a name)"},
    {"- a\n", "t.yaml:1:1: scenario: expected a mapping, got a list"},
    {"description: x\n", "t.yaml:1:1: name: missing (every scenario needs a name)"},
    {"name: a b\n", "t.yaml:1:7: name: 'a b' must be letters, digits, '-', '_' or '.' (it names the run directory)"},
    {"name: a\nname: b\n", "t.yaml:2:1: scenario: key 'name' given twice"},
    {"name: a\nbogus: 1\n", "t.yaml:2:1: scenario: unknown key 'bogus' (known: name, description, seed, system, network, workload, nemesis, checks)"},
    {"name: a\nseed: -1\n", "t.yaml:2:7: seed: -1 is out of range (must be between 0 and 18446744073709551615)"},
    {"name: a\ndescription: [1]\n", "t.yaml:2:14: description: expected a string, got a list"},
    {"name: a\nsystem: 3\n", "t.yaml:2:9: system: expected a mapping, got a scalar"},
    {"name: a\nsystem: {kind: paxos}\n", "t.yaml:2:16: system.kind: unknown value 'paxos' (use raft | chain)"},
    {"name: a\nsystem: {nodes: 0}\n", "t.yaml:2:17: system.nodes: 0 is out of range (must be between 1 and 9)"},
    {"name: a\nsystem: {nodes: 3x}\n", "t.yaml:2:17: system.nodes: '3x' is not an integer"},
    {"name: a\nsystem: {read: craq}\n", "t.yaml:2:16: system.read: 'craq' is a chain read mode; raft uses linearizable | lease | sequential | eventual"},
    {"name: a\nsystem: {kind: chain, read: lease}\n", "t.yaml:2:29: system.read: 'lease' is a raft read mode; chain uses tail | craq | any"},
    {"name: a\nsystem: {auth: rsa}\n", "t.yaml:2:16: system.auth: unknown value 'rsa' (use none | hmac)"},
    {"name: a\nsystem: {fsync: sometimes}\n", "t.yaml:2:17: system.fsync: unknown value 'sometimes' (use never | always)"},
    {"name: a\nsystem: {bugs: x}\n", "t.yaml:2:16: system.bugs: expected a list of bug names, got a scalar"},
    {"name: a\nsystem: {bugs: [Bad!]}\n", "t.yaml:2:17: system.bugs: 'Bad!' is not a bug name (lowercase letters, digits, -)"},
    {"name: a\nsystem: {ready-timeout: 1ms}\n", "t.yaml:2:25: system.ready-timeout: 1ms is out of range (100ms to 5m)"},
    {"name: a\nsystem: {election-timeout: 5ms}\n", "t.yaml:2:28: system.election-timeout: must be 0 (node default) or at least 10ms"},
    {"name: a\nsystem: {colour: red}\n", "t.yaml:2:10: system: unknown key 'colour' (known: kind, nodes, read, auth, key-file, fsync, bugs, byzantine, ready-timeout, election-timeout)"},
    {"name: a\nnetwork: {backend: docker}\n", "t.yaml:2:20: network.backend: unknown value 'docker' (use netns | loopback)"},
    {"name: a\nnetwork: {backend: loopback, partitions: nftables}\n", "t.yaml:2:10: network.partitions: nftables needs the netns backend (on loopback partitions are cut by the proxy)"},
    {"name: a\nnetwork: {links: {drop: 1.5}}\n", "t.yaml:2:25: links.drop: probability '1.5' is above 1"},
    {"name: a\nnetwork: {links: {delay: 5 ms}}\n", "t.yaml:2:26: links.delay: unknown unit ' ms' in '5 ms' (use ns, us, ms, s or m)"},
    {"name: a\nnetwork: {links: {loss: 0.1}}\n", "t.yaml:2:19: network.links: unknown key 'loss' (known: delay, jitter, drop, duplicate, reorder, corrupt, truncate, replay)"},
    {"name: a\nworkload: {kind: bank}\n", "t.yaml:2:18: workload.kind: unknown value 'bank' (use register | kv | lease)"},
    {"name: a\nworkload: {clients: 1000}\n", "t.yaml:2:21: workload.clients: 1000 is out of range (must be between 1 and 256)"},
    {"name: a\nworkload: {keys: 0}\n", "t.yaml:2:18: workload.keys: 0 is out of range (must be between 1 and 100000)"},
    {"name: a\nworkload: {mix: {read: 0}}\n", "t.yaml:2:11: workload.mix: at least one operation needs a weight above 0"},
    {"name: a\nworkload: {mix: {read: -1}}\n", "t.yaml:2:24: workload.mix.read: -1 is out of range (0 to 1e+06)"},
    {"name: a\nworkload: {mix: {append: 1}}\n", "t.yaml:2:18: workload.mix: unknown key 'append' (known: read, write, cas, delete)"},
    {"name: a\nworkload: {mix: {delete: 1}}\n", "t.yaml:2:11: workload.mix.delete: only the kv workload deletes keys"},
    {"name: a\nworkload: {rate: fast}\n", "t.yaml:2:18: workload.rate: expected a number in 'fast'"},
    {"name: a\nworkload: {duration: 10ms}\n", "t.yaml:2:22: workload.duration: 10ms is out of range (1s to 60m)"},
    {"name: a\nworkload: {duration: 2s, timeout: 5s}\n", "t.yaml:2:11: workload.timeout must be shorter than workload.duration"},
    {"name: a\nworkload: {target: leaderish}\n", "t.yaml:2:20: workload.target: unknown value 'leaderish' (use leader | pinned | random)"},
    {"name: a\nworkload: {fenced: maybe}\n", "t.yaml:2:20: workload.fenced: expected true or false, got 'maybe'"},
    {"name: a\nworkload: {kind: lease, lease: 100ms, hold: 200ms}\n", "t.yaml:2:11: workload.lease must be longer than workload.hold"},
    {"name: a\nchecks: {linearizable: yes}\n", "t.yaml:2:24: checks.linearizable: unknown value 'yes' (use pass | fail | skip)"},
    {"name: a\nchecks: {serializable: pass}\n", "t.yaml:2:10: checks: unknown key 'serializable' (known: linearizable, sequential, eventual, invariants, mutex)"},
    {"name: a\nchecks: {mutex: pass}\n", "t.yaml:2:1: checks.mutex: only the lease workload is checked as a mutex"},
    {"name: a\nworkload: {kind: lease}\nchecks: {sequential: pass}\n", "t.yaml:3:1: checks.sequential: the lease workload is checked with linearizable and mutex"},
    {"name: a\nnemesis: {at: 1s}\n", "t.yaml:2:10: nemesis: expected a list of entries, got a mapping"},
    {"name: a\nnemesis: [3]\n", "t.yaml:2:11: nemesis: each entry is a mapping (at: + one action, or every/from/until/pick)"},
    {"name: a\nnemesis:\n  - kill: n1\n", "t.yaml:3:5: nemesis: entry needs at: (a time) or every: (a random schedule)"},
    {"name: a\nnemesis:\n  - at: 1s\n", "t.yaml:3:5: nemesis: entry has no action (partition, heal, kill, restart, crash-stop, pause, resume, clock-skew, link-faults, slow or forge)"},
    {"name: a\nnemesis:\n  - at: 1s\n    kill: n1\n    pause: n2\n", "t.yaml:5:5: nemesis: one action per entry ('kill' and 'pause'); add another entry"},
    {"name: a\nnemesis:\n  - at: 1s\n    explode: n1\n", "t.yaml:4:5: nemesis: unknown key 'explode' (known: at, for, every, from, until, pick, partition, heal, kill, restart, crash-stop, pause, resume, clock-skew, link-faults, slow, forge)"},
    {"name: a\nnemesis:\n  - at: 30s\n    heal: true\n", "t.yaml:3:9: at: 30s is not before the end of the workload (duration 10s)"},
    {"name: a\nnemesis:\n  - at: 1s\n    kill: n6\n", "t.yaml:4:11: unknown node 'n6' (this scenario has n1..n5)"},
    {"name: a\nnemesis:\n  - at: 1s\n    kill: everyone\n", "t.yaml:4:11: kill: unknown target 'everyone' (use a node name n1..n5, leader, random, minority, majority, all, head, tail or middle)"},
    {"name: a\nnemesis:\n  - at: 1s\n    kill: tail\n", "t.yaml:4:11: kill: 'tail' is a chain position; raft targets are leader, a node name, random, minority, majority or all"},
    {"name: a\nsystem: {kind: chain}\nnemesis:\n  - at: 1s\n    kill: leader\n", "t.yaml:5:11: kill: chain has no leader; use head, middle or tail"},
    {"name: a\nsystem: {kind: chain, nodes: 2}\nnemesis:\n  - at: 1s\n    kill: middle\n", "t.yaml:5:11: kill: a chain of 2 nodes has no middle"},
    {"name: a\nnemesis:\n  - at: 1s\n    kill: killed\n", "t.yaml:4:11: kill: 'killed' only names what restart/resume bring back"},
    {"name: a\nnemesis:\n  - at: 1s\n    restart: leader\n", "t.yaml:4:14: restart: use killed, all or a node name"},
    {"name: a\nnemesis:\n  - at: 1s\n    resume: random\n", "t.yaml:4:13: resume: use paused, all or a node name"},
    {"name: a\nnemesis:\n  - at: 1s\n    heal: false\n", "t.yaml:4:11: heal: only 'heal: true' means something"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: thirds\n", "t.yaml:4:16: partition: unknown value 'thirds' (use halves | majority-ring | bridge | isolate-leader)"},
    {"name: a\nsystem: {kind: chain}\nnemesis:\n  - at: 1s\n    partition: isolate-leader\n", "t.yaml:5:16: partition: chain has no leader to isolate"},
    {"name: a\nsystem: {nodes: 2}\nnemesis:\n  - at: 1s\n    partition: bridge\n", "t.yaml:5:16: partition: bridge needs more than 2 nodes"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: [[n1, n2], [n2, n3, n4, n5]]\n", "t.yaml:4:28: partition: n2 is in two groups"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: [[n1, n2], [n3, n4]]\n", "t.yaml:4:16: partition: n5 is in no group (list every node)"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: [[n1, n2, n3, n4, n5]]\n", "t.yaml:4:16: partition: give at least two groups"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: [[n1], []]\n", "t.yaml:4:23: partition: each group is a non-empty list of node names"},
    {"name: a\nnemesis:\n  - at: 1s\n    clock-skew: {node: n1, offset: 1y}\n", "t.yaml:4:36: clock-skew.offset: unknown unit 'y' in '1y' (use ns, us, ms, s or m)"},
    {"name: a\nnemesis:\n  - at: 1s\n    clock-skew: {node: n1, drift: 9999999}\n", "t.yaml:4:35: clock-skew.drift: 9999999 is out of range (must be between -500000 and 500000)"},
    {"name: a\nnemesis:\n  - at: 1s\n    clock-skew: {when: now}\n", "t.yaml:4:18: clock-skew: unknown key 'when' (known: node, offset, drift)"},
    {"name: a\nnemesis:\n  - at: 1s\n    slow: {node: n1, cpu: 0}\n", "t.yaml:4:27: slow.cpu: at least 0.01 (1% of a CPU)"},
    {"name: a\nnemesis:\n  - at: 1s\n    link-faults: {drop: 2}\n", "t.yaml:4:25: links.drop: probability '2' is above 1"},
    {"name: a\nnemesis:\n  - at: 1s\n    heal: true\n    for: 1s\n", "t.yaml:5:10: for: 'heal' cannot be undone after a while"},
    {"name: a\nnemesis:\n  - at: 1s\n    kill: n1\n    pick: [kill]\n", "t.yaml:3:5: nemesis: from/until/pick belong to a random entry (with every)"},
    {"name: a\nnemesis:\n  - every: 1s\n    at: 2s\n    pick: [kill]\n", "t.yaml:3:5: nemesis: an entry is either fixed (at + action) or random (every/from/until/pick), not both"},
    {"name: a\nnemesis:\n  - every: 1s\n", "t.yaml:3:5: nemesis: a random entry needs pick: [actions]"},
    {"name: a\nnemesis:\n  - every: 1s\n    pick: []\n", "t.yaml:4:11: pick: expected a non-empty list of actions"},
    {"name: a\nnemesis:\n  - every: 1s\n    pick: [restart]\n", "t.yaml:4:12: pick: 'restart' is not a fault (the random schedule undoes each fault itself)"},
    {"name: a\nnemesis:\n  - every: 1s\n    pick: [kill]\n    from: 5s\n    until: 2s\n", "t.yaml:5:11: nemesis: from must be before until"},
    {"name: a\nnemesis:\n  - every: 1ms\n    pick: [kill]\n", "t.yaml:3:12: every: 1ms is out of range (10ms to 10s)"},
    {"name: a\nworkload: {duration: 5s}\nnemesis:\n  - every: 1s\n    pick: [kill]\n    until: 6s\n", "t.yaml:6:12: until: 6s is out of range (0 to 5s)"},
    {"name: a\nsystem: {byzantine: {n9: double-vote}}\n", "t.yaml:2:22: unknown node 'n9' (this scenario has n1..n5)"},
    {"name: a\nsystem: {byzantine: {n2: liar}}\n", "t.yaml:2:26: system.byzantine: unknown value 'liar' (use none | double-vote | term-inflation | lie-append | equivocate | reorder-forward)"},
    {"name: a\nsystem: {byzantine: {n2: reorder-forward}}\n", "t.yaml:2:26: system.byzantine: 'reorder-forward' is not a raft mode (double-vote, term-inflation, lie-append, equivocate)"},
    {"name: a\nsystem: {kind: chain, byzantine: {n1: double-vote}}\n", "t.yaml:2:39: system.byzantine: 'double-vote' is not a chain mode (reorder-forward)"},
    {"name: a\nsystem: {byzantine: [n1]}\n", "t.yaml:2:21: system.byzantine: expected a mapping, got a list"},
    {"name: a\nnetwork: {links: {truncate: 2}}\n", "t.yaml:2:29: links.truncate: probability '2' is above 1"},
    {"name: a\nnetwork: {links: {replay: x}}\n", "t.yaml:2:27: links.replay: expected a number in 'x'"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {from: n7}\n", "t.yaml:4:19: unknown node 'n7' (this scenario has n1..n5)"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {from: n1, to: n1}\n", "t.yaml:4:12: forge: from and to are the same node"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {type: 300}\n", "t.yaml:4:19: forge.type: 300 is out of range (must be between 0 and 255)"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {count: 0}\n", "t.yaml:4:20: forge.count: 0 is out of range (must be between 1 and 1000)"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {body: abc}\n", "t.yaml:4:19: forge.body: an even number of hex digits, at most 128"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {kind: vote}\n", "t.yaml:4:13: forge: unknown key 'kind' (known: from, to, type, count, body)"},
    {"name: a\nnemesis:\n  - at: 1s\n    forge: {}\n    for: 1s\n", "t.yaml:5:10: for: 'forge' cannot be undone after a while"},
    {"name: a\nnemesis:\n  - every: 1s\n    pick: [forge]\n", "t.yaml:4:12: pick: 'forge' needs its from/to/type; use fixed entries"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: {bridge: n8}\n", "t.yaml:4:25: unknown node 'n8' (this scenario has n1..n5)"},
    {"name: a\nnemesis:\n  - at: 1s\n    partition: {middle: n1}\n", "t.yaml:4:17: partition: unknown key 'middle' (known: bridge)"},
    {"name: a\n---\nname: b\n", "t.yaml:3:1: only one scenario per file (found a second YAML document)"},
};

static void test_error_paths(void **st)
{
    (void)st;
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        bad += expect_error(cases[i].text, cases[i].golden) != 0;
    assert_int_equal(bad, 0);
}

static void test_many_errors_at_once(void **st)
{
    (void)st;
    scenario s;
    scn_errors e;
    assert_int_equal(load("name: a\nsystem: {nodes: 0, kind: x}\nworkload: {clients: z}\n", &s, &e), -1);
    assert_int_equal(e.n, 3);
    scn_errors_free(&e);
}

static void test_unreadable_file(void **st)
{
    (void)st;
    scenario s;
    scn_errors e;
    assert_int_equal(scenario_load_file("/nonexistent/x.yaml", &s, &e), -1);
    assert_string_equal(e.msg[0], "/nonexistent/x.yaml: cannot read: No such file or directory");
    scn_errors_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_chain_default_read),
        cmocka_unit_test(test_full_and_roundtrip),
        cmocka_unit_test(test_byzantine_roundtrip),
        cmocka_unit_test(test_default_scenario),
        cmocka_unit_test(test_error_paths),
        cmocka_unit_test(test_many_errors_at_once),
        cmocka_unit_test(test_unreadable_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
