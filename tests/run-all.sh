#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/run-all.sh [unit|root|all]   (default: all)
#
# unit: runs every $SBX_BUILD/tests/test-* cmocka binary (SBX_BUILD defaults to
#       build), under valgrind when SBX_VALGRIND=1.  Exit status 77 = skipped.
# root: runs every tests/integration/*.bats, tests/security/*.bats and tests/e2e/*.bats
#       (logins through a real sshd, login and su) with bats --tap,
#       then the cgroup v2 VM tests (tests/cgv2/run.sh: qemu, TAP).
# all:  both.
#
# Counts each cmocka test and each bats test, prints the output of failures,
# and ends with exactly one line "N passed, N failed, N skipped".  Under
# CI=true or SBX_TESTS_MUST_WORK=1 every skip counts as a failure.  Exits 0 iff
# nothing failed.  Logs go to $SBX_BUILD/test-logs/.
#
# Environment: SBX_BUILD, SBX_VALGRIND, SBX_TESTS_MUST_WORK, CI,
# SBX_UNIT_TIMEOUT (seconds per unit binary, default 300),
# SBX_BATS_TIMEOUT (seconds per .bats file, default 900),
# BATS_TEST_TIMEOUT (seconds per bats test, default 300).

set -uo pipefail

usage() {
        echo "usage: $0 [unit|root|all]"
}

mode=${1:-all}
case $mode in
unit | root | all) ;;
-h | --help)
        usage
        exit 0
        ;;
*)
        usage >&2
        exit 2
        ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1

build=${SBX_BUILD:-build}
[[ $build == /* ]] || build=$repo/$build
export SBX_BUILD=$build

must_work=0
if [[ ${CI:-} == true || ${SBX_TESTS_MUST_WORK:-} == 1 ]]; then
        must_work=1
fi

logdir=$build/test-logs
mkdir -p "$logdir/unit" "$logdir/integration" "$logdir/security" "$logdir/e2e"

passed=0
failed=0
skipped=0
failed_names=()

# ---- result bookkeeping -------------------------------------------------------

pass() {
        passed=$((passed + 1))
}

# fail NAME [DETAILS-FILE-OR-TEXT...]
fail() {
        failed=$((failed + 1))
        failed_names+=("$1")
        echo "FAIL: $1"
}

# skip NAME REASON: a skip, or a failure under CI / SBX_TESTS_MUST_WORK=1.
skip() {
        if ((must_work)); then
                failed=$((failed + 1))
                failed_names+=("$1 (skipped: $2)")
                echo "FAIL: $1: skipped, and skips are failures under CI/SBX_TESTS_MUST_WORK=1: $2"
        else
                skipped=$((skipped + 1))
                echo "SKIP: $1: $2"
        fi
}

indent() {
        sed 's/^/    | /'
}

# ---- unit tests ---------------------------------------------------------------

# Parses cmocka's default output (stdout and stderr merged) from LOG for the
# binary NAME: "[ RUN      ] t" followed by "[       OK ] t", "[  FAILED  ] t"
# or "[  SKIPPED ] t".  The summaries after the run repeat names; only a result
# right after its RUN line counts.  A RUN without a result (a crash) is a
# failure.  Sets u_pass u_fail u_skip and appends failing test names to u_names.
parse_cmocka() {
        local log=$1 line current='' result name
        u_pass=0 u_fail=0 u_skip=0 u_names=()
        while IFS= read -r line; do
                case $line in
                "[ RUN      ] "*)
                        if [[ -n $current ]]; then
                                u_fail=$((u_fail + 1))
                                u_names+=("$current (no result)")
                        fi
                        current=${line#"[ RUN      ] "}
                        ;;
                "[       OK ] "* | "[  FAILED  ] "* | "[  SKIPPED ] "* | "[  ERROR   ] "*)
                        [[ -n $current ]] || continue
                        result=${line:0:12}
                        name=${line:13}
                        if [[ $result == "[  ERROR   ]" ]]; then
                                # Failure details ("--- message"), the result follows.
                                continue
                        fi
                        [[ $name == "$current" ]] || continue
                        case $result in
                        "[       OK ]") u_pass=$((u_pass + 1)) ;;
                        "[  FAILED  ]")
                                u_fail=$((u_fail + 1))
                                u_names+=("$current")
                                ;;
                        "[  SKIPPED ]") u_skip=$((u_skip + 1)) ;;
                        esac
                        current=
                        ;;
                esac
        done <"$log"
        if [[ -n $current ]]; then
                u_fail=$((u_fail + 1))
                u_names+=("$current (no result: crashed?)")
        fi
}

# Valgrind's --track-fds=yes reports but does not fail: an fd opened by the
# program (a stack follows "Open file descriptor N:") and still open at exit is
# a leak; inherited ones say "<inherited from parent>".
valgrind_fd_leaks() {
        awk '
                /Open file descriptor [0-9]+:/ { fd = $0; sub(/^==[0-9]+== /, "", fd); next }
                fd != "" && /<inherited from parent>/ { fd = ""; next }
                fd != "" && /(at|by) 0x/ { print fd; fd = ""; next }
        ' "$1"
}

run_unit() {
        local -a bins=() srcs=()
        local f name log rc t status_note
        local timeout_s=${SBX_UNIT_TIMEOUT:-300}
        local -a wrapper=()
        if [[ ${SBX_VALGRIND:-} == 1 ]]; then
                if ! command -v valgrind >/dev/null; then
                        fail "unit: SBX_VALGRIND=1 but valgrind is not installed"
                        return
                fi
                wrapper=(valgrind -q --leak-check=full --track-fds=yes
                         --errors-for-leak-kinds=definite --error-exitcode=1)
                if [[ -f $repo/tools/valgrind.supp ]]; then
                        wrapper+=(--suppressions="$repo/tools/valgrind.supp")
                fi
        fi

        shopt -s nullglob
        srcs=("$repo"/tests/unit/test-*.c)
        for f in "$build"/tests/test-*; do
                [[ -f $f && -x $f ]] && bins+=("$f")
        done
        shopt -u nullglob

        # A unit test source without its binary was not built: a failure.
        for f in "${srcs[@]}"; do
                name=$(basename "$f" .c)
                if [[ ! -x $build/tests/$name ]]; then
                        fail "unit/$name: not built ($build/tests/$name missing; run make tests)"
                fi
        done

        echo "== unit tests (${#bins[@]} binaries in $build/tests${wrapper:+, under valgrind})"
        for f in "${bins[@]}"; do
                name=$(basename "$f")
                log=$logdir/unit/$name.log
                rc=0
                # The braces keep bash's "Segmentation fault" notice out of
                # our output (it goes to the group's stderr, the log).
                {
                        CMOCKA_MESSAGE_OUTPUT=STDOUT timeout -k 10 "$timeout_s" \
                                "${wrapper[@]}" "$f" </dev/null
                } >"$log" 2>&1 || rc=$?
                if ((rc == 77)); then
                        t=$(grep -v '^==[0-9]*==' "$log" | grep . | tail -n 1)
                        skip "unit/$name" "${t:-exit status 77}"
                        continue
                fi
                parse_cmocka "$log"
                passed=$((passed + u_pass))
                skipped=$((skipped + u_skip))
                if ((must_work && u_skip > 0)); then
                        skipped=$((skipped - u_skip))
                        failed=$((failed + u_skip))
                        failed_names+=("unit/$name: $u_skip skipped test(s)")
                        echo "FAIL: unit/$name: $u_skip cmocka test(s) skipped; skips are failures under CI/SBX_TESTS_MUST_WORK=1"
                fi
                for t in "${u_names[@]}"; do
                        fail "unit/$name: $t"
                done
                status_note=
                if ((rc == 124 || rc == 137)); then
                        status_note="timed out after ${timeout_s}s"
                elif ((rc != 0 && u_fail == 0)); then
                        # No cmocka failure but a bad status: a crash outside a
                        # test, a group setup failure or a valgrind error.
                        status_note="exit status $rc"
                fi
                if [[ -n $status_note ]]; then
                        fail "unit/$name: $status_note"
                fi
                local leaks=
                if ((${#wrapper[@]})); then
                        leaks=$(valgrind_fd_leaks "$log")
                        if [[ -n $leaks ]]; then
                                fail "unit/$name: fd leak(s): $(tr '\n' ' ' <<<"$leaks")"
                        fi
                fi
                if ((u_fail > 0)) || [[ -n $status_note || -n $leaks ]]; then
                        echo "--- output of $name (exit $rc; full log: $log) ---"
                        tail -n 200 "$log" | indent
                elif ((u_pass + u_skip == 0)); then
                        echo "ok: unit/$name (no cmocka results; counted as one test)"
                        pass
                else
                        echo "ok: unit/$name ($u_pass passed, $u_skip skipped)"
                fi
        done
}

# ---- integration tests --------------------------------------------------------

# Removes what a bats file registered (lib.bash's sbx_register) and did not
# remove itself, e.g. when bats was killed by its timeout.  Each leftover is a
# failure.  Everything listed was created by the test file: users named
# sbxt*, dirs /tmp/sbx-test.*, daemon pids checked against their start time.
sweep_registry() {
        local reg=$1 file=$2 kind a b st
        [[ -s $reg ]] || return 0
        while read -r kind a b; do
                case $kind in
                pid)
                        [[ -r /proc/$a/stat ]] || continue
                        st=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$a/stat" 2>/dev/null)
                        [[ $st == "$b" ]] || continue
                        fail "$file: cleanup: daemon pid $a still running after the file ended"
                        kill -KILL "$a" 2>/dev/null
                        ;;
                user)
                        [[ $a == sbxt* ]] || continue
                        getent passwd "$a" >/dev/null || continue
                        fail "$file: cleanup: test user $a not removed"
                        local uid pid
                        uid=$(id -u "$a")
                        for pid in $(ps -e -o pid=,ruid=,euid= |
                                awk -v u="$uid" '$2 == u || $3 == u { print $1 }'); do
                                kill -KILL "$pid" 2>/dev/null
                        done
                        sleep 0.2
                        userdel -r "$a" >/dev/null 2>&1 || echo "warning: could not remove user $a"
                        ;;
                dir)
                        [[ $a == /tmp/sbx-test.* && -d $a ]] || continue
                        fail "$file: cleanup: $a not removed"
                        if grep -qF " $a" /proc/self/mountinfo; then
                                echo "warning: mounts under $a; not removing it"
                        else
                                rm -rf --one-file-system "$a"
                        fi
                        ;;
                esac
        done <"$reg"
        : >"$reg"
}

# Parses bats' TAP from LOG for the file NAME: "ok N d", "ok N d # skip r",
# "not ok N d" with "# ..." detail lines after it.
parse_tap() {
        local log=$1 file=$2 line desc reason in_fail=0 seen=0 plan=0
        local details=
        flush_fail() {
                if ((in_fail)); then
                        printf '%s\n' "$details" | indent
                        in_fail=0
                        details=
                fi
        }
        while IFS= read -r line; do
                case $line in
                "1.."*)
                        plan=${line#1..}
                        ;;
                "ok "*)
                        flush_fail
                        seen=$((seen + 1))
                        desc=${line#ok }
                        desc=${desc#* }
                        if [[ ${desc,,} == *" # skip"* ]]; then
                                reason=${desc#* \# [sS][kK][iI][pP]}
                                reason=${reason# }
                                skip "$file: ${desc%% \# [sS][kK][iI][pP]*}" "${reason:-no reason given}"
                        else
                                pass
                        fi
                        ;;
                "not ok "*)
                        flush_fail
                        seen=$((seen + 1))
                        desc=${line#not ok }
                        desc=${desc#* }
                        fail "$file: $desc"
                        in_fail=1
                        details=
                        ;;
                "#"*)
                        if ((in_fail)); then
                                details+=${details:+$'\n'}${line#\#}
                        fi
                        ;;
                esac
        done <"$log"
        flush_fail
        tap_seen=$seen
        tap_plan=$plan
}

run_root() {
        local -a files=()
        local f name log rc reg before
        shopt -s nullglob
        files=("$repo"/tests/integration/*.bats "$repo"/tests/security/*.bats "$repo"/tests/e2e/*.bats)
        shopt -u nullglob
        echo "== integration tests (${#files[@]} files)"
        if ((${#files[@]} == 0)); then
                return
        fi
        if ! command -v bats >/dev/null; then
                for f in "${files[@]}"; do
                        skip "$(basename "$(dirname "$f")")/$(basename "$f")" "bats is not installed"
                done
                return
        fi
        reg=$(mktemp /tmp/sbx-registry.XXXXXX)
        export SBX_TEST_REGISTRY=$reg
        export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
        for f in "${files[@]}"; do
                name=$(basename "$(dirname "$f")")/$(basename "$f")
                log=$logdir/${name%.bats}.tap
                echo "-- $name"
                rc=0
                before=$failed
                {
                        timeout -k 30 "${SBX_BATS_TIMEOUT:-900}" bats --tap "$f" </dev/null
                } >"$log" 2>&1 || rc=$?
                parse_tap "$log" "$name"
                if ((rc == 124 || rc == 137)); then
                        fail "$name: timed out after ${SBX_BATS_TIMEOUT:-900}s"
                        tail -n 40 "$log" | indent
                elif ((rc != 0 && failed == before)); then
                        fail "$name: bats exited $rc"
                        tail -n 40 "$log" | indent
                elif ((tap_seen < tap_plan && rc != 0)); then
                        echo "note: $name ran $tap_seen of $tap_plan tests"
                fi
                sweep_registry "$reg" "$name"
        done
        rm -f "$reg"
}

# ---- cgroup v2 VM tests ---------------------------------------------------------

# tests/cgv2/run.sh boots a qemu VM on cgroup v2 and prints TAP; each VM test
# counts as a test.  Exit 77 = a missing prerequisite (qemu, cpio, kernel):
# a skip, so a failure under CI.
run_cgv2() {
        local log=$logdir/cgv2.tap rc=0 before=$failed
        echo "== cgroup v2 VM tests (tests/cgv2)"
        { "$repo/tests/cgv2/run.sh" </dev/null; } >"$log" 2>&1 || rc=$?
        if ((rc == 77)); then
                skip "cgv2" "$(sed -n 's/^1\.\.0 # SKIP //p' "$log")"
                return
        fi
        parse_tap "$log" cgv2
        if ((rc != 0 && failed == before)); then
                fail "cgv2: tests/cgv2/run.sh exited $rc"
                tail -n 40 "$log" | indent
        fi
        grep '^# cgv2: ' "$log"
}

# ---- main ---------------------------------------------------------------------

if ((must_work)); then
        echo "(CI=true or SBX_TESTS_MUST_WORK=1: skips count as failures)"
fi
case $mode in
unit) run_unit ;;
root)
        run_root
        run_cgv2
        ;;
all)
        run_unit
        run_root
        run_cgv2
        ;;
esac

if ((failed > 0)); then
        echo
        echo "Failed:"
        printf '  %s\n' "${failed_names[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
