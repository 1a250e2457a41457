/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define SBX_DEFAULT_SOCKET SBX_RUN_DIR "/sandboxd.sock"

/* --socket PATH, else $LXSANDBOX_SOCKET, else the default. */
const char *sbx_client_socket_path(const char *opt);

/* Connects to the daemon; -errno on failure (the caller names the path). */
int sbx_client_connect(const char *path);
