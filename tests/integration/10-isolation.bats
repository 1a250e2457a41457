#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What a sandboxed command sees: namespaces, identity, hostname, pids, network,
# files, /dev, capabilities.  Every command runs as an unprivileged test user.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

@test "mount, ipc, uts, pid and net namespaces differ from the host's" {
        local script='for n in mnt ipc uts pid net; do readlink /proc/self/ns/$n; done'
        run --separate-stderr sbx_as "$SBX_U1" sh -c "$script"
        sbx_assert_status 0
        local -a host inside
        mapfile -t host <<<"$output"
        run --separate-stderr sbx_run1 default -- sh -c "$script"
        sbx_assert_status 0
        mapfile -t inside <<<"$output"
        [[ ${#host[@]} == 5 && ${#inside[@]} == 5 ]] || sbx_fail "host: ${host[*]}" "inside: ${inside[*]}"
        local i
        for i in 0 1 2 3 4; do
                [[ ${inside[i]} == "${host[i]%%:*}:["*"]" ]] ||
                        sbx_fail "unexpected namespace link inside: ${inside[i]}"
                [[ ${inside[i]} != "${host[i]}" ]] ||
                        sbx_fail "namespace not unshared: ${inside[i]} is the host's"
        done
}

@test "uid, gid and supplementary groups inside are the caller's" {
        local script='id -u; id -g; id -G'
        run --separate-stderr sbx_as "$SBX_U1" sh -c "$script"
        sbx_assert_status 0
        local ids=$output
        # Precondition: the test user has a supplementary group (users).
        sbx_assert_match "host groups" "$ids" '(^| )100( |$)'
        run --separate-stderr sbx_run1 default -- sh -c "$script"
        sbx_assert_status 0
        [[ $output == "$ids" ]] || sbx_fail "inside:" "$output" "host (as the same user):" "$ids"
        [[ ${output%%$'\n'*} == "$SBX_U1_UID" ]] || sbx_fail "uid inside is not $SBX_U1_UID"
}

@test "hostname inside is 'sandbox' and the host's is unchanged" {
        local before after
        before=$(cat /proc/sys/kernel/hostname)
        run --separate-stderr sbx_run1 default -- cat /proc/sys/kernel/hostname
        sbx_assert_status 0
        [[ $output == sandbox ]] || sbx_fail "hostname inside: '$output'"
        after=$(cat /proc/sys/kernel/hostname)
        [[ $before == "$after" ]] || sbx_fail "host hostname changed: $before -> $after"
}

@test "host pids are invisible: a fresh /proc with only the sandbox's processes" {
        local p
        for p in "$$" "$SBX_DAEMON_PID"; do
                ((p > 10)) || skip "host pid $p too small to be told apart from sandbox pids"
        done
        # Counting with a shell glob: no extra processes inside.
        run --separate-stderr sbx_run1 default -- sh -c '
                set -- /proc/[0-9]*; echo "count $#"
                for p in '"$$ $SBX_DAEMON_PID"'; do [ -e /proc/$p ] && echo "visible $p"; done
                true'
        sbx_assert_status 0
        local count=${output#count }
        count=${count%%$'\n'*}
        ((count >= 1 && count <= 3)) || sbx_fail "$count processes visible inside:" "$output"
        sbx_assert_no_match "output" "$output" '^visible'
}

@test "network: only lo exists inside, it is up and works" {
        run --separate-stderr sbx_run1 default -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"
        sbx_assert_status 0
        [[ $output == lo ]] || sbx_fail "interfaces in /proc/net/dev inside:" "$output"

        run --separate-stderr sbx_run1 default -- ip -o link show
        sbx_assert_status 0
        [[ $output != *$'\n'* ]] || sbx_fail "more than one link inside:" "$output"
        sbx_assert_match "ip -o link" "$output" '^[0-9]+: lo: <([^>]*,)?UP[,>]'

        # A TCP connection over lo (never an outside address).
        run --separate-stderr sbx_run1 default -- "$SBX_PY" -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=5)
a, _ = s.accept(); c.sendall(b"ping"); print(a.recv(4).decode())'
        sbx_assert_status 0
        [[ $output == ping ]] || sbx_fail "loopback connection failed:" "$output"
}

@test "private /tmp: host files invisible, sandbox files do not reach the host or outlive it" {
        local tok
        tok=$(sbx_token)
        printf 'host\n' >"/tmp/sbx-host-$tok"
        sbx_defer_rm "/tmp/sbx-host-$tok"
        sbx_defer_rm "/tmp/sbx-in-$tok"
        run --separate-stderr sbx_run1 default -- sh -c "
                if [ -e /tmp/sbx-host-$tok ]; then echo 'host file visible'; exit 1; fi
                echo inside >/tmp/sbx-in-$tok && cat /tmp/sbx-in-$tok"
        sbx_assert_status 0
        [[ $output == inside ]] || sbx_fail "unexpected output" "$output"
        [[ ! -e /tmp/sbx-in-$tok ]] || sbx_fail "/tmp/sbx-in-$tok reached the host's /tmp"

        run --separate-stderr sbx_run1 default -- sh -c "test ! -e /tmp/sbx-in-$tok"
        sbx_assert_status 0
}

@test "ReadOnlyPaths=/: system directories are read-only (EROFS)" {
        local tok p
        tok=$(sbx_token)
        for p in /usr /etc /var; do
                run --separate-stderr sbx_run1 default -- touch "$p/sbx-ro-$tok"
                rm -f "$p/sbx-ro-$tok"
                sbx_assert_status_nonzero
                sbx_assert_match "stderr of touch $p" "$stderr" 'Read-only file system'
        done
}

@test "ReadOnlyPaths=/ also covers directories the user may write on the host" {
        # Precondition: writable for the user on the host.
        run --separate-stderr sbx_as "$SBX_U1" sh -c "touch $SBX_T/userdir/host && rm $SBX_T/userdir/host"
        sbx_assert_status 0
        run --separate-stderr sbx_run1 testfiles -- touch "$SBX_T/userdir/inside"
        sbx_assert_status_nonzero
        sbx_assert_match "stderr" "$stderr" 'Read-only file system'
        [[ ! -e $SBX_T/userdir/inside ]]
}

@test "default policy: the caller's home is writable and changes reach the host" {
        local tok f
        tok=$(sbx_token)
        f=$SBX_U1_HOME/sbx-rw-$tok
        run --separate-stderr sbx_run1 default -- sh -c "echo $tok > $f && cat $SBX_U1_HOME/sbx-home-marker"
        sbx_assert_status 0
        [[ $output == "host home marker" ]] || sbx_fail "home content inside:" "$output"
        [[ -f $f && $(cat "$f") == "$tok" ]] || sbx_fail "$f not written through to the host"
        [[ $(stat -c %u "$f") == "$SBX_U1_UID" ]] || sbx_fail "$f not owned by the caller"
        rm -f "$f"
}

@test "strict policy: the caller's home is hidden" {
        # Precondition: the marker is there on the host.
        [[ -f $SBX_U1_HOME/sbx-home-marker ]]
        run --separate-stderr sbx_run1 strict -- ls -A "$SBX_U1_HOME"
        if ((status == 0)); then
                sbx_assert_no_match "listing of the home inside" "$output" 'sbx-home-marker'
        fi
        run --separate-stderr sbx_run1 strict -- cat "$SBX_U1_HOME/sbx-home-marker"
        sbx_assert_status_nonzero
        sbx_assert_no_match "stdout" "$output" 'host home marker'
}

@test "InaccessiblePaths: the path is unreadable inside (Permission denied)" {
        local secret
        secret=$(cat "$SBX_T/secret/data")
        # Precondition: readable for the user on the host.
        run --separate-stderr sbx_as "$SBX_U1" cat "$SBX_T/secret/data"
        sbx_assert_status 0
        [[ $output == "$secret" ]]

        run --separate-stderr sbx_run1 testfiles -- cat "$SBX_T/secret/data"
        sbx_assert_status_nonzero
        sbx_assert_match "stderr" "$stderr" 'Permission denied'
        sbx_assert_no_match "stdout" "$output" 'top secret'

        run --separate-stderr sbx_run1 testfiles -- ls "$SBX_T/secret"
        sbx_assert_status_nonzero
        sbx_assert_match "stderr" "$stderr" 'Permission denied'
        sbx_assert_no_match "stdout" "$output" 'data'
}

@test "no capabilities in any set, and no_new_privs" {
        run --separate-stderr sbx_run1 default -- \
                grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status
        sbx_assert_status 0
        local key val n=0
        while read -r key val; do
                n=$((n + 1))
                case $key in
                NoNewPrivs:) [[ $val == 1 ]] || sbx_fail "NoNewPrivs: $val" ;;
                Cap*) [[ $val == 0000000000000000 ]] || sbx_fail "$key $val" ;;
                esac
        done <<<"$output"
        ((n == 6)) || sbx_fail "expected 6 lines:" "$output"
}

@test "minimal /dev: no block devices, the usual character devices work" {
        run --separate-stderr sbx_run1 default -- sh -c '
                find /dev -type b 2>/dev/null | sed "s/^/block: /"
                for d in /dev/mem /dev/kmem /dev/port /dev/kmsg; do [ -e $d ] && echo "present: $d"; done
                echo x >/dev/null && echo null-ok
                head -c 16 /dev/zero | wc -c
                head -c 16 /dev/urandom | wc -c'
        sbx_assert_status 0
        sbx_assert_no_match "output" "$output" '^(block|present):'
        [[ $output == $'null-ok\n16\n16' ]] || sbx_fail "unexpected output:" "$output"
}

@test "working directory: the caller's where visible inside, else the home directory" {
        sbx_as_argv "$SBX_U1"
        run --separate-stderr timeout 20 "${SBX_ARGV[@]}" \
                sh -c 'cd /usr/share && exec "$0" default -- pwd' "$SBX_RUN"
        sbx_assert_status 0
        [[ $output == /usr/share ]] || sbx_fail "cwd inside is '$output', not /usr/share"

        # A directory of the host's /tmp does not exist in the private /tmp.
        local d
        d=$(mktemp -d /tmp/sbx-cwd.XXXXXX)
        sbx_defer_rm "$d"
        chmod 755 "$d"
        run --separate-stderr timeout 20 "${SBX_ARGV[@]}" \
                sh -c 'cd "$1" && exec "$0" default -- pwd' "$SBX_RUN" "$d"
        sbx_assert_status 0
        [[ $output == "$SBX_U1_HOME" ]] || sbx_fail "cwd inside is '$output', not $SBX_U1_HOME"
}

@test "environment: built from the policy, only PassEnvironment= names come through" {
        local tok
        tok=$(sbx_token)
        sbx_as_argv "$SBX_U1"
        run --separate-stderr timeout 20 "${SBX_ARGV[@]}" \
                env SBX_SECRET="$tok" LANG=C.UTF-8 LD_PRELOAD=/nonexistent.so "$SBX_RUN" default -- env
        sbx_assert_status 0
        sbx_assert_no_match "env inside" "$output" "$tok"
        sbx_assert_no_match "env inside" "$output" '^LD_PRELOAD='
        sbx_assert_match "env inside" "$output" '^LANG=C.UTF-8$'
        sbx_assert_match "env inside" "$output" "^HOME=$SBX_U1_HOME\$"
        sbx_assert_match "env inside" "$output" "^USER=$SBX_U1\$"
        sbx_assert_match "env inside" "$output" '^PATH=/usr/local/bin:/usr/bin:/bin$'
        # Nothing of the daemon's own environment.
        sbx_assert_no_match "env inside" "$output" '^(LXSANDBOX_SOCKET|JOURNAL_STREAM|BATS_[A-Z_]*)='
}

@test "no file descriptor of the caller, daemon or controller reaches the command" {
        sbx_as_argv "$SBX_U1"
        # fd 7 open in the caller must not appear inside; only 0, 1, 2 (and
        # the directory ls reads) may.
        run --separate-stderr timeout 20 "${SBX_ARGV[@]}" \
                sh -c 'exec 7</etc/hostname; exec "$0" default -- sh -c "ls /proc/self/fd"' "$SBX_RUN"
        sbx_assert_status 0
        local fds
        fds=$(tr '\n' ' ' <<<"$output")
        [[ $fds =~ ^0\ 1\ 2\ [0-9]+\ $ ]] || sbx_fail "fds inside: $fds"
}
