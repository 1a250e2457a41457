#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# sbxctl list/info/stop on running containers, and the controller's role:
# killing it kills the container.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

# sbx_start_sleeper NAME: runs "sbx-run --name NAME default -- sleep TOKEN" as
# the first test user in the background and waits until the sleep runs.
# Sets SBX_BG_PID (sbx-run), SBX_SLEEP_TOKEN, SBX_SLEEP_PID, SBX_SLEEP_OUT.
sbx_start_sleeper() {
        SBX_SLEEP_TOKEN=987.$(sbx_token)
        SBX_SLEEP_OUT=$SBX_T/sleeper-$1
        sbx_bg "$SBX_U1" "$SBX_SLEEP_OUT" "$SBX_RUN" --name "$1" default -- sleep "$SBX_SLEEP_TOKEN"
        if ! sbx_poll 10 sbx_is_running sleep "$SBX_SLEEP_TOKEN"; then
                cat "$SBX_SLEEP_OUT.err" >&2
                sbx_fail "container $1 did not start"
                return 1
        fi
        SBX_SLEEP_PID=$(sbx_pids_running sleep "$SBX_SLEEP_TOKEN")
        sbx_cgroup_dirs_of "$SBX_SLEEP_PID" >"$SBX_SLEEP_OUT.cgroups"
}

sbx_assert_sleeper_gone() {
        sbx_poll 10 sbx_not_running sleep "$SBX_SLEEP_TOKEN" ||
                sbx_fail "sleep $SBX_SLEEP_TOKEN still running"
        sbx_poll 10 sbx_dirs_gone "$SBX_SLEEP_OUT.cgroups" ||
                sbx_fail "container cgroups left:" "$(cat "$SBX_SLEEP_OUT.cgroups")"
}

@test "sbxctl list shows a running named container; --json is valid JSON" {
        local name=list$RANDOM
        sbx_start_sleeper "$name"
        run --separate-stderr sbx_ctl1 list
        sbx_assert_status 0
        sbx_assert_match "sbxctl list" "$output" "(^|[[:space:]])$name([[:space:]]|$)"

        run --separate-stderr sbx_ctl1 list --json
        sbx_assert_status 0
        "$SBX_PY" -m json.tool <<<"$output" >/dev/null || sbx_fail "not JSON:" "$output"
        sbx_assert_match "sbxctl list --json" "$output" "\"$name\""

        run --separate-stderr sbx_ctl1 stop "$name"
        sbx_assert_status 0
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not exit after stop"
        sbx_assert_sleeper_gone
}

@test "sbxctl list --json with no containers is valid JSON" {
        run --separate-stderr sbx_ctl1 list --json
        sbx_assert_status 0
        "$SBX_PY" -m json.tool <<<"$output" >/dev/null || sbx_fail "not JSON:" "$output"
}

@test "sbxctl info NAME --json has name, policy, uid, controller_pid, init_pid, state" {
        local name=info$RANDOM
        sbx_start_sleeper "$name"
        run --separate-stderr sbx_ctl1 info "$name" --json
        sbx_assert_status 0
        "$SBX_PY" -m json.tool <<<"$output" >/dev/null || sbx_fail "not JSON:" "$output"
        local json=$output v f
        for f in name policy uid controller_pid init_pid state; do
                v=$(sbx_json_get "$f" <<<"$json") || sbx_fail "no field $f in:" "$json"
                case $f in
                name) [[ $v == "$name" ]] ;;
                policy) [[ $v == default ]] ;;
                uid) [[ $v == "$SBX_U1_UID" ]] ;;
                controller_pid | init_pid) [[ $v =~ ^[0-9]+$ ]] && ((v > 1)) && [[ -d /proc/$v ]] ;;
                state) [[ -n $v ]] ;;
                esac || sbx_fail "field $f = '$v' in:" "$json"
        done
        # init_pid is a host pid inside the container's pid namespace.
        v=$(sbx_json_get init_pid <<<"$json")
        [[ $(readlink "/proc/$v/ns/pid") != $(readlink /proc/self/ns/pid) ]] ||
                sbx_fail "init_pid $v is in the host's pid namespace"

        run --separate-stderr sbx_ctl1 info "$name"
        sbx_assert_status 0
        sbx_assert_match "sbxctl info" "$output" "$name"

        run --separate-stderr sbx_ctl1 stop "$name"
        sbx_assert_status 0
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not exit after stop"
        sbx_assert_sleeper_gone
}

@test "sbxctl info of an unknown container fails (1)" {
        run --separate-stderr sbx_ctl1 info "nosuch$RANDOM"
        sbx_assert_status 1
}

@test "sbxctl stop: another user cannot stop it, the owner can; sbx-run exits" {
        local name=stop$RANDOM
        sbx_start_sleeper "$name"
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_CTL" stop "$name"
        sbx_assert_status 1
        sbx_is_running sleep "$SBX_SLEEP_TOKEN" || sbx_fail "another user's stop ended the container"
        ! sbx_pid_gone "$SBX_BG_PID" || sbx_fail "sbx-run exited after another user's stop"

        run --separate-stderr sbx_ctl1 stop "$name"
        sbx_assert_status 0
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not exit within 10s of stop"
        sbx_assert_sleeper_gone
        run --separate-stderr sbx_ctl1 info "$name"
        sbx_assert_status 1
}

@test "killing the controller (SIGKILL) kills the container; sbx-run fails" {
        local name=kctl$RANDOM cpid
        sbx_start_sleeper "$name"
        run --separate-stderr sbx_ctl1 info "$name" --json
        sbx_assert_status 0
        cpid=$(sbx_json_get controller_pid <<<"$output")
        [[ $cpid =~ ^[0-9]+$ ]] && ((cpid > 1)) || sbx_fail "controller_pid: '$cpid'"
        [[ $cpid != "$SBX_DAEMON_PID" && $cpid != "$SBX_BG_PID" && $cpid != "$SBX_SLEEP_PID" ]] ||
                sbx_fail "controller_pid $cpid is not a controller"
        # It must be ours: a descendant of our daemon, or running our build.
        if ! sbx_daemon_descendants | grep -q "^ *$cpid "; then
                [[ $(readlink "/proc/$cpid/exe") == "$SBX_BUILD_DIR"/* ]] ||
                        sbx_fail "controller_pid $cpid is neither under our daemon nor our binary"
        fi
        kill -KILL "$cpid"
        sbx_assert_sleeper_gone
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run still running 10s after its controller died"
        ((SBX_WAIT_STATUS != 0)) || sbx_fail "sbx-run exited 0 after its controller was killed"
        sbx_daemon_alive
}

@test "sbxctl usage errors exit 2" {
        run --separate-stderr sbx_ctl1
        sbx_assert_status 2
        run --separate-stderr sbx_ctl1 no-such-verb
        sbx_assert_status 2
}

@test "sbxctl without a daemon fails (1) naming the socket" {
        run --separate-stderr sbx_ctl1 --socket "$SBX_T/nonexistent.sock" list
        sbx_assert_status 1
        sbx_assert_match "stderr" "$stderr" "$SBX_T/nonexistent.sock"
}
