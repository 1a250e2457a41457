#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make install into a DESTDIR lays out what INSTALL promises, and the installed
# programs work together: the daemon finds its controller and the policies.

# shellcheck disable=SC2154

setup_file() {
        REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
        BUILD=${SBX_BUILD:-build}
        [[ $BUILD == /* ]] || BUILD=$REPO/$BUILD
        DEST=$(mktemp -d /tmp/sbx-install.XXXXXX)
        chmod 755 "$DEST"
        export REPO BUILD DEST
}

teardown_file() {
        if [[ -n ${DAEMON_PID:-} ]]; then
                kill "$DAEMON_PID" 2>/dev/null || true
        fi
        [[ -n ${DEST:-} && -d $DEST ]] && rm -rf "$DEST"
}

@test "make install DESTDIR=... PREFIX=/usr installs programs, policies, man pages, unit" {
        run make -s -C "$REPO" install DESTDIR="$DEST" B="$BUILD" PREFIX=/usr SYSCONFDIR=/etc \
                UNITDIR=/lib/systemd/system
        [[ $status == 0 ]] || { echo "$output" >&2; false; }
        local f
        for f in usr/sbin/sandboxd usr/bin/sbx-run usr/bin/sbxctl \
                usr/libexec/lxsandbox/sandboxd-controller usr/libexec/lxsandbox/sandboxd-reaper; do
                [[ -x $DEST/$f ]] || { echo "missing or not executable: $f" >&2; false; }
        done
        for f in etc/lxsandbox/policies/default.ini etc/lxsandbox/policies/strict.ini; do
                [[ $(stat -c '%u %a' "$DEST/$f") == "0 644" ]] ||
                        { echo "$f: $(stat -c '%u %a' "$DEST/$f"), want 0 644" >&2; false; }
        done
        [[ -f $DEST/lib/x86_64-linux-gnu/security/pam_lxsandbox.so ]]
        [[ -d $DEST/etc/lxsandbox/networks ]] || { echo "missing etc/lxsandbox/networks" >&2; false; }
        for f in man1/sbx-run.1 man1/sbxctl.1 man5/lxsandbox.policy.5 man5/lxsandbox.network.5 \
                man8/sandboxd.8 man8/pam_lxsandbox.8; do
                [[ -f $DEST/usr/share/man/$f ]] || { echo "missing man page $f" >&2; false; }
        done
        grep -q '^ExecStart=/usr/sbin/sandboxd --foreground' "$DEST/lib/systemd/system/sandboxd.service"
        grep -q '^Delegate=yes' "$DEST/lib/systemd/system/sandboxd.service"
        # The installed programs have no setuid bit and no file capabilities.
        [[ -z $(find "$DEST" -perm /6000 -type f) ]]
}

@test "a second make install keeps an admin's edited policy" {
        echo "# edited by the admin" >>"$DEST/etc/lxsandbox/policies/default.ini"
        run make -s -C "$REPO" install DESTDIR="$DEST" B="$BUILD" PREFIX=/usr SYSCONFDIR=/etc
        [[ $status == 0 ]]
        grep -q 'edited by the admin' "$DEST/etc/lxsandbox/policies/default.ini"
}

@test "the installed daemon, controller and client run a sandbox" {
        local run=$DEST/run
        mkdir -p "$run"
        "$DEST/usr/sbin/sandboxd" --foreground --policy-dir "$DEST/etc/lxsandbox/policies" \
                --run-dir "$run" --controller "$DEST/usr/libexec/lxsandbox/sandboxd-controller" \
                2>"$DEST/sandboxd.log" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        DAEMON_PID=$!
        local _
        for _ in $(seq 100); do
                [[ -S $run/sandboxd.sock ]] && break
                sleep 0.05
        done
        run "$DEST/usr/bin/sbx-run" --socket "$run/sandboxd.sock" default -- cat /proc/sys/kernel/hostname
        kill "$DAEMON_PID"
        wait "$DAEMON_PID" || true
        DAEMON_PID=
        [[ $status == 0 && $output == sandbox ]] || { echo "$output" >&2; cat "$DEST/sandboxd.log" >&2; false; }
        run "$DEST/usr/bin/sbxctl" policy check --policy-dir "$DEST/etc/lxsandbox/policies" default
        [[ $status == 0 ]]
}

@test "make uninstall removes the programs and keeps the policies" {
        run make -s -C "$REPO" uninstall DESTDIR="$DEST" PREFIX=/usr SYSCONFDIR=/etc
        [[ $status == 0 ]]
        [[ ! -e $DEST/usr/sbin/sandboxd && ! -e $DEST/usr/bin/sbx-run ]]
        [[ ! -e $DEST/usr/libexec/lxsandbox/sandboxd-controller ]]
        [[ -f $DEST/etc/lxsandbox/policies/default.ini ]]
}
