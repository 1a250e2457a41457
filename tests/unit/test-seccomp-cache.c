/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/filter.h>

#include "policy.h"
#include "seccomp-cache.h"

static const char deny_text[] = "[Sandbox]\n[Security]\nSystemCallFilter = ~@default\n";
static const char other_text[] = "[Sandbox]\n[Security]\nSystemCallFilter = ~keyctl\n";

static struct sbx_policy *parse(const char *text)
{
        struct sbx_policy *p = NULL;
        char *err = NULL;

        if (sbx_policy_parse_string(text, strlen(text), "t", "t.ini", &p, &err) < 0)
                fail_msg("%s", err);
        return p;
}

static void test_cache_hits_and_misses(void **state)
{
        struct sbx_seccomp_cache *c = sbx_seccomp_cache_new();
        struct sbx_policy *a = parse(deny_text), *b = parse(other_text);
        const void *bpf1, *bpf2, *bpf3;
        size_t len1, len2, len3;

        (void) state;
        assert_non_null(c);
        assert_int_equal(sbx_seccomp_cache_get(c, a, deny_text, strlen(deny_text), &bpf1, &len1),
                         0);
        assert_true(len1 > 0 && len1 % sizeof(struct sock_filter) == 0);
        /* The same text: the same compiled program, not a new one. */
        assert_int_equal(sbx_seccomp_cache_get(c, a, deny_text, strlen(deny_text), &bpf2, &len2),
                         0);
        assert_ptr_equal(bpf1, bpf2);
        assert_int_equal(len1, len2);
        /* Another text (an edited policy): compiled anew, and it differs. */
        assert_int_equal(sbx_seccomp_cache_get(c, b, other_text, strlen(other_text), &bpf3, &len3),
                         0);
        assert_ptr_not_equal(bpf1, bpf3);
        assert_true(len3 < len1);
        sbx_policy_free(a);
        sbx_policy_free(b);
        sbx_seccomp_cache_free(c);
}

static void test_cache_eviction(void **state)
{
        struct sbx_seccomp_cache *c = sbx_seccomp_cache_new();
        struct sbx_policy *p = parse(deny_text);
        const void *bpf;
        size_t len;

        (void) state;
        /* More distinct texts than slots: old entries go, nothing leaks. */
        for (int i = 0; i < 100; i++) {
                char text[128];

                (void) snprintf(text, sizeof(text), "%s# %d\n", deny_text, i);
                assert_int_equal(sbx_seccomp_cache_get(c, p, text, strlen(text), &bpf, &len), 0);
        }
        sbx_policy_free(p);
        sbx_seccomp_cache_free(c);
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
            cmocka_unit_test(test_cache_hits_and_misses),
            cmocka_unit_test(test_cache_eviction),
        };
        if (!seccomp_available()) {
                printf("seccomp(2) is not available here (valgrind?): skipping\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
