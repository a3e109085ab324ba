#!/usr/bin/env bash
# bench.sh: raft-node against etcd 3.4, side by side, on loopback.
#
# Three raft-node processes (fsync always) and then three etcd members
# (fsync on, as always in etcd) on 127.0.0.1, each driven by riftlab's own
# closed-loop client (raft-loadgen: RESP for raft-node, etcd's JSON gateway
# /v3/kv/put and /v3/kv/range for etcd) with 1, 16 and 64 concurrent
# clients and 256-byte values: SET, GET linearizable and GET sequential
# (etcd: serializable). Each cell is the median of BENCH_RUNS runs of
# BENCH_DURATION. Prints one table with the ratio raft-node / etcd.
#
#   bench/raft/bench.sh                 (uses build/bin; RIFTLAB_BIN overrides)
#   BENCH_RUNS=5 BENCH_DURATION=5s bench/raft/bench.sh
#
# Installs etcd-server with apt-get if etcd is missing (needs root). Every
# process it starts is killed and its temp directory removed on exit.
set -euo pipefail
case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/raft/bench.sh (settings through BENCH_RUNS, BENCH_DURATION, BENCH_CLIENTS, RIFTLAB_BIN; --help)" >&2; exit 254 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
BIN=${RIFTLAB_BIN:-$here/../../build/bin}
RUNS=${BENCH_RUNS:-3}
DUR=${BENCH_DURATION:-3s}
CLIENTS=${BENCH_CLIENTS:-"1 16 64"}
KEYS=1000
VALUE=256

for b in raft-node raft-loadgen; do
  [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b missing (build first, or set RIFTLAB_BIN)" >&2; exit 254; }
done
if ! command -v etcd >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then echo "bench: etcd missing; run as root to install etcd-server" >&2; exit 254; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
fi

WORK=$(mktemp -d /tmp/rl-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: a block derived from our pid, away from the ephemeral range's usual start.
base=$((20000 + ($$ % 400) * 20))
r_udp() { echo $((base + $1)); }
r_cli() { echo $((base + 3 + $1)); }
e_cli() { echo $((base + 6 + $1)); }
e_peer() { echo $((base + 9 + $1)); }

stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

# run_cell NAME ARGS... -> sets CELL="ops p50 p99" (medians over RUNS)
run_cell() {
  local ops=() p50=() p99=() out i
  for ((i = 0; i < RUNS; i++)); do
    out=$(nice -n 5 "$BIN/raft-loadgen" --duration "$DUR" --value-size $VALUE --keys $KEYS "$@") || true
    ops+=("$(sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p' <<<"$out")")
    p50+=("$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
    p99+=("$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
  done
  CELL="$(printf '%s\n' "${ops[@]}" | median) $(printf '%s\n' "${p50[@]}" | median) $(printf '%s\n' "${p99[@]}" | median)"
}

declare -A R E

# measure ARRAY TARGET LEADER_ADDR ALL_ADDRS: preload the keys, then every
# cell for this system into the associative array named ARRAY.
measure() {
  local -n cells=$1
  local target=$2 lead=$3 all=$4 c
  "$BIN/raft-loadgen" --target "$target" --addr "$lead" --clients 16 --duration 2s --keys $KEYS >/dev/null
  for c in $CLIENTS; do
    echo "bench: $target, $c clients" >&2
    run_cell --target "$target" --addr "$lead" --clients "$c" --op set;                             cells[set,$c]=$CELL
    run_cell --target "$target" --addr "$lead" --clients "$c" --op get --consistency linearizable;  cells[lin,$c]=$CELL
    run_cell --target "$target" --addr "$all" --spread --clients "$c" --op get --consistency sequential; cells[seq,$c]=$CELL
  done
}

# ---- raft-node ---------------------------------------------------------------
echo "bench: starting 3 raft-node (fsync always) in $WORK" >&2
for i in 1 2 3; do
  args=(--id "$i" --listen "127.0.0.1:$(r_udp $i)" --client "127.0.0.1:$(r_cli $i)"
        --data "$WORK/raft$i" --fsync always --log-level warn)
  for j in 1 2 3; do
    [ "$j" = "$i" ] && continue
    args+=(--peer "$j=127.0.0.1:$(r_udp $j)" --peer-client "$j=127.0.0.1:$(r_cli $j)")
  done
  "$BIN/raft-node" "${args[@]}" 2>"$WORK/raft$i.log" &
  PIDS+=($!)
done
leader=""
for _ in $(seq 100); do
  for i in 1 2 3; do
    if redis-cli -p "$(r_cli $i)" RIFT.STATUS 2>/dev/null | grep -q '"role":"leader"'; then leader=$i; fi
  done
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "bench: raft-node elected no leader" >&2; exit 255; }
measure R raft "127.0.0.1:$(r_cli $leader)" "127.0.0.1:$(r_cli 1),127.0.0.1:$(r_cli 2),127.0.0.1:$(r_cli 3)"
stop_all

# ---- etcd ------------------------------------------------------------------------
echo "bench: starting 3 etcd members in $WORK" >&2
cluster="e1=http://127.0.0.1:$(e_peer 1),e2=http://127.0.0.1:$(e_peer 2),e3=http://127.0.0.1:$(e_peer 3)"
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$WORK/etcd$i" \
       --listen-client-urls "http://127.0.0.1:$(e_cli $i)" --advertise-client-urls "http://127.0.0.1:$(e_cli $i)" \
       --listen-peer-urls "http://127.0.0.1:$(e_peer $i)" --initial-advertise-peer-urls "http://127.0.0.1:$(e_peer $i)" \
       --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "rl-bench-$$" \
       --logger zap --log-outputs "$WORK/etcd$i.log" 2>>"$WORK/etcd$i.stderr" &
  PIDS+=($!)
done
eleader=""
for _ in $(seq 150); do
  for i in 1 2 3; do
    st=$(curl -s -m 1 -X POST -d '{}' "http://127.0.0.1:$(e_cli $i)/v3/maintenance/status" || true)
    id=$(sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p' <<<"$st")
    ld=$(sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p' <<<"$st")
    if [ -n "$id" ] && [ "$id" = "$ld" ]; then eleader=$i; fi
  done
  [ -n "$eleader" ] && break
  sleep 0.2
done
[ -n "$eleader" ] || { echo "bench: etcd elected no leader" >&2; exit 255; }
measure E etcd "127.0.0.1:$(e_cli $eleader)" "127.0.0.1:$(e_cli 1),127.0.0.1:$(e_cli 2),127.0.0.1:$(e_cli 3)"
stop_all

# ---- table -----------------------------------------------------------------------
echo
echo "3 nodes on 127.0.0.1, fsync on, ${VALUE}-byte values, $KEYS keys; median of $RUNS runs x $DUR"
printf '%-18s %7s | %10s %8s %8s | %10s %8s %8s | %6s\n' "operation" "clients" \
  "raft ops/s" "p50 ms" "p99 ms" "etcd ops/s" "p50 ms" "p99 ms" "ratio"
for op in set lin seq; do
  case $op in set) name="SET";; lin) name="GET linearizable";; seq) name="GET sequential";; esac
  for c in $CLIENTS; do
    read -r ro r50 r99 <<<"${R[$op,$c]}"
    read -r eo e50 e99 <<<"${E[$op,$c]}"
    ratio=$(awk -v a="$ro" -v b="$eo" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    printf '%-18s %7s | %10.0f %8.3f %8.3f | %10.0f %8.3f %8.3f | %6s\n' "$name" "$c" \
      "$ro" "$r50" "$r99" "$eo" "$e50" "$e99" "$ratio"
  done
done
echo "(GET sequential: raft-node CONSISTENCY sequential, etcd serializable; clients spread over the 3 nodes)"
