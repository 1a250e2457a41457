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
daemon="" netdaemon="" keeper="" holder=""
cleanup() {
        local p
        # The keeper first (its container leaves the network), then the daemons,
        # then the namespace holder: whatever is left in its namespace goes with it.
        for p in $keeper $netdaemon $daemon $holder; do
                kill "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
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

# Network cost: Mode=network against Mode=none, interleaved, from one daemon
# that runs in a network namespace of its own (never the host's network).
# A "keeper" container stays on the network during the run, so each launch
# pays for its veth pair, its lease and eth0's set-up, not for the network's
# creation; a second network without a keeper measures that too (bridge, its
# address and an nft NAT table made and removed on every launch).
NET_ROUNDS=${BENCH_NET_ROUNDS:-200}
command -v nft >/dev/null || { echo "make bench: nft missing (make deps)"; exit 1; }
unshare -n sleep 1000000 </dev/null >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do
        [ "$(readlink /proc/$holder/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
        sleep 0.01
done
nsenter -t "$holder" -n ip link set lo up
install -d -m 0755 "$tmp/networks" "$tmp/run-net"
printf '[Network]\nBridge = sbxbench0\nAddress = 10.213.99.1/24\n' >"$tmp/networks/bench.ini"
printf '[Network]\nBridge = sbxbench1\nAddress = 10.213.98.1/24\nNAT = yes\n' >"$tmp/networks/fresh.ini"
sed 's/^Mode = none/Mode = network\nNetwork = bench/' policy/default.ini >"$tmp/policies/net.ini"
sed 's/^Mode = none/Mode = network\nNetwork = fresh/' policy/default.ini >"$tmp/policies/netfresh.ini"
chmod 0644 "$tmp"/networks/*.ini "$tmp"/policies/net*.ini
nsenter -t "$holder" -n "$B/sandboxd" --foreground --policy-dir "$tmp/policies" \
        --run-dir "$tmp/run-net" --network-dir "$tmp/networks" --log-level debug \
        2>"$tmp/sandboxd-net.log" &
netdaemon=$!
for _ in $(seq 100); do [ -S "$tmp/run-net/sandboxd.sock" ] && break; sleep 0.05; done
[ -S "$tmp/run-net/sandboxd.sock" ] || { cat "$tmp/sandboxd-net.log"; exit 1; }
NS=$tmp/run-net/sandboxd.sock
"$B/sbx-run" --socket "$NS" net -- sleep 1000000 </dev/null >/dev/null 2>&1 &
keeper=$!
for _ in $(seq 100); do nsenter -t "$holder" -n ip link show sbxbench0 >/dev/null 2>&1 && break; sleep 0.05; done
echo
echo "network: launch latency, $NET_ROUNDS interleaved rounds, in a network namespace of the bench's own"
nsenter -t "$holder" -n "$tmp/launch-bench" "$NET_ROUNDS" \
        "sbx-run Mode=none" "$B/sbx-run" --socket "$NS" default -- /bin/true ';' \
        "sbx-run Mode=network" "$B/sbx-run" --socket "$NS" net -- /bin/true | tee "$tmp/launch-net"
awk '$2 == "Mode=none" { n = $3 } $2 == "Mode=network" { w = $3 }
        END { printf "  Mode=network adds %.2f ms to the median launch (%.2fx Mode=none; target <= 10 ms)\n", w - n, w / n }' \
        "$tmp/launch-net"
# firejail (optional, not in make deps): --net=BRIDGE probes the subnet for a
# free address with ARP (about a second), so fewer rounds, interleaved with
# sbx-run again so that the four rows compare.
if command -v firejail >/dev/null; then
        FJ_ROUNDS=${BENCH_FIREJAIL_ROUNDS:-20}
        echo
        echo "network against firejail, $FJ_ROUNDS interleaved rounds (firejail $(firejail --version | awk 'NR == 1 { print $3 }'), as root)"
        nsenter -t "$holder" -n "$tmp/launch-bench" "$FJ_ROUNDS" \
                "sbx-run Mode=none" "$B/sbx-run" --socket "$NS" default -- /bin/true ';' \
                "sbx-run Mode=network" "$B/sbx-run" --socket "$NS" net -- /bin/true ';' \
                "firejail --net=none" firejail --quiet --noprofile --net=none /bin/true ';' \
                "firejail --net=sbxbench0" firejail --quiet --noprofile --net=sbxbench0 /bin/true |
                tee "$tmp/launch-fj"
        awk '$2 == "Mode=none" { n = $3 } $2 == "Mode=network" { w = $3 }
                $1 == "firejail" && $2 == "--net=none" { fn = $3 } $1 == "firejail" && $2 ~ /^--net=sbx/ { fb = $3 }
                END { printf "  veth networking adds: sbx-run %.2f ms, firejail %.2f ms\n", w - n, fb - fn }' "$tmp/launch-fj"
else
        echo "  (firejail not installed: no comparison with firejail --net)"
fi

# A network's first user creates it (bridge, its address, forwarding, an nft
# NAT table); its last one removes it, after EXITED. Sequential runs, each
# after the previous network is wholly gone (its state directory last, so
# the next run does not wait for the previous one's lock).
FRESH_ROUNDS=${BENCH_FRESH_ROUNDS:-20}
: >"$tmp/fresh"
for _ in $(seq "$FRESH_ROUNDS"); do
        for _ in $(seq 200); do
                if [ ! -e "$tmp/run-net/net/network-fresh" ] &&
                        ! nsenter -t "$holder" -n ip link show sbxbench1 >/dev/null 2>&1; then
                        break
                fi
                sleep 0.01
        done
        t0=$(date +%s%N)
        "$B/sbx-run" --socket "$NS" netfresh -- /bin/true
        echo $(( ($(date +%s%N) - t0) / 1000 )) >>"$tmp/fresh"
done

# Where the time goes, from the controllers' debug lines (medians, ms).
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", v[int((NR + 1) / 2)]; else printf "-" }'; }
grep 'sandbox net-[0-9]' "$tmp/sandboxd-net.log" >"$tmp/net-steady.log" || true
grep 'sandbox netfresh-[0-9]' "$tmp/sandboxd-net.log" >"$tmp/net-fresh.log" || true
field() { grep -o "$1 [0-9.]*" "$2" | awk '{ print $NF }' | med; }
printf '  per launch, in the controller: lease %s ms, veth %s ms, eth0 address+route %s ms (overlapping the init'"'"'s mounts); after EXITED: removal %s ms\n' \
        "$(field 'in' <(grep -o 'prepared .*' "$tmp/net-steady.log"))" \
        "$(field 'veth in' "$tmp/net-steady.log")" "$(field 'configured in' "$tmp/net-steady.log")" \
        "$(field 'removed in' "$tmp/net-steady.log")"
printf '  first user, %s sequential runs: sbx-run %s ms (median, wall); creating the network %s ms, of which nft %s ms; removing it %s ms (after EXITED)\n' \
        "$FRESH_ROUNDS" "$(awk '{ print $1 / 1000 }' "$tmp/fresh" | med)" \
        "$(field 'in' <(grep -o 'prepared .*' "$tmp/net-fresh.log"))" \
        "$(field 'nft in' "$tmp/net-fresh.log")" "$(field 'removed in' "$tmp/net-fresh.log")"
