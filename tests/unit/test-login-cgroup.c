/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Moving a login process back to its own cgroups on close: which hierarchies
 * and directories, from the /proc/PID/cgroup texts before and after the join. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "login-cgroup.h"

static int collect(const char *dir, const char *path, void *userdata)
{
        char *out = userdata;
        size_t n = strlen(out);

        (void) snprintf(out + n, 1024 - n, "[%s]%s ", dir, path);
        return 0;
}

static const char saved[] = "9:name=systemd:/\n"
                            "8:pids:/user.slice\n"
                            "4:memory:/process_api/abc\n"
                            "2:cpu,cpuacct:/\n"
                            "0::/init.scope\n";

static void test_only_moved_hierarchies(void **state)
{
        const char now[] = "9:name=systemd:/\n"
                           "8:pids:/lxsandbox-login-alice.1\n"
                           "4:memory:/process_api/abc/lxsandbox-login-alice.1\n"
                           "2:cpu,cpuacct:/\n"
                           "0::/init.scope\n";
        char out[1024] = "";

        (void) state;
        assert_int_equal(sbx_login_cgroup_diff(saved, now, 1, collect, out), 2);
        assert_string_equal(out, "[pids]/user.slice [memory]/process_api/abc ");
}

static void test_named_and_unified(void **state)
{
        const char now[] = "9:name=systemd:/x\n"
                           "8:pids:/user.slice\n"
                           "4:memory:/process_api/abc\n"
                           "2:cpu,cpuacct:/y\n"
                           "0::/z\n";
        char out[1024] = "";

        (void) state;
        assert_int_equal(sbx_login_cgroup_diff(saved, now, 1, collect, out), 3);
        assert_string_equal(out, "[systemd]/ [cpu,cpuacct]/ [unified]/init.scope ");
        out[0] = '\0';
        /* A unified layout: v2 at the top of the mount. */
        assert_int_equal(sbx_login_cgroup_diff("0::/a\n", "0::/b\n", 0, collect, out), 1);
        assert_string_equal(out, "[]/a ");
}

static void test_nothing_moved(void **state)
{
        char out[1024] = "";

        (void) state;
        assert_int_equal(sbx_login_cgroup_diff(saved, saved, 1, collect, out), 0);
        assert_string_equal(out, "");
}

static void test_malformed(void **state)
{
        char out[1024] = "";

        (void) state;
        assert_int_equal(sbx_login_cgroup_diff("garbage\n", saved, 1, collect, out), -EBADMSG);
        assert_int_equal(sbx_login_cgroup_diff("4:memory:relative\n", saved, 1, collect, out),
                         -EBADMSG);
        assert_int_equal(
            sbx_login_cgroup_diff("4:memory:/a/../b\n", "4:memory:/c\n", 1, collect, out),
            -EBADMSG);
        assert_int_equal(
            sbx_login_cgroup_diff("4:name=a/b:/a\n", "4:name=a/b:/c\n", 1, collect, out), -EBADMSG);
        assert_string_equal(out, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_only_moved_hierarchies),
            cmocka_unit_test(test_named_and_unified),
            cmocka_unit_test(test_nothing_moved),
            cmocka_unit_test(test_malformed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
