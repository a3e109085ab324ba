#!/usr/bin/env bash
# bench/containers/run.sh [BUILD_DIR] [RUNS]: time bringing a net of 3, 5 and 9
# hosts up and down, riftlab's libnl code against the same net built with
# iproute2 commands; prints medians and the ratio. Needs root.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "usage: bench/containers/run.sh [BUILD_DIR] [RUNS]" >&2; exit 254 ;;
esac
build=${1:-build}
runs=${2:-11}
cmake --build "$build" --target bench_containers_hosts >/dev/null
exec nice "$build/bin/bench_containers_hosts" "$runs"
