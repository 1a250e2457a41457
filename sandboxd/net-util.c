/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net-util.h"
#include "parse-util.h"

/* FNV-1a, 64 bits: stable across builds and architectures, which is all a
 * name-derived MAC and interface name need (not a security boundary: a
 * collision only makes the second start fail with EEXIST). */
static uint64_t fnv1a(const char *s, uint64_t seed)
{
        uint64_t h = 0xcbf29ce484222325ull ^ seed;

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 0x100000001b3ull;
        }
        return h;
}

void sbx_net_mac_from_name(const char *name, uint8_t ret_mac[6])
{
        uint64_t h = fnv1a(name, 0x6d6163); /* "mac" */

        for (int i = 0; i < 6; i++)
                ret_mac[i] = (uint8_t) (h >> (8 * i));
        /* Locally administered (bit 1), unicast (bit 0 clear). */
        ret_mac[0] = (uint8_t) ((ret_mac[0] & 0xfe) | 0x02);
}

void sbx_net_host_ifname(const char *name, char ret[SBX_NET_IFNAME_MAX])
{
        uint64_t h = fnv1a(name, 0);

        (void) snprintf(ret, SBX_NET_IFNAME_MAX, SBX_NET_VETH_PREFIX "%011llx",
                        (unsigned long long) (h & 0xfffffffffffull));
}

int sbx_net_parse_ipv4(const char *s, uint32_t *ret_addr)
{
        struct in_addr a;

        if (inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret_addr = ntohl(a.s_addr);
        return 0;
}

int sbx_net_parse_ipv4_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix)
{
        const char *slash = strchr(s, '/');
        char buf[INET_ADDRSTRLEN];
        uint64_t prefix;
        uint32_t a;
        size_t n;

        if (!slash)
                return -EINVAL;
        n = (size_t) (slash - s);
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (sbx_net_parse_ipv4(buf, &a) < 0 ||
            sbx_parse_uint64_range(slash + 1, 0, 32, &prefix) < 0)
                return -EINVAL;
        *ret_addr = a;
        *ret_prefix = (unsigned) prefix;
        return 0;
}

const char *sbx_net_ipv4_format(uint32_t addr, char *buf, size_t len)
{
        (void) snprintf(buf, len, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
                        (addr >> 8) & 0xff, addr & 0xff);
        return buf;
}
