/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "macro.h"
#include "policy.h"
#include "user.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define DEFAULT_ROOT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct env {
        char **v;
        size_t n, cap;
};

static size_t name_len(const char *kv)
{
        const char *eq = strchr(kv, '=');

        return eq ? (size_t) (eq - kv) : strlen(kv);
}

/* Sets KV ("NAME=value"), replacing an earlier NAME. Takes ownership of KV. */
static int env_put(struct env *e, char *kv)
{
        size_t nl;

        if (!kv)
                return -ENOMEM;
        nl = name_len(kv);
        for (size_t i = 0; i < e->n; i++)
                if (name_len(e->v[i]) == nl && strncmp(e->v[i], kv, nl) == 0) {
                        free(e->v[i]);
                        e->v[i] = kv;
                        return 0;
                }
        if (e->n + 2 > e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 16;
                char **v = realloc(e->v, cap * sizeof(char *));

                if (!v) {
                        free(kv);
                        return -ENOMEM;
                }
                e->v = v;
                e->cap = cap;
        }
        e->v[e->n++] = kv;
        e->v[e->n] = NULL;
        return 0;
}

static char *kv_new(const char *name, const char *value)
{
        char *s = NULL;

        if (asprintf(&s, "%s=%s", name, value) < 0)
                return NULL;
        return s;
}

static const char *client_lookup(const char *const *env, size_t n, const char *name)
{
        size_t nl = strlen(name);

        for (size_t i = 0; i < n; i++)
                if (strncmp(env[i], name, nl) == 0 && env[i][nl] == '=')
                        return env[i] + nl + 1;
        return NULL;
}

int sbx_env_build(const struct sbx_policy *p, const struct sbx_user *u,
                  const char *const *client_env, size_t n_client_env, int with_term,
                  char ***ret_envp)
{
        struct env e = {};
        const char *term = client_lookup(client_env, n_client_env, "TERM");
        int r = 0;

        r = env_put(&e, kv_new("PATH", u->uid == 0 ? DEFAULT_ROOT_PATH : DEFAULT_PATH));
        if (r >= 0)
                r = env_put(&e, kv_new("HOME", u->home));
        if (r >= 0)
                r = env_put(&e, kv_new("USER", u->name));
        if (r >= 0)
                r = env_put(&e, kv_new("LOGNAME", u->name));
        if (r >= 0)
                r = env_put(&e, kv_new("SHELL", u->shell));
        if (r >= 0 && with_term && term)
                r = env_put(&e, kv_new("TERM", term));
        for (char **n = p->pass_env; r >= 0 && n && *n; n++) {
                const char *v = client_lookup(client_env, n_client_env, *n);

                if (v)
                        r = env_put(&e, kv_new(*n, v));
        }
        for (char **kv = p->set_env; r >= 0 && kv && *kv; kv++)
                r = env_put(&e, strdup(*kv));
        if (r < 0) {
                sbx_strv_free(e.v);
                return r;
        }
        if (!e.v) {
                e.v = calloc(1, sizeof(char *));
                if (!e.v)
                        return -ENOMEM;
        }
        *ret_envp = e.v;
        return 0;
}
