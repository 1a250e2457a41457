/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Address leases of one bridge or virtual network: a directory with one file
 * per leased IPv4 address, named by the address ("10.213.7.2") and holding the
 * owner, the container's name. Files, so that leases survive a daemon (or
 * controller) crash and a restarted daemon never hands out an address twice;
 * created with O_EXCL, so an address has at most one owner. Names starting
 * with '.' are not leases. Callers serialize changes (net.c holds a flock on
 * the run dir's net/ directory). Only DIR_FD is touched: unit-tested in a
 * scratch directory. */

/* Leases the lowest free address in FIRST..LAST (host byte order), skipping
 * SKIP (the gateway), for OWNER. -ENOSPC when every address is taken. */
int sbx_lease_acquire(int dir_fd, uint32_t first, uint32_t last, uint32_t skip, const char *owner,
                      uint32_t *ret_addr);

/* Removes OWNER's leases; returns how many. */
int sbx_lease_release(int dir_fd, const char *owner);

/* Number of leases. */
int sbx_lease_count(int dir_fd);

/* Calls FN for each lease (address as written, owner; "" for a lease whose
 * owner was never written). A negative return from FN stops the walk. */
typedef int (*sbx_lease_fn)(const char *addr, const char *owner, void *userdata);
int sbx_lease_foreach(int dir_fd, sbx_lease_fn fn, void *userdata);

/* Removes the leases whose owner LIVE says is gone; returns how many. */
typedef bool (*sbx_lease_live_fn)(const char *owner, void *userdata);
int sbx_lease_sweep(int dir_fd, sbx_lease_live_fn live, void *userdata);

/* Claims: the same files for any unique KEY (a file name of [0-9a-z:.], not
 * starting with '.'), e.g. MAC addresses and interface names. Taking one another owner holds is
 * -EEXIST; taking one OWNER already holds succeeds. */
int sbx_lease_claim(int dir_fd, const char *key, const char *owner);
/* Removes OWNER's claims (OWNER NULL: those whose owner LIVE says is gone, and
 * unwritten ones); returns how many are left. */
int sbx_lease_unclaim(int dir_fd, const char *owner, sbx_lease_live_fn live, void *userdata);
