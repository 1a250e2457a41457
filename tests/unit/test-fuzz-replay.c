/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays the fuzz corpora (seeds and every crasher ever found) through the
 * fuzz targets with the ordinary compiler, so make check catches regressions
 * without clang's libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "../fuzz/fuzz-targets.h"

static char *corpus_dir(const char *name)
{
        const char *env = getenv("SBX_FUZZ_CORPUS_DIR");
        char *dir = NULL;

        char here[4096], *slash;

        if (env) {
                assert_true(asprintf(&dir, "%s/%s", env, name) > 0);
                return dir;
        }
        /* Beside this source file, as the golden policy tests find theirs. */
        (void) snprintf(here, sizeof(here), "%s", __FILE__);
        slash = strrchr(here, '/');
        if (slash)
                *slash = '\0';
        else
                (void) snprintf(here, sizeof(here), ".");
        assert_true(asprintf(&dir, "%s/../fuzz/corpus/%s", here, name) > 0);
        return dir;
}

static void replay(const char *name, int (*target)(const uint8_t *, size_t))
{
        char *dir = corpus_dir(name);
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d))) {
                char path[4096];
                struct stat st;
                uint8_t *buf;
                int fd;

                if (de->d_name[0] == '.')
                        continue;
                (void) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &st), 0);
                buf = malloc((size_t) st.st_size + 1);
                assert_non_null(buf);
                assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
                close(fd);
                (void) target(buf, (size_t) st.st_size);
                free(buf);
                n++;
        }
        closedir(d);
        free(dir);
        /* An empty corpus would make this test pass without testing anything. */
        assert_true(n >= 3);
}

static void test_policy_corpus(void **state)
{
        (void) state;
        replay("policy", sbx_fuzz_policy);
}

static void test_protocol_corpus(void **state)
{
        (void) state;
        replay("protocol", sbx_fuzz_protocol);
}

static void test_netconf_corpus(void **state)
{
        (void) state;
        replay("netconf", sbx_fuzz_netconf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_policy_corpus),
            cmocka_unit_test(test_protocol_corpus),
            cmocka_unit_test(test_netconf_corpus),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
