/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>
#include <string.h>

#include "access.h"
#include "policy.h"

static bool group_gid(const char *name, gid_t *ret)
{
        struct group gr, *res = NULL;
        char buf[4096];

        if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
                return false;
        *ret = gr.gr_gid;
        return true;
}

bool sbx_access_allowed(const struct sbx_policy *p, uid_t uid, gid_t gid, const gid_t *groups,
                        size_t n_groups, const char *user_name)
{
        if (uid == 0 || p->access_everyone)
                return true;
        for (char **u = p->users; user_name && u && *u; u++)
                if (strcmp(*u, user_name) == 0)
                        return true;
        for (char **g = p->groups; g && *g; g++) {
                gid_t want;

                if (!group_gid(*g, &want))
                        continue;
                if (want == gid)
                        return true;
                for (size_t i = 0; i < n_groups; i++)
                        if (groups[i] == want)
                                return true;
        }
        return false;
}
