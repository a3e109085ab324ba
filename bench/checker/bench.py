#!/usr/bin/env python3
"""bench.py: the checker's benchmark (never part of ctest).

  bench/checker/bench.py [BUILD_DIR] [--runs N]

1. Every Porcupine history (../shared/histories/porcupine, read in place),
   all in ONE `riftlab check` call, N times: per-file medians of the
   in-process time the verdict line reports, the slowest files, the total of
   the medians, and the median wall time of the whole call.
   The same set again with all three checks (linearizable, sequential,
   eventual), and how many per-key sequential verdicts are true/false/unknown.
2. Porcupine's own figures for the same set on this kind of machine
   (Go 1.19, in-process medians, from issue 3: whole set ~700 ms; etcd_002
   ~190 ms, c50-ok ~160 ms, etcd_007 ~130 ms) and the ratio. Porcupine is not
   installed here (no Go toolchain), so its side is the published figure.
3. Generated linearizable kv histories (checker-gen-history) of 1k, 10k and
   100k operations with 5, 20 and 100 processes: time and peak RSS of
   `riftlab check --consistency linearizable,sequential,eventual`.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

PORCUPINE_MS = {"total": 700.0, "jepsen/etcd_002.log": 190.0, "kv/c50-ok.txt": 160.0, "jepsen/etcd_007.log": 130.0}


def run(cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = (time.monotonic() - t0) * 1000
    return p, wall


def peak_rss_kb(cmd):
    # /usr/bin/time is not everywhere; fork a child and read its rusage.
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.execv(cmd[0], cmd)
    t0 = time.monotonic()
    _, status, ru = os.wait4(pid, 0)
    return (time.monotonic() - t0) * 1000, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


def porcupine_pass(check, pdir, runs, extra):
    """Per-file medians of the in-process ms, and the median wall ms."""
    per_file, walls = {}, []
    line = re.compile(r"^(\S+)\s+(true|false|unknown)\s.*\s([0-9.]+) ms$")
    for _ in range(runs):
        p, wall = run([check, os.path.join(pdir, "jepsen"), os.path.join(pdir, "kv")] + extra)
        if p.returncode not in (0, 1):
            sys.exit(f"bench: riftlab check failed ({p.returncode}): {p.stderr}")
        walls.append(wall)
        for l in p.stdout.splitlines():
            m = line.match(l)
            if m:
                per_file.setdefault(os.path.relpath(m.group(1), pdir), []).append(float(m.group(3)))
    return {f: statistics.median(v) for f, v in per_file.items()}, statistics.median(walls)


def main():
    args = [a for a in sys.argv[1:]]
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return
    runs = 7
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    bad = [a for a in args if a.startswith("-")]
    if bad or len(args) > 1:
        print(f"bench: unknown option or extra argument {' '.join(bad or args[1:])} (see --help)", file=sys.stderr)
        sys.exit(254)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = args[0] if args else os.path.join(src, "build")
    check = os.path.join(build, "bin", "riftlab-check")
    gen = os.path.join(build, "bin", "checker-gen-history")
    shared = os.environ.get("RIFTLAB_SHARED", os.path.join(src, "..", "shared"))
    pdir = os.path.join(shared, "histories", "porcupine")
    for b in (check, gen):
        if not os.path.exists(b):
            sys.exit(f"bench: {b} is missing; build it first (cmake --build {build})")

    med, wall = porcupine_pass(check, pdir, runs, [])
    total = sum(med.values())
    print(f"Porcupine set: {len(med)} histories, {runs} runs of one `riftlab check` call each (medians)")
    print(f"  {'file':28} {'riftlab ms':>11} {'Porcupine ms':>13} {'ratio':>7}")
    shown = sorted(med, key=med.get, reverse=True)[:5]
    shown += [f for f in PORCUPINE_MS if f in med and f not in shown]
    for f in shown:
        pm = PORCUPINE_MS.get(f)
        print(f"  {f:28} {med[f]:11.2f} {pm:13.0f} {pm / med[f]:7.1f}x" if pm else
              f"  {f:28} {med[f]:11.2f} {'':>13} {'':>7}")
    print(f"  {'sum of per-file medians':28} {total:11.1f} {PORCUPINE_MS['total']:13.0f} {PORCUPINE_MS['total'] / total:7.1f}x")
    print(f"  {'one call, wall (median)':28} {wall:11.1f} {PORCUPINE_MS['total']:13.0f} {PORCUPINE_MS['total'] / wall:7.1f}x")
    print(f"  target: <= 140 ms for the whole set in one call: {'met' if wall <= 140 else 'NOT met'}")
    print()
    # All three checks (Porcupine checks only linearizability: no ratio).
    allc = ["--consistency", "linearizable,sequential,eventual"]
    med, wall = porcupine_pass(check, pdir, runs, allc)
    p, _ = run([check, "--json", os.path.join(pdir, "jepsen"), os.path.join(pdir, "kv")] + allc)
    per_key = [r["checks"]["sequential"]["per_key"]["valid"] for r in json.loads(p.stdout)]
    print(f"Porcupine set with {' '.join(allc)} ({runs} runs, medians)")
    for f in sorted(med, key=med.get, reverse=True)[:3]:
        print(f"  {f:28} {med[f]:11.2f}")
    print(f"  {'sum of per-file medians':28} {sum(med.values()):11.1f}")
    print(f"  {'one call, wall (median)':28} {wall:11.1f}")
    print(f"  per-key sequential verdicts: {per_key.count(True)} true, {per_key.count(False)} false, "
          f"{len(per_key) - per_key.count(True) - per_key.count(False)} unknown")
    print()
    print("Generated kv histories (8 keys, 1% timeouts), linearizable+sequential+eventual, median of 3")
    print(f"  {'ops':>7} {'procs':>6} {'time ms':>9} {'peak RSS MiB':>13} {'verdict':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000, 100000):
            for procs in (5, 20, 100):
                path = os.path.join(tmp, f"h{n}_{procs}.jsonl")
                with open(path, "w") as out:
                    subprocess.run([gen, str(n), str(procs)], stdout=out, check=True)
                res = [peak_rss_kb([check, path, "--consistency", "linearizable,sequential,eventual"])
                       for _ in range(3 if n < 100000 else 1)]
                ms = statistics.median(r[0] for r in res)
                rss = max(r[1] for r in res) / 1024
                code = res[0][2]
                verdict = {0: "valid", 1: "INVALID", 2: "unknown"}.get(code, f"exit {code}")
                print(f"  {n:7} {procs:6} {ms:9.1f} {rss:13.1f} {verdict:>8}")


if __name__ == "__main__":
    main()
