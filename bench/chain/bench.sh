#!/usr/bin/env bash
# bench.sh: chain-node against raft-node on loopback, same client, same load.
#
# Three chain data nodes (+ three control nodes) and then three raft-node
# processes (--fsync never: chain-node keeps its state in memory, so this is
# the like-for-like setting) on 127.0.0.1, driven by bench/raft's closed-loop
# client (raft-loadgen) with 256-byte values over 1000 keys:
#   SET                      chain: at the head       raft: at the leader
#   GET linearizable         chain: tail only         raft: ReadIndex at the leader
#   GET spread over 3 nodes  chain: CRAQ at any member raft: sequential at any node
#   SET, one slow replica    chain: the middle node   raft: a follower
#                            (the slow process is stopped 10 ms out of every 20 ms)
# Each cell is the median of BENCH_RUNS runs of BENCH_DURATION. Prints the
# table, the ratios, and whether the chapter's two claims hold here.
#
#   bench/chain/bench.sh                 (uses build/bin; RIFTLAB_BIN overrides)
#   BENCH_RUNS=5 BENCH_DURATION=3s BENCH_CLIENTS="1 16 64" bench/chain/bench.sh
#
# Every process it starts is stopped and its temp directory removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${RIFTLAB_BIN:-$here/../../build/bin}
RUNS=${BENCH_RUNS:-3}
DUR=${BENCH_DURATION:-2s}
CLIENTS=${BENCH_CLIENTS:-"1 16"}
SLOW_CLIENTS=16
KEYS=1000
VALUE=256

for b in chain-node raft-node raft-loadgen; do
  [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b missing (build first, or set RIFTLAB_BIN)" >&2; exit 254; }
done
command -v redis-cli >/dev/null || { echo "bench: redis-cli missing" >&2; exit 254; }

WORK=$(mktemp -d /tmp/rl-chain-bench-XXXXXX)
PIDS=()
SLOWER=""
cleanup() {
  [ -n "$SLOWER" ] && kill "$SLOWER" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: a block derived from our pid.
base=$((30000 + ($$ % 300) * 40))
port() { echo $((base + $1)); }          # $1: a small offset per socket

declare -A PID_OF

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

# cell ARGS... -> CELL="ops p50 p99" (medians over RUNS)
cell() {
  local ops=() p50=() p99=() out i
  for ((i = 0; i < RUNS; i++)); do
    out=$("$BIN/raft-loadgen" --target raft --duration "$DUR" --value-size $VALUE --keys $KEYS "$@") || true
    ops+=("$(sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p' <<<"$out")")
    p50+=("$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
    p99+=("$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")")
  done
  CELL="$(printf '%s\n' "${ops[@]}" | median) $(printf '%s\n' "${p50[@]}" | median) $(printf '%s\n' "${p99[@]}" | median)"
}

# slow PID: stop it 10 ms out of every 20 ms in the background (SLOWER).
slow() {
  local p=$1
  ( while kill -STOP "$p" 2>/dev/null; do sleep 0.01; kill -CONT "$p"; sleep 0.01; done ) &
  SLOWER=$!
}
unslow() {
  kill "$SLOWER" 2>/dev/null || true
  wait "$SLOWER" 2>/dev/null || true
  SLOWER=""
  kill -CONT "$1" 2>/dev/null || true
}

stop_all() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

declare -A C R

# measure ARRAY WRITE_ADDR LIN_READ_ADDR ALL_ADDRS SLOW_ID
measure() {
  local -n cells=$1
  local w=$2 lin=$3 all=$4 slow_id=$5 c
  "$BIN/raft-loadgen" --target raft --addr "$w" --op set --clients 16 --duration 1s --keys $KEYS >/dev/null
  for c in $CLIENTS; do
    echo "bench: $1, $c clients" >&2
    cell --addr "$w" --clients "$c" --op set;                                     cells[set,$c]=$CELL
    cell --addr "$lin" --clients "$c" --op get --consistency linearizable;        cells[lin,$c]=$CELL
    cell --addr "$all" --spread --clients "$c" --op get --consistency sequential; cells[spread,$c]=$CELL
  done
  echo "bench: $1, one slow replica" >&2
  slow "${PID_OF[$slow_id]}"
  cell --addr "$w" --clients $SLOW_CLIENTS --op set;                              cells[slowset,$SLOW_CLIENTS]=$CELL
  unslow "${PID_OF[$slow_id]}"
  cell --addr "$w" --clients $SLOW_CLIENTS --op set;                              cells[fastset,$SLOW_CLIENTS]=$CELL
}

# ---- chain-node ------------------------------------------------------------------
echo "bench: starting 3 control + 3 data chain-node processes in $WORK" >&2
peers=()
for i in 1 2 3; do peers+=(--peer "$i=127.0.0.1:$(port $i)" --peer-client "$i=127.0.0.1:$(port $((i + 10)))"); done
for i in 11 12 13; do peers+=(--peer "$i=127.0.0.1:$(port $((i + 10)))"); done
for i in 11 12 13; do
  "$BIN/chain-node" --role ctrl --id $i --listen "127.0.0.1:$(port $((i + 10)))" --ctrl 11,12,13 \
    --data 1,2,3 --log-level warn "${peers[@]}" 2>"$WORK/c$i.log" &
  PIDS+=($!)
done
for i in 1 2 3; do
  "$BIN/chain-node" --role data --id $i --listen "127.0.0.1:$(port $i)" --client "127.0.0.1:$(port $((i + 10)))" \
    --ctrl 11,12,13 --data 1,2,3 --log-level warn "${peers[@]}" 2>"$WORK/d$i.log" &
  PIDS+=($!)
  PID_OF[c$i]=$!
done
for _ in $(seq 100); do
  redis-cli -p "$(port 13)" GET warmup 2>/dev/null | grep -qv NOTREADY && break
  sleep 0.1
done
PID_OF[2]=${PID_OF[c2]}
measure C "127.0.0.1:$(port 11)" "127.0.0.1:$(port 13)" \
  "127.0.0.1:$(port 11),127.0.0.1:$(port 12),127.0.0.1:$(port 13)" 2
stop_all

# ---- raft-node --------------------------------------------------------------------
echo "bench: starting 3 raft-node (fsync never) in $WORK" >&2
for i in 1 2 3; do
  args=(--id "$i" --listen "127.0.0.1:$(port $((i + 20)))" --client "127.0.0.1:$(port $((i + 30)))"
        --data "$WORK/raft$i" --fsync never --log-level warn)
  for j in 1 2 3; do
    [ "$j" = "$i" ] && continue
    args+=(--peer "$j=127.0.0.1:$(port $((j + 20)))" --peer-client "$j=127.0.0.1:$(port $((j + 30)))")
  done
  "$BIN/raft-node" "${args[@]}" 2>"$WORK/raft$i.log" &
  PIDS+=($!)
  PID_OF[$i]=$!
done
leader=""
for _ in $(seq 100); do
  for i in 1 2 3; do
    if redis-cli -p "$(port $((i + 30)))" RIFT.STATUS 2>/dev/null | grep -q '"role":"leader"'; then leader=$i; fi
  done
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "bench: raft-node elected no leader" >&2; exit 255; }
follower=$((leader % 3 + 1))
measure R "127.0.0.1:$(port $((leader + 30)))" "127.0.0.1:$(port $((leader + 30)))" \
  "127.0.0.1:$(port 31),127.0.0.1:$(port 32),127.0.0.1:$(port 33)" "$follower"
stop_all

# ---- table ------------------------------------------------------------------------
echo
echo "3 replicas on 127.0.0.1, in-memory state (raft-node --fsync never), ${VALUE}-byte values, $KEYS keys; median of $RUNS runs x $DUR"
printf '%-30s %7s | %11s %8s %8s | %10s %8s %8s | %6s\n' "operation" "clients" \
  "chain ops/s" "p50 ms" "p99 ms" "raft ops/s" "p50 ms" "p99 ms" "ratio"
row() {
  local name=$1 key=$2
  read -r co c50 c99 <<<"${C[$key]}"
  read -r ro r50 r99 <<<"${R[$key]}"
  ratio=$(awk -v a="$co" -v b="$ro" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
  printf '%-30s %7s | %11.0f %8.3f %8.3f | %10.0f %8.3f %8.3f | %6s\n' "$name" "${key#*,}" \
    "$co" "$c50" "$c99" "$ro" "$r50" "$r99" "$ratio"
}
for c in $CLIENTS; do row "SET" "set,$c"; done
for c in $CLIENTS; do row "GET linearizable (tail/leader)" "lin,$c"; done
for c in $CLIENTS; do row "GET spread (craq/sequential)" "spread,$c"; done
row "SET, all replicas fast" "fastset,$SLOW_CLIENTS"
row "SET, one slow replica" "slowset,$SLOW_CLIENTS"
echo "(ratio = chain / raft; slow replica: chain's middle node / a raft follower, stopped 10 of every 20 ms)"

last=${CLIENTS##* }
read -r tail_ops _ <<<"${C[lin,$last]}"
read -r craq_ops _ <<<"${C[spread,$last]}"
awk -v t="$tail_ops" -v c="$craq_ops" -v n="$last" 'BEGIN {
  r = (t > 0) ? c / t : 0
  printf "claim 1, CRAQ reads scale with replicas: craq over 3 members / tail only = %.2fx at %s clients -> %s\n",
         r, n, (r > 1.3) ? "agrees" : "does not agree here (all processes share the machine'"'"'s cores, so more replicas add no CPU)" }'
read -r cfo _ cf99 <<<"${C[fastset,$SLOW_CLIENTS]}"
read -r cso _ cs99 <<<"${C[slowset,$SLOW_CLIENTS]}"
read -r rfo _ rf99 <<<"${R[fastset,$SLOW_CLIENTS]}"
read -r rso _ rs99 <<<"${R[slowset,$SLOW_CLIENTS]}"
# The slow process runs half the time, so half the writes pass untouched and
# the median hides the effect: compare throughput and p99 instead.
awk -v cf="$cfo" -v cs="$cso" -v rf="$rfo" -v rs="$rso" -v c99f="$cf99" -v c99s="$cs99" \
    -v r99f="$rf99" -v r99s="$rs99" 'BEGIN {
  c = (cf > 0) ? cs / cf : 0; r = (rf > 0) ? rs / rf : 0
  cp = (c99f > 0) ? c99s / c99f : 0; rp = (r99f > 0) ? r99s / r99f : 0
  printf "claim 2, one slow replica slows every chain write but not raft: SET throughput x%.2f (chain) vs x%.2f (raft), p99 x%.2f vs x%.2f -> %s\n",
         c, r, cp, rp, (c < r - 0.15) ? "agrees" : "does not agree here" }'
