/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

struct sbx_policy;
struct sbx_user;

/* Builds the command's environment from scratch: PATH, HOME, USER, LOGNAME,
 * SHELL; TERM from the client when it has a terminal; the client's variables
 * named by PassEnvironment=; then Environment= (which wins). Nothing of the
 * daemon's own environment. */
int sbx_env_build(const struct sbx_policy *p, const struct sbx_user *u,
                  const char *const *client_env, size_t n_client_env, int with_term,
                  char ***ret_envp);
