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
