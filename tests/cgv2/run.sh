#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/cgv2/run.sh [--setup-only] [--keep] [--console]
#
# The resource-limit tests on a real cgroup v2 hierarchy: boots Debian's cloud
# kernel under qemu (software emulation, no KVM needed) with an initramfs made
# of busybox-static, the built programs ($SBX_BUILD: sandboxd,
# sandboxd-controller, sbx-run, sbxctl) with their shared libraries, the
# shipped policies, a test user and tests/cgv2/guest.sh; the guest mounts
# cgroup2 as systemd does, starts sandboxd in a delegated subtree and runs
# the limit tests as the test user with sbx-run (see guest.sh).
#
# Prints the guest's TAP ("1..N", "ok N ...", "not ok N ..." with "# "
# details), then "# cgv2: N passed, N failed; boot to poweroff X s".  Exits
# 0 when every planned test passed, 1 otherwise, 77 (and "1..0 # SKIP why")
# when a prerequisite is missing (qemu-system-x86_64, cpio, the kernel).
#
# --setup-only  fetch the kernel and busybox-static into the cache and exit
#               (what `make deps` runs).  Both come from Debian's archive with
#               `apt-get download` and are unpacked with dpkg-deb -x: nothing
#               is installed on the host.
# --keep        keep the work dir (initramfs, console log) and say where
# --console     print the guest's kernel console at the end
#
# Environment: SBX_BUILD (default build), SBX_CGV2_CACHE (default
# build/cgv2-cache), SBX_CGV2_TIMEOUT (seconds, default 300), SBX_CGV2_SMP
# (default 2), SBX_CGV2_MEM (MiB, default 1024), SBX_CGV2_KERNEL_PKG
# (default linux-image-cloud-amd64), CC, SBX_CGV2_BENCH=N (instead of the
# tests, N interleaved rounds of launch latency with and without limits:
# make bench).

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/tests/cgv2
build=${SBX_BUILD:-build}
[[ $build == /* ]] || build=$repo/$build
cache=${SBX_CGV2_CACHE:-$repo/build/cgv2-cache}
timeout_s=${SBX_CGV2_TIMEOUT:-300}
smp=${SBX_CGV2_SMP:-2}
mem=${SBX_CGV2_MEM:-1024}
kpkg=${SBX_CGV2_KERNEL_PKG:-linux-image-cloud-amd64}

setup_only=0 keep=0 show_console=0
for a in "$@"; do
        case $a in
        --setup-only) setup_only=1 ;;
        --keep) keep=1 ;;
        --console) show_console=1 ;;
        *)
                sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
                exit 2
                ;;
        esac
done

log() { echo "cgv2: $*" >&2; }
# A missing prerequisite: skipped (tests/run-all.sh makes it a failure under CI).
skip_all() {
        echo "1..0 # SKIP $*"
        exit 77
}
die() {
        log "$*"
        exit 1
}

# ---- prerequisites: qemu, cpio, kernel and busybox-static in the cache ---------

for c in qemu-system-x86_64 cpio dpkg-deb apt-get ldd; do
        command -v "$c" >/dev/null || {
                ((setup_only)) && die "$c is not installed (make deps)"
                skip_all "$c is not installed (make deps)"
        }
done

# Unpacks Debian package $1 into $2 once (apt-get download + dpkg-deb -x, no
# maintainer scripts, nothing outside the cache).
fetch_deb() {
        local pkg=$1 dest=$2 dl
        [[ -e $dest/.done ]] && return 0
        dl=$(mktemp -d "$cache/dl.XXXXXX")
        log "apt-get download $pkg"
        if ! (cd "$dl" && apt-get download -q "$pkg" >/dev/null 2>&1); then
                # Stale package lists (the archive moved on): refresh once, as root.
                if [[ $(id -u) == 0 ]]; then
                        apt-get update -qq >&2 || true
                fi
                (cd "$dl" && apt-get download -q "$pkg" >&2 2>/dev/null) || {
                        rm -rf "$dl"
                        return 1
                }
        fi
        rm -rf "$dest"
        mkdir -p "$dest"
        dpkg-deb -x "$dl"/*.deb "$dest"
        rm -rf "$dl"
        touch "$dest/.done"
}

# The metapackage names the versioned image (linux-image-6.1.0-N-cloud-amd64);
# the answer is remembered, --setup-only asks again.
resolve_kernel() {
        local memo=$cache/$kpkg.resolved k=
        if [[ $kpkg == linux-image-[0-9]* ]]; then
                k=$kpkg
        elif ((!setup_only)) && [[ -s $memo && -e $cache/$(<"$memo")/.done ]]; then
                k=$(<"$memo")
        else
                k=$(apt-cache depends "$kpkg" 2>/dev/null |
                        awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
                # A fresh machine may have no package lists yet: refresh once, as root.
                if [[ -z $k && $(id -u) == 0 ]]; then
                        apt-get update -qq >&2 || true
                        k=$(apt-cache depends "$kpkg" 2>/dev/null |
                                awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
                fi
                [[ -z $k ]] || echo "$k" >"$memo"
        fi
        printf '%s\n' "$k"
}

setup() {
        mkdir -p "$cache"
        local k
        k=$(resolve_kernel)
        [[ -n $k ]] || return 1
        kdir=$cache/$k
        if [[ ! -e $kdir/.done ]]; then
                fetch_deb "$k" "$kdir" || return 1
                # Only the kernel image is used (no modules): drop the 90 MB of .ko.
                rm -rf "$kdir/lib/modules"
        fi
        local f
        vmlinuz=
        for f in "$kdir"/boot/vmlinuz-*; do
                [[ -f $f ]] && vmlinuz=$f && break
        done
        [[ -n $vmlinuz ]] || return 1
        fetch_deb busybox-static "$cache/busybox-static" || return 1
        busybox=$cache/busybox-static/bin/busybox
        [[ -x $busybox ]] || busybox=$cache/busybox-static/usr/bin/busybox
        [[ -x $busybox ]]
}

if ! setup; then
        ((setup_only)) && die "cannot fetch $kpkg / busybox-static into $cache (apt-get update?)"
        skip_all "no kernel in $cache and apt-get download failed (run make deps)"
fi
if ((setup_only)); then
        log "ready: $vmlinuz, $busybox"
        exit 0
fi

# ---- initramfs -------------------------------------------------------------------

t0=$(date +%s.%N)
work=$(mktemp -d "${TMPDIR:-/tmp}/sbx-cgv2.XXXXXX")
qpid=
cleanup() {
        if [[ -n $qpid ]]; then
                kill "$qpid" 2>/dev/null || true
                wait "$qpid" 2>/dev/null || true
        fi
        if ((keep)); then log "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
root=$work/root

for p in sandboxd sandboxd-controller sbx-run sbxctl; do
        [[ -x $build/$p ]] || {
                echo "1..1"
                echo "not ok 1 $build/$p is not built (run make)"
                exit 1
        }
done

mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,run,root,tmp,var/tmp,newroot}
mkdir -p "$root"/{opt/lxsandbox/bin,etc/lxsandbox/policies,home/sbxtest}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
if [[ $(id -u) == 0 ]]; then
        mknod -m 600 "$root/dev/console" c 5 1
fi
cp "$busybox" "$root/usr/bin/busybox"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sbxtest:x:1000:1000:lxsandbox test user:/home/sbxtest:/bin/sh
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
users:x:100:sbxtest
nogroup:x:65534:
sbxtest:x:1000:
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

# A host file to the same path in the guest (symlinks resolved).
copy_file() {
        local dst=$root$1
        [[ -e $dst && ${2:-} != force ]] && return 0
        mkdir -p "$(dirname "$dst")"
        rm -f "$dst"
        cp -L "$1" "$dst"
}
# The shared libraries ldd lists for $1 (and the dynamic loader).
copy_libs() {
        local out lib
        out=$(ldd "$1" 2>/dev/null) || return 0
        if grep -q 'not found' <<<"$out"; then
                die "$1: missing shared libraries: $out"
        fi
        while read -r lib; do
                copy_file "$lib"
        done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
}

# The project's programs, side by side (sandboxd finds the controller beside
# itself), and a workload helper.
for p in sandboxd sandboxd-controller sbx-run sbxctl; do
        install -m 0755 "$build/$p" "$root/opt/lxsandbox/bin/$p"
        copy_libs "$build/$p"
done
"${CC:-cc}" -O2 -Wall -o "$root/opt/lxsandbox/bin/cgv2-helper" "$here/helper.c"
copy_libs "$root/opt/lxsandbox/bin/cgv2-helper"
"${CC:-cc}" -O2 -Wall -o "$root/opt/lxsandbox/bin/launch-bench" "$repo/tests/bench/launch-bench.c"
copy_libs "$root/opt/lxsandbox/bin/launch-bench"
install -m 0644 "$repo"/policy/*.ini "$root/etc/lxsandbox/policies/"
install -m 0755 "$here/guest.sh" "$root/opt/lxsandbox/guest.sh"

# /bin/sh is dash and a few real tools replace busybox applets: Debian's
# busybox ash (and busybox's timeout/env) run applets in preference to
# programs of the same name.
for p in /bin/dash /usr/bin/setpriv /usr/bin/timeout /usr/bin/env; do
        [[ -x $p ]] || die "$p is missing on the host"
        copy_file "$(readlink -f "$p")" force
        [[ $(readlink -f "$p") == "$p" ]] || copy_file "$p" force
        copy_libs "$p"
done
ln -sfn dash "$root/usr/bin/sh"

# Stage 1: the initramfs root cannot be pivot_root()ed away (the sandbox
# needs pivot_root), so copy everything into a tmpfs and switch_root.
cat >"$root/init" <<'EOF'
#!/usr/bin/busybox sh
export PATH=/usr/sbin:/usr/bin
/usr/bin/busybox --install -s
mount -t tmpfs -o mode=0755,size=80% rootfs /newroot
for e in /*; do [ "$e" = /newroot ] || cp -a "$e" /newroot/; done
exec switch_root /newroot /etc/cgv2-init
EOF
chmod 755 "$root/init"

# Stage 2: API file systems, cgroup2 only and mounted as systemd does, the
# tests with their output on ttyS1, the exit status on the console, poweroff.
cat >"$root/etc/cgv2-init" <<'EOF'
#!/usr/bin/busybox sh
export PATH=/usr/sbin:/usr/bin HOME=/root TERM=dumb
umask 022
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
ln -sf /proc/self/fd /dev/fd
mount -t tmpfs -o nosuid,nodev,mode=0755 run /run
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
hostname cgv2
ip link set lo up
stty -F /dev/ttyS1 raw -echo 2>/dev/null
read -r up _ </proc/uptime
echo "SBX_CGV2_START uptime=$up"
cd /
/bin/sh /opt/lxsandbox/guest.sh </dev/null >/dev/ttyS1 2>&1
rc=$?
read -r up _ </proc/uptime
echo "SBX_CGV2_EXIT=$rc uptime=$up"
poweroff -f
EOF
chmod 755 "$root/etc/cgv2-init"

(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) \
        >"$work/initramfs.cpio"
rm -rf "$root"

# ---- boot ------------------------------------------------------------------------

append="console=ttyS0 panic=-1 quiet cgroup_no_v1=all mitigations=off tsc=reliable no_timer_check"
if [[ ${SBX_CGV2_BENCH:-} =~ ^[1-9][0-9]*$ ]]; then
        append+=" sbx.bench=$SBX_CGV2_BENCH"
fi
: >"$work/console.log"
t1=$(date +%s.%N)
# In the background, so that a signal to this script stops the VM (cleanup).
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
        -accel tcg,thread=multi -cpu qemu64 -smp "$smp" -m "$mem" \
        -nodefaults -no-user-config -display none -monitor none -nic none -no-reboot \
        -kernel "$vmlinuz" -initrd "$work/initramfs.cpio" -append "$append" \
        -chardev file,id=con,path="$work/console.log" -serial chardev:con \
        -chardev file,id=out,path="$work/tap.log" -serial chardev:out \
        </dev/null >"$work/qemu.out" 2>&1 &
qpid=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=
t2=$(date +%s.%N)

tr -d '\r' <"$work/tap.log" >"$work/tap"
cat "$work/tap"
if ((show_console)); then
        echo "----- guest console -----" >&2
        tr -d '\r' <"$work/console.log" >&2
        echo "-------------------------" >&2
fi

# ---- summary ---------------------------------------------------------------------

plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$work/tap" | head -n 1)
npass=$(grep -c '^ok ' "$work/tap" || true)
nfail=$(grep -c '^not ok ' "$work/tap" || true)
status=$(tr -d '\r' <"$work/console.log" | sed -n 's/.*SBX_CGV2_EXIT=\([0-9]*\).*/\1/p' | tail -n 1)
start=$(tr -d '\r' <"$work/console.log" | sed -n 's/.*SBX_CGV2_START uptime=\([0-9.]*\).*/\1/p' | tail -n 1)
times=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v s="${start:-?}" \
        'BEGIN { printf "initramfs %.1f s, boot to poweroff %.1f s (tests began at %s s of guest uptime)", b - a, c - b, s }')
problem=
if [[ -z $status ]]; then
        if ((qrc == 124 || qrc == 137)); then
                problem="the VM timed out after ${timeout_s}s (SBX_CGV2_TIMEOUT)"
        else
                problem="the VM stopped without reporting a status (qemu exit $qrc)"
        fi
elif [[ -z $plan ]]; then
        problem="no TAP plan from the guest (guest.sh exit $status)"
elif ((npass + nfail < plan)); then
        problem="the guest ran $((npass + nfail)) of $plan tests (guest.sh exit $status)"
fi
if [[ -n $problem ]]; then
        nfail=$((nfail + 1))
        [[ -n $plan ]] || echo "1..1"
        echo "not ok $((npass + nfail)) $problem; $npass passed before"
        {
                echo "qemu:"
                tail -n 20 "$work/qemu.out"
                echo "guest console (tail):"
                tr -d '\r' <"$work/console.log" | tail -n 40
        } | sed 's/^/# /'
fi
echo "# cgv2: $npass passed, $nfail failed; $times"
((nfail == 0))
