/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"
#include "seccomp-cache.h"
#include "seccomp.h"

/* Policies are few; the oldest entry goes when a new one does not fit. */
#define CACHE_SLOTS 32

struct entry {
        char *text;
        size_t len;
        struct sbx_seccomp *filter;
};

struct sbx_seccomp_cache {
        struct entry slots[CACHE_SLOTS];
        size_t next; /* round-robin victim */
};

struct sbx_seccomp_cache *sbx_seccomp_cache_new(void)
{
        return calloc(1, sizeof(struct sbx_seccomp_cache));
}

static void entry_clear(struct entry *e)
{
        free(e->text);
        sbx_seccomp_free(e->filter);
        *e = (struct entry){};
}

struct sbx_seccomp_cache *sbx_seccomp_cache_free(struct sbx_seccomp_cache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < CACHE_SLOTS; i++)
                entry_clear(&c->slots[i]);
        free(c);
        return NULL;
}

static void export(const struct entry *e, const void **ret_bpf, size_t *ret_len)
{
        const struct sock_fprog *prog = sbx_seccomp_prog(e->filter);

        *ret_bpf = prog->filter;
        *ret_len = prog->len * sizeof(struct sock_filter);
}

int sbx_seccomp_cache_get(struct sbx_seccomp_cache *c, const struct sbx_policy *p, const char *text,
                          size_t len, const void **ret_bpf, size_t *ret_len)
{
        struct sbx_seccomp *filter = NULL;
        cleanup_free char *err = NULL;
        struct entry *e;
        int r;

        for (size_t i = 0; i < CACHE_SLOTS; i++) {
                e = &c->slots[i];
                if (e->text && e->len == len && memcmp(e->text, text, len) == 0) {
                        export(e, ret_bpf, ret_len);
                        return 0;
                }
        }
        r = sbx_seccomp_prepare(p, &filter, &err);
        if (r < 0)
                return r;
        e = &c->slots[c->next];
        c->next = (c->next + 1) % CACHE_SLOTS;
        entry_clear(e);
        e->text = malloc(len ? len : 1);
        if (!e->text) {
                sbx_seccomp_free(filter);
                return -ENOMEM;
        }
        memcpy(e->text, text, len);
        e->len = len;
        e->filter = filter;
        export(e, ret_bpf, ret_len);
        return 0;
}
