/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* Masquerading for a virtual network, in nftables: one table per network,
 * "ip lxsandbox-NAME", made and deleted whole. No other table or rule is
 * touched. Through the nft binary (absolute path, empty environment, the
 * script on stdin) rather than libnftables: only a network's first user and
 * its teardown pay for it, and the launch path of every other sandbox keeps
 * its shared libraries to glibc. */

/* Creates (or replaces) the table: masquerade SUBNET/PREFIX (host byte order)
 * leaving through OUTBOUND (NULL: any interface but the network's bridge).
 * On failure *ret_error (if not NULL) holds nft's message. */
int sbx_nat_apply(const char *network, uint32_t subnet, unsigned prefix, const char *bridge,
                  const char *outbound, char **ret_error);

/* Deletes the table; no table is not an error. */
int sbx_nat_remove(const char *network);

/* Whether the table exists (1), not (0), or -errno. */
int sbx_nat_exists(const char *network);
