/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

struct sbx_cgroup;
struct sbx_policy;
struct sbx_user;

/* A login container's init (sandboxd-reaper, PID 1) and, while it is being
 * set up, the helper process that sets it up. */
struct sbx_login_init {
        pid_t pid;             /* 0 until the helper has cloned it */
        int pidfd;             /* -1 until then (and once the caller took it); we are its
                                * parent (CLONE_PARENT) */
        int ns_flags;          /* CLONE_NEW* to setns() into, CLONE_NEWCGROUP with a cgroup */
        struct sbx_cgroup *cg; /* NULL when the policy sets no [Resources] limit */
        char cgroup_name[96];  /* the name CG was made with ("" without) */
        int helper_pidfd;      /* the set-up helper, -1 once done */
        int sock;              /* readable when the helper has news; -1 once done */
};

/* Starts setting up login container NAME for policy P (the daemon's RUN_DIR is
 * added to its InaccessiblePaths=) and user U, and returns at once: creates its
 * cgroup (named NAME.<random>) if the policy sets limits, and forks a helper
 * that builds the mount plan, clones the init into the policy's namespaces
 * (as our child) and waits until it has exec'd
 * REAPER_FD. Nothing here waits on a path: the user may control some of them.
 * Watch RET->sock and call sbx_login_init_progress() when it is readable; the
 * caller bounds the time and calls sbx_login_init_end() (and kills the init) to
 * give up. On failure returns -errno, with a malloc'd reason in *RET_ERROR when
 * there is one, and leaves nothing behind. */
int sbx_login_init_start(int reaper_fd, const char *run_dir, const char *name, struct sbx_policy *p,
                         const struct sbx_user *u, struct sbx_login_init *ret, char **ret_error);

/* Reads the helper's news: 1 still going (once the init is cloned, INIT->pidfd
 * and pid are set and the init is moved into CG, if not NULL), 0 the init runs
 * the reaper (the helper is done), < 0 the set-up failed (reason in
 * *RET_ERROR; the caller kills the init if it has a pidfd, and calls
 * sbx_login_init_end()). */
int sbx_login_init_progress(struct sbx_login_init *init, struct sbx_cgroup *cg, char **ret_error);

/* Kills the helper if it still runs and closes its fds. Idempotent. Leaves the
 * init, its pidfd and the cgroup to the caller. */
void sbx_login_init_end(struct sbx_login_init *init);
