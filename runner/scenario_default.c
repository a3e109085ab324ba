/* scenario_default.c: the built-in scenario `riftlab run` uses without a
 * file (the README's first command). Short, and it must pass: five raft
 * nodes, the leader isolated in a minority, then the new leader killed and
 * restarted, with linearizable reads throughout. */
#include "scenario.h"

const char scenario_default_yaml[] =
    "name: default\n"
    "description: Five raft nodes; the leader is cut off in a minority, then the new leader is\n"
    "  killed and restarted. Reads are linearizable, so every check must pass.\n"
    "system:\n"
    "  kind: raft\n"
    "  nodes: 5\n"
    "  read: linearizable\n"
    "workload:\n"
    "  kind: register\n"
    "  clients: 5\n"
    "  keys: 4\n"
    "  mix: {read: 0.5, write: 0.3, cas: 0.2}\n"
    "  rate: 200/s\n"
    "  duration: 12s\n"
    "  timeout: 1s\n"
    "nemesis:\n"
    "  - at: 2s\n"
    "    partition: isolate-leader\n"
    "  - at: 5s\n"
    "    heal: true\n"
    "  - at: 7s\n"
    "    kill: leader\n"
    "  - at: 9s\n"
    "    restart: killed\n"
    "checks:\n"
    "  linearizable: pass\n"
    "  sequential: pass\n"
    "  eventual: pass\n"
    "  invariants: pass\n";
