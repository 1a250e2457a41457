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
        export SBX_SUID_DIR=$SBX_U1_HOME/suid
        install -d -o root -g root -m 0755 "$SBX_SUID_DIR"
        install -o root -g root -m 4755 /usr/bin/id "$SBX_SUID_DIR/id"
        cat >"$SBX_SUID_DIR/fds" <<'EOF'
#!/bin/sh
ls -l /proc/self/fd |
        awk '$(NF-1) == "->" && $NF !~ /^\/proc\/[0-9]+\/fd$/ { printf "%s ", $(NF-2) } END { print "" }'
EOF
        chmod 0755 "$SBX_SUID_DIR/fds"
}
teardown_file() {
        [[ -z ${SBX_SUID_DIR:-} ]] || rm -rf "$SBX_SUID_DIR"
        sbx_login_teardown_file
}
setup() { sbx_setup; }
teardown() { sbx_teardown; }

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
        run sbx_as "$SBX_U1" "$SBX_SUID_DIR/id" -u
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
