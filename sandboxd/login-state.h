/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a restarted daemon needs to take a login container back: written to
 * RUN_DIR/logins/NAME.state (atomically: a temporary file renamed) whenever a
 * container starts or its sessions change, removed when it is gone. The
 * processes are named by pid and start time (/proc/PID/stat field 22), so a
 * reused pid is never mistaken for them. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbx_login_state_session {
        pid_t pid;
        uint64_t starttime;  /* clock ticks since boot */
        uint64_t start_time; /* CLOCK_REALTIME seconds */
        char *service, *tty, *rhost, *orig_cgroup;
};

struct sbx_login_state {
        char *name, *user, *policy;
        char *cgroup; /* container name of its cgroup ("login-alice.1a2b3c4d"), or NULL */
        uid_t uid;
        uint64_t linger_usec;
        uint32_t max_sessions; /* optional in the file (0: none, or an older daemon's file) */
        pid_t init_pid;
        uint64_t init_starttime;
        int ns_flags;
        uint64_t start_time;
        struct sbx_login_state_session *sessions;
        size_t n_sessions;
};

/* Pure. Strings are hex-encoded, so any byte survives. */
int sbx_login_state_format(const struct sbx_login_state *st, char **ret);
/* Pure and strict: -EBADMSG for anything but what format writes. */
int sbx_login_state_parse(const char *text, struct sbx_login_state *ret);
void sbx_login_state_done(struct sbx_login_state *st);

/* /proc/PID/stat start time; -ESRCH when there is no such process. */
int sbx_login_pid_starttime(pid_t pid, uint64_t *ret);

/* Atomically replaces DIR_FD/NAME.state with TEXT. */
int sbx_login_state_write(int dir_fd, const char *name, const char *text);
