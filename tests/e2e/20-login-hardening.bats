#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# What a hostile user can and cannot do from inside their login container:
# no privileges from setuid binaries, nothing of the login program's or the
# module's fds in the session.

load login-lib

setup_file() {
        sbx_login_setup_file
        [[ -z $SBX_SKIP_REASON ]] || return 0
        # A setuid-root copy of id where the container sees it: the user's
        # home (the host's /, no nosuid), in a directory only root may change.
        export PROBE_DIR=$SBX_U1_HOME/suid
        install -d -o root -g root -m 0755 "$PROBE_DIR"
        install -o root -g root -m 4755 /usr/bin/id "$PROBE_DIR/id"
        cat >"$PROBE_DIR/fds" <<'EOF'
#!/bin/sh
ls -l /proc/self/fd |
        awk '$(NF-1) == "->" && $NF !~ /^\/proc\/[0-9]+\/fd$/ { printf "%s ", $(NF-2) } END { print "" }'
EOF
        chmod 0755 "$PROBE_DIR/fds"
}
teardown_file() {
        [[ -z ${PROBE_DIR:-} ]] || rm -rf "$PROBE_DIR"
        sbx_login_teardown_file
}
setup() { sbx_setup; }
teardown() {
        fuse_release
        if [[ -n ${DAEMON3:-} ]]; then
                kill -TERM "$DAEMON3" 2>/dev/null || true
                sbx_wait_pid "$DAEMON3" 10 || kill -KILL "$DAEMON3" 2>/dev/null || true
        fi
        sbx_teardown
}

wait_no_container() {
        sbx_poll 20 sbx_no_login_container "$1" || sbx_fail "login-$1 still registered"
}

# What a session reports: its no_new_privs flag, then the effective uid a
# setuid-root binary runs with.
# shellcheck disable=SC2016 # expanded remotely
SUID_PROBE='grep ^NoNewPrivs: /proc/self/status; echo "euid $(suid/id -u)"'

assert_no_privs() {
        local out=$1
        printf '%s\n' "$out"
        [[ $out == *"NoNewPrivs:"*1* ]] || sbx_fail "no_new_privs is not set"
        [[ $out == *"euid $SBX_U1_UID"* ]] || sbx_fail "a setuid-root binary raised privileges"
}

@test "setup: the setuid-root probe does raise privileges outside a confined session" {
        run sbx_as "$SBX_U1" "$PROBE_DIR/id" -u
        sbx_show_run
        [[ $status == 0 && $output == 0 ]]
}

@test "ssh: no_new_privs is set; a setuid-root binary inside does not get euid 0" {
        run sbx_ssh "$SBX_U1" "$SUID_PROBE"
        sbx_show_run
        [[ $status == 0 ]]
        assert_no_privs "$output"
        wait_no_container "$SBX_U1"
}

@test "su - and login -f: no_new_privs is set in the session too" {
        rm -f "$SBX_U1_HOME/su.out" "$SBX_U1_HOME/login.out"
        timeout 60 unshare -m --propagation private -- sh -c \
                "mount --bind $SBX_T/pam.d /etc/pam.d && exec su - $SBX_U1 -c '($SUID_PROBE) > su.out'" </dev/null
        assert_no_privs "$(cat "$SBX_U1_HOME/su.out")"
        printf '(%s) > login.out; exit\n' "$SUID_PROBE" |
                timeout 60 script -qec "unshare -m --propagation private -- sh -c 'mount --bind $SBX_T/pam.d /etc/pam.d && exec login -f $SBX_U1'" /dev/null >/dev/null
        assert_no_privs "$(cat "$SBX_U1_HOME/login.out")"
        wait_no_container "$SBX_U1"
}

@test "an unconfined user's session does not get no_new_privs" {
        run sbx_ssh "$SBX_U2" 'grep ^NoNewPrivs: /proc/self/status'
        sbx_show_run
        [[ $status == 0 && $output == *"NoNewPrivs:"*0* ]]
}

# The fds a program started by the session's shell inherits (all but the
# one ls reads /proc/self/fd with), in a root-owned script the container sees.
FD_PROBE=suid/fds

# Runs a command with only stdin, stdout and stderr: su and login pass on
# whatever their caller had open (here bats's own fds).
only_stdio() {
        (
                for fd in /proc/"$BASHPID"/fd/*; do
                        fd=${fd##*/}
                        ((fd > 2)) && eval "exec $fd>&-"
                done 2>/dev/null
                exec "$@"
        )
}

@test "ssh, ssh -tt, su -, login -f: the session's shell has only fds 0, 1 and 2" {
        run sbx_ssh "$SBX_U1" "$FD_PROBE"
        sbx_show_run
        [[ $status == 0 && $output == "0 1 2 " ]]
        run sbx_ssh "$SBX_U1" -tt "$FD_PROBE"
        sbx_show_run
        [[ $status == 0 && ${output%$'\r'} == "0 1 2 " ]]
        rm -f "$SBX_U1_HOME/su.fds" "$SBX_U1_HOME/login.fds"
        only_stdio timeout 60 unshare -m --propagation private -- sh -c \
                "mount --bind $SBX_T/pam.d /etc/pam.d && exec su - $SBX_U1 -c '$FD_PROBE > su.fds'" </dev/null
        [[ $(cat "$SBX_U1_HOME/su.fds") == "0 1 2 " ]]
        printf '%s > login.fds; exit\n' "$FD_PROBE" |
                only_stdio timeout 60 script -qec "unshare -m --propagation private -- sh -c 'mount --bind $SBX_T/pam.d /etc/pam.d && exec login -f $SBX_U1'" /dev/null >/dev/null
        [[ $(cat "$SBX_U1_HOME/login.fds") == "0 1 2 " ]]
        wait_no_container "$SBX_U1"
}

@test "sshd's user child keeps the saved namespaces, but the user cannot reach its fds" {
        sbx_ssh "$SBX_U1" 'while [ ! -e stop-fds ]; do sleep 0.1; done; rm -f stop-fds' </dev/null &
        ssh_pid=$!
        echo "$ssh_pid" >>"$SBX_T/bg-pids"
        sbx_poll 30 pgrep -u "$SBX_U1" -x sshd >/dev/null || sbx_fail "no sshd user child"
        child=$(pgrep -u "$SBX_U1" -x sshd | head -n 1)
        # It forked from the monitor without exec: the module's fds are there...
        find "/proc/$child/fd" -mindepth 1 -lname 'mnt:*' | grep -q . ||
                sbx_fail "expected the saved mnt ns fd"
        # ...but it changed uid, so it is not dumpable: the user may not open
        # its fd directory or ptrace it.
        run sbx_as "$SBX_U1" ls "/proc/$child/fd"
        [[ $status != 0 && $output == *"Permission denied"* ]]
        touch "$SBX_U1_HOME/stop-fds"
        wait "$ssh_pid" || true
        wait_no_container "$SBX_U1"
}

fuse_release() {
        if [[ -n ${FUSE_PID:-} ]]; then
                kill -KILL "$FUSE_PID" 2>/dev/null || true
                wait "$FUSE_PID" 2>/dev/null || true
                FUSE_PID=
        fi
        umount -l "$SBX_U1_HOME/fuse" 2>/dev/null || true
}

# (But the spare controller.)
daemon_has_no_children() {
        [[ -z $(sbx_daemon_descendants) ]]
}

sessions_are_zero() {
        [[ $(sbx_login_sessions "$1") == 0 ]]
}

sessions_are_one() {
        [[ $(sbx_login_sessions "$1") == 1 ]]
}

no_login_cgroup() {
        [[ -z $(find /sys/fs/cgroup -type d -name "lxsandbox-login-$1.*" 2>/dev/null) ]]
}

login_state() {
        local state
        state=$(timeout 10 "$SBX_BUILD_DIR/sbxctl" --json list | "$SBX_PY" -c 'import json,sys
for c in json.load(sys.stdin):
    if c.get("login") and c["name"] == "login-" + sys.argv[1]:
        print(c["state"])' "$1" 2>/dev/null) || return 1
        [[ $state == "$2" ]]
}

# Policy a-fuse for U1 with a path below $SBX_U1_HOME/fuse, and a FUSE file
# system there that does not answer: the set-up of U1's container hangs.
fuse_hang_setup() {
        [[ -c /dev/fuse ]] || sbx_fail "no /dev/fuse"
        sbx_defer_rm "$SBX_T/policies/a-fuse.ini"
        sbx_write_policy a-fuse <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = $SBX_U1

[Files]
ReadOnlyPaths = -%h/fuse/sub

[Resources]
TasksMax = 40

[Login]
Linger = 0
EOF
        install -d -o "$SBX_U1" -g "$SBX_U1" -m 0755 "$SBX_U1_HOME/fuse"
        "$BATS_TEST_DIRNAME/fuse-hang.py" "$SBX_U1_HOME/fuse" >"$SBX_T/fuse.out" &
        FUSE_PID=$!
        sbx_poll 10 sbx_file_has "$SBX_T/fuse.out" mounted || sbx_fail "no FUSE mount"
}

fuse_hang_done() {
        fuse_release
        rm -f "$SBX_T/policies/a-fuse.ini"
        rmdir "$SBX_U1_HOME/fuse"
}

@test "a container set-up that hangs on the user's files does not block the daemon" {
        fuse_hang_setup
        # The first login of U1 waits on the file system...
        sbx_ssh "$SBX_U1" "echo ran" >"$SBX_T/hang.out" 2>&1 </dev/null &
        ssh_pid=$!
        echo "$ssh_pid" >>"$SBX_T/bg-pids"
        # ...while the daemon goes on answering: it shows the container being
        # set up, and serves another user's login.
        sbx_poll 30 login_state "$SBX_U1" starting || sbx_fail "the daemon did not answer"
        run sbx_ssh "$SBX_U2" "echo unconfined"
        sbx_show_run
        [[ $status == 0 && $output == unconfined ]]
        # The file system goes away: the set-up fails, the login is refused.
        fuse_release
        st=0
        wait "$ssh_pid" || st=$?
        cat "$SBX_T/hang.out"
        [[ $st == 254 && $(cat "$SBX_T/hang.out") != *ran* ]]
        grep -q "cannot start login container 'login-$SBX_U1'" "$SBX_T/sandboxd.log"
        wait_no_container "$SBX_U1"
        fuse_hang_done
}

@test "a set-up that never finishes: every join waiting for it is refused, nothing is left" {
        fuse_hang_setup
        pids=()
        for i in 1 2; do
                sbx_ssh "$SBX_U1" "echo ran" >"$SBX_T/wait$i.out" 2>&1 </dev/null &
                pids+=("$!")
                echo "$!" >>"$SBX_T/bg-pids"
        done
        sbx_poll 30 login_state "$SBX_U1" starting || sbx_fail "the daemon did not answer"
        # The file system stays hung: the daemon's deadline ends the set-up
        # (the helper waiting on the file system is killed).
        for i in 1 2; do
                st=0
                wait "${pids[i - 1]}" || st=$?
                [[ $st == 254 && $(cat "$SBX_T/wait$i.out") != *ran* ]] ||
                        sbx_fail "login $i: status $st: $(cat "$SBX_T/wait$i.out")"
        done
        grep -q "login container 'login-$SBX_U1' (policy 'a-fuse'): the container's set-up did not finish in time" \
                "$SBX_T/sandboxd.log"
        wait_no_container "$SBX_U1"
        # Neither the set-up helper nor the init is left (both the daemon's
        # children).
        sbx_poll 10 daemon_has_no_children || sbx_fail "left: $(sbx_daemon_descendants)"
        fuse_hang_done
}

@test "Linger=infinity keeps an idle container until sbxctl stop (not torn down at once)" {
        sbx_defer_rm "$SBX_T/policies/a-forever.ini"
        sbx_write_policy a-forever <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = $SBX_U1

[Login]
Linger = infinity
EOF
        run sbx_ssh "$SBX_U1" true
        sbx_show_run
        [[ $status == 0 ]]
        rm -f "$SBX_T/policies/a-forever.ini"
        sbx_poll 10 sessions_are_zero "$SBX_U1" || sbx_fail "the session did not end"
        login_state "$SBX_U1" lingering || sbx_fail "not lingering: $("$SBX_BUILD_DIR/sbxctl" list)"
        run "$SBX_BUILD_DIR/sbxctl" stop "login-$SBX_U1"
        [[ $status == 0 ]]
        wait_no_container "$SBX_U1"
}

@test "sbxctl sessions escapes control characters of the login program's PAM items" {
        rhost=$'evil\e]0;owned\a.example'
        rm -f "$SBX_U1_HOME/stop-rhost"
        # A console login whose remote host (login -h) holds escape sequences;
        # its shell waits for ~/stop-rhost.
        printf 'while [ ! -e stop-rhost ]; do sleep 0.1; done; exit\n' |
                only_stdio timeout 60 script -qec "unshare -m --propagation private -- sh -c 'mount --bind $SBX_T/pam.d /etc/pam.d && exec login -h \"\$1\" -f $SBX_U1' sh '$rhost'" /dev/null >/dev/null &
        bg=$!
        echo "$bg" >>"$SBX_T/bg-pids"
        sbx_poll 30 sessions_are_one "$SBX_U1" || sbx_fail "no login session"
        run "$SBX_BUILD_DIR/sbxctl" sessions "$SBX_U1"
        sbx_show_run
        touch "$SBX_U1_HOME/stop-rhost"
        wait "$bg" || true
        [[ $status == 0 && $output == *'evil\x1b]0;owned\x07.example'* ]]
        [[ $output != *$'\e'* && $output != *$'\a'* ]]
        wait_no_container "$SBX_U1"
}

@test "a service's policy= is not replaced by the policy of the user's running container" {
        # Sorts after login.ini: sshd (no policy=) still picks that one.
        sbx_defer_rm "$SBX_T/policies/zz-other.ini"
        sbx_write_policy zz-other <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
Hostname = other-box

[Access]
Users = $SBX_U1

[Login]
Linger = 0
EOF
        sbx_write_pam_dir "$SBX_T/pam.d-other" "socket=$SBX_SOCK policy=zz-other"
        rm -f "$SBX_U1_HOME/stop-pol" "$SBX_U1_HOME/pol.out"
        sbx_ssh "$SBX_U1" 'while [ ! -e stop-pol ]; do sleep 0.1; done; rm -f stop-pol' </dev/null &
        ssh_pid=$!
        echo "$ssh_pid" >>"$SBX_T/bg-pids"
        sbx_poll 30 sessions_are_one "$SBX_U1" || sbx_fail "no ssh session"
        st=0
        only_stdio timeout 60 unshare -m --propagation private -- sh -c \
                "mount --bind $SBX_T/pam.d-other /etc/pam.d && exec su - $SBX_U1 -c 'hostname > pol.out'" </dev/null || st=$?
        touch "$SBX_U1_HOME/stop-pol"
        wait "$ssh_pid" || true
        [[ $st != 0 && ! -e $SBX_U1_HOME/pol.out ]] || sbx_fail "su ran (status $st): $(cat "$SBX_U1_HOME/pol.out" 2>/dev/null)"
        grep -q "has a login container with policy 'login'; this service asks for policy 'zz-other'" \
                "$SBX_T/sandboxd.log"
        wait_no_container "$SBX_U1"
        rm -f "$SBX_T/policies/zz-other.ini"
}

@test "sandboxd stopping during a set-up refuses the waiting join and leaves nothing behind" {
        fuse_hang_setup
        install -d -m 0755 "$SBX_T/run3"
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$SBX_BUILD_DIR/sandboxd" --foreground \
                --policy-dir "$SBX_T/policies" --run-dir "$SBX_T/run3" --log-level debug \
                </dev/null >>"$SBX_T/sandboxd3.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        DAEMON3=$!
        sbx_register pid "$DAEMON3 $(sbx_pid_starttime "$DAEMON3")"
        sbx_poll 10 test -S "$SBX_T/run3/sandboxd.sock" || sbx_fail "third daemon did not start"
        export LXSANDBOX_SOCKET=$SBX_T/run3/sandboxd.sock
        sbx_write_pam_dir "$SBX_T/pam.d-3" "socket=$LXSANDBOX_SOCKET"
        port=$(sbx_free_port)
        # "restart": sbx_login_teardown_file stops it.
        sbx_start_sshd restart "$port" "$SBX_T/pam.d-3"
        sbx_ssh -p "$port" "$SBX_U1" "echo ran" >"$SBX_T/stop3.out" 2>&1 </dev/null &
        ssh_pid=$!
        echo "$ssh_pid" >>"$SBX_T/bg-pids"
        sbx_poll 30 login_state "$SBX_U1" starting || sbx_fail "no container being set up"
        no_login_cgroup "$SBX_U1" && sbx_fail "no cgroup for the container being set up"
        kill -TERM "$DAEMON3"
        sbx_wait_pid "$DAEMON3" 10 || sbx_fail "sandboxd did not stop during a set-up"
        st=0
        wait "$ssh_pid" || st=$?
        [[ $st == 254 && $(cat "$SBX_T/stop3.out") != *ran* ]] || sbx_fail "ssh: $st"
        grep -q "cannot start login container 'login-$SBX_U1' (policy 'a-fuse'): sandboxd is stopping" \
                "$SBX_T/sandboxd3.log"
        # The set-up helper died with the daemon; no cgroup of the container is left.
        sbx_poll 10 no_login_cgroup "$SBX_U1" || sbx_fail "left: $(find /sys/fs/cgroup -name "lxsandbox-login-$SBX_U1.*")"
        kill -TERM "$(cat "$SBX_T/restart.pid")"
        fuse_hang_done
}

@test "MaxSessions=1: a second login of the same user is refused while the first lasts; then it works" {
        local first tag=maxsess-$RANDOM
        sbx_defer_rm "$SBX_T/policies/a-maxsess.ini"
        sbx_write_policy a-maxsess <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = $SBX_U1

[Login]
Linger = 0
MaxSessions = 1
EOF
        # The first session stays until its stop file appears.
        sbx_ssh "$SBX_U1" "echo ready; i=0; while [ ! -e stop-$tag ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done; rm -f stop-$tag" \
                >"$SBX_T/$tag.out" 2>"$SBX_T/$tag.err" </dev/null &
        first=$!
        echo "$first" >>"$SBX_T/bg-pids"
        sbx_poll 30 sbx_file_has "$SBX_T/$tag.out" '^ready' ||
                sbx_fail "first session did not start" "$(cat "$SBX_T/$tag.err")"
        # The second: refused by the daemon, so the module fails closed and
        # sshd runs nothing.
        run sbx_ssh "$SBX_U1" "echo second-ran"
        sbx_show_run
        [[ $status == 254 ]] || sbx_fail "second login: ssh exited $status, not 254"
        [[ $output != *second-ran* ]] || sbx_fail "the second login ran its command"
        grep -q "already has 1 login sessions (MaxSessions=1 in policy 'a-maxsess')" \
                "$SBX_T/sandboxd.log" || sbx_fail "no refusal logged"
        [[ $(sbx_login_sessions "$SBX_U1") == 1 ]] || sbx_fail "not exactly 1 session"
        # Once the first has ended, a login works again.
        touch "$SBX_U1_HOME/stop-$tag"
        wait "$first" || true
        sbx_poll 20 sbx_no_login_container "$SBX_U1" || sbx_fail "login-$SBX_U1 still registered"
        run sbx_ssh "$SBX_U1" "echo third-ran"
        [[ $status == 0 && $output == *third-ran* ]] || sbx_fail "a later login failed: $status $output"
        rm -f "$SBX_T/policies/a-maxsess.ini"
        wait_no_container "$SBX_U1"
}
