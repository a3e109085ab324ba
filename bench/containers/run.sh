#!/usr/bin/env bash
# bench/containers/run.sh [BUILD_DIR] [RUNS]: time bringing a net of 3, 5 and 9
# hosts up and down, riftlab's libnl code against the same net built with
# iproute2 commands; prints medians and the ratio. Needs root.
set -euo pipefail
build=${1:-build}
runs=${2:-11}
cmake --build "$build" --target bench_containers_hosts >/dev/null
exec nice "$build/bin/bench_containers_hosts" "$runs"
