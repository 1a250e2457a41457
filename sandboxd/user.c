/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "user.h"

int sbx_user_new(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, const char *name,
                 const char *home, const char *shell, struct sbx_user *ret)
{
        struct sbx_user u = {.uid = uid, .gid = gid};

        u.name = strdup(name);
        u.home = strdup(home && home[0] == '/' ? home : "/");
        u.shell = strdup(shell && shell[0] == '/' ? shell : "/bin/sh");
        u.groups = malloc((n_groups ? n_groups : 1) * sizeof(gid_t));
        if (!u.name || !u.home || !u.shell || !u.groups) {
                sbx_user_done(&u);
                return -ENOMEM;
        }
        if (n_groups)
                memcpy(u.groups, groups, n_groups * sizeof(gid_t));
        u.n_groups = n_groups;
        *ret = u;
        return 0;
}

int sbx_user_from_creds(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                        struct sbx_user *ret)
{
        struct passwd pw, *res = NULL;
        char buf[4096];
        int r;

        r = getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ENOENT;
        return sbx_user_new(uid, gid, groups, n_groups, pw.pw_name, pw.pw_dir, pw.pw_shell, ret);
}

void sbx_user_done(struct sbx_user *u)
{
        free(u->name);
        free(u->home);
        free(u->shell);
        free(u->groups);
        memset(u, 0, sizeof(*u));
}
