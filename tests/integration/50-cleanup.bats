#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Nothing outlives a container: killing the client tears it down, and many
# sequential and concurrent runs leave no mounts, processes, files or fds.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

sbx_daemon_fds() {
        local -a f=("/proc/$SBX_DAEMON_PID/fd/"*)
        printf '%s\n' "${#f[@]}"
}

# After a batch of runs: bounded wait until everything is gone, then compare
# host mounts and daemon fds with the numbers before the batch.
sbx_assert_batch_clean() {
        local mounts_before=$1 fds_before=$2
        sbx_assert_clean 10
        (($(sbx_mount_count) <= mounts_before)) ||
                sbx_fail "host mounts grew: $mounts_before -> $(sbx_mount_count)"
        # A few fds of slack for lazily opened files; a per-run leak is far more.
        (($(sbx_daemon_fds) <= fds_before + 3)) ||
                sbx_fail "sandboxd fds grew: $fds_before -> $(sbx_daemon_fds)"
}

@test "killing sbx-run (SIGKILL) tears the container down" {
        local tok pid cg
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/k9" "$SBX_RUN" default -- sleep "$tok"
        pid=$SBX_BG_PID
        if ! sbx_poll 10 sbx_is_running sleep "$tok"; then
                cat "$SBX_T/k9.err" >&2
                sbx_fail "the sandboxed sleep did not start"
        fi
        cg=$SBX_T/k9.cgroups
        sbx_cgroup_dirs_of "$(sbx_pids_running sleep "$tok")" >"$cg"
        kill -KILL "$pid"
        sbx_wait_pid "$pid" 5
        sbx_poll 10 sbx_not_running sleep "$tok" || sbx_fail "sleep $tok still running 10s after kill -9 of sbx-run"
        sbx_poll 10 sbx_dirs_gone "$cg" || sbx_fail "container cgroups left:" "$(cat "$cg")"
        sbx_assert_clean 10
}

@test "200 sequential runs leave nothing behind" {
        run --separate-stderr sbx_run1 default -- true
        sbx_assert_status 0
        sbx_assert_clean
        local mounts fds
        mounts=$(sbx_mount_count)
        fds=$(sbx_daemon_fds)
        SBX_CMD_TIMEOUT=300 run --separate-stderr sbx_as "$SBX_U1" sh -c '
                i=0
                while [ $i -lt 200 ]; do
                        "$1" default -- true </dev/null || { echo "run $i: exit $?"; exit 1; }
                        i=$((i + 1))
                done' _ "$SBX_RUN"
        sbx_assert_status 0
        sbx_assert_batch_clean "$mounts" "$fds"
}

@test "50 concurrent runs each get their own exit status and leave nothing behind" {
        run --separate-stderr sbx_run1 default -- true
        sbx_assert_status 0
        sbx_assert_clean
        local mounts fds
        mounts=$(sbx_mount_count)
        fds=$(sbx_daemon_fds)
        SBX_CMD_TIMEOUT=120 run --separate-stderr sbx_as "$SBX_U1" bash -c '
                pids=()
                for ((i = 0; i < 50; i++)); do
                        "$1" default -- sh -c "exit $((i % 2))" </dev/null &
                        pids+=($!)
                done
                rc=0
                for ((i = 0; i < 50; i++)); do
                        wait "${pids[i]}" && s=0 || s=$?
                        [ "$s" = $((i % 2)) ] || { echo "run $i: exit $s"; rc=1; }
                done
                exit $rc' _ "$SBX_RUN"
        sbx_assert_status 0
        sbx_assert_batch_clean "$mounts" "$fds"
}
