/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

struct sbx_policy;

/* CLONE_NEW* flags for the policy's namespaces. */
int sbx_ns_clone_flags(const struct sbx_policy *p);

/* Child side: bring "lo" up in a fresh network namespace. An ioctl rather than
 * libnl: it needs no allocation between clone and exec. */
int sbx_ns_loopback_up(void);
