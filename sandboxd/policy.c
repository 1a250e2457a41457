/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy files: inih -> struct sbx_policy, every key validated.
 *
 * Parsing is pure (no syscalls, no global state) so that it can be fuzzed; only the
 * sbx_policy_load*() wrappers touch the file system.
 *
 * How we drive Debian's libinih (linked as shipped, runtime globals left at their
 * defaults): ini_parse_stream() pulls lines through our reader callback, one
 * physical line per call. The reader
 *   - counts lines, so that every message and every key carries its line number;
 *   - rejects NUL bytes, invalid UTF-8, control characters and lines longer than
 *     SBX_POLICY_MAX_LINE, and stops the parse at the first error;
 *   - strips leading whitespace, which turns off inih's multi-line continuation
 *     (an indented line after a key would otherwise be glued to that key and be
 *     reported as a confusing "duplicate key"): every line stands alone;
 *   - checks section headers itself, because inih does not tell the handler about
 *     a section that has no keys (an unknown empty section must still be refused);
 *   - refuses lines that inih would not hand to the handler ("Key" without '=',
 *     "Key: value"), with a message better than inih's bare line number.
 * Debian's default line buffer (ini_max_line) is 200 bytes, shorter than the lines
 * we accept. A key line that does not fit is handed to inih as "Key=" and its value
 * is cut out here, by the same rules inih applies (inline comments start at a ';'
 * that follows whitespace; surrounding whitespace is dropped); the handler then
 * uses that value. tests/unit/test-policy.c checks that both paths agree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "parse-util.h"
#include "policy.h"
#include "seccomp.h"

enum section {
        SEC_SANDBOX,
        SEC_ACCESS,
        SEC_FILES,
        SEC_ENVIRONMENT,
        SEC_RESOURCES,
        SEC_NETWORK,
        SEC_SECURITY,
        SEC_LOGIN,
        SEC_COUNT,
};

#define MAX_KEYS 16
#define QUOTE_MAX 64 /* bytes of a user value quoted in a message */
#define QUOTE_BUF ((size_t) QUOTE_MAX * 4 + 8)

struct ctx;

struct key_def {
        const char *name;
        int (*parse)(struct ctx *c, const char *value);
};

struct section_def {
        const char *name;
        const struct key_def *keys;
        size_t n_keys;
};

struct ctx {
        const char *text;
        size_t len;
        size_t pos;
        const char *filename;
        unsigned line; /* the line last handed to inih */

        int r;       /* first error: -EINVAL or -ENOMEM */
        char *error; /* its message */

        bool have_long_value;
        char long_value[SBX_POLICY_MAX_LINE + 1];

        bool seen_section[SEC_COUNT];
        unsigned key_line[SEC_COUNT][MAX_KEYS]; /* 0: key not set */
        int cur_sec, cur_key;                   /* the key being parsed */

        struct sbx_policy *p;
        bool namespaces_set;
        bool network_mode_set;
};

static const char *const ns_table[SBX_NS_COUNT] = {
    [SBX_NS_MOUNT] = "mount", [SBX_NS_IPC] = "ipc", [SBX_NS_UTS] = "uts",
    [SBX_NS_PID] = "pid",     [SBX_NS_NET] = "net",
};

static const char *const network_mode_table[SBX_NETWORK_COUNT] = {
    [SBX_NETWORK_NONE] = "none",
    [SBX_NETWORK_HOST] = "host",
    [SBX_NETWORK_BRIDGE] = "bridge",
    [SBX_NETWORK_NETWORK] = "network",
};

const char *sbx_ns_to_string(enum sbx_ns ns)
{
        return sbx_table_to_string(ns_table, ELEMENTSOF(ns_table), (int) ns);
}

enum sbx_ns sbx_ns_from_string(const char *s)
{
        int i = sbx_table_from_string(ns_table, ELEMENTSOF(ns_table), s);

        return i < 0 ? SBX_NS_INVALID : (enum sbx_ns) i;
}

const char *sbx_network_mode_to_string(enum sbx_network_mode m)
{
        return sbx_table_to_string(network_mode_table, ELEMENTSOF(network_mode_table), (int) m);
}

enum sbx_network_mode sbx_network_mode_from_string(const char *s)
{
        int i = sbx_table_from_string(network_mode_table, ELEMENTSOF(network_mode_table), s);

        return i < 0 ? SBX_NETWORK_INVALID : (enum sbx_network_mode) i;
}

bool sbx_policy_name_valid(const char *name)
{
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n > 64 || name[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = name[i];

                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
                        return false;
        }
        return true;
}

/* ---- messages ------------------------------------------------------------ */

static bool is_space(char ch)
{
        return ch == ' ' || ch == '\t';
}

/* Copies at most QUOTE_MAX bytes of S[0..N) into BUF (QUOTE_BUF bytes), escaping
 * control characters, cutting on a UTF-8 boundary and marking a cut with "...". */
static const char *quote_n(const char *s, size_t n, char *buf)
{
        size_t take = n, o = 0;

        if (take > QUOTE_MAX) {
                take = QUOTE_MAX;
                while (take > 0 && ((unsigned char) s[take] & 0xc0) == 0x80)
                        take--;
        }
        for (size_t i = 0; i < take; i++) {
                unsigned char ch = (unsigned char) s[i];

                if (ch < 0x20 || ch == 0x7f)
                        o += (size_t) snprintf(buf + o, QUOTE_BUF - o, "\\x%02x", ch);
                else
                        buf[o++] = (char) ch;
        }
        if (take < n) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}

#define QN(s, n) quote_n((s), (n), (char[QUOTE_BUF]){0})
#define Q(s) QN((s), strlen(s))

/* Records the first error only: "FILENAME[:LINE]: WHERE MESSAGE". */
__attribute__((format(printf, 4, 0))) static int
ctx_failv(struct ctx *c, unsigned line, const char *where, const char *fmt, va_list ap)
{
        cleanup_free char *msg = NULL;
        int k;

        if (c->r < 0)
                return c->r;
        if (vasprintf(&msg, fmt, ap) < 0) {
                msg = NULL;
                return (c->r = -ENOMEM);
        }
        if (line > 0)
                k = asprintf(&c->error, "%s:%u: %s%s", c->filename, line, where, msg);
        else
                k = asprintf(&c->error, "%s: %s%s", c->filename, where, msg);
        if (k < 0) {
                c->error = NULL;
                return (c->r = -ENOMEM);
        }
        return (c->r = -EINVAL);
}

sbx_printf(2, 3) static int fail_file(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = ctx_failv(c, 0, "", fmt, ap);
        va_end(ap);
        return r;
}

sbx_printf(2, 3) static int fail_line(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = ctx_failv(c, c->line, "", fmt, ap);
        va_end(ap);
        return r;
}

static const struct section_def sections[SEC_COUNT];

static unsigned key_line_of(const struct ctx *c, int sec, int key)
{
        return c->key_line[sec][key];
}

__attribute__((format(printf, 5, 0))) static int fail_keyv(struct ctx *c, unsigned line, int sec,
                                                           int key, const char *fmt, va_list ap)
{
        char where[128];

        (void) snprintf(where, sizeof(where), "[%s] %s: ", sections[sec].name,
                        sections[sec].keys[key].name);
        return ctx_failv(c, line, where, fmt, ap);
}

/* For the key being parsed. */
sbx_printf(2, 3) static int fail_key(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_keyv(c, c->line, c->cur_sec, c->cur_key, fmt, ap);
        va_end(ap);
        return r;
}

static int find_key(int sec, const char *name)
{
        for (size_t i = 0; i < sections[sec].n_keys; i++)
                if (strcmp(sections[sec].keys[i].name, name) == 0)
                        return (int) i;
        return -1;
}

/* For a cross-key check after parsing: names the line of KEY in SEC. */
sbx_printf(4, 5) static int fail_key_at(struct ctx *c, int sec, const char *key, const char *fmt,
                                        ...)
{
        int k = find_key(sec, key);
        va_list ap;
        int r;

        if (k < 0)
                return fail_file(c, "internal error: no key %s", key);
        va_start(ap, fmt);
        r = fail_keyv(c, key_line_of(c, sec, k), sec, k, fmt, ap);
        va_end(ap);
        return r;
}

static int oom(struct ctx *c)
{
        if (c->r >= 0)
                c->r = -ENOMEM;
        return c->r;
}

/* ---- value helpers ----------------------------------------------------- */

#define NOT_SUPPORTED "not supported by this version yet"

static int split_words(struct ctx *c, const char *value, char ***ret)
{
        int r = sbx_split_words(value, ret);

        if (r == -ENOMEM)
                return oom(c);
        if (r < 0)
                return fail_key(c, "unterminated quote in '%s'", Q(value));
        return 0;
}

static int parse_bool(struct ctx *c, const char *value, bool *ret)
{
        int b = sbx_parse_boolean(value);

        if (b < 0)
                return fail_key(c, "expected a boolean (yes or no), got '%s'", Q(value));
        *ret = b;
        return 0;
}

/* An absolute path, optionally "-"-prefixed when ALLOW_DASH, specifiers allowed. */
static int parse_path(struct ctx *c, const char *item, bool allow_dash, char **ret,
                      bool *ret_ignore_missing)
{
        const char *path = item;
        bool dash = false;
        size_t bad, n;
        int r;

        if (allow_dash && path[0] == '-') {
                dash = true;
                path++;
        }
        if (sbx_specifiers_validate(path, &bad) < 0) {
                if (path[bad + 1] == '\0')
                        return fail_key(c, "'%%' at the end of '%s' (write '%%%%' for a '%%')",
                                        Q(item));
                n = 2; /* '%' and the character after it, however many bytes */
                while (((unsigned char) path[bad + n] & 0xc0) == 0x80)
                        n++;
                return fail_key(c, "unknown specifier '%s' in '%s' (known: %%h %%u %%U %%%%)",
                                QN(path + bad, n), Q(item));
        }
        if (path[0] != '/' && !(strncmp(path, "%h", 2) == 0 && (path[2] == '\0' || path[2] == '/')))
                return fail_key(
                    c, "expected an absolute path (starting with '/' or '%%h'), got '%s'", Q(item));
        r = sbx_path_normalize(path, SBX_PATH_SPECIFIERS, ret);
        if (r == -ENOMEM)
                return oom(c);
        if (r == -ERANGE)
                return fail_key(c, "path longer than %d bytes: '%s'", PATH_MAX - 1, Q(item));
        if (r < 0)
                return fail_key(c, "path must not contain '.', '..' or '//' components, got '%s'",
                                Q(item));
        if (ret_ignore_missing)
                *ret_ignore_missing = dash;
        return 0;
}

static int parse_path_list(struct ctx *c, const char *value, struct sbx_path **paths, size_t *n)
{
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++) {
                struct sbx_path *np;
                char *path = NULL;
                bool dash = false;

                r = parse_path(c, words[i], true, &path, &dash);
                if (r < 0)
                        return r;
                np = reallocarray(*paths, *n + 1, sizeof(**paths));
                if (!np) {
                        free(path);
                        return oom(c);
                }
                *paths = np;
                np[(*n)++] = (struct sbx_path){.path = path, .ignore_missing = dash};
        }
        return 0;
}

static int set_string(struct ctx *c, char **field, const char *value)
{
        char *s = strdup(value);

        if (!s)
                return oom(c);
        free(*field);
        *field = s;
        return 0;
}

/* ---- [Sandbox] --------------------------------------------------------- */

static int parse_sandbox_mode(struct ctx *c, const char *value)
{
        if (strcmp(value, "workload") == 0)
                return 0;
        if (strcmp(value, "vps") == 0)
                return fail_key(c, "'vps' is valid, but VPS mode is " NOT_SUPPORTED);
        return fail_key(c, "expected 'workload' or 'vps', got '%s'", Q(value));
}

static int parse_namespaces(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        unsigned ns = 0;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++) {
                enum sbx_ns n = sbx_ns_from_string(words[i]);

                if (strcmp(words[i], "user") == 0 || strcmp(words[i], "cgroup") == 0)
                        return fail_key(c, "'%s' is valid, but %s namespaces are " NOT_SUPPORTED,
                                        words[i], words[i]);
                if (n == SBX_NS_INVALID)
                        return fail_key(
                            c, "expected namespaces from 'mount ipc uts pid net', got '%s'",
                            Q(words[i]));
                if (ns & (1u << n))
                        return fail_key(c, "'%s' is listed twice", words[i]);
                ns |= 1u << n;
        }
        if (!(ns & (1u << SBX_NS_MOUNT)))
                return fail_key(c, "the 'mount' namespace is mandatory, got '%s'", Q(value));
        c->p->namespaces = ns;
        c->namespaces_set = true;
        return 0;
}

static int parse_hostname(struct ctx *c, const char *value)
{
        if (!sbx_hostname_valid(value))
                return fail_key(c,
                                "expected an RFC 1123 host name (letters, digits, '-' and '.', "
                                "at most 64 bytes), got '%s'",
                                Q(value));
        return set_string(c, &c->p->hostname, value);
}

static int parse_description(struct ctx *c, const char *value)
{
        if (value[0] == '\0')
                return 0;
        return set_string(c, &c->p->description, value);
}

/* ---- [Access] ---------------------------------------------------------- */

static int parse_names(struct ctx *c, const char *value, bool allow_star, char ***ret)
{
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++) {
                if (allow_star && strcmp(words[i], "*") == 0) {
                        if (sbx_strv_length(words) > 1)
                                return fail_key(c,
                                                "'*' (everyone) cannot be combined with "
                                                "names, got '%s'",
                                                Q(value));
                        c->p->access_everyone = true;
                        return 0;
                }
                if (!sbx_user_name_valid(words[i]))
                        return fail_key(c,
                                        "expected %s names (letters, digits, '_', '.', '-', at "
                                        "most 32 bytes), got '%s'",
                                        allow_star ? "user" : "group", Q(words[i]));
        }
        if (words[0])
                *ret = TAKE_PTR(words);
        return 0;
}

static int parse_users(struct ctx *c, const char *value)
{
        return parse_names(c, value, true, &c->p->users);
}

static int parse_groups(struct ctx *c, const char *value)
{
        return parse_names(c, value, false, &c->p->groups);
}

/* ---- [Files] ----------------------------------------------------------- */

static int parse_private_tmp(struct ctx *c, const char *value)
{
        return parse_bool(c, value, &c->p->private_tmp);
}

static int parse_private_devices(struct ctx *c, const char *value)
{
        return parse_bool(c, value, &c->p->private_devices);
}

static int parse_read_only_paths(struct ctx *c, const char *value)
{
        return parse_path_list(c, value, &c->p->read_only_paths, &c->p->n_read_only_paths);
}

static int parse_read_write_paths(struct ctx *c, const char *value)
{
        return parse_path_list(c, value, &c->p->read_write_paths, &c->p->n_read_write_paths);
}

static int parse_inaccessible_paths(struct ctx *c, const char *value)
{
        return parse_path_list(c, value, &c->p->inaccessible_paths, &c->p->n_inaccessible_paths);
}

static int parse_bind_item(struct ctx *c, const char *item, bool read_only)
{
        cleanup_free char *copy = strdup(item), *source = NULL, *target = NULL;
        struct sbx_bind *nb;
        char *dst, *opts = NULL;
        bool dash = false, recursive = true;
        int r;

        if (!copy)
                return oom(c);
        dst = strchr(copy, ':');
        if (dst) {
                *dst++ = '\0';
                opts = strchr(dst, ':');
                if (opts)
                        *opts++ = '\0';
                if (opts && strchr(opts, ':'))
                        return fail_key(c, "expected SOURCE[:DESTINATION[:OPTIONS]], got '%s'",
                                        Q(item));
        }
        r = parse_path(c, copy, true, &source, &dash);
        if (r < 0)
                return r;
        if (dst) {
                if (dst[0] != '/' && strncmp(dst, "%h", 2) != 0 &&
                    sbx_specifiers_validate(dst, NULL) >= 0)
                        return fail_key(c,
                                        "expected an absolute destination path (starting with "
                                        "'/' or '%%h'), got '%s' in '%s'",
                                        Q(dst), Q(item));
                r = parse_path(c, dst, false, &target, NULL);
                if (r < 0)
                        return r;
        }
        if (opts) {
                if (strcmp(opts, "norbind") == 0)
                        recursive = false;
                else if (strcmp(opts, "rbind") != 0)
                        return fail_key(
                            c, "expected 'rbind' or 'norbind' as options, got '%s' in '%s'",
                            Q(opts), Q(item));
        }
        if (!target) {
                target = strdup(source);
                if (!target)
                        return oom(c);
        }
        nb = reallocarray(c->p->binds, c->p->n_binds + 1, sizeof(*nb));
        if (!nb)
                return oom(c);
        c->p->binds = nb;
        nb[c->p->n_binds++] = (struct sbx_bind){
            .source = TAKE_PTR(source),
            .target = TAKE_PTR(target),
            .read_only = read_only,
            .ignore_missing = dash,
            .recursive = recursive,
        };
        return 0;
}

static int parse_binds(struct ctx *c, const char *value, bool read_only)
{
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        for (size_t i = 0; r >= 0 && words[i]; i++)
                r = parse_bind_item(c, words[i], read_only);
        return r;
}

static int parse_bind_paths(struct ctx *c, const char *value)
{
        return parse_binds(c, value, false);
}

static int parse_bind_read_only_paths(struct ctx *c, const char *value)
{
        return parse_binds(c, value, true);
}

static int parse_tmpfs_item(struct ctx *c, const char *item)
{
        cleanup_free char *copy = strdup(item), *path = NULL, *options = NULL;
        struct sbx_tmpfs *nt;
        char *opts;
        int r;

        if (!copy)
                return oom(c);
        opts = strchr(copy, ':');
        if (opts)
                *opts++ = '\0';
        r = parse_path(c, copy, false, &path, NULL);
        if (r < 0)
                return r;
        if (opts) {
                const char *bad = NULL;

                if (sbx_tmpfs_options_validate(opts, &bad) < 0)
                        return fail_key(c,
                                        "unsupported tmpfs option '%s' in '%s' (allowed: mode=, "
                                        "size=, nr_inodes=, ro, rw, nosuid, nodev, noexec, exec)",
                                        QN(bad, strcspn(bad, ",")), Q(item));
                options = strdup(opts);
                if (!options)
                        return oom(c);
        }
        nt = reallocarray(c->p->tmpfs, c->p->n_tmpfs + 1, sizeof(*nt));
        if (!nt)
                return oom(c);
        c->p->tmpfs = nt;
        nt[c->p->n_tmpfs++] = (struct sbx_tmpfs){
            .path = TAKE_PTR(path),
            .options = TAKE_PTR(options),
        };
        return 0;
}

static int parse_tmpfs(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        for (size_t i = 0; r >= 0 && words[i]; i++)
                r = parse_tmpfs_item(c, words[i]);
        return r;
}

/* One word, so that a path with spaces is quoted as in the list keys. */
static int parse_working_directory(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        const char *dir;
        char *path = NULL;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        dir = words[0];
        if (!dir || words[1])
                return fail_key(c, "expected '~' or one absolute path, got '%s'", Q(value));
        if (strcmp(dir, "~") == 0) {
                c->p->workdir_mode = SBX_WORKDIR_HOME;
                return 0;
        }
        if (dir[0] != '/' && strncmp(dir, "%h", 2) != 0 && sbx_specifiers_validate(dir, NULL) >= 0)
                return fail_key(c, "expected '~' or an absolute path, got '%s'", Q(dir));
        r = parse_path(c, dir, false, &path, NULL);
        if (r < 0)
                return r;
        c->p->workdir_mode = SBX_WORKDIR_PATH;
        free(c->p->workdir);
        c->p->workdir = path;
        return 0;
}

/* ---- [Environment] ----------------------------------------------------- */

static int parse_pass_environment(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++) {
                char *s;

                if (!sbx_env_name_valid(words[i]))
                        return fail_key(c,
                                        "expected variable names ([A-Za-z_][A-Za-z0-9_]*), got "
                                        "'%s'",
                                        Q(words[i]));
                if (sbx_strv_contains(c->p->pass_env, words[i]))
                        continue;
                s = strdup(words[i]);
                if (!s || sbx_strv_consume(&c->p->pass_env, s) < 0)
                        return oom(c);
        }
        return 0;
}

static int parse_environment(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++) {
                char *eq = strchr(words[i], '='), *s;
                size_t n, j;

                if (!eq)
                        return fail_key(c, "expected KEY=VALUE, got '%s'", Q(words[i]));
                n = (size_t) (eq - words[i]);
                *eq = '\0';
                if (!sbx_env_name_valid(words[i]))
                        return fail_key(c,
                                        "expected KEY=VALUE with KEY matching "
                                        "[A-Za-z_][A-Za-z0-9_]*, got '%s'",
                                        Q(words[i]));
                *eq = '=';
                s = strdup(words[i]);
                if (!s)
                        return oom(c);
                /* A later assignment of the same variable wins, as in systemd. */
                for (j = 0; c->p->set_env && c->p->set_env[j]; j++)
                        if (strncmp(c->p->set_env[j], s, n + 1) == 0)
                                break;
                if (c->p->set_env && c->p->set_env[j]) {
                        free(c->p->set_env[j]);
                        c->p->set_env[j] = s;
                } else if (sbx_strv_consume(&c->p->set_env, s) < 0) {
                        return oom(c);
                }
        }
        return 0;
}

/* ---- [Resources] ------------------------------------------------------- */

/* Every key here is stored in struct sbx_limits; cgroup.c applies them. */

static const char *const limit_table[SBX_LIMIT_COUNT] = {
    [SBX_LIMIT_MEMORY_MAX] = "MemoryMax",
    [SBX_LIMIT_MEMORY_HIGH] = "MemoryHigh",
    [SBX_LIMIT_MEMORY_SWAP_MAX] = "MemorySwapMax",
    [SBX_LIMIT_TASKS_MAX] = "TasksMax",
    [SBX_LIMIT_CPU_QUOTA] = "CPUQuota",
    [SBX_LIMIT_CPU_WEIGHT] = "CPUWeight",
    [SBX_LIMIT_ALLOWED_CPUS] = "AllowedCPUs",
    [SBX_LIMIT_IO_WEIGHT] = "IOWeight",
    [SBX_LIMIT_DEVICE_POLICY] = "DevicePolicy",
    [SBX_LIMIT_DEVICE_ALLOW] = "DeviceAllow",
    [SBX_LIMIT_ALLOWED_MEMORY_NODES] = "AllowedMemoryNodes",
    [SBX_LIMIT_IO_READ_BANDWIDTH_MAX] = "IOReadBandwidthMax",
    [SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX] = "IOWriteBandwidthMax",
};

const char *sbx_limit_to_string(enum sbx_limit l)
{
        return sbx_table_to_string(limit_table, ELEMENTSOF(limit_table), (int) l);
}

/* Stores a limit: the key being parsed names it (one handler serves several keys). */
static int set_limit(struct ctx *c, uint64_t v)
{
        int l = sbx_table_from_string(limit_table, ELEMENTSOF(limit_table),
                                      sections[c->cur_sec].keys[c->cur_key].name);
        struct sbx_limits *lim = &c->p->limits;

        switch (l) {
        case SBX_LIMIT_MEMORY_MAX:
                lim->memory_max = v;
                break;
        case SBX_LIMIT_MEMORY_HIGH:
                lim->memory_high = v;
                break;
        case SBX_LIMIT_MEMORY_SWAP_MAX:
                lim->memory_swap_max = v;
                break;
        case SBX_LIMIT_TASKS_MAX:
                lim->tasks_max = v;
                break;
        case SBX_LIMIT_CPU_QUOTA:
                lim->cpu_quota = (uint32_t) v;
                break;
        case SBX_LIMIT_CPU_WEIGHT:
                lim->cpu_weight = v;
                break;
        case SBX_LIMIT_IO_WEIGHT:
                lim->io_weight = v;
                break;
        default:
                return fail_key(c, "internal error: not a stored limit");
        }
        lim->set |= 1u << l;
        return 0;
}

static int parse_memory(struct ctx *c, const char *value)
{
        uint64_t v;
        int r = sbx_parse_size(value, &v);

        if (r == -ERANGE)
                return fail_key(c, "size out of range, got '%s'", Q(value));
        if (r < 0)
                return fail_key(c, "expected a size like 512M or 'infinity', got '%s'", Q(value));
        return set_limit(c, v);
}

static int parse_tasks_max(struct ctx *c, const char *value)
{
        uint64_t v = SBX_LIMIT_INFINITY;

        if (strcmp(value, "infinity") != 0 &&
            sbx_parse_uint64_range(value, 1, UINT64_MAX - 1, &v) < 0)
                return fail_key(
                    c, "expected a number of tasks (at least 1) or 'infinity', got '%s'", Q(value));
        return set_limit(c, v);
}

/* At most 1000000% (10000 CPUs): the quota per 100 ms period then fits every
 * kernel interface. */
#define CPU_QUOTA_MAX 1000000u

static int parse_cpu_quota(struct ctx *c, const char *value)
{
        uint32_t v;

        if (sbx_parse_percent(value, &v) < 0 || v == 0 || v > CPU_QUOTA_MAX)
                return fail_key(c, "expected a percentage above 0 like 150%%, got '%s'", Q(value));
        return set_limit(c, v);
}

static int parse_weight(struct ctx *c, const char *value)
{
        uint64_t v;

        if (sbx_parse_uint64_range(value, 1, 10000, &v) < 0)
                return fail_key(c, "expected a weight from 1 to 10000, got '%s'", Q(value));
        return set_limit(c, v);
}

/* Validates a CPU or node list; stores its canonical form in *RET if RET. */
static int parse_cpu_set(struct ctx *c, const char *value, char **ret)
{
        struct sbx_cpu_set set;
        int r = sbx_parse_cpu_list(value, &set);

        if (r == -ERANGE)
                return fail_key(c, "expected ranges with numbers below %u, got '%s'",
                                SBX_CPU_SET_MAX, Q(value));
        if (r < 0)
                return fail_key(c, "expected a list like 0-1,3, got '%s'", Q(value));
        if (ret && sbx_cpu_set_format(&set, ret) < 0)
                return oom(c);
        return 0;
}

static int parse_cpu_list(struct ctx *c, const char *value)
{
        cleanup_free char *s = NULL;
        int r = parse_cpu_set(c, value, &s);

        if (r < 0)
                return r;
        /* sbx_parse_cpu_list() refuses an empty list: S names at least one CPU. */
        free(c->p->limits.allowed_cpus);
        c->p->limits.allowed_cpus = TAKE_PTR(s);
        c->p->limits.set |= 1u << SBX_LIMIT_ALLOWED_CPUS;
        return 0;
}

static int parse_memory_nodes(struct ctx *c, const char *value)
{
        cleanup_free char *s = NULL;
        int r = parse_cpu_set(c, value, &s);

        if (r < 0)
                return r;
        free(c->p->limits.allowed_memory_nodes);
        c->p->limits.allowed_memory_nodes = TAKE_PTR(s);
        c->p->limits.set |= 1u << SBX_LIMIT_ALLOWED_MEMORY_NODES;
        return 0;
}

/* "/dev/..." (no specifiers), as systemd's device-path arguments. */
static bool device_path_valid(const char *s)
{
        cleanup_free char *norm = NULL;

        /* Device nodes never have blanks or quotes in their names, and the
         * policy dump writes these lists unquoted. */
        return strncmp(s, "/dev/", 5) == 0 && s[5] != '\0' && !strpbrk(s, " \t\"'") &&
               sbx_path_normalize(s, 0, &norm) >= 0;
}

/* Driver names as /proc/devices lists them: "pts", "usb_device", "loop". */
static bool device_class_valid(const char *s)
{
        if (*s == '\0')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
                        return false;
        return true;
}

static int parse_io_bandwidth(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        bool write = strcmp(sections[c->cur_sec].keys[c->cur_key].name, "IOWriteBandwidthMax") == 0;
        struct sbx_limits *l = &c->p->limits;
        uint64_t v;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        if (sbx_strv_length(words) != 2 || !device_path_valid(words[0]) ||
            sbx_parse_size(words[1], &v) < 0 || v == 0)
                return fail_key(c, "expected '/dev/DEVICE RATE' like '/dev/sda 10M', got '%s'",
                                Q(value));
        free(l->io_bandwidth_device[write]);
        l->io_bandwidth_device[write] = strdup(words[0]);
        if (!l->io_bandwidth_device[write])
                return oom(c);
        l->io_bandwidth[write] = v;
        l->set |=
            1u << (write ? SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX : SBX_LIMIT_IO_READ_BANDWIDTH_MAX);
        return 0;
}

static int parse_device_policy(struct ctx *c, const char *value)
{
        static const char *const names[] = {[SBX_DEVICE_POLICY_AUTO] = "auto",
                                            [SBX_DEVICE_POLICY_CLOSED] = "closed",
                                            [SBX_DEVICE_POLICY_STRICT] = "strict"};
        int v = sbx_table_from_string(names, ELEMENTSOF(names), value);

        if (v < 0)
                return fail_key(c, "expected 'auto', 'closed' or 'strict', got '%s'", Q(value));
        c->p->limits.device_policy = v;
        c->p->limits.set |= 1u << SBX_LIMIT_DEVICE_POLICY;
        return 0;
}

static bool device_access_valid(const char *s)
{
        bool seen[3] = {};

        for (; *s; s++) {
                const char *k = strchr("rwm", *s);

                if (!k || seen[k - "rwm"])
                        return false;
                seen[k - "rwm"] = true;
        }
        return true;
}

/* One or more "DEVICE [r][w][m]" (duplicate keys are refused, so one line
 * lists them all: "/dev/zero r char-pts rw"). DEVICE is a node path or a
 * class, "char-NAME" / "block-NAME" (a pattern over /proc/devices). */
static int parse_device_allow(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL, **out = NULL;
        size_t n;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        n = sbx_strv_length(words);
        if (n == 0)
                return fail_key(c, "expected '/dev/DEVICE [r][w][m]', got '%s'", Q(value));
        for (size_t i = 0; i < n; i++) {
                const char *dev = words[i], *acc = "rwm";
                bool path = device_path_valid(dev), class = false;
                char canon[4] = "", *entry;
                size_t k = 0;

                if (!path)
                        class = (strncmp(dev, "char-", 5) == 0 && device_class_valid(dev + 5)) ||
                                (strncmp(dev, "block-", 6) == 0 && device_class_valid(dev + 6));
                if (i + 1 < n && words[i + 1][0] != '/' && strncmp(words[i + 1], "char-", 5) != 0 &&
                    strncmp(words[i + 1], "block-", 6) != 0)
                        acc = words[++i];
                if ((!path && !class) || acc[0] == '\0' || !device_access_valid(acc))
                        return fail_key(c, "expected '/dev/DEVICE [r][w][m]', got '%s'", Q(value));
                for (const char *x = "rwm"; *x; x++)
                        if (strchr(acc, *x))
                                canon[k++] = *x;
                if (asprintf(&entry, "%s %s", dev, canon) < 0 || sbx_strv_consume(&out, entry) < 0)
                        return oom(c);
        }
        sbx_strv_free(c->p->limits.device_allow);
        c->p->limits.device_allow = TAKE_PTR(out);
        c->p->limits.set |= 1u << SBX_LIMIT_DEVICE_ALLOW;
        return 0;
}

/* ---- [Network] --------------------------------------------------------- */

static int parse_network_mode(struct ctx *c, const char *value)
{
        enum sbx_network_mode m = sbx_network_mode_from_string(value);

        if (m == SBX_NETWORK_INVALID)
                return fail_key(c, "expected 'none', 'host', 'bridge' or 'network', got '%s'",
                                Q(value));
        c->p->network_mode = m;
        c->network_mode_set = true;
        return 0;
}

static int parse_bridge(struct ctx *c, const char *value)
{
        if (!sbx_ifname_valid(value))
                return fail_key(c, "expected an interface name (1 to 15 bytes), got '%s'",
                                Q(value));
        return set_string(c, &c->p->net.bridge, value);
}

static int parse_network_name(struct ctx *c, const char *value)
{
        if (!sbx_policy_name_valid(value))
                return fail_key(c,
                                "expected a network name ([A-Za-z0-9_-], 1 to 64 bytes), got '%s'",
                                Q(value));
        return set_string(c, &c->p->net.network, value);
}

static bool ip_address_valid(const char *s)
{
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "ADDRESS/PREFIX", IPv4 or IPv6; the address family, or 0. */
static int cidr_family(const char *s)
{
        unsigned char buf[sizeof(struct in6_addr)];
        char addr[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        uint64_t prefix;
        size_t n;

        if (!slash)
                return 0;
        n = (size_t) (slash - s);
        if (n == 0 || n >= sizeof(addr))
                return 0;
        memcpy(addr, s, n);
        addr[n] = '\0';
        if (inet_pton(AF_INET, addr, buf) == 1)
                return sbx_parse_uint64_range(slash + 1, 0, 32, &prefix) >= 0 ? AF_INET : 0;
        if (inet_pton(AF_INET6, addr, buf) == 1)
                return sbx_parse_uint64_range(slash + 1, 0, 128, &prefix) >= 0 ? AF_INET6 : 0;
        return 0;
}

static int parse_address(struct ctx *c, const char *value)
{
        if (!cidr_family(value))
                return fail_key(c, "expected ADDRESS/PREFIX like 10.0.0.2/24, got '%s'", Q(value));
        return set_string(c, &c->p->net.address, value);
}

/* Leases are IPv4 only: an IPv6 pool would want SLAAC or DHCPv6, not files. */
static int parse_address_pool(struct ctx *c, const char *value)
{
        int af = cidr_family(value);
        uint64_t prefix = 0;

        if (!af)
                return fail_key(c, "expected ADDRESS/PREFIX like 10.0.0.0/24, got '%s'", Q(value));
        if (af != AF_INET)
                return fail_key(c, "'%s' is valid, but address pools are IPv4 only", Q(value));
        (void) sbx_parse_uint64_range(strchr(value, '/') + 1, 0, 32, &prefix);
        if (prefix < 8 || prefix > 30)
                return fail_key(c, "expected a prefix from /8 to /30, got '%s'", Q(value));
        return set_string(c, &c->p->net.address_pool, value);
}

/* IngressRate=, EgressRate=: bits per second, with an optional K, M or G
 * (powers of 1000, as network rates are written). The kernel's token bucket
 * takes bytes per second in 32 bits: at most 16G. */
static int parse_rate(struct ctx *c, const char *value)
{
        static const char suffixes[] = "KMG";
        char digits[32];
        size_t n = strspn(value, "0123456789");
        const char *s = value[n] ? strchr(suffixes, value[n]) : NULL;
        uint64_t v, mult = 1;

        if (n == 0 || n >= sizeof(digits) || (value[n] && (!s || value[n + 1])))
                return fail_key(c,
                                "expected bits per second like 100M (K, M, G: powers of 1000), "
                                "got '%s'",
                                Q(value));
        for (const char *x = suffixes; s && x <= s; x++)
                mult *= 1000;
        memcpy(digits, value, n);
        digits[n] = '\0';
        if (sbx_parse_uint64(digits, &v) < 0 || v == 0 || v > UINT64_MAX / mult || v * mult < 8 ||
            v * mult / 8 > INT32_MAX)
                return fail_key(c, "expected a rate from 8 to 16G bits per second, got '%s'",
                                Q(value));
        if (strcmp(sections[c->cur_sec].keys[c->cur_key].name, "IngressRate") == 0)
                c->p->net.ingress_rate = v * mult;
        else
                c->p->net.egress_rate = v * mult;
        return 0;
}

static int parse_gateway(struct ctx *c, const char *value)
{
        if (!ip_address_valid(value))
                return fail_key(c, "expected an IPv4 or IPv6 address, got '%s'", Q(value));
        return set_string(c, &c->p->net.gateway, value);
}

/* ---- [Security] -------------------------------------------------------- */

static int parse_no_new_privileges(struct ctx *c, const char *value)
{
        bool b = false;
        int r = parse_bool(c, value, &b);

        if (r < 0)
                return r;
        if (!b)
                return fail_key(c, "'%s' is refused: no_new_privs is always set in a sandbox",
                                Q(value));
        c->p->no_new_privileges = true;
        return 0;
}

/* systemd's syntax: names and @groups, a leading '~' for a deny list; empty:
 * no filter. Names are checked against libseccomp's table (seccomp.c, pure). */
static int parse_syscall_filter(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        bool deny = value[0] == '~';
        int r = split_words(c, deny ? value + 1 : value, &words);

        if (r < 0)
                return r;
        if (!words[0]) {
                if (deny)
                        return fail_key(c, "expected system call names or @groups after '~'");
                return 0;
        }
        for (size_t i = 0; words[i]; i++) {
                r = sbx_seccomp_validate_name(words[i]);
                if (r == -ENOENT)
                        return fail_key(c, "unknown system call '%s'", Q(words[i]));
                if (r == -ESRCH)
                        return fail_key(c,
                                        "unknown system call group '%s' (sbxctl policy syscalls "
                                        "lists them)",
                                        Q(words[i]));
                if (r < 0)
                        return fail_key(c, "expected system call names or @groups, got '%s'",
                                        Q(words[i]));
                if (!deny && strcmp(words[i], "@default") == 0)
                        return fail_key(c, "'@default' is a deny list: write '~@default'");
        }
        c->p->syscall_filter = TAKE_PTR(words);
        c->p->syscall_allow_list = !deny;
        return 0;
}

static int parse_syscall_errno(struct ctx *c, const char *value)
{
        uint64_t v;
        int e = 0;

        if (strcmp(value, "kill") == 0)
                e = SBX_SYSCALL_ERRNO_KILL;
        else if (sbx_parse_uint64_range(value, 1, 4095, &v) >= 0)
                e = (int) v;
        /* An errno name known to the C library (EPERM, EACCES, ...). */
        for (int i = 1; e == 0 && i < 4096; i++) {
                const char *name = strerrorname_np(i);

                if (name && strcmp(name, value) == 0)
                        e = i;
        }
        if (e == 0)
                return fail_key(c,
                                "expected an errno name like EPERM, a number from 1 to 4095 "
                                "or 'kill', got '%s'",
                                Q(value));
        c->p->syscall_errno = e;
        return 0;
}

static int parse_syscall_architectures(struct ctx *c, const char *value)
{
        static const char *const archs[] = {
            "native",   "x86",    "x86-64",     "x32",       "arm",           "arm64", "mips",
            "mipsel",   "mips64", "mips64-n32", "mips64-le", "mips64-le-n32", "ppc",   "ppc64",
            "ppc64-le", "s390",   "s390x",      "riscv64",   "loongarch64",
        };
#if defined(__x86_64__) && !defined(__ILP32__)
        static const char native[] = "x86-64";
#elif defined(__aarch64__)
        static const char native[] = "arm64";
#else
        static const char native[] = "native";
#endif
        cleanup_strv char **words = NULL;
        int r = split_words(c, value, &words);

        if (r < 0)
                return r;
        if (!words[0])
                return fail_key(c, "expected architecture names like 'native', got ''");
        for (size_t i = 0; words[i]; i++) {
                if (sbx_table_from_string(archs, ELEMENTSOF(archs), words[i]) < 0)
                        return fail_key(c,
                                        "expected architecture names like 'native' or "
                                        "'x86-64', got '%s'",
                                        Q(words[i]));
                /* The filter's rules use native numbers only: another ABI
                 * (i386's int 0x80, x32) is always killed. */
                if (strcmp(words[i], "native") != 0 && strcmp(words[i], native) != 0)
                        return fail_key(c,
                                        "'%s' is valid, but only the native architecture "
                                        "('native', '%s') is supported",
                                        words[i], native);
        }
        return 0;
}

static bool capability_name_valid(const char *s)
{
        if (strncmp(s, "CAP_", 4) != 0 || s[4] == '\0')
                return false;
        for (s += 4; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

static int parse_capability_bounding_set(struct ctx *c, const char *value)
{
        cleanup_strv char **words = NULL;
        int r;

        /* Empty: no capabilities, which is what every sandbox gets. */
        if (value[0] == '\0')
                return 0;
        r = split_words(c, value[0] == '~' ? value + 1 : value, &words);
        if (r < 0)
                return r;
        for (size_t i = 0; words[i]; i++)
                if (!capability_name_valid(words[i]))
                        return fail_key(c, "expected capability names like CAP_NET_ADMIN, got '%s'",
                                        Q(words[i]));
        return fail_key(c, "valid, but capabilities are " NOT_SUPPORTED
                           ": only an empty value (no capabilities) is accepted");
}

/* ---- [Login] ----------------------------------------------------------- */

static int parse_linger(struct ctx *c, const char *value)
{
        uint64_t v;
        int r = sbx_parse_duration(value, &v);

        if (r == -ERANGE)
                return fail_key(c, "duration out of range, got '%s'", Q(value));
        if (r < 0)
                return fail_key(c, "expected a duration like 30s, 5min or 1h, got '%s'", Q(value));
        c->p->linger_usec = v;
        return 0;
}

/* More than a login program could open: a bound, not a policy choice. */
#define MAX_SESSIONS_MAX 65536u

static int parse_max_sessions(struct ctx *c, const char *value)
{
        uint64_t v = 0;

        if (strcmp(value, "infinity") != 0 &&
            sbx_parse_uint64_range(value, 1, MAX_SESSIONS_MAX, &v) < 0)
                return fail_key(
                    c, "expected a number of sessions from 1 to %u or 'infinity', got '%s'",
                    MAX_SESSIONS_MAX, Q(value));
        c->p->max_sessions = (uint32_t) v;
        return 0;
}

/* ---- tables ------------------------------------------------------------ */

static const struct key_def sandbox_keys[] = {
    {"Mode", parse_sandbox_mode},
    {"Namespaces", parse_namespaces},
    {"Hostname", parse_hostname},
    {"Description", parse_description},
};

static const struct key_def access_keys[] = {
    {"Users", parse_users},
    {"Groups", parse_groups},
};

static const struct key_def files_keys[] = {
    {"PrivateTmp", parse_private_tmp},
    {"PrivateDevices", parse_private_devices},
    {"ReadOnlyPaths", parse_read_only_paths},
    {"ReadWritePaths", parse_read_write_paths},
    {"InaccessiblePaths", parse_inaccessible_paths},
    {"BindPaths", parse_bind_paths},
    {"BindReadOnlyPaths", parse_bind_read_only_paths},
    {"TemporaryFileSystem", parse_tmpfs},
    {"WorkingDirectory", parse_working_directory},
};

static const struct key_def environment_keys[] = {
    {"PassEnvironment", parse_pass_environment},
    {"Environment", parse_environment},
};

static const struct key_def resources_keys[] = {
    {"MemoryMax", parse_memory},
    {"MemoryHigh", parse_memory},
    {"MemorySwapMax", parse_memory},
    {"TasksMax", parse_tasks_max},
    {"CPUQuota", parse_cpu_quota},
    {"CPUWeight", parse_weight},
    {"AllowedCPUs", parse_cpu_list},
    {"AllowedMemoryNodes", parse_memory_nodes},
    {"IOWeight", parse_weight},
    {"IOReadBandwidthMax", parse_io_bandwidth},
    {"IOWriteBandwidthMax", parse_io_bandwidth},
    {"DevicePolicy", parse_device_policy},
    {"DeviceAllow", parse_device_allow},
};

static const struct key_def network_keys[] = {
    {"Mode", parse_network_mode}, {"Bridge", parse_bridge},   {"Network", parse_network_name},
    {"Address", parse_address},   {"Gateway", parse_gateway}, {"AddressPool", parse_address_pool},
    {"IngressRate", parse_rate},  {"EgressRate", parse_rate},
};

static const struct key_def security_keys[] = {
    {"NoNewPrivileges", parse_no_new_privileges},
    {"SystemCallFilter", parse_syscall_filter},
    {"SystemCallErrorNumber", parse_syscall_errno},
    {"SystemCallArchitectures", parse_syscall_architectures},
    {"CapabilityBoundingSet", parse_capability_bounding_set},
};

static const struct key_def login_keys[] = {
    {"Linger", parse_linger},
    {"MaxSessions", parse_max_sessions},
};

#define SECTION(n, k)                                                                              \
        {                                                                                          \
                n, k, ELEMENTSOF(k)                                                                \
        }
static const struct section_def sections[SEC_COUNT] = {
    [SEC_SANDBOX] = SECTION("Sandbox", sandbox_keys),
    [SEC_ACCESS] = SECTION("Access", access_keys),
    [SEC_FILES] = SECTION("Files", files_keys),
    [SEC_ENVIRONMENT] = SECTION("Environment", environment_keys),
    [SEC_RESOURCES] = SECTION("Resources", resources_keys),
    [SEC_NETWORK] = SECTION("Network", network_keys),
    [SEC_SECURITY] = SECTION("Security", security_keys),
    [SEC_LOGIN] = SECTION("Login", login_keys),
};
_Static_assert(ELEMENTSOF(resources_keys) <= MAX_KEYS, "MAX_KEYS too small");
_Static_assert(ELEMENTSOF(files_keys) <= MAX_KEYS, "MAX_KEYS too small");

static int find_section(const char *name, size_t n, bool ignore_case)
{
        for (int i = 0; i < SEC_COUNT; i++)
                if (strlen(sections[i].name) == n &&
                    (ignore_case ? strncasecmp(sections[i].name, name, n)
                                 : strncmp(sections[i].name, name, n)) == 0)
                        return i;
        return -1;
}

/* ---- reader and handler -------------------------------------------------- */

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

static int check_line_bytes(struct ctx *c, const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *) s;

        for (size_t i = 0; i < n;) {
                size_t k;

                if (u[i] == '\t') {
                        i++;
                        continue;
                }
                if (u[i] < 0x20 || u[i] == 0x7f)
                        return fail_line(c, "contains a control character (\\x%02x)", u[i]);
                k = utf8_char_len(u + i, n - i);
                if (k == 0)
                        return fail_line(c, "invalid UTF-8 (byte \\x%02x)", u[i]);
                i += k;
        }
        return 0;
}

/* Copies S[0..N) and a newline into inih's buffer STR of NUM bytes. */
static char *emit(char *str, int num, const char *s, size_t n)
{
        if (num < 3)
                return NULL;
        if (n + 2 > (size_t) num)
                n = (size_t) num - 2;
        memcpy(str, s, n);
        str[n] = '\n';
        str[n + 1] = '\0';
        return str;
}

static char *read_section_header(struct ctx *c, char *str, int num, const char *s, size_t n)
{
        const char *close = memchr(s, ']', n), *rest;
        char header[80];
        int sec;

        if (!close) {
                (void) fail_line(c, "unterminated section header '%s'", QN(s, n));
                return NULL;
        }
        for (rest = close + 1; rest < s + n && is_space(*rest); rest++)
                ;
        if (rest < s + n && *rest != ';' && *rest != '#') {
                (void) fail_line(c, "unexpected text after section header: '%s'", QN(s, n));
                return NULL;
        }
        sec = find_section(s + 1, (size_t) (close - s - 1), false);
        if (sec < 0) {
                int alt = find_section(s + 1, (size_t) (close - s - 1), true);

                if (alt >= 0)
                        (void) fail_line(c, "unknown section '[%s]' (did you mean '[%s]'?)",
                                         QN(s + 1, (size_t) (close - s - 1)), sections[alt].name);
                else
                        (void) fail_line(c, "unknown section '[%s]'",
                                         QN(s + 1, (size_t) (close - s - 1)));
                return NULL;
        }
        c->seen_section[sec] = true;
        n = (size_t) snprintf(header, sizeof(header), "[%s]", sections[sec].name);
        return emit(str, num, header, n);
}

/* inih's find_chars_or_comment(): the first of CHARS, or a ';' after whitespace. */
static size_t find_chars_or_comment(const char *s, size_t n, const char *chars)
{
        bool was_space = false;
        size_t i;

        for (i = 0; i < n; i++) {
                if ((chars && strchr(chars, s[i])) || (was_space && s[i] == ';'))
                        break;
                was_space = is_space(s[i]);
        }
        return i;
}

static char *read_key_line(struct ctx *c, char *str, int num, const char *s, size_t n)
{
        size_t eq = find_chars_or_comment(s, n, "=:"), name_len = eq;
        const char *v, *end;

        while (name_len > 0 && is_space(s[name_len - 1]))
                name_len--;
        if (eq == n || s[eq] != '=' || name_len == 0) {
                (void) fail_line(
                    c, "expected 'Key=Value', a '[Section]' header or a comment, got '%s'",
                    QN(s, n));
                return NULL;
        }
        if (n + 2 <= (size_t) num)
                return emit(str, num, s, n);

        /* Too long for inih's buffer: hand it "Key=" and cut the value out here. */
        v = s + eq + 1;
        end = v + find_chars_or_comment(v, n - eq - 1, NULL);
        while (v < end && is_space(*v))
                v++;
        while (end > v && is_space(end[-1]))
                end--;
        memcpy(c->long_value, v, (size_t) (end - v));
        c->long_value[end - v] = '\0';
        c->have_long_value = true;
        if (name_len + 3 > (size_t) num)
                name_len = (size_t) num - 3;
        if (num < 3)
                return NULL;
        memcpy(str, s, name_len);
        memcpy(str + name_len, "=\n", 3);
        return str;
}

static char *reader(char *str, int num, void *stream)
{
        struct ctx *c = stream;
        const char *s, *e, *nl;
        size_t n;

        if (c->r < 0 || c->pos >= c->len)
                return NULL;
        s = c->text + c->pos;
        nl = memchr(s, '\n', c->len - c->pos);
        n = nl ? (size_t) (nl - s) : c->len - c->pos;
        c->pos += n + (nl ? 1 : 0);
        c->line++;
        c->have_long_value = false;

        if (memchr(s, '\0', n)) {
                (void) fail_file(c, "contains a NUL byte at line %u", c->line);
                return NULL;
        }
        if (n > 0 && s[n - 1] == '\r')
                n--;
        if (n > SBX_POLICY_MAX_LINE) {
                (void) fail_line(c, "line longer than %u bytes", SBX_POLICY_MAX_LINE);
                return NULL;
        }
        if (check_line_bytes(c, s, n) < 0)
                return NULL;
        if (c->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
                s += 3;
                n -= 3;
        }
        e = s + n;
        while (s < e && is_space(*s))
                s++;
        while (e > s && is_space(e[-1]))
                e--;
        n = (size_t) (e - s);

        if (n == 0 || s[0] == ';' || s[0] == '#')
                return emit(str, num, "", 0);
        if (s[0] == '[')
                return read_section_header(c, str, num, s, n);
        return read_key_line(c, str, num, s, n);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
        struct ctx *c = user;
        int sec, key;

        if (c->r < 0)
                return 0;
        if (c->have_long_value)
                value = c->long_value;
        if (section[0] == '\0') {
                (void) fail_line(
                    c, "%s: key outside any section (expected a '[Section]' header first)",
                    Q(name));
                return 0;
        }
        sec = find_section(section, strlen(section), false);
        if (sec < 0) {
                (void) fail_line(c, "unknown section '[%s]'", Q(section));
                return 0;
        }
        key = find_key(sec, name);
        if (key < 0) {
                for (size_t i = 0; i < sections[sec].n_keys; i++)
                        if (strcasecmp(sections[sec].keys[i].name, name) == 0) {
                                (void) fail_line(c, "[%s] %s: unknown key (did you mean '%s'?)",
                                                 section, Q(name), sections[sec].keys[i].name);
                                return 0;
                        }
                (void) fail_line(c, "[%s] %s: unknown key", section, Q(name));
                return 0;
        }
        if (c->key_line[sec][key] > 0) {
                (void) fail_line(c, "[%s] %s: duplicate key (first set at line %u)", section, name,
                                 c->key_line[sec][key]);
                return 0;
        }
        c->key_line[sec][key] = c->line;
        c->cur_sec = sec;
        c->cur_key = key;
        return sections[sec].keys[key].parse(c, value) >= 0;
}

static bool network_key_set(const struct ctx *c, const char *key)
{
        int k = find_key(SEC_NETWORK, key);

        return k >= 0 && key_line_of(c, SEC_NETWORK, k) > 0;
}

/* Which [Network] keys go with which Mode=: a key that would be ignored is an
 * error. A virtual network's addresses come from its own file, not here. */
static int check_network(struct ctx *c)
{
        static const char *const keys[] = {"Bridge",  "Network",     "Address",   "AddressPool",
                                           "Gateway", "IngressRate", "EgressRate"};
        /* Per mode: 'r' required, 'o' optional, '-' refused; 'a' one of Address/AddressPool. */
        static const char *const allowed[SBX_NETWORK_COUNT] = {
            [SBX_NETWORK_NONE] = "-------",
            [SBX_NETWORK_HOST] = "-------",
            [SBX_NETWORK_BRIDGE] = "r-aaooo",
            [SBX_NETWORK_NETWORK] = "-r---oo",
        };
        const struct sbx_policy *p = c->p;
        const char *mode = sbx_network_mode_to_string(p->network_mode);
        const char *a = allowed[p->network_mode];

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                bool set = network_key_set(c, keys[i]);

                if (a[i] == '-' && set)
                        return fail_key_at(c, SEC_NETWORK, keys[i], "not used with Mode=%s", mode);
                if (a[i] == 'r' && !set)
                        return fail_key_at(c, SEC_NETWORK, "Mode", "'%s' needs %s=", mode, keys[i]);
        }
        if (p->network_mode == SBX_NETWORK_BRIDGE) {
                if (p->net.address && p->net.address_pool)
                        return fail_key_at(c, SEC_NETWORK, "AddressPool",
                                           "set Address= or AddressPool=, not both");
                if (!p->net.address && !p->net.address_pool)
                        return fail_key_at(c, SEC_NETWORK, "Mode",
                                           "'bridge' needs Address= or AddressPool=");
                if (p->net.gateway &&
                    (strchr(p->net.gateway, ':') != NULL) !=
                        (strchr(p->net.address ? p->net.address : p->net.address_pool, ':') !=
                         NULL))
                        return fail_key_at(c, SEC_NETWORK, "Gateway",
                                           "'%s' is not of the address's family", p->net.gateway);
        }
        if ((p->network_mode == SBX_NETWORK_BRIDGE || p->network_mode == SBX_NETWORK_NETWORK) &&
            !(p->namespaces & (1u << SBX_NS_NET)))
                return fail_key_at(c, SEC_NETWORK, "Mode",
                                   "'%s' needs the 'net' namespace in [Sandbox] Namespaces=", mode);
        return 0;
}

/* Defaults and checks that involve more than one key. */
static int finish(struct ctx *c)
{
        struct sbx_policy *p = c->p;
        bool uts, net;

        if (!c->seen_section[SEC_SANDBOX])
                return fail_file(c, "missing [Sandbox] section");
        if (!c->namespaces_set)
                p->namespaces = (1u << SBX_NS_COUNT) - 1;
        uts = p->namespaces & (1u << SBX_NS_UTS);
        net = p->namespaces & (1u << SBX_NS_NET);

        if (p->hostname && !uts)
                return fail_key_at(c, SEC_SANDBOX, "Hostname",
                                   "needs the 'uts' namespace in [Sandbox] Namespaces=");
        if (!p->hostname && uts && set_string(c, &p->hostname, "sandbox") < 0)
                return c->r;

        if (!c->network_mode_set)
                p->network_mode = net ? SBX_NETWORK_NONE : SBX_NETWORK_HOST;
        else if (p->network_mode == SBX_NETWORK_NONE && !net)
                return fail_key_at(c, SEC_NETWORK, "Mode",
                                   "'none' needs the 'net' namespace in [Sandbox] Namespaces=");
        else if (p->network_mode == SBX_NETWORK_HOST && net)
                return fail_key_at(c, SEC_NETWORK, "Mode",
                                   "'host' needs 'net' left out of [Sandbox] Namespaces=");
        if (check_network(c) < 0)
                return c->r;

        if (p->syscall_errno == 0)
                p->syscall_errno = EPERM;
        p->no_new_privileges = true;
        p->login = c->seen_section[SEC_LOGIN];
        return 0;
}

static int set_error(char **ret_error, int r, const char *fmt, ...) sbx_printf(3, 4);
static int set_error(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        if (!ret_error)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* Longest line of TEXT. */
static size_t longest_line(const char *text, size_t len)
{
        size_t best = 0, cur = 0;

        for (size_t i = 0; i < len; i++) {
                if (text[i] == '\n') {
                        cur = 0;
                        continue;
                }
                if (++cur > best)
                        best = cur;
        }
        return best;
}

/* A policy that parses must also dump to one that parses: some values grow
 * when written canonically ("1E" becomes 19 digits, a device gets its access
 * letters), so a long line can come back too long. Only checked when some
 * line is long enough for that to matter. */
static int check_canonical_lines(struct ctx *c)
{
        cleanup_free char *dump = NULL;
        const char *line;

        if (longest_line(c->text, c->len) <= SBX_POLICY_MAX_LINE / 8)
                return 0;
        if (sbx_policy_dump(c->p, &dump) < 0)
                return oom(c);
        for (line = dump; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);

                if (n > SBX_POLICY_MAX_LINE)
                        return fail_file(c, "%.*s: value too long once normalized (max %u bytes)",
                                         (int) strcspn(line, "="), line, SBX_POLICY_MAX_LINE);
                line = nl ? nl + 1 : NULL;
        }
        return 0;
}

int sbx_policy_parse_string(const char *text, size_t len, const char *name, const char *filename,
                            struct sbx_policy **ret_policy, char **ret_error)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *fallback_filename = NULL;
        struct ctx *c;
        int r;

        if (!text && len > 0)
                return -EINVAL;
        if (!filename) {
                if (asprintf(&fallback_filename, "%s.ini", name ? name : "policy") < 0)
                        return -ENOMEM;
                filename = fallback_filename;
        }
        if (!sbx_policy_name_valid(name))
                return set_error(ret_error, -EINVAL,
                                 "%s: invalid policy name '%s' (expected 1 to 64 of "
                                 "[A-Za-z0-9_-], not starting with '-')",
                                 filename, name ? QN(name, strlen(name)) : "");
        if (len == 0)
                return set_error(ret_error, -EINVAL, "%s: file is empty", filename);
        if (len > (size_t) SBX_POLICY_MAX_SIZE)
                return set_error(ret_error, -EINVAL, "%s: file too large (max %u KiB)", filename,
                                 SBX_POLICY_MAX_SIZE / 1024);

        p = calloc(1, sizeof(*p));
        c = calloc(1, sizeof(*c)); /* about 5 KiB: keep it off the stack */
        if (!p || !c) {
                free(c);
                return -ENOMEM;
        }
        p->private_devices = true;
        p->no_new_privileges = true;
        p->workdir_mode = SBX_WORKDIR_INHERIT;
        c->text = text;
        c->len = len;
        c->filename = filename;
        c->p = p;

        p->name = strdup(name);
        p->filename = strdup(filename);
        if (!p->name || !p->filename)
                (void) oom(c);

        if (c->r >= 0) {
                r = ini_parse_stream(reader, c, handler, c);
                if (c->r >= 0 && r == -2)
                        (void) oom(c);
                else if (c->r >= 0 && r != 0) /* inih saw an error that we did not: unexpected */
                        (void) fail_file(c, "syntax error at line %d", r);
        }
        if (c->r >= 0)
                (void) finish(c);
        if (c->r >= 0)
                (void) check_canonical_lines(c);

        r = c->r;
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(c->error);
                free(c->error);
                free(c);
                return r;
        }
        free(c);
        *ret_policy = TAKE_PTR(p);
        return 0;
}

/* ---- loading ----------------------------------------------------------- */

int sbx_policy_read_fd(int fd, const char *filename, char **ret_text, size_t *ret_len,
                       char **ret_error)
{
        cleanup_free char *buf = NULL;
        struct stat st;
        size_t n = 0;

        if (fstat(fd, &st) < 0) {
                int r = sbx_negerrno();

                return set_error(ret_error, r, "%s: cannot stat: %s", filename, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return set_error(ret_error, -EPERM, "%s: refused: not a regular file", filename);
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return set_error(ret_error, -EPERM,
                                 "%s: refused: must be owned by root and not writable by group "
                                 "or others",
                                 filename);

        /* One byte more than allowed, so the parser can tell a file that is too large. */
        buf = malloc(SBX_POLICY_MAX_SIZE + 2);
        if (!buf)
                return -ENOMEM;
        while (n < SBX_POLICY_MAX_SIZE + 1) {
                ssize_t k = read(fd, buf + n, SBX_POLICY_MAX_SIZE + 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = sbx_negerrno();

                        return set_error(ret_error, r, "%s: cannot read: %s", filename,
                                         strerror(-r));
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = '\0';
        *ret_text = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

int sbx_policy_load_fd(int fd, const char *name, const char *filename,
                       struct sbx_policy **ret_policy, char **ret_error)
{
        cleanup_free char *text = NULL;
        size_t len = 0;
        int r;

        if (!filename)
                filename = name ? name : "policy";
        r = sbx_policy_read_fd(fd, filename, &text, &len, ret_error);
        if (r < 0)
                return r;
        return sbx_policy_parse_string(text, len, name, filename, ret_policy, ret_error);
}

static int open_policy(int dir_fd, const char *path, const char *filename, int *ret_fd,
                       char **ret_error)
{
        int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);

        if (fd < 0) {
                int r = sbx_negerrno();

                if (r == -ENOENT)
                        return set_error(ret_error, r, "%s: no such policy", filename);
                if (r == -ELOOP)
                        return set_error(ret_error, -EPERM, "%s: refused: is a symbolic link",
                                         filename);
                return set_error(ret_error, r, "%s: cannot open: %s", filename, strerror(-r));
        }
        *ret_fd = fd;
        return 0;
}

int sbx_policy_load(int dir_fd, const char *name, struct sbx_policy **ret_policy, char **ret_error)
{
        cleanup_free char *filename = NULL;
        cleanup_close int fd = -1;
        int r;

        if (!sbx_policy_name_valid(name))
                return set_error(ret_error, -EINVAL, "invalid policy name '%s'",
                                 name ? QN(name, strlen(name)) : "");
        if (asprintf(&filename, "%s.ini", name) < 0)
                return -ENOMEM;
        r = open_policy(dir_fd, filename, filename, &fd, ret_error);
        if (r < 0)
                return r;
        return sbx_policy_load_fd(fd, name, filename, ret_policy, ret_error);
}

int sbx_policy_load_path(const char *path, struct sbx_policy **ret_policy, char **ret_error)
{
        cleanup_free char *name = NULL;
        cleanup_close int fd = -1;
        const char *base;
        size_t n;
        int r;

        if (!path || !*path)
                return set_error(ret_error, -EINVAL, "empty policy path");
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        n = strlen(base);
        if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
                n -= 4;
        name = strndup(base, n);
        if (!name)
                return -ENOMEM;
        if (!sbx_policy_name_valid(name))
                return set_error(ret_error, -EINVAL,
                                 "%s: invalid policy name '%s' (expected 1 to 64 of "
                                 "[A-Za-z0-9_-], not starting with '-')",
                                 Q(path), Q(name));
        r = open_policy(AT_FDCWD, path, path, &fd, ret_error);
        if (r < 0)
                return r;
        return sbx_policy_load_fd(fd, name, path, ret_policy, ret_error);
}

/* ---- dump and free ----------------------------------------------------- */

static void dump_words(FILE *f, const char *key, char *const *v, int *r)
{
        (void) fprintf(f, "%s=", key);
        for (size_t i = 0; v && v[i]; i++) {
                cleanup_free char *q = NULL;

                if (sbx_quote_word(v[i], &q) < 0) {
                        *r = -ENOMEM;
                        return;
                }
                (void) fprintf(f, "%s%s", i ? " " : "", q);
        }
        (void) fputc('\n', f);
}

static void dump_paths(FILE *f, const char *key, const struct sbx_path *paths, size_t n, int *r)
{
        (void) fprintf(f, "%s=", key);
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *s = NULL, *q = NULL;

                if (asprintf(&s, "%s%s", paths[i].ignore_missing ? "-" : "", paths[i].path) < 0 ||
                    sbx_quote_word(s, &q) < 0) {
                        *r = -ENOMEM;
                        return;
                }
                (void) fprintf(f, "%s%s", i ? " " : "", q);
        }
        (void) fputc('\n', f);
}

static void dump_binds(FILE *f, const char *key, const struct sbx_policy *p, bool read_only, int *r)
{
        bool first = true;

        (void) fprintf(f, "%s=", key);
        for (size_t i = 0; i < p->n_binds; i++) {
                const struct sbx_bind *b = p->binds + i;
                cleanup_free char *s = NULL, *q = NULL;

                if (b->read_only != read_only)
                        continue;
                /* The shortest form: ":DST" only when it differs, ":norbind" only when set. */
                if (asprintf(&s, "%s%s%s%s%s", b->ignore_missing ? "-" : "", b->source,
                             !b->recursive || strcmp(b->source, b->target) != 0 ? ":" : "",
                             !b->recursive || strcmp(b->source, b->target) != 0 ? b->target : "",
                             b->recursive ? "" : ":norbind") < 0 ||
                    sbx_quote_word(s, &q) < 0) {
                        *r = -ENOMEM;
                        return;
                }
                (void) fprintf(f, "%s%s", first ? "" : " ", q);
                first = false;
        }
        (void) fputc('\n', f);
}

/* Only the keys that are set, and no section when none is (a policy without
 * limits creates no cgroup). */
static void dump_limits(FILE *f, const struct sbx_limits *l)
{
        char buf[SBX_SIZE_FORMAT_MAX];

        if (!l->set)
                return;
        (void) fprintf(f, "\n[Resources]\n");
        for (int i = 0; i < SBX_LIMIT_COUNT; i++) {
                if (!(l->set & (1u << i)))
                        continue;
                (void) fprintf(f, "%s=", sbx_limit_to_string(i));
                switch (i) {
                case SBX_LIMIT_MEMORY_MAX:
                        (void) fprintf(f, "%s\n", sbx_size_format(l->memory_max, buf));
                        break;
                case SBX_LIMIT_MEMORY_HIGH:
                        (void) fprintf(f, "%s\n", sbx_size_format(l->memory_high, buf));
                        break;
                case SBX_LIMIT_MEMORY_SWAP_MAX:
                        (void) fprintf(f, "%s\n", sbx_size_format(l->memory_swap_max, buf));
                        break;
                case SBX_LIMIT_TASKS_MAX:
                        if (l->tasks_max == SBX_LIMIT_INFINITY)
                                (void) fprintf(f, "infinity\n");
                        else
                                (void) fprintf(f, "%" PRIu64 "\n", l->tasks_max);
                        break;
                case SBX_LIMIT_CPU_QUOTA:
                        (void) fprintf(f, "%" PRIu32 "%%\n", l->cpu_quota);
                        break;
                case SBX_LIMIT_CPU_WEIGHT:
                        (void) fprintf(f, "%" PRIu64 "\n", l->cpu_weight);
                        break;
                case SBX_LIMIT_ALLOWED_CPUS:
                        (void) fprintf(f, "%s\n", sbx_strna(l->allowed_cpus));
                        break;
                case SBX_LIMIT_ALLOWED_MEMORY_NODES:
                        (void) fprintf(f, "%s\n", sbx_strna(l->allowed_memory_nodes));
                        break;
                case SBX_LIMIT_IO_READ_BANDWIDTH_MAX:
                case SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX: {
                        int w = i == SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX;

                        (void) fprintf(f, "%s %s\n", sbx_strna(l->io_bandwidth_device[w]),
                                       sbx_size_format(l->io_bandwidth[w], buf));
                        break;
                }
                case SBX_LIMIT_IO_WEIGHT:
                        (void) fprintf(f, "%" PRIu64 "\n", l->io_weight);
                        break;
                case SBX_LIMIT_DEVICE_POLICY:
                        (void) fprintf(f, "%s\n",
                                       l->device_policy == SBX_DEVICE_POLICY_STRICT   ? "strict"
                                       : l->device_policy == SBX_DEVICE_POLICY_CLOSED ? "closed"
                                                                                      : "auto");
                        break;
                case SBX_LIMIT_DEVICE_ALLOW:
                        for (size_t k = 0; l->device_allow && l->device_allow[k]; k++)
                                (void) fprintf(f, "%s%s", k ? " " : "", l->device_allow[k]);
                        (void) fputc('\n', f);
                        break;
                default:
                        (void) fputc('\n', f);
                        break;
                }
        }
}

int sbx_policy_dump(const struct sbx_policy *p, char **ret_text)
{
        cleanup_free char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;
        bool first = true;

        if (!p)
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        (void) fprintf(f, "# policy %s, canonical form\n", sbx_strna(p->name));
        (void) fprintf(f, "[Sandbox]\nMode=workload\nNamespaces=");
        for (int i = 0; i < SBX_NS_COUNT; i++)
                if (p->namespaces & (1u << i)) {
                        (void) fprintf(f, "%s%s", first ? "" : " ", sbx_ns_to_string(i));
                        first = false;
                }
        (void) fputc('\n', f);
        if (p->hostname)
                (void) fprintf(f, "Hostname=%s\n", p->hostname);
        else
                (void) fprintf(f, "# Hostname: not set (no uts namespace)\n");
        if (p->description)
                (void) fprintf(f, "Description=%s\n", p->description);

        (void) fprintf(f, "\n[Access]\n");
        if (p->access_everyone)
                (void) fprintf(f, "Users=*\n");
        else
                dump_words(f, "Users", p->users, &r);
        dump_words(f, "Groups", p->groups, &r);

        (void) fprintf(f, "\n[Files]\nPrivateTmp=%s\nPrivateDevices=%s\n",
                       p->private_tmp ? "yes" : "no", p->private_devices ? "yes" : "no");
        dump_paths(f, "ReadOnlyPaths", p->read_only_paths, p->n_read_only_paths, &r);
        dump_paths(f, "ReadWritePaths", p->read_write_paths, p->n_read_write_paths, &r);
        dump_paths(f, "InaccessiblePaths", p->inaccessible_paths, p->n_inaccessible_paths, &r);
        dump_binds(f, "BindPaths", p, false, &r);
        dump_binds(f, "BindReadOnlyPaths", p, true, &r);
        (void) fprintf(f, "TemporaryFileSystem=");
        for (size_t i = 0; i < p->n_tmpfs; i++) {
                cleanup_free char *s = NULL, *q = NULL;

                if (asprintf(&s, "%s%s%s", p->tmpfs[i].path, p->tmpfs[i].options ? ":" : "",
                             p->tmpfs[i].options ? p->tmpfs[i].options : "") < 0 ||
                    sbx_quote_word(s, &q) < 0) {
                        r = -ENOMEM;
                        break;
                }
                (void) fprintf(f, "%s%s", i ? " " : "", q);
        }
        (void) fputc('\n', f);
        if (p->workdir_mode == SBX_WORKDIR_HOME)
                (void) fprintf(f, "WorkingDirectory=~\n");
        else if (p->workdir_mode == SBX_WORKDIR_PATH) {
                cleanup_free char *q = NULL;

                if (sbx_quote_word(sbx_strna(p->workdir), &q) < 0)
                        r = -ENOMEM;
                else
                        (void) fprintf(f, "WorkingDirectory=%s\n", q);
        } else
                (void) fprintf(f, "# WorkingDirectory: inherited\n");

        (void) fprintf(f, "\n[Environment]\n");
        dump_words(f, "PassEnvironment", p->pass_env, &r);
        dump_words(f, "Environment", p->set_env, &r);

        dump_limits(f, &p->limits);

        (void) fprintf(f, "\n[Network]\nMode=%s\n",
                       sbx_strna(sbx_network_mode_to_string(p->network_mode)));
        {
                const char *const kv[][2] = {{"Bridge", p->net.bridge},
                                             {"Network", p->net.network},
                                             {"Address", p->net.address},
                                             {"AddressPool", p->net.address_pool},
                                             {"Gateway", p->net.gateway}};

                for (size_t i = 0; i < ELEMENTSOF(kv); i++)
                        if (kv[i][1])
                                (void) fprintf(f, "%s=%s\n", kv[i][0], kv[i][1]);
                if (p->net.ingress_rate)
                        (void) fprintf(f, "IngressRate=%" PRIu64 "\n", p->net.ingress_rate);
                if (p->net.egress_rate)
                        (void) fprintf(f, "EgressRate=%" PRIu64 "\n", p->net.egress_rate);
        }
        (void) fprintf(f, "\n[Security]\nNoNewPrivileges=%s\nCapabilityBoundingSet=\n",
                       p->no_new_privileges ? "yes" : "no");
        if (p->syscall_filter) {
                (void) fprintf(f, "SystemCallFilter=%s", p->syscall_allow_list ? "" : "~");
                for (size_t i = 0; p->syscall_filter[i]; i++)
                        (void) fprintf(f, "%s%s", i ? " " : "", p->syscall_filter[i]);
                (void) fputc('\n', f);
        } else
                (void) fprintf(f, "# SystemCallFilter: not set\n");
        if (p->syscall_errno == SBX_SYSCALL_ERRNO_KILL)
                (void) fprintf(f, "SystemCallErrorNumber=kill\n");
        else if (strerrorname_np(p->syscall_errno))
                (void) fprintf(f, "SystemCallErrorNumber=%s\n", strerrorname_np(p->syscall_errno));
        else
                (void) fprintf(f, "SystemCallErrorNumber=%d\n", p->syscall_errno);
        (void) fprintf(f, "SystemCallArchitectures=native\n");
        /* Durations in microseconds: exact, and parsed back by the same parser. */
        if (p->login) {
                (void) fprintf(f, "\n[Login]\nLinger=%" PRIu64 "us\n", p->linger_usec);
                if (p->max_sessions)
                        (void) fprintf(f, "MaxSessions=%" PRIu32 "\n", p->max_sessions);
        }

        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(buf);
        return 0;
}

int sbx_policy_hide_run_dir(struct sbx_policy *p, const char *run_dir)
{
        struct sbx_path *paths;

        if (!run_dir || run_dir[0] != '/' || strchr(run_dir, '%') ||
            !(p->namespaces & (1u << SBX_NS_MOUNT)))
                return 0;
        paths = reallocarray(p->inaccessible_paths, p->n_inaccessible_paths + 1, sizeof(*paths));
        if (!paths)
                return -ENOMEM;
        p->inaccessible_paths = paths;
        paths[p->n_inaccessible_paths] =
            (struct sbx_path){.path = strdup(run_dir), .ignore_missing = true};
        if (!paths[p->n_inaccessible_paths].path)
                return -ENOMEM;
        p->n_inaccessible_paths++;
        return 0;
}

struct sbx_policy *sbx_policy_free(struct sbx_policy *p)
{
        if (!p)
                return NULL;
        free(p->name);
        free(p->filename);
        free(p->description);
        free(p->hostname);
        sbx_strv_free(p->users);
        sbx_strv_free(p->groups);
        for (size_t i = 0; i < p->n_read_only_paths; i++)
                free(p->read_only_paths[i].path);
        free(p->read_only_paths);
        for (size_t i = 0; i < p->n_read_write_paths; i++)
                free(p->read_write_paths[i].path);
        free(p->read_write_paths);
        for (size_t i = 0; i < p->n_inaccessible_paths; i++)
                free(p->inaccessible_paths[i].path);
        free(p->inaccessible_paths);
        for (size_t i = 0; i < p->n_binds; i++) {
                free(p->binds[i].source);
                free(p->binds[i].target);
        }
        free(p->binds);
        for (size_t i = 0; i < p->n_tmpfs; i++) {
                free(p->tmpfs[i].path);
                free(p->tmpfs[i].options);
        }
        free(p->tmpfs);
        free(p->workdir);
        sbx_strv_free(p->pass_env);
        sbx_strv_free(p->set_env);
        free(p->limits.allowed_cpus);
        sbx_strv_free(p->limits.device_allow);
        free(p->limits.allowed_memory_nodes);
        free(p->limits.io_bandwidth_device[0]);
        free(p->limits.io_bandwidth_device[1]);
        sbx_strv_free(p->syscall_filter);
        free(p->net.bridge);
        free(p->net.network);
        free(p->net.address);
        free(p->net.address_pool);
        free(p->net.gateway);
        free(p);
        return NULL;
}
