#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# sbx-run composes like the command itself: exit status, 128+N for a signal,
# 126/127, stdin/stdout/stderr passed through, signals forwarded.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

@test "the command's exit status is sbx-run's" {
        local code
        for code in 0 1 7 42 255; do
                run --separate-stderr sbx_run1 default -- sh -c "exit $code"
                sbx_assert_status "$code"
        done
}

@test "killed by SIGTERM: 143" {
        run --separate-stderr sbx_run1 default -- sh -c 'kill -TERM $$; exit 3'
        sbx_assert_status 143
}

@test "killed by SIGKILL: 137" {
        run --separate-stderr sbx_run1 default -- sh -c 'kill -KILL $$; exit 3'
        sbx_assert_status 137
}

@test "command not found: 127" {
        local tok
        tok=$(sbx_token)
        # run -127: bats warns about 127 unless told it is expected.
        run -127 --separate-stderr sbx_run1 default -- "sbx-no-such-command-$tok"
        sbx_assert_status 127
        run -127 --separate-stderr sbx_run1 default -- "/nonexistent/sbx-no-such-command-$tok"
        sbx_assert_status 127
}

@test "command not executable: 126" {
        local f=$SBX_U1_HOME/sbx-noexec.sh
        printf '#!/bin/sh\necho should not run\n' >"$f"
        chown "$SBX_U1:$SBX_U1" "$f"
        chmod 0644 "$f"
        run --separate-stderr sbx_run1 default -- "$f"
        rm -f "$f"
        sbx_assert_status 126
        sbx_assert_no_match "stdout" "$output" 'should not run'
        # A directory is not executable either.
        run --separate-stderr sbx_run1 default -- /usr
        sbx_assert_status 126
}

@test "sbx-run without arguments fails with 125" {
        run --separate-stderr sbx_run1
        sbx_assert_status 125
}

@test "stdout and stderr stay separate" {
        run --separate-stderr sbx_run1 default -- sh -c 'echo out; echo err >&2'
        sbx_assert_status 0
        [[ $output == out && $stderr == err ]] || sbx_show_run
        [[ $output == out && $stderr == err ]]
}

@test "stdin is passed through: echo hi | sbx-run default -- cat" {
        run --separate-stderr sbx_run1 default -- cat <<<"hi"
        sbx_assert_status 0
        [[ $output == hi ]] || sbx_fail "here-string: '$output'"

        local out=$SBX_T/stdin-pipe.out rc=0
        printf 'hi\n' | sbx_run1 default -- cat >"$out" || rc=$?
        ((rc == 0)) || sbx_fail "pipe: exit $rc"
        [[ $(cat "$out") == hi ]] || sbx_fail "pipe: '$(cat "$out")'"
}

@test "end of input reaches the command (cat </dev/null exits)" {
        run --separate-stderr sbx_run1 default -- cat </dev/null
        sbx_assert_status 0
        [[ -z $output ]]
}

@test "10 MiB round-trip byte-exact: file to file and pipe to pipe" {
        local in=$SBX_T/big.in out=$SBX_T/big.out rc=0 want got
        head -c $((10 * 1024 * 1024)) /dev/urandom >"$in"
        want=$(sha256sum <"$in")

        sbx_run1 default -- cat <"$in" >"$out" 2>"$SBX_T/big.err" || rc=$?
        ((rc == 0)) || sbx_fail "file to file: exit $rc" "$(cat "$SBX_T/big.err")"
        got=$(sha256sum <"$out")
        [[ $got == "$want" ]] || sbx_fail "file to file: sha256 differs ($(stat -c %s "$out") bytes out)"

        # A pipe on both ends, on purpose.
        # shellcheck disable=SC2002
        got=$(cat "$in" | sbx_run1 default -- cat 2>"$SBX_T/big.err" | sha256sum)
        [[ $got == "$want" ]] || sbx_fail "pipe to pipe: sha256 differs" "$(cat "$SBX_T/big.err")"
        rm -f "$in" "$out"
}

@test "SIGTERM to sbx-run reaches the command: exit 143, nothing left" {
        local tok
        tok=987.$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/sigterm" "$SBX_RUN" default -- sleep "$tok"
        local pid=$SBX_BG_PID
        if ! sbx_poll 10 sbx_is_running sleep "$tok"; then
                cat "$SBX_T/sigterm.err" >&2
                sbx_fail "the sandboxed sleep did not start"
        fi
        kill -TERM "$pid"
        sbx_wait_pid "$pid" 10 || sbx_fail "sbx-run still running 10s after SIGTERM"
        [[ $SBX_WAIT_STATUS == 143 ]] ||
                sbx_fail "sbx-run exited $SBX_WAIT_STATUS, not 143" "$(cat "$SBX_T/sigterm.err")"
        sbx_poll 5 sbx_not_running sleep "$tok" || sbx_fail "sleep $tok still running"
}
