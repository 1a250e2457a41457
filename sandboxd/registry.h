/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A container the daemon knows, i.e. a live controller. */
struct sbx_container {
        struct sbx_container *next;
        char *name;
        char *policy;
        char *argv0;
        uid_t uid;
        pid_t controller_pid;
        pid_t init_pid; /* 0 until the controller reports it */
        char state[16]; /* starting, running, stopping */
        uint64_t start_time;
        int ctl_fd; /* socket to the controller */
};

struct sbx_registry {
        struct sbx_container *head;
        size_t count;
};

struct sbx_container *sbx_registry_find(const struct sbx_registry *r, const char *name);
struct sbx_container *sbx_registry_find_ctl(const struct sbx_registry *r, int ctl_fd);
size_t sbx_registry_count_uid(const struct sbx_registry *r, uid_t uid);
/* Creates and links a container; NULL on ENOMEM. */
struct sbx_container *sbx_registry_add(struct sbx_registry *r, const char *name, const char *policy,
                                       const char *argv0, uid_t uid);
/* Unlinks and frees C (does not close its fd). */
void sbx_registry_remove(struct sbx_registry *r, struct sbx_container *c);
