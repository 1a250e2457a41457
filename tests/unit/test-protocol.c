/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fd-util.h"
#include "macro.h"
#include "protocol.h"

/* Encodes B and decodes a private copy of the bytes. */
static int roundtrip(struct sbx_msg_builder *b, struct sbx_msg *ret)
{
        const void *data;
        size_t len;
        void *copy;
        int r;

        assert_int_equal(sbx_msg_bytes(b, &data, &len), 0);
        copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, data, len);
        r = sbx_msg_decode(copy, len, ret);
        if (r < 0)
                free(copy);
        return r;
}

static void test_run_roundtrip(void **state)
{
        const char *argv[] = {"sh", "-c", "echo hi"};
        const char *env[] = {"A=1", "TERM=xterm"};
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_RUN);
        struct sbx_msg m;

        (void) state;
        assert_non_null(b);
        assert_int_equal(sbx_msg_put_string(b, SBX_A_POLICY, "default"), 0);
        assert_int_equal(sbx_msg_put_strv(b, SBX_A_ARGV, argv, 3), 0);
        assert_int_equal(sbx_msg_put_strv(b, SBX_A_ENV, env, 2), 0);
        assert_int_equal(sbx_msg_put_u32(b, SBX_A_FLAGS, SBX_RUN_TTY_STDIN), 0);
        assert_int_equal(sbx_msg_put_string(b, SBX_A_CWD, "/home/x"), 0);
        assert_int_equal(roundtrip(b, &m), 0);
        assert_int_equal(m.type, SBX_MSG_RUN);
        assert_string_equal(m.policy, "default");
        assert_int_equal(m.argc, 3);
        assert_string_equal(m.argv[2], "echo hi");
        assert_null(m.argv[3]);
        assert_int_equal(m.envc, 2);
        assert_string_equal(m.env[1], "TERM=xterm");
        assert_int_equal(m.flags, SBX_RUN_TTY_STDIN);
        assert_string_equal(m.cwd, "/home/x");
        assert_true(sbx_msg_has(&m, SBX_A_CWD));
        assert_false(sbx_msg_has(&m, SBX_A_NAME));
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);
}

static void test_missing_required(void **state)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_RUN);
        struct sbx_msg m;

        (void) state;
        (void) sbx_msg_put_string(b, SBX_A_POLICY, "default");
        /* No ARGV, no FLAGS. */
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_empty_argv(void **state)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_RUN);
        struct sbx_msg m;

        (void) state;
        (void) sbx_msg_put_string(b, SBX_A_POLICY, "default");
        (void) sbx_msg_put_strv(b, SBX_A_ARGV, NULL, 0);
        (void) sbx_msg_put_u32(b, SBX_A_FLAGS, 0);
        /* Found by the fuzzer: a RUN with no command must not decode. */
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_attr_not_allowed(void **state)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_LIST);
        struct sbx_msg m;

        (void) state;
        /* A client may not smuggle credentials into a request. */
        (void) sbx_msg_put_u32(b, SBX_A_UID, 0);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_duplicate_attr(void **state)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_INFO);
        struct sbx_msg m;

        (void) state;
        (void) sbx_msg_put_string(b, SBX_A_NAME, "a");
        (void) sbx_msg_put_string(b, SBX_A_NAME, "b");
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_bad_strings(void **state)
{
        static const char unterminated[] = {'a', 'b'};
        static const char embedded[] = {'a', '\0', 'b', '\0'};
        struct sbx_msg_builder *b;
        struct sbx_msg m;

        (void) state;
        b = sbx_msg_new(SBX_MSG_INFO);
        (void) sbx_msg_put_binary(b, SBX_A_NAME, unterminated, sizeof(unterminated));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);

        b = sbx_msg_new(SBX_MSG_INFO);
        (void) sbx_msg_put_binary(b, SBX_A_NAME, embedded, sizeof(embedded));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);

        b = sbx_msg_new(SBX_MSG_INFO);
        (void) sbx_msg_put_binary(b, SBX_A_NAME, "", 0);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_bad_u32_len(void **state)
{
        uint16_t v = 1;
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_SIGNAL);
        struct sbx_msg m;

        (void) state;
        (void) sbx_msg_put_binary(b, SBX_A_SIGNAL, &v, sizeof(v));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_header_checks(void **state)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_OK);
        const void *data;
        size_t len;
        unsigned char buf[256];
        struct sbx_msg m;

        (void) state;
        assert_int_equal(sbx_msg_bytes(b, &data, &len), 0);
        assert_true(len <= sizeof(buf));

        memcpy(buf, data, len);
        assert_int_equal(sbx_msg_decode(buf, len - 1, &m), -EBADMSG); /* length mismatch */
        assert_int_equal(sbx_msg_decode(buf, 3, &m), -EBADMSG);       /* too short */

        memcpy(buf, data, len);
        ((struct nlmsghdr *) buf)->nlmsg_type = 999;
        assert_int_equal(sbx_msg_decode(buf, len, &m), -EBADMSG);

        memcpy(buf, data, len);
        ((struct sbx_wire_hdr *) (buf + NLMSG_HDRLEN))->version = 2;
        assert_int_equal(sbx_msg_decode(buf, len, &m), -EPROTONOSUPPORT);

        /* Trailing junk that is not an attribute. */
        memcpy(buf, data, len);
        buf[len] = 0xff;
        ((struct nlmsghdr *) buf)->nlmsg_len = (uint32_t) len + 1;
        assert_int_equal(sbx_msg_decode(buf, len + 1, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

/* Random bytes must never crash the decoder, and never decode into a message
 * that violates its own type's rules. */
static void test_garbage(void **state)
{
        unsigned seed = 12345;

        (void) state;
        for (int i = 0; i < 20000; i++) {
                size_t len = (size_t) (rand_r(&seed) % 200);
                unsigned char *buf = malloc(len + 1);
                struct sbx_msg m;

                for (size_t k = 0; k < len; k++)
                        buf[k] = (unsigned char) rand_r(&seed);
                if (len >= 4)
                        memcpy(buf, &(uint32_t){(uint32_t) len}, 4);
                if (sbx_msg_decode(buf, len, &m) == 0)
                        sbx_msg_done(&m);
                else
                        free(buf);
        }
}

static void test_fd_passing(void **state)
{
        int sp[2], fds[SBX_MAX_FDS], pass[2];
        size_t n_fds = 0;
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_OK);
        struct sbx_msg m;

        (void) state;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
        assert_int_equal(pipe2(pass, O_CLOEXEC), 0);
        assert_int_equal(sbx_msg_send(sp[0], b, pass, 2), 0);
        /* More fds than the receiver accepts: message refused, fds closed. */
        assert_int_equal(sbx_msg_recv(sp[1], 4096, &m, fds, 1, &n_fds), -EMSGSIZE);

        assert_int_equal(sbx_msg_send(sp[0], b, pass, 2), 0);
        assert_int_equal(sbx_msg_recv(sp[1], 4096, &m, fds, 2, &n_fds), 1);
        assert_int_equal(n_fds, 2);
        assert_int_equal(m.type, SBX_MSG_OK);
        assert_int_equal(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        sbx_msg_done(&m);
        sbx_close_many(fds, 2);

        /* Larger than the receiver's cap. */
        assert_int_equal(sbx_msg_send(sp[0], b, NULL, 0), 0);
        assert_int_equal(sbx_msg_recv(sp[1], 8, &m, NULL, 0, NULL), -EMSGSIZE);

        close(sp[0]);
        assert_int_equal(sbx_msg_recv(sp[1], 4096, &m, NULL, 0, NULL), 0);
        close(sp[1]);
        sbx_close_many(pass, 2);
        sbx_msg_builder_free(b);
}

static void test_error_names(void **state)
{
        (void) state;
        for (int e = SBX_ERR_INTERNAL; e < SBX_ERR_COUNT; e++)
                assert_non_null(sbx_err_to_string((enum sbx_err) e));
        assert_null(sbx_err_to_string(SBX_ERR_COUNT));
        assert_string_equal(sbx_msg_type_to_string(SBX_MSG_RUN), "RUN");
        assert_null(sbx_msg_type_to_string(SBX_MSG_TYPE_END));
}

static void test_stats_roundtrip(void **state)
{
        struct sbx_wire_stats st = {.have = SBX_STATS_HAVE_CPU | SBX_STATS_HAVE_TASKS,
                                    .cgroup_version = 1,
                                    .cpu_usage_ns = 123456789,
                                    .tasks_current = 3,
                                    .tasks_max = UINT64_MAX};
        uint64_t percpu[3] = {1, 2, 123456786};
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        struct sbx_msg m;

        (void) state;
        assert_int_equal(sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st)), 0);
        assert_int_equal(sbx_msg_put_binary(b, SBX_A_CPU_PERCPU, percpu, sizeof(percpu)), 0);
        assert_int_equal(roundtrip(b, &m), 0);
        assert_int_equal(m.type, SBX_MSG_STATS_REPLY);
        assert_int_equal(m.stats.have, SBX_STATS_HAVE_CPU | SBX_STATS_HAVE_TASKS);
        assert_int_equal(m.stats.cpu_usage_ns, 123456789);
        assert_true(m.stats.tasks_max == UINT64_MAX);
        assert_int_equal(m.n_percpu, 3);
        assert_int_equal(m.percpu[2], 123456786);
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);

        /* Without the per-CPU array (cgroup v2). */
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        st.cgroup_version = 2;
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st));
        assert_int_equal(roundtrip(b, &m), 0);
        assert_null(m.percpu);
        assert_int_equal(m.n_percpu, 0);
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);
}

/* Network counters alone (a container without a cgroup), with the cgroup's,
 * and a NETWORK reply; per-CPU figures without STATS are refused. */
static void test_net_stats(void **state)
{
        struct sbx_wire_net_stats ns = {
            .rx_bytes = 1, .rx_packets = 2, .tx_bytes = 3, .tx_packets = 4};
        struct sbx_wire_stats st = {.cgroup_version = 1};
        uint64_t percpu[1] = {1};
        const char *lines[] = {"Bridge=sbx0", "State=active"};
        struct sbx_msg_builder *b;
        struct sbx_msg m;

        (void) state;
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        (void) sbx_msg_put_binary(b, SBX_A_NET_STATS, &ns, sizeof(ns));
        assert_int_equal(roundtrip(b, &m), 0);
        assert_memory_equal(&m.net_stats, &ns, sizeof(ns));
        assert_false(sbx_msg_has(&m, SBX_A_STATS));
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st));
        (void) sbx_msg_put_binary(b, SBX_A_NET_STATS, &ns, sizeof(ns));
        assert_int_equal(roundtrip(b, &m), 0);
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        (void) sbx_msg_put_binary(b, SBX_A_NET_STATS, &ns, sizeof(ns));
        (void) sbx_msg_put_binary(b, SBX_A_CPU_PERCPU, percpu, sizeof(percpu));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        (void) sbx_msg_put_binary(b, SBX_A_NET_STATS, &ns, sizeof(ns) - 8);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_NETWORK);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "lab");
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, lines, 2);
        assert_int_equal(roundtrip(b, &m), 0);
        assert_string_equal(m.name, "lab");
        assert_int_equal(m.n_settings, 2);
        assert_string_equal(m.settings[1], "State=active");
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);
        /* A destroy request names its network. */
        b = sbx_msg_new(SBX_MSG_NETWORK_DESTROY);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_stats_bad(void **state)
{
        struct sbx_wire_stats st = {.cgroup_version = 1};
        uint64_t percpu[2] = {1, 2};
        struct sbx_msg_builder *b;
        struct sbx_msg m;

        (void) state;
        /* STATS is required in a reply, and its size is exact. */
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        (void) sbx_msg_put_binary(b, SBX_A_CPU_PERCPU, percpu, sizeof(percpu));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st) - 8);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        /* Unknown "have" bits, a bad version, a partial per-CPU value. */
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        st.have = 1u << 31;
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        st.have = 0;
        st.cgroup_version = 3;
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        st.cgroup_version = 2;
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st));
        (void) sbx_msg_put_binary(b, SBX_A_CPU_PERCPU, percpu, 12);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        /* A client may not send a reply's attributes in its request, nor
         * anything in the controller request. */
        b = sbx_msg_new(SBX_MSG_STATS);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "x");
        (void) sbx_msg_put_binary(b, SBX_A_STATS, &st, sizeof(st));
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_STATS);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_CTL_STATS);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "x");
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
}

static void test_set_roundtrip(void **state)
{
        const char *settings[] = {"TasksMax=8", "MemoryMax=64M"};
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_SET);
        struct sbx_msg m;

        (void) state;
        (void) sbx_msg_put_string(b, SBX_A_NAME, "c1");
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, settings, 2);
        assert_int_equal(roundtrip(b, &m), 0);
        assert_int_equal(m.n_settings, 2);
        assert_string_equal(m.settings[1], "MemoryMax=64M");
        assert_null(m.settings[2]);
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);

        /* Empty settings, a missing name, too many settings. */
        b = sbx_msg_new(SBX_MSG_SET);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "c1");
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, settings, 0);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_SET);
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, settings, 2);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_CTL_SET);
        {
                const char *many[SBX_SETTINGS_MAX + 1];

                for (size_t i = 0; i < ELEMENTSOF(many); i++)
                        many[i] = "TasksMax=1";
                (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, many, ELEMENTSOF(many));
        }
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        /* The daemon forwards SETTINGS only; the reply names what was applied. */
        b = sbx_msg_new(SBX_MSG_CTL_SET);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "c1");
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, settings, 2);
        assert_int_equal(roundtrip(b, &m), -EBADMSG);
        sbx_msg_builder_free(b);
        b = sbx_msg_new(SBX_MSG_SET_REPLY);
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, settings, 1);
        assert_int_equal(roundtrip(b, &m), 0);
        assert_string_equal(sbx_msg_type_to_string((enum sbx_msg_type) m.type), "SET_REPLY");
        sbx_msg_done(&m);
        sbx_msg_builder_free(b);
}

/* roundtrip() and free the builder. */
static int rt(struct sbx_msg_builder *b, struct sbx_msg *ret)
{
        int r = roundtrip(b, ret);

        sbx_msg_builder_free(b);
        return r;
}

static void test_login_roundtrip(void **state)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_LOGIN_JOIN);
        struct sbx_msg m;

        (void) state;
        (void) sbx_msg_put_string(b, SBX_A_USER, "alice");
        (void) sbx_msg_put_string(b, SBX_A_SERVICE, "sshd");
        (void) sbx_msg_put_string(b, SBX_A_TTY, "ssh");
        (void) sbx_msg_put_string(b, SBX_A_RHOST, "127.0.0.1");
        assert_int_equal(rt(b, &m), 0);
        assert_string_equal(m.user, "alice");
        assert_string_equal(m.service, "sshd");
        assert_string_equal(m.tty, "ssh");
        assert_string_equal(m.rhost, "127.0.0.1");
        sbx_msg_done(&m);

        /* The user is required; a command line is not allowed. */
        b = sbx_msg_new(SBX_MSG_LOGIN_JOIN);
        (void) sbx_msg_put_string(b, SBX_A_SERVICE, "sshd");
        assert_int_equal(rt(b, &m), -EBADMSG);
        b = sbx_msg_new(SBX_MSG_LOGIN_JOIN);
        (void) sbx_msg_put_string(b, SBX_A_USER, "alice");
        (void) sbx_msg_put_strv(b, SBX_A_ARGV, (const char *[]){"sh"}, 1);
        assert_int_equal(rt(b, &m), -EBADMSG);

        b = sbx_msg_new(SBX_MSG_LOGIN_JOINED);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "login-alice");
        (void) sbx_msg_put_u32(b, SBX_A_NS_FLAGS, 0x7e020000);
        (void) sbx_msg_put_u32(b, SBX_A_INIT_PID, 42);
        assert_int_equal(rt(b, &m), 0);
        assert_int_equal(m.ns_flags, 0x7e020000);
        assert_int_equal(m.init_pid, 42);
        sbx_msg_done(&m);

        /* CLOSE carries nothing: the daemon knows the peer from the kernel. */
        b = sbx_msg_new(SBX_MSG_LOGIN_CLOSE);
        (void) sbx_msg_put_string(b, SBX_A_USER, "alice");
        assert_int_equal(rt(b, &m), -EBADMSG);

        b = sbx_msg_new(SBX_MSG_LOGIN_SESSION);
        (void) sbx_msg_put_string(b, SBX_A_NAME, "login-alice");
        (void) sbx_msg_put_string(b, SBX_A_USER, "alice");
        (void) sbx_msg_put_u32(b, SBX_A_PEER_PID, 7);
        assert_int_equal(rt(b, &m), 0);
        assert_int_equal(m.peer_pid, 7);
        sbx_msg_done(&m);
        assert_string_equal(sbx_msg_type_to_string(SBX_MSG_LOGIN_ENTER), "LOGIN_ENTER");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_run_roundtrip),   cmocka_unit_test(test_missing_required),
            cmocka_unit_test(test_empty_argv),      cmocka_unit_test(test_attr_not_allowed),
            cmocka_unit_test(test_duplicate_attr),  cmocka_unit_test(test_bad_strings),
            cmocka_unit_test(test_bad_u32_len),     cmocka_unit_test(test_header_checks),
            cmocka_unit_test(test_garbage),         cmocka_unit_test(test_fd_passing),
            cmocka_unit_test(test_error_names),     cmocka_unit_test(test_stats_roundtrip),
            cmocka_unit_test(test_stats_bad),       cmocka_unit_test(test_set_roundtrip),
            cmocka_unit_test(test_login_roundtrip), cmocka_unit_test(test_net_stats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
