/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Child side, after the mounts: become UID/GID with exactly GROUPS as
 * supplementary groups, with every capability set empty (effective, permitted,
 * inheritable, bounding, ambient), then set no_new_privs. Uses libcap-ng, which
 * reads /proc/self/status: call it only once the sandbox's own /proc is mounted.
 * Returns -errno; the result is verified, so a partial drop fails closed. */
int sbx_caps_drop_to_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);
