/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct sbx_server_config {
        const char *policy_dir;
        const char *run_dir;
        const char *controller; /* path of sandboxd-controller */
        const char *reaper;     /* path of sandboxd-reaper (login containers' init) */
        size_t max_per_user;    /* containers per non-root uid */
        size_t max_connections; /* open client connections per uid */
        bool syslog;
        int notify_fd; /* written to and closed once listening; -1: none */
        /* NAME.ini virtual network definitions */
        const char *network_dir;
};

/* Listens on RUN_DIR/sandboxd.sock and serves until SIGTERM/SIGINT. */
int sbx_server_run(const struct sbx_server_config *cfg);
