/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A virtual network, defined by an admin in NETWORK_DIR/NAME.ini:
 *
 *   [Network]
 *   Bridge = sbxbr0              ; the bridge lxsandbox creates and owns
 *   Address = 10.213.7.1/24      ; the bridge's address: subnet and gateway
 *   NAT = yes                    ; masquerade what leaves the subnet (default no)
 *   OutboundInterface = eth0     ; only traffic out of this interface (default any)
 *   Description = lab network
 */
struct sbx_netconf {
        char *name;
        char *filename; /* as given to the parser, for messages */
        char *bridge;
        uint32_t address; /* host byte order */
        unsigned prefix;
        bool nat;
        char *outbound; /* NULL: any interface */
        char *description;
};

/* Largest network file, and longest line. */
#define SBX_NETCONF_MAX_SIZE ((size_t) 16 * 1024)
#define SBX_NETCONF_MAX_LINE ((size_t) 1024)

/* Parses TEXT (LEN bytes) as network NAME read from FILENAME. Pure: no system
 * calls. On error returns -EINVAL (or -ENOMEM) with a malloc'd message
 * "FILENAME:LINE: [Network] Key: what was expected" in *ret_error. */
int sbx_netconf_parse_string(const char *text, size_t len, const char *name, const char *filename,
                             struct sbx_netconf **ret, char **ret_error);

/* Reads NAME.ini in DIR_FD: O_NOFOLLOW, a regular file owned by root and not
 * group/other-writable (as policies). Also returns the text it parsed. */
int sbx_netconf_load(int dir_fd, const char *name, struct sbx_netconf **ret, char **ret_text,
                     char **ret_error);

/* Canonical "Key=Value" text (golden tests, sbxctl network info). */
int sbx_netconf_dump(const struct sbx_netconf *c, char **ret_text);

/* The containers' addresses: the subnet without its network and broadcast
 * addresses; the bridge's own address is the gateway. */
void sbx_netconf_range(const struct sbx_netconf *c, uint32_t *ret_first, uint32_t *ret_last);

struct sbx_netconf *sbx_netconf_free(struct sbx_netconf *c);
static inline void sbx_netconf_freep(struct sbx_netconf **c)
{
        sbx_netconf_free(*c);
}
