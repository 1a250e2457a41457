#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Known escapes from container runtimes, tried as an ordinary user inside the
# shipped policies: each must fail. The runtime's own binary through /proc
# (runc CVE-2019-5736), leaked fds and working directories (runc
# CVE-2024-21626), acting on another user's container (firejail CVE-2022-31214)
# and symbolic links in bind sources (pam_namespace CVE-2025-6020).

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load ../integration/lib

setup_file() {
        sbx_setup_file
        [[ -z ${SBX_SKIP_REASON:-} ]] || return 0
        # Like the default policy, with a bind whose source the user controls.
        sbx_write_policy symbind <<'EOF'
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
ReadOnlyPaths = /
BindPaths = %h/data:/tmp/data

[Security]
SystemCallFilter = ~@default
EOF
}
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

# Opens each path of argv for reading and for writing; prints "PATH MODE ok" or
# "PATH MODE ERRNO-NAME".
OPEN_PY='import errno, os, sys
for path in sys.argv[1:]:
    for mode, flags in (("read", os.O_RDONLY), ("write", os.O_WRONLY)):
        try:
            os.close(os.open(path, flags))
            print(path, mode, "ok")
        except OSError as e:
            print(path, mode, errno.errorcode[e.errno])'

# Starts "sbx-run [ARGS] default -- sleep TOKEN" as USER in the background and
# waits until the sleep runs. Sets SBX_BG_PID and SBX_SLEEP_TOKEN.
sbx_start_sleeper_as() {
        local user=$1
        shift
        SBX_SLEEP_TOKEN=987.$(sbx_token)
        sbx_bg "$user" "$SBX_T/sleeper" "$SBX_RUN" "$@" default -- sleep "$SBX_SLEEP_TOKEN"
        if ! sbx_poll 10 sbx_is_running sleep "$SBX_SLEEP_TOKEN"; then
                cat "$SBX_T/sleeper.err" >&2
                sbx_fail "the sleeper did not start"
                return 1
        fi
}

sbx_stop_sleeper() {
        run --separate-stderr sbx_as "$SBX_U1" "$SBX_CTL" stop "$1"
        sbx_assert_status 0
        sbx_wait_pid "$SBX_BG_PID" 10 || sbx_fail "sbx-run did not exit after stop"
        sbx_poll 10 sbx_not_running sleep "$SBX_SLEEP_TOKEN" || sbx_fail "the sleeper still runs"
}

@test "CVE-2019-5736 (runc): the init's /proc/1/exe (the controller's image) cannot be opened, read or written" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c "$OPEN_PY"'
for p in ("/proc/1/exe", "/proc/1/map_files", "/proc/1/root", "/proc/1/cwd"):
    try:
        print(p, "readlink", os.readlink(p))
    except OSError as e:
        print(p, "readlink", errno.errorcode[e.errno])
import subprocess
try:
    subprocess.run(["/proc/1/exe", "--help"], capture_output=True)
    print("exec ok")
except OSError as e:
    print("exec", errno.errorcode[e.errno])' /proc/1/exe /proc/1/mem /proc/1/environ
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" '^/proc/1/exe read EACCES$'
                sbx_assert_match "$policy" "$output" '^/proc/1/exe write EACCES$'
                sbx_assert_match "$policy" "$output" '^/proc/1/mem write EACCES$'
                sbx_assert_match "$policy" "$output" '^/proc/1/exe readlink EACCES$'
                sbx_assert_match "$policy" "$output" '^exec EACCES$'
                sbx_assert_no_match "$policy" "$output" ' ok$|sandboxd'
        done
}

@test "CVE-2019-5736 (runc): no process inside has the daemon's or the controller's binary as its exe or in its maps" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- sh -c '
                        sleep 30 & a=$!
                        sleep 30 & b=$!
                        for d in /proc/[0-9]*; do
                                echo "$d exe $(readlink -v "$d/exe" 2>&1)"
                                cat "$d/maps" 2>/dev/null | awk "{ print \$6 }" | sort -u | sed "s|^|$d map |"
                        done
                        kill "$a" "$b"'
                sbx_assert_status 0
                # The command's own processes are listed, the init's exe is not.
                sbx_assert_match "$policy" "$output" '^/proc/[0-9]+ exe /usr/bin/sleep$'
                sbx_assert_match "$policy" "$output" '^/proc/1 exe .*Permission denied'
                sbx_assert_no_match "$policy" "$output" 'sandboxd|\(deleted\)'
                sbx_assert_no_match "$policy" "$output" "$SBX_BUILD_DIR"
        done
}

@test "CVE-2019-5736 (runc): /proc/self/exe of the command cannot be opened for writing (EACCES/ETXTBSY)" {
        run --separate-stderr sbx_run1 default -- python3 -c "$OPEN_PY" /proc/self/exe
        sbx_assert_status 0
        sbx_assert_match output "$output" '^/proc/self/exe write (EACCES|ETXTBSY|EROFS)$'
        # Nor through the shell's own exe, or a re-exec of /proc/self/exe.
        run --separate-stderr sbx_run1 strict -- sh -c ': >>/proc/self/exe && echo wrote'
        sbx_assert_no_match output "$output" 'wrote'
        sbx_assert_match stderr "$stderr" 'Permission denied|Text file busy|Read-only'
}

@test "CVE-2024-21626 (runc): only fds 0, 1 and 2 are open in the command" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import os
fds = []
for fd in range(os.sysconf("SC_OPEN_MAX")):
    try:
        os.fstat(fd)
        fds.append(fd)
    except OSError:
        pass
print("fds", *fds)
print("dir", *sorted(os.listdir("/proc/self/fd"), key=int))'
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" '^fds 0 1 2$'
                # listdir's own directory fd is the only other entry.
                sbx_assert_match "$policy" "$output" '^dir 0 1 2 3$'
        done
}

@test "CVE-2024-21626 (runc): the working directory resolves inside the sandbox's view" {
        local py='import os
cwd = os.readlink("/proc/self/cwd")
a, b = os.stat("."), os.stat(cwd)
print("cwd", cwd, "same" if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino) else "different")
up = os.stat("/proc/self/cwd/../../../../../..")
r = os.stat("/")
print("up", "root" if (up.st_dev, up.st_ino) == (r.st_dev, r.st_ino) else "elsewhere")'
        # The caller's directory is hidden inside (host /tmp, PrivateTmp=yes):
        # the command starts in the home directory, not in a leaked host dir.
        sbx_as_argv "$SBX_U1"
        run --separate-stderr timeout -k 5 "$SBX_CMD_TIMEOUT" "${SBX_ARGV[@]}" \
                env -C "$SBX_T/userdir" "$SBX_RUN" default -- python3 -c "$py"
        sbx_assert_status 0
        sbx_assert_match output "$output" "^cwd $SBX_U1_HOME same\$"
        sbx_assert_match output "$output" '^up root$'
        # strict: WorkingDirectory=/tmp, the sandbox's own.
        run --separate-stderr timeout -k 5 "$SBX_CMD_TIMEOUT" "${SBX_ARGV[@]}" \
                env -C "$SBX_T/userdir" "$SBX_RUN" strict -- python3 -c "$py"
        sbx_assert_status 0
        sbx_assert_match output "$output" '^cwd /tmp same$'
        sbx_assert_match output "$output" '^up root$'
}

@test "CVE-2024-21626 (runc): the init's fds, cwd and root are not readable (/proc/1/fd: EACCES)" {
        run --separate-stderr sbx_run1 default -- python3 -c 'import errno, os
for p in ("/proc/1/fd", "/proc/1/fdinfo"):
    try:
        print(p, "list", os.listdir(p))
    except OSError as e:
        print(p, "list", errno.errorcode[e.errno])
for p in ("/proc/1/fd/0", "/proc/1/fd/3", "/proc/1/cwd", "/proc/1/root"):
    try:
        print(p, "open", os.listdir(p) if os.path.isdir(p) else open(p).read(1))
    except OSError as e:
        print(p, "open", errno.errorcode[e.errno])'
        sbx_assert_status 0
        sbx_assert_match output "$output" '^/proc/1/fd list EACCES$'
        sbx_assert_match output "$output" '^/proc/1/fdinfo list EACCES$'
        sbx_assert_no_match output "$output" "\\['|open [^E]"
}

@test "CVE-2022-31214 (firejail) class: another user cannot see, inspect or stop a container, even by its generated name" {
        local name
        sbx_start_sleeper_as "$SBX_U1"
        run --separate-stderr sbx_ctl1 list --json
        sbx_assert_status 0
        name=$(sbx_json_get name <<<"$output")
        [[ $name == default-"$SBX_U1_UID"-* ]] || sbx_fail "unexpected generated name '$name'"

        run --separate-stderr sbx_as "$SBX_U2" "$SBX_CTL" list
        sbx_assert_status 0
        sbx_assert_no_match "list as another user" "$output" "$name"
        local verb guess
        # The real name, and names guessed from the pattern POLICY-UID-RANDOM:
        # the same answer for both, so guessing learns nothing.
        for guess in "$name" "default-$SBX_U1_UID-00000000" "default-$SBX_U1_UID-${name##*-}x"; do
                for verb in info stop; do
                        run --separate-stderr sbx_as "$SBX_U2" "$SBX_CTL" "$verb" "$guess"
                        sbx_assert_status 1
                        sbx_assert_match "$verb $guess" "$stderr" "no such container '$guess'"
                done
        done
        sbx_is_running sleep "$SBX_SLEEP_TOKEN" || sbx_fail "another user's stop ended the container"
        sbx_stop_sleeper "$name"
}

@test "CVE-2022-31214 (firejail) class: a container name that is taken cannot be started again, by anyone" {
        local name=$SBX_U1-taken$RANDOM
        sbx_start_sleeper_as "$SBX_U1" --name "$name"
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_RUN" --name "$name" default -- echo started
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" "already exists"
        sbx_assert_no_match stdout "$output" 'started'
        run --separate-stderr sbx_run1 --name "$name" default -- echo started
        sbx_assert_status 125
        sbx_assert_no_match stdout "$output" 'started'
        # The first one is untouched and still its owner's.
        sbx_is_running sleep "$SBX_SLEEP_TOKEN" || sbx_fail "the first container ended"
        run --separate-stderr sbx_ctl1 info "$name" --json
        sbx_assert_status 0
        [[ $(sbx_json_get uid <<<"$output") == "$SBX_U1_UID" ]] || sbx_fail "owner changed:" "$output"
        sbx_stop_sleeper "$name"
}

@test "CVE-2025-6020 (pam_namespace) class: a BindPaths= source the user made a symbolic link is refused; nothing is mounted" {
        local before
        before=$(sbx_mount_count)
        sbx_as "$SBX_U1" ln -s /etc "$SBX_U1_HOME/data"
        run --separate-stderr sbx_run1 symbind -- cat /tmp/data/shadow
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" "BindPaths: source '$SBX_U1_HOME/data' goes through a symbolic link"
        sbx_assert_no_match stdout "$output" 'root:'
        # A symbolic link in a parent component is refused the same way.
        sbx_as "$SBX_U1" rm "$SBX_U1_HOME/data"
        sbx_as "$SBX_U1" mkdir "$SBX_U1_HOME/real"
        sbx_as "$SBX_U1" ln -s /etc "$SBX_U1_HOME/real/link"
        sbx_as "$SBX_U1" ln -s real/link/.. "$SBX_U1_HOME/data"
        run --separate-stderr sbx_run1 symbind -- ls /tmp/data
        sbx_assert_status 125
        sbx_assert_match stderr "$stderr" 'goes through a symbolic link'
        [[ $(sbx_mount_count) == "$before" ]] || sbx_fail "host mounts changed"
        [[ -z $(sbx_our_mounts) ]] || sbx_fail "mounts left:" "$(sbx_our_mounts)"
        # A real directory works: the policy itself is fine.
        sbx_as "$SBX_U1" rm "$SBX_U1_HOME/data"
        sbx_as "$SBX_U1" mkdir "$SBX_U1_HOME/data"
        run --separate-stderr sbx_run1 symbind -- ls -d /tmp/data
        sbx_assert_status 0
        sbx_as "$SBX_U1" rm -r "$SBX_U1_HOME/data" "$SBX_U1_HOME/real"
}

@test "CVE-2025-6020 (pam_namespace) class: swapping a BindPaths= source for a symbolic link during launches never mounts its target" {
        local flipper i out seen_dir=0 refused=0
        # data (a directory holding a decoy "shadow") and link (-> /etc) trade
        # places atomically (renameat2 RENAME_EXCHANGE), as fast as the user can,
        # while the sandbox is launched: the source is checked and mounted through
        # one fd, so a launch sees either the directory or a refusal, never /etc.
        sbx_as "$SBX_U1" mkdir "$SBX_U1_HOME/data"
        sbx_as "$SBX_U1" sh -c 'echo decoy >"$1/data/shadow"' _ "$SBX_U1_HOME"
        sbx_as "$SBX_U1" ln -s /etc "$SBX_U1_HOME/link"
        sbx_bg "$SBX_U1" "$SBX_T/flipper" "$SBX_PY" -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
end = time.monotonic() + 60
while time.monotonic() < end:
    if libc.renameat2(-100, b"data", -100, b"link", 2) != 0:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))' "$SBX_U1_HOME"
        flipper=$SBX_BG_PID
        for i in $(seq 1 60); do
                out=$(sbx_run1 symbind -- cat /tmp/data/shadow 2>&1) || true
                case $out in
                *root:*) kill "$flipper"; sbx_fail "launch $i mounted /etc: $out" ;;
                decoy) seen_dir=$((seen_dir + 1)) ;;
                *'symbolic link'*) refused=$((refused + 1)) ;;
                esac
        done
        kill -0 "$flipper" 2>/dev/null || sbx_fail "the flipper stopped early:" "$(cat "$SBX_T/flipper.err")"
        kill "$flipper"
        sbx_wait_pid "$flipper" 10 || true
        echo "# 60 launches: $seen_dir saw the directory, $refused refused the link" >&3
        sbx_as "$SBX_U1" rm -rf "$SBX_U1_HOME/data" "$SBX_U1_HOME/link"
}
