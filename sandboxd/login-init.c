/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The first process of a login container and the helper that starts it. The
 * daemon forks the helper and goes on serving; the helper builds the mount
 * plan and clones the init, as the daemon's child (CLONE_PARENT), into the
 * policy's namespaces. The init enters the cgroup and its namespace, builds
 * the filesystem view, drops every capability and execs sandboxd-reaper.
 * Between clone and exec only async-signal-safe code runs: we are a copy of
 * the daemon. */
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "fd-util.h"
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

/* What the helper tells the daemon, on a SOCK_SEQPACKET socket. */
enum helper_kind {
        HELPER_CLONED = 1, /* with the init's pidfd */
        HELPER_DONE,       /* err 0: the init exec'd the reaper */
};

struct helper_msg {
        int kind;
        int err;
        pid_t pid;
        char text[480];
};

static void helper_send(int sock, int kind, int err, pid_t pid, const int *fd, const char *fmt, ...)
    sbx_printf(6, 7);
static void helper_send(int sock, int kind, int err, pid_t pid, const int *fd, const char *fmt, ...)
{
        struct helper_msg m = {.kind = kind, .err = err < 0 ? -err : err, .pid = pid};
        va_list ap;

        if (fmt) {
                va_start(ap, fmt);
                (void) vsnprintf(m.text, sizeof(m.text), fmt, ap);
                va_end(ap);
        }
        (void) sbx_send_fds(sock, &m, sizeof(m), fd, fd ? 1 : 0);
}

struct helper_args {
        struct sbx_policy *p;
        const struct sbx_user *u;
        bool cgroup;
        int ns_flags, reaper_fd, sock;
};

/* Closes every fd but stdio and the KEEP ones (sorted, above 2). */
static void close_all_but(const int *keep, size_t n)
{
        unsigned from = 3;

        for (size_t i = 0; i < n; i++) {
                if (keep[i] > (int) from)
                        (void) close_range(from, (unsigned) keep[i] - 1, 0);
                from = (unsigned) keep[i] + 1;
        }
        (void) close_range(from, ~0U, 0);
}

/* The set-up helper: a fork of the daemon (single-threaded, so it may
 * allocate), in the daemon's namespaces. Everything that may wait on the
 * user's files happens here, not in the daemon: checking the policy's paths
 * (a FUSE file system the user mounted in their home can make any lookup
 * below it wait for as long as the user likes) and the init's mounts. The
 * daemon kills us (and the init) when the set-up takes too long. The init is
 * cloned with CLONE_PARENT: the daemon is its parent, as if it had cloned it. */
static sbx_noreturn void helper_main(const struct helper_args *h)
{
        cleanup_(sbx_mount_plan_freep) struct sbx_mount_plan *plan = NULL;
        cleanup_close int go_r = -1, go_w = -1, rep_r = -1, rep_w = -1, null_fd = -1;
        struct child_args a = {.hostname = h->p->hostname, .reaper_fd = h->reaper_fd};
        /* No exit_signal with CLONE_PARENT: the init inherits ours, SIGCHLD. */
        struct clone_args ca = {};
        struct pollfd pfd = {.events = POLLIN};
        struct child_report rep;
        cleanup_free char *err = NULL;
        int pidfd = -1, fds[2], r;
        ssize_t n;
        pid_t pid;
        char go;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* None of the daemon's connections, sockets or pidfds stays open
         * while we may wait on the user's files. */
        {
                int keep[2] = {h->sock < h->reaper_fd ? h->sock : h->reaper_fd,
                               h->sock < h->reaper_fd ? h->reaper_fd : h->sock};

                close_all_but(keep, 2);
        }
        if (h->ns_flags & CLONE_NEWNS) {
                r = sbx_mount_plan_build(h->p, h->u, &plan, &err);
                if (r < 0) {
                        helper_send(h->sock, HELPER_DONE, r, 0, NULL, "%s",
                                    err ? err : strerror(-r));
                        _exit(0);
                }
        }
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0 || pipe2(fds, O_CLOEXEC) < 0)
                goto fail_errno;
        go_r = fds[0];
        go_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                goto fail_errno;
        rep_r = fds[0];
        rep_w = fds[1];

        a.plan = plan;
        a.flags = h->ns_flags & ~CLONE_NEWCGROUP;
        a.go_fd = go_r;
        a.report_fd = rep_w;
        a.null_fd = null_fd;
        a.cgroup_ns = h->cgroup;
        ca.flags = (uint64_t) a.flags | CLONE_PIDFD | CLONE_PARENT;
        ca.pidfd = (uint64_t) (uintptr_t) &pidfd;
        pid = (pid_t) syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid < 0)
                goto fail_errno;
        if (pid == 0)
                child_main(&a);
        /* Their ends are the child's: EOF on REP_R means it exec'd (or died). */
        sbx_closep(&rep_w);
        sbx_closep(&go_r);
        /* First of all: from now on the daemon can kill it. The daemon moves
         * it into the cgroup and says go. */
        helper_send(h->sock, HELPER_CLONED, 0, pid, &pidfd, NULL);
        if (read(h->sock, &go, 1) != 1)
                _exit(0);
        if (write(go_w, "g", 1) != 1)
                goto fail_errno;
        pfd.fd = rep_r;
        while ((r = poll(&pfd, 1, -1)) < 0 && errno == EINTR)
                ;
        n = r < 0 ? -1 : read(rep_r, &rep, sizeof(rep));
        if (n == 0) {
                struct pollfd dead = {.fd = pidfd, .events = POLLIN};

                /* Closed on exec, or the init died (killed) before. */
                if (poll(&dead, 1, 0) == 0)
                        helper_send(h->sock, HELPER_DONE, 0, pid, NULL, NULL);
                else
                        helper_send(h->sock, HELPER_DONE, ESRCH, pid, NULL,
                                    "the init died during its set-up");
                _exit(0);
        }
        if (n == sizeof(rep) && rep.step > 0 && rep.step < (int) ELEMENTSOF(step_names)) {
                char what[384] = "";

                if (rep.step == 2)
                        (void) sbx_mount_plan_describe(plan, rep.index, what, sizeof(what));
                r = rep.err > 0 ? -rep.err : -EIO;
                helper_send(h->sock, HELPER_DONE, r, pid, NULL, "%s%s%s: %s", step_names[rep.step],
                            what[0] ? ": " : "", what, strerror(-r));
                _exit(0);
        }
        helper_send(h->sock, HELPER_DONE, EIO, pid, NULL, "bad report from the init");
        _exit(0);
fail_errno:
        r = sbx_negerrno();
        helper_send(h->sock, HELPER_DONE, r, 0, NULL, "%s", strerror(-r));
        _exit(0);
}

int sbx_login_init_start(int reaper_fd, const char *run_dir, const char *name, struct sbx_policy *p,
                         const struct sbx_user *u, struct sbx_login_init *ret, char **ret_error)
{
        cleanup_(sbx_cgroup_cleanupp) struct sbx_cgroup *cg = NULL;
        cleanup_close int sock_r = -1, sock_w = -1;
        struct helper_args h = {.p = p, .u = u, .reaper_fd = reaper_fd};
        struct clone_args ca = {.exit_signal = SIGCHLD};
        int helper_pidfd = -1, ns_flags, fds[2], r;
        char cgname[96] = "";
        uint32_t gen = 0;
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
                r = sbx_policy_hide_run_dir(p, run_dir);
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
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
                return sbx_negerrno();
        sock_r = fds[0];
        sock_w = fds[1];
        r = sbx_fd_set_nonblock(sock_r, 1);
        if (r < 0)
                return r;

        h.cgroup = cg != NULL;
        h.ns_flags = ns_flags;
        h.sock = sock_w;
        ca.flags = CLONE_PIDFD;
        ca.pidfd = (uint64_t) (uintptr_t) &helper_pidfd;
        pid = (pid_t) syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid < 0)
                return log_error_errno(sbx_negerrno(), "clone3: %m");
        if (pid == 0) {
                sbx_closep(&sock_r);
                helper_main(&h);
        }
        *ret = (struct sbx_login_init){
            .pid = 0,
            .pidfd = -1,
            .ns_flags = ns_flags,
            .cg = TAKE_PTR(cg),
            .helper_pidfd = helper_pidfd,
            .sock = TAKE_FD(sock_r),
        };
        (void) snprintf(ret->cgroup_name, sizeof(ret->cgroup_name), "%s", cgname);
        return 0;
}

int sbx_login_init_progress(struct sbx_login_init *init, struct sbx_cgroup *cg, char **ret_error)
{
        for (;;) {
                struct helper_msg m;
                size_t n_fds = 0;
                int fd = -1;
                ssize_t n = sbx_recv_fds(init->sock, &m, sizeof(m), &fd, 1, &n_fds);

                if (n == -EAGAIN)
                        return 1;
                if (n == 0 || n == -ECONNRESET) {
                        set_error(ret_error, "the set-up helper died");
                        return -EIO;
                }
                if (n < 0) {
                        set_error(ret_error, "cannot read from the set-up helper: %s",
                                  strerror((int) -n));
                        return (int) n;
                }
                if (n != sizeof(m)) {
                        sbx_close_many(&fd, n_fds);
                        set_error(ret_error, "bad message from the set-up helper");
                        return -EBADMSG;
                }
                m.text[sizeof(m.text) - 1] = '\0';
                if (m.kind == HELPER_CLONED && n_fds == 1 && init->pid == 0 && m.pid > 0) {
                        int r = 0;

                        init->pidfd = fd;
                        init->pid = m.pid;
                        /* It waits for this before anything else. */
                        if (cg)
                                r = sbx_cgroup_attach(cg, m.pid);
                        if (r < 0) {
                                set_error(ret_error, "cannot move the init into its cgroup: %s",
                                          strerror(-r));
                                return r;
                        }
                        if (send(init->sock, "g", 1, MSG_NOSIGNAL) != 1) {
                                set_error(ret_error, "the set-up helper died");
                                return -EIO;
                        }
                        continue;
                }
                sbx_close_many(&fd, n_fds);
                if (m.kind != HELPER_DONE) {
                        set_error(ret_error, "bad message from the set-up helper");
                        return -EBADMSG;
                }
                if (m.err == 0 && init->pid > 0) {
                        sbx_login_init_end(init);
                        return 0;
                }
                set_error(ret_error, "%s", m.text[0] ? m.text : strerror(m.err ? m.err : EIO));
                return m.err > 0 ? -m.err : -EIO;
        }
}

void sbx_login_init_end(struct sbx_login_init *init)
{
        if (init->helper_pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, init->helper_pidfd, SIGKILL, NULL, 0);
        init->helper_pidfd = sbx_safe_close(init->helper_pidfd);
        init->sock = sbx_safe_close(init->sock);
}
