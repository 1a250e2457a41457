#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# sandboxd can be restarted without losing containers: controllers keep
# running, and a new daemon finds them again through their state sockets.
# This file runs a second daemon of its own, on its own run directory, so it
# can stop and restart it.

# Sandboxed scripts are single-quoted on purpose.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() {
        local pid
        for pid in ${RESTART_DAEMONS:-}; do
                kill -TERM "$pid" 2>/dev/null || true
                sbx_wait_pid "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
        done
        sbx_teardown
}

# start_daemon2: a daemon on $SBX_T/run2; its pid is appended to RESTART_DAEMONS.
start_daemon2() {
        install -d -m 0755 "$SBX_T/run2"
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$SBX_BUILD_DIR/sandboxd" --foreground \
                --policy-dir "$SBX_T/policies" --run-dir "$SBX_T/run2" --log-level debug \
                </dev/null >>"$SBX_T/sandboxd2.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        DAEMON2=$!
        RESTART_DAEMONS="${RESTART_DAEMONS:-} $DAEMON2"
        sbx_register pid "$DAEMON2 $(sbx_pid_starttime "$DAEMON2")"
        sbx_poll 10 test -S "$SBX_T/run2/sandboxd.sock" || sbx_fail "second daemon did not start" \
                "$(cat "$SBX_T/sandboxd2.log")"
}

stop_daemon2() {
        kill -TERM "$DAEMON2"
        sbx_wait_pid "$DAEMON2" 10 || sbx_fail "daemon $DAEMON2 ignored SIGTERM"
}

ctl2() {
        sbx_as "$SBX_U1" "$SBX_CTL" --socket "$SBX_T/run2/sandboxd.sock" "$@"
}

@test "a restarted daemon finds running containers: list, info and stop work, sbx-run gets the status" {
        local tok ctl_before
        tok=$(sbx_token)
        start_daemon2
        sbx_bg "$SBX_U1" "$SBX_T/keep" "$SBX_RUN" --socket "$SBX_T/run2/sandboxd.sock" \
                --name "keep-$tok" default -- sleep "600.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "600.$tok" || sbx_fail "sleep did not start" \
                "$(cat "$SBX_T/keep.err")"
        run ctl2 info "keep-$tok" --json
        sbx_assert_status 0
        ctl_before=$(sbx_json_get controller_pid <<<"$output")

        # A stale socket, as a controller killed with the old daemon leaves it.
        python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' \
                "$SBX_T/run2/containers/ghost-$tok.sock"

        stop_daemon2
        sbx_is_running sleep "600.$tok" || sbx_fail "the container did not survive the daemon"
        start_daemon2

        run ctl2 list --json
        sbx_assert_status 0
        [[ $(sbx_json_get name <<<"$output") == "keep-$tok" ]] || sbx_fail "not listed:" "$output"
        [[ $(sbx_json_get state <<<"$output") == running ]] || sbx_fail "state:" "$output"
        [[ $(sbx_json_get controller_pid <<<"$output") == "$ctl_before" ]] ||
                sbx_fail "controller changed:" "$output"
        [[ ! -e $SBX_T/run2/containers/ghost-$tok.sock ]] || sbx_fail "stale socket not removed"

        run ctl2 stop "keep-$tok"
        sbx_assert_status 0
        sbx_wait_pid "$client" 15 || sbx_fail "sbx-run still running after stop"
        [[ $SBX_WAIT_STATUS == 143 ]] || sbx_fail "sbx-run exited $SBX_WAIT_STATUS, not 143"
        sbx_poll 5 sbx_not_running sleep "600.$tok" || sbx_fail "sleep still running"
        sbx_poll 5 test ! -e "$SBX_T/run2/containers/keep-$tok.sock" ||
                sbx_fail "state socket left behind"
        run ctl2 list --json
        [[ $output == "[]" ]] || sbx_fail "still listed after stop:" "$output"
        stop_daemon2
}

@test "another user cannot see or stop a rediscovered container" {
        local tok
        tok=$(sbx_token)
        start_daemon2
        sbx_bg "$SBX_U1" "$SBX_T/keep2" "$SBX_RUN" --socket "$SBX_T/run2/sandboxd.sock" \
                --name "own-$tok" default -- sleep "601.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "601.$tok" || sbx_fail "sleep did not start"
        stop_daemon2
        start_daemon2
        run sbx_as "$SBX_U2" "$SBX_CTL" --socket "$SBX_T/run2/sandboxd.sock" stop "own-$tok"
        sbx_assert_status 1
        run sbx_as "$SBX_U2" "$SBX_CTL" --socket "$SBX_T/run2/sandboxd.sock" list --json
        [[ $output == "[]" ]] || sbx_fail "user 2 sees:" "$output"
        run ctl2 stop "own-$tok"
        sbx_assert_status 0
        sbx_wait_pid "$client" 15 || sbx_fail "sbx-run still running after stop"
        stop_daemon2
}

@test "after a crash of the daemon and its controllers, the next start removes the cgroups they left" {
        local tok ctl d left
        tok=$(sbx_token)
        sbx_write_policy crashlimits <<'EOF'
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
ReadOnlyPaths = /

[Resources]
TasksMax = 64
EOF
        start_daemon2
        sbx_bg "$SBX_U1" "$SBX_T/crash" "$SBX_RUN" --socket "$SBX_T/run2/sandboxd.sock" \
                --name "crash-$tok" crashlimits -- sleep "602.$tok"
        sbx_poll 10 sbx_is_running sleep "602.$tok" || sbx_fail "sleep did not start" \
                "$(cat "$SBX_T/crash.err")"
        run ctl2 info "crash-$tok" --json
        sbx_assert_status 0
        ctl=$(sbx_json_get controller_pid <<<"$output")
        # Both die at once, as with a kill of the whole service.
        kill -KILL "$DAEMON2" "$ctl"
        sbx_wait_pid "$DAEMON2" 10 || sbx_fail "daemon did not die"
        sbx_poll 10 sbx_not_running sleep "602.$tok" || sbx_fail "the sandbox outlived its controller"
        left=
        while read -r d; do
                [[ -d $d/lxsandbox-crash-$tok ]] && left+=" $d/lxsandbox-crash-$tok"
        done < <(sbx_daemon_cgroup_dirs)
        [[ -n $left ]] || sbx_fail "no cgroup was left behind: nothing to test"
        start_daemon2
        for d in $left; do
                sbx_poll 10 test ! -e "$d" || sbx_fail "cgroup $d left after the restart"
        done
        [[ ! -e $SBX_T/run2/containers/crash-$tok.sock ]] || sbx_fail "stale socket not removed"
        stop_daemon2
}
