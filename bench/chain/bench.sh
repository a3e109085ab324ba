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
#                            (faultproxy delays every datagram sent TO the slow
#                            replica by BENCH_SLOW_DELAY, default 5ms; the
#                            replica's incoming links always pass the proxy, so
#                            "all replicas fast" is measured through it too)
# Each cell is the median of BENCH_RUNS runs of BENCH_DURATION. Prints the
# table, the ratios, and whether the chapter's two claims hold here.
#
#   bench/chain/bench.sh                 (uses build/bin; RIFTLAB_BIN overrides)
#   BENCH_RUNS=5 BENCH_DURATION=3s BENCH_CLIENTS="1 16 64" BENCH_SLOW_DELAY=10ms bench/chain/bench.sh
#
# Every process it starts is stopped and its temp directory removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${RIFTLAB_BIN:-$here/../../build/bin}
RUNS=${BENCH_RUNS:-3}
DUR=${BENCH_DURATION:-2s}
CLIENTS=${BENCH_CLIENTS:-"1 16"}
SLOW_CLIENTS=16
SLOW_DELAY=${BENCH_SLOW_DELAY:-5ms}
KEYS=1000
VALUE=256

for b in chain-node raft-node raft-loadgen faultproxy; do
  [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b missing (build first, or set RIFTLAB_BIN)" >&2; exit 254; }
done
command -v redis-cli >/dev/null || { echo "bench: redis-cli missing" >&2; exit 254; }

WORK=$(mktemp -d /tmp/rl-chain-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: a block derived from our pid.
base=$((30000 + ($$ % 300) * 40))
port() { echo $((base + $1)); }          # $1: a small offset per socket


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

# proxy SLOW_ID SLOW_ADDR PROXY_PORT CONTROL_PORT SENDER_ID=ADDR...: a faultproxy
# in front of the slow replica only (its peers send to PROXY_PORT; it sends
# to them directly). PCTL = its control port.
proxy() {
  local id=$1 addr=$2 pport=$3 cport=$4 args=() kv
  shift 4
  args+=(--node "$id,$addr,$pport")
  for kv in "$@"; do args+=(--node "${kv%%=*},${kv#*=},0"); done
  "$BIN/faultproxy" "${args[@]}" --control "127.0.0.1:$cport" --seed 1 --log-level warn \
    --ready "$WORK/proxy$id.ready" 2>"$WORK/proxy$id.log" &
  PIDS+=($!)
  PCTL=$cport
  for _ in $(seq 100); do [ -s "$WORK/proxy$id.ready" ] && return 0; sleep 0.05; done
  echo "bench: faultproxy did not start (see $WORK/proxy$id.log)" >&2
  exit 255
}
# slow ID: delay every datagram to node ID; unslow: remove the rule.
slow() { redis-cli -p "$PCTL" PROXY.RULE '*' "$1" delay "$SLOW_DELAY" >/dev/null; }
unslow() { redis-cli -p "$PCTL" PROXY.RESET >/dev/null; }

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
  slow "$slow_id"
  cell --addr "$w" --clients $SLOW_CLIENTS --op set;                              cells[slowset,$SLOW_CLIENTS]=$CELL
  unslow
  cell --addr "$w" --clients $SLOW_CLIENTS --op set;                              cells[fastset,$SLOW_CLIENTS]=$CELL
}

# ---- chain-node ------------------------------------------------------------------
echo "bench: starting 3 control + 3 data chain-node processes in $WORK" >&2
peers=()
for i in 1 3; do peers+=(--peer "$i=127.0.0.1:$(port $i)" --peer-client "$i=127.0.0.1:$(port $((i + 10)))"); done
peers+=(--peer "2=127.0.0.1:$(port 35)" --peer-client "2=127.0.0.1:$(port 12)")   # the middle, via the proxy
proxy 2 "127.0.0.1:$(port 2)" "$(port 35)" "$(port 36)" 1=127.0.0.1:$(port 1) 3=127.0.0.1:$(port 3) \
  11=127.0.0.1:$(port 21) 12=127.0.0.1:$(port 22) 13=127.0.0.1:$(port 23)
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
done
for _ in $(seq 100); do
  redis-cli -p "$(port 13)" GET warmup 2>/dev/null | grep -qv NOTREADY && break
  sleep 0.1
done
measure C "127.0.0.1:$(port 11)" "127.0.0.1:$(port 13)" \
  "127.0.0.1:$(port 11),127.0.0.1:$(port 12),127.0.0.1:$(port 13)" 2
stop_all

# ---- raft-node --------------------------------------------------------------------
echo "bench: starting 3 raft-node (fsync never) in $WORK" >&2
# Node 3 is the slow follower (behind the proxy); it starts after 1 and 2
# have elected a leader, so it is a follower.
proxy 3 "127.0.0.1:$(port 23)" "$(port 37)" "$(port 38)" 1=127.0.0.1:$(port 21) 2=127.0.0.1:$(port 22)
raft_start() {
  local i=$1 j args
  args=(--id "$i" --listen "127.0.0.1:$(port $((i + 20)))" --client "127.0.0.1:$(port $((i + 30)))"
        --data "$WORK/raft$i" --fsync never --log-level warn)
  for j in 1 2 3; do
    [ "$j" = "$i" ] && continue
    if [ "$j" = 3 ]; then args+=(--peer "3=127.0.0.1:$(port 37)"); else args+=(--peer "$j=127.0.0.1:$(port $((j + 20)))"); fi
    args+=(--peer-client "$j=127.0.0.1:$(port $((j + 30)))")
  done
  "$BIN/raft-node" "${args[@]}" 2>"$WORK/raft$i.log" &
  PIDS+=($!)
}
raft_start 1
raft_start 2
leader=""
for _ in $(seq 100); do
  for i in 1 2; do
    if redis-cli -p "$(port $((i + 30)))" RIFT.STATUS 2>/dev/null | grep -q '"role":"leader"'; then leader=$i; fi
  done
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { echo "bench: raft-node elected no leader" >&2; exit 255; }
raft_start 3
follower=3
sleep 1
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
echo "(ratio = chain / raft; slow replica: chain's middle node / a raft follower, every datagram to it delayed $SLOW_DELAY by faultproxy)"

last=${CLIENTS##* }
read -r tail_ops _ <<<"${C[lin,$last]}"
read -r craq_ops _ <<<"${C[spread,$last]}"
awk -v t="$tail_ops" -v c="$craq_ops" -v n="$last" 'BEGIN {
  r = (t > 0) ? c / t : 0
  printf "claim 1, CRAQ reads scale with replicas: craq over 3 members / tail only = %.2fx at %s clients -> %s\n",
         r, n, (r > 1.3) ? "agrees" : "does not agree here (all processes share the machine'"'"'s cores, so more replicas add no CPU)" }'
read -r cfo _ _ <<<"${C[fastset,$SLOW_CLIENTS]}"
read -r cso _ _ <<<"${C[slowset,$SLOW_CLIENTS]}"
read -r rfo _ _ <<<"${R[fastset,$SLOW_CLIENTS]}"
read -r rso _ _ <<<"${R[slowset,$SLOW_CLIENTS]}"
read -r _ cf50 _ <<<"${C[fastset,$SLOW_CLIENTS]}"
read -r _ cs50 _ <<<"${C[slowset,$SLOW_CLIENTS]}"
read -r _ rf50 _ <<<"${R[fastset,$SLOW_CLIENTS]}"
read -r _ rs50 _ <<<"${R[slowset,$SLOW_CLIENTS]}"
# Every datagram to the slow replica is delayed, so "every chain write" means
# the median write: compare p50 (and throughput) slow / fast.
awk -v cf="$cfo" -v cs="$cso" -v rf="$rfo" -v rs="$rso" -v c50f="$cf50" -v c50s="$cs50" \
    -v r50f="$rf50" -v r50s="$rs50" 'BEGIN {
  c = (cf > 0) ? cs / cf : 0; r = (rf > 0) ? rs / rf : 0
  cp = (c50f > 0) ? c50s / c50f : 0; rp = (r50f > 0) ? r50s / r50f : 0
  printf "claim 2, one slow replica slows every chain write but not raft: SET p50 x%.2f (chain) vs x%.2f (raft), throughput x%.2f vs x%.2f -> %s\n",
         cp, rp, c, r, (cp > 1.5 && rp < 1.25) ? "agrees" : "does not agree here" }'
