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
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbx_cgroup;
struct sbx_limits;

/* A container's counters, from its cgroup files only (never /proc/PID). A
 * field is meaningful when its SBX_CGROUP_STATS_* bit is in HAVE; limits are
 * UINT64_MAX when unlimited. */
enum {
        SBX_CGROUP_STATS_CPU = 1u << 0,    /* cpu_usage_ns (percpu on v1) */
        SBX_CGROUP_STATS_MEMORY = 1u << 1, /* memory_current, memory_max, oom_kills */
        SBX_CGROUP_STATS_PEAK = 1u << 2,   /* memory_peak */
        SBX_CGROUP_STATS_TASKS = 1u << 3,  /* tasks_current, tasks_max */
        SBX_CGROUP_STATS_IO = 1u << 4,     /* io_read_bytes, io_write_bytes */
};

struct sbx_cgroup_stats {
        unsigned have;
        unsigned version; /* 1 or 2 */
        uint64_t cpu_usage_ns;
        uint64_t *percpu; /* v1 cpuacct.usage_percpu, malloc'd; NULL on v2 */
        size_t n_percpu;
        uint64_t memory_current, memory_peak, memory_max, oom_kills;
        uint64_t tasks_current, tasks_max;
        uint64_t io_read_bytes, io_write_bytes;
};

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

/* Moves PID (the sandbox's init, before it drops privileges) into the cgroup. */
int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid);

/* The running system's layout: 2 (unified; the init can be cloned straight
 * into its cgroup with clone3 CLONE_INTO_CGROUP), 1 (per-controller v1
 * hierarchies, or hybrid), or -EOPNOTSUPP. */
int sbx_cgroup_version(void);

/* v1: one O_WRONLY fd of the cgroup's "tasks" file per hierarchy, for
 * sbx_cgroup_join_child(); none on v2 (clone3 CLONE_INTO_CGROUP instead). */
#define SBX_CGROUP_JOIN_MAX 8
int sbx_cgroup_open_join_fds(const struct sbx_cgroup *cg, int ret_fds[], size_t max, size_t *ret_n);

/* In the init, as root, before it runs anything else: moves the calling
 * thread (the whole init: it is single-threaded) into the cgroup by writing
 * "0" to each fd. A thread moving itself through "tasks" is the one migration
 * the kernel does without taking cgroup_threadgroup_rwsem for writing, whose
 * RCU grace period costs milliseconds when it has been idle. No allocation. */
int sbx_cgroup_join_child(const int fds[], size_t n);

/* The cgroup's directory fd for CLONE_INTO_CGROUP (owned by CG), or -EOPNOTSUPP
 * on v1. */
int sbx_cgroup_clone_fd(const struct sbx_cgroup *cg);

/* After the init exited: a message naming the limit that ended the command
 * ("killed: out of memory (MemoryMax=64M)"), or NULL in *RET when none did. */
int sbx_cgroup_limit_report(struct sbx_cgroup *cg, char **ret);

/* Reads the counters of CG into *RET (free RET->percpu). */
int sbx_cgroup_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *ret);

/* Live update: writes the limits set in CHANGES (validated by the policy
 * parser) to the running container's cgroup. On success *RET_CHANGED is a
 * malloc'd "TasksMax=8 (was 32), ..." description; on error -errno and, when
 * RET_ERROR is not NULL, a malloc'd message naming the key and value. On v1 a
 * limit whose hierarchy the container was not created in is refused. */
int sbx_cgroup_update(struct sbx_cgroup *cg, const struct sbx_limits *changes, char **ret_changed,
                      char **ret_error);

/* Kills whatever is left in the cgroup, removes it (retrying EBUSY) and frees
 * CG. Idempotent, accepts NULL and a half-built cgroup; returns NULL. */
struct sbx_cgroup *sbx_cgroup_cleanup(struct sbx_cgroup *cg);

/* Daemon, after a controller died (e.g. kill -9): removes what is left of
 * container NAME's cgroup, if anything. */
int sbx_cgroup_remove_stale(const char *name);

/* A restarted daemon: opens the existing cgroup of container NAME, in the
 * hierarchies where it exists (-ENOENT: none), for attach and cleanup. */
int sbx_cgroup_reopen(const char *name, struct sbx_cgroup **ret);

/* Frees CG and leaves the cgroup as it is (a daemon exiting while a login
 * container runs on). Accepts NULL; returns NULL. */
struct sbx_cgroup *sbx_cgroup_forget(struct sbx_cgroup *cg);
