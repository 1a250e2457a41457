#!/usr/bin/env bash
# make bench: median launch latency of sbx-run against raw unshare and bwrap,
# with and without cgroup limits (here, and on cgroup v2 in the tests/cgv2 VM),
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
# The default policy plus memory, tasks and CPU limits: a cgroup per launch.
{ cat policy/default.ini; printf '\n[Resources]\nMemoryMax = 512M\nTasksMax = 256\nCPUQuota = 150%%\n'; } \
        >"$tmp/policies/limits.ini"
chmod 0644 "$tmp/policies/limits.ini"
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
        "sbx-run limits (mem+tasks+cpu)" "$B/sbx-run" --socket "$tmp/run/sandboxd.sock" limits -- /bin/true ';' \
        "bwrap --unshare-all" bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc /bin/true ';' \
        "/bin/true" /bin/true | tee "$tmp/launch"
awk '$1 == "sbx-run" && $2 == "default" { d = $3 } $1 == "sbx-run" && $2 == "limits" { l = $4 }
        END { if (d > 0) printf "  cgroup limits add %.1f%% to the median launch (target <= 10%%)\n", (l / d - 1) * 100 }' \
        "$tmp/launch"

# Seccomp cost: 1M getppid() inside the sandbox, with the default policy's
# ~@default filter and with a copy of it without SystemCallFilter= (only the
# architecture check every filter has), interleaved; medians in ns per call.
# Both copies keep the host /tmp visible (PrivateTmp=no), where the loop is.
SECCOMP_ROUNDS=${BENCH_SECCOMP_ROUNDS:-9}
sed 's/^PrivateTmp = yes/PrivateTmp = no/' policy/default.ini >"$tmp/policies/withfilter.ini"
grep -v '^SystemCallFilter' "$tmp/policies/withfilter.ini" >"$tmp/policies/nofilter.ini"
chmod 0644 "$tmp/policies/withfilter.ini" "$tmp/policies/nofilter.ini"
install -d -m 0755 "$tmp/bin"
cc -O2 -o "$tmp/bin/syscall-loop" tests/bench/syscall-loop.c
chmod 0711 "$tmp"
loop_in() {
        "$B/sbx-run" --socket "$tmp/run/sandboxd.sock" "$1" -- "$tmp/bin/syscall-loop" 1000000
}
: >"$tmp/with" && : >"$tmp/without" && : >"$tmp/host"
for _ in $(seq "$SECCOMP_ROUNDS"); do
        loop_in withfilter >>"$tmp/with"
        loop_in nofilter >>"$tmp/without"
        "$tmp/bin/syscall-loop" 1000000 >>"$tmp/host"
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
with=$(median "$tmp/with") without=$(median "$tmp/without") host=$(median "$tmp/host")
echo
echo "seccomp cost, 1M getppid() per run, median of $SECCOMP_ROUNDS interleaved runs (ns/call)"
printf '  %-46s %8s\n' "sbx-run default (SystemCallFilter=~@default)" "$with" \
        "sbx-run, no SystemCallFilter= (arch check)" "$without" "host, no sandbox" "$host"
awk -v a="$with" -v b="$without" -v h="$host" 'BEGIN {
        printf "  ratio with/without filter: %.3fx (target <= 1.10x); with/host: %.3fx\n", a / b, a / h }'

# The same comparison on cgroup v2, in the qemu VM of tests/cgv2 (where the
# init is cloned straight into its cgroup). Emulated CPUs: only the ratio
# means much. Skipped, with a word, when make deps found no kernel for it.
CGV2_ROUNDS=${BENCH_CGV2_ROUNDS:-60}
echo
echo "cgroup v2 (qemu, software emulation), $CGV2_ROUNDS interleaved rounds, payload /bin/true"
if SBX_CGV2_BENCH=$CGV2_ROUNDS tests/cgv2/run.sh >"$tmp/cgv2" 2>&1; then
        sed -n 's/^# bench: /  /p' "$tmp/cgv2"
else
        echo "  not measured: tests/cgv2/run.sh failed or is not set up (make deps):"
        tail -n 5 "$tmp/cgv2" | sed 's/^/    /'
fi
