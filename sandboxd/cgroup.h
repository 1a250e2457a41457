/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Resource limits of a sandbox, through cgroups. Callers use only these
 * functions; cgroup.c detects the layout once (statfs on /sys/fs/cgroup) and
 * dispatches to the v1 or v2 backend (cgroup-v1.c, cgroup-v2.c).
 *
 * The sandbox's cgroup is "lxsandbox-<container name>", a child of the
 * daemon's own cgroup (from /proc/self/cgroup) in each hierarchy, and is only
 * made when the policy sets a [Resources] limit. */

#include <stdbool.h>
#include <sys/types.h>

struct sbx_cgroup;
struct sbx_limits;

/* Daemon start-up. On v2, moves the daemon into the leaf "<own>/daemon" and
 * enables the controllers it may use in "<own>/cgroup.subtree_control" (a
 * cgroup with processes cannot delegate controllers). No-op on v1. Failure
 * is not fatal: limits then fail at start, with a message. */
int sbx_cgroup_daemon_setup(void);

/* Controller, before clone: creates the cgroup of container NAME and writes
 * the limits. On error returns -errno and, when RET_ERROR is not NULL, a
 * malloc'd message for the client ("Failed to set MemoryMax=64M: ..."). */
int sbx_cgroup_prepare(const char *name, const char *policy, const struct sbx_limits *l,
                       struct sbx_cgroup **ret, char **ret_error);

/* Moves PID (the sandbox's init, still waiting for its go) into the cgroup. */
int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid);

/* After the init exited: a message naming the limit that ended the command
 * ("killed: out of memory (MemoryMax=64M)"), or NULL in *RET when none did. */
int sbx_cgroup_limit_report(struct sbx_cgroup *cg, char **ret);

/* Kills whatever is left in the cgroup, removes it (retrying EBUSY) and frees
 * CG. Idempotent, accepts NULL and a half-built cgroup; returns NULL. */
struct sbx_cgroup *sbx_cgroup_cleanup(struct sbx_cgroup *cg);

/* Daemon, after a controller died (e.g. kill -9): removes what is left of
 * container NAME's cgroup, if anything. */
int sbx_cgroup_remove_stale(const char *name);
