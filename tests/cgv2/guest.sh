#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# In-guest part of tests/cgv2 (run by run.sh's VM as root, POSIX sh = dash).
# cgroup2 is mounted at /sys/fs/cgroup with nsdelegate, as systemd mounts it.
# Like a systemd service with Delegate=yes, sandboxd starts in its own
# cgroup, /lxsandbox-test, with memory pids cpu cpuset io enabled in the
# root's subtree_control; the tests run as the unprivileged user sbxtest
# with sbx-run.  Output: TAP on stdout.
# Functions are called through t(); fixed words need no quotes here.
# shellcheck disable=SC2317,SC2086,SC2013,SC2016

export PATH=/opt/lxsandbox/bin:/usr/sbin:/usr/bin
CG=/sys/fs/cgroup
DCG=$CG/lxsandbox-test # the daemon's cgroup (its "delegated subtree")
BIN=/opt/lxsandbox/bin
POL=/etc/lxsandbox/policies
RUN=/run/lxsandbox
SOCK=$RUN/sandboxd.sock
T=/tmp/cgv2
TUID=1000
mkdir -p $T

# ---- helpers ---------------------------------------------------------------------

n=0
# t DESCRIPTION FUNCTION: runs FUNCTION, its output (stdout+stderr) becomes
# the "# " details of a failure; its "note: " lines are shown anyway.
t() {
        n=$((n + 1))
        BG=
        _t0=$(now_ms)
        if "$2" >$T/out.$n 2>&1; then
                echo "ok $n $1"
                echo "# $(($(now_ms) - _t0)) ms"
                sed -n 's/^note: /# /p' $T/out.$n
        else
                echo "not ok $n $1"
                sed 's/^/# /' $T/out.$n
                echo "# --- sandboxd log (tail) ---"
                tail -n 15 $T/sandboxd.log | sed 's/^/# /'
                # So that one failure does not fail the tests after it.
                [ -z "$BG" ] || kill -KILL $BG 2>/dev/null
                poll 10 clean || for s in $(user_procs); do
                        s=${s#/proc/}
                        kill -KILL ${s%/status} 2>/dev/null
                done
        fi
}

fail() {
        echo "$*"
        return 1
}

# now_ms: uptime in milliseconds (10 ms resolution).
now_ms() {
        awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# poll SECONDS CMD...: until CMD succeeds (0) or the time is up (1).
poll() {
        _end=$(($(now_ms) + $1 * 1000))
        shift
        while ! "$@"; do
                [ "$(now_ms)" -lt $_end ] || return 1
                sleep 0.05
        done
}

# as_user CMD...: CMD as sbxtest, in its home, bounded to 120 s.
as_user() {
        (cd /home/sbxtest && timeout -k 5 120 setpriv --reuid=$TUID --regid=$TUID --init-groups -- \
                env -i HOME=/home/sbxtest USER=sbxtest LOGNAME=sbxtest \
                PATH=/opt/lxsandbox/bin:/usr/bin:/bin LXSANDBOX_SOCKET=$SOCK "$@")
}

# bg_user OUTPREFIX CMD...: CMD as sbxtest in the background; BG = its pid
# (setpriv and env exec, so that is CMD's own pid).
bg_user() {
        _o=$1
        shift
        cd /home/sbxtest || return 1
        setpriv --reuid=$TUID --regid=$TUID --init-groups -- \
                env -i HOME=/home/sbxtest USER=sbxtest LOGNAME=sbxtest \
                PATH=/opt/lxsandbox/bin:/usr/bin:/bin LXSANDBOX_SOCKET=$SOCK \
                "$@" </dev/null >"$_o.out" 2>"$_o.err" &
        BG=$!
        cd / || return 1
}

# gone PID: the process has exited (gone or a zombie we have not reaped).
gone() {
        [ ! -e /proc/$1/stat ] || [ "$(awk '{ print $3 }' /proc/$1/stat)" = Z ]
}

populated() {
        [ -n "$(cat "$1/cgroup.procs" 2>/dev/null)" ]
}

# Processes of the test user (real uid), one /proc/PID/status a line.
user_procs() {
        grep -ls "^Uid:[[:space:]]*${TUID}[[:space:]]" /proc/[0-9]*/status
}

# Container cgroups left anywhere in the hierarchy.
leftovers() {
        find $CG -mindepth 1 -type d -name 'lxsandbox-*' ! -path $DCG
}

clean() {
        [ -z "$(leftovers)" ] && [ -z "$(user_procs)" ]
}

assert_clean() {
        poll 10 clean && return 0
        echo "left after the test:"
        leftovers
        user_procs
        return 1
}

# cat_eq FILE VALUE
cat_eq() {
        _v=$(cat "$1" 2>&1)
        [ "$_v" = "$2" ] || fail "$1 is '$_v', expected '$2'"
}

policy() {
        _name=$1
        shift
        {
                printf '[Sandbox]\nNamespaces = mount ipc uts pid net\nHostname = sandbox\n\n'
                printf '[Access]\nUsers = *\n\n'
                printf '[Files]\nPrivateTmp = yes\n%s\n\n' "$1"
                shift
                printf '[Resources]\n'
                printf '%s\n' "$@"
        } >$POL/$_name.ini
}

parent_limits() {
        for f in memory.max memory.high memory.swap.max pids.max cpu.max cpu.weight cpuset.cpus; do
                echo "$f $(cat $DCG/$f 2>&1)"
        done
}

# ---- set-up: delegated subtree, policies, daemon ----------------------------------

setup() {
        chown -R $TUID:$TUID /home/sbxtest
        chmod 0755 /home/sbxtest
        echo "+memory +pids +cpu +cpuset +io" >$CG/cgroup.subtree_control || return 1
        mkdir $DCG || return 1
        policy memlimit 'ReadOnlyPaths = /' 'MemoryMax = 64M' 'MemorySwapMax = 0'
        policy tasklimit 'ReadOnlyPaths = /' 'TasksMax = 32'
        policy cpuquota 'ReadOnlyPaths = /' 'CPUQuota = 50%'
        policy pinned 'ReadOnlyPaths = /' 'AllowedCPUs = 0'
        policy badcpus 'ReadOnlyPaths = /' 'AllowedCPUs = 0-4095'
        # Everything at once, with the file system left writable: only
        # permissions keep the sandbox from its cgroup.
        policy all '' 'MemoryMax = 64M' 'MemoryHigh = 48M' 'MemorySwapMax = 0' \
                'TasksMax = 32' 'CPUQuota = 150%' 'CPUWeight = 200' 'AllowedCPUs = 0'
        policy devstrict 'ReadOnlyPaths = /' 'DevicePolicy = strict' 'DeviceAllow = /dev/zero r'
        policy devopen 'ReadOnlyPaths = /' 'TasksMax = 64'
        chmod 0644 $POL/*.ini
        mkdir -p $RUN
        parent_limits >$T/parent.before
        # The daemon starts in its cgroup, as under systemd (Delegate=yes).
        sh -c 'echo $$ >'$DCG'/cgroup.procs && exec '$BIN'/sandboxd --foreground \
                --policy-dir '$POL' --run-dir '$RUN' --log-level debug' \
                </dev/null >$T/sandboxd.log 2>&1 &
        DPID=$!
        poll 20 test -S $SOCK || {
                cat $T/sandboxd.log
                return 1
        }
}

# ---- tests ---------------------------------------------------------------------

TESTS="t_leaf t_oom t_under t_tasks t_cpu t_files t_pin t_badcpus t_readonly t_stats t_devices
        t_kill9 t_clone_into t_runs t_end"

t_leaf() {
        cat_eq /proc/$DPID/cgroup "0::/lxsandbox-test/daemon" || return 1
        for c in memory pids cpu cpuset io; do
                grep -qw $c $DCG/cgroup.subtree_control ||
                        fail "$c not delegated: $(cat $DCG/cgroup.subtree_control)" || return 1
        done
        [ -z "$(cat $DCG/cgroup.procs)" ] || fail "processes in the inner node $DCG"
}

t_oom() {
        as_user sbx-run memlimit -- $BIN/cgv2-helper hog 512 >$T/oom.out 2>$T/oom.err
        rc=$?
        cat $T/oom.out $T/oom.err
        [ $rc = 137 ] || fail "exit status $rc, expected 137" || return 1
        grep -qx 'sbx-run: killed: out of memory (MemoryMax=64M)' $T/oom.err ||
                fail "no OOM report on stderr" || return 1
        ! grep -q 'not killed' $T/oom.out || fail "the hog was not killed" || return 1
        ! gone $DPID || fail "sandboxd died" || return 1
        # The OOM kill happened in the container's cgroup, not in the daemon's.
        grep -qx 'oom_kill 0' $DCG/daemon/memory.events ||
                fail "the daemon's cgroup saw an OOM kill: $(cat $DCG/daemon/memory.events)" || return 1
        as_user sbx-run memlimit -- true || fail "the next run failed" || return 1
        assert_clean
}

t_under() {
        as_user sbx-run memlimit -- $BIN/cgv2-helper hog 16 >$T/under.out 2>$T/under.err
        rc=$?
        cat $T/under.out $T/under.err
        [ $rc = 0 ] || fail "exit status $rc" || return 1
        [ "$(cat $T/under.out)" = "not killed" ] || fail "unexpected output" || return 1
        [ ! -s $T/under.err ] || fail "unexpected stderr" || return 1
        assert_clean
}

t_tasks() {
        as_user sbx-run --name bomb tasklimit -- $BIN/cgv2-helper forks 200 60 >$T/bomb.out 2>$T/bomb.err
        rc=$?
        cat $T/bomb.out $T/bomb.err
        k=$(cat $T/bomb.out)
        echo "note: $k of 200 forks succeeded under TasksMax=32"
        [ $rc = 0 ] || fail "exit status $rc" || return 1
        # 32 tasks: the sandbox's init, the helper and at most 30 children.
        [ -n "$k" ] && [ "$k" -gt 0 ] && [ "$k" -le 30 ] ||
                fail "forked '$k' children under TasksMax=32" || return 1
        grep -qx 'sbx-run: fork failed: TasksMax=32 reached' $T/bomb.err ||
                fail "no TasksMax report on stderr" || return 1
        assert_clean
}

t_cpu() {
        d=$DCG/lxsandbox-spin
        bg_user $T/spin sbx-run --name spin cpuquota -- sh -c 'while :; do :; done'
        poll 30 populated $d || { cat $T/spin.err; fail "no populated $d"; } || return 1
        cat_eq $d/cpu.max "50000 100000" || return 1
        # The container's cgroup is below the daemon's, and all of it is there.
        for p in $(cat $d/cgroup.procs); do
                cat_eq /proc/$p/cgroup "0::/lxsandbox-test/lxsandbox-spin" || return 1
        done
        sleep 1
        u0=$(awk '$1 == "usage_usec" { print $2 }' $d/cpu.stat)
        t0=$(now_ms)
        sleep 2
        u1=$(awk '$1 == "usage_usec" { print $2 }' $d/cpu.stat)
        t1=$(now_ms)
        pct=$(((u1 - u0) / (t1 - t0) / 10))
        echo "note: spinner used ${pct}% of a CPU ($((u1 - u0)) us in $((t1 - t0)) ms)"
        cat $d/cpu.stat
        kill -TERM $BG
        poll 20 gone $BG || fail "sbx-run did not end" || return 1
        wait $BG
        [ $pct -ge 30 ] && [ $pct -le 70 ] || fail "${pct}% under CPUQuota=50%" || return 1
        assert_clean
}

t_files() {
        d=$DCG/lxsandbox-files
        bg_user $T/files sbx-run --name files all -- sleep 600
        poll 30 populated $d || { cat $T/files.err; fail "no populated $d"; } || return 1
        cat_eq $d/memory.max 67108864 &&
                cat_eq $d/memory.high 50331648 &&
                cat_eq $d/memory.swap.max 0 &&
                cat_eq $d/pids.max 32 &&
                cat_eq $d/cpu.max "150000 100000" &&
                cat_eq $d/cpu.weight 200 &&
                cat_eq $d/cpuset.cpus 0 || return 1
        [ "$(stat -c %u $d/memory.max)" = 0 ] || fail "memory.max not root's" || return 1
        [ "$(stat -c %u $d/cgroup.procs)" = 0 ] || fail "cgroup.procs not root's" || return 1
        # Both the sandbox's init and the command are in it.
        [ "$(wc -l <$d/cgroup.procs)" -ge 2 ] || fail "cgroup.procs: $(cat $d/cgroup.procs)" ||
                return 1
        kill -TERM $BG
        poll 20 gone $BG || fail "sbx-run did not end" || return 1
        wait $BG
        assert_clean
}

t_pin() {
        [ "$(grep -c ^processor /proc/cpuinfo)" -ge 2 ] || fail "the VM has one CPU" || return 1
        out=$(as_user sbx-run pinned -- grep Cpus_allowed_list /proc/self/status 2>&1)
        echo "$out"
        echo "$out" | grep -Eq '^Cpus_allowed_list:[[:space:]]+0$' || return 1
        assert_clean
}

t_badcpus() {
        as_user sbx-run badcpus -- true >$T/bad.out 2>$T/bad.err
        rc=$?
        cat $T/bad.err
        [ $rc = 125 ] || fail "exit status $rc, expected 125" || return 1
        grep -Eq "policy 'badcpus': AllowedCPUs=0-4095 names CPUs this host does not have \(available: [0-9,-]+\)" \
                $T/bad.err || return 1
        assert_clean
}

t_readonly() {
        # Inside, /sys/fs/cgroup is a cgroup2 mount rooted at the sandbox's own
        # cgroup (its cgroup namespace): the daemon's and others' are not there.
        as_user sbx-run --name ro all -- sh -c '
                for f in memory.max pids.max cpu.max cpuset.cpus cgroup.procs \
                        cgroup.subtree_control cgroup.kill; do
                        if echo 1000000 >"/sys/fs/cgroup/$f"; then echo "wrote $f"; fi
                done
                mkdir /sys/fs/cgroup/escape && echo "made a child cgroup"
                echo "memory.max $(cat /sys/fs/cgroup/memory.max)"
                echo "dirs: $(find /sys/fs/cgroup -mindepth 1 -type d)"
                echo "cgroup: $(cat /proc/self/cgroup)"' >$T/ro.out 2>$T/ro.err
        rc=$?
        cat $T/ro.out $T/ro.err
        [ $rc = 0 ] || fail "exit status $rc" || return 1
        ! grep -Eq 'wrote|made a child' $T/ro.out || return 1
        grep -Eq 'Permission denied|Read-only file system' $T/ro.err ||
                fail "no 'Permission denied' or 'Read-only file system'" || return 1
        grep -qx 'memory.max 67108864' $T/ro.out || fail "its own memory.max is not the root's" || return 1
        grep -qx 'dirs: ' $T/ro.out || fail "other cgroups are visible" || return 1
        # A cgroup namespace: the sandbox sees its own cgroup as the root.
        grep -qx 'cgroup: 0::/' $T/ro.out || fail "not in a cgroup namespace" || return 1
        parent_limits >$T/parent.after
        cmp -s $T/parent.before $T/parent.after || {
                echo "the daemon's cgroup limits changed:"
                diff $T/parent.before $T/parent.after
                return 1
        }
        assert_clean
}

# json_num KEY-PATH-REGEX FILE: the number after it in one-line JSON.
json_num() {
        sed -n "s/.*$1\([0-9][0-9]*\).*/\1/p" "$2"
}

t_stats() {
        d=$DCG/lxsandbox-st
        bg_user $T/st sbx-run --name st all -- sleep 600
        poll 30 populated $d || { cat $T/st.err; fail "no populated $d"; } || return 1
        as_user sbxctl stats st --json >$T/st.json || { cat $T/st.json; return 1; }
        cat $T/st.json
        grep -q '"cgroup_version":2' $T/st.json || fail "not v2" || return 1
        grep -q '"percpu_ns":null' $T/st.json || fail "per-CPU figures on v2" || return 1
        [ "$(json_num '"memory":{"current":' $T/st.json)" -gt 0 ] || fail "memory.current" || return 1
        [ "$(json_num '"peak":[0-9a-z]*,"max":' $T/st.json)" = 67108864 ] || fail "memory max" || return 1
        [ "$(json_num '"tasks":{"current":' $T/st.json)" -ge 2 ] || fail "tasks current" || return 1
        [ "$(json_num '"tasks":{"current":[0-9]*,"max":' $T/st.json)" = 32 ] || fail "tasks max" || return 1
        as_user sbxctl stats st | grep -q 'per-CPU: unavailable on cgroup v2' ||
                fail "no 'per-CPU: unavailable' line" || return 1
        as_user sbxctl set st TasksMax=4 MemoryMax=32M CPUQuota=20% >$T/set.out 2>&1
        rc=$?
        cat $T/set.out
        [ $rc = 0 ] || fail "sbxctl set: exit $rc" || return 1
        grep -q '^st: changed .*TasksMax=4 (was 32)' $T/set.out || return 1
        cat_eq $d/pids.max 4 && cat_eq $d/memory.max 33554432 && cat_eq $d/cpu.max "20000 100000" ||
                return 1
        as_user sbxctl set st TasksMax=lots >$T/set.out 2>&1 && fail "an invalid value was taken"
        cat_eq $d/pids.max 4 || return 1
        kill -TERM $BG
        poll 20 gone $BG || fail "sbx-run did not end" || return 1
        wait $BG
        assert_clean
}

t_devices() {
        # Without a device policy every node opens (the control) ...
        as_user sbx-run devopen -- $BIN/cgv2-helper open /dev/zero:r /dev/zero:w /dev/null:r \
                /dev/urandom:r >$T/dev0.out 2>&1
        cat $T/dev0.out
        [ "$(grep -c ' ok$' $T/dev0.out)" = 4 ] || fail "control: not all opened" || return 1
        # ... with DevicePolicy=strict, the BPF program refuses all but /dev/zero r.
        as_user sbx-run devstrict -- $BIN/cgv2-helper open /dev/zero:r /dev/zero:w /dev/null:r \
                /dev/urandom:r >$T/dev.out 2>&1
        rc=$?
        cat $T/dev.out
        [ $rc = 0 ] || fail "exit status $rc" || return 1
        grep -qx '/dev/zero r ok' $T/dev.out &&
                grep -qx '/dev/zero w EPERM' $T/dev.out &&
                grep -qx '/dev/null r EPERM' $T/dev.out &&
                grep -qx '/dev/urandom r EPERM' $T/dev.out || return 1
        assert_clean
}

t_kill9() {
        d=$DCG/lxsandbox-k9
        bg_user $T/k9 sbx-run --name k9 all -- sleep 600
        poll 30 populated $d || { cat $T/k9.err; fail "no populated $d"; } || return 1
        ctl=$(as_user sbxctl info k9 --json | sed -n 's/.*"controller_pid":\([0-9]*\).*/\1/p')
        [ -n "$ctl" ] && [ "$ctl" -gt 1 ] || fail "no controller pid" || return 1
        kill -KILL $ctl
        poll 20 gone $BG || fail "sbx-run did not end" || return 1
        wait $BG
        poll 20 test ! -e $d || fail "$d left after kill -9 of the controller" || return 1
        assert_clean
}

t_clone_into() {
        n0=$(grep -a -c 'cloned into its cgroup' $T/sandboxd.log)
        as_user sbx-run memlimit -- true || fail "sbx-run failed" || return 1
        n1=$(grep -a -c 'cloned into its cgroup' $T/sandboxd.log)
        [ "$n1" -gt "$n0" ] || fail "the init was moved, not cloned into its cgroup:" \
                "$(grep -a 'init is pid\|clone3' $T/sandboxd.log | tail -n 3)" || return 1
        ! grep -q 'clone3 into the cgroup failed' $T/sandboxd.log || fail "clone3 failed" || return 1
        assert_clean
}

t_runs() {
        as_user sh -c 'i=0
                while [ $i -lt 20 ]; do
                        sbx-run all -- true </dev/null || { echo "run $i: exit $?"; exit 1; }
                        i=$((i + 1))
                done' || return 1
        assert_clean
}

t_end() {
        kill -TERM $DPID
        poll 10 gone $DPID || fail "sandboxd ignored SIGTERM" || return 1
        wait $DPID
        rc=$?
        [ $rc = 0 ] || [ $rc = 143 ] || fail "sandboxd exited $rc" || return 1
        [ -z "$(leftovers)" ] || { leftovers; return 1; }
        # Only the daemon's leaf is left in its cgroup.
        [ "$(find $DCG -mindepth 1 -type d)" = $DCG/daemon ] || { find $DCG -type d; return 1; }
}

# sbx.bench=N on the kernel command line (run.sh, SBX_CGV2_BENCH=N): instead
# of the tests, median launch latency with and without limits, N interleaved
# rounds (make bench reports it; emulated CPUs, so only the ratio means much).
t_bench() {
        policy benchnone 'ReadOnlyPaths = /'
        policy benchlimits 'ReadOnlyPaths = /' 'MemoryMax = 512M' 'TasksMax = 256' 'CPUQuota = 150%'
        chmod 0644 $POL/*.ini
        as_user launch-bench $BENCH "sbx-run no limits" sbx-run benchnone -- /bin/true ';' \
                "sbx-run limits (mem+tasks+cpu)" sbx-run benchlimits -- /bin/true >$T/bench.out 2>&1 ||
                { cat $T/bench.out; return 1; }
        sed 's/^/note: bench: /' $T/bench.out
}

# ---- main ------------------------------------------------------------------------

BENCH=$(sed -n 's/.*sbx\.bench=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$BENCH" ]; then
        echo "1..2"
        setup >$T/setup.out 2>&1 || { sed 's/^/# setup: /' $T/setup.out; exit 1; }
        t "launch latency with and without limits ($BENCH rounds)" t_bench
        t "sandboxd stops on SIGTERM; no lxsandbox-* cgroup left" t_end
        exit 0
fi

count=0
for f in $TESTS; do count=$((count + 1)); done
echo "1..$count"
if ! setup >$T/setup.out 2>&1; then
        sed 's/^/# setup: /' $T/setup.out
        for f in $TESTS; do
                n=$((n + 1))
                echo "not ok $n $f: set-up failed (see above)"
        done
        exit 1
fi
echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs," \
        "root subtree_control: $(cat $CG/cgroup.subtree_control)"
t "sandboxd moved itself into a leaf and delegated memory pids cpu cpuset io" t_leaf
t "MemoryMax=64M: a memory hog is OOM-killed and reported (exit 137)" t_oom
t "MemoryMax=64M: a command under the limit runs normally, nothing reported" t_under
t "TasksMax=32: a bounded fork bomb is contained and reported" t_tasks
t "CPUQuota=50%: a spinner uses 30-70% of a CPU (cpu.stat), in a cgroup below the daemon's" t_cpu
t "all limits are written to the container's cgroup, owned by root" t_files
t "AllowedCPUs=0 pins the sandbox to CPU 0" t_pin
t "AllowedCPUs naming CPUs the VM lacks is an error at start" t_badcpus
t "/sys/fs/cgroup inside is its own cgroup, read-only; other cgroups unseen; parent limits unchanged" t_readonly
t "sbxctl stats reads the v2 files (no per-CPU); sbxctl set writes pids.max, memory.max, cpu.max" t_stats
t "DevicePolicy=strict + DeviceAllow=/dev/zero r: the BPF device program refuses the rest (EPERM)" t_devices
t "kill -9 of a controller leaves no cgroup behind" t_kill9
t "the init is cloned straight into its cgroup (clone3 CLONE_INTO_CGROUP), no move" t_clone_into
t "20 runs with limits leave no cgroup behind" t_runs
t "sandboxd stops on SIGTERM; no lxsandbox-* cgroup left" t_end
exit 0
