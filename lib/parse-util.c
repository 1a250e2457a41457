/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse-util.h"

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_cntrl(char c)
{
        unsigned char u = (unsigned char) c;

        return u < 0x20 || u == 0x7f;
}

/* Consumes one or more decimal digits at *P. -EINVAL if there is no digit, -ERANGE
 * on overflow (the digits are consumed either way, so callers can report syntax
 * errors that come later first). */
static int parse_digits(const char **p, uint64_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;
        bool overflow = false;

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                unsigned d = (unsigned) (*s - '0');

                if (v > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        v = v * 10 + d;
        }
        *p = s;
        if (overflow)
                return -ERANGE;
        *ret = v;
        return 0;
}

int sbx_parse_boolean(const char *s)
{
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int sbx_parse_uint64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;
        const char *p = s;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_digits(&p, &v);
        if (*p != '\0')
                return -EINVAL;
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int sbx_parse_uint64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        int r = sbx_parse_uint64(s, &v);

        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int sbx_parse_size(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
            {"", 1},
            {"B", 1},
            {"K", UINT64_C(1) << 10},
            {"M", UINT64_C(1) << 20},
            {"G", UINT64_C(1) << 30},
            {"T", UINT64_C(1) << 40},
        };
        const char *p = s;
        uint64_t v = 0;
        int r;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "infinity") == 0) {
                *ret = SBX_SIZE_INFINITY;
                return 0;
        }
        r = parse_digits(&p, &v);
        if (r == -EINVAL)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (strcmp(p, units[i].suffix) != 0)
                        continue;
                if (r < 0)
                        return r;
                if (v > UINT64_MAX / units[i].factor)
                        return -ERANGE;
                *ret = v * units[i].factor;
                return 0;
        }
        return -EINVAL;
}

const char *sbx_size_format(uint64_t v, char *buf)
{
        static const char suffixes[] = "KMGT";
        int k = -1;

        if (v == SBX_SIZE_INFINITY) {
                (void) snprintf(buf, SBX_SIZE_FORMAT_MAX, "infinity");
                return buf;
        }
        while (v != 0 && v % 1024 == 0 && k < 3) {
                v /= 1024;
                k++;
        }
        if (k < 0)
                (void) snprintf(buf, SBX_SIZE_FORMAT_MAX, "%" PRIu64, v);
        else
                (void) snprintf(buf, SBX_SIZE_FORMAT_MAX, "%" PRIu64 "%c", v, suffixes[k]);
        return buf;
}

int sbx_parse_percent(const char *s, uint32_t *ret)
{
        const char *p = s;
        uint64_t v = 0;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_digits(&p, &v);
        if (r == -EINVAL || strcmp(p, "%") != 0)
                return -EINVAL;
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int sbx_parse_duration(const char *s, uint64_t *ret_usec)
{
        static const struct {
                const char *unit;
                uint64_t usec;
        } units[] = {
            {"us", 1},
            {"usec", 1},
            {"ms", 1000},
            {"msec", 1000},
            {"s", 1000000},
            {"sec", 1000000},
            {"second", 1000000},
            {"seconds", 1000000},
            {"m", 60 * UINT64_C(1000000)},
            {"min", 60 * UINT64_C(1000000)},
            {"minute", 60 * UINT64_C(1000000)},
            {"minutes", 60 * UINT64_C(1000000)},
            {"h", 3600 * UINT64_C(1000000)},
            {"hr", 3600 * UINT64_C(1000000)},
            {"hour", 3600 * UINT64_C(1000000)},
            {"hours", 3600 * UINT64_C(1000000)},
            {"d", 86400 * UINT64_C(1000000)},
            {"day", 86400 * UINT64_C(1000000)},
            {"days", 86400 * UINT64_C(1000000)},
            {"w", 604800 * UINT64_C(1000000)},
            {"week", 604800 * UINT64_C(1000000)},
            {"weeks", 604800 * UINT64_C(1000000)},
        };
        const char *p = s;
        uint64_t total = 0;
        bool any = false, overflow = false;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "infinity") == 0) {
                *ret_usec = SBX_DURATION_INFINITY;
                return 0;
        }
        while (is_blank(*p))
                p++;
        while (*p) {
                uint64_t n = 0, factor = 0;
                const char *u;
                size_t ulen;
                int r = parse_digits(&p, &n);

                if (r == -EINVAL)
                        return r;
                if (r < 0)
                        overflow = true;
                while (is_blank(*p))
                        p++;
                for (u = p; is_alpha(*p); p++)
                        ;
                ulen = (size_t) (p - u);
                if (ulen == 0)
                        factor = 1000000; /* a plain number means seconds */
                for (size_t i = 0; ulen > 0 && i < ELEMENTSOF(units); i++)
                        if (strlen(units[i].unit) == ulen && strncmp(u, units[i].unit, ulen) == 0)
                                factor = units[i].usec;
                if (factor == 0)
                        return -EINVAL;
                if (!overflow && (n > UINT64_MAX / factor || total > UINT64_MAX - n * factor))
                        overflow = true;
                else if (!overflow)
                        total += n * factor;
                any = true;
                while (is_blank(*p))
                        p++;
        }
        if (!any)
                return -EINVAL;
        /* UINT64_MAX means infinity: a finite duration may not reach it. */
        if (overflow || total == SBX_DURATION_INFINITY)
                return -ERANGE;
        *ret_usec = total;
        return 0;
}

int sbx_parse_cpu_list(const char *s, struct sbx_cpu_set *ret)
{
        struct sbx_cpu_set set = {};
        const char *p = s;
        bool any = false, range_error = false;

        if (!s)
                return -EINVAL;
        for (;;) {
                uint64_t lo = 0, hi = 0;
                int r;

                while (is_blank(*p))
                        p++;
                if (*p == '\0')
                        break;
                if (any) {
                        /* Between entries: a comma (with optional blanks) or blanks alone. */
                        if (*p == ',') {
                                p++;
                                while (is_blank(*p))
                                        p++;
                        } else if (!is_blank(p[-1])) {
                                return -EINVAL;
                        }
                }
                r = parse_digits(&p, &lo);
                if (r == -EINVAL)
                        return r;
                if (r < 0)
                        range_error = true;
                hi = lo;
                if (*p == '-') {
                        p++;
                        r = parse_digits(&p, &hi);
                        if (r == -EINVAL)
                                return r;
                        if (r < 0)
                                range_error = true;
                }
                if (*p != '\0' && *p != ',' && !is_blank(*p))
                        return -EINVAL;
                any = true;
                if (range_error || lo > hi || hi >= SBX_CPU_SET_MAX) {
                        range_error = true;
                        continue;
                }
                for (uint64_t i = lo; i <= hi; i++)
                        set.bits[i / 64] |= UINT64_C(1) << (i % 64);
        }
        if (!any)
                return -EINVAL;
        if (range_error)
                return -ERANGE;
        *ret = set;
        return 0;
}

static bool cpu_set_test(const struct sbx_cpu_set *set, unsigned i)
{
        return i < SBX_CPU_SET_MAX && (set->bits[i / 64] & (UINT64_C(1) << (i % 64)));
}

int sbx_cpu_set_format(const struct sbx_cpu_set *set, char **ret)
{
        /* Worst case "0,2,4,...": at most 5 digits and a comma per two CPUs. */
        size_t size = SBX_CPU_SET_MAX / 2 * 6 + 1, o = 0;
        char *buf = malloc(size);

        if (!buf)
                return -ENOMEM;
        buf[0] = '\0';
        for (unsigned i = 0; i < SBX_CPU_SET_MAX; i++) {
                unsigned j = i;

                if (!cpu_set_test(set, i))
                        continue;
                while (cpu_set_test(set, j + 1))
                        j++;
                if (j == i)
                        o += (size_t) snprintf(buf + o, size - o, "%s%u", o ? "," : "", i);
                else
                        o += (size_t) snprintf(buf + o, size - o, "%s%u-%u", o ? "," : "", i, j);
                i = j;
        }
        *ret = buf;
        return 0;
}

int sbx_specifiers_validate(const char *s, size_t *ret_bad_offset)
{
        if (!s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p != '%')
                        continue;
                if (p[1] == 'h' || p[1] == 'u' || p[1] == 'U' || p[1] == '%') {
                        p++;
                        continue;
                }
                if (ret_bad_offset)
                        *ret_bad_offset = (size_t) (p - s);
                return -EINVAL;
        }
        return 0;
}

int sbx_specifier_expand(const char *in, const char *user, uid_t uid, const char *home, char **ret)
{
        char uidbuf[32];
        size_t len = 0, o = 0;
        char *out;
        int r;

        if (!in)
                return -EINVAL;
        r = sbx_specifiers_validate(in, NULL);
        if (r < 0)
                return r;
        (void) snprintf(uidbuf, sizeof(uidbuf), "%lu", (unsigned long) uid);

        /* Two passes: measure, then fill. */
        for (int pass = 0; pass < 2; pass++) {
                out = NULL;
                if (pass == 1) {
                        out = malloc(len + 1);
                        if (!out)
                                return -ENOMEM;
                }
                o = 0;
                for (const char *p = in; *p; p++) {
                        const char *add = NULL;
                        size_t n;

                        if (*p != '%') {
                                if (out)
                                        out[o] = *p;
                                o++;
                                continue;
                        }
                        p++;
                        if (*p == 'h')
                                add = home;
                        else if (*p == 'u')
                                add = user;
                        else if (*p == 'U')
                                add = uidbuf;
                        else
                                add = "%";
                        if (!add) {
                                free(out);
                                return -EINVAL;
                        }
                        n = strlen(add);
                        if (out)
                                memcpy(out + o, add, n);
                        o += n;
                }
                len = o;
        }
        out[o] = '\0';
        *ret = out;
        return 0;
}

int sbx_path_normalize(const char *path, unsigned flags, char **ret)
{
        const char *p;
        size_t len;
        char *copy;

        if (!path)
                return -EINVAL;
        len = strlen(path);
        if (len == 0)
                return -EINVAL;
        if (len >= PATH_MAX)
                return -ERANGE;
        for (p = path; *p; p++)
                if (is_cntrl(*p))
                        return -EINVAL;

        p = path;
        if ((flags & SBX_PATH_SPECIFIERS) && strncmp(path, "%h", 2) == 0 &&
            (path[2] == '\0' || path[2] == '/'))
                p = path + 2;
        else if (path[0] != '/')
                return -EINVAL;
        if ((flags & SBX_PATH_SPECIFIERS) && sbx_specifiers_validate(path, NULL) < 0)
                return -EINVAL;

        /* Drop one trailing slash ("/usr/" but not "//"); what remains must have no
         * empty, "." or ".." part. */
        if (len > 1 && path[len - 1] == '/' && path[len - 2] != '/')
                len--;
        for (const char *end = path + len; p < end;) {
                const char *c;
                size_t n;

                if (*p != '/')
                        return -EINVAL;
                c = p + 1;
                for (p = c; p < end && *p != '/'; p++)
                        ;
                n = (size_t) (p - c);
                if (n == 0) {
                        if (c == end && len == 1)
                                break; /* "/" itself */
                        return -EINVAL;
                }
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return -EINVAL;
        }

        copy = strndup(path, len);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

int sbx_split_words(const char *s, char ***ret)
{
        cleanup_strv char **v = NULL;
        const char *p = s;

        if (!s)
                return -EINVAL;
        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (;;) {
                char *word;
                size_t o = 0;
                int r;

                while (is_blank(*p))
                        p++;
                if (*p == '\0')
                        break;
                word = malloc(strlen(p) + 1);
                if (!word)
                        return -ENOMEM;
                while (*p && !is_blank(*p)) {
                        if (*p == '"' || *p == '\'') {
                                char q = *p++;

                                while (*p && *p != q)
                                        word[o++] = *p++;
                                if (*p == '\0') {
                                        free(word);
                                        return -EINVAL;
                                }
                                p++;
                        } else {
                                word[o++] = *p++;
                        }
                }
                word[o] = '\0';
                r = sbx_strv_consume(&v, word);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int sbx_quote_word(const char *word, char **ret)
{
        bool quote = word[0] == '\0';
        char q, *out;
        size_t o = 0;

        for (const char *p = word; *p; p++)
                if (is_blank(*p) || *p == '"' || *p == '\'')
                        quote = true;
        if (!quote) {
                out = strdup(word);
                if (!out)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }

        /* Quote with '"' if the word has none, else with '\'' if it has none; with both,
         * use '"' and write each '"' as '"' between single quotes. A ';' right after a
         * blank would start a comment (even inside quotes, as inih cuts values before
         * we split them), so there the quotes are closed and reopened. */
        q = '"';
        if (strchr(word, '"') && !strchr(word, '\''))
                q = '\'';
        out = malloc(strlen(word) * 5 + 3);
        if (!out)
                return -ENOMEM;
        out[o++] = q;
        for (const char *p = word; *p; p++) {
                if (*p == q) {
                        memcpy(out + o, "\"'\"'\"", 5);
                        o += 5;
                        continue;
                }
                if (*p == ';' && is_blank(out[o - 1])) {
                        out[o++] = q;
                        out[o++] = q;
                }
                out[o++] = *p;
        }
        out[o++] = q;
        out[o] = '\0';
        *ret = out;
        return 0;
}

bool sbx_env_name_valid(const char *s)
{
        if (!s || !(is_alpha(*s) || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!(is_alpha(*s) || is_digit(*s) || *s == '_'))
                        return false;
        return true;
}

bool sbx_user_name_valid(const char *s)
{
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 32 || !(is_alpha(s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];

                if (c == '$' && i == n - 1)
                        continue;
                if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-'))
                        return false;
        }
        return true;
}

bool sbx_hostname_valid(const char *s)
{
        size_t label = 0, n = 0;
        char prev = '.';

        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++, n++) {
                char c = *p;

                if (c == '.') {
                        if (label == 0 || prev == '-')
                                return false;
                        label = 0;
                } else if (is_alpha(c) || is_digit(c) || c == '-') {
                        if (c == '-' && label == 0)
                                return false;
                        if (++label > 63)
                                return false;
                } else {
                        return false;
                }
                prev = c;
        }
        return n <= 64 && prev != '.' && prev != '-';
}

bool sbx_ifname_valid(const char *s)
{
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (const char *p = s; *p; p++)
                if (is_cntrl(*p) || *p == '/' || *p == ':' || *p == ' ' ||
                    (unsigned char) *p >= 0x80)
                        return false;
        return true;
}

static bool opt_is(const char *opt, size_t n, const char *name)
{
        return strlen(name) == n && strncmp(opt, name, n) == 0;
}

static int tmpfs_option_validate(const char *opt, size_t n)
{
        static const char *const flags[] = {"ro", "rw", "nosuid", "nodev", "noexec", "exec"};
        char value[64];
        const char *eq = memchr(opt, '=', n);
        size_t klen, vlen;
        uint64_t v;

        if (!eq) {
                for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                        if (opt_is(opt, n, flags[i]))
                                return 0;
                return -EINVAL;
        }
        klen = (size_t) (eq - opt);
        vlen = n - klen - 1;
        if (vlen == 0 || vlen >= sizeof(value))
                return -EINVAL;
        memcpy(value, eq + 1, vlen);
        value[vlen] = '\0';

        if (opt_is(opt, klen, "mode")) {
                if (vlen > 4)
                        return -EINVAL;
                for (size_t i = 0; i < vlen; i++)
                        if (value[i] < '0' || value[i] > '7')
                                return -EINVAL;
                return 0;
        }
        if (opt_is(opt, klen, "size")) {
                uint32_t pct;

                if (value[vlen - 1] == '%')
                        return sbx_parse_percent(value, &pct) < 0 || pct < 1 || pct > 100 ? -EINVAL
                                                                                          : 0;
                return sbx_parse_size(value, &v) < 0 || v == SBX_SIZE_INFINITY ? -EINVAL : 0;
        }
        if (opt_is(opt, klen, "nr_inodes")) {
                if (value[vlen - 1] == 'K' || value[vlen - 1] == 'M' || value[vlen - 1] == 'G')
                        return sbx_parse_size(value, &v) < 0 ? -EINVAL : 0;
                return sbx_parse_uint64(value, &v) < 0 ? -EINVAL : 0;
        }
        return -EINVAL;
}

int sbx_tmpfs_options_validate(const char *opts, const char **ret_bad)
{
        const char *p = opts;

        if (!opts)
                return -EINVAL;
        for (;;) {
                size_t n = strcspn(p, ",");

                if (n == 0 || tmpfs_option_validate(p, n) < 0) {
                        if (ret_bad)
                                *ret_bad = p;
                        return -EINVAL;
                }
                if (p[n] == '\0')
                        return 0;
                p += n + 1;
        }
}

const char *sbx_table_to_string(const char *const *table, size_t n, int i)
{
        if (i < 0 || (size_t) i >= n)
                return NULL;
        return table[i];
}

int sbx_table_from_string(const char *const *table, size_t n, const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n && i <= INT_MAX; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

size_t sbx_strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

int sbx_strv_consume(char ***v, char *s)
{
        size_t n = sbx_strv_length(*v);
        char **nv;

        if (!s)
                return -EINVAL;
        nv = reallocarray(*v, n + 2, sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[n] = s;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

bool sbx_strv_contains(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}
