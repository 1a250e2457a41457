#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Who may use a policy, and how clients and the daemon fail: refusals, unknown
# or unsafe policies, no daemon, malformed and oversized requests, policy check.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() { sbx_setup_file; }
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

# sbx_client MODE [ARGS...]: a raw SOCK_SEQPACKET client of the daemon.
#   flood            connect and close 200 times
#   idle SECONDS     connect, print "connected", sleep
#   garbage|short|ones|empty|fds|oversized
#                    send one malformed message, then expect the daemon to
#                    close the connection (an error reply first is fine)
# Prints "closed" (or "reset"), exits 1 if the connection stays open for 5 s.
SBX_CLIENT_PY='
import array, os, socket, sys, time
path, mode = sys.argv[1], sys.argv[2]

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    return s

if mode == "flood":
    # Blocking connects: a full listen backlog makes a non-blocking one EAGAIN.
    for _ in range(200):
        f = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        f.connect(path)
        f.close()
    print("ok")
    sys.exit(0)

s = connect()
if mode == "idle":
    print("connected", flush=True)
    time.sleep(float(sys.argv[3]))
    sys.exit(0)

anc = []
if mode == "garbage":
    msg = bytes(range(256)) * 4
elif mode == "short":
    msg = b"\x01"
elif mode == "ones":
    msg = b"\xff" * 4096
elif mode == "empty":
    msg = b""
elif mode == "fds":
    msg = b"\x01\x00\x00\x00" * 16
    fd = os.open("/dev/null", os.O_RDONLY)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * 64))]
elif mode == "oversized":
    size = 1 << 20
    try:
        s.setsockopt(socket.SOL_SOCKET, 32, 4 << 20)  # SO_SNDBUFFORCE (root)
    except OSError:
        pass
    msg = None
    while msg is None:
        try:
            s.send(b"\x01" * size)
            msg = b""
        except OSError as e:
            if e.errno != 90 or size <= 65536:  # EMSGSIZE
                raise
            size //= 2
    print("sent %d bytes" % size, file=sys.stderr)
else:
    sys.exit("unknown mode " + mode)

try:
    if mode != "oversized":
        s.sendmsg([msg], anc)
except (BrokenPipeError, ConnectionResetError):
    print("closed")
    sys.exit(0)

end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        d = s.recv(1 << 20)
    except (ConnectionResetError, BrokenPipeError):
        print("reset")
        sys.exit(0)
    except socket.timeout:
        break
    if not d:
        print("closed")
        sys.exit(0)
print("connection still open after 5 s", file=sys.stderr)
sys.exit(1)
'

sbx_client_as() {
        local user=$1
        shift
        sbx_as "$user" "$SBX_PY" -c "$SBX_CLIENT_PY" "$SBX_SOCK" "$@"
}

sbx_daemon_fds() {
        local -a f=("/proc/$SBX_DAEMON_PID/fd/"*)
        printf '%s\n' "${#f[@]}"
}

sbx_daemon_fds_at_most() {
        (($(sbx_daemon_fds) <= $1))
}

# Everything that shows that a refused request started nothing.
sbx_assert_nothing_started() {
        local mounts_before=$1
        sbx_assert_clean
        (($(sbx_mount_count) <= mounts_before)) ||
                sbx_fail "host mounts grew: $mounts_before -> $(sbx_mount_count)"
}

@test "restricted policy: the listed user may use it" {
        run --separate-stderr sbx_run1 restricted -- sh -c 'echo RAN; id -u'
        sbx_assert_status 0
        [[ $output == $'RAN\n'"$SBX_U1_UID" ]] || sbx_fail "output:" "$output"
}

@test "restricted policy: another user is refused (125), nothing starts" {
        local mounts
        mounts=$(sbx_mount_count)
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_RUN" restricted -- sh -c 'echo RAN'
        sbx_assert_status 125
        sbx_assert_no_match "stdout" "$output" 'RAN'
        sbx_assert_match "stderr" "$stderr" '^sbx-run: '
        sbx_assert_match "stderr" "$stderr" 'restricted'
        sbx_assert_match "stderr" "$stderr" '[Nn]ot allowed|[Dd]enied|[Nn]ot permitted'
        sbx_assert_nothing_started "$mounts"
}

@test "Groups= policy: a member may use it, a non-member is refused (125)" {
        run --separate-stderr sbx_run1 grouponly -- echo RAN
        sbx_assert_status 0
        [[ $output == RAN ]]
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_RUN" grouponly -- echo RAN
        sbx_assert_status 125
        sbx_assert_no_match "stdout" "$output" 'RAN'
        sbx_assert_match "stderr" "$stderr" 'grouponly'
}

@test "unknown policy: 125 with a message naming it" {
        local name
        name=nosuchpolicy$(sbx_token)
        run --separate-stderr sbx_run1 "$name" -- echo RAN
        sbx_assert_status 125
        sbx_assert_no_match "stdout" "$output" 'RAN'
        sbx_assert_match "stderr" "$stderr" "^sbx-run: .*$name"
}

@test "invalid policy names are refused (125)" {
        local name
        for name in ../../etc/passwd /etc/passwd -default '' 'a b' "$(printf 'x%.0s' {1..80})"; do
                run --separate-stderr sbx_run1 "$name" -- echo RAN
                sbx_assert_status 125
                sbx_assert_no_match "stdout" "$output" 'RAN'
        done
}

@test "policy file not owned by root, or group-writable: refused (125)" {
        local tok
        tok=$(sbx_token)
        install -o "$SBX_U1" -g "$SBX_U1" -m 0644 "$SBX_T/policies/default.ini" \
                "$SBX_T/policies/userowned$tok.ini"
        sbx_defer_rm "$SBX_T/policies/userowned$tok.ini"
        install -o root -g root -m 0664 "$SBX_T/policies/default.ini" \
                "$SBX_T/policies/groupwritable$tok.ini"
        sbx_defer_rm "$SBX_T/policies/groupwritable$tok.ini"

        run --separate-stderr sbx_run1 "userowned$tok" -- echo RAN
        sbx_assert_status 125
        sbx_assert_no_match "stdout" "$output" 'RAN'
        run --separate-stderr sbx_run1 "groupwritable$tok" -- echo RAN
        sbx_assert_status 125
        sbx_assert_no_match "stdout" "$output" 'RAN'
}

@test "daemon not running: 125 with a message naming the socket" {
        local sock=$SBX_T/nonexistent.sock
        run --separate-stderr sbx_as "$SBX_U1" env LXSANDBOX_SOCKET="$sock" \
                "$SBX_RUN" default -- echo RAN
        sbx_assert_status 125
        sbx_assert_match "stderr" "$stderr" "^sbx-run: .*$sock"

        run --separate-stderr sbx_run1 --socket "$sock" default -- echo RAN
        sbx_assert_status 125
        sbx_assert_match "stderr" "$stderr" "^sbx-run: .*$sock"
}

@test "--socket takes precedence over LXSANDBOX_SOCKET" {
        run --separate-stderr sbx_as "$SBX_U1" env LXSANDBOX_SOCKET="$SBX_T/nonexistent.sock" \
                "$SBX_RUN" --socket "$SBX_SOCK" default -- echo RAN
        sbx_assert_status 0
        [[ $output == RAN ]]
}

@test "malformed requests close only their connection; the daemon serves the next client" {
        # Warm up so that lazily opened daemon fds are in the baseline.
        run --separate-stderr sbx_run1 default -- true
        sbx_assert_status 0
        local fds mode
        fds=$(sbx_daemon_fds)
        for mode in garbage short ones empty fds; do
                run --separate-stderr sbx_client_as "$SBX_U2" "$mode"
                sbx_assert_status 0
                sbx_assert_match "$mode: reply" "$output" '^(closed|reset)$'
                sbx_daemon_alive || sbx_fail "sandboxd died on a '$mode' request"
        done
        run --separate-stderr sbx_client_as "$SBX_U2" flood
        sbx_assert_status 0
        run --separate-stderr sbx_run1 default -- echo RAN
        sbx_assert_status 0
        [[ $output == RAN ]]
        # Received fds (64 in the "fds" message) and connections were closed.
        sbx_poll 5 sbx_daemon_fds_at_most "$fds" ||
                sbx_fail "sandboxd fds grew from $fds to $(sbx_daemon_fds)"
}

@test "an oversized (1 MiB) request closes only its connection" {
        # Root may raise its send buffer (SO_SNDBUFFORCE) to send 1 MiB at once.
        run --separate-stderr "$SBX_PY" -c "$SBX_CLIENT_PY" "$SBX_SOCK" oversized
        sbx_assert_status 0
        sbx_assert_match "reply" "$output" '^(closed|reset)$'
        sbx_daemon_alive
        run --separate-stderr sbx_run1 default -- echo RAN
        sbx_assert_status 0
        [[ $output == RAN ]]
}

@test "an idle client does not block other clients" {
        sbx_bg "$SBX_U2" "$SBX_T/idle" "$SBX_PY" -c "$SBX_CLIENT_PY" "$SBX_SOCK" idle 60
        local idle=$SBX_BG_PID
        sbx_poll 10 grep -q connected "$SBX_T/idle.out" ||
                sbx_fail "idle client did not connect" "$(cat "$SBX_T/idle.err")"
        SBX_CMD_TIMEOUT=15 run --separate-stderr sbx_run1 default -- echo RAN
        sbx_assert_status 0
        [[ $output == RAN ]]
        kill -KILL "$idle"
        sbx_wait_pid "$idle" 5
}

@test "sbxctl policy check accepts the shipped policies" {
        run bash -c 'cd "$1" && "$2" policy check default.ini' _ "$SBX_POLICY_SRC" "$SBX_CTL"
        sbx_assert_status 0
        run "$SBX_CTL" policy check "$SBX_POLICY_SRC/strict.ini"
        sbx_assert_status 0
        run "$SBX_CTL" policy check default --policy-dir "$SBX_T/policies"
        sbx_assert_status 0
        run "$SBX_CTL" policy check testfiles --policy-dir "$SBX_T/policies"
        sbx_assert_status 0
}

@test "sbxctl policy check: a bad policy fails (1) naming file:line" {
        local d=$SBX_T/badpol
        install -d -o root -g root -m 0755 "$d"
        printf '[Sandbox]\nNamespaces = mount ipc uts pid net\nNoSuchKey = yes\n' >"$d/badkey.ini"
        printf '[Sandbox]\nHostname = sandbox\nNamespaces = mount bogus\n' >"$d/badvalue.ini"
        printf '[Sandbox]\nHostname = sandbox\n[Bogus]\nKey = 1\n' >"$d/badsection.ini"
        chmod 0644 "$d"/*.ini

        run "$SBX_CTL" policy check "$d/badkey.ini"
        sbx_assert_status 1
        sbx_assert_match "output" "$output" 'badkey\.ini:3'
        run "$SBX_CTL" policy check "$d/badvalue.ini"
        sbx_assert_status 1
        sbx_assert_match "output" "$output" 'badvalue\.ini:3'
        run "$SBX_CTL" policy check "$d/badsection.ini"
        sbx_assert_status 1
        sbx_assert_match "output" "$output" 'badsection\.ini:[34]'
}

@test "sbxctl policy check: a policy not owned by root is refused" {
        local d=$SBX_T/badpol-owner
        install -d -o root -g root -m 0755 "$d"
        install -o "$SBX_U1" -g "$SBX_U1" -m 0644 "$SBX_POLICY_SRC/default.ini" "$d/userowned.ini"
        install -o root -g root -m 0666 "$SBX_POLICY_SRC/default.ini" "$d/worldwritable.ini"
        run "$SBX_CTL" policy check "$d/userowned.ini"
        sbx_assert_status 1
        [[ -n $output ]] || sbx_fail "no message"
        run "$SBX_CTL" policy check "$d/worldwritable.ini"
        sbx_assert_status 1
}

@test "a directory passed as stdin is refused (125): no way out of the mount namespace (CVE-2024-21626 class)" {
        sbx_as_argv "$SBX_U1"
        run --separate-stderr timeout 20 "${SBX_ARGV[@]}" \
                sh -c 'exec "$0" default -- sh -c "cd /proc/self/fd/0 && ls" </' "$SBX_RUN"
        sbx_assert_status 125
        sbx_assert_match "stderr" "$stderr" 'not directories'
}
