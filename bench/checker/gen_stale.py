#!/usr/bin/env python3
"""gen_stale.py: a sequentially consistent register history (JSONL, as
DESIGN.md) with timed-out writes and stale reads, the hard case of the
per-key sequential search (docs/checker.md).

  bench/checker/gen_stale.py OPS PROCESSES KEYS SEED INFO_RATE > h.jsonl
  riftlab check h.jsonl --consistency sequential

Each key is a log of committed values; every write has a new value. A write
times out (info) with probability INFO_RATE and then took effect or not,
half and half; its process retires (Jepsen's discipline). A read returns
any committed value at or after the last one its process saw for that key,
so every process sees each key move forward: sequentially consistent, not
linearizable.
"""
import json, random, sys
ops, nproc, keys, seed, pinfo = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rnd = random.Random(seed)
log = {f"k{i}": [None] for i in range(keys)}   # committed values in order
view = {}                                      # (proc, key) -> index seen
out = []; t = 0; val = 0; procs = list(range(nproc)); nextp = nproc
def emit(**e):
    global t
    t += rnd.randint(1, 1000)
    e["index"] = len(out); e["time"] = t
    out.append(e)
while len(out) < ops:
    slot = rnd.randrange(nproc); p = procs[slot]; k = rnd.choice(list(log))
    if rnd.random() < 0.5:
        val += 1
        emit(process=p, type="invoke", f="write", key=k, value=val)
        if rnd.random() < pinfo:
            if rnd.random() < 0.5: log[k].append(val)
            emit(process=p, type="info", f="write", key=k, value=val)
            procs[slot] = nextp; nextp += 1
        else:
            log[k].append(val); view[(p, k)] = len(log[k]) - 1
            emit(process=p, type="ok", f="write", key=k, value=val)
    else:
        lo = view.get((p, k), 0); i = rnd.randint(lo, len(log[k]) - 1); view[(p, k)] = i
        emit(process=p, type="invoke", f="read", key=k, value=None)
        emit(process=p, type="ok", f="read", key=k, value=log[k][i])
for e in out: print(json.dumps(e))
