/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The first process of a login container: cloned by the daemon into the
 * policy's namespaces, it enters the cgroup and its namespace, builds the
 * filesystem view, drops every capability and execs sandboxd-reaper. Between
 * clone and exec only async-signal-safe code runs: we are a copy of the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "login-init.h"
#include "macro.h"
#include "mount.h"
#include "ns.h"
#include "policy.h"
#include "user.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Longest a new container's set-up may take before the join fails. */
#define SETUP_TIMEOUT_MS 10000

static void sbx_cgroup_cleanupp(struct sbx_cgroup **cg)
{
        *cg = sbx_cgroup_cleanup(*cg);
}

/* What the container's first process needs between clone and exec. */
struct child_args {
        const struct sbx_mount_plan *plan;
        const char *hostname;
        int flags;
        int go_fd, report_fd, null_fd, reaper_fd;
        bool cgroup_ns;
};

struct child_report {
        int step; /* 1 cgroup ns, 2 mounts, 3 hostname, 4 lo, 5 privileges, 6 exec */
        int err;
        int index;
};

static const char *const step_names[] = {
    "?",
    "entering a cgroup namespace",
    "setting up mounts",
    "setting the hostname",
    "bringing up lo",
    "dropping privileges",
    "executing sandboxd-reaper",
};

static void set_error(char **ret, const char *fmt, ...) sbx_printf(2, 3);
static void set_error(char **ret, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
}

static sbx_noreturn void child_fail(const struct child_args *a, int step, int r, int index)
{
        struct child_report rep = {.step = step, .err = r < 0 ? -r : r, .index = index};

        (void) !write(a->report_fd, &rep, sizeof(rep));
        _exit(127);
}

/* Async-signal-safe only: we are a clone of the daemon. */
static sbx_noreturn void child_main(const struct child_args *a)
{
        char *const argv[] = {(char *) "sandboxd-reaper", NULL};
        char *const envp[] = {NULL};
        char go;
        int failed = -1, r;

        /* Wait until the daemon has put us in the container's cgroup. */
        if (read(a->go_fd, &go, 1) != 1)
                _exit(1);
        if (a->cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
                child_fail(a, 1, sbx_negerrno(), 0);
        /* Nothing of the daemon's reaches the container: stdio is /dev/null. */
        for (int fd = 0; fd < 3; fd++)
                if (dup2(a->null_fd, fd) < 0)
                        child_fail(a, 5, sbx_negerrno(), 0);
        if (a->flags & CLONE_NEWNS) {
                r = sbx_mount_apply_child(a->plan, &failed);
                if (r < 0)
                        child_fail(a, 2, r, failed);
        }
        if ((a->flags & CLONE_NEWUTS) && a->hostname &&
            sethostname(a->hostname, strlen(a->hostname)) < 0)
                child_fail(a, 3, sbx_negerrno(), 0);
        if (a->flags & CLONE_NEWNET) {
                r = sbx_ns_loopback_up();
                if (r < 0)
                        child_fail(a, 4, r, 0);
        }
        if (chdir("/") < 0)
                child_fail(a, 5, sbx_negerrno(), 0);
        /* Root without capabilities: exec computes its permitted set from the
         * (empty) bounding set. The user's processes, another uid, can neither
         * signal nor ptrace it. */
        for (int cap = 0; cap <= 63; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        child_fail(a, 5, sbx_negerrno(), 0);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(a, 5, sbx_negerrno(), 0);
        /* Every fd but the report pipe and the reaper's closes here; those
         * two are close-on-exec. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                child_fail(a, 5, sbx_negerrno(), 0);
        syscall(SYS_execveat, a->reaper_fd, "", argv, envp, AT_EMPTY_PATH);
        child_fail(a, 6, sbx_negerrno(), 0);
}

/* The daemon's run dir is never reachable inside (its socket would let the
 * user ask for a laxer sandbox). */
static int hide_run_dir(struct sbx_policy *p, const char *run_dir)
{
        struct sbx_path *paths;

        if (!run_dir || run_dir[0] != '/' || strchr(run_dir, '%') ||
            !(p->namespaces & (1u << SBX_NS_MOUNT)))
                return 0;
        paths = reallocarray(p->inaccessible_paths, p->n_inaccessible_paths + 1, sizeof(*paths));
        if (!paths)
                return -ENOMEM;
        p->inaccessible_paths = paths;
        paths[p->n_inaccessible_paths] =
            (struct sbx_path){.path = strdup(run_dir), .ignore_missing = true};
        if (!paths[p->n_inaccessible_paths].path)
                return -ENOMEM;
        p->n_inaccessible_paths++;
        return 0;
}

/* Clones the container's init with the policy's namespaces and waits until it
 * has exec'd the reaper (or failed, with the reason in *RET_ERROR). */
int sbx_login_init_start(int reaper_fd, const char *run_dir, const char *name, struct sbx_policy *p,
                         const struct sbx_user *u, struct sbx_login_init *ret, char **ret_error)
{
        cleanup_(sbx_cgroup_cleanupp) struct sbx_cgroup *cg = NULL;
        cleanup_(sbx_mount_plan_freep) struct sbx_mount_plan *plan = NULL;
        cleanup_close int go_r = -1, go_w = -1, rep_r = -1, rep_w = -1, null_fd = -1;
        struct child_args a = {.hostname = p->hostname, .reaper_fd = reaper_fd};
        struct clone_args ca = {.exit_signal = SIGCHLD};
        struct child_report rep;
        struct pollfd pfd = {.events = POLLIN};
        int pidfd = -1, ns_flags, fds[2], r;
        char cgname[96];
        uint32_t gen = 0;
        ssize_t n;
        pid_t pid;

        if (reaper_fd < 0) {
                set_error(ret_error, "sandboxd-reaper is missing (see the daemon's log)");
                return -ENOENT;
        }
        ns_flags = sbx_ns_clone_flags(p);
        if (p->network_mode != SBX_NETWORK_NONE && p->network_mode != SBX_NETWORK_HOST) {
                set_error(ret_error, "network mode '%s' is not supported for logins",
                          sbx_strna(sbx_network_mode_to_string(p->network_mode)));
                return -EOPNOTSUPP;
        }
        if (ns_flags & CLONE_NEWNS) {
                r = hide_run_dir(p, run_dir);
                if (r < 0)
                        return r;
                r = sbx_mount_plan_build(p, u, &plan, ret_error);
                if (r < 0)
                        return r;
        }
        if (p->limits.set) {
                /* A new name per container: a login arriving while the last
                 * container of the user is torn down gets its own cgroup. */
                if (getrandom(&gen, sizeof(gen), GRND_NONBLOCK) != sizeof(gen))
                        gen = (uint32_t) time(NULL) ^ (uint32_t) getpid();
                (void) snprintf(cgname, sizeof(cgname), "%s.%08x", name, gen);
                r = sbx_cgroup_prepare(cgname, p->name, &p->limits, &cg, ret_error);
                if (r < 0)
                        return r;
                ns_flags |= CLONE_NEWCGROUP;
        }

        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0 || pipe2(fds, O_CLOEXEC) < 0)
                return sbx_negerrno();
        go_r = fds[0];
        go_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return sbx_negerrno();
        rep_r = fds[0];
        rep_w = fds[1];

        a.plan = plan;
        a.flags = ns_flags & ~CLONE_NEWCGROUP;
        a.go_fd = go_r;
        a.report_fd = rep_w;
        a.null_fd = null_fd;
        a.cgroup_ns = cg != NULL;
        ca.flags = (uint64_t) a.flags | CLONE_PIDFD;
        ca.pidfd = (uint64_t) (uintptr_t) &pidfd;
        pid = (pid_t) syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid < 0)
                return log_error_errno(sbx_negerrno(), "clone3: %m");
        if (pid == 0)
                child_main(&a);
        /* Their ends are the child's: EOF on REP_R means it exec'd. */
        sbx_closep(&rep_w);
        sbx_closep(&go_r);

        if (cg) {
                r = sbx_cgroup_attach(cg, pid);
                if (r < 0) {
                        set_error(ret_error, "cannot move the init into its cgroup: %s",
                                  strerror(-r));
                        goto kill;
                }
        }
        if (write(go_w, "g", 1) != 1) {
                r = sbx_negerrno();
                goto kill;
        }
        pfd.fd = rep_r;
        r = poll(&pfd, 1, SETUP_TIMEOUT_MS);
        if (r <= 0) {
                r = r == 0 ? -ETIMEDOUT : sbx_negerrno();
                set_error(ret_error, "the container's set-up did not finish");
                goto kill;
        }
        n = read(rep_r, &rep, sizeof(rep));
        if (n == 0) {
                /* exec'd: the pipe closed on exec */
                *ret = (struct sbx_login_init){
                    .pid = pid, .pidfd = pidfd, .ns_flags = ns_flags, .cg = TAKE_PTR(cg)};
                if (ret->cg)
                        (void) snprintf(ret->cgroup_name, sizeof(ret->cgroup_name), "%s", cgname);
                return 0;
        }
        if (n == sizeof(rep) && rep.step > 0 && rep.step < (int) ELEMENTSOF(step_names)) {
                char what[512] = "";

                if (rep.step == 2)
                        (void) sbx_mount_plan_describe(plan, rep.index, what, sizeof(what));
                r = rep.err > 0 ? -rep.err : -EIO;
                set_error(ret_error, "%s%s%s: %s", step_names[rep.step], what[0] ? ": " : "", what,
                          strerror(-r));
        } else
                r = -EIO;
kill:
        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        (void) waitid((idtype_t) P_PIDFD, (id_t) pidfd, NULL, WEXITED);
        (void) close(pidfd);
        return r;
}
