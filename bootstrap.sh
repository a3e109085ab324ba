#!/usr/bin/env bash
# bootstrap.sh: set up a Debian 12 machine for riftlab, build it, and run it.
#
#   ./bootstrap.sh run [riftlab run args]   install, build, run the default scenario
#   ./bootstrap.sh test                     install, build (normal + sanitizer), run every test
#   ./bootstrap.sh build                    install and build only
#
# Installing is idempotent: packages already present are not touched, so a
# second call goes straight to the build. Needs root to install packages and,
# for the netns backend and the tests labelled `root`, to create namespaces.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake pkg-config           # toolchain
  libnl-3-dev libnl-route-3-dev              # namespaces, veth, bridge, addresses
  libnftnl-dev libmnl-dev                    # partitions as nftables rules
  libssl-dev                                 # HMAC-SHA256 authenticated links
  libyaml-dev libjansson-dev                 # scenarios, histories and results
  libcmocka-dev                              # unit tests
  clang libclang-rt-14-dev                   # sanitizer + libFuzzer build
  valgrind                                   # leak checks of node and proxy binaries
  iproute2 nftables                          # `ip netns`/`nft` for debugging and test assertions
  redis-tools                                # redis-cli against nodes and the proxy
)

install_missing() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 254
  fi
  echo "bootstrap: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
  build)
    install_missing
    build build
    ;;
  run)
    install_missing
    build build
    exec build/bin/riftlab run "$@"
    ;;
  test)
    install_missing
    build build
    # Scenario runs (label `scenario`) mostly wait on paced clients, so they
    # share the machine four at a time; everything else runs one per core.
    ctest --test-dir build --output-on-failure -j"$(nproc)" -LE scenario
    ctest --test-dir build --output-on-failure -j4 -L scenario
    # The same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
    # built with clang so the libFuzzer targets (label `fuzz`) run too. The
    # scenario library is not repeated there (it would double CI time); the
    # sanitized binaries are driven by their own end-to-end tests (label e2e).
    build build-asan -DCMAKE_C_COMPILER=clang -DRIFTLAB_SANITIZE=ON -DRIFTLAB_FUZZ=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE scenario
    ;;
  -h|--help|help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    echo "bootstrap: unknown command '$cmd' (use run, test or build)" >&2
    exit 254
    ;;
esac
