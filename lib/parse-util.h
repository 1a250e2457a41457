/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure parsers for the value syntax of policy files (systemd's words and units).
 * No syscalls, no global state: everything here is fuzzed. Every function that
 * returns int returns >= 0 on success and -EINVAL (bad syntax), -ERANGE (out of
 * range) or -ENOMEM on failure; outputs are written only on success. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "yes/no", "true/false", "on/off", "1/0" (case-insensitive). Returns 1 or 0. */
int sbx_parse_boolean(const char *s);

/* A decimal unsigned integer: digits only, no sign, no spaces, no base prefix. */
int sbx_parse_uint64(const char *s, uint64_t *ret);
/* Same, and MIN <= value <= MAX (else -ERANGE). */
int sbx_parse_uint64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Sizes as systemd writes them: "512", "512B", "64K", "512M", "2G", "1T", base 1024,
 * uppercase suffixes only, integers only; "infinity" gives SBX_SIZE_INFINITY. */
#define SBX_SIZE_INFINITY UINT64_MAX
int sbx_parse_size(const char *s, uint64_t *ret);
/* The shortest form sbx_parse_size() reads back: "64M", "1536K", "100", "infinity".
 * BUF has SBX_SIZE_FORMAT_MAX bytes; returns BUF. */
#define SBX_SIZE_FORMAT_MAX 24
const char *sbx_size_format(uint64_t v, char *buf);

/* "150%": an unsigned integer followed by '%'. No upper bound beyond UINT32_MAX. */
int sbx_parse_percent(const char *s, uint32_t *ret);

/* Durations as systemd writes them, in microseconds: "30s", "5min", "1h 30min",
 * "500ms", "2d"; a plain number means seconds; "infinity" gives
 * SBX_DURATION_INFINITY. Units: us usec, ms msec, s sec second(s), m min minute(s),
 * h hr hour(s), d day(s), w week(s). */
#define SBX_DURATION_INFINITY UINT64_MAX
int sbx_parse_duration(const char *s, uint64_t *ret_usec);

/* CPU or memory-node lists: "0-1,3", ranges and numbers separated by commas and/or
 * whitespace, each index < SBX_CPU_SET_MAX. The result is a bitmap. */
#define SBX_CPU_SET_MAX 8192u
struct sbx_cpu_set {
        uint64_t bits[SBX_CPU_SET_MAX / 64];
};
int sbx_parse_cpu_list(const char *s, struct sbx_cpu_set *ret);
/* Canonical form "0-1,3" (the empty set gives ""). */
int sbx_cpu_set_format(const struct sbx_cpu_set *set, char **ret);

/* Flags for sbx_path_normalize(). */
enum {
        SBX_PATH_SPECIFIERS = 1u << 0, /* may contain %h %u %U %%, and may start with %h */
};

/* Checks an absolute path: starts with '/' (or "%h" with SBX_PATH_SPECIFIERS), no
 * "//", no "." or ".." component, no control characters, shorter than PATH_MAX.
 * Stores a copy with any trailing '/' removed ("/" stays "/"). */
int sbx_path_normalize(const char *path, unsigned flags, char **ret);

/* Specifiers: %h (home), %u (user name), %U (numeric uid), %% (a literal '%').
 * sbx_specifiers_validate() returns 0, or -EINVAL and the offset of the bad '%'. */
int sbx_specifiers_validate(const char *s, size_t *ret_bad_offset);
int sbx_specifier_expand(const char *in, const char *user, uid_t uid, const char *home, char **ret);

/* Splits S into words separated by spaces and tabs. A word may contain quoted
 * parts, "..." or '...', in which whitespace is kept; the quotes are removed.
 * There are no backslash escapes. An unterminated quote is -EINVAL. An empty or
 * blank S gives an empty (non-NULL, NULL-terminated) vector. */
int sbx_split_words(const char *s, char ***ret);

/* Writes WORD so that sbx_split_words() reads it back as one word: unchanged when
 * it needs no quoting, else quoted. */
int sbx_quote_word(const char *word, char **ret);

/* Environment variable names: [A-Za-z_][A-Za-z0-9_]*. */
bool sbx_env_name_valid(const char *s);
/* User and group names (syntax only): [A-Za-z_][A-Za-z0-9_.-]*, an optional final '$',
 * 1..32 bytes. */
bool sbx_user_name_valid(const char *s);
/* RFC 1123 host names: dot-separated labels of [A-Za-z0-9-], 1..63 bytes, no
 * leading or trailing '-', 1..64 bytes in all, no trailing dot. */
bool sbx_hostname_valid(const char *s);
/* Network interface names: 1..15 bytes, no '/', ':', whitespace or control
 * characters, not "." or "..". */
bool sbx_ifname_valid(const char *s);

/* tmpfs options, comma-separated, from an allow-list: mode=OCTAL (<= 07777),
 * size=SIZE or size=N% (1..100), nr_inodes=N[K|M|G], ro, rw, nosuid, nodev, noexec,
 * exec. On error, *ret_bad (if not NULL) points at the offending option in OPTS. */
int sbx_tmpfs_options_validate(const char *opts, const char **ret_bad);

/* Enum <-> string tables: TABLE[i] is the name of value i (NULL for gaps). */
const char *sbx_table_to_string(const char *const *table, size_t n, int i);
int sbx_table_from_string(const char *const *table, size_t n, const char *s);

/* Vectors of strings (NULL-terminated; see sbx_strv_free() in macro.h). */
size_t sbx_strv_length(char *const *v);
/* Appends S, taking ownership of it; on failure S is freed. */
int sbx_strv_consume(char ***v, char *s);
bool sbx_strv_contains(char *const *v, const char *s);
