/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A login process is moved into its container's cgroup on join and back to
 * where it was on close (else the container's cgroup could not be removed,
 * and the login program would stay charged to the user's limits). "Where it
 * was" is its /proc/PID/cgroup text before the move. */

#include <stddef.h>
#include <sys/types.h>

/* Reads /proc/PID/cgroup into a malloc'd string. */
int sbx_login_cgroup_read(pid_t pid, char **ret);

/* Pure: for every hierarchy whose path differs between SAVED and CURRENT
 * (/proc/PID/cgroup texts), calls FN with the hierarchy's directory under
 * /sys/fs/cgroup ("memory", "cpu,cpuacct", "systemd", "" for v2 at the top,
 * "unified" for v2 on a hybrid layout when UNIFIED_SUBDIR) and the saved path.
 * Stops at FN's first error. Returns the number of moves, or -errno. */
int sbx_login_cgroup_diff(const char *saved, const char *current, int unified_subdir,
                          int (*fn)(const char *dir, const char *path, void *userdata),
                          void *userdata);

/* Moves PID back into the cgroups of SAVED wherever it is elsewhere now. */
int sbx_login_cgroup_restore(pid_t pid, const char *saved);
