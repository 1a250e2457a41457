/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a sandbox with limits sees on /sys/fs/cgroup: its own cgroup only, as
 * the root of fresh cgroup mounts made inside its cgroup namespace (v2: one
 * cgroup2 mount; v1: a read-only tmpfs holding one mount per hierarchy it has a
 * cgroup in), never the host's tree with every other cgroup's name in it.
 *
 * sbx_cgroup_view_prepare() runs in the controller before clone;
 * sbx_cgroup_view_apply_child() in the init, after it entered its cgroup and
 * unshared its cgroup namespace, as root: system calls only, no allocation. */

#include <stddef.h>

struct sbx_limits;

#define SBX_CGROUP_VIEW_MAX 8
#define SBX_CGROUP_VIEW_NAME_MAX 64

struct sbx_cgroup_view {
        int version; /* 0: nothing to mount, else 1 or 2 */
        size_t n;    /* v1: hierarchies */
        /* v1: a hierarchy's controllers as the kernel lists them ("cpu,cpuacct"):
         * its directory name, and the mount's options. */
        char hierarchy[SBX_CGROUP_VIEW_MAX][SBX_CGROUP_VIEW_NAME_MAX];
};

/* The hierarchies among WANT (1u << SBX_CG_* bits) from the text of
 * /proc/self/cgroup, for VERSION 1 or 2. Pure. -ENOENT when a wanted
 * controller has no hierarchy. */
int sbx_cgroup_view_parse(const char *proc_self_cgroup, int version, unsigned want,
                          struct sbx_cgroup_view *ret);

/* For the limits L on the running system. */
int sbx_cgroup_view_prepare(const struct sbx_limits *l, struct sbx_cgroup_view *ret);

/* Mounts the view on TARGET (normally /sys/fs/cgroup, in the sandbox's fresh,
 * read-only sysfs). */
int sbx_cgroup_view_apply_child(const struct sbx_cgroup_view *v, const char *target);
