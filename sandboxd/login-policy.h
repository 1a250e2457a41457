/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct sbx_policy;

/* A login user, from the passwd and group databases (never from the peer). */
struct sbx_login_user {
        const char *name; /* borrowed */
        uid_t uid;
        gid_t gid;
        gid_t groups[256];
        int n_groups;
};

/* Login names the daemon accepts: [A-Za-z0-9._-], 1..32, not starting with
 * '-' or '.' (they name the container and its cgroup). */
bool sbx_login_user_name_valid(const char *name);

/* Looks NAME up (uid, gid, all groups); with RET_HOME, also home and shell
 * (malloc'd). -ENOENT for no such user. */
int sbx_login_user_lookup(const char *name, struct sbx_login_user *ret, char **ret_home,
                          char **ret_shell);

/* Does P's [Access] admit U? Never for root: root is never confined. */
bool sbx_login_policy_admits(const struct sbx_policy *p, const struct sbx_login_user *u);

/* The first policy by file name in DIR_FD with a [Login] section that admits
 * U; -ENOENT when none does. Policies that do not load are skipped, logged. */
int sbx_login_policy_find(int dir_fd, const struct sbx_login_user *u, struct sbx_policy **ret);
