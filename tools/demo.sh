#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tools/demo.sh: show lxsandbox working, from a build tree, in one command:
#
#       make deps && make && sudo ./tools/demo.sh
#
# Runs as root.  Unless a sandboxd already answers at the default socket, it
# starts build/sandboxd on a private run directory (mktemp -d) with a copy of
# ./policy (root-owned, mode 0644: the daemon refuses other policies), runs
# one command through build/sbx-run as the user who called sudo ($SUDO_USER;
# as root when run as root without sudo), prints what the command saw, then
# stops the daemon it started (by its pid) and removes the temporary
# directory.  SBX_BUILD=DIR uses another build directory.

set -euo pipefail

readonly DEFAULT_SOCKET=/run/lxsandbox/sandboxd.sock
readonly DAEMON_TIMEOUT=5       # seconds for the daemon to listen / to exit
readonly POLICY=default

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SBX_BUILD:-build}
[[ $build == /* ]] || build=$repo/$build

tmp=
daemon_pid=
socket=

say() {
        printf 'demo: %s\n' "$*"
}

die() {
        printf 'demo: %s\n' "$*" >&2
        exit 1
}

# Called from the EXIT trap, which shellcheck 0.9 does not follow.
# shellcheck disable=SC2317
cleanup() {
        local i
        if [[ -n $daemon_pid ]]; then
                # Let the container's controller finish before its daemon goes.
                for ((i = 0; i < DAEMON_TIMEOUT * 10; i++)); do
                        [[ $("$build/sbxctl" --socket "$socket" list --json 2>/dev/null) == "[]" ]] \
                                && break
                        kill -0 "$daemon_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -TERM "$daemon_pid" 2>/dev/null || true
                for ((i = 0; i < DAEMON_TIMEOUT * 10; i++)); do
                        kill -0 "$daemon_pid" 2>/dev/null || break
                        sleep 0.1
                done
                if kill -0 "$daemon_pid" 2>/dev/null; then
                        say "sandboxd (pid $daemon_pid) ignored SIGTERM; killing it"
                        kill -KILL "$daemon_pid" 2>/dev/null || true
                fi
                wait "$daemon_pid" 2>/dev/null || true
                daemon_pid=
        fi
        if [[ -n $tmp && -d $tmp && $tmp == /tmp/lxsandbox-demo.* ]]; then
                rm -rf --one-file-system -- "$tmp"
        fi
        tmp=
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

[[ $(id -u) == 0 ]] || die "must be run as root (sudo ./tools/demo.sh): sandboxd needs root"
command -v setpriv >/dev/null || die "setpriv (util-linux) is not installed"
for prog in sandboxd sandboxd-controller sbx-run sbxctl; do
        [[ -x $build/$prog ]] || die "$build/$prog is not built: run 'make' first"
done

# Whom to run the command as.
run_user=root
if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
        run_user=$SUDO_USER
fi
getent passwd "$run_user" >/dev/null || die "no such user: $run_user"
run_uid=$(id -u "$run_user")
run_gid=$(id -g "$run_user")

# As the user: setpriv with the user's groups (initgroups); root runs directly.
as_user() {
        if [[ $run_uid == 0 ]]; then
                "$@"
        else
                setpriv --reuid="$run_uid" --regid="$run_gid" --init-groups -- "$@"
        fi
}

tmp=$(mktemp -d /tmp/lxsandbox-demo.XXXXXX)
# The user must reach the socket (and maybe the client) below it.
chmod 0755 "$tmp"

sbx_run=$build/sbx-run
if "$build/sbxctl" --socket "$DEFAULT_SOCKET" list >/dev/null 2>&1; then
        socket=$DEFAULT_SOCKET
        say "using the sandboxd that is running at $socket"
        say "(it must have a policy '$POLICY' that $run_user may use)"
else
        [[ -f $repo/policy/$POLICY.ini ]] || die "$repo/policy/$POLICY.ini does not exist"
        install -d -o root -g root -m 0755 "$tmp/policies" "$tmp/run"
        for f in "$repo"/policy/*.ini; do
                install -o root -g root -m 0644 "$f" "$tmp/policies/"
        done
        socket=$tmp/run/sandboxd.sock
        say "starting $build/sandboxd on $socket, policies from $tmp/policies"
        "$build/sandboxd" --foreground --policy-dir "$tmp/policies" --run-dir "$tmp/run" \
                </dev/null >"$tmp/sandboxd.log" 2>&1 &
        daemon_pid=$!
        for ((i = 0; i < DAEMON_TIMEOUT * 10; i++)); do
                [[ -S $socket ]] && break
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        if [[ ! -S $socket ]]; then
                cat "$tmp/sandboxd.log" >&2
                die "sandboxd did not start (log above)"
        fi
fi

# The client must be executable by the user (a build tree in a private home
# directory may not be): else use a copy.
if ! as_user test -x "$sbx_run"; then
        install -d -m 0755 "$tmp/bin"
        install -m 0755 "$sbx_run" "$tmp/bin/sbx-run"
        sbx_run=$tmp/bin/sbx-run
fi

# shellcheck disable=SC2016 # expanded inside the sandbox, not here
script='echo "hello from $(hostname) as $(id -un), pid $$"; ls /proc | grep -c "^[0-9]"'
host_procs=$(find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' | wc -l)

say "running as $run_user:"
say "  sbx-run $POLICY -- sh -c '$script'"
echo
status=0
as_user "$sbx_run" --socket "$socket" "$POLICY" -- sh -c "$script" </dev/null || status=$?
echo
if [[ $status == 0 ]]; then
        say "the second line is the number of processes the command could see"
        say "(the host has $host_procs); 'pid' is its shell's pid in the sandbox."
else
        say "sbx-run exited with status $status (see sbx-run(1), EXIT STATUS)"
        if [[ -n $daemon_pid ]]; then
                say "sandboxd log:"
                cat "$tmp/sandboxd.log" >&2
        fi
fi
exit "$status"
