# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# End-to-end login tests: a real OpenSSH server on 127.0.0.1 (free port,
# generated config and host key) whose PAM stack has pam_lxsandbox. The
# system's /etc/pam.d is never edited: sshd, login and su run in a private
# mount namespace with $SBX_T/pam.d bind-mounted over /etc/pam.d. Builds on
# tests/integration/lib.bash (temp dir, two test users, private sandboxd).

load ../integration/lib

SBX_SSHD=${SBX_SSHD:-/usr/sbin/sshd}
SBX_PAM_SO=$SBX_BUILD_DIR/pam_lxsandbox.so

sbx_login_probe() {
        local c
        for c in "$SBX_SSHD" /usr/bin/ssh /usr/bin/sftp /usr/bin/ssh-keygen /usr/bin/script \
                /bin/login /bin/su; do
                if [[ ! -x $c ]]; then
                        echo "$c is not installed (make deps installs openssh-server)"
                        return
                fi
        done
        if [[ ! -f $SBX_PAM_SO || ! -x $SBX_BUILD_DIR/sandboxd-reaper ]]; then
                echo "pam_lxsandbox.so or sandboxd-reaper is not built (run make)"
        fi
}

# A TCP port nobody listens on, from a range unlikely to be used.
sbx_free_port() {
        local port i
        for ((i = 0; i < 50; i++)); do
                port=$((20000 + RANDOM % 30000))
                if ! ss -Htln "sport = :$port" | grep -q .; then
                        echo "$port"
                        return 0
                fi
        done
        return 1
}

# sbx_pam_service FILE MAIN-OPTIONS: the session part every test stack uses:
# the restore instance first, the confining one last.
sbx_pam_session_lines() {
        printf 'session optional %s phase=restore\n' "$SBX_PAM_SO"
        printf 'session required pam_unix.so\n'
        printf 'session required %s %s\n' "$SBX_PAM_SO" "$1"
}

# Writes $SBX_T/pam.d (a copy of the system's, so includes resolve) with our
# sshd, login and su-l services. $1: options of the confining line.
sbx_write_pam_dir() {
        local dir=$1 opts=$2
        install -d -m 0755 "$dir"
        cp -a /etc/pam.d/. "$dir/"
        {
                echo 'auth     required pam_unix.so'
                echo 'account  required pam_unix.so'
                sbx_pam_session_lines "$opts"
        } >"$dir/sshd"
        {
                echo 'auth     required pam_permit.so'
                echo 'account  required pam_unix.so'
                sbx_pam_session_lines "$opts"
        } >"$dir/login"
        {
                echo 'auth     sufficient pam_rootok.so'
                echo 'auth     required pam_deny.so'
                echo 'account  required pam_unix.so'
                sbx_pam_session_lines "$opts"
        } >"$dir/su-l"
}

# sbx_start_sshd NAME PORT PAMDIR: sshd in the foreground, in a private mount
# namespace with PAMDIR on /etc/pam.d. Its pid goes to $SBX_T/NAME.pid.
sbx_start_sshd() {
        local name=$1 port=$2 pamdir=$3 cfg=$SBX_T/$1.config
        cat >"$cfg" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $SBX_T/hostkey
PidFile $SBX_T/$name.sshd-pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $SBX_T/keys/%u
StrictModes no
AllowUsers $SBX_U1 $SBX_U2
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
        "$SBX_SSHD" -t -f "$cfg"
        # The service name is argv[0]'s base name: "sshd".
        # shellcheck disable=SC2016 # expanded by that sh
        unshare -m --propagation private -- sh -c \
                'mount --bind "$1" /etc/pam.d && exec "$2" -D -f "$3" -E "$4"' sh \
                "$pamdir" "$SBX_SSHD" "$cfg" "$SBX_T/$name.log" </dev/null &
        echo "$!" >"$SBX_T/$name.pid"
        sbx_register pid "$! $(sbx_pid_starttime "$!")"
        sbx_poll 10 sbx_port_listening "$port" || {
                cat "$SBX_T/$name.log" >&2
                sbx_fail "sshd $name did not listen on $port"
        }
}

sbx_port_listening() {
        ss -Htln "sport = :$1" | grep -q .
}

sbx_login_setup_file() {
        sbx_setup_file
        [[ -z $SBX_SKIP_REASON ]] || return 0
        SBX_SKIP_REASON=$(sbx_login_probe)
        [[ -z $SBX_SKIP_REASON ]] || return 0

        sbx_write_policy login <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
Hostname = login-box

[Access]
Users = $SBX_U1

[Files]
PrivateTmp = yes

[Resources]
TasksMax = 40

[Login]
Linger = 0
EOF
        # Keys: sshd must be able to read them before the user is known.
        ssh-keygen -q -t ed25519 -N '' -f "$SBX_T/hostkey"
        ssh-keygen -q -t ed25519 -N '' -f "$SBX_T/clientkey"
        install -d -m 0755 "$SBX_T/keys"
        install -m 0644 "$SBX_T/clientkey.pub" "$SBX_T/keys/$SBX_U1"
        install -m 0644 "$SBX_T/clientkey.pub" "$SBX_T/keys/$SBX_U2"
        # No password, but not locked (sshd refuses locked accounts).
        usermod -p '*' "$SBX_U1"
        usermod -p '*' "$SBX_U2"
        if [[ ! -d /run/sshd ]]; then
                install -d -m 0755 /run/sshd
                touch "$SBX_T/made-run-sshd"
        fi

        sbx_write_pam_dir "$SBX_T/pam.d" "socket=$SBX_SOCK debug"
        # The daemon is down for this one; U2's own group is exempt.
        sbx_write_pam_dir "$SBX_T/pam.d-down" \
                "socket=$SBX_T/no-daemon.sock exempt_group=$SBX_U2"
        export SBX_PORT SBX_PORT_DOWN
        SBX_PORT=$(sbx_free_port)
        sbx_start_sshd main "$SBX_PORT" "$SBX_T/pam.d"
        SBX_PORT_DOWN=$(sbx_free_port)
        sbx_start_sshd down "$SBX_PORT_DOWN" "$SBX_T/pam.d-down"
}

sbx_login_teardown_file() {
        local f pid errors=0
        for f in main down restart; do
                [[ -f ${SBX_T:-/nonexistent}/$f.pid ]] || continue
                pid=$(<"$SBX_T/$f.pid")
                kill -TERM "$pid" 2>/dev/null || true
                sbx_poll 5 sbx_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        done
        if [[ -n ${SBX_T:-} && -f $SBX_T/made-run-sshd ]]; then
                rmdir /run/sshd 2>/dev/null || true
        fi
        # Login containers still running would show up as leaks below.
        sbx_teardown_file || errors=1
        return "$errors"
}

# sbx_ssh [-p PORT] USER ARGS...: ssh to 127.0.0.1 with the test key.
sbx_ssh() {
        local port=$SBX_PORT
        if [[ $1 == -p ]]; then
                port=$2
                shift 2
        fi
        local user=$1
        shift
        timeout -k 5 60 ssh -p "$port" -i "$SBX_T/clientkey" -o StrictHostKeyChecking=no \
                -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
                -o ConnectTimeout=20 "$user@127.0.0.1" "$@"
}

# Prints "NAME INODE" lines for the namespaces of PID (self: the shell's).
SBX_NSLIST="mnt net uts ipc pid cgroup"
sbx_ns_of() {
        local n
        for n in $SBX_NSLIST; do
                echo "$n $(readlink "/proc/$1/ns/$n")"
        done
}

# The remote side of sbx_ns_of, as a shell snippet.
# shellcheck disable=SC2016 # expanded remotely
export SBX_REMOTE_NS='for n in mnt net uts ipc pid cgroup; do echo "$n $(readlink /proc/self/ns/$n)"; done'

# The init pid of USER's login container, from sbxctl list --json.
sbx_login_init_pid() {
        "$SBX_BUILD_DIR/sbxctl" --json list |
                "$SBX_PY" -c 'import json,sys
for c in json.load(sys.stdin):
    if c.get("login") and c["name"] == "login-" + sys.argv[1] and c["state"] != "stopping":
        print(c["init_pid"]); break' "$1"
}

sbx_login_sessions() {
        "$SBX_BUILD_DIR/sbxctl" --json list |
                "$SBX_PY" -c 'import json,sys
n = 0
for c in json.load(sys.stdin):
    if c.get("login") and c["name"] == "login-" + sys.argv[1]:
        n += c["sessions"]
print(n)' "$1"
}

sbx_no_login_container() {
        [[ -z $("$SBX_BUILD_DIR/sbxctl" --json list |
                "$SBX_PY" -c 'import json,sys
print(" ".join(c["name"] for c in json.load(sys.stdin) if c.get("login") and c["name"] == "login-" + sys.argv[1]))' "$1") ]]
}

sbx_file_has() {
        [[ -s $1 ]] && grep -q -- "$2" "$1"
}
