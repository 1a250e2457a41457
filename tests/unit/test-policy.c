/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy parser tests.
 *
 * Golden cases live in tests/unit/policy/ (or $SBX_TEST_DATA_DIR): NAME.ini with
 * NAME.expected (the sbx_policy_dump() output) or NAME.error (the exact one-line
 * message). SBX_TEST_REGENERATE=1 rewrites those files from the current parser;
 * review the diff before committing it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "policy.h"

static char *read_file(const char *path, size_t *ret_len)
{
        cleanup_fclose FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0, len = 0;

        if (!f)
                return NULL;
        for (;;) {
                size_t k;

                if (len + 4096 + 1 > size) {
                        char *nbuf;

                        size = (len + 4096 + 1) * 2;
                        nbuf = realloc(buf, size);
                        if (!nbuf)
                                free(buf);
                        assert_non_null(nbuf);
                        buf = nbuf;
                }
                k = fread(buf + len, 1, size - len - 1, f);
                len += k;
                if (k == 0)
                        break;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

static void write_file(const char *path, const char *text, size_t len)
{
        cleanup_fclose FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
}

static const char *data_dir(void)
{
        static char dir[PATH_MAX];
        const char *env = getenv("SBX_TEST_DATA_DIR");
        char exe[PATH_MAX];
        struct stat st;
        ssize_t n;

        if (env && *env)
                return env;
        /* Next to this source file, as the compiler saw it (relative to the top). */
        (void) snprintf(dir, sizeof(dir), "%s", __FILE__);
        (void) snprintf(dir, sizeof(dir), "%s/policy", dirname(dir));
        if (stat(dir, &st) == 0)
                return dir;
        /* BUILD/tests/test-policy -> ../../tests/unit/policy */
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                (void) snprintf(dir, sizeof(dir), "%s/../../tests/unit/policy", dirname(exe));
        }
        return dir;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Parses, dumps, re-parses the dump and checks it dumps the same. */
static int parse_and_dump(const char *text, size_t len, const char *name, const char *filename,
                          char **ret_dump, char **ret_error)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL, *p2 = NULL;
        cleanup_free char *dump = NULL, *dump2 = NULL, *error2 = NULL;
        int r = sbx_policy_parse_string(text, len, name, filename, &p, ret_error);

        if (r < 0)
                return r;
        assert_int_equal(sbx_policy_dump(p, &dump), 0);
        r = sbx_policy_parse_string(dump, strlen(dump), name, filename, &p2, &error2);
        /* The dump may outgrow the file limits (its quoting can be longer than the
         * input's, and it spells out every default); it must parse whenever it fits. */
        if (r < 0 && (strstr(error2, ": line longer than") || strstr(error2, ": file too large"))) {
                *ret_dump = TAKE_PTR(dump);
                return 0;
        }
        if (r < 0)
                fail_msg("%s: the dump does not parse: %s\n%s", filename, error2, dump);
        assert_int_equal(sbx_policy_dump(p2, &dump2), 0);
        assert_string_equal(dump, dump2);
        *ret_dump = TAKE_PTR(dump);
        return 0;
}

static void test_golden(void **state)
{
        const char *dir = data_dir();
        const char *regen = getenv("SBX_TEST_REGENERATE");
        bool regenerate = regen && strcmp(regen, "") != 0 && strcmp(regen, "0") != 0;
        struct dirent **entries = NULL;
        unsigned good = 0, bad = 0, failed = 0;
        int n;

        (void) state;
        n = scandir(dir, &entries, NULL, alphasort);
        if (n < 0)
                fail_msg("cannot read %s: %s (set SBX_TEST_DATA_DIR)", dir, strerror(errno));

        for (int i = 0; i < n; i++) {
                const char *ent = entries[i]->d_name;
                cleanup_free char *name = NULL, *path = NULL, *text = NULL, *expected_path = NULL,
                                  *error_path = NULL, *expected = NULL, *want_error = NULL,
                                  *dump = NULL, *error = NULL;
                size_t len = 0;
                int r;

                if (!has_suffix(ent, ".ini"))
                        continue;
                name = strndup(ent, strlen(ent) - 4);
                assert_non_null(name);
                assert_true(asprintf(&path, "%s/%s", dir, ent) > 0);
                assert_true(asprintf(&expected_path, "%s/%s.expected", dir, name) > 0);
                assert_true(asprintf(&error_path, "%s/%s.error", dir, name) > 0);
                text = read_file(path, &len);
                assert_non_null(text);

                r = parse_and_dump(text, len, name, ent, &dump, &error);
                if (r >= 0)
                        good++;
                else
                        bad++;
                assert_true(r >= 0 || r == -EINVAL);
                assert_true(r >= 0 || error);

                if (regenerate) {
                        if (r >= 0) {
                                write_file(expected_path, dump, strlen(dump));
                                (void) unlink(error_path);
                        } else {
                                cleanup_free char *line = NULL;

                                assert_true(asprintf(&line, "%s\n", error) > 0);
                                write_file(error_path, line, strlen(line));
                                (void) unlink(expected_path);
                        }
                        continue;
                }

                expected = read_file(expected_path, NULL);
                want_error = read_file(error_path, NULL);
                if (want_error && has_suffix(want_error, "\n"))
                        want_error[strlen(want_error) - 1] = '\0';
                if (!expected && !want_error) {
                        print_error("%s: neither %s.expected nor %s.error exists\n", ent, name,
                                    name);
                        failed++;
                } else if (expected && r < 0) {
                        print_error("%s: expected success, got: %s\n", ent, error);
                        failed++;
                } else if (expected && strcmp(expected, dump) != 0) {
                        print_error("%s: dump differs.\n--- expected\n%s--- got\n%s", ent, expected,
                                    dump);
                        failed++;
                } else if (want_error && r >= 0) {
                        print_error("%s: expected error '%s', but it parsed\n", ent, want_error);
                        failed++;
                } else if (want_error && strcmp(want_error, error) != 0) {
                        print_error("%s: error differs.\n  expected: %s\n  got:      %s\n", ent,
                                    want_error, error);
                        failed++;
                }
        }
        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);

        print_message("golden policies: %u good, %u bad, %u failed%s\n", good, bad, failed,
                      regenerate ? " (regenerated)" : "");
        assert_int_equal(failed, 0);
        assert_true(good >= 4);
        assert_true(bad >= 30);
}

/* The policies in policy/ must parse (tests/unit/policy/../../../policy). */
static void test_shipped_policies(void **state)
{
        static const char *const names[] = {"default", "strict"};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                cleanup_free char *path = NULL, *text = NULL, *dump = NULL, *error = NULL;
                size_t len = 0;

                assert_true(asprintf(&path, "%s/../../../policy/%s.ini", data_dir(), names[i]) > 0);
                text = read_file(path, &len);
                if (!text)
                        fail_msg("cannot read %s", path);
                if (parse_and_dump(text, len, names[i], path, &dump, &error) < 0)
                        fail_msg("%s", error);
        }
}

/* Parses TEXT (NUL-terminated) and checks the error message. */
static void check_error(const char *text, size_t len, const char *want)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *error = NULL;
        int r = sbx_policy_parse_string(text, len, "gen", "gen.ini", &p, &error);

        assert_int_equal(r, -EINVAL);
        assert_null(p);
        assert_non_null(error);
        assert_string_equal(error, want);
}

static void check_ok(const char *text, size_t len)
{
        cleanup_free char *dump = NULL, *error = NULL;
        int r = parse_and_dump(text, len, "gen", "gen.ini", &dump, &error);

        if (r < 0)
                fail_msg("unexpected error: %s", error);
}

static void test_file_limits(void **state)
{
        static const char head[] = "[Sandbox]\nDescription=";
        size_t big = (size_t) 1024 * 1024;
        cleanup_free char *text = malloc(big + 64);
        char line[SBX_POLICY_MAX_LINE + 64];
        const size_t max = (size_t) SBX_POLICY_MAX_SIZE;
        size_t n;

        (void) state;
        assert_non_null(text);

        /* A single line of 1 MiB, and a file one byte over the limit. */
        memset(text, 'x', big);
        check_error(text, big, "gen.ini: file too large (max 64 KiB)");
        memcpy(text, "[Sandbox]\n", 10); /* NOLINT(bugprone-not-null-terminated-result) */
        memset(text + 10, '#', max);
        for (size_t i = 10 + 100; i < max; i += 100)
                text[i] = '\n';
        check_error(text, max + 1, "gen.ini: file too large (max 64 KiB)");
        /* Exactly at the limit is fine. */
        check_ok(text, max);

        /* Lines: 4096 bytes (without the newline) pass, 4097 do not. */
        n = (size_t) snprintf(line, sizeof(line), "%s", head);
        memset(line + n, 'd', 10 + SBX_POLICY_MAX_LINE - n); /* 10: "[Sandbox]\n" */
        line[10 + SBX_POLICY_MAX_LINE] = '\n';
        check_ok(line, 10 + SBX_POLICY_MAX_LINE + 1);
        line[10 + SBX_POLICY_MAX_LINE] = 'd';
        line[10 + SBX_POLICY_MAX_LINE + 1] = '\n';
        check_error(line, 10 + SBX_POLICY_MAX_LINE + 2, "gen.ini:2: line longer than 4096 bytes");
        /* A CR before the LF does not count. */
        line[10 + SBX_POLICY_MAX_LINE] = '\r';
        check_ok(line, 10 + SBX_POLICY_MAX_LINE + 2);

        /* Empty input, NULL text. */
        check_error("", 0, "gen.ini: file is empty");
}

static void test_bytes(void **state)
{
        static const char nul[] = "[Sandbox]\nMode=workload\nDescription=a\0b\n";
        static const char bad_utf8[] = "[Sandbox]\nDescription=caf\xc3\n";
        static const char overlong[] = "[Sandbox]\nDescription=\xc0\xaf\n";
        static const char surrogate[] = "[Sandbox]\nDescription=\xed\xa0\x80\n";
        static const char ctrl[] = "[Sandbox]\nDescription=a\x1b[31m\n";
        static const char cr[] = "[Sandbox]\r\nDescription=a\rb\r\n";
        static const char bom[] =
            "\xef\xbb\xbf[Sandbox]\r\nDescription=caf\xc3\xa9 \xe2\x9c\x93\r\n";

        (void) state;
        check_error(nul, sizeof(nul) - 1, "gen.ini: contains a NUL byte at line 3");
        check_error(bad_utf8, sizeof(bad_utf8) - 1, "gen.ini:2: invalid UTF-8 (byte \\xc3)");
        check_error(overlong, sizeof(overlong) - 1, "gen.ini:2: invalid UTF-8 (byte \\xc0)");
        check_error(surrogate, sizeof(surrogate) - 1, "gen.ini:2: invalid UTF-8 (byte \\xed)");
        check_error(ctrl, sizeof(ctrl) - 1, "gen.ini:2: contains a control character (\\x1b)");
        check_error(cr, sizeof(cr) - 1, "gen.ini:2: contains a control character (\\x0d)");
        check_ok(bom, sizeof(bom) - 1);
}

/* Lines longer than inih's 200-byte buffer take our own value-cutting path: it must
 * give what inih gives for the same line when short. Padding with blanks before the
 * inline comment makes a line long without changing its value. */
static void test_long_lines_match_inih(void **state)
{
        static const char *const values[] = {
            "plain",
            "  lead and trail  ",
            "with ; comment",
            "with;no comment",
            "tab\t; comment",
            "semi;colon ;; two",
            "=starts with equals",
            "a = b : c",
            "'quoted ; text'",
            "",
            " ;only comment",
            "caf\xc3\xa9",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                cleanup_(sbx_policy_freep) struct sbx_policy *a = NULL, *b = NULL;
                cleanup_free char *short_text = NULL, *long_text = NULL, *error = NULL;
                char pad[600];

                memset(pad, ' ', sizeof(pad) - 1);
                pad[sizeof(pad) - 1] = '\0';
                assert_true(asprintf(&short_text, "[Sandbox]\nDescription=%s\n", values[i]) > 0);
                assert_true(asprintf(&long_text, "[Sandbox]\nDescription=%s%s ; padded\n",
                                     values[i], pad) > 0);
                assert_int_equal(
                    sbx_policy_parse_string(short_text, strlen(short_text), "x", NULL, &a, &error),
                    0);
                assert_int_equal(
                    sbx_policy_parse_string(long_text, strlen(long_text), "x", NULL, &b, &error),
                    0);
                if (!a->description || !b->description)
                        assert_ptr_equal(a->description, b->description);
                else
                        assert_string_equal(a->description, b->description);
        }

        /* A long list value still parses item by item. */
        {
                cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
                cleanup_free char *text = NULL, *error = NULL;
                char paths[3000];
                size_t o = 0;

                for (unsigned i = 0; i < 200; i++)
                        o += (size_t) snprintf(paths + o, sizeof(paths) - o, " /p%u", i);
                assert_true(asprintf(&text, "[Sandbox]\n[Files]\nReadOnlyPaths=%s\n", paths) > 0);
                assert_int_equal(sbx_policy_parse_string(text, strlen(text), "x", NULL, &p, &error),
                                 0);
                assert_int_equal(p->n_read_only_paths, 200);
                assert_string_equal(p->read_only_paths[199].path, "/p199");
        }
        /* A long line with a bad value names the right line. */
        {
                cleanup_free char *text = NULL;
                char value[400];

                memset(value, 'q', sizeof(value) - 1);
                value[sizeof(value) - 1] = '\0';
                assert_true(asprintf(&text, "[Sandbox]\n\n[Resources]\nMemoryMax=%s\n", value) > 0);
                check_error(
                    text, strlen(text),
                    "gen.ini:4: [Resources] MemoryMax: expected a size like 512M or "
                    "'infinity', got "
                    "'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq...'");
        }
}

static void test_defaults(void **state)
{
        static const char text[] = "[Sandbox]\n";
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *error = NULL;

        (void) state;
        assert_int_equal(sbx_policy_parse_string(text, sizeof(text) - 1, "d", NULL, &p, &error), 0);
        assert_string_equal(p->name, "d");
        assert_string_equal(p->filename, "d.ini");
        assert_int_equal(p->namespaces, (1u << SBX_NS_COUNT) - 1);
        assert_string_equal(p->hostname, "sandbox");
        assert_false(p->access_everyone);
        assert_null(p->users);
        assert_null(p->groups);
        assert_false(p->private_tmp);
        assert_true(p->private_devices);
        assert_int_equal(p->workdir_mode, SBX_WORKDIR_INHERIT);
        assert_int_equal(p->network_mode, SBX_NETWORK_NONE);
        assert_true(p->no_new_privileges);
}

static void test_error_contract(void **state)
{
        static const char text[] = "[Sandbox]\nMode=vps\n";
        struct sbx_policy *p = (struct sbx_policy *) 0x1;
        cleanup_free char *error = NULL;

        (void) state;
        /* Outputs are untouched on failure, and ret_error may be NULL. */
        assert_int_equal(sbx_policy_parse_string(text, sizeof(text) - 1, "x", NULL, &p, NULL),
                         -EINVAL);
        assert_ptr_equal(p, (struct sbx_policy *) 0x1);
        assert_int_equal(sbx_policy_parse_string(text, sizeof(text) - 1, "../x", NULL, &p, &error),
                         -EINVAL);
        assert_string_equal(error, "../x.ini: invalid policy name '../x' (expected 1 to 64 of "
                                   "[A-Za-z0-9_-], not starting with '-')");
        assert_int_equal(sbx_policy_parse_string(text, sizeof(text) - 1, NULL, NULL, &p, NULL),
                         -EINVAL);
        assert_ptr_equal(p, (struct sbx_policy *) 0x1);
        assert_null(sbx_policy_free(NULL));
}

static void test_tables(void **state)
{
        (void) state;
        for (int i = 0; i < SBX_NS_COUNT; i++) {
                const char *s = sbx_ns_to_string((enum sbx_ns) i);

                assert_non_null(s);
                assert_int_equal(sbx_ns_from_string(s), i);
        }
        assert_null(sbx_ns_to_string(SBX_NS_COUNT));
        assert_null(sbx_ns_to_string(SBX_NS_INVALID));
        assert_int_equal(sbx_ns_from_string("user"), SBX_NS_INVALID);
        assert_int_equal(sbx_ns_from_string("Mount"), SBX_NS_INVALID);
        assert_int_equal(sbx_ns_from_string(""), SBX_NS_INVALID);
        assert_int_equal(sbx_ns_from_string(NULL), SBX_NS_INVALID);

        for (int i = 0; i < SBX_NETWORK_COUNT; i++) {
                const char *s = sbx_network_mode_to_string((enum sbx_network_mode) i);

                assert_non_null(s);
                assert_int_equal(sbx_network_mode_from_string(s), i);
        }
        assert_null(sbx_network_mode_to_string(SBX_NETWORK_COUNT));
        assert_null(sbx_network_mode_to_string(SBX_NETWORK_INVALID));
        assert_int_equal(sbx_network_mode_from_string("bogus"), SBX_NETWORK_INVALID);
        assert_int_equal(sbx_network_mode_from_string(NULL), SBX_NETWORK_INVALID);
}

static void test_name_valid(void **state)
{
        char long_name[66];

        (void) state;
        assert_true(sbx_policy_name_valid("default"));
        assert_true(sbx_policy_name_valid("a"));
        assert_true(sbx_policy_name_valid("web_1-x"));
        assert_false(sbx_policy_name_valid(NULL));
        assert_false(sbx_policy_name_valid(""));
        assert_false(sbx_policy_name_valid("-x"));
        assert_false(sbx_policy_name_valid("a.ini"));
        assert_false(sbx_policy_name_valid("../etc"));
        assert_false(sbx_policy_name_valid("a b"));
        assert_false(sbx_policy_name_valid("caf\xc3\xa9"));
        memset(long_name, 'n', 64);
        long_name[64] = '\0';
        assert_true(sbx_policy_name_valid(long_name));
        long_name[64] = 'n';
        long_name[65] = '\0';
        assert_false(sbx_policy_name_valid(long_name));
}

/* ---- loading from files --------------------------------------------------- */

static const char good_policy[] = "[Sandbox]\nDescription=loaded\n";

struct load_dir {
        char path[64];
        int fd;
};

static int load_setup(void **state)
{
        struct load_dir *d = calloc(1, sizeof(*d));

        assert_non_null(d);
        (void) snprintf(d->path, sizeof(d->path), "/tmp/test-policy.XXXXXX");
        assert_non_null(mkdtemp(d->path));
        d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(d->fd >= 0);
        *state = d;
        return 0;
}

static int load_teardown(void **state)
{
        struct load_dir *d = *state;
        DIR *dir = fdopendir(d->fd);
        struct dirent *de;

        assert_non_null(dir);
        /* readdir_r() is deprecated; this test is single-threaded. */
        // cppcheck-suppress readdirCalled
        while ((de = readdir(dir)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    unlinkat(d->fd, de->d_name, 0) < 0)
                        (void) unlinkat(d->fd, de->d_name, AT_REMOVEDIR);
        (void) closedir(dir);
        (void) rmdir(d->path);
        free(d);
        return 0;
}

static void make_policy(struct load_dir *d, const char *name, const char *text, size_t len,
                        mode_t mode, uid_t uid)
{
        int fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t) len);
        assert_int_equal(fchown(fd, uid, 0), 0);
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
}

static void check_load(struct load_dir *d, const char *name, int want_r, const char *want_error)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *error = NULL;
        int r = sbx_policy_load(d->fd, name, &p, &error);

        assert_int_equal(r, want_r);
        if (want_r >= 0) {
                assert_non_null(p);
                assert_string_equal(p->name, name);
                assert_null(error);
        } else {
                assert_null(p);
                assert_non_null(error);
                assert_string_equal(error, want_error);
        }
}

static void test_load(void **state)
{
        struct load_dir *d = *state;
        cleanup_free char *big = NULL, *path = NULL, *error = NULL;
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;

        if (geteuid() != 0)
                skip(); /* ownership checks need files owned by root and by others */

        make_policy(d, "good.ini", good_policy, sizeof(good_policy) - 1, 0644, 0);
        check_load(d, "good", 0, NULL);
        make_policy(d, "ro.ini", good_policy, sizeof(good_policy) - 1, 0400, 0);
        check_load(d, "ro", 0, NULL);

        make_policy(d, "gw.ini", good_policy, sizeof(good_policy) - 1, 0664, 0);
        check_load(d, "gw", -EPERM,
                   "gw.ini: refused: must be owned by root and not writable by group or others");
        make_policy(d, "ow.ini", good_policy, sizeof(good_policy) - 1, 0646, 0);
        check_load(d, "ow", -EPERM,
                   "ow.ini: refused: must be owned by root and not writable by group or others");
        make_policy(d, "user.ini", good_policy, sizeof(good_policy) - 1, 0644, 1000);
        check_load(d, "user", -EPERM,
                   "user.ini: refused: must be owned by root and not writable by group or others");

        assert_int_equal(symlinkat("good.ini", d->fd, "link.ini"), 0);
        check_load(d, "link", -EPERM, "link.ini: refused: is a symbolic link");
        assert_int_equal(mkdirat(d->fd, "dir.ini", 0755), 0);
        check_load(d, "dir", -EPERM, "dir.ini: refused: not a regular file");
        assert_int_equal(mkfifoat(d->fd, "fifo.ini", 0644), 0);
        check_load(d, "fifo", -EPERM, "fifo.ini: refused: not a regular file");

        check_load(d, "missing", -ENOENT, "missing.ini: no such policy");
        check_load(d, "../etc/passwd", -EINVAL, "invalid policy name '../etc/passwd'");

        big = malloc(SBX_POLICY_MAX_SIZE + 100);
        assert_non_null(big);
        memset(big, '#', SBX_POLICY_MAX_SIZE + 100);
        make_policy(d, "big.ini", big, SBX_POLICY_MAX_SIZE + 100, 0644, 0);
        check_load(d, "big", -EINVAL, "big.ini: file too large (max 64 KiB)");

        make_policy(d, "bad.ini", "[Sandbox]\nMode=x\n", 17, 0644, 0);
        check_load(d, "bad", -EINVAL,
                   "bad.ini:2: [Sandbox] Mode: expected 'workload' or 'vps', got 'x'");

        /* By path: the name is the base name without ".ini"; messages name the path. */
        assert_true(asprintf(&path, "%s/good.ini", d->path) > 0);
        assert_int_equal(sbx_policy_load_path(path, &p, &error), 0);
        assert_string_equal(p->name, "good");
        assert_string_equal(p->filename, path);
        p = sbx_policy_free(p);
        free(path);
        assert_true(asprintf(&path, "%s/user.ini", d->path) > 0);
        assert_int_equal(sbx_policy_load_path(path, &p, &error), -EPERM);
        assert_true(strstr(error, "refused: must be owned by root") != NULL);
        assert_true(strncmp(error, path, strlen(path)) == 0);
}

/* ---- robustness ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
        /* xorshift64: deterministic, so a failure reproduces. */
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static void fuzz_one(const char *buf, size_t len)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *error = NULL, *dump = NULL;
        int r = sbx_policy_parse_string(buf, len, "fuzz", NULL, &p, &error);

        if (r < 0) {
                assert_int_equal(r, -EINVAL);
                assert_non_null(error);
                assert_null(strchr(error, '\n'));
                return;
        }
        assert_int_equal(parse_and_dump(buf, len, "fuzz", NULL, &dump, &error), 0);
}

static void test_random_inputs(void **state)
{
        static const char *const tokens[] = {
            "[Sandbox]\n",
            "[Files]\n",
            "[Access]\n",
            "[Environment]\n",
            "[Network]\n",
            "[Security]\n",
            "[Resources]\n",
            "[Login]\n",
            "[Files",
            "]",
            "\n",
            "=",
            " ",
            ";",
            "#",
            ":",
            "\"",
            "'",
            "%h",
            "%u",
            "%U",
            "%%",
            "%x",
            "-",
            "/",
            "..",
            "//",
            "~",
            "*",
            ",",
            "Mode",
            "Namespaces",
            "Hostname",
            "Description",
            "Users",
            "Groups",
            "PrivateTmp",
            "PrivateDevices",
            "ReadOnlyPaths",
            "ReadWritePaths",
            "InaccessiblePaths",
            "BindPaths",
            "BindReadOnlyPaths",
            "TemporaryFileSystem",
            "WorkingDirectory",
            "PassEnvironment",
            "Environment",
            "MemoryMax",
            "TasksMax",
            "CPUQuota",
            "AllowedCPUs",
            "DeviceAllow",
            "Bridge",
            "Address",
            "NoNewPrivileges",
            "SystemCallFilter",
            "CapabilityBoundingSet",
            "Linger",
            "mount",
            "ipc",
            "uts",
            "pid",
            "net",
            "user",
            "none",
            "host",
            "bridge",
            "yes",
            "no",
            "/usr",
            "/tmp",
            "mode=1777",
            "size=10M",
            "rbind",
            "norbind",
            "A=b",
            "512M",
            "infinity",
            "150%",
            "0-1,3",
            "30s",
            "\xc3\xa9",
            "\xff",
            "\0",
            "\r\n",
            "\t",
        };
        const char *dir = data_dir();
        const char *env = getenv("SBX_TEST_FUZZ_ITERATIONS");
        unsigned iterations = env ? (unsigned) strtoul(env, NULL, 10) : 4000;
        char *seeds[64];
        size_t seed_len[64], n_seeds = 0;
        struct dirent **entries = NULL;
        char buf[8192];
        int n;

        (void) state;
        n = scandir(dir, &entries, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                char path[PATH_MAX];

                if (n_seeds < ELEMENTSOF(seeds) && has_suffix(entries[i]->d_name, ".ini") &&
                    rng() % 2 == 0) {
                        (void) snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
                        seeds[n_seeds] = read_file(path, &seed_len[n_seeds]);
                        if (seeds[n_seeds] && seed_len[n_seeds] <= sizeof(buf))
                                n_seeds++;
                        else
                                free(seeds[n_seeds]);
                }
                free(entries[i]);
        }
        free(entries);

        for (unsigned it = 0; it < iterations; it++) {
                size_t len = 0;
                unsigned kind = (unsigned) (rng() % 3);

                if (kind == 0) {
                        /* Random bytes. */
                        len = rng() % 512;
                        for (size_t i = 0; i < len; i++)
                                buf[i] = (char) rng();
                } else if (kind == 1 || n_seeds == 0) {
                        /* A string of tokens. */
                        unsigned k = (unsigned) (rng() % 80);

                        for (unsigned i = 0; i < k; i++) {
                                size_t t = rng() % ELEMENTSOF(tokens);
                                size_t tl = tokens[t][0] ? strlen(tokens[t]) : 1;

                                if (len + tl > sizeof(buf))
                                        break;
                                memcpy(buf + len, tokens[t], tl);
                                len += tl;
                        }
                } else {
                        /* A golden case with a few bytes changed, dropped or inserted. */
                        size_t s = rng() % n_seeds;
                        unsigned edits = 1 + (unsigned) (rng() % 4);

                        len = seed_len[s];
                        memcpy(buf, seeds[s], len);
                        for (unsigned e = 0; e < edits && len > 0; e++) {
                                size_t at = rng() % len;

                                switch (rng() % 3) {
                                case 0:
                                        buf[at] = (char) rng();
                                        break;
                                case 1:
                                        memmove(buf + at, buf + at + 1, len - at - 1);
                                        len--;
                                        break;
                                default:
                                        if (len < sizeof(buf)) {
                                                memmove(buf + at + 1, buf + at, len - at);
                                                buf[at] = "=[]:;#% \n\"'-/"[rng() % 14];
                                                len++;
                                        }
                                }
                        }
                }
                fuzz_one(buf, len);
        }
        for (size_t i = 0; i < n_seeds; i++)
                free(seeds[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_golden),
            cmocka_unit_test(test_shipped_policies),
            cmocka_unit_test(test_file_limits),
            cmocka_unit_test(test_bytes),
            cmocka_unit_test(test_long_lines_match_inih),
            cmocka_unit_test(test_defaults),
            cmocka_unit_test(test_error_contract),
            cmocka_unit_test(test_tables),
            cmocka_unit_test(test_name_valid),
            cmocka_unit_test_setup_teardown(test_load, load_setup, load_teardown),
            cmocka_unit_test(test_random_inputs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
