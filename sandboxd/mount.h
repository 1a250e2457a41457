/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The filesystem view of a sandbox (workload mode: the host's root, changed in
 * place inside a new mount namespace, the way systemd's namespace.c does it).
 *
 * The parent resolves everything into a plan: specifiers expanded, paths
 * normalized and checked, "-" entries whose path is missing dropped, entries
 * sorted so a parent directory is handled before anything below it, and
 * composite settings (PrivateDevices, PrivateTmp, the PID namespace's /proc)
 * expanded into single steps. The child then runs the steps in order. */

struct sbx_policy;
struct sbx_user;
struct sbx_mount_plan;

/* The failed index sbx_mount_apply_child() reports when the failure came before the
 * first step: checking that this is a new mount namespace, or making "/" private. */
#define SBX_MOUNT_INDEX_SETUP (-1)

/* Builds the plan for POLICY and user U (for %h, %u, %U). Needs the mount
 * namespace in the policy when it asks for anything (-EINVAL otherwise), and must
 * run in the mount namespace the sandbox is cloned from. On failure returns
 * -errno (-ENOENT for a missing path, -ELOOP for a path through a symbolic link,
 * -EINVAL for contradictions, -ENOMEM) and, if RET_ERROR is not NULL, stores a
 * malloc'd one-line message naming the setting and the path, e.g.
 * "ReadOnlyPaths: '/nonexistent' does not exist" (NULL on -ENOMEM). */
int sbx_mount_plan_build(const struct sbx_policy *policy, const struct sbx_user *u,
                         struct sbx_mount_plan **ret, char **ret_error);

/* Runs in the sandbox's first process, right after clone(CLONE_NEWNS|...) as root,
 * in the new PID namespace if there is one (for /proc), before anything else of
 * the container. Async-signal-safe: no allocation, no stdio, no logging. Refuses
 * (-EBUSY) to run in the mount namespace the plan was built in. Fails closed: the
 * first error stops it, returns -errno and stores in *RET_FAILED_INDEX (if not NULL)
 * the index of the failed step, or SBX_MOUNT_INDEX_SETUP; the parent names it with
 * sbx_mount_plan_describe(). Writes only to the plan's scratch area of file
 * descriptors, so it needs its own copy of the plan's memory (not CLONE_VM). */
int sbx_mount_apply_child(const struct sbx_mount_plan *plan, int *ret_failed_index);

/* Number of steps in the plan (0 for NULL). */
size_t sbx_mount_plan_count(const struct sbx_mount_plan *plan);

/* Whether the plan mounts a fresh sysfs on /sys (a private network namespace):
 * the sandbox's own cgroup view then goes on its fs/cgroup. */
bool sbx_mount_plan_fresh_sysfs(const struct sbx_mount_plan *plan);

/* Writes a one-line description of step INDEX into BUF (LEN bytes), e.g.
 * "BindReadOnlyPaths: '/srv/data' -> '/data'" or "PrivateDevices: '/dev/pts' (devpts)",
 * with control characters escaped. Always NUL-terminates (if LEN > 0); returns BUF. */
const char *sbx_mount_plan_describe(const struct sbx_mount_plan *plan, int index, char *buf,
                                    size_t len);

struct sbx_mount_plan *sbx_mount_plan_free(struct sbx_mount_plan *plan);
static inline void sbx_mount_plan_freep(struct sbx_mount_plan **plan)
{
        sbx_mount_plan_free(*plan);
}
