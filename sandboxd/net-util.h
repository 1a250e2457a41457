/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Names of the host end of a container's veth: "vsbx" and 11 hex digits of a
 * hash of the container name (IFNAMSIZ allows 15 bytes). */
#define SBX_NET_VETH_PREFIX "vsbx"
#define SBX_NET_IFNAME_MAX 16

/* Pure helpers of the network code (no system calls): unit-tested. */

/* A locally administered unicast MAC derived from the container name: the same
 * name gets the same address on every start (neighbour caches stay valid). */
void sbx_net_mac_from_name(const char *name, uint8_t ret_mac[6]);

/* The host end's interface name for container NAME. */
void sbx_net_host_ifname(const char *name, char ret[SBX_NET_IFNAME_MAX]);

/* An IPv4 "A.B.C.D/P" -> address (host byte order) and prefix. -EINVAL if bad. */
int sbx_net_parse_ipv4_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix);
/* "A.B.C.D" -> host byte order. */
int sbx_net_parse_ipv4(const char *s, uint32_t *ret_addr);
/* Host byte order -> "A.B.C.D" (buf of at least 16 bytes). */
const char *sbx_net_ipv4_format(uint32_t addr, char *buf, size_t len);

static inline uint32_t sbx_net_mask(unsigned prefix)
{
        return prefix == 0 ? 0 : ~(uint32_t) 0 << (32 - prefix);
}
