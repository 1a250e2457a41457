#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# SSH, console and su logins land in the user's login container (pam_lxsandbox).

load login-lib

setup_file() { sbx_login_setup_file; }
teardown_file() { sbx_login_teardown_file; }
setup() { sbx_setup; }
teardown() {
        local pid
        # The second daemon of the restart test, if it is still there.
        for pid in ${DAEMON2_PIDS:-}; do
                kill -TERM "$pid" 2>/dev/null || true
                sbx_wait_pid "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
        done
        sbx_teardown
}

# Starts a session of USER on PORT that writes its namespaces (and more) to
# OUT, then waits (at most SECS) for the file ~/stop-TAG, see end_session.
# (sshd leaves a command without a terminal running when the client goes.)
# Its ssh pid goes to SBX_BG_SSH.
start_session() {
        local port=$1 user=$2 out=$3 secs=$4 tag
        tag=$(basename "$out")
        sbx_ssh -p "$port" "$user" "$SBX_REMOTE_NS; echo host \$(hostname); echo ready; i=0; while [ ! -e stop-$tag ] && [ \$i -lt $((secs * 10)) ]; do sleep 0.1; i=\$((i + 1)); done; rm -f stop-$tag" \
                >"$out" 2>"$out.err" </dev/null &
        SBX_BG_SSH=$!
        echo "$SBX_BG_SSH" >>"$SBX_T/bg-pids"
        sbx_poll 30 sbx_file_has "$out" '^ready' || {
                cat "$out" "$out.err" >&2
                tail -n 20 "$SBX_T/main.log" >&2
                sbx_fail "session of $user did not start"
        }
}

sessions_are() {
        [[ $(sbx_login_sessions "$1") == "$2" ]]
}

# end_session USER OUT SSH-PID
end_session() {
        local home
        home=$(getent passwd "$1" | cut -d: -f6)
        touch "$home/stop-$(basename "$2")"
        wait "$3" || true
}

assert_same_ns() {
        local a=$1 b=$2 n x y
        for n in $SBX_NSLIST; do
                x=$(awk -v n="$n" '$1 == n { print $2 }' "$a")
                y=$(awk -v n="$n" '$1 == n { print $2 }' "$b")
                [[ -n $x && $x == "$y" ]] || sbx_fail "$n: '$x' ($a) != '$y' ($b)"
        done
}

assert_host_ns_differ() {
        local f=$1 n x
        for n in $SBX_NSLIST; do
                x=$(awk -v n="$n" '$1 == n { print $2 }' "$f")
                [[ $x != "$(readlink "/proc/$$/ns/$n")" ]] || sbx_fail "$n: still the host's ($x)"
        done
}

wait_torn_down() {
        local user=$1 init=$2
        sbx_poll 20 sbx_no_login_container "$user" || sbx_fail "login-$user still registered"
        [[ -z $init ]] || sbx_poll 10 sbx_pid_gone "$init" || sbx_fail "init $init still alive"
}

@test "ssh: the shell's namespaces are the container init's, not the host's" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/s1.out" 30
        init=$(sbx_login_init_pid "$SBX_U1")
        [[ -n $init ]] || sbx_fail "no login container for $SBX_U1"
        sbx_ns_of "$init" >"$SBX_T/init.ns"
        assert_same_ns "$SBX_T/s1.out" "$SBX_T/init.ns"
        assert_host_ns_differ "$SBX_T/s1.out"
        grep -qx 'host login-box' "$SBX_T/s1.out"
        # The init is the exec'd reaper, as root without capabilities.
        [[ $(cat "/proc/$init/comm") == sandboxd-reaper ]]
        [[ $(awk '/^CapEff/ { print $2 }' "/proc/$init/status") == 0000000000000000 ]]
        [[ $(find "/proc/$init/fd" -mindepth 1 | wc -l) -le 3 ]]
        end_session "$SBX_U1" "$SBX_T/s1.out" "$SBX_BG_SSH"
        wait_torn_down "$SBX_U1" "$init"
}

no_zombie_children() {
        [[ $(ps --ppid "$1" -o stat=) != *Z* ]]
}

has_children() {
        [[ -n $(ps --ppid "$1" -o pid=) ]]
}

sbx_not() {
        ! "$@"
}

@test "orphans of a session are re-parented to the reaper and reaped; ps sees only the container" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/o.out" 60
        init=$(sbx_login_init_pid "$SBX_U1")
        # A daemonized child outlives its session's shell: the reaper adopts it.
        run sbx_ssh "$SBX_U1" 'setsid sh -c "sleep 3 </dev/null >/dev/null 2>&1 & exit 0"; ps -e -o pid= | wc -l'
        sbx_show_run
        [[ $status == 0 && ${lines[0]} -lt 20 ]]
        sbx_poll 3 has_children "$init" || sbx_fail "the orphan was not re-parented to the init"
        sbx_poll 20 sbx_not has_children "$init" || sbx_fail "orphans left under the init"
        sbx_poll 10 no_zombie_children "$init" || sbx_fail "zombies under the init"
        end_session "$SBX_U1" "$SBX_T/o.out" "$SBX_BG_SSH"
        wait_torn_down "$SBX_U1" "$init"
}

@test "ssh -tt gets a PTY inside the container" {
        run sbx_ssh "$SBX_U1" -tt 'tty; readlink /proc/self/ns/mnt; exit 0'
        sbx_show_run
        [[ $status == 0 ]]
        [[ ${lines[0]} == /dev/pts/* ]]
        [[ ${lines[1]%$'\r'} != "$(readlink /proc/$$/ns/mnt)" ]]
        wait_torn_down "$SBX_U1" ""
}

@test "sftp upload and download round trip inside the container" {
        head -c 100000 /dev/urandom >"$SBX_T/up.bin"
        chmod 0644 "$SBX_T/up.bin"
        printf 'put %s up.bin\nget up.bin %s\n' "$SBX_T/up.bin" "$SBX_T/down.bin" |
                timeout 60 sftp -P "$SBX_PORT" -i "$SBX_T/clientkey" -o StrictHostKeyChecking=no \
                        -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
                        -b - "$SBX_U1@127.0.0.1" >/dev/null
        cmp "$SBX_T/up.bin" "$SBX_T/down.bin"
        [[ -f $SBX_U1_HOME/up.bin ]]
        rm -f "$SBX_U1_HOME/up.bin"
        wait_torn_down "$SBX_U1" ""
}

@test "two concurrent sessions share one container; both ending removes it, its cgroup and processes" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/a.out" 60
        ssh_a=$SBX_BG_SSH
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/b.out" 60
        ssh_b=$SBX_BG_SSH
        assert_same_ns "$SBX_T/a.out" "$SBX_T/b.out"
        [[ $(sbx_login_sessions "$SBX_U1") == 2 ]]
        run "$SBX_BUILD_DIR/sbxctl" sessions "$SBX_U1"
        sbx_show_run
        [[ $status == 0 && ${#lines[@]} == 3 ]]
        [[ ${lines[1]} == *sshd* ]]
        run "$SBX_BUILD_DIR/sbxctl" list
        [[ $output == *"login-$SBX_U1"*"(login: 2 sessions)"* ]]
        init=$(sbx_login_init_pid "$SBX_U1")
        cg=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$init/cgroup")
        [[ $cg == */lxsandbox-login-$SBX_U1.* && -d /sys/fs/cgroup/pids$cg ]]
        [[ $(cat "/sys/fs/cgroup/pids$cg/pids.max") == 40 ]]

        end_session "$SBX_U1" "$SBX_T/a.out" "$ssh_a"
        sbx_poll 10 sessions_are "$SBX_U1" 1 || sbx_fail "not 1 session left"
        # One session left: still the same container.
        [[ $(sbx_login_init_pid "$SBX_U1") == "$init" ]]
        end_session "$SBX_U1" "$SBX_T/b.out" "$ssh_b"
        wait_torn_down "$SBX_U1" "$init"
        sbx_poll 10 test ! -d "/sys/fs/cgroup/pids$cg" || sbx_fail "cgroup $cg left"
        sbx_poll 10 sbx_uid_has_no_procs "$SBX_U1_UID" || sbx_fail "processes of $SBX_U1 left"
        # Each sshd monitor went back to its own cgroup on close (pids, the
        # only hierarchy the container's TasksMax needs).
        moved=$(grep -c "moved pid [0-9]* back to its own cgroup in 1 hierarchy" "$SBX_T/sandboxd.log")
        ((moved >= 2)) || sbx_fail "$moved login process(es) moved back, want 2"
        if grep "Cannot move pid" "$SBX_T/sandboxd.log"; then
                sbx_fail "a login process was not moved back"
        fi
}

@test "TasksMax from the policy applies to the session" {
        # Forks until the kernel refuses (pids.max); every child is killed after.
        run sbx_ssh "$SBX_U1" 'grep :pids: /proc/self/cgroup; exec python3 -c "
import errno, os, signal, time
pids, err = [], 0
for i in range(60):
    try:
        p = os.fork()
    except OSError as e:
        err = e.errno
        break
    if p == 0:
        time.sleep(30)
        os._exit(0)
    pids.append(p)
print(\"started\", len(pids), errno.errorcode.get(err, err))
for p in pids:
    os.kill(p, signal.SIGKILL)
    os.waitpid(p, 0)
"'
        sbx_show_run
        # At the root of its cgroup namespace: the container's cgroup.
        [[ ${lines[0]} == *:pids:/ ]]
        [[ $status == 0 ]]
        read -r _ started err <<<"${lines[1]}"
        [[ $started -gt 0 && $started -lt 40 && $err == EAGAIN ]]
        wait_torn_down "$SBX_U1" ""
}

@test "daemon down: ssh exits 254 and nothing runs; an exempt group logs in unconfined" {
        rm -f "$SBX_U1_HOME/ran"
        run sbx_ssh -p "$SBX_PORT_DOWN" "$SBX_U1" "touch ran; echo ran"
        sbx_show_run
        [[ $status == 254 ]]
        [[ $output != *ran* && ! -e $SBX_U1_HOME/ran ]]
        run sbx_ssh -p "$SBX_PORT_DOWN" "$SBX_U2" "readlink /proc/self/ns/mnt"
        sbx_show_run
        # sshd's own mount namespace (the one with the test's /etc/pam.d).
        [[ $status == 0 && $output == "$(readlink "/proc/$(cat "$SBX_T/down.pid")/ns/mnt")" ]]
}

@test "kill -9 of the sshd session process releases the session" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/k.out" 60
        init=$(sbx_login_init_pid "$SBX_U1")
        monitor=$("$SBX_BUILD_DIR/sbxctl" sessions "$SBX_U1" | awk 'NR == 2 { print $2 }')
        [[ -n $monitor && $(cat "/proc/$monitor/comm") == sshd ]]
        kill -KILL "$monitor"
        wait_torn_down "$SBX_U1" "$init"
        grep -q "login session ended (login process exited)" "$SBX_T/sandboxd.log"
        wait "$SBX_BG_SSH" || true
}

@test "a user no policy matches logs in unconfined (and it is logged)" {
        run sbx_ssh "$SBX_U2" "$SBX_REMOTE_NS"
        sbx_show_run
        [[ $status == 0 ]]
        for n in mnt net uts ipc pid cgroup; do
                [[ $output == *"$n $(readlink "/proc/$(cat "$SBX_T/main.pid")/ns/$n")"* ]]
        done
        grep -q "user '$SBX_U2' (uid $SBX_U2_UID) matches no login policy" "$SBX_T/sandboxd.log"
        sbx_no_login_container "$SBX_U2"
}

@test "console login -f and su - land in the same container as an SSH session" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/c.out" 60
        init=$(sbx_login_init_pid "$SBX_U1")
        rm -f "$SBX_U1_HOME/login.ns" "$SBX_U1_HOME/su.ns"
        printf '%s > login.ns; exit\n' "$SBX_REMOTE_NS" |
                timeout 60 script -qec "unshare -m --propagation private -- sh -c 'mount --bind $SBX_T/pam.d /etc/pam.d && exec login -f $SBX_U1'" /dev/null >/dev/null
        timeout 60 unshare -m --propagation private -- sh -c \
                "mount --bind $SBX_T/pam.d /etc/pam.d && exec su - $SBX_U1 -c '$SBX_REMOTE_NS > su.ns'" </dev/null
        assert_same_ns "$SBX_T/c.out" "$SBX_U1_HOME/login.ns"
        assert_same_ns "$SBX_T/c.out" "$SBX_U1_HOME/su.ns"
        [[ $(sbx_login_init_pid "$SBX_U1") == "$init" ]]
        grep -q "service='login'" "$SBX_T/sandboxd.log"
        grep -q "service='su-l'" "$SBX_T/sandboxd.log"
        end_session "$SBX_U1" "$SBX_T/c.out" "$SBX_BG_SSH"
        wait_torn_down "$SBX_U1" "$init"
}

@test "sbxctl enter runs a command in the user's container (root only)" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/e.out" 60
        run "$SBX_BUILD_DIR/sbxctl" enter "$SBX_U1" -- sh -c "$SBX_REMOTE_NS"
        sbx_show_run
        [[ $status == 0 ]]
        printf '%s\n' "$output" >"$SBX_T/enter.ns"
        assert_same_ns "$SBX_T/e.out" "$SBX_T/enter.ns"
        run sbx_as "$SBX_U1" "$SBX_CTL" enter "$SBX_U1" -- true
        [[ $status != 0 ]]
        end_session "$SBX_U1" "$SBX_T/e.out" "$SBX_BG_SSH"
        wait_torn_down "$SBX_U1" ""
}

@test "Linger= keeps the container after the last session; a login in time joins it again" {
        # Sorts before login.ini: the first matching login policy wins.
        sbx_defer_rm "$SBX_T/policies/a-linger.ini"
        sbx_write_policy a-linger <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
Hostname = linger-box

[Access]
Users = $SBX_U1

[Login]
Linger = 8s
EOF
        run sbx_ssh "$SBX_U1" "$SBX_REMOTE_NS"
        sbx_show_run
        [[ $status == 0 ]]
        printf '%s\n' "$output" >"$SBX_T/l1.ns"
        init=$(sbx_login_init_pid "$SBX_U1")
        [[ -n $init ]]
        run "$SBX_BUILD_DIR/sbxctl" list
        [[ $output == *"login-$SBX_U1"*lingering*"(login: 0 sessions)"* ]]
        run sbx_ssh "$SBX_U1" "$SBX_REMOTE_NS"
        [[ $status == 0 ]]
        printf '%s\n' "$output" >"$SBX_T/l2.ns"
        assert_same_ns "$SBX_T/l1.ns" "$SBX_T/l2.ns"
        rm -f "$SBX_T/policies/a-linger.ini"
        wait_torn_down "$SBX_U1" "$init"
}

@test "sbxctl stop login-USER kills the container and its sessions (root or the user only)" {
        start_session "$SBX_PORT" "$SBX_U1" "$SBX_T/st.out" 60
        init=$(sbx_login_init_pid "$SBX_U1")
        run sbx_as "$SBX_U2" "$SBX_CTL" stop "login-$SBX_U1"
        [[ $status != 0 ]]
        [[ $(sbx_login_init_pid "$SBX_U1") == "$init" ]]
        run "$SBX_BUILD_DIR/sbxctl" stop "login-$SBX_U1"
        sbx_show_run
        [[ $status == 0 ]]
        # The session's shell died with the container: ssh returns.
        sbx_wait_pid "$SBX_BG_SSH" 30
        wait_torn_down "$SBX_U1" "$init"
        # The next login gets a new container.
        run sbx_ssh "$SBX_U1" true
        [[ $status == 0 ]]
        wait_torn_down "$SBX_U1" ""
}

# A daemon of this test's own on $SBX_T/run2, so that it can be restarted.
start_daemon2() {
        install -d -m 0755 "$SBX_T/run2"
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$SBX_BUILD_DIR/sandboxd" --foreground \
                --policy-dir "$SBX_T/policies" --run-dir "$SBX_T/run2" --log-level debug \
                </dev/null >>"$SBX_T/sandboxd2.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        DAEMON2=$!
        DAEMON2_PIDS="${DAEMON2_PIDS:-} $DAEMON2"
        sbx_register pid "$DAEMON2 $(sbx_pid_starttime "$DAEMON2")"
        sbx_poll 10 test -S "$SBX_T/run2/sandboxd.sock" || sbx_fail "second daemon did not start"
}

@test "a restarted daemon takes login containers back: sessions, joins and teardown go on" {
        export LXSANDBOX_SOCKET=$SBX_T/run2/sandboxd.sock
        start_daemon2
        sbx_write_pam_dir "$SBX_T/pam.d-restart" "socket=$LXSANDBOX_SOCKET debug"
        port=$(sbx_free_port)
        sbx_start_sshd restart "$port" "$SBX_T/pam.d-restart"

        start_session "$port" "$SBX_U1" "$SBX_T/r1.out" 90
        ssh1=$SBX_BG_SSH
        init=$(sbx_login_init_pid "$SBX_U1")
        [[ -n $init ]]
        cg=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$init/cgroup")
        [[ -f $SBX_T/run2/logins/login-$SBX_U1.$init.state ]]

        kill -TERM "$DAEMON2"
        sbx_wait_pid "$DAEMON2" 10 || sbx_fail "daemon ignored SIGTERM"
        # The container and its session outlive the daemon.
        if sbx_pid_gone "$init" || sbx_pid_gone "$ssh1"; then
                sbx_fail "the container or its session died with the daemon"
        fi
        rm -f "$LXSANDBOX_SOCKET"
        start_daemon2
        grep -q "found login container 'login-$SBX_U1': user='$SBX_U1' init=$init sessions=1" \
                "$SBX_T/sandboxd2.log"
        [[ $(sbx_login_init_pid "$SBX_U1") == "$init" && $(sbx_login_sessions "$SBX_U1") == 1 ]]

        # A new session joins it.
        start_session "$port" "$SBX_U1" "$SBX_T/r2.out" 90
        ssh2=$SBX_BG_SSH
        assert_same_ns "$SBX_T/r1.out" "$SBX_T/r2.out"
        [[ $(sbx_login_sessions "$SBX_U1") == 2 ]]

        # Both end: the new daemon tears it down, cgroup included.
        end_session "$SBX_U1" "$SBX_T/r1.out" "$ssh1"
        end_session "$SBX_U1" "$SBX_T/r2.out" "$ssh2"
        wait_torn_down "$SBX_U1" "$init"
        sbx_poll 10 test ! -d "/sys/fs/cgroup/pids$cg" || sbx_fail "cgroup $cg left"
        [[ -z $(ls -A "$SBX_T/run2/logins") ]]
        kill -TERM "$(cat "$SBX_T/restart.pid")"
}
