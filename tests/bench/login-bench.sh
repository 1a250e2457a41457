#!/usr/bin/env bash
# make bench, part 2: the cost of pam_lxsandbox on an SSH login. Times
# "ssh USER@127.0.0.1 true" against two sshd instances of the same run, one
# whose PAM stack has the module and one without, interleaved: a first login
# (the container is created, and torn down after: Linger=0) and a login that
# joins the container another session holds. Medians and ratios to unconfined.
# Creates a unique user, a private sandboxd and two sshd on free loopback
# ports; removes them on exit. Never touches the system's sshd or PAM files.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$(cd "${SBX_BUILD:-build}" && pwd)
ROUNDS=${BENCH_LOGIN_ROUNDS:-20}
SSHD=/usr/sbin/sshd

[ "$(id -u)" = 0 ] || { echo "login bench: must run as root"; exit 1; }
[ -x "$SSHD" ] || { echo "login bench: openssh-server missing (make deps)"; exit 1; }

tmp=$(mktemp -d /tmp/sbx-bench-login.XXXXXX)
chmod 0755 "$tmp"
user="" daemon="" made_run_sshd="" holder=""
pids=()
cleanup() {
        set +e
        [ -n "$holder" ] && kill "$holder" 2>/dev/null
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        # Login containers outlive their daemon on purpose: stop the user's
        # first, and wait until the daemon has removed it and its cgroup.
        if [ -n "$daemon" ] && [ -n "$user" ]; then
                "$B/sbxctl" --socket "$tmp/run/sandboxd.sock" stop "login-$user" >/dev/null 2>&1
                for _ in $(seq 100); do
                        "$B/sbxctl" --socket "$tmp/run/sandboxd.sock" list 2>/dev/null |
                                grep -q "login-$user" || break
                        sleep 0.05
                done
        fi
        if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; fi
        if [ -n "$user" ] && getent passwd "$user" >/dev/null; then
                uid=$(id -u "$user")
                for p in $(ps -e -o pid=,ruid= | awk -v u="$uid" '$2 == u { print $1 }'); do
                        kill -KILL "$p" 2>/dev/null
                done
                sleep 0.2
                userdel -r "$user" 2>/dev/null
        fi
        [ -n "$made_run_sshd" ] && rmdir /run/sshd 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
        local port
        for _ in $(seq 50); do
                port=$((20000 + RANDOM % 30000))
                ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return 0; }
        done
        return 1
}

for _ in $(seq 20); do
        user=sbxb$$$RANDOM
        user=${user:0:24}
        getent passwd "$user" >/dev/null || break
done
useradd -m -d "/home/$user" -s /bin/sh -c "lxsandbox bench user" -U "$user"
usermod -p '*' "$user"
[ -d /run/sshd ] || { install -d -m 0755 /run/sshd; made_run_sshd=1; }

mkdir -p "$tmp/policies" "$tmp/run" "$tmp/keys"
cat >"$tmp/policies/login.ini" <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net
[Access]
Users = $user
[Files]
PrivateTmp = yes
[Resources]
TasksMax = 256
[Login]
Linger = 0
EOF
chmod 0644 "$tmp/policies/login.ini"
"$B/sandboxd" --foreground --policy-dir "$tmp/policies" --run-dir "$tmp/run" \
        --log-level warning 2>"$tmp/sandboxd.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$tmp/run/sandboxd.sock" ] && break; sleep 0.05; done
[ -S "$tmp/run/sandboxd.sock" ] || { cat "$tmp/sandboxd.log"; exit 1; }

ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/clientkey"
install -m 0644 "$tmp/clientkey.pub" "$tmp/keys/$user"

# Same stack but for the module's two lines.
for kind in plain module; do
        install -d "$tmp/pam-$kind"
        cp -a /etc/pam.d/. "$tmp/pam-$kind/"
        {
                echo 'auth    required pam_unix.so'
                echo 'account required pam_unix.so'
                [ "$kind" = plain ] || echo "session optional $B/pam_lxsandbox.so phase=restore"
                echo 'session required pam_unix.so'
                [ "$kind" = plain ] ||
                        echo "session required $B/pam_lxsandbox.so socket=$tmp/run/sandboxd.sock"
        } >"$tmp/pam-$kind/sshd"
done

start_sshd() {
        local kind=$1 port=$2
        cat >"$tmp/$kind.config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/hostkey
PidFile $tmp/$kind.pid
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $tmp/keys/%u
StrictModes no
AllowUsers $user
PrintMotd no
PrintLastLog no
EOF
        # shellcheck disable=SC2016 # expanded by that sh
        unshare -m --propagation private -- sh -c \
                'mount --bind "$1" /etc/pam.d && exec "$2" -D -f "$3" -E "$4"' sh \
                "$tmp/pam-$kind" "$SSHD" "$tmp/$kind.config" "$tmp/$kind.log" </dev/null &
        pids+=("$!")
        for _ in $(seq 100); do ss -Htln "sport = :$port" | grep -q . && return 0; sleep 0.05; done
        cat "$tmp/$kind.log"
        exit 1
}
port_plain=$(free_port)
start_sshd plain "$port_plain"
port_module=$(free_port)
start_sshd module "$port_module"

ssh_to() {
        ssh -p "$1" -i "$tmp/clientkey" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o BatchMode=yes -o LogLevel=ERROR "$user@127.0.0.1" "${@:2}" </dev/null
}
# Microseconds one "ssh true" takes; appended to FILE.
timed() {
        local file=$1 t0 t1
        shift
        t0=${EPOCHREALTIME//[.,]/}
        ssh_to "$@" true
        t1=${EPOCHREALTIME//[.,]/}
        echo $((t1 - t0)) >>"$file"
}
containers() {
        "$B/sbxctl" --socket "$tmp/run/sandboxd.sock" list | grep -c "login-$user" || true
}
wait_no_container() {
        for _ in $(seq 200); do [ "$(containers)" = 0 ] && return 0; sleep 0.05; done
        echo "login bench: the container did not go away"; exit 1
}

# Warm-up (page cache, host key exchange code).
ssh_to "$port_plain" true && ssh_to "$port_module" true
wait_no_container

: >"$tmp/plain" && : >"$tmp/first" && : >"$tmp/join"
for _ in $(seq "$ROUNDS"); do
        timed "$tmp/plain" "$port_plain"
        timed "$tmp/first" "$port_module"
        wait_no_container
done
# Joining: another session holds the container meanwhile.
ssh_to "$port_module" 'echo ready; sleep 3600' >"$tmp/holder.out" &
holder=$!
for _ in $(seq 200); do grep -q ready "$tmp/holder.out" 2>/dev/null && break; sleep 0.05; done
for _ in $(seq "$ROUNDS"); do
        timed "$tmp/plain" "$port_plain"
        timed "$tmp/join" "$port_module"
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
plain=$(median "$tmp/plain") first=$(median "$tmp/first") join=$(median "$tmp/join")
echo
echo "ssh login, 'ssh user@127.0.0.1 true', median of $ROUNDS interleaved rounds (ms)"
awk -v p="$plain" -v f="$first" -v j="$join" 'BEGIN {
        printf "  %-44s %8.1f\n", "unconfined (no pam_lxsandbox)", p / 1000
        printf "  %-44s %8.1f  %.3fx\n", "first login (container created)", f / 1000, f / p
        printf "  %-44s %8.1f  %.3fx (target <= 1.10x)\n", "joining a running container", j / 1000, j / p
}'
