/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* libnl-3 route primitives: links, addresses, routes. Each returns -errno
 * (libnl's NLE_* codes are translated once, here) and logs only at debug
 * level; callers add the context. */

struct nl_sock;

/* A NETLINK_ROUTE socket in our network namespace. */
int sbx_net_open(struct nl_sock **ret);
/* A NETLINK_ROUTE socket in the network namespace of PID: we enter it only
 * for the socket() call and return to ours; the socket stays bound to PID's.
 * While there, writes SYSCTLS ("path", "value" pairs under /proc/sys, NULL
 * terminated; failures ignored): /proc/sys/net shows the namespace of the
 * process that opens it. */
int sbx_net_open_in(pid_t pid, const char *const *sysctls, struct nl_sock **ret);
void sbx_net_close(struct nl_sock *sk);

/* ifindex of NAME, -ENODEV if none. With ret_is_bridge, whether it is a bridge. */
int sbx_net_link_index(struct nl_sock *sk, const char *name, bool *ret_is_bridge);

/* A veth pair: HOST_IF (up, enslaved to MASTER_IFINDEX if > 0) here, and its
 * peer created directly in the network namespace of PID as "eth0", with MAC
 * (down: sbx_net_link_up() it there). One RTM_NEWLINK. */
int sbx_net_veth_create(struct nl_sock *sk, const char *host_if, const uint8_t mac[6],
                        int master_ifindex, pid_t pid);

/* Deletes link NAME; 0 if there is none. */
int sbx_net_link_delete(struct nl_sock *sk, const char *name);

/* A bridge NAME, up. -EEXIST if something has that name. */
int sbx_net_bridge_create(struct nl_sock *sk, const char *name);

/* Adds "ADDRESS/PREFIX" (IPv4 or IPv6) to IFINDEX. */
int sbx_net_addr_add(struct nl_sock *sk, int ifindex, const char *cidr);

/* Default route via GATEWAY on IFINDEX; ONLINK when the gateway is outside
 * the interface's subnet. */
int sbx_net_route_default(struct nl_sock *sk, int ifindex, const char *gateway, bool onlink);

/* A token bucket (tbf) root qdisc on IFINDEX: what leaves it is held to
 * BITS_PER_SEC (at most 16G), with a burst of 10 ms of traffic (at least
 * ten full frames) and at most 50 ms of queue. */
int sbx_net_rate_limit(struct nl_sock *sk, int ifindex, uint64_t bits_per_sec);

/* Sets IFINDEX up. */
int sbx_net_link_up(struct nl_sock *sk, int ifindex);

struct sbx_net_counters {
        uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
};
/* Counters of link NAME, as the kernel keeps them for it. */
int sbx_net_link_counters(struct nl_sock *sk, const char *name, struct sbx_net_counters *ret);

/* Calls FN with the name of every link whose name starts with PREFIX. */
int sbx_net_links_foreach(struct nl_sock *sk, const char *prefix,
                          void (*fn)(const char *name, void *userdata), void *userdata);

/* Writes VALUE to /proc/sys/PATH (of the caller's network namespace). */
int sbx_net_sysctl_write(const char *path, const char *value);
