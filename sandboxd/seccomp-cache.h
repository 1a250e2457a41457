/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

struct sbx_policy;
struct sbx_seccomp_cache;

/* The daemon compiles each policy's system call filter once and hands the BPF
 * to every controller started with that policy: compiling costs more than
 * the rest of a controller's set-up. Entries are keyed by the exact policy
 * text, so an edited policy is compiled anew. */
struct sbx_seccomp_cache *sbx_seccomp_cache_new(void);
struct sbx_seccomp_cache *sbx_seccomp_cache_free(struct sbx_seccomp_cache *c);

/* The BPF instructions for policy P (parsed from TEXT, LEN bytes); compiled and
 * cached on first use. Valid until the next call. -errno if it cannot be built. */
int sbx_seccomp_cache_get(struct sbx_seccomp_cache *c, const struct sbx_policy *p, const char *text,
                          size_t len, const void **ret_bpf, size_t *ret_len);
