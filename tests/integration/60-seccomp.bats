#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# System call filters (SystemCallFilter=, SystemCallErrorNumber=,
# SystemCallArchitectures=), seen from inside as an ordinary user: the shipped
# default policy's ~@default profile refuses what it lists with EPERM, argument
# filters hold, other errnos and allow-lists work, and non-native entry points
# (i386 int 0x80, x32) kill the process.

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

setup_file() {
        sbx_setup_file
        [[ -z ${SBX_SKIP_REASON:-} ]] || return 0
        if ! command -v cc >/dev/null; then
                export SBX_SKIP_REASON="cc is not installed (needed for the int 0x80 test programs)"
                return 0
        fi
        sbx_write_policy eacces <<'EOF'
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
ReadOnlyPaths = /

[Security]
SystemCallFilter = ~@default
SystemCallErrorNumber = EACCES
EOF
        # An allow-list: what a small dynamically linked C program needs, and
        # getpid, but not getppid. The same with getppid, as a control.
        local allow='@basic-io execve brk arch_prctl mmap mprotect munmap openat newfstatat fstat access getpid'
        sbx_write_policy allowlist <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
ReadOnlyPaths = /

[Security]
SystemCallFilter = $allow
EOF
        sbx_write_policy allowlist-ppid <<EOF
[Sandbox]
Namespaces = mount ipc uts pid net

[Access]
Users = *

[Files]
PrivateTmp = yes
ReadOnlyPaths = /

[Security]
SystemCallFilter = $allow getppid
EOF

        # Test programs, built here and run inside (dynamic binaries are fine),
        # in the first user's home: the sandboxes' /tmp is private.
        export SBX_PROG=$SBX_U1_HOME/sbx-seccomp-prog
        install -d -m 0755 "$SBX_PROG"
        cat >"$SBX_PROG/ppid.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        long ppid = syscall(SYS_getppid);
        int e = errno;
        long pid = syscall(SYS_getpid);

        printf("getppid=%s getpid=%s\n", ppid < 0 ? strerrorname_np(e) : "ok",
               pid > 0 ? "ok" : "failed");
        return 0;
}
EOF
        cat >"$SBX_PROG/int80.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>

int main(void)
{
        long ret = 20; /* i386 getpid */

        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        printf("int 0x80 returned %ld\n", ret);
        return 0;
}
EOF
        cat >"$SBX_PROG/x32.c" <<'EOF'
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
        long ret = syscall(0x40000000 | SYS_getpid);

        printf("x32 getpid returned %ld\n", ret);
        return 0;
}
EOF
        local p
        for p in ppid int80 x32; do
                cc -O1 -o "$SBX_PROG/$p" "$SBX_PROG/$p.c" || {
                        export SBX_SKIP_REASON="cannot compile the $p test program"
                        return 0
                }
        done
        chmod 0755 "$SBX_PROG"/*
}
teardown_file() { sbx_teardown_file; }
setup() { sbx_setup; }
teardown() { sbx_teardown; }

PTY_RUN=$BATS_TEST_DIRNAME/pty-run.py

# Calls each system call by number through ctypes and prints "NAME RESULT ERRNO".
SYSCALLS_PY='import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
calls = {
    "keyctl": (250, 0, -3, 0),
    "bpf": (321, 0, 0, 0),
    "perf_event_open": (298, 0, 0, -1, -1, 0),
    "userfaultfd": (323, 0),
    "open_by_handle_at": (304, -1, 0, 0),
    "io_uring_setup": (425, 1, 0),
    "add_key": (248, 0, 0, 0, 0, 0),
    "kexec_load": (246, 0, 0, 0, 0),
    "init_module": (175, 0, 0, 0),
    "mount": (165, 0, 0, 0, 0, 0),
    "setns": (308, -1, 0),
}
for name in sys.argv[1:]:
    nr, *args = calls[name]
    ctypes.set_errno(0)
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    e = ctypes.get_errno()
    print(name, r, errno.errorcode.get(e, e) if r == -1 else "-")'

@test "default policy: user namespaces are refused (unshare -U fails with EPERM)" {
        run --separate-stderr sbx_run1 default -- unshare -U true
        sbx_assert_status_nonzero
        sbx_assert_match stderr "$stderr" 'Operation not permitted'
        # clone(CLONE_NEWUSER) and clone3 (ENOSYS, so libc falls back to clone).
        run --separate-stderr sbx_run1 default -- python3 -c 'import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(272, ctypes.c_long(0x10000000))
print("unshare", r, os.strerror(ctypes.get_errno()))
r = libc.syscall(56, ctypes.c_long(0x10000000 | 17), 0, 0, 0, 0)
print("clone", r, os.strerror(ctypes.get_errno()))
r = libc.syscall(435, 0, 0)
print("clone3", r, os.strerror(ctypes.get_errno()))
pid = os.fork()
if pid == 0:
    os._exit(7)
print("fork", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))'
        sbx_assert_status 0
        sbx_assert_match output "$output" '^unshare -1 Operation not permitted$'
        sbx_assert_match output "$output" '^clone -1 Operation not permitted$'
        sbx_assert_match output "$output" '^clone3 -1 Function not implemented$'
        sbx_assert_match output "$output" '^fork 7$'
}

@test "default policy: keyctl, bpf, perf_event_open, userfaultfd, io_uring_setup, open_by_handle_at (shocker) fail with EPERM" {
        local name
        run --separate-stderr sbx_run1 default -- python3 -c "$SYSCALLS_PY" keyctl bpf \
                perf_event_open userfaultfd open_by_handle_at io_uring_setup add_key kexec_load \
                init_module mount setns
        sbx_assert_status 0
        for name in keyctl bpf perf_event_open userfaultfd open_by_handle_at io_uring_setup \
                add_key kexec_load init_module mount setns; do
                sbx_assert_match output "$output" "^$name -1 EPERM\$"
        done
}

@test "CVE-2017-5226: TIOCSTI on the sandbox's own terminal is refused with EPERM, TIOCGWINSZ works" {
        local py='import fcntl, termios, struct, sys
rows, cols = struct.unpack("HHHH", fcntl.ioctl(0, termios.TIOCGWINSZ, bytes(8)))[:2]
print("winsize", rows, cols)
for name, req in (("TIOCSTI", termios.TIOCSTI), ("TIOCSTI-high", termios.TIOCSTI | (1 << 32)),
                  ("TIOCLINUX", 0x541C)):
    try:
        fcntl.ioctl(0, req, b"x")
        print(name, "allowed")
    except OverflowError:
        print(name, "overflow")
    except OSError as e:
        print(name, "refused", e.strerror)'
        sbx_as_argv "$SBX_U1"
        run timeout -k 5 "$SBX_CMD_TIMEOUT" python3 "$PTY_RUN" --rows 31 --cols 97 -- \
                "${SBX_ARGV[@]}" "$SBX_RUN" default -- python3 -c "$py"
        sbx_assert_status 0
        sbx_assert_match output "$output" 'winsize 31 97'
        sbx_assert_match output "$output" 'TIOCSTI refused Operation not permitted'
        sbx_assert_match output "$output" 'TIOCLINUX refused Operation not permitted'
        sbx_assert_no_match output "$output" 'allowed'
}

@test "SystemCallErrorNumber=EACCES: denied calls fail with EACCES" {
        run --separate-stderr sbx_run1 eacces -- python3 -c "$SYSCALLS_PY" keyctl bpf \
                open_by_handle_at
        sbx_assert_status 0
        sbx_assert_match output "$output" '^keyctl -1 EACCES$'
        sbx_assert_match output "$output" '^bpf -1 EACCES$'
        sbx_assert_match output "$output" '^open_by_handle_at -1 EACCES$'
}

@test "an allow-list without getppid: getppid fails with EPERM, getpid works" {
        run --separate-stderr sbx_run1 allowlist -- "$SBX_PROG/ppid"
        sbx_assert_status 0
        sbx_assert_match output "$output" '^getppid=EPERM getpid=ok$'
        run --separate-stderr sbx_run1 allowlist-ppid -- "$SBX_PROG/ppid"
        sbx_assert_status 0
        sbx_assert_match output "$output" '^getppid=ok getpid=ok$'
}

@test "SystemCallArchitectures=native: an i386 int 0x80 call is killed (SIGSYS, 159), not run" {
        run --separate-stderr sbx_run1 default -- "$SBX_PROG/int80"
        sbx_assert_status 159
        sbx_assert_no_match output "$output" 'returned'
        # Also with no SystemCallFilter= at all (the testfiles policy).
        run --separate-stderr sbx_run1 testfiles -- "$SBX_PROG/int80"
        sbx_assert_status 159
}

@test "SystemCallArchitectures=native: an x32 system call number is killed (SIGSYS, 159)" {
        run --separate-stderr sbx_run1 default -- "$SBX_PROG/x32"
        sbx_assert_status 159
        sbx_assert_no_match output "$output" 'returned'
}

@test "the filter binds the command only: ordinary work still runs under ~@default" {
        run --separate-stderr sbx_run1 default -- sh -c \
                'ls / >/dev/null && echo hi | cat && python3 -c "import os, threading; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join()" && id -u'
        sbx_assert_status 0
        sbx_assert_match output "$output" '^hi$'
        sbx_assert_match output "$output" '^thread$'
}
