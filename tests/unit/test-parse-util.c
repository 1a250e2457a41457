/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "parse-util.h"

static void test_boolean(void **state)
{
        static const char *const yes[] = {"yes", "YES", "true", "True", "on", "1"};
        static const char *const no[] = {"no", "No", "false", "FALSE", "off", "0"};
        static const char *const bad[] = {"", " yes", "yes ", "2", "y", "n", "enable", "10"};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                assert_int_equal(sbx_parse_boolean(yes[i]), 1);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                assert_int_equal(sbx_parse_boolean(no[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(sbx_parse_boolean(bad[i]), -EINVAL);
        assert_int_equal(sbx_parse_boolean(NULL), -EINVAL);
}

static void test_uint64(void **state)
{
        uint64_t v = 42;

        (void) state;
        assert_int_equal(sbx_parse_uint64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(sbx_parse_uint64("007", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(sbx_parse_uint64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        v = 42;
        assert_int_equal(sbx_parse_uint64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(sbx_parse_uint64("99999999999999999999999", &v), -ERANGE);
        /* A syntax error wins over overflow. */
        assert_int_equal(sbx_parse_uint64("99999999999999999999999x", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64("", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64("-1", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64("+1", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64(" 1", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64("1 ", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64("0x10", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64("1e3", &v), -EINVAL);
        assert_int_equal(sbx_parse_uint64(NULL, &v), -EINVAL);
        assert_int_equal(v, 42); /* untouched on failure */

        assert_int_equal(sbx_parse_uint64_range("1", 1, 10000, &v), 0);
        assert_int_equal(sbx_parse_uint64_range("10000", 1, 10000, &v), 0);
        assert_int_equal(sbx_parse_uint64_range("0", 1, 10000, &v), -ERANGE);
        assert_int_equal(sbx_parse_uint64_range("10001", 1, 10000, &v), -ERANGE);
        assert_int_equal(sbx_parse_uint64_range("x", 1, 10000, &v), -EINVAL);
}

static void test_size(void **state)
{
        uint64_t v = 0;

        (void) state;
        assert_int_equal(sbx_parse_size("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(sbx_parse_size("512", &v), 0);
        assert_int_equal(v, 512);
        assert_int_equal(sbx_parse_size("512B", &v), 0);
        assert_int_equal(v, 512);
        assert_int_equal(sbx_parse_size("64K", &v), 0);
        assert_int_equal(v, 64 * 1024);
        assert_int_equal(sbx_parse_size("512M", &v), 0);
        assert_int_equal(v, 512 * 1024 * 1024);
        assert_int_equal(sbx_parse_size("2G", &v), 0);
        assert_true(v == UINT64_C(2) << 30);
        assert_int_equal(sbx_parse_size("1T", &v), 0);
        assert_true(v == UINT64_C(1) << 40);
        assert_int_equal(sbx_parse_size("16777215T", &v), 0);
        assert_true(v == UINT64_C(16777215) << 40);
        assert_int_equal(sbx_parse_size("infinity", &v), 0);
        assert_true(v == SBX_SIZE_INFINITY);

        assert_int_equal(sbx_parse_size("16777216T", &v), -ERANGE);
        assert_int_equal(sbx_parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(sbx_parse_size("99999999999999999999G", &v), -ERANGE);
        assert_int_equal(sbx_parse_size("12Q", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("99999999999999999999Q", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("M", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("-1", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("-1M", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("1.5G", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("1 G", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("1g", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("1GB", &v), -EINVAL);
        assert_int_equal(sbx_parse_size("Infinity", &v), -EINVAL);
        assert_int_equal(sbx_parse_size(NULL, &v), -EINVAL);
}

static void test_percent(void **state)
{
        uint32_t v = 0;

        (void) state;
        assert_int_equal(sbx_parse_percent("150%", &v), 0);
        assert_int_equal(v, 150);
        assert_int_equal(sbx_parse_percent("0%", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(sbx_parse_percent("4294967295%", &v), 0);
        assert_int_equal(sbx_parse_percent("4294967296%", &v), -ERANGE);
        assert_int_equal(sbx_parse_percent("99999999999999999999999%", &v), -ERANGE);
        assert_int_equal(sbx_parse_percent("150", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("%", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("-5%", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("1.5%", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("50%%", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("50 %", &v), -EINVAL);
        assert_int_equal(sbx_parse_percent("abc", &v), -EINVAL);
}

static void test_duration(void **state)
{
        const uint64_t s = 1000000;
        uint64_t v = 0;

        (void) state;
        assert_int_equal(sbx_parse_duration("30s", &v), 0);
        assert_true(v == 30 * s);
        assert_int_equal(sbx_parse_duration("30", &v), 0);
        assert_true(v == 30 * s);
        assert_int_equal(sbx_parse_duration("5min", &v), 0);
        assert_true(v == 300 * s);
        assert_int_equal(sbx_parse_duration("5m", &v), 0);
        assert_true(v == 300 * s);
        assert_int_equal(sbx_parse_duration("1h", &v), 0);
        assert_true(v == 3600 * s);
        assert_int_equal(sbx_parse_duration("500ms", &v), 0);
        assert_true(v == 500000);
        assert_int_equal(sbx_parse_duration("250us", &v), 0);
        assert_true(v == 250);
        assert_int_equal(sbx_parse_duration("1h 30min", &v), 0);
        assert_true(v == 5400 * s);
        assert_int_equal(sbx_parse_duration("1h30min", &v), 0);
        assert_true(v == 5400 * s);
        assert_int_equal(sbx_parse_duration(" 2 d ", &v), 0);
        assert_true(v == 2 * UINT64_C(86400) * s);
        assert_int_equal(sbx_parse_duration("1w", &v), 0);
        assert_true(v == 7 * UINT64_C(86400) * s);
        assert_int_equal(sbx_parse_duration("0", &v), 0);
        assert_true(v == 0);
        assert_int_equal(sbx_parse_duration("infinity", &v), 0);
        assert_true(v == SBX_DURATION_INFINITY);

        assert_int_equal(sbx_parse_duration("", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("   ", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("s", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("-1s", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("5 parsecs", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("5S", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("1.5h", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("bogus", &v), -EINVAL);
        assert_int_equal(sbx_parse_duration("99999999999999999999s", &v), -ERANGE);
        assert_int_equal(sbx_parse_duration("99999999999w", &v), -ERANGE);
        assert_int_equal(sbx_parse_duration("18446744073709551615us", &v), -ERANGE);
        assert_int_equal(sbx_parse_duration("18446744073709551614us 1us", &v), -ERANGE);
        assert_int_equal(sbx_parse_duration(NULL, &v), -EINVAL);
}

static void check_cpus(const char *in, const char *want)
{
        struct sbx_cpu_set set;
        cleanup_free char *out = NULL;

        assert_int_equal(sbx_parse_cpu_list(in, &set), 0);
        assert_int_equal(sbx_cpu_set_format(&set, &out), 0);
        assert_string_equal(out, want);
}

static void test_cpu_list(void **state)
{
        static const char *const bad[] = {"",   " ", ",",     "0,",  ",0",    "0,,1", "1-",
                                          "-1", "a", "0-1-2", "0:1", "1 - 2", "0x1",  "1;2"};
        struct sbx_cpu_set set;

        (void) state;
        check_cpus("0", "0");
        check_cpus("0-1,3", "0-1,3");
        check_cpus("3,0-1", "0-1,3");
        check_cpus("0 1 2 5", "0-2,5");
        check_cpus("0, 2 ,4", "0,2,4");
        check_cpus("0-3,2-5", "0-5");
        check_cpus("63-64", "63-64");
        check_cpus("8191", "8191");
        check_cpus("0-8191", "0-8191");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (sbx_parse_cpu_list(bad[i], &set) != -EINVAL)
                        fail_msg("'%s' was not refused", bad[i]);
        assert_int_equal(sbx_parse_cpu_list("8192", &set), -ERANGE);
        assert_int_equal(sbx_parse_cpu_list("3-1", &set), -ERANGE);
        assert_int_equal(sbx_parse_cpu_list("0-99999999999999999999", &set), -ERANGE);
        assert_int_equal(sbx_parse_cpu_list("8192,x", &set), -EINVAL);
        assert_int_equal(sbx_parse_cpu_list(NULL, &set), -EINVAL);
        {
                struct sbx_cpu_set empty = {};
                cleanup_free char *out = NULL;

                assert_int_equal(sbx_cpu_set_format(&empty, &out), 0);
                assert_string_equal(out, "");
        }
        {
                /* Worst case for the formatter: every other CPU. */
                struct sbx_cpu_set alt = {};
                cleanup_free char *out = NULL;

                memset(alt.bits, 0x55, sizeof(alt.bits));
                assert_int_equal(sbx_cpu_set_format(&alt, &out), 0);
                assert_true(strncmp(out, "0,2,4,", 6) == 0);
                assert_non_null(strstr(out, ",8190"));
        }
}

static void check_path(const char *in, unsigned flags, const char *want)
{
        cleanup_free char *out = NULL;

        assert_int_equal(sbx_path_normalize(in, flags, &out), 0);
        assert_string_equal(out, want);
}

static void test_path(void **state)
{
        static const char *const bad[] = {
            "",       "usr",    "./usr", "/usr/../etc", "/..",     "/.",
            "/usr/.", "/a/./b", "//",    "//usr",       "/usr//b", "/usr//",
            "~/x",    "%h",     "%h/x",  "/a\nb",       "/a\tb",   "/a\x7f",
        };
        char long_path[PATH_MAX + 2];
        char *out = NULL;

        (void) state;
        check_path("/", 0, "/");
        check_path("/usr", 0, "/usr");
        check_path("/usr/", 0, "/usr");
        check_path("/usr/lib/x86_64-linux-gnu", 0, "/usr/lib/x86_64-linux-gnu");
        check_path("/a b/..c/d..", 0, "/a b/..c/d..");
        check_path("/100%", 0, "/100%");
        check_path("%h", SBX_PATH_SPECIFIERS, "%h");
        check_path("%h/", SBX_PATH_SPECIFIERS, "%h");
        check_path("%h/src", SBX_PATH_SPECIFIERS, "%h/src");
        check_path("/home/%u/x", SBX_PATH_SPECIFIERS, "/home/%u/x");
        check_path("/run/user/%U", SBX_PATH_SPECIFIERS, "/run/user/%U");
        check_path("/100%%", SBX_PATH_SPECIFIERS, "/100%%");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (sbx_path_normalize(bad[i], 0, &out) != -EINVAL)
                        fail_msg("'%s' was not refused", bad[i]);
        assert_int_equal(sbx_path_normalize("%hx", SBX_PATH_SPECIFIERS, &out), -EINVAL);
        assert_int_equal(sbx_path_normalize("%u/x", SBX_PATH_SPECIFIERS, &out), -EINVAL);
        assert_int_equal(sbx_path_normalize("/a/%x", SBX_PATH_SPECIFIERS, &out), -EINVAL);
        assert_int_equal(sbx_path_normalize("/a/%", SBX_PATH_SPECIFIERS, &out), -EINVAL);
        assert_int_equal(sbx_path_normalize("%h/../x", SBX_PATH_SPECIFIERS, &out), -EINVAL);
        assert_int_equal(sbx_path_normalize(NULL, 0, &out), -EINVAL);

        long_path[0] = '/';
        memset(long_path + 1, 'a', PATH_MAX);
        long_path[PATH_MAX] = '\0'; /* strlen == PATH_MAX: one too many */
        assert_int_equal(sbx_path_normalize(long_path, 0, &out), -ERANGE);
        long_path[PATH_MAX - 1] = '\0';
        assert_int_equal(sbx_path_normalize(long_path, 0, &out), 0);
        free(out);
}

static void test_specifiers(void **state)
{
        size_t bad = 0;
        char *out = NULL;

        (void) state;
        assert_int_equal(sbx_specifiers_validate("", NULL), 0);
        assert_int_equal(sbx_specifiers_validate("%h %u %U %%", NULL), 0);
        assert_int_equal(sbx_specifiers_validate("/a/%x", &bad), -EINVAL);
        assert_int_equal(bad, 3);
        assert_int_equal(sbx_specifiers_validate("%%%", &bad), -EINVAL);
        assert_int_equal(bad, 2);
        assert_int_equal(sbx_specifiers_validate("%H", &bad), -EINVAL);
        assert_int_equal(bad, 0);

        assert_int_equal(
            sbx_specifier_expand("%h/src:%u:%U:100%%", "alice", 1000, "/home/alice", &out), 0);
        assert_string_equal(out, "/home/alice/src:alice:1000:100%");
        free(out);
        assert_int_equal(sbx_specifier_expand("plain", NULL, 0, NULL, &out), 0);
        assert_string_equal(out, "plain");
        free(out);
        assert_int_equal(sbx_specifier_expand("", NULL, 0, NULL, &out), 0);
        assert_string_equal(out, "");
        free(out);
        assert_int_equal(sbx_specifier_expand("%U", NULL, 4294967294u, NULL, &out), 0);
        assert_string_equal(out, "4294967294");
        free(out);
        out = NULL;
        assert_int_equal(sbx_specifier_expand("%h", "alice", 1000, NULL, &out), -EINVAL);
        assert_int_equal(sbx_specifier_expand("%u", NULL, 1000, "/home", &out), -EINVAL);
        assert_int_equal(sbx_specifier_expand("%x", "a", 1, "/h", &out), -EINVAL);
        assert_int_equal(sbx_specifier_expand("%", "a", 1, "/h", &out), -EINVAL);
        assert_null(out);
}

static void check_split(const char *in, const char *const *want)
{
        cleanup_strv char **v = NULL;
        size_t n = 0;

        assert_int_equal(sbx_split_words(in, &v), 0);
        assert_non_null(v);
        for (; want[n]; n++) {
                cleanup_free char *q = NULL;
                cleanup_strv char **back = NULL;

                assert_non_null(v[n]);
                assert_string_equal(v[n], want[n]);
                /* Quoting gives back the same word. */
                assert_int_equal(sbx_quote_word(v[n], &q), 0);
                assert_int_equal(sbx_split_words(q, &back), 0);
                assert_int_equal(sbx_strv_length(back), 1);
                assert_string_equal(back[0], v[n]);
        }
        assert_null(v[n]);
}

static void test_split_and_quote(void **state)
{
        char **v = NULL;
        char *q = NULL;

        (void) state;
        check_split("", (const char *const[]){NULL});
        check_split(" \t ", (const char *const[]){NULL});
        check_split("a", (const char *const[]){"a", NULL});
        check_split("  a \t b  ", (const char *const[]){"a", "b", NULL});
        check_split("\"a b\" c", (const char *const[]){"a b", "c", NULL});
        check_split("A=\"x y\"z", (const char *const[]){"A=x yz", NULL});
        check_split("'say \"hi\"'", (const char *const[]){"say \"hi\"", NULL});
        check_split("\"it's\"", (const char *const[]){"it's", NULL});
        check_split("\"\" x", (const char *const[]){"", "x", NULL});
        check_split("\"a'b\"'\"c d'", (const char *const[]){"a'b\"c d", NULL});
        check_split("\"x \"';y'", (const char *const[]){"x ;y", NULL});
        check_split("\"a\"'\"'\"b' c\"\";\"", (const char *const[]){"a\"b' c;", NULL});
        assert_int_equal(sbx_split_words("\"open", &v), -EINVAL);
        assert_int_equal(sbx_split_words("a 'open", &v), -EINVAL);
        assert_null(v);
        assert_int_equal(sbx_split_words(NULL, &v), -EINVAL);

        assert_int_equal(sbx_quote_word("plain", &q), 0);
        assert_string_equal(q, "plain");
        free(q);
        assert_int_equal(sbx_quote_word("a b", &q), 0);
        assert_string_equal(q, "\"a b\"");
        free(q);
        assert_int_equal(sbx_quote_word("say \"hi\"", &q), 0);
        assert_string_equal(q, "'say \"hi\"'");
        free(q);
        assert_int_equal(sbx_quote_word("x ;y", &q), 0);
        assert_string_equal(q, "\"x \"\";y\"");
        free(q);
        assert_int_equal(sbx_quote_word("a\"b' c", &q), 0);
        assert_string_equal(q, "\"a\"'\"'\"b' c\"");
        free(q);
        assert_int_equal(sbx_quote_word("", &q), 0);
        assert_string_equal(q, "\"\"");
        free(q);
}

static void test_names(void **state)
{
        (void) state;
        assert_true(sbx_env_name_valid("PATH"));
        assert_true(sbx_env_name_valid("_x1"));
        assert_false(sbx_env_name_valid(""));
        assert_false(sbx_env_name_valid("1A"));
        assert_false(sbx_env_name_valid("MY-VAR"));
        assert_false(sbx_env_name_valid("A=B"));
        assert_false(sbx_env_name_valid(NULL));

        assert_true(sbx_user_name_valid("alice"));
        assert_true(sbx_user_name_valid("_apt"));
        assert_true(sbx_user_name_valid("john.doe-2"));
        assert_true(sbx_user_name_valid("machine$"));
        assert_true(sbx_user_name_valid("a2345678901234567890123456789012"));
        assert_false(sbx_user_name_valid("a23456789012345678901234567890123"));
        assert_false(sbx_user_name_valid(""));
        assert_false(sbx_user_name_valid("1bob"));
        assert_false(sbx_user_name_valid("-bob"));
        assert_false(sbx_user_name_valid("a$b"));
        assert_false(sbx_user_name_valid("$"));
        assert_false(sbx_user_name_valid("dev/ops"));
        assert_false(sbx_user_name_valid("al ice"));
        assert_false(sbx_user_name_valid("*"));
        assert_false(sbx_user_name_valid(NULL));

        assert_true(sbx_hostname_valid("sandbox"));
        assert_true(sbx_hostname_valid("a"));
        assert_true(sbx_hostname_valid("build-box.example"));
        assert_true(sbx_hostname_valid("1.2.3"));
        assert_false(sbx_hostname_valid(""));
        assert_false(sbx_hostname_valid("-a"));
        assert_false(sbx_hostname_valid("a-"));
        assert_false(sbx_hostname_valid("a-.b"));
        assert_false(sbx_hostname_valid("a.-b"));
        assert_false(sbx_hostname_valid("a..b"));
        assert_false(sbx_hostname_valid(".a"));
        assert_false(sbx_hostname_valid("a."));
        assert_false(sbx_hostname_valid("under_score"));
        assert_false(sbx_hostname_valid("caf\xc3\xa9"));
        assert_false(sbx_hostname_valid(NULL));
        {
                char name[80];

                memset(name, 'a', 63);
                name[63] = '\0';
                assert_true(sbx_hostname_valid(name)); /* a 63-byte label */
                name[63] = 'a';
                name[64] = '\0';
                assert_false(sbx_hostname_valid(name)); /* a 64-byte label */
                name[32] = '.';
                assert_true(sbx_hostname_valid(name)); /* 64 bytes in all */
                name[64] = 'a';
                name[65] = '\0';
                assert_false(sbx_hostname_valid(name)); /* 65 bytes */
        }

        assert_true(sbx_ifname_valid("br0"));
        assert_true(sbx_ifname_valid("a23456789012345"));
        assert_false(sbx_ifname_valid("a234567890123456"));
        assert_false(sbx_ifname_valid(""));
        assert_false(sbx_ifname_valid("."));
        assert_false(sbx_ifname_valid(".."));
        assert_false(sbx_ifname_valid("a/b"));
        assert_false(sbx_ifname_valid("a:b"));
        assert_false(sbx_ifname_valid("a b"));
        assert_false(sbx_ifname_valid(NULL));
}

static void test_tmpfs_options(void **state)
{
        static const char *const good[] = {
            "mode=1777",
            "mode=755",
            "mode=0",
            "size=10M",
            "size=50%",
            "size=100%",
            "size=0",
            "nr_inodes=1000",
            "nr_inodes=10K",
            "ro",
            "rw",
            "nosuid,nodev,noexec",
            "exec",
            "mode=0755,size=10M,nosuid,nodev",
        };
        static const char *const bad[] = {
            "",
            ",",
            "ro,",
            ",ro",
            "mode=",
            "mode=8",
            "mode=01777x",
            "mode=17777",
            "size=",
            "size=101%",
            "size=0%",
            "size=infinity",
            "size=10Q",
            "nr_inodes=x",
            "nr_inodes=-1",
            "uid=0",
            "gid=0",
            "huge=always",
            "suid",
            "dev",
            "RO",
            "mode=0755,,ro",
        };
        const char *where = NULL;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (sbx_tmpfs_options_validate(good[i], NULL) != 0)
                        fail_msg("'%s' was refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (sbx_tmpfs_options_validate(bad[i], NULL) != -EINVAL)
                        fail_msg("'%s' was not refused", bad[i]);
        {
                static const char opts[] = "mode=0755,uid=0,ro";

                assert_int_equal(sbx_tmpfs_options_validate(opts, &where), -EINVAL);
                assert_ptr_equal(where, opts + 10);
        }
        assert_int_equal(sbx_tmpfs_options_validate(NULL, NULL), -EINVAL);
}

static void test_table(void **state)
{
        static const char *const table[] = {"zero", NULL, "two"};

        (void) state;
        assert_string_equal(sbx_table_to_string(table, ELEMENTSOF(table), 0), "zero");
        assert_null(sbx_table_to_string(table, ELEMENTSOF(table), 1));
        assert_string_equal(sbx_table_to_string(table, ELEMENTSOF(table), 2), "two");
        assert_null(sbx_table_to_string(table, ELEMENTSOF(table), 3));
        assert_null(sbx_table_to_string(table, ELEMENTSOF(table), -1));
        assert_int_equal(sbx_table_from_string(table, ELEMENTSOF(table), "two"), 2);
        assert_int_equal(sbx_table_from_string(table, ELEMENTSOF(table), "one"), -EINVAL);
        assert_int_equal(sbx_table_from_string(table, ELEMENTSOF(table), ""), -EINVAL);
        assert_int_equal(sbx_table_from_string(table, ELEMENTSOF(table), NULL), -EINVAL);
}

static void test_strv(void **state)
{
        cleanup_strv char **v = NULL;

        (void) state;
        assert_int_equal(sbx_strv_length(NULL), 0);
        assert_false(sbx_strv_contains(NULL, "a"));
        assert_int_equal(sbx_strv_consume(&v, strdup("a")), 0);
        assert_int_equal(sbx_strv_consume(&v, strdup("b")), 0);
        assert_int_equal(sbx_strv_length(v), 2);
        assert_true(sbx_strv_contains(v, "b"));
        assert_false(sbx_strv_contains(v, "c"));
        assert_null(v[2]);
        assert_int_equal(sbx_strv_consume(&v, NULL), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_boolean),
            cmocka_unit_test(test_uint64),
            cmocka_unit_test(test_size),
            cmocka_unit_test(test_percent),
            cmocka_unit_test(test_duration),
            cmocka_unit_test(test_cpu_list),
            cmocka_unit_test(test_path),
            cmocka_unit_test(test_specifiers),
            cmocka_unit_test(test_split_and_quote),
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_tmpfs_options),
            cmocka_unit_test(test_table),
            cmocka_unit_test(test_strv),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
