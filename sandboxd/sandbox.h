/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "cgroup-view.h"
#include "cgroup.h"
#include "macro.h"
#include "user.h"

struct sbx_policy;
struct sbx_mount_plan;
struct sbx_seccomp;

/* Everything the controller decided before clone. The child only reads it. */
struct sbx_sandbox {
        char *name;
        struct sbx_policy *policy;
        struct sbx_user user;
        struct sbx_mount_plan *mounts;
        struct sbx_seccomp *seccomp; /* the filter sent to the init after clone */
        char **argv;
        char **envp;
        char *cwd;     /* the caller's cwd, tried first inside */
        char *workdir; /* WorkingDirectory=, expanded; NULL: cwd, else home, else / */
        unsigned tty;  /* SBX_RUN_TTY_* */
        struct winsize winsize;
        bool has_winsize;
        int stdio[3];    /* fds for the non-tty stdio; -1 where the PTY goes */
        int clone_flags; /* CLONE_NEW* */
        int sync_fd;     /* child's end of the sync socket */
        bool cgroup_ns;  /* in its own cgroup: unshare a cgroup namespace */
        int cgroup_join_fds[SBX_CGROUP_JOIN_MAX]; /* v1: its "tasks" files, to join */
        size_t n_cgroup_join_fds;
        struct sbx_cgroup_view cgroup_view; /* mounted on /sys/fs/cgroup */
};

/* Steps of the child, reported with errno through the sync socket. */
enum sbx_step {
        SBX_STEP_WAIT_PARENT,
        SBX_STEP_CGROUP_NS,
        SBX_STEP_MOUNTS,
        SBX_STEP_HOSTNAME,
        SBX_STEP_LOOPBACK,
        SBX_STEP_PTY,
        SBX_STEP_SIGNALS,
        SBX_STEP_FORK,
        SBX_STEP_SESSION,
        SBX_STEP_STDIO,
        SBX_STEP_CREDENTIALS,
        SBX_STEP_CHDIR,
        SBX_STEP_SECCOMP,
        SBX_STEP_EXEC,
        SBX_STEP_CGROUP_VIEW,
        SBX_STEP_COUNT,
};

/* Records on the sync socket (child -> controller). */
enum sbx_sync_kind {
        SBX_SYNC_ERROR = 1, /* step, err (positive errno), value = mount entry index */
        SBX_SYNC_PTY,       /* carries the PTY master fd */
        SBX_SYNC_READY,     /* value = the command's pid inside the sandbox */
        SBX_SYNC_EXIT,      /* value = the command's wait status */
        SBX_SYNC_GO,        /* controller -> child: set-up from outside is done */
        SBX_SYNC_FILTER,    /* controller -> child: value = BPF instructions that follow */
};

struct sbx_sync {
        int kind;
        int step;
        int err;
        int value;
};

const char *sbx_step_to_string(enum sbx_step s);

/* The signals a client may send to its command: the init passes them on. */
#define SBX_N_FORWARDED_SIGNALS 9
extern const int sbx_forwarded_signals[SBX_N_FORWARDED_SIGNALS];

/* The container's first process (PID 1 with a PID namespace). Never returns. */
sbx_noreturn void sbx_child_main(const struct sbx_sandbox *s);
