/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

struct sbx_msg;
struct sbx_registry;

/* The daemon's side of sbxctl network list|info|destroy: answers M (a
 * NETWORK_* request from a client of uid UID on FD). Anyone may list and
 * inspect networks, but sees only the leases of their own containers (root
 * sees all); destroy is root's. Returns <0 if FD should be closed. */
int sbx_network_ctl(int fd, uid_t uid, const struct sbx_registry *reg, const char *run_dir,
                    const char *network_dir, const struct sbx_msg *m);
