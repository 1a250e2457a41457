/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System call filter tests: name validation and group expansion (pure), the
 * filters of the shipped policies build, and filters installed in forked children
 * behave: denied calls fail with the configured errno (or kill), everything else
 * works, argument filters hold (also with upper bits set on 32-bit arguments), and
 * the i386 and x32 entry points are killed (SystemCallArchitectures=native).
 * Installing a filter needs no privileges (no_new_privs is set in the child).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "policy.h"
#include "seccomp.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

static struct sbx_policy *parse(const char *security)
{
        cleanup_free char *text = NULL, *err = NULL;
        struct sbx_policy *p = NULL;
        int r;

        assert_true(asprintf(&text, "[Sandbox]\n[Security]\n%s", security) > 0);
        r = sbx_policy_parse_string(text, strlen(text), "t", "t.ini", &p, &err);
        if (r < 0)
                fail_msg("policy does not parse: %s", err);
        return p;
}

static struct sbx_seccomp *build(const char *security)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = parse(security);
        cleanup_free char *err = NULL;
        struct sbx_seccomp *f = NULL;
        int r = sbx_seccomp_prepare(p, &f, &err);

        if (r < 0)
                fail_msg("filter does not build: %s", err);
        assert_non_null(f);
        assert_true(sbx_seccomp_size(f) > 0);
        return f;
}

/* Forks; the child installs F and exits with FN's result. Returns the wait status. */
static int run_filtered(const struct sbx_seccomp *f, int (*fn)(void))
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_seccomp_apply_child(f) < 0)
                        _exit(100);
                _exit(fn());
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static void assert_exit(int status, int code)
{
        if (!WIFEXITED(status))
                fail_msg("child killed by signal %d, expected exit %d",
                         WIFSIGNALED(status) ? WTERMSIG(status) : -1, code);
        assert_int_equal(WEXITSTATUS(status), code);
}

static void assert_sigsys(int status)
{
        if (!WIFSIGNALED(status))
                fail_msg("child exited %d, expected SIGSYS", WEXITSTATUS(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* 0 if SYSCALL returned -1 with ERRNO, else a code naming the check. */
#define EXPECT_ERRNO(code, call, err)                                                              \
        do {                                                                                       \
                errno = 0;                                                                         \
                if ((call) != -1 || errno != (err))                                                \
                        return (code);                                                             \
        } while (0)

/* ---- pure ------------------------------------------------------------------- */

static void test_validate_name(void **state)
{
        (void) state;
        assert_int_equal(sbx_seccomp_validate_name("keyctl"), 0);
        assert_int_equal(sbx_seccomp_validate_name("open_by_handle_at"), 0);
        assert_int_equal(sbx_seccomp_validate_name("stime"), 0); /* known, not on x86-64 */
        assert_int_equal(sbx_seccomp_validate_name("@mount"), 0);
        assert_int_equal(sbx_seccomp_validate_name("@default"), 0);
        assert_int_equal(sbx_seccomp_validate_name("@raw-io"), 0);
        assert_int_equal(sbx_seccomp_validate_name("no_such_call"), -ENOENT);
        assert_int_equal(sbx_seccomp_validate_name("@no-such-group"), -ESRCH);
        assert_int_equal(sbx_seccomp_validate_name("@"), -EINVAL);
        assert_int_equal(sbx_seccomp_validate_name(""), -EINVAL);
        assert_int_equal(sbx_seccomp_validate_name(NULL), -EINVAL);
        assert_int_equal(sbx_seccomp_validate_name("Keyctl"), -EINVAL);
        assert_int_equal(sbx_seccomp_validate_name("raw-io"), -EINVAL);
        assert_int_equal(sbx_seccomp_validate_name("ioctl(TIOCSTI)"), -EINVAL);
        assert_int_equal(sbx_seccomp_validate_name("~keyctl"), -EINVAL);
}

/* Every member of every group is a known system call, a group, or (in
 * @default) an argument filter over a known system call; names are unique. */
static void test_group_table(void **state)
{
        size_t n = sbx_seccomp_group_count();

        (void) state;
        assert_true(n >= 12);
        assert_null(sbx_seccomp_group_get(n));
        for (size_t i = 0; i < n; i++) {
                const struct sbx_seccomp_group *g = sbx_seccomp_group_get(i);

                assert_non_null(g);
                assert_ptr_equal(sbx_seccomp_group_find(g->name), g);
                assert_int_equal(sbx_seccomp_validate_name(g->name), 0);
                assert_non_null(g->description);
                assert_non_null(g->members[0]);
                for (size_t j = 0; g->members[j]; j++) {
                        const char *m = g->members[j];
                        char sys[64];

                        if (m[0] == '@') {
                                assert_non_null(sbx_seccomp_group_find(m));
                                continue;
                        }
                        (void) snprintf(sys, sizeof(sys), "%s", m);
                        if (strchr(sys, '(')) {
                                assert_string_equal(g->name, "@default");
                                *strchr(sys, '(') = '\0';
                        }
                        if (seccomp_syscall_resolve_name(sys) == __NR_SCMP_ERROR)
                                fail_msg("%s: unknown system call '%s'", g->name, sys);
                        for (size_t k = 0; k < j; k++)
                                assert_string_not_equal(g->members[k], m);
                }
        }
}

static bool strv_has(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static void test_expand(void **state)
{
        static const char *const want[] = {"kexec_file_load", "kexec_load", "reboot", "swapoff",
                                           "swapon"};
        char w0[] = "@reboot", w1[] = "reboot", w2[] = "@swap", w3[] = "@default";
        char *words[] = {w0, w1, w2, NULL};
        char *def[] = {w3, NULL};
        cleanup_strv char **names = NULL, **d = NULL;
        static const char *const required[] = {
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "reboot",
            "swapon",
            "swapoff",
            "mount",
            "umount2",
            "pivot_root",
            "move_mount",
            "open_tree",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
            "keyctl",
            "add_key",
            "request_key",
            "bpf",
            "perf_event_open",
            "userfaultfd",
            "open_by_handle_at",
            "name_to_handle_at",
            "iopl",
            "ioperm",
            "clock_settime",
            "clock_adjtime",
            "settimeofday",
            "adjtimex",
            "stime",
            "acct",
            "quotactl",
            "quotactl_fd",
            "personality(!PER_LINUX)",
            "unshare(CLONE_NEWUSER)",
            "clone(CLONE_NEWUSER)",
            "clone3(ENOSYS)",
            "ioctl(TIOCSTI)",
            "ioctl(TIOCLINUX)",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "setns",
            "lookup_dcookie",
            "nfsservctl",
            "vhangup",
            "syslog",
        };

        (void) state;
        assert_int_equal(sbx_seccomp_expand(words, &names), 0);
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_string_equal(names[i], want[i]);
        assert_null(names[ELEMENTSOF(want)]);

        assert_int_equal(sbx_seccomp_expand(def, &d), 0);
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!strv_has(d, required[i]))
                        fail_msg("@default lacks '%s'", required[i]);
        /* Decided: ptrace stays allowed (see lxsandbox.policy(5)), and so do the
         * ordinary ioctls, personality queries, clone and unshare. */
        assert_false(strv_has(d, "ptrace"));
        assert_false(strv_has(d, "ioctl"));
        assert_false(strv_has(d, "clone"));
        assert_false(strv_has(d, "unshare"));
        assert_false(strv_has(d, "personality"));
        for (size_t i = 1; d[i]; i++)
                assert_true(strcmp(d[i - 1], d[i]) < 0);
}

static char *read_policy(const char *name, size_t *ret_len)
{
        char dir[PATH_MAX], path[PATH_MAX + 64];
        cleanup_fclose FILE *f = NULL;
        char *buf = calloc(1, SBX_POLICY_MAX_SIZE + 1);

        assert_non_null(buf);
        (void) snprintf(dir, sizeof(dir), "%s", __FILE__);
        (void) snprintf(path, sizeof(path), "%s/../../policy/%s.ini", dirname(dir), name);
        f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open %s", path);
        *ret_len = fread(buf, 1, SBX_POLICY_MAX_SIZE, f);
        return buf;
}

static void test_shipped_policies_build(void **state)
{
        static const char *const names[] = {"default", "strict"};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
                cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f = NULL;
                cleanup_free char *text = NULL, *err = NULL;
                size_t len = 0;

                text = read_policy(names[i], &len);
                if (sbx_policy_parse_string(text, len, names[i], names[i], &p, &err) < 0)
                        fail_msg("%s", err);
                /* The shipped policies apply the deny profile. */
                assert_non_null(p->syscall_filter);
                assert_false(p->syscall_allow_list);
                assert_true(strv_has(p->syscall_filter, "@default"));
                assert_int_equal(p->syscall_errno, EPERM);
                assert_int_equal(sbx_seccomp_prepare(p, &f, &err), 0);
                assert_true(sbx_seccomp_size(f) > 20);
                assert_true(sbx_seccomp_size(f) < 4096);
        }
}

static void test_no_filter_key(void **state)
{
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f = build("NoNewPrivileges=yes\n");

        (void) state;
        /* Only the architecture check: a few instructions. */
        assert_true(sbx_seccomp_size(f) < 16);
        assert_int_equal(sbx_seccomp_apply_child(NULL), 0);
        assert_null(sbx_seccomp_free(NULL));
}

/* ---- installed in a child --------------------------------------------------- */

static int deny_default_checks(void)
{
        unsigned long big = 1ul << 32;

        /* Denied outright. */
        EXPECT_ERRNO(10, syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EACCES);
        EXPECT_ERRNO(11, syscall(SYS_bpf, 0, NULL, 0), EACCES);
        EXPECT_ERRNO(12, syscall(SYS_userfaultfd, 0), EACCES);
        EXPECT_ERRNO(13, syscall(SYS_io_uring_setup, 1, NULL), EACCES);
        EXPECT_ERRNO(14, syscall(SYS_open_by_handle_at, -1, NULL, 0), EACCES);
        EXPECT_ERRNO(15, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EACCES);
        EXPECT_ERRNO(16, syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL), EACCES);
        /* Argument filters. */
        EXPECT_ERRNO(20, syscall(SYS_unshare, CLONE_NEWUSER), EACCES);
        EXPECT_ERRNO(21, syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS), EACCES);
        EXPECT_ERRNO(22, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EACCES);
        EXPECT_ERRNO(23, syscall(SYS_clone3, NULL, 0), ENOSYS);
        EXPECT_ERRNO(24, syscall(SYS_ioctl, -1, TIOCSTI, "x"), EACCES);
        EXPECT_ERRNO(25, syscall(SYS_ioctl, -1, TIOCLINUX, "x"), EACCES);
        /* The kernel reads a 32-bit request: upper bits must not get it past. */
        EXPECT_ERRNO(26, syscall(SYS_ioctl, -1, big | TIOCSTI, "x"), EACCES);
        EXPECT_ERRNO(27, syscall(SYS_personality, PER_LINUX32), EACCES);
        EXPECT_ERRNO(28, syscall(SYS_personality, PER_LINUX | ADDR_NO_RANDOMIZE), EACCES);
        EXPECT_ERRNO(29, syscall(SYS_personality, big | PER_LINUX32), EACCES);
        EXPECT_ERRNO(30, syscall(SYS_personality, 0x7fffffff), EACCES);
        EXPECT_ERRNO(31, syscall(SYS_personality, 0x80000000), EACCES);
        /* Still allowed. */
        if (syscall(SYS_personality, 0xffffffff) != PER_LINUX)
                return 40;
        if (syscall(SYS_personality, PER_LINUX) != PER_LINUX)
                return 41;
        EXPECT_ERRNO(42, syscall(SYS_ioctl, -1, TIOCGWINSZ, NULL), EBADF);
        if (getpid() <= 0 || getppid() <= 0)
                return 43;
        if (write(STDOUT_FILENO, "", 0) < 0)
                return 44;
        return 0;
}

static void test_deny_list_errno(void **state)
{
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f =
            build("SystemCallFilter=~@default\nSystemCallErrorNumber=EACCES\n");

        (void) state;
        assert_exit(run_filtered(f, deny_default_checks), 0);
}

static int keyctl_eperm(void)
{
        EXPECT_ERRNO(10, syscall(SYS_keyctl, 0, -3, 0), EPERM);
        EXPECT_ERRNO(11, syscall(SYS_unshare, CLONE_NEWUSER), EPERM);
        return getpid() > 0 ? 0 : 12;
}

static void test_shipped_default_eperm(void **state)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f = NULL;
        cleanup_free char *text = NULL, *err = NULL;
        size_t len = 0;

        (void) state;
        text = read_policy("default", &len);
        assert_int_equal(sbx_policy_parse_string(text, len, "default", "default.ini", &p, &err), 0);
        assert_int_equal(sbx_seccomp_prepare(p, &f, &err), 0);
        assert_exit(run_filtered(f, keyctl_eperm), 0);
}

static int keyctl_call(void)
{
        (void) syscall(SYS_keyctl, 0, -3, 0);
        return 1;
}

static void test_errno_kill(void **state)
{
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f =
            build("SystemCallFilter=~keyctl\nSystemCallErrorNumber=kill\n");

        (void) state;
        assert_sigsys(run_filtered(f, keyctl_call));
}

static int allow_list_checks(void)
{
        EXPECT_ERRNO(10, syscall(SYS_getppid), EPERM);
        EXPECT_ERRNO(11, syscall(SYS_clone3, NULL, 0), ENOSYS); /* libc falls back */
        EXPECT_ERRNO(12, syscall(SYS_keyctl, 0, -3, 0), EPERM);
        if (syscall(SYS_getpid) <= 0)
                return 13;
        if (write(STDOUT_FILENO, "", 0) < 0)
                return 14;
        return 0; /* exit_group: implicitly allowed */
}

static void test_allow_list(void **state)
{
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f = NULL;

        (void) state;
#if defined(__SANITIZE_ADDRESS__)
        /* ASan's runtime makes system calls an allow-list denies: the child
         * cannot even report. The plain build runs it. */
        skip();
#endif
        f = build("SystemCallFilter=@basic-io getpid\n");
        assert_exit(run_filtered(f, allow_list_checks), 0);
}

static int allow_list_enosys_checks(void)
{
        EXPECT_ERRNO(10, syscall(SYS_getppid), ENOSYS);
        EXPECT_ERRNO(11, syscall(SYS_clone3, NULL, 0), ENOSYS);
        return syscall(SYS_getpid) > 0 ? 0 : 12;
}

/* The default action is ERRNO(ENOSYS) already: no separate clone3 rule. */
static void test_allow_list_enosys(void **state)
{
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *f = NULL;

        (void) state;
#if defined(__SANITIZE_ADDRESS__)
        /* ASan's runtime makes system calls an allow-list denies: the child
         * cannot even report. The plain build runs it. */
        skip();
#endif
        f = build("SystemCallFilter=@basic-io getpid\nSystemCallErrorNumber=ENOSYS\n");
        assert_exit(run_filtered(f, allow_list_enosys_checks), 0);
}

static int x32_getpid(void)
{
        /* x32 numbers have bit 30 set; whether or not the kernel has x32, the
         * filter must kill before the call is dispatched. */
        (void) syscall(0x40000000 | SYS_getpid);
        return 1;
}

static int i386_getpid(void)
{
#if defined(__x86_64__)
        long ret = 20; /* __NR_getpid on i386 */

        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        return 1;
#else
        return 77;
#endif
}

static void test_non_native_killed(void **state)
{
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *none = build("NoNewPrivileges=yes\n");
        cleanup_(sbx_seccomp_freep) struct sbx_seccomp *def = build("SystemCallFilter=~@default\n");

        (void) state;
#if !defined(__x86_64__)
        skip();
#endif
        /* Without a filter, int 0x80 works (or the kernel lacks i386 support). */
        assert_sigsys(run_filtered(none, x32_getpid));
        assert_sigsys(run_filtered(none, i386_getpid));
        assert_sigsys(run_filtered(def, x32_getpid));
        assert_sigsys(run_filtered(def, i386_getpid));
}

/* valgrind 3.19 does not know seccomp(2): then nothing here can run. */
static int seccomp_available(void)
{
        uint32_t action = SECCOMP_RET_ERRNO;

        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 || errno != ENOSYS;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_validate_name),
            cmocka_unit_test(test_group_table),
            cmocka_unit_test(test_expand),
            cmocka_unit_test(test_shipped_policies_build),
            cmocka_unit_test(test_no_filter_key),
            cmocka_unit_test(test_deny_list_errno),
            cmocka_unit_test(test_shipped_default_eperm),
            cmocka_unit_test(test_errno_kill),
            cmocka_unit_test(test_allow_list),
            cmocka_unit_test(test_allow_list_enosys),
            cmocka_unit_test(test_non_native_killed),
        };

        if (!seccomp_available()) {
                printf("seccomp(2) is not available here (valgrind?): skipping\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
