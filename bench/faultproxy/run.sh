#!/usr/bin/env bash
# bench/faultproxy/run.sh: faultproxy's benchmark (issue 4, item 8).
#
#   bench/faultproxy/run.sh [BUILD_DIR] [RUNS]
#
# 200-byte datagrams, one sender, one echo receiver, all on 127.0.0.1:
#   (a) direct: sender -> echo
#   (b) through faultproxy with no faults: sender -> proxy -> echo -> proxy -> sender
#   (b') the same with --spin-us 50 (the proxy polls 50 us after traffic
#        before it sleeps)
#   (c) through faultproxy with delay 1ms and 5% drop on every link
# Each configuration runs RUNS times (default 5), interleaved (a, b, b', c,
# a, b, ...) so that the load of a shared machine drifting during the bench
# weighs on every configuration alike; the table shows the median of round
# trips per second (window of 256 in flight, 2 s) and of the round-trip
# p50/p99 (5000 sequential pings; 2000 in (c), whose lost pings each wait
# 50 ms), then the ratio (b)/(a) and the p50 the proxy adds.
# Through the proxy every round trip is two forwarded datagrams, so the
# proxy's forwarding rate is twice the msgs/s column. "proxy dgrams/CPU-s"
# is the proxy's capacity on one core: datagrams it forwarded per second of
# CPU it used (sender, echo and proxy share the machine's cores).
set -euo pipefail
BUILD=${1:-build}
RUNS=${2:-5}
BIN=$BUILD/bin
for b in faultproxy udpbench; do
  [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b missing (cmake --build $BUILD --target $b)" >&2; exit 254; }
done
command -v redis-cli >/dev/null || { echo "run.sh: redis-cli is needed to configure the proxy" >&2; exit 254; }

TMP=$(mktemp -d /tmp/riftlab-fp-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Ports from the pid so two runs on one machine do not collide.
BASE=$(( 20000 + ($$ % 2000) * 10 ))
SEND=127.0.0.1:$BASE
ECHO=127.0.0.1:$((BASE + 1))

one_run() {  # one_run MODE -> prints the udpbench result line
  local mode=$1 to=$ECHO proxy="" pings=5000 spin=()
  [ "$mode" = faults ] && pings=2000
  [ "$mode" = spin ] && spin=(--spin-us 50)
  "$BIN/udpbench" echo --bind "$ECHO" --seconds 60 & local echo_pid=$!
  PIDS+=("$echo_pid")
  if [ "$mode" != direct ]; then
    rm -f "$TMP/ready"
    "$BIN/faultproxy" --node "1,$SEND,0" --node "2,$ECHO,0" --seed 1 --ready "$TMP/ready" \
      --log-level warn "${spin[@]}" & proxy=$!
    PIDS+=("$proxy")
    for _ in $(seq 100); do [ -s "$TMP/ready" ] && break; sleep 0.05; done
    local ctl p2
    ctl=$(awk '$1=="control"{split($2,a,":"); print a[2]}' "$TMP/ready")
    p2=$(awk '$1=="udp" && $2=="n2"{split($3,a,":"); print a[2]}' "$TMP/ready")
    to=127.0.0.1:$p2
    if [ "$mode" = faults ]; then
      redis-cli -p "$ctl" PROXY.RULE '*' '*' delay 1ms drop 0.05 >/dev/null
    fi
  fi
  local out
  out=$("$BIN/udpbench" send --bind "$SEND" --to "$to" --size 200 --window 256 --seconds 2 --pings "$pings")
  if [ -n "$proxy" ]; then
    # The proxy's own cost: datagrams forwarded per CPU-second it used
    # (utime+stime from /proc), which is what one core can carry whatever
    # else the machine is doing.
    local fwd ticks hz
    fwd=$(redis-cli -p "$ctl" PROXY.STATS | grep -o '"forwarded":[0-9]*' | cut -d: -f2 | paste -sd+ | bc)
    ticks=$(awk '{print $14 + $15}' "/proc/$proxy/stat")
    hz=$(getconf CLK_TCK)
    out="$out per_cpu_s=$(awk -v f="$fwd" -v t="$ticks" -v hz="$hz" 'BEGIN{printf "%.0f", t ? f*hz/t : 0}')"
  fi
  echo "$out"
  kill "$echo_pid" 2>/dev/null || true
  [ -n "$proxy" ] && kill "$proxy" 2>/dev/null || true
  wait 2>/dev/null || true
  PIDS=()
}

median() { sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

declare -A MPS P50 P99 CPU
MODES="direct proxy spin faults"
for m in $MODES; do : > "$TMP/$m"; done
for _ in $(seq "$RUNS"); do
  for m in $MODES; do one_run "$m" >> "$TMP/$m"; done
done
for m in $MODES; do
  MPS[$m]=$(field msgs_per_s < "$TMP/$m" | median)
  P50[$m]=$(field rtt_p50_us < "$TMP/$m" | median)
  P99[$m]=$(field rtt_p99_us < "$TMP/$m" | median)
  CPU[$m]=$( (field per_cpu_s < "$TMP/$m"; echo) | grep . | median || true)
done

printf '\nfaultproxy benchmark: 200-byte datagrams, medians of %s runs\n\n' "$RUNS"
printf '%-38s %12s %14s %14s %20s\n' configuration "msgs/s" "RTT p50 (us)" "RTT p99 (us)" "proxy dgrams/CPU-s"
printf '%-38s %12s %14s %14s %20s\n' "(a) direct" "${MPS[direct]}" "${P50[direct]}" "${P99[direct]}" "-"
printf '%-38s %12s %14s %14s %20s\n' "(b) proxy, no faults" "${MPS[proxy]}" "${P50[proxy]}" "${P99[proxy]}" "${CPU[proxy]}"
printf '%-38s %12s %14s %14s %20s\n' "(b') proxy, no faults, --spin-us 50" "${MPS[spin]}" "${P50[spin]}" "${P99[spin]}" "${CPU[spin]}"
printf '%-38s %12s %14s %14s %20s\n' "(c) proxy, delay 1ms + drop 5%" "${MPS[faults]}" "${P50[faults]}" "${P99[faults]}" "${CPU[faults]}"
awk -v a="${MPS[direct]}" -v b="${MPS[proxy]}" -v pa="${P50[direct]}" -v pb="${P50[proxy]}" \
    -v ps="${P50[spin]}" 'BEGIN{
  printf "\nratio (b)/(a) msgs/s: %.2f   proxy forwarding rate in (b): %.0f datagrams/s\n", b/a, 2*b
  printf "added RTT p50: (b) %.1f us   (b\x27) %.1f us\n", pb-pa, ps-pa }'
printf 'load average during the run: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
