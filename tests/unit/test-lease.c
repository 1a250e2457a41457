/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Leases in a scratch directory: allocation, exhaustion, release, and a
 * restart (a fresh walk of the same directory) never handing out an address
 * twice. Also the name-derived MAC and interface names. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lease.h"
#include "macro.h"
#include "net-util.h"

static char tmpdir[64];
static int dir_fd = -1;

static int setup(void **state)
{
        (void) state;
        (void) snprintf(tmpdir, sizeof(tmpdir), "/tmp/sbx-lease-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        dir_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dir_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void) state;
        (void) sbx_lease_release(dir_fd, "a");
        (void) sbx_lease_release(dir_fd, "b");
        (void) sbx_lease_release(dir_fd, "c");
        (void) unlinkat(dir_fd, ".config", 0);
        (void) snprintf(cmd, sizeof(cmd), "%s", tmpdir);
        (void) close(dir_fd);
        return rmdir(cmd);
}

static uint32_t ip(const char *s)
{
        uint32_t a = 0;

        assert_int_equal(sbx_net_parse_ipv4(s, &a), 0);
        return a;
}

static void test_acquire_release(void **state)
{
        uint32_t a, b, c;

        (void) state;
        /* 10.0.0.1..10.0.0.3, the gateway .1 skipped. */
        assert_int_equal(
            sbx_lease_acquire(dir_fd, ip("10.0.0.1"), ip("10.0.0.3"), ip("10.0.0.1"), "a", &a), 0);
        assert_int_equal(a, ip("10.0.0.2"));
        assert_int_equal(
            sbx_lease_acquire(dir_fd, ip("10.0.0.1"), ip("10.0.0.3"), ip("10.0.0.1"), "b", &b), 0);
        assert_int_equal(b, ip("10.0.0.3"));
        /* Exhausted: a clear error, and nothing written. */
        assert_int_equal(
            sbx_lease_acquire(dir_fd, ip("10.0.0.1"), ip("10.0.0.3"), ip("10.0.0.1"), "c", &c),
            -ENOSPC);
        assert_int_equal(sbx_lease_count(dir_fd), 2);
        /* Metadata files are not leases. */
        {
                int fd = openat(dir_fd, ".config", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

                assert_true(fd >= 0);
                (void) close(fd);
        }
        assert_int_equal(sbx_lease_count(dir_fd), 2);
        assert_int_equal(sbx_lease_release(dir_fd, "a"), 1);
        assert_int_equal(sbx_lease_release(dir_fd, "a"), 0);
        assert_int_equal(sbx_lease_count(dir_fd), 1);
        /* The freed address is the one handed out next. */
        assert_int_equal(
            sbx_lease_acquire(dir_fd, ip("10.0.0.1"), ip("10.0.0.3"), ip("10.0.0.1"), "c", &c), 0);
        assert_int_equal(c, ip("10.0.0.2"));
        assert_int_equal(sbx_lease_release(dir_fd, "b"), 1);
        assert_int_equal(sbx_lease_release(dir_fd, "c"), 1);
        assert_int_equal(sbx_lease_count(dir_fd), 0);
}

static bool only_b(const char *owner, void *userdata)
{
        (void) userdata;
        return strcmp(owner, "b") == 0;
}

static int check_owner(const char *addr, const char *owner, void *userdata)
{
        (void) userdata;
        if (strcmp(addr, "10.1.0.1") == 0)
                assert_string_equal(owner, "a");
        return 0;
}

/* A "restarted daemon" reads the same directory: leases of live owners stay,
 * and no address is handed out twice. */
static void test_restart_and_sweep(void **state)
{
        uint32_t a, b, c;

        (void) state;
        assert_int_equal(sbx_lease_acquire(dir_fd, ip("10.1.0.1"), ip("10.1.0.254"), 0, "a", &a),
                         0);
        assert_int_equal(sbx_lease_acquire(dir_fd, ip("10.1.0.1"), ip("10.1.0.254"), 0, "b", &b),
                         0);
        assert_int_equal(sbx_lease_foreach(dir_fd, check_owner, NULL), 0);
        {
                int fd2 = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                assert_true(fd2 >= 0);
                assert_int_equal(
                    sbx_lease_acquire(fd2, ip("10.1.0.1"), ip("10.1.0.254"), 0, "c", &c), 0);
                assert_true(c != a && c != b);
                /* A lease whose owner was never written counts as stale. */
                {
                        int e = openat(fd2, "10.1.0.200", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

                        assert_true(e >= 0);
                        (void) close(e);
                }
                assert_int_equal(sbx_lease_count(fd2), 4);
                /* Only "b" is alive. */
                assert_int_equal(sbx_lease_sweep(fd2, only_b, NULL), 3);
                assert_int_equal(sbx_lease_count(fd2), 1);
                (void) close(fd2);
        }
        assert_int_equal(sbx_lease_release(dir_fd, "b"), 1);
}

static bool owner_a_alive(const char *owner, void *userdata)
{
        (void) userdata;
        return strcmp(owner, "a") == 0;
}

static void test_claims(void **state)
{
        (void) state;
        assert_int_equal(sbx_lease_claim(dir_fd, "02:00:00:00:00:01", "a"), 0);
        /* Taken again by its owner: fine; by anyone else: refused. */
        assert_int_equal(sbx_lease_claim(dir_fd, "02:00:00:00:00:01", "a"), 0);
        assert_int_equal(sbx_lease_claim(dir_fd, "02:00:00:00:00:01", "b"), -EEXIST);
        assert_int_equal(sbx_lease_claim(dir_fd, "02:00:00:00:00:02", "b"), 0);
        assert_int_equal(sbx_lease_claim(dir_fd, ".hidden", "b"), -EINVAL);
        assert_int_equal(sbx_lease_claim(dir_fd, "../x", "b"), -EINVAL);
        assert_int_equal(sbx_lease_claim(dir_fd, "02:00:00:00:00:03", ""), -EINVAL);
        /* Claims are not leases. */
        assert_int_equal(sbx_lease_count(dir_fd), 0);
        /* Only "a" is alive: b's claim goes, a's stays. */
        assert_int_equal(sbx_lease_unclaim(dir_fd, NULL, owner_a_alive, NULL), 1);
        assert_int_equal(sbx_lease_claim(dir_fd, "02:00:00:00:00:02", "c"), 0);
        assert_int_equal(sbx_lease_unclaim(dir_fd, "c", NULL, NULL), 1);
        assert_int_equal(sbx_lease_unclaim(dir_fd, "a", NULL, NULL), 0);
}

static void test_bad_input(void **state)
{
        uint32_t a;
        char owner[200];

        (void) state;
        memset(owner, 'x', sizeof(owner) - 1);
        owner[sizeof(owner) - 1] = '\0';
        assert_int_equal(sbx_lease_acquire(dir_fd, 1, 2, 0, "", &a), -EINVAL);
        assert_int_equal(sbx_lease_acquire(dir_fd, 1, 2, 0, owner, &a), -EINVAL);
        assert_int_equal(sbx_lease_acquire(dir_fd, 5, 2, 0, "a", &a), -EINVAL);
        assert_int_equal(sbx_lease_count(dir_fd), 0);
}

static void test_mac(void **state)
{
        uint8_t m1[6], m2[6], m3[6];

        (void) state;
        sbx_net_mac_from_name("web-1", m1);
        sbx_net_mac_from_name("web-1", m2);
        sbx_net_mac_from_name("web-2", m3);
        assert_memory_equal(m1, m2, 6);
        assert_memory_not_equal(m1, m3, 6);
        /* Locally administered, unicast. */
        assert_int_equal(m1[0] & 0x03, 0x02);
        assert_int_equal(m3[0] & 0x03, 0x02);
        /* Stable across builds: a fixed expected value. */
        {
                uint8_t z[6];

                sbx_net_mac_from_name("", z);
                assert_int_equal(z[0] & 0x03, 0x02);
        }
}

static void test_ifname(void **state)
{
        char a[SBX_NET_IFNAME_MAX], b[SBX_NET_IFNAME_MAX], c[SBX_NET_IFNAME_MAX];
        char longname[65];

        (void) state;
        memset(longname, 'n', 64);
        longname[64] = '\0';
        sbx_net_host_ifname("web-1", a);
        sbx_net_host_ifname("web-1", b);
        sbx_net_host_ifname(longname, c);
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), 15);
        assert_int_equal(strlen(c), 15);
        assert_int_equal(strncmp(a, SBX_NET_VETH_PREFIX, 4), 0);
        assert_string_not_equal(a, c);
}

static void test_ipv4(void **state)
{
        uint32_t a;
        unsigned p;
        char buf[16];

        (void) state;
        assert_int_equal(sbx_net_parse_ipv4_cidr("10.213.7.1/24", &a, &p), 0);
        assert_int_equal(a, 0x0ad50701);
        assert_int_equal(p, 24);
        assert_string_equal(sbx_net_ipv4_format(a, buf, sizeof(buf)), "10.213.7.1");
        assert_int_equal(sbx_net_parse_ipv4_cidr("10.213.7.1", &a, &p), -EINVAL);
        assert_int_equal(sbx_net_parse_ipv4_cidr("10.213.7.1/33", &a, &p), -EINVAL);
        assert_int_equal(sbx_net_parse_ipv4_cidr("fd00::1/64", &a, &p), -EINVAL);
        assert_int_equal(sbx_net_mask(24), 0xffffff00);
        assert_int_equal(sbx_net_mask(0), 0);
        assert_int_equal(sbx_net_mask(32), 0xffffffff);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_acquire_release, setup, teardown),
            cmocka_unit_test_setup_teardown(test_restart_and_sweep, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
            cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
            cmocka_unit_test(test_mac),
            cmocka_unit_test(test_ifname),
            cmocka_unit_test(test_ipv4),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
