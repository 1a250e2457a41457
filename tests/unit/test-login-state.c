/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state file a restarted daemon takes login containers back from. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "login-state.h"

static void test_roundtrip(void **state)
{
        struct sbx_login_state_session ss[2] = {
            {.pid = 10,
             .starttime = 123,
             .start_time = 1700000000,
             .service = (char *) "sshd",
             .tty = (char *) "ssh",
             .rhost = (char *) "10.0.0.1 evil\nnewline",
             .orig_cgroup = (char *) "4:memory:/a\n0::/\n"},
            {.pid = 11,
             .starttime = 124,
             .start_time = 1700000001,
             .service = (char *) "",
             .tty = NULL,
             .rhost = NULL,
             .orig_cgroup = NULL},
        };
        struct sbx_login_state in = {.name = (char *) "login-alice",
                                     .user = (char *) "alice",
                                     .policy = (char *) "login",
                                     .cgroup = (char *) "login-alice.0badcafe",
                                     .uid = 1001,
                                     .linger_usec = 30000000,
                                     .max_sessions = 7,
                                     .init_pid = 4242,
                                     .init_starttime = 99,
                                     .ns_flags = 0x6e020000,
                                     .start_time = 1699999999,
                                     .sessions = ss,
                                     .n_sessions = 2};
        struct sbx_login_state out;
        char *text = NULL;

        (void) state;
        assert_int_equal(sbx_login_state_format(&in, &text), 0);
        assert_int_equal(sbx_login_state_parse(text, &out), 0);
        assert_string_equal(out.name, "login-alice");
        assert_string_equal(out.cgroup, "login-alice.0badcafe");
        assert_int_equal(out.uid, 1001);
        assert_int_equal(out.linger_usec, 30000000);
        assert_int_equal(out.max_sessions, 7);
        assert_int_equal(out.init_pid, 4242);
        assert_int_equal(out.init_starttime, 99);
        assert_int_equal(out.ns_flags, 0x6e020000);
        assert_int_equal(out.n_sessions, 2);
        assert_string_equal(out.sessions[0].rhost, "10.0.0.1 evil\nnewline");
        assert_string_equal(out.sessions[0].orig_cgroup, "4:memory:/a\n0::/\n");
        assert_string_equal(out.sessions[1].service, "");
        assert_null(out.sessions[1].tty);
        sbx_login_state_done(&out);
        free(text);

        /* No cgroup, no session limit (nor a "maxsessions" line, as an
         * older daemon wrote it). */
        in.cgroup = NULL;
        in.n_sessions = 0;
        in.max_sessions = 0;
        assert_int_equal(sbx_login_state_format(&in, &text), 0);
        assert_null(strstr(text, "maxsessions"));
        assert_int_equal(sbx_login_state_parse(text, &out), 0);
        assert_int_equal(out.max_sessions, 0);
        assert_null(out.cgroup);
        assert_int_equal(out.n_sessions, 0);
        sbx_login_state_done(&out);
        free(text);
}

static void test_bad(void **state)
{
        static const char good[] = "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\n"
                                   "uid 1\nlinger 0\ninit 5 6\nnsflags 0\nstart 7\n";
        static const char *const bad[] = {
            "",
            "lxsandbox-login 2\n",
            /* missing start */
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\n",
            /* duplicate */
            "lxsandbox-login 1\nname 61\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\n"
            "linger 0\ninit 5 6\nnsflags 0\nstart 7\n",
            /* odd hex, a NUL byte, upper case */
            "lxsandbox-login 1\nname 6\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\n",
            "lxsandbox-login 1\nname 6100\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\n",
            "lxsandbox-login 1\nname 6A\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\n",
            /* pid 0, negative, no newline at the end, unknown key, session with 7 words */
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 0 6\nnsflags 0\nstart 7\n",
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init -5 6\nnsflags 0\nstart 7\n",
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7",
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\nextra 1\n",
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\nsession 1 2 3 - - -\n",
            /* maxsessions 0, or twice */
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\nmaxsessions 0\n",
            "lxsandbox-login 1\nname 61\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\nmaxsessions 2\nmaxsessions 2\n",
            /* name "-" (none) */
            "lxsandbox-login 1\nname -\nuser 61\npolicy 61\ncgroup -\nuid 1\nlinger 0\n"
            "init 5 6\nnsflags 0\nstart 7\n",
        };
        struct sbx_login_state out;

        (void) state;
        assert_int_equal(sbx_login_state_parse(good, &out), 0);
        sbx_login_state_done(&out);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = sbx_login_state_parse(bad[i], &out);

                if (r != -EBADMSG)
                        fail_msg("case %zu parsed (%d)", i, r);
        }
}

static void test_starttime(void **state)
{
        unsigned long long a = 0;
        uint64_t b = 0;

        (void) state;
        assert_int_equal(sbx_login_pid_starttime(getpid(), &b), 0);
        assert_true(b > 0);
        a = b;
        assert_int_equal(sbx_login_pid_starttime(getpid(), &b), 0);
        assert_true(a == b);
        assert_int_equal(sbx_login_pid_starttime(0x3ffffff0, &b), -ESRCH);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip),
            cmocka_unit_test(test_bad),
            cmocka_unit_test(test_starttime),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
