#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# [Resources] limits through cgroups, for real on this machine's cgroup v1
# (hybrid) layout: memory and task limits are enforced and reported, CPUQuota
# holds a spinner near its share, AllowedCPUs pins, the sandbox cannot write
# the files that bound it, its parent's limits stay as they were, and no
# lxsandbox-* cgroup is left behind, even after kill -9 of a controller.
# Paths are always derived from /proc/<daemon pid>/cgroup.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

# sbx_limits_policy NAME FILES-LINE RESOURCE-LINE...: a policy like the
# default one, with the given [Files] line and [Resources] lines.
sbx_limits_policy() {
        local name=$1 files=$2
        shift 2
        {
                printf '[Sandbox]\nNamespaces = mount ipc uts pid net\nHostname = sandbox\n\n'
                printf '[Access]\nUsers = *\n\n'
                printf '[Files]\nPrivateTmp = yes\n%s\n\n' "$files"
                printf '[Resources]\n'
                printf '%s\n' "$@"
        } | sbx_write_policy "$name"
}

setup_file() {
        sbx_setup_file
        [[ -z ${SBX_SKIP_REASON:-} ]] || return 0
        local c
        case $SBX_CGROUP_MODE in
        hybrid | legacy) ;;
        *)
                # The v2 backend is tested against a fake tree (test-cgroup);
                # for real it needs the qemu harness, not built yet.
                export SBX_SKIP_REASON="cgroup layout '$SBX_CGROUP_MODE': these tests drive cgroup v1"
                return 0
                ;;
        esac
        for c in memory pids cpu cpuacct cpuset; do
                if [[ ! -f /sys/fs/cgroup/$c/cgroup.procs ]]; then
                        export SBX_SKIP_REASON="cgroup v1 controller '$c' is not mounted"
                        return 0
                fi
        done
        sbx_limits_policy memlimit 'ReadOnlyPaths = /' 'MemoryMax = 64M'
        sbx_limits_policy tasklimit 'ReadOnlyPaths = /' 'TasksMax = 32'
        sbx_limits_policy cpuquota 'ReadOnlyPaths = /' 'CPUQuota = 50%'
        sbx_limits_policy pinned 'ReadOnlyPaths = /' 'AllowedCPUs = 0'
        sbx_limits_policy badcpus 'ReadOnlyPaths = /' 'AllowedCPUs = 0-4095'
        # Everything at once, with the host's file system left writable (no
        # ReadOnlyPaths=): only permissions keep the sandbox from its cgroup.
        sbx_limits_policy all '' 'MemoryMax = 64M' 'MemoryHigh = 48M' 'MemorySwapMax = 0' \
                'TasksMax = 32' 'CPUQuota = 150%' 'CPUWeight = 200' 'AllowedCPUs = 0'
        sbx_limits_policy ioweight 'ReadOnlyPaths = /' 'IOWeight = 1000'
        sbx_limits_policy stats 'ReadOnlyPaths = /' 'MemoryMax = 256M' 'TasksMax = 64' 'CPUWeight = 100'
        # The host's /dev (PrivateDevices = no), so host device nodes are there to refuse.
        sbx_limits_policy devclosed $'ReadOnlyPaths = /\nPrivateDevices = no' 'DevicePolicy = closed'
        sbx_limits_policy devopen $'ReadOnlyPaths = /\nPrivateDevices = no' 'TasksMax = 64'
        sbx_limits_policy devstrict 'ReadOnlyPaths = /' 'DevicePolicy = strict' 'DeviceAllow = /dev/zero r'
        sbx_limits_policy devmissing 'ReadOnlyPaths = /' 'DeviceAllow = /dev/lxsandbox-no-such-device rw'
        sbx_limits_policy devclass 'ReadOnlyPaths = /' 'DevicePolicy = strict' 'DeviceAllow = char-mem r'
        sbx_limits_policy memnodes 'ReadOnlyPaths = /' 'AllowedMemoryNodes = 0'
        sbx_limits_policy badnodes 'ReadOnlyPaths = /' 'AllowedMemoryNodes = 0-63'
}
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

# The daemon's cgroup directory in v1 hierarchy $1.
sbx_cg_parent() {
        local ctrls path c
        while IFS=: read -r _ ctrls path; do
                for c in ${ctrls//,/ }; do
                        if [[ $c == "$1" ]]; then
                                printf '/sys/fs/cgroup/%s%s\n' "$1" "${path%/}"
                                return 0
                        fi
                done
        done <"/proc/$SBX_DAEMON_PID/cgroup"
        return 1
}

# The cgroup directory of container $2 in hierarchy $1.
sbx_cg_of() {
        printf '%s/lxsandbox-%s\n' "$(sbx_cg_parent "$1")" "$2"
}

# Limit files of the daemon's own cgroups, "file value" a line.
sbx_parent_limits() {
        local f d
        for f in memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes \
                pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares \
                cpuset/cpuset.cpus cpuset/cpuset.mems; do
                d=$(sbx_cg_parent "${f%%/*}") || continue
                [[ -r $d/${f#*/} ]] && printf '%s %s\n' "$f" "$(<"$d/${f#*/}")"
        done
        return 0
}

# True when cgroup directory $1 has processes (cgroupfs files have size 0).
sbx_cg_populated() {
        [[ -r $1/cgroup.procs && -n $(<"$1/cgroup.procs") ]]
}

sbx_oom_kills() {
        awk '$1 == "oom_kill" { print $2 }' "$(sbx_cg_parent memory)/memory.oom_control"
}

@test "MemoryMax: a memory hog is OOM-killed and reported, the host is unaffected" {
        local before
        before=$(sbx_oom_kills)
        run --separate-stderr sbx_run1 memlimit -- "$SBX_PY" -c '
a = []
while len(a) < 1024:  # 1 GiB at most
    a.append(b"x" * (1 << 20))
print("not killed")'
        sbx_assert_status 137
        sbx_assert_match stderr "$stderr" '^sbx-run: killed: out of memory \(MemoryMax=64M\)$'
        sbx_assert_no_match stdout "$output" 'not killed'
        # The OOM happened in the container's cgroup, not in ours.
        [[ $(sbx_oom_kills) == "$before" ]] || sbx_fail "the daemon's cgroup saw an OOM kill"
        sbx_daemon_alive || sbx_fail "sandboxd died"
        run --separate-stderr sbx_run1 default -- true
        sbx_assert_status 0
        sbx_assert_clean
}

@test "MemoryMax: a command under the limit runs normally and nothing is reported" {
        run --separate-stderr sbx_run1 memlimit -- "$SBX_PY" -c 'a = b"x" * (16 << 20); print("ok")'
        sbx_assert_status 0
        [[ $output == ok ]] || sbx_fail "unexpected output '$output'"
        [[ -z $stderr ]] || sbx_fail "unexpected stderr '$stderr'"
}

@test "TasksMax: a bounded fork bomb is contained, reported, and the container still ends" {
        local name=$SBX_U1-bomb tok n i
        tok=987.$(sbx_token)
        # Forks up to 200 sleepers, counts what the kernel allowed, then waits.
        sbx_bg "$SBX_U1" "$SBX_T/bomb" "$SBX_RUN" --name "$name" tasklimit -- "$SBX_PY" -c '
import os, sys, time
n = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        continue
    if pid == 0:
        os.execvp("sleep", ["sleep", sys.argv[1]])
    n += 1
print(n, flush=True)
time.sleep(60)' "$tok"
        sbx_poll 20 test -s "$SBX_T/bomb.out" || { cat "$SBX_T/bomb.err" >&2; sbx_fail "no count"; }
        n=$(<"$SBX_T/bomb.out")
        # 32 tasks: the init, python and at most 30 sleepers.
        ((n > 0 && n <= 30)) || sbx_fail "forked $n sleepers under TasksMax=32"
        i=$(<"$(sbx_cg_of pids "$name")/pids.current")
        ((i <= 32)) || sbx_fail "pids.current is $i"
        (($(sbx_pids_running sleep "$tok" | wc -l) == n)) || sbx_fail "sleepers outside the count"
        run --separate-stderr sbx_ctl1 stop "$name"
        sbx_assert_status 0
        sbx_wait_pid "$SBX_BG_PID" 15 || sbx_fail "the container did not end after stop"
        sbx_assert_match stderr "$(<"$SBX_T/bomb.err")" '^sbx-run: fork failed: TasksMax=32 reached$'
        sbx_poll 10 sbx_not_running sleep "$tok" || sbx_fail "sleepers left"
        [[ ! -e $(sbx_cg_of pids "$name") ]] || sbx_fail "pids cgroup left"
        sbx_assert_clean
}

@test "CPUQuota=50% keeps a spinner near half a CPU" {
        local name=$SBX_U1-spin d u0 u1 t0 t1 pct
        sbx_bg "$SBX_U1" "$SBX_T/spin" "$SBX_RUN" --name "$name" cpuquota -- sh -c 'while :; do :; done'
        d=$(sbx_cg_of cpuacct "$name")
        sbx_poll 10 sbx_cg_populated "$d" || { cat "$SBX_T/spin.err" >&2; sbx_fail "no cgroup $d"; }
        [[ $(<"$(sbx_cg_of cpu "$name")/cpu.cfs_quota_us") == 50000 ]] || sbx_fail "quota not set"
        sleep 0.5
        u0=$(<"$d/cpuacct.usage")
        t0=$(sbx_now_us)
        sleep 2
        u1=$(<"$d/cpuacct.usage")
        t1=$(sbx_now_us)
        # ns of CPU per us of wall time, in percent.
        pct=$(((u1 - u0) / (t1 - t0) / 10))
        echo "# spinner used ${pct}% of a CPU" >&3
        ((pct >= 30 && pct <= 70)) || sbx_fail "spinner used ${pct}% of a CPU under CPUQuota=50%"
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_assert_clean
}

@test "AllowedCPUs=0 pins the sandbox to CPU 0" {
        run --separate-stderr sbx_run1 pinned -- sh -c 'grep Cpus_allowed_list /proc/self/status'
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^Cpus_allowed_list:[[:space:]]+0$'
}

@test "AllowedCPUs naming CPUs the host lacks is an error at start" {
        run --separate-stderr sbx_run1 badcpus -- true
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" "policy 'badcpus': AllowedCPUs=0-4095 names CPUs this host does not have \(available: [0-9,-]+\)"
        sbx_assert_clean
}

@test "the sandbox cannot write its own limits or leave its cgroup; the parent's are unchanged" {
        local name=$SBX_U1-ro before after
        before=$(sbx_parent_limits)
        # Inside, /sys/fs/cgroup shows the sandbox's own cgroup as each root.
        run --separate-stderr sbx_run1 --name "$name" all -- sh -c '
                for f in memory/memory.limit_in_bytes pids/pids.max pids/cgroup.procs cpu/cpu.shares; do
                        if echo 1000000000 >"/sys/fs/cgroup/$f"; then echo "wrote $f"; fi
                done
                mkdir /sys/fs/cgroup/pids/escape && echo "made a child cgroup"
                mkdir /sys/fs/cgroup/escape && echo "made a hierarchy"
                cat /proc/self/cgroup'
        sbx_assert_status 0
        sbx_assert_no_match stdout "$output" 'wrote|made a child|made a hierarchy'
        sbx_assert_match stderr "$stderr" 'Read-only file system|Permission denied'
        # A cgroup namespace: the sandbox sees its own cgroup as the root.
        sbx_assert_match stdout "$output" '^[0-9]+:memory:/$'
        sbx_assert_match stdout "$output" '^[0-9]+:pids:/$'
        after=$(sbx_parent_limits)
        [[ $before == "$after" ]] || sbx_fail "parent limits changed:" "$before" "---" "$after"
        sbx_assert_clean
}

@test "/sys/fs/cgroup inside shows the sandbox's own limits and no other cgroup" {
        local name=$SBX_U1-view tok other
        tok=986.$(sbx_token)
        # Another container with limits runs meanwhile: its cgroup must not show.
        sbx_bg "$SBX_U2" "$SBX_T/other" "$SBX_RUN" --name "$SBX_U2-other" all -- sleep "$tok"
        other=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "$tok" || { cat "$SBX_T/other.err" >&2; sbx_fail "not started"; }
        run --separate-stderr sbx_run1 --name "$name" all -- sh -c '
                cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
                ls /sys/fs/cgroup
                find /sys/fs/cgroup -mindepth 2 -type d | sed "s/^/dir /"'
        kill "$other" 2>/dev/null || true
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^67108864$'
        sbx_assert_match stdout "$output" '^32$'
        # Only the hierarchies the limits need; no child cgroup of anyone's.
        sbx_assert_no_match stdout "$output" '^(freezer|systemd|unified|net_cls.*)$'
        sbx_assert_no_match stdout "$output" '^dir '
        sbx_assert_no_match stdout "$output" "lxsandbox-|$SBX_U2"
        sbx_wait_pid "$other" 10 || true
        sbx_assert_clean
}

@test "the limits are written where they belong while the sandbox runs" {
        local name=$SBX_U1-files tok pid c
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/files" "$SBX_RUN" --name "$name" all -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || { cat "$SBX_T/files.err" >&2; sbx_fail "not started"; }
        [[ $(<"$(sbx_cg_of memory "$name")/memory.limit_in_bytes") == 67108864 ]] || sbx_fail "memory"
        [[ $(<"$(sbx_cg_of memory "$name")/memory.soft_limit_in_bytes") == 50331648 ]] || sbx_fail "soft"
        [[ $(<"$(sbx_cg_of pids "$name")/pids.max") == 32 ]] || sbx_fail "pids.max"
        # memsw is memory plus swap (only with swap accounting).
        c=$(sbx_cg_of memory "$name")/memory.memsw.limit_in_bytes
        [[ ! -e $c || $(<"$c") == 67108864 ]] || sbx_fail "memsw $(<"$c")"
        [[ $(<"$(sbx_cg_of cpu "$name")/cpu.cfs_quota_us") == 150000 ]] || sbx_fail "quota"
        [[ $(<"$(sbx_cg_of cpu "$name")/cpu.cfs_period_us") == 100000 ]] || sbx_fail "period"
        [[ $(<"$(sbx_cg_of cpu "$name")/cpu.shares") == 2048 ]] || sbx_fail "shares"
        [[ $(<"$(sbx_cg_of cpuset "$name")/cpuset.cpus") == 0 ]] || sbx_fail "cpuset"
        # Owned by root, so the user cannot write them.
        [[ $(stat -c %U "$(sbx_cg_of pids "$name")") == root ]] || sbx_fail "not root-owned"
        # The sandboxed process is in every one of them.
        pid=$(sbx_pids_running sleep "$tok")
        for c in memory pids cpu cpuacct cpuset; do
                grep -qx "$pid" "$(sbx_cg_of "$c" "$name")/cgroup.procs" || sbx_fail "not in $c"
        done
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_assert_clean
}

@test "IOWeight sets the proportional I/O weight (blkio, BFQ)" {
        local name=$SBX_U1-io tok d
        [[ -f /sys/fs/cgroup/blkio/cgroup.procs ]] || skip "no blkio hierarchy"
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/io" "$SBX_RUN" --name "$name" ioweight -- sleep "$tok"
        if ! sbx_poll 10 sbx_is_running sleep "$tok"; then
                # Without BFQ (or CFQ) there is no weight to set: the start fails, and says why.
                sbx_wait_pid "$SBX_BG_PID" 10 || true
                sbx_assert_match stderr "$(<"$SBX_T/io.err")" 'Failed to set IOWeight=1000'
                skip "no proportional I/O scheduler here"
        fi
        d=$(sbx_cg_of blkio "$name")
        if [[ -e $d/blkio.bfq.weight ]]; then
                # 1000 * 5, clamped to 1000 (systemd's mapping); BFQ shows "default N".
                sbx_assert_match blkio.bfq.weight "$(<"$d/blkio.bfq.weight")" '(^| )1000$'
        else
                [[ $(<"$d/blkio.weight") == 1000 ]] || sbx_fail "blkio.weight $(<"$d/blkio.weight")"
        fi
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_assert_clean
}

@test "a policy without limits creates no cgroup" {
        local tok pid
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/nolim" "$SBX_RUN" default -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || sbx_fail "not started"
        pid=$(sbx_pids_running sleep "$tok")
        [[ -z $(sbx_cgroup_dirs_of "$pid") ]] || sbx_fail "in cgroups:" "$(sbx_cgroup_dirs_of "$pid")"
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_assert_clean
}

@test "kill -9 of a controller leaves no cgroup behind" {
        local name=$SBX_U1-k9 tok ctl c
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/k9" "$SBX_RUN" --name "$name" all -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || { cat "$SBX_T/k9.err" >&2; sbx_fail "not started"; }
        [[ -d $(sbx_cg_of pids "$name") ]] || sbx_fail "no cgroup"
        ctl=$(sbx_ctl1 info "$name" --json | sbx_json_get controller_pid)
        [[ $ctl =~ ^[0-9]+$ && $ctl -gt 1 ]] || sbx_fail "no controller pid '$ctl'"
        kill -KILL "$ctl"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_poll 10 sbx_not_running sleep "$tok" || sbx_fail "sleep left"
        for c in memory pids cpu cpuacct cpuset; do
                sbx_poll 10 test ! -e "$(sbx_cg_of "$c" "$name")" || sbx_fail "$c cgroup left"
        done
        sbx_assert_clean
}

@test "200 runs with limits leave no cgroup behind" {
        SBX_CMD_TIMEOUT=120 run --separate-stderr sbx_as "$SBX_U1" sh -c '
                i=0
                while [ $i -lt 200 ]; do
                        "$1" all -- true </dev/null || { echo "run $i: exit $?"; exit 1; }
                        i=$((i + 1))
                done' _ "$SBX_RUN"
        sbx_assert_status 0
        sbx_assert_clean
        [[ -z $(sbx_cgroup_leftovers) ]] || sbx_fail "left:" "$(sbx_cgroup_leftovers)"
}

# sbx_stats_field NAME EXPR: one value of 'sbxctl stats NAME --json' (a Python
# expression over d), as the first test user.
sbx_stats_field() {
        sbx_ctl1 stats "$1" --json | "$SBX_PY" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

@test "sbxctl stats: CPU time grows for a spinner, memory and tasks are counted" {
        local name=$SBX_U1-stats d u0 u1 n
        sbx_bg "$SBX_U1" "$SBX_T/stats" "$SBX_RUN" --name "$name" stats -- sh -c 'while :; do :; done'
        d=$(sbx_cg_of cpuacct "$name")
        sbx_poll 10 sbx_cg_populated "$d" || { cat "$SBX_T/stats.err" >&2; sbx_fail "no cgroup $d"; }
        u0=$(sbx_stats_field "$name" 'd["cpu"]["usage_ns"]')
        sleep 1
        u1=$(sbx_stats_field "$name" 'd["cpu"]["usage_ns"]')
        echo "# spinner: $(((u1 - u0) / 1000000)) ms of CPU in about 1 s" >&3
        ((u1 - u0 > 300000000)) || sbx_fail "CPU usage grew by $((u1 - u0)) ns in 1 s"
        (($(sbx_stats_field "$name" 'd["memory"]["current"]') > 0)) || sbx_fail "memory.current 0"
        [[ $(sbx_stats_field "$name" 'd["memory"]["max"]') == 268435456 ]] || sbx_fail "memory max"
        (($(sbx_stats_field "$name" 'd["tasks"]["current"]') >= 1)) || sbx_fail "no tasks"
        [[ $(sbx_stats_field "$name" 'd["tasks"]["max"]') == 64 ]] || sbx_fail "tasks max"
        [[ $(sbx_stats_field "$name" 'd["cgroup_version"]') == 1 ]] || sbx_fail "version"
        # Per CPU (v1 cpuacct.usage_percpu): one value per possible CPU, summing to the total.
        n=$(sbx_stats_field "$name" 'len(d["cpu"]["percpu_ns"])')
        [[ $n == $(wc -w <"$d/cpuacct.usage_percpu") ]] || sbx_fail "$n per-CPU values"
        [[ $(sbx_stats_field "$name" 'd["io"] is None') == True ]] || sbx_fail "I/O without blkio"
        run --separate-stderr sbx_ctl1 stats "$name"
        sbx_assert_status 0
        sbx_assert_match stdout "$output" "^Container: $name \(cgroup v1\)$"
        sbx_assert_match stdout "$output" '^CPU: +[0-9]+\.[0-9]{3}s$'
        sbx_assert_match stdout "$output" '^  per-CPU: cpu0=[0-9.]+s'
        sbx_assert_match stdout "$output" '^Memory: +[0-9.]+[BKMG]+ current, [0-9.]+[BKMG]+ peak, limit 256\.0M, 0 OOM kills$'
        sbx_assert_match stdout "$output" '^Tasks: +[0-9]+ \(limit 64\)$'
        sbx_assert_match stdout "$output" '^I/O: +unavailable'
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_assert_clean
}

@test "sbxctl set TasksMax live: pids.max changes and a fork beyond it fails" {
        local name=$SBX_U1-set tok pids n
        tok=987.$(sbx_token)
        pids=$(sbx_cg_of pids "$name")
        # Waits until it sees the new limit, then forks up to 10 sleepers.
        sbx_bg "$SBX_U1" "$SBX_T/set" "$SBX_RUN" --name "$name" tasklimit -- "$SBX_PY" -c '
import os, sys, time
for _ in range(400):
    if open(sys.argv[1] + "/pids.max").read().strip() == "4":
        break
    time.sleep(0.05)
else:
    print("limit not seen", flush=True)
    sys.exit(1)
n = 0
for _ in range(10):
    try:
        pid = os.fork()
    except OSError:
        continue
    if pid == 0:
        os.execvp("sleep", ["sleep", sys.argv[2]])
    n += 1
print(n, flush=True)
time.sleep(60)' /sys/fs/cgroup/pids "$tok"
        sbx_poll 10 sbx_cg_populated "$pids" || { cat "$SBX_T/set.err" >&2; sbx_fail "not started"; }
        [[ $(<"$pids/pids.max") == 32 ]] || sbx_fail "pids.max $(<"$pids/pids.max") at start"
        run --separate-stderr sbx_ctl1 set "$name" TasksMax=4
        sbx_assert_status 0
        sbx_assert_match stdout "$output" "^$name: changed TasksMax=4 \(was 32\)$"
        [[ $(<"$pids/pids.max") == 4 ]] || sbx_fail "pids.max $(<"$pids/pids.max") after set"
        sbx_poll 20 test -s "$SBX_T/set.out" || { cat "$SBX_T/set.err" >&2; sbx_fail "no count"; }
        n=$(<"$SBX_T/set.out")
        # 4 tasks: the init, python and at most 2 sleepers.
        [[ $n =~ ^[0-9]+$ ]] && ((n <= 2)) || sbx_fail "forked '$n' sleepers under TasksMax=4"
        (($(<"$pids/pids.current") <= 4)) || sbx_fail "pids.current $(<"$pids/pids.current")"
        # Validated as in a policy file; errors name the key and the value.
        run --separate-stderr sbx_ctl1 set "$name" TasksMax=lots
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" "TasksMax: expected a number of tasks .*got 'lots'"
        run --separate-stderr sbx_ctl1 set "$name" Hostname=x
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" 'Hostname'
        run --separate-stderr sbx_ctl1 set "$name" 'NoSuchKey=1'
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" 'NoSuchKey: unknown key'
        # v1: no memory hierarchy was made for this container.
        run --separate-stderr sbx_ctl1 set "$name" MemoryMax=64M
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" 'cannot set MemoryMax=64M on a running container: it has no memory cgroup'
        [[ $(<"$pids/pids.max") == 4 ]] || sbx_fail "pids.max changed by a refused set"
        run --separate-stderr sbx_ctl1 stop "$name"
        sbx_assert_status 0
        sbx_wait_pid "$SBX_BG_PID" 15 || sbx_fail "the container did not end after stop"
        sbx_poll 10 sbx_not_running sleep "$tok" || sbx_fail "sleepers left"
        sbx_assert_clean
}

@test "sbxctl stats and set: another user's container looks missing; no limits, no cgroup" {
        local name=$SBX_U1-other tok
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/other" "$SBX_RUN" --name "$name" tasklimit -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || { cat "$SBX_T/other.err" >&2; sbx_fail "not started"; }
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_CTL" stats "$name"
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" "^sbxctl: no such container '$name'$"
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_CTL" set "$name" TasksMax=1
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" "^sbxctl: no such container '$name'$"
        [[ $(<"$(sbx_cg_of pids "$name")/pids.max") == 32 ]] || sbx_fail "pids.max changed"
        # Root may.
        run --separate-stderr env LXSANDBOX_SOCKET="$SBX_SOCK" "$SBX_CTL" stats "$name"
        sbx_assert_status 0
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"

        sbx_bg "$SBX_U1" "$SBX_T/nolim" "$SBX_RUN" --name "$name-n" default -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || sbx_fail "not started"
        run --separate-stderr sbx_ctl1 stats "$name-n"
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" '^sbxctl: no cgroup: the policy sets no \[Resources\] limits$'
        run --separate-stderr sbx_ctl1 set "$name-n" TasksMax=8
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" 'no cgroup'
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        sbx_assert_clean
}

# Opens each path (mode r or w) and prints "PATH MODE ok" or "PATH MODE ERRNO-NAME".
SBX_OPEN_PY='
import errno, os, sys
for a in sys.argv[1:]:
    path, mode = a.rsplit(":", 1)
    try:
        os.close(os.open(path, os.O_RDONLY if mode == "r" else os.O_WRONLY))
        print(path, mode, "ok")
    except OSError as e:
        print(path, mode, errno.errorcode[e.errno])'

@test "DevicePolicy=closed refuses other devices with EPERM while /dev/null works" {
        # /dev/autofs: a host device node any user may open (mode 0644).
        [[ -c /dev/autofs && $(stat -c %a /dev/autofs) == 644 ]] || sbx_fail "no /dev/autofs (mode 0644) on this host"
        run --separate-stderr sbx_run1 devopen -- "$SBX_PY" -c "$SBX_OPEN_PY" /dev/autofs:r
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^/dev/autofs r ok$'
        run --separate-stderr sbx_run1 devclosed -- "$SBX_PY" -c "$SBX_OPEN_PY" /dev/autofs:r \
                /dev/null:r /dev/null:w /dev/zero:r /dev/full:w /dev/urandom:r /dev/tty:r
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^/dev/autofs r EPERM$'
        sbx_assert_match stdout "$output" '^/dev/null r ok$'
        sbx_assert_match stdout "$output" '^/dev/null w ok$'
        sbx_assert_match stdout "$output" '^/dev/zero r ok$'
        sbx_assert_match stdout "$output" '^/dev/full w ok$'
        sbx_assert_match stdout "$output" '^/dev/urandom r ok$'
        # Allowed by the cgroup; without a controlling terminal the kernel says ENXIO.
        sbx_assert_match stdout "$output" '^/dev/tty r (ok|ENXIO)$'
        sbx_assert_clean
}

@test "DevicePolicy=strict with DeviceAllow=/dev/zero r: only reading /dev/zero" {
        local name=$SBX_U1-dev tok d
        run --separate-stderr sbx_run1 devstrict -- "$SBX_PY" -c "$SBX_OPEN_PY" /dev/zero:r \
                /dev/zero:w /dev/null:r /dev/urandom:r
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^/dev/zero r ok$'
        sbx_assert_match stdout "$output" '^/dev/zero w EPERM$'
        sbx_assert_match stdout "$output" '^/dev/null r EPERM$'
        sbx_assert_match stdout "$output" '^/dev/urandom r EPERM$'
        # The rules, as the kernel lists them.
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/dev" "$SBX_RUN" --name "$name" devstrict -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || { cat "$SBX_T/dev.err" >&2; sbx_fail "not started"; }
        d=$(sbx_cg_of devices "$name")
        sbx_assert_match devices.list "$(<"$d/devices.list")" '^c 1:5 r$'
        sbx_assert_match devices.list "$(<"$d/devices.list")" '^c 136:\* rw$'
        sbx_assert_no_match devices.list "$(<"$d/devices.list")" '^a |^c 1:3 '
        # Not changeable while running.
        run --separate-stderr sbx_ctl1 set "$name" DevicePolicy=closed
        sbx_assert_status 1
        sbx_assert_match stderr "$stderr" 'DevicePolicy= and DeviceAllow= cannot be changed on a running container'
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        # A DeviceAllow= node that does not exist is an error at start, naming it.
        run --separate-stderr sbx_run1 devmissing -- true
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" "policy 'devmissing': DeviceAllow=/dev/lxsandbox-no-such-device: No such file or directory"
        sbx_assert_clean
}

@test "DeviceAllow=char-mem r: a device class by its /proc/devices name" {
        run --separate-stderr sbx_run1 devclass -- "$SBX_PY" -c "$SBX_OPEN_PY" /dev/null:r \
                /dev/zero:r /dev/urandom:r /dev/null:w
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^/dev/null r ok$'
        sbx_assert_match stdout "$output" '^/dev/zero r ok$'
        sbx_assert_match stdout "$output" '^/dev/urandom r ok$'
        sbx_assert_match stdout "$output" '^/dev/null w EPERM$'
        sbx_assert_clean
}

@test "AllowedMemoryNodes=0 binds memory to node 0; nodes the host lacks are an error at start" {
        run --separate-stderr sbx_run1 memnodes -- sh -c 'grep Mems_allowed_list /proc/self/status'
        sbx_assert_status 0
        sbx_assert_match stdout "$output" '^Mems_allowed_list:[[:space:]]+0$'
        run --separate-stderr sbx_run1 badnodes -- true
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" "policy 'badnodes': AllowedMemoryNodes=0-63 names memory nodes this host does not have \(available: [0-9,-]+\)"
        sbx_assert_clean
}

# The block device holding / ("/dev/vda") and its disk's "MAJ:MIN".
sbx_root_disk() {
        local dev mm
        dev=$(findmnt -no SOURCE /) && [[ -b $dev ]] || return 1
        mm=$(($(stat -c 0x%t "$dev"))):$(($(stat -c 0x%T "$dev")))
        [[ -e /sys/dev/block/$mm/partition ]] && mm=$(<"/sys/dev/block/$mm/../dev")
        printf '%s %s\n' "$dev" "$mm"
}

@test "IOReadBandwidthMax/IOWriteBandwidthMax throttle the disk; set changes them live; stats see I/O" {
        local name=$SBX_U1-iobw tok disk dev mm d
        disk=$(sbx_root_disk) || sbx_fail "/ is not on a block device here"
        read -r dev mm <<<"$disk"
        sbx_limits_policy iobw 'ReadOnlyPaths = /' "IOReadBandwidthMax = $dev 10M" \
                "IOWriteBandwidthMax = $dev 5M"
        sbx_limits_policy iobwchar 'ReadOnlyPaths = /' 'IOReadBandwidthMax = /dev/null 1M'
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/iobw" "$SBX_RUN" --name "$name" iobw -- sleep "$tok"
        sbx_poll 10 sbx_is_running sleep "$tok" || { cat "$SBX_T/iobw.err" >&2; sbx_fail "not started"; }
        d=$(sbx_cg_of blkio "$name")
        sbx_assert_match read_bps "$(<"$d/blkio.throttle.read_bps_device")" "^$mm 10485760\$"
        sbx_assert_match write_bps "$(<"$d/blkio.throttle.write_bps_device")" "^$mm 5242880\$"
        [[ $(sbx_stats_field "$name" 'd["io"] is not None') == True ]] || sbx_fail "no I/O stats"
        run --separate-stderr sbx_ctl1 set "$name" "IOReadBandwidthMax=$dev 20M"
        sbx_assert_status 0
        sbx_assert_match stdout "$output" "^$name: changed IOReadBandwidthMax=$dev 20M\$"
        sbx_assert_match read_bps "$(<"$d/blkio.throttle.read_bps_device")" "^$mm 20971520\$"
        kill -TERM "$SBX_BG_PID"
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not end"
        # Not a block device: an error at start, naming it.
        run --separate-stderr sbx_run1 iobwchar -- true
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" "policy 'iobwchar': IOReadBandwidthMax=/dev/null: not a block device"
        sbx_assert_clean
}
