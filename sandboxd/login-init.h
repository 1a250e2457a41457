/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

struct sbx_cgroup;
struct sbx_policy;
struct sbx_user;

/* A running login container's init (sandboxd-reaper, PID 1). */
struct sbx_login_init {
        pid_t pid;
        int pidfd;             /* from clone3(CLONE_PIDFD): we are its parent */
        int ns_flags;          /* CLONE_NEW* to setns() into, CLONE_NEWCGROUP with a cgroup */
        struct sbx_cgroup *cg; /* NULL when the policy sets no [Resources] limit */
        char cgroup_name[96];  /* the name CG was made with ("" without) */
};

/* Starts login container NAME for policy P (the daemon's RUN_DIR is added to
 * its InaccessiblePaths=) and user U: creates its cgroup (named NAME.<random>)
 * if the policy sets limits, clones the init into the policy's namespaces,
 * moves it into the cgroup, and waits (at most 10 s) until it has exec'd
 * REAPER_FD. On failure returns -errno, with a malloc'd reason in *RET_ERROR
 * when there is one, and leaves nothing behind. */
int sbx_login_init_start(int reaper_fd, const char *run_dir, const char *name, struct sbx_policy *p,
                         const struct sbx_user *u, struct sbx_login_init *ret, char **ret_error);
