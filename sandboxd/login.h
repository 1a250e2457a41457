/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Login containers (pam_lxsandbox): one per user, created by the first
 * LOGIN_JOIN of a root peer (sshd, login, su), joined by the user's later
 * sessions, torn down Linger= after the last session ends. The daemon is the
 * parent of each container's init (an exec'd sandboxd-reaper) and holds a
 * pidfd of it and of every session's login process. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct sbx_msg;
struct sbx_logins;

struct sbx_logins_config {
        int epoll_fd;      /* the daemon's; our fds are added with TAG | fd */
        uint64_t tag;      /* epoll data tag of our fds */
        int policy_dir_fd; /* borrowed */
        const char *run_dir;
        const char *reaper; /* path of sandboxd-reaper */
};

int sbx_logins_new(const struct sbx_logins_config *cfg, struct sbx_logins **ret);
/* Tears down idle containers (no session); containers with sessions keep
 * running, unmanaged (their users stay logged in across a daemon restart). */
struct sbx_logins *sbx_logins_free(struct sbx_logins *l);

/* An epoll event on one of our fds (FD without the tag). */
void sbx_logins_on_event(struct sbx_logins *l, int fd);

/* LOGIN_JOIN, LOGIN_CLOSE, LOGIN_SESSIONS, LOGIN_ENTER from the connection
 * CONN_FD whose peer is CRED. Replies on CONN_FD; < 0 drops the connection. */
int sbx_logins_handle(struct sbx_logins *l, int conn_fd, const struct ucred *cred,
                      const struct sbx_msg *m);

/* STOP of login container NAME by UID (root or its user): kills it, and with
 * it every process of its sessions. -ENOENT if there is none UID may see. */
int sbx_logins_stop(struct sbx_logins *l, const char *name, uid_t uid);

/* LIST: one CONTAINER message per login container UID may see (root: all). */
int sbx_logins_list(struct sbx_logins *l, int conn_fd, uid_t uid);
