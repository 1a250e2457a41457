/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net.h"

struct sbx_policy;

/* A container's network attachment (Mode=bridge or Mode=network), made by its
 * controller: sbx_network_prepare() before clone (checks the bridge, creates a
 * virtual network on first use, leases an address), sbx_network_attach()
 * after clone (the veth pair, the inside's address and route), and
 * sbx_network_cleanup() when the init has exited.
 *
 * State under RUN_DIR/net/ (0700), serialized by a flock on that directory:
 * one directory per lease scope, "bridge-BRIDGE" (AddressPool= leases on an
 * existing bridge) or "network-NAME" (a virtual network: its leases and
 * ".config", the network file as it was when the network was created). A
 * network exists exactly as long as its directory; it is torn down with the
 * last lease. Host veth names derive from the container name
 * (net-util.h), so the daemon can remove a dead controller's leftovers. */
struct sbx_network;

int sbx_network_prepare(const struct sbx_policy *p, const char *container, const char *run_dir,
                        const char *network_dir, struct sbx_network **ret, char **ret_error);
int sbx_network_attach(struct sbx_network *n, pid_t pid, char **ret_error);
/* Removes the veth and the lease, and the virtual network with its last
 * lease. Idempotent; NULL is fine. Returns NULL. */
struct sbx_network *sbx_network_cleanup(struct sbx_network *n);

/* Counters of the container's eth0, from the host end (its rx is our tx). */
int sbx_network_counters(const struct sbx_network *n, struct sbx_net_counters *ret);

/* Daemon: everything made for CONTAINER, whose controller died without
 * cleaning up (its veth, its leases, networks left without a lease). */
int sbx_network_remove_stale(const char *run_dir, const char *container);

/* Daemon, at start: the same for every container not in LIVE (a
 * NULL-terminated list of names), and every network without a lease. */
int sbx_network_sweep(const char *run_dir, char *const *live);

/* Tears down virtual network NAME now (bridge, NAT table, leases), whoever
 * uses it: their eth0 is left without a link. -ENOENT if it is not active. */
int sbx_network_destroy(const char *run_dir, const char *name);

/* For sbxctl network list/info: each network with a file in NETWORK_DIR or
 * active in RUN_DIR; "Key=Value" lines (Bridge, Address, NAT,
 * OutboundInterface, Description, State, Leases, and "Lease=ADDRESS
 * CONTAINER" for each lease). */
typedef int (*sbx_network_fn)(const char *name, char **lines, void *userdata);
int sbx_network_foreach(const char *run_dir, const char *network_dir, const char *only,
                        sbx_network_fn fn, void *userdata);
