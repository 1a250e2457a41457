/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controller.h"
#include "env.h"
#include "fd-util.h"
#include "log.h"
#include "mount.h"
#include "parse-util.h"
#include "ns.h"
#include "policy.h"
#include "protocol.h"
#include "sandbox.h"
#include "seccomp.h"
#include "cgroup.h"
#include "network.h"

/* How long a stopped container's command gets between SIGTERM and SIGKILL. */
#define STOP_TIMEOUT_SEC 5

struct controller {
        struct sbx_sandbox sb;
        int ctl_fd;    /* to the daemon; -1 once it went away */
        int client_fd; /* to sbx-run; -1 once it went away */
        int sync_fd;   /* our end of the sync socket */
        int signal_fd;
        int timer_fd;
        int pty_fd;
        int state_fd; /* listening on RUN_DIR/containers/NAME.sock for a restarted daemon */
        char state_path[108];
        uint64_t start_time;
        pid_t init_pid;
        bool ready, have_status, reported;
        bool in_cgroup; /* cloned straight into its cgroup (v2 CLONE_INTO_CGROUP) */
        int cmd_status;
        int setup_step, setup_err, setup_value; /* first error from the child */
        struct sbx_cgroup *cg;                  /* NULL when the policy sets no [Resources] limit */
        const char *run_dir;                    /* the daemon's, hidden from the sandbox */
        const char *network_dir;                /* virtual networks' files */
        struct sbx_network *net;                /* NULL unless Mode=bridge or Mode=network */
};

static void sandbox_done(struct sbx_sandbox *s)
{
        free(s->name);
        sbx_policy_free(s->policy);
        sbx_user_done(&s->user);
        sbx_mount_plan_free(s->mounts);
        s->seccomp = sbx_seccomp_free(s->seccomp);
        sbx_strv_free(s->argv);
        sbx_strv_free(s->envp);
        free(s->cwd);
        free(s->workdir);
        for (int i = 0; i < 3; i++)
                s->stdio[i] = sbx_safe_close(s->stdio[i]);
        for (size_t i = 0; i < s->n_cgroup_join_fds; i++)
                s->cgroup_join_fds[i] = sbx_safe_close(s->cgroup_join_fds[i]);
}

static char **strv_copy(const char *const *v, size_t n)
{
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(v[i]);
                if (!c[i]) {
                        sbx_strv_free(c);
                        return NULL;
                }
        }
        return c;
}

static void reply_error(struct controller *c, int error, enum sbx_err code, const char *msg)
{
        char e[1024];

        log_warning("refused to start: %s", sbx_log_escape(msg, e, sizeof(e)));
        if (c->client_fd >= 0)
                (void) sbx_msg_send_error(c->client_fd, error, code, "%s", msg);
        c->reported = true;
}

/* Turns the CTL_START message into a decided sandbox. Errors go to the client. */
static int prepare(struct controller *c, const struct sbx_msg *m, int *fds, size_t n_fds)
{
        struct sbx_sandbox *s = &c->sb;
        cleanup_free char *err = NULL;
        cleanup_free char *filename = NULL;
        size_t want_fds = 1;
        int r;

        for (int i = 0; i < 3; i++)
                if (!(m->flags & (1u << i)))
                        want_fds++;
        if ((m->flags & ~SBX_RUN_FLAGS_ALL) || n_fds != want_fds || m->argc == 0 ||
            !sbx_policy_name_valid(m->policy)) {
                if (n_fds > 0)
                        c->client_fd = fds[0];
                reply_error(c, -EBADMSG, SBX_ERR_BAD_REQUEST, "malformed start request");
                return -EBADMSG;
        }
        c->client_fd = fds[0];
        for (size_t i = 0, k = 1; i < 3; i++)
                s->stdio[i] = (m->flags & (1u << i)) ? -1 : fds[k++];
        s->tty = m->flags;
        s->has_winsize = sbx_msg_has(m, SBX_A_WINSIZE);
        s->winsize = m->winsize;

        if (asprintf(&filename, "%s.ini", m->policy) < 0)
                return -ENOMEM;
        r = sbx_policy_parse_string(m->policy_text, m->policy_text_len, m->policy, filename,
                                    &s->policy, &err);
        if (r < 0) {
                reply_error(c, r, SBX_ERR_BAD_POLICY, err ? err : "invalid policy");
                return r;
        }
        s->clone_flags = sbx_ns_clone_flags(s->policy);

        if (m->n_passwd == 3)
                r = sbx_user_new(m->uid, m->gid, m->groups, m->n_groups, m->passwd[0], m->passwd[1],
                                 m->passwd[2], &s->user);
        else
                r = sbx_user_from_creds(m->uid, m->gid, m->groups, m->n_groups, &s->user);
        if (r < 0) {
                reply_error(c, r, SBX_ERR_DENIED, "caller has no passwd entry");
                return r;
        }

        s->name = strdup(m->name);
        s->argv = strv_copy(m->argv, m->argc);
        s->cwd = m->cwd ? strdup(m->cwd) : NULL;
        if (!s->name || !s->argv || (m->cwd && !s->cwd))
                return -ENOMEM;

        if (s->policy->workdir_mode == SBX_WORKDIR_HOME)
                s->workdir = strdup(s->user.home);
        else if (s->policy->workdir_mode == SBX_WORKDIR_PATH)
                r = sbx_specifier_expand(s->policy->workdir, s->user.name, s->user.uid,
                                         s->user.home, &s->workdir);
        if (r < 0 || (s->policy->workdir_mode != SBX_WORKDIR_INHERIT && !s->workdir))
                return r < 0 ? r : -ENOMEM;

        r = sbx_env_build(s->policy, &s->user, m->env, m->envc, m->flags != 0, &s->envp);
        if (r < 0)
                return r;

        if (s->clone_flags & CLONE_NEWNS) {
                r = sbx_policy_hide_run_dir(s->policy, c->run_dir);
                if (r < 0)
                        return r;
                r = sbx_mount_plan_build(s->policy, &s->user, &s->mounts, &err);
                if (r < 0) {
                        reply_error(c, r, SBX_ERR_SETUP, err ? err : "cannot plan the mounts");
                        return r;
                }
        }

        /* Only with limits, so a policy without any costs no cgroup work at
         * all. The cgroup exists before the clone: on v2 the init is cloned
         * straight into it; on v1 it moves itself in through the "tasks" fds
         * opened here (see sbx_cgroup_open_join_fds()). Either way no
         * process is moved by another, which would wait for an RCU grace
         * period (milliseconds) on cgroup_threadgroup_rwsem. */
        s->cgroup_ns = s->policy->limits.set;
        if (s->cgroup_ns) {
                cleanup_free char *cerr = NULL;

                r = sbx_cgroup_prepare(s->name, s->policy->name, &s->policy->limits, &c->cg, &cerr);
                if (r < 0) {
                        reply_error(c, r, SBX_ERR_SETUP, cerr ? cerr : "cannot create the cgroup");
                        return r;
                }
                r = sbx_cgroup_open_join_fds(c->cg, s->cgroup_join_fds,
                                             ELEMENTSOF(s->cgroup_join_fds), &s->n_cgroup_join_fds);
                if (r < 0) {
                        reply_error(c, r, SBX_ERR_SETUP, "cannot open the cgroup's tasks files");
                        return r;
                }
        }
        if (s->cgroup_ns && sbx_mount_plan_fresh_sysfs(s->mounts)) {
                r = sbx_cgroup_view_prepare(&s->policy->limits, &s->cgroup_view);
                if (r < 0) {
                        reply_error(c, r, SBX_ERR_SETUP, "cannot find the cgroup hierarchies");
                        return r;
                }
        }
        return 0;
}

/* A bridge's existence, a virtual network on first use, a lease: before
 * clone, so a refusal (pool exhausted, no such bridge) costs no sandbox; and
 * after the state socket exists, so a daemon restarting meanwhile counts us
 * as alive and its sweep leaves our lease alone. */
static int prepare_network(struct controller *c)
{
        const struct sbx_policy *p = c->sb.policy;
        cleanup_free char *err = NULL;
        int r;

        if (p->network_mode != SBX_NETWORK_BRIDGE && p->network_mode != SBX_NETWORK_NETWORK)
                return 0;
        r = c->run_dir ? sbx_network_prepare(p, c->sb.name, c->run_dir,
                                             c->network_dir ? c->network_dir : "/nonexistent",
                                             &c->net, &err)
                       : -EINVAL;
        if (r < 0)
                reply_error(c, r, SBX_ERR_SETUP, err ? err : "cannot set up the network");
        return r;
}

static void kill_init(struct controller *c, int sig);

/* The system call filter is built here, after the clone: libseccomp's work
 * then overlaps the init's mount set-up instead of delaying the clone. The
 * init waits for it before it starts the command. */
static int send_filter(struct controller *c)
{
        cleanup_free char *err = NULL;
        const struct sock_fprog *prog;
        struct sbx_sync hdr = {.kind = SBX_SYNC_FILTER};
        struct iovec iov[2];
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        int r = c->sb.seccomp ? 0 : sbx_seccomp_prepare(c->sb.policy, &c->sb.seccomp, &err);

        if (r < 0) {
                reply_error(c, r, SBX_ERR_SETUP, err ? err : "cannot build the system call filter");
                kill_init(c, SIGKILL);
                return r;
        }
        prog = sbx_seccomp_prog(c->sb.seccomp);
        hdr.value = prog->len;
        iov[0] = (struct iovec){.iov_base = &hdr, .iov_len = sizeof(hdr)};
        iov[1] = (struct iovec){.iov_base = prog->filter,
                                .iov_len = prog->len * sizeof(struct sock_filter)};
        if (sendmsg(c->sync_fd, &mh, MSG_NOSIGNAL) < 0) {
                r = log_error_errno(sbx_negerrno(), "Failed to send the filter: %m");
                kill_init(c, SIGKILL);
                return r;
        }
        return 0;
}

/* struct clone_args of <linux/sched.h> up to CLONE_ARGS_SIZE_VER2 (Linux 5.7);
 * that header clashes with glibc's <sched.h>. */
struct sbx_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        uint64_t set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* fork-like clone (the child continues here on a copy of our stack), into
 * the sandbox's cgroup directly where the kernel can (v2, Linux 5.7): no
 * migration, so no wait on cgroup_threadgroup_rwsem. Anything else, or a
 * kernel that refuses, falls back to clone (and start() moves the init). */
static pid_t clone_init(struct controller *c)
{
        int cg_fd = sbx_cgroup_clone_fd(c->cg);

        if (cg_fd >= 0) {
                struct sbx_clone_args a = {
                    .flags = (uint64_t) c->sb.clone_flags | CLONE_INTO_CGROUP,
                    .exit_signal = SIGCHLD,
                    .cgroup = (uint64_t) cg_fd,
                };
                pid_t pid = (pid_t) syscall(SYS_clone3, &a, sizeof(a));

                if (pid >= 0) {
                        c->in_cgroup = true; /* the child never reads it */
                        return pid;
                }
                log_debug_errno(sbx_negerrno(),
                                "clone3 into the cgroup failed, moving instead: %m");
        }
        return (pid_t) syscall(SYS_clone, (unsigned long) c->sb.clone_flags | SIGCHLD, NULL, NULL,
                               NULL, NULL);
}

static int start(struct controller *c)
{
        int pair[2];
        struct sbx_sync go = {.kind = SBX_SYNC_GO};
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return log_error_errno(sbx_negerrno(), "Failed to create sync socket: %m");
        c->sync_fd = pair[0];
        c->sb.sync_fd = pair[1];

        pid = clone_init(c);
        if (pid < 0) {
                int r = sbx_negerrno();

                c->sb.sync_fd = sbx_safe_close(c->sb.sync_fd);
                return log_error_errno(r, "Failed to clone the sandbox: %m");
        }
        if (pid == 0)
                sbx_child_main(&c->sb);

        c->init_pid = pid;
        c->sb.sync_fd = sbx_safe_close(c->sb.sync_fd);
        /* The command's stdio now lives in the child only. */
        for (int i = 0; i < 3; i++)
                c->sb.stdio[i] = sbx_safe_close(c->sb.stdio[i]);
        log_debug("init is pid %d%s", (int) pid, c->in_cgroup ? ", cloned into its cgroup" : "");
        for (size_t i = 0; i < c->sb.n_cgroup_join_fds; i++)
                c->sb.cgroup_join_fds[i] = sbx_safe_close(c->sb.cgroup_join_fds[i]);
        /* Neither cloned into the cgroup nor joining it itself (a v2 kernel
         * that refused clone3): move it, before it runs anything. */
        if (c->cg && !c->in_cgroup && c->sb.n_cgroup_join_fds == 0) {
                int r = sbx_cgroup_attach(c->cg, pid);

                if (r < 0) {
                        (void) kill(pid, SIGKILL);
                        return log_error_errno(r, "Failed to move the sandbox into its cgroup: %m");
                }
        }
        if (send(c->sync_fd, &go, sizeof(go), MSG_NOSIGNAL) < 0)
                return log_error_errno(sbx_negerrno(), "Failed to release the sandbox: %m");
        /* After GO: the veth and eth0's address and route are made while the
         * init sets up its mounts; the init waits for the filter, sent next,
         * before it starts the command, so the command finds eth0 ready. */
        if (c->net) {
                cleanup_free char *nerr = NULL;
                int r = sbx_network_attach(c->net, pid, &nerr);

                if (r < 0) {
                        reply_error(c, r, SBX_ERR_SETUP, nerr ? nerr : "cannot set up the network");
                        kill_init(c, SIGKILL);
                        return r;
                }
        }
        return send_filter(c);
}

static void send_state(struct controller *c, const char *state)
{
        struct sbx_msg_builder *b;

        if (c->ctl_fd < 0)
                return;
        b = sbx_msg_new(SBX_MSG_CTL_STATE);
        if (!b)
                return;
        (void) sbx_msg_put_string(b, SBX_A_STATE, state);
        if (c->init_pid > 0)
                (void) sbx_msg_put_u32(b, SBX_A_INIT_PID, (uint32_t) c->init_pid);
        /* Everything a restarted daemon needs to list us again. */
        if (c->sb.name && c->sb.policy && c->sb.argv) {
                const char *argv0[] = {c->sb.argv[0]};

                (void) sbx_msg_put_string(b, SBX_A_NAME, c->sb.name);
                (void) sbx_msg_put_string(b, SBX_A_POLICY, c->sb.policy->name);
                (void) sbx_msg_put_u32(b, SBX_A_UID, c->sb.user.uid);
                (void) sbx_msg_put_u64(b, SBX_A_START_TIME, c->start_time);
                (void) sbx_msg_put_strv(b, SBX_A_ARGV, argv0, 1);
        }
        (void) sbx_msg_send(c->ctl_fd, b, NULL, 0);
        sbx_msg_builder_free(b);
}

static void send_started(struct controller *c)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_STARTED);

        if (!b)
                return;
        (void) sbx_msg_put_string(b, SBX_A_NAME, c->sb.name);
        (void) sbx_msg_put_u32(b, SBX_A_INIT_PID, (uint32_t) c->init_pid);
        if (c->client_fd >= 0)
                (void) sbx_msg_send(c->client_fd, b, &c->pty_fd, c->pty_fd >= 0 ? 1 : 0);
        sbx_msg_builder_free(b);
        c->pty_fd = sbx_safe_close(c->pty_fd);
}

static void send_exited(struct controller *c, int status)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_EXITED);

        if (!b)
                return;
        if (WIFSIGNALED(status)) {
                (void) sbx_msg_put_u32(b, SBX_A_EXIT_CODE, 128u + (uint32_t) WTERMSIG(status));
                (void) sbx_msg_put_u32(b, SBX_A_EXIT_SIGNAL, (uint32_t) WTERMSIG(status));
        } else
                (void) sbx_msg_put_u32(b, SBX_A_EXIT_CODE, (uint32_t) WEXITSTATUS(status));
        if (c->client_fd >= 0)
                (void) sbx_msg_send(c->client_fd, b, NULL, 0);
        sbx_msg_builder_free(b);
}

static void kill_init(struct controller *c, int sig)
{
        if (c->init_pid > 0)
                (void) kill(c->init_pid, sig);
}

static void describe_setup_error(struct controller *c, char *buf, size_t len)
{
        if (c->setup_step == SBX_STEP_EXEC) {
                (void) snprintf(buf, len, "'%s': %s", c->sb.argv[0], strerror(c->setup_err));
                return;
        }
        if (c->setup_step == SBX_STEP_MOUNTS && c->sb.mounts) {
                char what[512];

                sbx_mount_plan_describe(c->sb.mounts, c->setup_value, what, sizeof(what));
                (void) snprintf(buf, len, "sandbox setup failed while %s (%s): %s",
                                sbx_step_to_string((enum sbx_step) c->setup_step), what,
                                strerror(c->setup_err));
                return;
        }
        (void) snprintf(buf, len, "sandbox setup failed while %s: %s",
                        sbx_step_to_string((enum sbx_step) c->setup_step), strerror(c->setup_err));
}

static void on_sync(struct controller *c)
{
        struct sbx_sync rec;
        int fds[1];
        size_t n_fds = 0;
        ssize_t n = sbx_recv_fds(c->sync_fd, &rec, sizeof(rec), fds, 1, &n_fds);
        char msg[1024];

        if (n <= 0) {
                c->sync_fd = sbx_safe_close(c->sync_fd);
                return;
        }
        if ((size_t) n != sizeof(rec)) {
                sbx_close_many(fds, n_fds);
                return;
        }
        switch (rec.kind) {
        case SBX_SYNC_ERROR:
                if (c->setup_err)
                        break;
                c->setup_step = rec.step;
                c->setup_err = rec.err;
                c->setup_value = rec.value;
                describe_setup_error(c, msg, sizeof(msg));
                if (rec.step == SBX_STEP_EXEC) {
                        log_info("command failed to start: %s", msg);
                        if (c->client_fd >= 0)
                                (void) sbx_msg_send_error(c->client_fd, rec.err, SBX_ERR_EXEC, "%s",
                                                          msg);
                } else {
                        reply_error(c, -rec.err, SBX_ERR_SETUP, msg);
                        kill_init(c, SIGKILL);
                }
                break;
        case SBX_SYNC_PTY:
                if (n_fds == 1 && c->pty_fd < 0)
                        c->pty_fd = fds[0];
                else
                        sbx_close_many(fds, n_fds);
                break;
        case SBX_SYNC_READY:
                if (c->ready || c->reported)
                        break;
                c->ready = true;
                send_started(c);
                send_state(c, "running");
                log_debug("started: pid %d, command '%s'", (int) c->init_pid, c->sb.argv[0]);
                break;
        case SBX_SYNC_EXIT:
                c->have_status = true;
                c->cmd_status = rec.value;
                break;
        default:
                sbx_close_many(fds, n_fds);
                break;
        }
}

static void on_client(struct controller *c)
{
        struct sbx_msg m;
        int r = sbx_msg_recv(c->client_fd, SBX_CLIENT_MSG_MAX, &m, NULL, 0, NULL);

        if (r <= 0 || m.type != SBX_MSG_SIGNAL) {
                if (r > 0)
                        sbx_msg_done(&m);
                /* The client is gone (or broke the protocol): the sandbox goes too. */
                log_info("client went away, stopping");
                c->client_fd = sbx_safe_close(c->client_fd);
                kill_init(c, SIGKILL);
                return;
        }
        for (size_t i = 0; i < SBX_N_FORWARDED_SIGNALS; i++)
                if ((uint32_t) sbx_forwarded_signals[i] == m.signal) {
                        kill_init(c, (int) m.signal);
                        break;
                }
        sbx_msg_done(&m);
}

static void arm_stop_timer(struct controller *c)
{
        struct itimerspec its = {.it_value = {.tv_sec = STOP_TIMEOUT_SEC}};

        if (c->timer_fd >= 0)
                return;
        c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        if (c->timer_fd < 0 || timerfd_settime(c->timer_fd, 0, &its, NULL) < 0) {
                kill_init(c, SIGKILL);
                return;
        }
        kill_init(c, SIGTERM);
}

/* The veth's counters, if the sandbox has one (from netlink, not /proc). */
static int put_net_stats(struct controller *c, struct sbx_msg_builder *b)
{
        struct sbx_net_counters n;
        int r = c->net ? sbx_network_counters(c->net, &n) : -ENODATA;

        if (r >= 0) {
                struct sbx_wire_net_stats w = {.rx_bytes = n.rx_bytes,
                                               .rx_packets = n.rx_packets,
                                               .tx_bytes = n.tx_bytes,
                                               .tx_packets = n.tx_packets};

                r = sbx_msg_put_binary(b, SBX_A_NET_STATS, &w, sizeof(w));
        }
        return r;
}

/* CTL_STATS: the counters of our cgroup and network, or an error saying there
 * are none. */
static void reply_stats(struct controller *c)
{
        struct sbx_cgroup_stats st = {};
        struct sbx_wire_stats w;
        struct sbx_msg_builder *b;
        int r;

        if (!c->cg && c->net) {
                /* Never an empty reply: the daemon would take it for a broken controller. */
                b = sbx_msg_new(SBX_MSG_STATS_REPLY);
                r = b ? put_net_stats(c, b) : -ENOMEM;
                if (r >= 0)
                        r = sbx_msg_send(c->ctl_fd, b, NULL, 0);
                sbx_msg_builder_free(b);
                if (r < 0)
                        (void) sbx_msg_send_error(c->ctl_fd, r, SBX_ERR_INTERNAL,
                                                  "cannot read the network counters");
                return;
        }
        if (!c->cg) {
                (void) sbx_msg_send_error(c->ctl_fd, ENODATA, SBX_ERR_NOT_FOUND,
                                          "no cgroup: the policy sets no [Resources] limits");
                return;
        }
        r = sbx_cgroup_stats(c->cg, &st);
        if (r < 0) {
                (void) sbx_msg_send_error(c->ctl_fd, r, SBX_ERR_INTERNAL,
                                          "cannot read the cgroup: %s", strerror(-r));
                return;
        }
        w = (struct sbx_wire_stats){.have = st.have,
                                    .cgroup_version = st.version,
                                    .cpu_usage_ns = st.cpu_usage_ns,
                                    .memory_current = st.memory_current,
                                    .memory_peak = st.memory_peak,
                                    .memory_max = st.memory_max,
                                    .oom_kills = st.oom_kills,
                                    .tasks_current = st.tasks_current,
                                    .tasks_max = st.tasks_max,
                                    .io_read_bytes = st.io_read_bytes,
                                    .io_write_bytes = st.io_write_bytes};
        b = sbx_msg_new(SBX_MSG_STATS_REPLY);
        if (b) {
                (void) sbx_msg_put_binary(b, SBX_A_STATS, &w, sizeof(w));
                if (st.n_percpu > 0 && st.n_percpu <= SBX_STATS_CPUS_MAX)
                        (void) sbx_msg_put_binary(b, SBX_A_CPU_PERCPU, st.percpu,
                                                  st.n_percpu * sizeof(uint64_t));
                (void) put_net_stats(c, b);
                r = sbx_msg_send(c->ctl_fd, b, NULL, 0);
                sbx_msg_builder_free(b);
        }
        if (!b || r < 0)
                (void) sbx_msg_send_error(c->ctl_fd, b ? r : -ENOMEM, SBX_ERR_INTERNAL,
                                          "cannot send the statistics");
        free(st.percpu);
}

/* CTL_SET: "Key=Value" [Resources] settings, validated by the policy parser
 * exactly as in a policy file, then written to our cgroup. */
static void reply_set(struct controller *c, const struct sbx_msg *m)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *text = NULL, *err = NULL, *changed = NULL;
        struct sbx_msg_builder *b;
        size_t len = 0;
        FILE *f;
        int r;

        if (!c->cg) {
                (void) sbx_msg_send_error(c->ctl_fd, ENODATA, SBX_ERR_NOT_FOUND,
                                          "no cgroup: the policy sets no [Resources] limits, so "
                                          "there is nothing to change");
                return;
        }
        f = open_memstream(&text, &len);
        if (!f) {
                (void) sbx_msg_send_error(c->ctl_fd, ENOMEM, SBX_ERR_INTERNAL, "out of memory");
                return;
        }
        /* The parser wants a [Sandbox] section; an empty one adds nothing. */
        (void) fputs("[Sandbox]\n[Resources]\n", f);
        for (size_t i = 0; i < m->n_settings; i++) {
                const char *s = m->settings[i];
                size_t k = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

                /* One "Key=Value" line each: no section headers, comments or
                 * extra lines can be smuggled into the text. */
                if (k == 0 || s[k] != '=' || strpbrk(s, "\n\r")) {
                        (void) fclose(f);
                        (void) sbx_msg_send_error(c->ctl_fd, EINVAL, SBX_ERR_BAD_REQUEST,
                                                  "expected KEY=VALUE, got '%s'", s);
                        return;
                }
                (void) fprintf(f, "%s\n", s);
        }
        if (fclose(f) != 0) {
                (void) sbx_msg_send_error(c->ctl_fd, ENOMEM, SBX_ERR_INTERNAL, "out of memory");
                return;
        }
        r = sbx_policy_parse_string(text, len, c->sb.policy->name, "set", &p, &err);
        if (r >= 0 && !p->limits.set)
                r = -EINVAL;
        if (r < 0) {
                (void) sbx_msg_send_error(c->ctl_fd, r, SBX_ERR_BAD_POLICY, "%s",
                                          err ? err : "no [Resources] limit given");
                return;
        }
        r = sbx_cgroup_update(c->cg, &p->limits, &changed, &err);
        if (r < 0) {
                (void) sbx_msg_send_error(c->ctl_fd, r, SBX_ERR_SETUP, "%s",
                                          err ? err : strerror(-r));
                return;
        }
        log_info("limits changed: %s", changed);
        b = sbx_msg_new(SBX_MSG_SET_REPLY);
        if (!b)
                return;
        {
                const char *v[] = {changed};

                (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, v, 1);
        }
        (void) sbx_msg_send(c->ctl_fd, b, NULL, 0);
        sbx_msg_builder_free(b);
}

static void on_ctl(struct controller *c)
{
        struct sbx_msg m;
        int r = sbx_msg_recv(c->ctl_fd, SBX_MSG_MAX, &m, NULL, 0, NULL);

        if (r <= 0) {
                /* The daemon went away: keep running, a restarted one finds us. */
                c->ctl_fd = sbx_safe_close(c->ctl_fd);
                return;
        }
        if (m.type == SBX_MSG_CTL_STOP) {
                log_info("stop requested");
                arm_stop_timer(c);
        } else if (m.type == SBX_MSG_CTL_STATS)
                reply_stats(c);
        else if (m.type == SBX_MSG_CTL_SET)
                reply_set(c, &m);
        sbx_msg_done(&m);
}

/* Returns true once the init has been reaped. */
static bool on_signal(struct controller *c, int *ret_status)
{
        struct signalfd_siginfo si;
        int status;

        if (read(c->signal_fd, &si, sizeof(si)) != sizeof(si))
                return false;
        if (si.ssi_signo != SIGCHLD) {
                log_info("got signal %u, stopping the sandbox", si.ssi_signo);
                kill_init(c, SIGKILL);
                return false;
        }
        if (waitpid(c->init_pid, &status, WNOHANG) != c->init_pid)
                return false;
        *ret_status = status;
        return true;
}

static void drain_sync(struct controller *c)
{
        while (c->sync_fd >= 0) {
                struct pollfd p = {.fd = c->sync_fd, .events = POLLIN};

                if (poll(&p, 1, 0) <= 0)
                        break;
                on_sync(c);
        }
}

static void finish(struct controller *c, int init_status)
{
        char msg[256];

        /* Records the init sent right before exiting may still be queued. */
        drain_sync(c);
        /* Which limit ended the command, if one did; sbx-run prints it. */
        if (c->cg && c->ready && c->client_fd >= 0) {
                cleanup_free char *why = NULL;

                if (sbx_cgroup_limit_report(c->cg, &why) > 0) {
                        log_info("%s", why);
                        (void) sbx_msg_send_error(c->client_fd, 0, SBX_ERR_LIMIT, "%s", why);
                }
        }
        if (c->have_status) {
                send_exited(c, c->cmd_status);
                return;
        }
        if (c->reported)
                return;
        if (c->ready) {
                /* Killed from outside (stop, or the client went away). */
                send_exited(c, init_status);
                return;
        }
        (void) snprintf(msg, sizeof(msg), "sandbox init died during setup (status %d)",
                        init_status);
        reply_error(c, -EIO, SBX_ERR_SETUP, msg);
}

/* The daemon went away and a new one (root, checked) connects: it becomes our
 * daemon, and learns who we are from the state message. */
static void on_daemon_reconnect(struct controller *c)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int fd = accept4(c->state_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
                (void) close(fd);
                return;
        }
        log_info("daemon (pid %d) reconnected", (int) cred.pid);
        (void) sbx_safe_close(c->ctl_fd);
        c->ctl_fd = fd;
        send_state(c, c->ready ? "running" : "starting");
}

/* RUN_DIR/containers/NAME.sock, root only: how a restarted daemon finds us. */
static void listen_for_daemon(struct controller *c, const char *run_dir)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char dir[sizeof(sa.sun_path)];
        int fd;

        if (!run_dir || snprintf(dir, sizeof(dir), "%s/containers", run_dir) >= (int) sizeof(dir) ||
            snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir, c->sb.name) >=
                (int) sizeof(sa.sun_path)) {
                log_warning("run directory path too long: a restarted daemon will not find us");
                return;
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                log_warning_errno(sbx_negerrno(), "Cannot create %s, ignoring: %m", dir);
                return;
        }
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return;
        (void) unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 ||
            listen(fd, 4) < 0) {
                log_warning_errno(sbx_negerrno(), "Cannot listen on %s, ignoring: %m", sa.sun_path);
                (void) close(fd);
                (void) unlink(sa.sun_path);
                return;
        }
        c->state_fd = fd;
        memcpy(c->state_path, sa.sun_path, sizeof(c->state_path));
}

static int run_loop(struct controller *c)
{
        int init_status = 0;

        for (;;) {
                struct pollfd p[6];
                int n = 0;

                p[n++] = (struct pollfd){.fd = c->signal_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = c->sync_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = c->client_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = c->ctl_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = c->timer_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = c->state_fd, .events = POLLIN};
                if (poll(p, (nfds_t) n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(sbx_negerrno(), "poll failed: %m");
                }
                if (p[1].revents)
                        on_sync(c);
                if (p[0].revents && on_signal(c, &init_status))
                        break;
                if (p[2].revents)
                        on_client(c);
                if (p[3].revents)
                        on_ctl(c);
                if (p[5].revents)
                        on_daemon_reconnect(c);
                if (p[4].revents) {
                        log_info("stop timeout, killing");
                        kill_init(c, SIGKILL);
                        c->timer_fd = sbx_safe_close(c->timer_fd);
                }
        }
        log_debug("init exited");
        finish(c, init_status);
        return 0;
}

/* A controller is started ahead of its request: walk the set-up code once
 * now, while nobody waits, so its pages and heap are faulted in (a page fault
 * costs tens of microseconds in a VM) before the launch that counts. */
static void warm_up(void)
{
        static const char text[] = "[Sandbox]\n"
                                   "[Files]\n"
                                   "PrivateTmp = yes\n"
                                   "ReadOnlyPaths = /\n"
                                   "ReadWritePaths = -%h\n"
                                   "[Security]\n"
                                   "SystemCallFilter = ~@default\n";
        struct sbx_policy *p = NULL;
        struct sbx_mount_plan *plan = NULL;
        struct sbx_user u = {};
        char *err = NULL;
        char **envp = NULL;

        if (sbx_policy_parse_string(text, sizeof(text) - 1, "warm-up", "warm-up.ini", &p, &err) >=
                0 &&
            sbx_user_new(0, 0, NULL, 0, "root", "/root", "/bin/sh", &u) >= 0) {
                (void) sbx_env_build(p, &u, NULL, 0, 0, &envp);
                (void) sbx_mount_plan_build(p, &u, &plan, &err);
        }
        sbx_strv_free(envp);
        sbx_mount_plan_free(plan);
        sbx_user_done(&u);
        sbx_policy_free(p);
        free(err);
}

int sbx_controller_run(int ctl_fd, const char *run_dir, const char *network_dir)
{
        struct controller c = {.ctl_fd = ctl_fd,
                               .client_fd = -1,
                               .sync_fd = -1,
                               .signal_fd = -1,
                               .timer_fd = -1,
                               .state_fd = -1,
                               .pty_fd = -1,
                               .run_dir = run_dir,
                               .network_dir = network_dir,
                               .sb = {.stdio = {-1, -1, -1}, .sync_fd = -1}};
        int fds[SBX_MAX_FDS];
        size_t n_fds = 0;
        struct sbx_msg m;
        sigset_t mask;
        int r;

        warm_up();
        /* Started ahead of time: wait here until the daemon has a request. */
        r = sbx_msg_recv(ctl_fd, SBX_MSG_MAX, &m, fds, 4, &n_fds);
        if (r == 0) {
                log_debug("daemon closed the connection before a request, exiting");
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Bad start request from the daemon: %m");
        if (m.type != SBX_MSG_CTL_START) {
                sbx_msg_done(&m);
                sbx_close_many(fds, n_fds);
                return log_error_errno(-EBADMSG, "Unexpected first message from the daemon");
        }
        sbx_log_set_prefix(NULL);
        {
                char prefix[96];

                (void) snprintf(prefix, sizeof(prefix), "sandbox %s: ", m.name);
                sbx_log_set_prefix(prefix);
        }
        log_debug("start request received");
        r = prepare(&c, &m, fds, n_fds);
        /* The daemon's cached filter for this exact policy, if it sent one. */
        if (r >= 0 && m.bpf && sbx_seccomp_from_bpf(m.bpf, m.bpf_len, &c.sb.seccomp) < 0)
                c.sb.seccomp = NULL;
        sbx_msg_done(&m);
        if (r < 0) {
                if (!c.reported)
                        reply_error(&c, r, SBX_ERR_SETUP, "cannot prepare the sandbox");
                goto out;
        }
        c.start_time = (uint64_t) time(NULL);
        listen_for_daemon(&c, run_dir);
        r = prepare_network(&c);
        if (r < 0)
                goto out;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (c.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
                r = log_error_errno(sbx_negerrno(), "Failed to set up signals: %m");
                goto out;
        }

        log_debug("prepared");
        r = start(&c);
        if (r < 0) {
                char msg[256];

                (void) snprintf(msg, sizeof(msg), "cannot create the sandbox: %s", strerror(-r));
                if (!c.reported)
                        reply_error(&c, r, SBX_ERR_SETUP, msg);
                goto out;
        }
        r = run_loop(&c);
out:
        /* Kills what is left (without a PID namespace the command's children
         * outlive the init) and removes the cgroup, before we are gone. */
        c.cg = sbx_cgroup_cleanup(c.cg);
        c.net = sbx_network_cleanup(c.net);
        send_state(&c, "exited");
        if (c.state_fd >= 0) {
                (void) unlink(c.state_path);
                (void) close(c.state_fd);
        }
        sandbox_done(&c.sb);
        (void) sbx_safe_close(c.client_fd);
        (void) sbx_safe_close(c.sync_fd);
        (void) sbx_safe_close(c.signal_fd);
        (void) sbx_safe_close(c.timer_fd);
        (void) sbx_safe_close(c.pty_fd);
        return r < 0 ? 1 : 0;
}
