#!/usr/bin/env bash
# make bench: median launch latency of sbx-run against raw unshare and bwrap,
# measured interleaved in one run, reported as ratios to unshare.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${SBX_BUILD:-build}
ROUNDS=${BENCH_ROUNDS:-200}

[ "$(id -u)" = 0 ] || { echo "make bench: must run as root (starts a private sandboxd)"; exit 1; }
command -v bwrap >/dev/null || { echo "make bench: bwrap missing (make deps)"; exit 1; }

tmp=$(mktemp -d /tmp/sbx-bench.XXXXXX)
daemon=""
cleanup() {
        if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
        rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/policies" "$tmp/run"
install -m 0644 policy/default.ini "$tmp/policies/default.ini"
"$B/sandboxd" --foreground --policy-dir "$tmp/policies" --run-dir "$tmp/run" \
        --log-level warning 2>"$tmp/sandboxd.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$tmp/run/sandboxd.sock" ] && break; sleep 0.05; done
[ -S "$tmp/run/sandboxd.sock" ] || { cat "$tmp/sandboxd.log"; exit 1; }

cc -O2 -o "$tmp/launch-bench" tests/bench/launch-bench.c
echo "launch latency, $ROUNDS interleaved rounds, payload /bin/true ($(nproc) CPUs, $(uname -r))"
"$tmp/launch-bench" "$ROUNDS" \
        "unshare -miupn -f --mount-proc" unshare -m -i -u -p -n -f --mount-proc /bin/true ';' \
        "sbx-run default" "$B/sbx-run" --socket "$tmp/run/sandboxd.sock" default -- /bin/true ';' \
        "bwrap --unshare-all" bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc /bin/true ';' \
        "/bin/true" /bin/true
