/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network file parser tests. Golden cases in tests/unit/netconf/: NAME.ini with
 * NAME.expected (sbx_netconf_dump()) or NAME.error (the one-line message).
 * SBX_TEST_REGENERATE=1 rewrites them; review the diff.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "netconf.h"

static char *read_text(const char *path)
{
        cleanup_fclose FILE *f = fopen(path, "re");
        char *buf;
        size_t n;

        if (!f)
                return NULL;
        buf = calloc(1, 65536);
        assert_non_null(buf);
        n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        return buf;
}

static void write_text(const char *path, const char *text)
{
        cleanup_fclose FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
}

static const char *data_dir(void)
{
        static char dir[PATH_MAX];
        char exe[PATH_MAX];
        struct stat st;
        ssize_t n;

        (void) snprintf(dir, sizeof(dir), "%s", __FILE__);
        (void) snprintf(dir, sizeof(dir), "%s/netconf", dirname(dir));
        if (stat(dir, &st) == 0)
                return dir;
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                (void) snprintf(dir, sizeof(dir), "%s/../../tests/unit/netconf", dirname(exe));
        }
        return dir;
}

static void test_golden(void **state)
{
        const char *dir = data_dir();
        const char *regen = getenv("SBX_TEST_REGENERATE");
        bool regenerate = regen && *regen && strcmp(regen, "0") != 0;
        struct dirent **entries = NULL;
        unsigned good = 0, bad = 0, failed = 0;
        int n;

        (void) state;
        n = scandir(dir, &entries, NULL, alphasort);
        if (n < 0)
                fail_msg("cannot read %s: %s", dir, strerror(errno));
        for (int i = 0; i < n; i++) {
                const char *ent = entries[i]->d_name;
                size_t k = strlen(ent);
                cleanup_free char *name = NULL, *path = NULL, *text = NULL, *exp_path = NULL,
                                  *err_path = NULL, *expected = NULL, *want = NULL, *dump = NULL,
                                  *error = NULL;
                cleanup_(sbx_netconf_freep) struct sbx_netconf *c = NULL;
                int r;

                if (k < 5 || strcmp(ent + k - 4, ".ini") != 0)
                        continue;
                name = strndup(ent, k - 4);
                assert_non_null(name);
                assert_true(asprintf(&path, "%s/%s", dir, ent) > 0);
                assert_true(asprintf(&exp_path, "%s/%s.expected", dir, name) > 0);
                assert_true(asprintf(&err_path, "%s/%s.error", dir, name) > 0);
                text = read_text(path);
                assert_non_null(text);
                r = sbx_netconf_parse_string(text, strlen(text), name, ent, &c, &error);
                if (r >= 0) {
                        cleanup_(sbx_netconf_freep) struct sbx_netconf *c2 = NULL;
                        cleanup_free char *dump2 = NULL;

                        good++;
                        assert_int_equal(sbx_netconf_dump(c, &dump), 0);
                        /* The dump parses back to itself. */
                        assert_int_equal(
                            sbx_netconf_parse_string(dump, strlen(dump), name, ent, &c2, NULL), 0);
                        assert_int_equal(sbx_netconf_dump(c2, &dump2), 0);
                        assert_string_equal(dump, dump2);
                } else {
                        bad++;
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(error);
                }
                if (regenerate) {
                        cleanup_free char *line = NULL;

                        assert_true(asprintf(&line, "%s\n", r >= 0 ? dump : error) > 0);
                        if (r >= 0)
                                line[strlen(line) - 1] = '\0';
                        write_text(r >= 0 ? exp_path : err_path, line);
                        (void) unlink(r >= 0 ? err_path : exp_path);
                        continue;
                }
                expected = read_text(exp_path);
                want = read_text(err_path);
                if (want && *want && want[strlen(want) - 1] == '\n')
                        want[strlen(want) - 1] = '\0';
                if ((r >= 0 && (!expected || strcmp(expected, dump) != 0)) ||
                    (r < 0 && (!want || strcmp(want, error) != 0))) {
                        print_error("%s: got %s\n", ent, r >= 0 ? dump : error);
                        failed++;
                }
        }
        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);
        print_message("golden network files: %u good, %u bad, %u failed\n", good, bad, failed);
        assert_int_equal(failed, 0);
        assert_true(good >= 2);
        assert_true(bad >= 8);
}

static void test_range(void **state)
{
        cleanup_(sbx_netconf_freep) struct sbx_netconf *c = NULL;
        static const char text[] = "[Network]\nBridge=sbx0\nAddress=10.213.7.1/24\n";
        uint32_t first, last;

        (void) state;
        assert_int_equal(sbx_netconf_parse_string(text, sizeof(text) - 1, "n", "n.ini", &c, NULL),
                         0);
        assert_false(c->nat);
        assert_null(c->outbound);
        sbx_netconf_range(c, &first, &last);
        assert_int_equal(first, 0x0ad50701);
        assert_int_equal(last, 0x0ad507fe);
}

static void test_bytes(void **state)
{
        static const char nul[] = "[Network]\nBridge=a\0b\nAddress=10.0.0.1/24\n";
        cleanup_(sbx_netconf_freep) struct sbx_netconf *c = NULL;
        cleanup_free char *err = NULL, *big = calloc(1, SBX_NETCONF_MAX_SIZE + 2);

        (void) state;
        assert_int_equal(sbx_netconf_parse_string(nul, sizeof(nul) - 1, "n", "n.ini", &c, &err),
                         -EINVAL);
        assert_string_equal(err, "n.ini:0: contains a NUL byte");
        free(err);
        err = NULL;
        assert_non_null(big);
        memset(big, '#', SBX_NETCONF_MAX_SIZE + 1);
        assert_int_equal(
            sbx_netconf_parse_string(big, SBX_NETCONF_MAX_SIZE + 1, "n", "n.ini", &c, &err),
            -EINVAL);
        assert_non_null(strstr(err, "larger than"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_golden),
            cmocka_unit_test(test_range),
            cmocka_unit_test(test_bytes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
