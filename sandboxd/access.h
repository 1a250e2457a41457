/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sbx_policy;

/* May the peer (uid, primary gid, supplementary groups, user name from the
 * passwd database) use policy P? Root may use every policy; others need
 * Users=*, their name in Users=, or one of their groups in Groups=. */
bool sbx_access_allowed(const struct sbx_policy *p, uid_t uid, gid_t gid, const gid_t *groups,
                        size_t n_groups, const char *user_name);
