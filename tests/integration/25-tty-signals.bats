#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A caller with a terminal gets a PTY made inside the sandbox, never its own
# terminal: window size and job control work, and the sandbox cannot push
# input into the caller's terminal (TIOCSTI, CVE-2017-5226). Signals sent to
# sbx-run reach the command.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

PTY_RUN=$BATS_TEST_DIRNAME/pty-run.py

# pty_run1 [pty-run options] -- CMD...: CMD as the first test user, on a new
# terminal driven by pty-run.py.
pty_run1() {
        local opts=()
        while [[ $1 != -- ]]; do
                opts+=("$1")
                shift
        done
        shift
        sbx_as_argv "$SBX_U1" || return 1
        timeout -k 5 "$SBX_CMD_TIMEOUT" python3 "$PTY_RUN" "${opts[@]}" -- "${SBX_ARGV[@]}" "$@"
}

@test "a terminal caller gets a PTY of the sandbox's own devpts, with its window size" {
        run pty_run1 --rows 33 --cols 99 -- "$SBX_RUN" default -- \
                sh -c 'tty; stat -L -c "dev=%d" /dev/stdin; stty size; test -t 1 && echo out-is-tty'
        sbx_assert_status 0
        sbx_assert_match output "$output" 'out-is-tty'
        sbx_assert_match output "$output" '33 99'
        # The first PTY of a new devpts instance: the caller's terminal is not it.
        sbx_assert_match output "$output" '^/dev/pts/0'
        local inner host
        inner=$(grep -o 'dev=[0-9]*' <<<"$output")
        host=$(stat -L -c 'dev=%d' /dev/pts/ptmx)
        [[ $inner != "$host" ]] || sbx_fail "the command's terminal is on the host's devpts ($inner)"
}

@test "output written just before the command exits reaches the terminal" {
        # The slave's hang-up can be reported before its last bytes are
        # readable; sbx-run must read on to EIO. A race: many short runs.
        local i out
        sbx_as_argv "$SBX_U1" || return 1
        for i in $(seq 1 20); do
                out=$(timeout -k 5 "$SBX_CMD_TIMEOUT" python3 "$PTY_RUN" -- "${SBX_ARGV[@]}" \
                        "$SBX_RUN" default -- sh -c 'seq 1 200; echo last-line' 2>&1) ||
                        sbx_fail "run $i failed" "$out"
                [[ $out == *last-line* ]] || sbx_fail "run $i lost its last line" "$out"
        done
}

@test "window size changes reach the command (SIGWINCH)" {
        run pty_run1 --rows 24 --cols 80 \
                --step expect ready --step resize 40x120 --step expect 'size=40 120' -- \
                "$SBX_RUN" default -- \
                sh -c 'trap "echo size=\$(stty size); exit 0" WINCH; echo ready; while :; do sleep 0.05; done'
        sbx_assert_status 0
        sbx_assert_match output "$output" 'size=40 120'
}

@test "job control: ^Z stops and ^C interrupts the foreground job inside" {
        local tok slp
        tok=$(sbx_token)
        # A duration of its own: bats' per-test watchdog is a plain "sleep 300".
        slp=299.$tok
        # Expected strings are computed by the shell ($((...))), so the terminal's
        # echo of what was typed can never satisfy them.
        run pty_run1 \
                --step expect '\$ ' --step send "echo go-\$((1+1)); sleep $slp\n" \
                --step expect 'go-2' --step sleep 0.5 \
                --step send '\x1a' --step expect '[Ss]topped' \
                --step send "kill -9 %1; echo gone-\$((2+2)); sleep $slp\n" \
                --step expect 'gone-4' --step sleep 0.5 \
                --step send '\x03' \
                --step send "echo alive-\$((40+2))-$tok\n" --step expect "alive-42-$tok" \
                --step send 'exit 5\n' -- \
                "$SBX_RUN" default -- sh -i
        sbx_assert_status 5
        sbx_poll 5 sbx_not_running sleep "$slp" || sbx_fail "a sleep $slp was left running"
}

@test "the sandbox cannot push input into the caller's terminal (TIOCSTI)" {
        local tok
        tok=$(sbx_token)
        # Inside: try TIOCSTI on every terminal it can reach. Outside: whatever
        # reached the caller's terminal input is read back by the caller's shell.
        local inject
        inject='import fcntl, termios, os
for path in ("/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/tty"):
    try:
        fd = os.open(path, os.O_RDWR)
        for ch in "echo PWNED-'"$tok"'\n":
            fcntl.ioctl(fd, termios.TIOCSTI, ch.encode())
        print("injected into", path)
    except OSError as e:
        print("refused", path, e.strerror)'
        run pty_run1 -- bash -c '"$0" default -- python3 -c "$1" </dev/null; "$0" default -- python3 -c "$1"
                if read -r -t 1 line; then echo "caller read: $line"; else echo caller-read-nothing; fi' \
                "$SBX_RUN" "$inject"
        sbx_assert_status 0
        sbx_assert_match output "$output" caller-read-nothing
        sbx_assert_no_match output "$output" "caller read: .*PWNED"
}

@test "SIGINT, SIGHUP, SIGQUIT and SIGUSR1 sent to sbx-run reach the command" {
        local sig code tok
        for sig in INT:130 HUP:129 QUIT:131 USR1:138; do
                code=${sig#*:} sig=${sig%:*}
                tok=$((RANDOM + 1000)).$(sbx_token)
                sbx_bg "$SBX_U1" "$SBX_T/sig-$sig" "$SBX_RUN" default -- sleep "$tok"
                local pid=$SBX_BG_PID
                sbx_poll 10 sbx_is_running sleep "$tok" || sbx_fail "sleep did not start for $sig"
                kill "-$sig" "$pid"
                sbx_wait_pid "$pid" 10 || sbx_fail "sbx-run still running 10s after SIG$sig"
                [[ $SBX_WAIT_STATUS == "$code" ]] ||
                        sbx_fail "SIG$sig: sbx-run exited $SBX_WAIT_STATUS, not $code" \
                                "$(cat "$SBX_T/sig-$sig.err")"
                sbx_poll 5 sbx_not_running sleep "$tok" || sbx_fail "sleep $tok still running"
        done
}
