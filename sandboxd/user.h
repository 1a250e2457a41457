/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Who the sandboxed command runs as: always the requesting peer (SO_PEERCRED,
 * SO_PEERGROUPS), never a value the client claimed. */
struct sbx_user {
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* supplementary groups */
        size_t n_groups;
        char *name;  /* from the passwd database, by uid */
        char *home;  /* pw_dir */
        char *shell; /* pw_shell */
};

/* Fills U from the passwd entry of UID; GID and GROUPS come from the peer's
 * credentials. -ENOENT if the uid has no passwd entry. */
int sbx_user_from_creds(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                        struct sbx_user *ret);
/* Same, from passwd fields the daemon already looked up (a fresh controller's
 * first NSS lookup costs more than the rest of its set-up). */
int sbx_user_new(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, const char *name,
                 const char *home, const char *shell, struct sbx_user *ret);
void sbx_user_done(struct sbx_user *u);
static inline void sbx_user_donep(struct sbx_user *u)
{
        sbx_user_done(u);
}
