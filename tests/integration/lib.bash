# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared helpers for lxsandbox's root integration tests (bats 1.8).  Every .bats
# file does:
#
#       load lib
#       setup_file()    { sbx_setup_file; }
#       teardown_file() { sbx_teardown_file; }
#       setup()         { sbx_setup; }
#       teardown()      { sbx_teardown; }
#
# sbx_setup_file probes the machine, creates a private temp dir ($SBX_T) with
# policies/ and run/, two unprivileged test users and a private sandboxd on
# $SBX_T/run/sandboxd.sock.  sbx_teardown_file undoes all of it, by pid and by
# name of what it created, even after a failure.  See tests/README.md.
#
# bats 1.8.2 cannot skip from setup_file, so a missing prerequisite is stored in
# SBX_SKIP_REASON and every test skips in sbx_setup.  tests/run-all.sh counts
# skips as failures under CI=true or SBX_TESTS_MUST_WORK=1.

bats_require_minimum_version 1.5.0

SBX_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
SBX_BUILD_DIR=${SBX_BUILD:-build}
[[ $SBX_BUILD_DIR == /* ]] || SBX_BUILD_DIR=$SBX_REPO/$SBX_BUILD_DIR
SBX_PY=/usr/bin/python3
# Where default.ini and strict.ini come from (the shipped ones by default).
SBX_POLICY_SRC=${SBX_POLICY_SRC:-$SBX_REPO/policy}
SBX_USER_PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
# Bound on any single foreground command run as a test user (seconds).
SBX_CMD_TIMEOUT=${SBX_CMD_TIMEOUT:-60}
# Bound on the daemon creating its socket, and on it exiting after SIGTERM.
SBX_DAEMON_TIMEOUT=${SBX_DAEMON_TIMEOUT:-5}
# Bound on teardown of containers after their command ended (leak polls).
SBX_SETTLE_TIMEOUT=${SBX_SETTLE_TIMEOUT:-5}

# ---- small utilities --------------------------------------------------------

sbx_skip() {
        skip "$*"
}

# Microseconds since the epoch, without forking.
sbx_now_us() {
        local t=${EPOCHREALTIME//[.,]/}
        printf '%s\n' "$t"
}

# sbx_poll SECONDS CMD [ARGS...]: run CMD every 50 ms until it succeeds (0) or
# the deadline passes (1).
sbx_poll() {
        local timeout=$1 now deadline
        shift
        now=${EPOCHREALTIME//[.,]/}
        deadline=$((now + timeout * 1000000))
        while :; do
                if "$@"; then
                        return 0
                fi
                now=${EPOCHREALTIME//[.,]/}
                if ((now >= deadline)); then
                        return 1
                fi
                sleep 0.05
        done
}

# A random token, unique enough to find our own processes and files.
sbx_token() {
        printf '%s%s%s\n' "$RANDOM" "$RANDOM" "$RANDOM"
}

# sbx_register KIND VALUE: note something we created for tests/run-all.sh's
# safety net (removes what a killed bats run left behind).  No-op without it.
sbx_register() {
        if [[ -n ${SBX_TEST_REGISTRY:-} ]]; then
                printf '%s %s\n' "$1" "$2" >>"$SBX_TEST_REGISTRY"
        fi
}

sbx_fail() {
        printf '%s\n' "$@" >&2
        return 1
}

# State of a process (R, S, Z, ...), empty if it does not exist.
sbx_pid_state() {
        local stat rest
        if ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
                return 0
        fi
        rest=${stat##*) }
        printf '%s\n' "${rest%% *}"
}

sbx_pid_ppid() {
        local stat rest
        if ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
                return 0
        fi
        rest=${stat##*) }
        rest=${rest#* }
        printf '%s\n' "${rest%% *}"
}

sbx_pid_starttime() {
        local stat rest
        if ! read -r stat 2>/dev/null <"/proc/$1/stat"; then
                return 0
        fi
        rest=${stat##*) }
        # fields after comm: state is field 3, starttime field 22 -> index 19
        local -a f
        read -r -a f <<<"$rest"
        printf '%s\n' "${f[19]}"
}

# True when PID has exited (gone or a zombie).
sbx_pid_gone() {
        local s
        s=$(sbx_pid_state "$1")
        [[ -z $s || $s == Z ]]
}

# sbx_wait_pid PID SECONDS: wait (bounded) for our child PID to exit; its exit
# status goes to SBX_WAIT_STATUS.  Returns 1 on timeout (the process is left
# running: sbx_teardown kills it).
sbx_wait_pid() {
        local pid=$1 timeout=$2
        SBX_WAIT_STATUS=
        if ! sbx_poll "$timeout" sbx_pid_gone "$pid"; then
                return 1
        fi
        local rc=0
        wait "$pid" || rc=$?
        # Read by the tests.
        # shellcheck disable=SC2034
        SBX_WAIT_STATUS=$rc
        return 0
}

# Pids of processes whose argv is exactly (BASENAME-of-argv0 ARG1) for the
# given ARG1 token, e.g. "sleep 987.1234": the sandboxed sleep, not the
# sbx-run whose own argv also contains the token.
sbx_pids_running() {
        local prog=$1 arg=$2 f pid
        local -a av
        for f in /proc/[0-9]*/cmdline; do
                av=()
                mapfile -d '' -t av 2>/dev/null <"$f" || continue
                ((${#av[@]} == 2)) || continue
                [[ ${av[1]} == "$arg" && ${av[0]##*/} == "$prog" ]] || continue
                pid=${f#/proc/}
                printf '%s\n' "${pid%/cmdline}"
        done
}

sbx_is_running() {
        [[ -n $(sbx_pids_running "$1" "$2") ]]
}

sbx_not_running() {
        [[ -z $(sbx_pids_running "$1" "$2") ]]
}

# sbx_json_get FIELD < JSON: prints FIELD of a JSON object (or of the first
# element of a JSON array).
sbx_json_get() {
        "$SBX_PY" -c '
import json, sys
d = json.load(sys.stdin)
if isinstance(d, list):
    d = d[0]
v = d[sys.argv[1]]
print(v if not isinstance(v, bool) else str(v).lower())
' "$1"
}

# ---- running things as the test users ---------------------------------------

# sbx_as_argv USER: sets SBX_ARGV to a command prefix that runs as USER, with
# USER's groups (initgroups, no PAM), a clean environment pointing at our
# daemon, in USER's home.
sbx_as_argv() {
        local user=$1 uid gid home
        case $user in
        "$SBX_U1")
                uid=$SBX_U1_UID gid=$SBX_U1_GID home=$SBX_U1_HOME
                ;;
        "$SBX_U2")
                uid=$SBX_U2_UID gid=$SBX_U2_GID home=$SBX_U2_HOME
                ;;
        *)
                sbx_fail "sbx_as_argv: unknown test user '$user'"
                return 1
                ;;
        esac
        SBX_ARGV=(setpriv --reuid="$uid" --regid="$gid" --init-groups --
                  env -i -C "$home" HOME="$home" USER="$user" LOGNAME="$user"
                  SHELL=/bin/sh PATH="$SBX_USER_PATH" LANG=C.UTF-8
                  LXSANDBOX_SOCKET="$SBX_SOCK")
}

# sbx_as USER CMD [ARGS...]: run CMD as USER in the foreground, bounded by
# SBX_CMD_TIMEOUT (exit 124 on timeout).  Stdin is passed through unless it is
# a terminal (sbx-run would switch to PTY mode and be stopped by SIGTTIN).
sbx_as() {
        local user=$1
        shift
        sbx_as_argv "$user" || return 1
        if [[ -t 0 ]]; then
                timeout -k 5 "$SBX_CMD_TIMEOUT" "${SBX_ARGV[@]}" "$@" </dev/null
        else
                timeout -k 5 "$SBX_CMD_TIMEOUT" "${SBX_ARGV[@]}" "$@"
        fi
}

# Shorthands: sbx-run / sbxctl as the first test user.
sbx_run1() {
        sbx_as "$SBX_U1" "$SBX_RUN" "$@"
}

sbx_ctl1() {
        sbx_as "$SBX_U1" "$SBX_CTL" "$@"
}

# sbx_bg USER OUTPREFIX CMD [ARGS...]: start CMD as USER in the background with
# stdin /dev/null, stdout OUTPREFIX.out, stderr OUTPREFIX.err.  The pid (that
# of CMD itself: setpriv and env exec) goes to SBX_BG_PID; sbx_teardown kills
# it if the test did not reap it.
sbx_bg() {
        local user=$1 out=$2
        shift 2
        sbx_as_argv "$user" || return 1
        # A simple command so that bash execs it directly in the forked child.
        # Closing fds 3-9 keeps bats from waiting for it.
        "${SBX_ARGV[@]}" "$@" </dev/null >"$out.out" 2>"$out.err" \
                3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        SBX_BG_PID=$!
        printf '%s\n' "$SBX_BG_PID" >>"$SBX_T/bg-pids"
}

# Registers a path that sbx_teardown removes (host-side files a test creates
# outside $SBX_T, e.g. in /tmp).
sbx_defer_rm() {
        printf '%s\n' "$1" >>"$SBX_T/defer-rm"
}

# ---- assertions over bats' run -----------------------------------------------

sbx_show_run() {
        printf 'status: %s\n--- stdout ---\n%s\n--- stderr ---\n%s\n--------------\n' \
                "${status:-}" "${output:-}" "${stderr:-}" >&2
}

sbx_assert_status() {
        if [[ ${status:-} != "$1" ]]; then
                sbx_show_run
                sbx_fail "expected exit status $1, got ${status:-}"
        fi
}

sbx_assert_status_nonzero() {
        if [[ ${status:-0} == 0 ]]; then
                sbx_show_run
                sbx_fail "expected a non-zero exit status"
        fi
}

# sbx_assert_match WHAT TEXT EXTENDED-REGEX
sbx_assert_match() {
        # Three arguments, always: a missing pattern would match anything.
        [[ $# -eq 3 && -n $3 ]] || { sbx_fail "${FUNCNAME[0]}: need WHAT TEXT REGEX"; return 1; }
        if ! grep -Eq -- "$3" <<<"$2"; then
                sbx_show_run
                sbx_fail "$1 does not match /$3/:" "$2"
        fi
}

sbx_assert_no_match() {
        # Three arguments, always: a missing pattern would match anything.
        [[ $# -eq 3 && -n $3 ]] || { sbx_fail "${FUNCNAME[0]}: need WHAT TEXT REGEX"; return 1; }
        if grep -Eq -- "$3" <<<"$2"; then
                sbx_show_run
                sbx_fail "$1 unexpectedly matches /$3/:" "$2"
        fi
}

# ---- snapshots and leak checks ----------------------------------------------

sbx_mount_count() {
        wc -l </proc/self/mountinfo
}

# Host mounts that mention our temp dir or the test users' homes.
sbx_our_mounts() {
        local pat=$SBX_T
        [[ -n ${SBX_U1_HOME:-} ]] && pat+="|$SBX_U1_HOME"
        [[ -n ${SBX_U2_HOME:-} ]] && pat+="|$SBX_U2_HOME"
        grep -E -- " ($pat)(/[^ ]*)? " /proc/self/mountinfo || true
}

# Idle controllers the daemon may keep ready for the next request (it starts
# one "spare" controller ahead of time, see sandboxd/server.c).
SBX_SPARE_CONTROLLERS=${SBX_SPARE_CONTROLLERS:-1}

# Descendants of the daemon (not the daemon itself), one "pid ppid ruid args"
# a line, except up to SBX_SPARE_CONTROLLERS idle spares: direct children of
# the daemon, running as root, running sandboxd-controller, without children
# (no container).
sbx_daemon_descendants() {
        [[ -n ${SBX_DAEMON_PID:-} ]] || return 0
        ps -e -o pid=,ppid=,ruid=,args= | awk -v root="$SBX_DAEMON_PID" \
                -v spares="$SBX_SPARE_CONTROLLERS" '
                { ppid[$1] = $2; ruid[$1] = $3; argv0[$1] = $4; line[$1] = $0; kids[$2]++ }
                END {
                        for (p in ppid) {
                                q = ppid[p]; n = 0
                                while (q > 1 && n++ < 64) {
                                        if (q == root) break
                                        q = ppid[q]
                                }
                                if (q != root) continue
                                if (ppid[p] == root && ruid[p] == 0 && !kids[p] &&
                                    argv0[p] ~ /(^|\/)sandboxd-controller$/ && spares-- > 0)
                                        continue
                                print line[p]
                        }
                }'
}

# Processes whose real, effective or saved uid is one of the test users.
sbx_user_procs() {
        local uids=" ${SBX_U1_UID:-x} ${SBX_U2_UID:-x} "
        ps -e -o pid=,ruid=,euid=,suid=,args= | awk -v uids="$uids" '
                index(uids, " " $2 " ") || index(uids, " " $3 " ") || index(uids, " " $4 " ")'
}

# Anything under the run dir but the socket, the pid file and empty dirs,
# and anything at all under run/containers/.
sbx_rundir_extra() {
        [[ -d $SBX_T/run ]] || return 0
        find "$SBX_T/run" -mindepth 1 \
                \( -path "$SBX_T/run/containers/*" -print \) -o \
                \( ! -type d ! -name sandboxd.sock ! -name sandboxd.pid -print \)
}

# Network interfaces of the host, one a line.
sbx_host_links() {
        local d
        for d in /sys/class/net/*; do
                printf '%s\n' "${d##*/}"
        done
}

# Cgroup directories PID is in (one a line, for every hierarchy), except
# those the daemon itself is in: a container's own cgroups.
sbx_cgroup_dirs_of() {
        local pid=$1 ctrls path c
        [[ -r /proc/$pid/cgroup ]] || return 0
        local -a own=()
        if [[ -n ${SBX_DAEMON_PID:-} ]]; then
                mapfile -t own < <(cut -d: -f2- "/proc/$SBX_DAEMON_PID/cgroup" 2>/dev/null)
        fi
        while IFS=: read -r _ ctrls path; do
                [[ -n $path && $path != / ]] || continue
                for c in "${own[@]}"; do
                        [[ $c == "$ctrls:$path" ]] && continue 2
                done
                if [[ -z $ctrls ]]; then
                        for c in "/sys/fs/cgroup/unified$path" "/sys/fs/cgroup$path"; do
                                [[ -f $c/cgroup.procs ]] && printf '%s\n' "$c"
                        done
                else
                        for c in ${ctrls//,/ }; do
                                c=/sys/fs/cgroup/${c#name=}$path
                                [[ -f $c/cgroup.procs ]] && printf '%s\n' "$c"
                        done
                fi
        done <"/proc/$pid/cgroup"
        return 0
}

# The daemon's own cgroup directories, one a line (every hierarchy; on v2 the
# parent of its "daemon" leaf): where sandboxd creates lxsandbox-NAME cgroups.
sbx_daemon_cgroup_dirs() {
        local ctrls path c
        if [[ -z ${SBX_DAEMON_PID:-} ]] || sbx_pid_gone "$SBX_DAEMON_PID"; then
                [[ -n ${SBX_T:-} && -f $SBX_T/daemon-cgroups ]] && cat "$SBX_T/daemon-cgroups"
                return 0
        fi
        while IFS=: read -r _ ctrls path; do
                if [[ -z $ctrls ]]; then
                        path=${path%/daemon}
                        for c in "/sys/fs/cgroup/unified$path" "/sys/fs/cgroup$path"; do
                                [[ -f $c/cgroup.procs ]] && printf '%s\n' "${c%/}"
                        done
                else
                        for c in ${ctrls//,/ }; do
                                c=/sys/fs/cgroup/${c#name=}$path
                                [[ -f $c/cgroup.procs ]] && printf '%s\n' "${c%/}"
                        done
                fi
        done <"/proc/$SBX_DAEMON_PID/cgroup"
        return 0
}

# Container cgroups of this test file left under the daemon's cgroups: names
# made from our test users' uids (POLICY-UID-RANDOM) or names (tests that pass
# --name start them with $SBX_U1).  Others' containers in the same parent (a
# concurrent test run) are not ours and not listed.
sbx_cgroup_leftovers() {
        local d f
        [[ -n ${SBX_U1:-} ]] || return 0
        while read -r d; do
                for f in "$d"/lxsandbox-*; do
                        [[ -d $f ]] || continue
                        case ${f##*/} in
                        lxsandbox-*-"$SBX_U1_UID"-* | lxsandbox-*-"${SBX_U2_UID:-x}"-* | \
                                lxsandbox-"$SBX_U1"*) printf '%s\n' "$f" ;;
                        esac
                done
        done < <(sbx_daemon_cgroup_dirs)
        return 0
}

# Removes leftover container cgroups of ours: kills what is in them (our
# sandboxes' processes), then rmdir (bounded retries).
sbx_remove_cgroup_leftovers() {
        local d pid i
        while read -r d; do
                for ((i = 0; i < 50; i++)); do
                        while read -r pid; do
                                [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
                        done <"$d/cgroup.procs"
                        rmdir "$d" 2>/dev/null && break
                        sleep 0.1
                done
        done < <(sbx_cgroup_leftovers)
        return 0
}

# True when none of the directories listed in file $1 exists.
sbx_dirs_gone() {
        local d
        while read -r d; do
                [[ -z $d || ! -d $d ]] || return 1
        done <"$1"
}

sbx_new_links() {
        [[ -f $SBX_T/links.base ]] || return 0
        sbx_host_links | sort | comm -13 "$SBX_T/links.base" - || true
}

# True when nothing of any container is left: no daemon descendants, no test
# user processes, nothing in the run dir, no mounts of ours on the host, no new
# network interfaces.  (Cgroups: see sbx_cgroup_dirs_of.)
# $1 = "allow-user-procs" skips the user process check.
sbx_is_clean() {
        [[ -z $(sbx_daemon_descendants) ]] || return 1
        [[ ${1:-} == allow-user-procs || -z $(sbx_user_procs) ]] || return 1
        [[ -z $(sbx_rundir_extra) ]] || return 1
        [[ -z $(sbx_our_mounts) ]] || return 1
        [[ -z $(sbx_new_links) ]] || return 1
        [[ -z $(sbx_cgroup_leftovers) ]] || return 1
}

sbx_describe_leaks() {
        local s
        s=$(sbx_daemon_descendants)
        [[ -z $s ]] || printf 'daemon descendants left:\n%s\n' "$s"
        s=$(sbx_user_procs)
        [[ -z $s ]] || printf 'test user processes left:\n%s\n' "$s"
        s=$(sbx_rundir_extra)
        [[ -z $s ]] || printf 'run dir entries left:\n%s\n' "$s"
        s=$(sbx_our_mounts)
        [[ -z $s ]] || printf 'host mounts left:\n%s\n' "$s"
        s=$(sbx_new_links)
        [[ -z $s ]] || printf 'network interfaces left:\n%s\n' "$s"
        s=$(sbx_cgroup_leftovers)
        [[ -z $s ]] || printf 'container cgroups left:\n%s\n' "$s"
        return 0
}

# Kills (SIGKILL, by pid) what containers left behind: descendants of our
# daemon and processes of our test users.  All were started by this test file.
sbx_kill_leaks() {
        local pid _
        while read -r pid _; do
                if [[ -n $pid && $pid != "$SBX_DAEMON_PID" ]]; then
                        kill -KILL "$pid" 2>/dev/null || true
                fi
        done < <(sbx_daemon_descendants; sbx_user_procs)
        sbx_remove_cgroup_leftovers
        sbx_poll 5 sbx_is_clean || true
}

# sbx_assert_clean [SECONDS]: bounded wait until sbx_is_clean, else describe
# and fail.
sbx_assert_clean() {
        if ! sbx_poll "${1:-$SBX_SETTLE_TIMEOUT}" sbx_is_clean; then
                sbx_describe_leaks >&2
                sbx_fail "leaks after ${1:-$SBX_SETTLE_TIMEOUT}s (see above)"
        fi
}

sbx_daemon_alive() {
        [[ -n ${SBX_DAEMON_PID:-} ]] && ! sbx_pid_gone "$SBX_DAEMON_PID"
}

sbx_daemon_log_tail() {
        [[ -f $SBX_T/sandboxd.log ]] || return 0
        printf -- '--- sandboxd.log (last %s lines) ---\n' "${1:-40}"
        tail -n "${1:-40}" "$SBX_T/sandboxd.log"
        printf -- '------------------------------------\n'
}

# ---- probes, users, policies, daemon -----------------------------------------

# Prints why this machine cannot run the integration tests; empty if it can.
sbx_probe() {
        local c
        if [[ $(id -u) != 0 ]]; then
                echo "integration tests need root"
                return
        fi
        for c in setpriv useradd userdel getent timeout ps awk find sha256sum unshare ip; do
                if ! command -v "$c" >/dev/null; then
                        echo "$c is not installed"
                        return
                fi
        done
        if [[ ! -x $SBX_PY ]]; then
                echo "$SBX_PY is not installed"
                return
        fi
        if ! unshare --mount --uts --ipc --net --pid --fork true 2>/dev/null; then
                echo "unshare of mount/uts/ipc/net/pid namespaces does not work here"
                return
        fi
        for c in sandboxd sbx-run sbxctl; do
                if [[ ! -x $SBX_BUILD_DIR/$c ]]; then
                        echo "$SBX_BUILD_DIR/$c is not built (run make)"
                        return
                fi
        done
        for c in default strict; do
                if [[ ! -f $SBX_POLICY_SRC/$c.ini ]]; then
                        echo "$SBX_POLICY_SRC/$c.ini does not exist"
                        return
                fi
        done
}

# sbx_create_user N [useradd args...]: creates a unique user and exports
# SBX_UN, SBX_UN_UID, SBX_UN_GID, SBX_UN_HOME.
sbx_create_user() {
        local n=$1 name i
        shift
        for ((i = 0; i < 20; i++)); do
                name=sbxt$$$RANDOM
                name=${name:0:24}
                if ! getent passwd "$name" >/dev/null && ! getent group "$name" >/dev/null \
                        && [[ ! -e /home/$name ]]; then
                        break
                fi
                name=
        done
        [[ -n $name ]] || sbx_fail "no free test user name"
        sbx_register user "$name"
        useradd -m -d "/home/$name" -s /bin/sh -c "lxsandbox test user" -U "$@" "$name"
        export "SBX_U$n=$name"
        export "SBX_U${n}_UID=$(id -u "$name")"
        export "SBX_U${n}_GID=$(id -g "$name")"
        export "SBX_U${n}_HOME=/home/$name"
}

sbx_uid_pids() {
        ps -e -o pid=,ruid=,euid=,suid= | awk -v u="$1" '$2 == u || $3 == u || $4 == u { print $1 }'
}

sbx_uid_has_no_procs() {
        [[ -z $(sbx_uid_pids "$1") ]]
}

sbx_remove_user() {
        local name=$1 pid
        [[ -n $name ]] || return 0
        getent passwd "$name" >/dev/null || return 0
        local uid
        uid=$(id -u "$name")
        # Processes of a user we created are ours.
        for pid in $(sbx_uid_pids "$uid"); do
                kill -KILL "$pid" 2>/dev/null || true
        done
        sbx_poll 5 sbx_uid_has_no_procs "$uid" || true
        userdel -r "$name" 2>/dev/null || true
        if getent passwd "$name" >/dev/null; then
                echo "could not remove test user $name"
                return 1
        fi
        # userdel -r leaves the user group if another user is in it; ours is not.
        if getent group "$name" >/dev/null; then
                groupdel "$name" 2>/dev/null || true
        fi
}

# Writes a policy file NAME.ini (root:root 0644) in $SBX_T/policies from stdin.
sbx_write_policy() {
        local f=$SBX_T/policies/$1.ini
        cat >"$f"
        chown root:root "$f"
        chmod 0644 "$f"
}

sbx_install_policies() {
        install -d -o root -g root -m 0755 "$SBX_T/policies"
        install -o root -g root -m 0644 "$SBX_POLICY_SRC/default.ini" "$SBX_T/policies/default.ini"
        install -o root -g root -m 0644 "$SBX_POLICY_SRC/strict.ini" "$SBX_T/policies/strict.ini"
        # Only the first test user may use it.
        sbx_write_policy restricted <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
Hostname = sandbox

[Access]
Users = $SBX_U1

[Files]
PrivateTmp = yes
ReadOnlyPaths = /
ReadWritePaths = -%h
EOF
        # Only members of the "users" group (the first test user) may use it.
        sbx_write_policy grouponly <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
Hostname = sandbox

[Access]
Groups = users

[Files]
PrivateTmp = yes
ReadOnlyPaths = /
ReadWritePaths = -%h
EOF
        # The host /tmp stays visible (no PrivateTmp) so that paths under $SBX_T
        # can be tested: secret/ is inaccessible, userdir/ read-only.
        sbx_write_policy testfiles <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
Hostname = sandbox

[Access]
Users = *

[Files]
PrivateTmp = no
ReadOnlyPaths = /
ReadWritePaths = -%h
InaccessiblePaths = $SBX_T/secret
EOF
}

sbx_daemon_ready_or_dead() {
        [[ -S $SBX_SOCK ]] || ! sbx_daemon_alive
}

sbx_start_daemon() {
        install -d -o root -g root -m 0755 "$SBX_T/run"
        local -a extra=()
        # Word splitting wanted: extra daemon arguments for debugging.
        # shellcheck disable=SC2206
        [[ -n ${SBX_DAEMON_ARGS:-} ]] && extra=($SBX_DAEMON_ARGS)
        local -a wrapper=()
        # shellcheck disable=SC2206
        [[ -n ${SBX_DAEMON_WRAPPER:-} ]] && wrapper=($SBX_DAEMON_WRAPPER)
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
                ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
                UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
                "${wrapper[@]}" "$SBX_BUILD_DIR/sandboxd" --foreground \
                --policy-dir "$SBX_T/policies" --run-dir "$SBX_T/run" --log-level debug \
                "${extra[@]}" </dev/null >"$SBX_T/sandboxd.log" 2>&1 \
                3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        export SBX_DAEMON_PID=$!
        sbx_register pid "$SBX_DAEMON_PID $(sbx_pid_starttime "$SBX_DAEMON_PID")"
        if ! sbx_poll "$SBX_DAEMON_TIMEOUT" sbx_daemon_ready_or_dead; then
                sbx_daemon_log_tail 50
                sbx_fail "sandboxd did not create $SBX_SOCK within ${SBX_DAEMON_TIMEOUT}s"
                return 1
        fi
        if ! sbx_daemon_alive; then
                sbx_daemon_log_tail 50
                sbx_fail "sandboxd exited at start"
                return 1
        fi
}

# Prints the cgroup layout: unified (v2 only), hybrid (v1 controllers and a
# v2 hierarchy without them, this project's machines) or legacy (v1 only).
# For tests of resource limits; the daemon detects the layout itself.
sbx_cgroup_mode() {
        case $(stat -fc %T /sys/fs/cgroup 2>/dev/null) in
        cgroup2fs) echo unified ;;
        tmpfs)
                if [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
                        echo hybrid
                else
                        echo legacy
                fi
                ;;
        *) echo none ;;
        esac
}

sbx_setup_file() {
        export SBX_SKIP_REASON SBX_CGROUP_MODE
        SBX_SKIP_REASON=$(sbx_probe)
        [[ -z $SBX_SKIP_REASON ]] || return 0
        SBX_CGROUP_MODE=$(sbx_cgroup_mode)

        SBX_T=$(mktemp -d /tmp/sbx-test.XXXXXX)
        export SBX_T
        sbx_register dir "$SBX_T"
        chmod 0755 "$SBX_T"
        export SBX_SOCK=$SBX_T/run/sandboxd.sock
        export LXSANDBOX_SOCKET=$SBX_SOCK
        export SBX_MOUNTS_BASE
        SBX_MOUNTS_BASE=$(sbx_mount_count)
        sbx_host_links | sort >"$SBX_T/links.base"

        # The first user is in the "users" group (supplementary groups are
        # checked); the second is in no policy's Users= or Groups=.
        sbx_create_user 1 -G users
        sbx_create_user 2
        printf 'host home marker\n' >"$SBX_U1_HOME/sbx-home-marker"
        chown "$SBX_U1:$SBX_U1" "$SBX_U1_HOME/sbx-home-marker"

        install -d -o root -g root -m 0755 "$SBX_T/secret"
        printf 'top secret %s\n' "$(sbx_token)" >"$SBX_T/secret/data"
        chmod 0644 "$SBX_T/secret/data"
        install -d -o "$SBX_U1" -g "$SBX_U1" -m 0755 "$SBX_T/userdir"

        sbx_install_policies

        export SBX_RUN=$SBX_BUILD_DIR/sbx-run SBX_CTL=$SBX_BUILD_DIR/sbxctl
        # The clients must be executable by the test users; copy them if the
        # build dir is not reachable for them.
        if ! setpriv --reuid="$SBX_U1_UID" --regid="$SBX_U1_GID" --clear-groups -- \
                test -x "$SBX_RUN" -a -x "$SBX_CTL"; then
                install -d -m 0755 "$SBX_T/bin"
                install -m 0755 "$SBX_RUN" "$SBX_CTL" "$SBX_T/bin/"
                SBX_RUN=$SBX_T/bin/sbx-run SBX_CTL=$SBX_T/bin/sbxctl
        fi

        sbx_start_daemon
        sbx_daemon_cgroup_dirs >"$SBX_T/daemon-cgroups"
}

sbx_teardown_file() {
        local errors=0 msg pid
        if [[ -n ${SBX_DAEMON_PID:-} ]]; then
                if ! sbx_poll "$SBX_SETTLE_TIMEOUT" sbx_is_clean; then
                        echo "leftovers at the end of $BATS_TEST_FILENAME:"
                        sbx_describe_leaks
                        sbx_kill_leaks
                        errors=1
                fi
                # Everything under the daemon now (spares included) must end with it.
                local -a rest=()
                mapfile -t rest < <(SBX_SPARE_CONTROLLERS=0 sbx_daemon_descendants | awk '{ print $1 }')
                if ! sbx_pid_gone "$SBX_DAEMON_PID"; then
                        kill -TERM "$SBX_DAEMON_PID" 2>/dev/null
                        if ! sbx_poll "$SBX_DAEMON_TIMEOUT" sbx_pid_gone "$SBX_DAEMON_PID"; then
                                echo "sandboxd (pid $SBX_DAEMON_PID) ignored SIGTERM for ${SBX_DAEMON_TIMEOUT}s; killing it"
                                kill -KILL "$SBX_DAEMON_PID" 2>/dev/null
                                sbx_poll 5 sbx_pid_gone "$SBX_DAEMON_PID" || true
                                errors=1
                        fi
                else
                        echo "sandboxd (pid $SBX_DAEMON_PID) was not running at teardown"
                        errors=1
                fi
                for pid in "${rest[@]}"; do
                        if ! sbx_poll 5 sbx_pid_gone "$pid"; then
                                echo "pid $pid (started under sandboxd) outlived it:"
                                ps -o pid=,ppid=,ruid=,args= -p "$pid" || true
                                kill -KILL "$pid" 2>/dev/null || true
                                errors=1
                        fi
                done
                local rc=0
                wait "$SBX_DAEMON_PID" 2>/dev/null || rc=$?
                if [[ $rc != 0 && $rc != 143 ]]; then
                        echo "sandboxd exited with status $rc after SIGTERM"
                        errors=1
                fi
                if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:|==[0-9]+== (Invalid|Conditional|Syscall param)' \
                        "$SBX_T/sandboxd.log" 2>/dev/null; then
                        echo "sanitizer or valgrind reports in sandboxd.log"
                        errors=1
                fi
                if ((errors)); then
                        sbx_daemon_log_tail 60
                fi
        fi
        if [[ -n ${SBX_T:-} && -d $SBX_T ]]; then
                msg=$(sbx_our_mounts)
                if [[ -n $msg ]]; then
                        printf 'host mounts left under %s:\n%s\n' "$SBX_T" "$msg"
                        errors=1
                        # Ours (the path is our temp dir): lazily unmount, deepest first.
                        awk '{ print $5 }' <<<"$msg" | sort -r | while read -r pid; do
                                umount -l "$pid" 2>/dev/null || true
                        done
                fi
        fi
        # With the daemon gone, from the list saved when it started.
        msg=$(sbx_cgroup_leftovers)
        if [[ -n $msg ]]; then
                printf 'container cgroups left:\n%s\n' "$msg"
                errors=1
                sbx_remove_cgroup_leftovers
        fi
        if [[ -n ${SBX_U1:-} ]]; then
                sbx_remove_user "$SBX_U1" || errors=1
        fi
        if [[ -n ${SBX_U2:-} ]]; then
                sbx_remove_user "$SBX_U2" || errors=1
        fi
        if [[ -n ${SBX_T:-} && -d $SBX_T && $SBX_T == /tmp/sbx-test.* ]]; then
                rm -rf --one-file-system "$SBX_T"
        fi
        return "$errors"
}

sbx_setup() {
        if [[ -n ${SBX_SKIP_REASON:-} ]]; then
                sbx_skip "$SBX_SKIP_REASON"
        fi
        : >"$SBX_T/bg-pids"
        : >"$SBX_T/defer-rm"
        SBX_LOG_OFFSET=$(stat -c %s "$SBX_T/sandboxd.log" 2>/dev/null || echo 0)
        if ! sbx_daemon_alive; then
                sbx_daemon_log_tail 40
                sbx_fail "sandboxd (pid $SBX_DAEMON_PID) is not running"
        fi
}

sbx_teardown() {
        [[ -z ${SBX_SKIP_REASON:-} && -n ${SBX_T:-} ]] || return 0
        local errors=0 pid p
        # Background commands the test started and did not reap: ours, by pid,
        # and only while they still are our children.
        while read -r pid; do
                [[ -n $pid ]] || continue
                if [[ $(sbx_pid_ppid "$pid") == "$BASHPID" ]]; then
                        if ! sbx_pid_gone "$pid"; then
                                kill -KILL "$pid" 2>/dev/null || true
                        fi
                        wait "$pid" 2>/dev/null || true
                fi
        done <"$SBX_T/bg-pids"
        while read -r p; do
                [[ -n $p ]] && rm -rf --one-file-system -- "$p"
        done <"$SBX_T/defer-rm"
        if ! sbx_poll "$SBX_SETTLE_TIMEOUT" sbx_is_clean; then
                echo "leaks after this test:"
                sbx_describe_leaks
                sbx_kill_leaks
                errors=1
        fi
        if ! sbx_daemon_alive; then
                echo "sandboxd died during this test"
                errors=1
        fi
        if [[ -z ${BATS_TEST_COMPLETED:-} ]] || ((errors)); then
                printf -- '--- sandboxd.log during this test ---\n'
                tail -c +"$((SBX_LOG_OFFSET + 1))" "$SBX_T/sandboxd.log" 2>/dev/null | tail -n 40
                printf -- '-------------------------------------\n'
        fi
        return "$errors"
}
