#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Reaching host services from inside the shipped policies: abstract UNIX
# sockets (the network namespace), SysV IPC (the IPC namespace), UNIX sockets
# in the file system (the daemon's own, D-Bus and others under /run), and the
# host's network interfaces through sysfs. Each must be out of reach.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load ../integration/lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

# Connects a UNIX socket to each address of argv ("@name" is abstract), as
# SOCK_STREAM, else SOCK_SEQPACKET (sandboxd's); prints "ADDRESS connected"
# or "ADDRESS ERRNO-NAME".
CONNECT_PY='import errno, socket, sys
for a in sys.argv[1:]:
    for t in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
        s = socket.socket(socket.AF_UNIX, t)
        try:
            s.connect("\0" + a[1:] if a.startswith("@") else a)
            r = "connected"
        except OSError as e:
            r = errno.errorcode[e.errno]
        s.close()
        if r != "EPROTOTYPE":
            break
    print(a, r)'

# sbx_listen ADDRESS: a root listener on a UNIX socket (abstract with "@"),
# mode 0666 in the file system, in the background until the test ends.
sbx_listen() {
        "$SBX_PY" -c 'import os, socket, sys, time
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + a[1:] if a.startswith("@") else a)
if not a.startswith("@"):
    os.chmod(a, 0o666)
s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.close()' "$1" </dev/null >"$SBX_T/listener.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        printf '%s\n' "$!" >>"$SBX_T/bg-pids"
        sbx_poll 5 grep -q listening "$SBX_T/listener.out" || sbx_fail "the listener did not start"
}

@test "host abstract UNIX sockets are unreachable (private network namespace: ECONNREFUSED)" {
        local addr policy
        addr=@sbx-test-$(sbx_token)
        sbx_listen "$addr"
        # Control: the user reaches it on the host.
        run --separate-stderr sbx_as "$SBX_U1" "$SBX_PY" -c "$CONNECT_PY" "$addr"
        sbx_assert_match host "$output" "^$addr connected\$"
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c "$CONNECT_PY" "$addr" @/org/freedesktop/systemd1/notify
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" "^$addr ECONNREFUSED\$"
                sbx_assert_no_match "$policy" "$output" 'connected'
        done
}

@test "host SysV IPC is invisible (private IPC namespace): shared memory and message queues" {
        local key=$((0x5b000000 + RANDOM)) policy py='import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
key = int(sys.argv[1])
for name, r in (("shmget", libc.shmget(key, 0, 0o666)), ("msgget", libc.msgget(key, 0o666))):
    print(name, "found" if r >= 0 else errno.errorcode[ctypes.get_errno()])'
        local create='import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
key = int(sys.argv[1])
IPC_CREAT = 0o1000
print(libc.shmget(key, 4096, IPC_CREAT | 0o666) >= 0, libc.msgget(key, IPC_CREAT | 0o666) >= 0)'
        run "$SBX_PY" -c "$create" "$key"
        [[ $output == "True True" ]] || sbx_fail "could not create the host's IPC objects: $output"
        # Control: the user sees both on the host.
        run --separate-stderr sbx_as "$SBX_U1" "$SBX_PY" -c "$py" "$key"
        local host=$output
        ipcrm -M "$key" -Q "$key" || true
        sbx_assert_match host "$host" '^shmget found$'
        sbx_assert_match host "$host" '^msgget found$'
        run "$SBX_PY" -c "$create" "$key"
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- sh -c "python3 -c '$py' $key; ipcs"
                sbx_assert_match "$policy" "$output" '^shmget ENOENT$'
                sbx_assert_match "$policy" "$output" '^msgget ENOENT$'
                sbx_assert_no_match "$policy" "$output" "$(printf '0x%08x' "$key")"
        done
        ipcrm -M "$key" -Q "$key"
}

@test "host UNIX sockets in the file system are unreachable: the daemon's own, D-Bus, and others under /run" {
        local sock policy
        sock=/run/sbx-test-$(sbx_token).sock
        sbx_defer_rm "$sock"
        sbx_listen "$sock"
        run --separate-stderr sbx_as "$SBX_U1" "$SBX_PY" -c "$CONNECT_PY" "$sock" "$SBX_SOCK"
        sbx_assert_match host "$output" "^$sock connected\$"
        sbx_assert_match host "$output" "^$SBX_SOCK connected\$"
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c "$CONNECT_PY" "$sock" \
                        "$SBX_SOCK" /run/lxsandbox/sandboxd.sock /run/dbus/system_bus_socket \
                        /var/run/dbus/system_bus_socket /run/systemd/notify /run/systemd/journal/stdout
                sbx_assert_status 0
                sbx_assert_no_match "$policy" "$output" 'connected'
                sbx_assert_match "$policy" "$output" "^$sock ENOENT\$"
                sbx_assert_match "$policy" "$output" "^$SBX_SOCK ENOENT\$"
                # No socket anywhere under /run or the daemon's run dir.
                run --separate-stderr sbx_run1 "$policy" -- sh -c \
                        'find /run /var/run/ "$1" -type s 2>&1; ls -A /run' _ "$SBX_T/run"
                sbx_assert_no_match "$policy" "$output" '\.sock|socket|bus|notify'
        done
        # Ordinary commands that use /var/run still work.
        run --separate-stderr sbx_run1 default -- sh -c 'test -d /run && test -d /var/run && id -u'
        sbx_assert_status 0
}

@test "sysfs shows only the sandbox's network interfaces (lo), and the host's /sys/fs/cgroup read-only" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- sh -c \
                        'ls /sys/class/net; ls /sys/devices/virtual/net; grep -E " /sys(/fs/cgroup)? " /proc/self/mountinfo'
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" '^lo$'
                sbx_assert_match "$policy" "$output" ' /sys ro,nosuid,nodev,noexec[, ].* sysfs '
                local l
                while read -r l; do
                        [[ $l == lo ]] && continue
                        sbx_assert_no_match "$policy" "$output" "^$l\$"
                done <"$SBX_T/links.base"
                [[ $(grep -cvE '^lo$| /sys' <<<"$output") == 0 ]] ||
                        sbx_fail "$policy: interfaces other than lo:" "$output"
        done
}

@test "the daemon's run dir is hidden even where the policy shows its parent (no PrivateTmp): no nested sandbox" {
        # The testfiles policy keeps the host's /tmp, where this daemon's run dir is.
        run --separate-stderr sbx_run1 testfiles -- python3 -c "$CONNECT_PY" "$SBX_SOCK"
        sbx_assert_status 0
        sbx_assert_match testfiles "$output" "^$SBX_SOCK (EACCES|ENOENT)\$"
        run --separate-stderr sbx_run1 testfiles -- sh -c 'ls -A "$1"/run; echo "dir $(ls -A "$1")"' _ "$SBX_T"
        sbx_assert_no_match testfiles "$output" 'sandboxd\.sock|containers'
        sbx_assert_match testfiles "$output" '^run$'
        # So a sandboxed command cannot ask sandboxd for another, laxer sandbox.
        run --separate-stderr sbx_run1 testfiles -- "$SBX_RUN" --socket "$SBX_SOCK" default -- echo nested
        sbx_assert_status_nonzero
        sbx_assert_no_match stdout "$output" 'nested'
}
