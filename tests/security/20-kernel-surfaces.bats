#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The host kernel's interfaces, tried as an ordinary user inside the shipped
# policies: file handles (shocker), /proc/sys, /sys, device nodes, the host's
# processes, setuid binaries, the session keyring and the container's own
# cgroup limits. Each attack must fail.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load ../integration/lib

setup_file() {
        sbx_setup_file
        [[ -z ${SBX_SKIP_REASON:-} ]] || return 0
        # The default policy without a system call filter: what is left when a
        # policy does not deny keyctl (the keyring must still be the sandbox's).
        sbx_write_policy nofilter <<'EOF'
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
PrivateDevices = yes
ReadOnlyPaths = /
ReadWritePaths = -%h
EOF
        sbx_write_policy memlimit <<'EOF'
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
PrivateDevices = yes
ReadOnlyPaths = /
ReadWritePaths = -%h

[Resources]
MemoryMax = 64M

[Security]
SystemCallFilter = ~@default
EOF
}
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

# Opens each path of argv for writing; prints "PATH ok" or "PATH ERRNO-NAME".
WRITE_PY='import errno, os, sys
for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_WRONLY)
        os.close(fd)
        print(path, "ok")
    except OSError as e:
        print(path, errno.errorcode[e.errno])'

@test "shocker: name_to_handle_at and open_by_handle_at fail with EPERM" {
        local policy py='import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
buf = ctypes.create_string_buffer(8 + 128)
ctypes.memmove(buf, (128).to_bytes(4, "little"), 4)
mnt = ctypes.c_int(0)
r = libc.syscall(303, AT_FDCWD, b"/etc/passwd", buf, ctypes.byref(mnt), 0)
print("name_to_handle_at", r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")
# The handle of the root inode of an ext4 file system, as shocker forged it.
h = ctypes.create_string_buffer(8 + 8)
ctypes.memmove(h, (8).to_bytes(4, "little") + (1).to_bytes(4, "little") + (2).to_bytes(8, "little"), 16)
fd = os.open("/", os.O_RDONLY)
r = libc.syscall(304, fd, h, os.O_RDONLY)
print("open_by_handle_at", r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")'
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c "$py"
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" '^name_to_handle_at -1 EPERM$'
                sbx_assert_match "$policy" "$output" '^open_by_handle_at -1 EPERM$'
        done
        # Without the filter the kernel still refuses it: CAP_DAC_READ_SEARCH is gone.
        run --separate-stderr sbx_run1 nofilter -- python3 -c "$py"
        sbx_assert_status 0
        sbx_assert_match nofilter "$output" '^open_by_handle_at -1 EPERM$'
}

@test "/proc/sys and /proc/sysrq-trigger cannot be written (EROFS/EACCES)" {
        local policy f
        local -a paths=()
        # Those this kernel has (no CONFIG_MAGIC_SYSRQ or CONFIG_MODULES, no file).
        for f in /proc/sysrq-trigger /proc/sys/kernel/core_pattern /proc/sys/kernel/hostname \
                /proc/sys/vm/drop_caches /proc/sys/kernel/modprobe /proc/sys/net/ipv4/ip_forward \
                /proc/sys/kernel/sysrq /proc/sys/fs/binfmt_misc/register; do
                [[ -e $f ]] && paths+=("$f")
        done
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c "$WRITE_PY" "${paths[@]}"
                sbx_assert_status 0
                for f in "${paths[@]}"; do
                        sbx_assert_match "$policy" "$output" "^$f (EROFS|EACCES)\$"
                done
                sbx_assert_match "$policy" "$output" '^/proc/sys/kernel/core_pattern (EROFS|EACCES)$'
        done
}

@test "/sys cannot be written (EROFS/EACCES), and shows a read-only sysfs" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c "$WRITE_PY"'
import os
for d in ("/sys", "/sys/fs/cgroup"):
    print(d, "ro" if os.statvfs(d).f_flag & os.ST_RDONLY else "rw")
try:
    os.mkdir("/sys/kernel/sbx-escape")
    print("mkdir ok")
except OSError as e:
    print("mkdir", errno.errorcode[e.errno])' /sys/kernel/uevent_helper /sys/power/state \
                        /sys/class/net/lo/mtu /sys/kernel/mm/transparent_hugepage/enabled
                sbx_assert_status 0
                sbx_assert_no_match "$policy" "$output" ' ok$|rw$'
                sbx_assert_match "$policy" "$output" '^/sys ro$'
                sbx_assert_match "$policy" "$output" '^/sys/class/net/lo/mtu (EROFS|EACCES)$'
                sbx_assert_match "$policy" "$output" '^mkdir (EROFS|EACCES)$'
        done
}

@test "mknod of a character or block device fails (EPERM), anywhere writable" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import errno, os, stat
for d in ("/tmp", "/dev/shm"):
    for kind, mode, dev in (("chr-mem", stat.S_IFCHR, os.makedev(1, 1)),
                            ("blk-sda", stat.S_IFBLK, os.makedev(8, 0))):
        try:
            os.mknod(d + "/" + kind, mode | 0o666, dev)
            print(d, kind, "ok")
        except OSError as e:
            print(d, kind, errno.errorcode[e.errno])'
                sbx_assert_status 0
                sbx_assert_no_match "$policy" "$output" ' ok$'
                sbx_assert_match "$policy" "$output" '^/tmp chr-mem EPERM$'
                sbx_assert_match "$policy" "$output" '^/dev/shm blk-sda EPERM$'
        done
}

@test "no host device nodes: no block devices in /dev; /dev/mem, /dev/kmsg, /dev/port absent" {
        local policy
        for policy in default strict; do
                # By stat, not readdir: a bound node sits on a placeholder file.
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import os, stat
chars = []
for top, dirs, files in os.walk("/dev"):
    for n in files:
        p = os.path.join(top, n)
        m = os.stat(p, follow_symlinks=False).st_mode
        if stat.S_ISBLK(m):
            print("block", p)
        elif stat.S_ISCHR(m):
            chars.append(p)
for n in ("mem", "kmem", "port", "kmsg", "sda", "vda", "nvme0", "loop0", "fuse", "net/tun",
          "console", "tty0", "mapper/control"):
    if os.path.lexists("/dev/" + n):
        print("present", "/dev/" + n)
print(*sorted(chars))'
                sbx_assert_status 0
                sbx_assert_no_match "$policy" "$output" '^(block|present) '
                sbx_assert_match "$policy" "$output" '^/dev/full /dev/null /dev/pts/ptmx /dev/random /dev/tty /dev/urandom /dev/zero$'
        done
}

@test "kill of host processes: host pids are invisible, the daemon's pid number reaches nothing of the host" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import errno, os, sys
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("pids", *pids)
for pid in map(int, sys.argv[1:]):
    try:
        os.kill(pid, 0)
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            print(pid, "inside", f.read().split(b"\0")[0].decode())
    except OSError as e:
        print(pid, errno.errorcode[e.errno])' "$SBX_DAEMON_PID" "$$" "$BASHPID"
                sbx_assert_status 0
                # Only the init and the command.
                sbx_assert_match "$policy" "$output" '^pids 1 2$'
                sbx_assert_match "$policy" "$output" "^$SBX_DAEMON_PID ESRCH\$"
                sbx_assert_no_match "$policy" "$output" 'sandboxd|bats|inside'
        done
        # Signals to the daemon's pid number from inside are lost; it lives on.
        run --separate-stderr sbx_run1 default -- sh -c "kill -KILL $SBX_DAEMON_PID"
        sbx_assert_status_nonzero
        sbx_daemon_alive || sbx_fail "sandboxd died"
}

@test "ptrace of the sandbox's init (pid 1) fails with EPERM; its memory is unreadable" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
for name, req in (("attach", 16), ("seize", 0x4206)):
    ctypes.set_errno(0)
    r = libc.ptrace(ctypes.c_long(req), 1, None, None)
    print("ptrace", name, r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")
buf = ctypes.create_string_buffer(8)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
local, remote = iovec(ctypes.addressof(buf), 8), iovec(0x400000, 8)
r = libc.process_vm_readv(1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
print("process_vm_readv", r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")
try:
    open("/proc/1/mem", "rb").read(1)
    print("mem ok")
except OSError as e:
    print("mem", errno.errorcode[e.errno])
print([l.strip() for l in open("/proc/1/status") if l.startswith("Uid")][0])'
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" '^ptrace attach -1 EPERM$'
                sbx_assert_match "$policy" "$output" '^ptrace seize -1 EPERM$'
                sbx_assert_match "$policy" "$output" '^process_vm_readv -1 EPERM$'
                sbx_assert_match "$policy" "$output" '^mem EACCES$'
                # The init has the user's uid, and still cannot be traced.
                sbx_assert_match "$policy" "$output" "^Uid:[[:space:]]+${SBX_U1_UID}[[:space:]]"
        done
}

@test "setuid binaries do not raise privileges (no_new_privs): su, mount, passwd stay the user's" {
        local host policy
        # Outside, passwd -S is setuid root and reads the shadow entry.
        host=$(sbx_as "$SBX_U1" passwd -S)
        [[ $host == "$SBX_U1 "* && $host != *" -1 -1 -1 -1" ]] ||
                sbx_fail "passwd -S on the host: '$host'"
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import os, subprocess
for argv in (["su", "root", "-c", "id -u"], ["passwd", "root"], ["mount", "-t", "tmpfs", "x", "/tmp"]):
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Popen returns after the exec: these are the setuid program'"'"'s credentials.
    uid = [l.split()[1:] for l in open("/proc/%d/status" % p.pid) if l.startswith("Uid")][0]
    out, err = p.communicate(b"", timeout=30)
    print(argv[0], "uids", *uid, "exit", p.returncode, "out", out.decode().strip())
print("passwd-S", subprocess.run(["passwd", "-S"], capture_output=True, text=True).stdout.strip())'
                sbx_assert_status 0
                local prog
                for prog in su passwd mount; do
                        sbx_assert_match "$policy" "$output" \
                                "^$prog uids $SBX_U1_UID $SBX_U1_UID $SBX_U1_UID $SBX_U1_UID exit [1-9]"
                done
                sbx_assert_no_match "$policy" "$output" 'out 0'
                # Inside, passwd -S can no longer read the shadow entry.
                sbx_assert_match "$policy" "$output" "^passwd-S $SBX_U1( |\$)"
                sbx_assert_no_match "$policy" "$output" "^passwd-S $host\$"
        done
}

@test "session keyring: keyctl and add_key fail with EPERM under the shipped policies" {
        local policy
        for policy in default strict; do
                run --separate-stderr sbx_run1 "$policy" -- python3 -c 'import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(250, 0, ctypes.c_long(-3), 0)
print("keyctl", r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")
r = libc.syscall(248, b"user", b"sbx-test", b"x", 1, ctypes.c_long(-3))
print("add_key", r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")
r = libc.syscall(249, b"user", b"sbx-test", None, 0)
print("request_key", r, errno.errorcode.get(ctypes.get_errno(), "-") if r < 0 else "-")'
                sbx_assert_status 0
                sbx_assert_match "$policy" "$output" '^keyctl -1 EPERM$'
                sbx_assert_match "$policy" "$output" '^add_key -1 EPERM$'
                sbx_assert_match "$policy" "$output" '^request_key -1 EPERM$'
        done
}

@test "session keyring: each sandbox has a fresh one, not the daemon's, even without a filter" {
        local token py='import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
KEY_SPEC_SESSION_KEYRING = ctypes.c_long(-3)
if sys.argv[1] == "add":
    r = libc.syscall(248, b"user", sys.argv[2].encode(), b"secret", 6, KEY_SPEC_SESSION_KEYRING)
else:
    r = libc.syscall(250, 10, KEY_SPEC_SESSION_KEYRING, b"user", sys.argv[2].encode(), 0)
print(sys.argv[1], "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "-"))
buf = ctypes.create_string_buffer(256)
libc.syscall(250, 6, KEY_SPEC_SESSION_KEYRING, buf, 256)
print("session", buf.value.decode().split(";")[1:])'
        token=sbx-leak-$(sbx_token)
        # One sandbox stores a key in its session keyring...
        run --separate-stderr sbx_run1 nofilter -- python3 -c "$py" add "$token"
        sbx_assert_status 0
        sbx_assert_match add "$output" '^add ok$'
        # ... which is an anonymous "_ses" of root's (the init joined it before
        # the drop): not the daemon's (a service's own, shared by every sandbox
        # it starts) and not the user's "_uid_ses.UID" fallback (shared with
        # the caller's other processes). The next sandbox does not see the key.
        run --separate-stderr sbx_run1 nofilter -- python3 -c "$py" search "$token"
        sbx_assert_status 0
        sbx_assert_match search "$output" '^search ENOKEY$'
        sbx_assert_match search "$output" "^session \\['0', '0', '[0-9a-f]+', '_ses'\\]\$"
        # Another user's sandbox neither.
        run --separate-stderr sbx_as "$SBX_U2" "$SBX_RUN" nofilter -- python3 -c "$py" search "$token"
        sbx_assert_status 0
        sbx_assert_match search "$output" '^search ENOKEY$'
}

@test "cgroup files: the container cannot write its own limits (MemoryMax=64M)" {
        local name=$SBX_U1-cg$RANDOM
        run --separate-stderr sbx_run1 --name "$name" memlimit -- python3 -c 'import errno, os, sys
print("self", *open("/proc/self/cgroup").read().split())
# The sandbox sees its own cgroup as the root of each hierarchy (v1), or of
# the one cgroup2 mount (v2), and nothing else.
found = []
for top, dirs, files in os.walk("/sys/fs/cgroup"):
    if "cgroup.procs" in files:
        found.append(top)
        dirs[:] = []
    if "lxsandbox-" + sys.argv[1] in dirs:
        print("host tree visible at", top)
for d in found:
    for f in ("memory.limit_in_bytes", "memory.max", "memory.memsw.limit_in_bytes", "cgroup.procs",
              "pids.max", "cgroup.subtree_control"):
        p = os.path.join(d, f)
        if not os.path.exists(p):
            continue
        if f in ("memory.limit_in_bytes", "memory.max"):
            print("limit", open(p).read().strip())
        try:
            with open(p, "w") as fh:
                fh.write("max\n" if f.endswith("max") else "1000000000\n")
            print("wrote", p)
        except OSError as e:
            print("refused", f, errno.errorcode[e.errno])
    try:
        os.mkdir(os.path.join(d, "escape"))
        print("wrote mkdir")
    except OSError as e:
        print("refused mkdir", errno.errorcode[e.errno])
print("found", len(found))' "$name"
        sbx_assert_status 0
        sbx_assert_no_match output "$output" '^wrote'
        sbx_assert_match output "$output" '^found [1-9]'
        sbx_assert_match output "$output" '^limit 67108864$'
        sbx_assert_match output "$output" '^refused memory\.(limit_in_bytes|max) (EACCES|EROFS|EPERM)$'
        sbx_assert_match output "$output" '^refused mkdir (EACCES|EROFS|EPERM)$'
        sbx_assert_no_match output "$output" '^host tree visible'
        # A cgroup namespace: the sandbox's own cgroup is its root.
        sbx_assert_match output "$output" '^self .*:memory:/( |$)|^self 0::/( |$)'
        sbx_assert_clean
}
