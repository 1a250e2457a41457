#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One user cannot exhaust the daemon: per-uid caps on connections and
# containers, and a flood of connections only hurts the one who sends it.
# This file runs its own daemon with small limits.

# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() {
        if [[ -n ${DAEMON3:-} ]]; then
                kill -TERM "$DAEMON3" 2>/dev/null || true
                sbx_wait_pid "$DAEMON3" 10 || kill -KILL "$DAEMON3" 2>/dev/null || true
        fi
        sbx_teardown
}

start_limited_daemon() {
        install -d -m 0755 "$SBX_T/run3"
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$SBX_BUILD_DIR/sandboxd" --foreground \
                --policy-dir "$SBX_T/policies" --run-dir "$SBX_T/run3" --log-level info \
                --max-per-user 2 --max-connections 5 \
                </dev/null >>"$SBX_T/sandboxd3.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        DAEMON3=$!
        sbx_register pid "$DAEMON3 $(sbx_pid_starttime "$DAEMON3")"
        sbx_poll 10 test -S "$SBX_T/run3/sandboxd.sock" || sbx_fail "daemon did not start" \
                "$(cat "$SBX_T/sandboxd3.log")"
}

run3() {
        sbx_as "$1" "$SBX_RUN" --socket "$SBX_T/run3/sandboxd.sock" "${@:2}"
}

@test "--max-per-user: a third container of the same user is refused (125); others still start" {
        local tok a b
        tok=$(sbx_token)
        start_limited_daemon
        sbx_bg "$SBX_U1" "$SBX_T/c1" "$SBX_RUN" --socket "$SBX_T/run3/sandboxd.sock" default -- sleep "700.$tok"
        a=$SBX_BG_PID
        sbx_bg "$SBX_U1" "$SBX_T/c2" "$SBX_RUN" --socket "$SBX_T/run3/sandboxd.sock" default -- sleep "701.$tok"
        b=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "700.$tok" || sbx_fail "first sleep did not start"
        sbx_poll 10 sbx_is_running sleep "701.$tok" || sbx_fail "second sleep did not start"
        run --separate-stderr run3 "$SBX_U1" default -- true
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" 'too many containers'
        # Another user is not affected.
        run --separate-stderr run3 "$SBX_U2" default -- true
        sbx_assert_status 0
        kill -TERM "$a" "$b"
        sbx_wait_pid "$a" 10 && sbx_wait_pid "$b" 10 || sbx_fail "sbx-run did not end"
        # The slots are free again.
        run --separate-stderr run3 "$SBX_U1" default -- true
        sbx_assert_status 0
}

@test "a flood of 10000 connections from one user only hurts that user" {
        start_limited_daemon
        local fds_before
        fds_before=$(find "/proc/$DAEMON3/fd" -mindepth 1 | wc -l)
        # User 1 opens connections as fast as it can and holds them, 10000 in all
        # (closing the oldest as it goes); the daemon keeps at most 5 of them.
        sbx_bg "$SBX_U1" "$SBX_T/flood" python3 -c '
import socket, sys, collections
held = collections.deque()
refused = 0
for i in range(10000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(sys.argv[1])
    except OSError:
        refused += 1
        s.close()
        continue
    held.append(s)
    if len(held) > 200:
        held.popleft().close()
print("refused", refused, "held", len(held), flush=True)
import time
time.sleep(60)  # hold the last 200 until killed
' "$SBX_T/run3/sandboxd.sock"
        local flood=$SBX_BG_PID
        sbx_poll 120 grep -q held "$SBX_T/flood.out" || sbx_fail "flood did not finish" "$(cat "$SBX_T/flood.out")"
        # While user 1 holds its connections, user 2 is served normally.
        run --separate-stderr run3 "$SBX_U2" default -- echo served
        sbx_assert_status 0
        [[ $output == served ]] || sbx_fail "user 2 got: $output"
        # The daemon's fds stayed bounded by the per-user cap.
        local fds_now
        fds_now=$(find "/proc/$DAEMON3/fd" -mindepth 1 | wc -l)
        ((fds_now <= fds_before + 5 + 3)) || sbx_fail "daemon fds grew: $fds_before -> $fds_now"
        grep -q 'refused connection: uid=' "$SBX_T/sandboxd3.log" || sbx_fail "no refusal logged"
        kill "$flood" 2>/dev/null || true
        sbx_wait_pid "$flood" 10 || sbx_fail "the flood client did not end"
        kill -0 "$DAEMON3" || sbx_fail "the daemon died"
}
