/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Login containers: see login.h. Everything here runs in the daemon's single
 * thread and never waits: not for a new container's set-up (a helper process
 * does it, which may wait on the user's files; the joins wait for it, the
 * daemon does not), and not for a teardown: sshd asks to close a session
 * before it reaps its child, a zombie inside the container that the dying init
 * waits for, so replying only after the teardown would deadlock. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "fd-util.h"
#include "log.h"
#include "login-cgroup.h"
#include "login-init.h"
#include "login-policy.h"
#include "login-state.h"
#include "login.h"
#include "parse-util.h"
#include "policy.h"
#include "protocol.h"
#include "user.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define LOGIN_PREFIX "login-"
/* Longest a new container's set-up may take before its joins fail. */
#define SETUP_TIMEOUT_USEC (10 * 1000000ull)
/* Joins that may wait for one container's set-up. */
#define MAX_WAITERS 128

struct login;

/* A LOGIN_JOIN waiting for its container's set-up. */
struct waiter {
        struct waiter *next;
        int conn_fd; /* our own dup of the connection */
        pid_t pid;
        int pidfd;
        char *service, *tty, *rhost;
};

struct session {
        struct session *next;
        struct login *ct;
        pid_t pid;
        uint64_t starttime; /* of the process, for the state file */
        int pidfd;          /* the login process (sshd's monitor, login, su) */
        char *service, *tty, *rhost;
        uint64_t start_time;
        char *orig_cgroup; /* its /proc/PID/cgroup before the join */
};

struct login {
        struct login *next;
        char *name; /* login-USER */
        char *user;
        uid_t uid;
        char *policy;
        uint64_t linger_usec;
        uint32_t max_sessions; /* MaxSessions=; 0: no limit */
        pid_t init_pid;
        uint64_t init_starttime;
        int init_pidfd;
        int ns_flags; /* CLONE_NEW* to setns() into, CLONE_NEWCGROUP with a cgroup */
        struct sbx_cgroup *cg;
        char *cgroup_name; /* as given to sbx_cgroup_prepare(), for a restarted daemon */
        size_t n_sessions;
        uint64_t idle_deadline; /* CLOCK_MONOTONIC usec when to tear down; 0: none */
        bool dying;
        uint64_t start_time;
        /* Until its init runs the reaper: the set-up helper, the deadline
         * (CLOCK_MONOTONIC usec) and the joins waiting for it. */
        bool starting;
        struct sbx_login_init setup;
        uint64_t setup_deadline;
        struct waiter *waiters;
        size_t n_waiters;
};

struct sbx_logins {
        struct sbx_logins_config cfg;
        struct login *containers;
        struct session *sessions;
        int timer_fd;
        int reaper_fd; /* O_PATH, exec'd through execveat */
        int state_fd;  /* RUN_DIR/logins: one NAME.INITPID.state per container */
};

static uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int watch(struct sbx_logins *l, int fd)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = l->cfg.tag | (uint64_t) fd};

        return epoll_ctl(l->cfg.epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? sbx_negerrno() : 0;
}

static void unwatch(struct sbx_logins *l, int fd)
{
        (void) epoll_ctl(l->cfg.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

static void rediscover(struct sbx_logins *l);
static void setup_progress(struct sbx_logins *l, struct login *ct, bool gone);
static void setup_fail(struct sbx_logins *l, struct login *ct, int r, const char *why);

static int open_state_dir(const char *run_dir)
{
        char path[PATH_MAX];
        int fd;

        (void) snprintf(path, sizeof(path), "%s/logins", run_dir);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return sbx_negerrno();
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? sbx_negerrno() : fd;
}

int sbx_logins_new(const struct sbx_logins_config *cfg, struct sbx_logins **ret)
{
        struct sbx_logins *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        l->cfg = *cfg;
        /* Without it the daemon still serves sbx-run; logins are refused. */
        l->reaper_fd = open(cfg->reaper, O_PATH | O_CLOEXEC);
        if (l->reaper_fd < 0)
                log_warning_errno(sbx_negerrno(),
                                  "Cannot open '%s', login containers are "
                                  "unavailable: %m",
                                  cfg->reaper);
        l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (l->timer_fd < 0) {
                r = log_error_errno(sbx_negerrno(), "timerfd_create: %m");
                goto fail;
        }
        r = watch(l, l->timer_fd);
        if (r < 0)
                goto fail;
        l->state_fd = open_state_dir(cfg->run_dir);
        if (l->state_fd < 0) {
                r = log_error_errno(l->state_fd, "Cannot open %s/logins: %m", cfg->run_dir);
                goto fail;
        }
        rediscover(l);
        *ret = l;
        return 0;
fail:
        (void) sbx_safe_close(l->reaper_fd);
        (void) sbx_safe_close(l->timer_fd);
        free(l);
        return r;
}

/* ---- creation and teardown --------------------------------------------- */

static void state_file_name(const struct login *ct, char *buf, size_t n)
{
        (void) snprintf(buf, n, "%s.%d", ct->name, (int) ct->init_pid);
}

/* For a restarted daemon (login-state.h). A failure costs only that. */
static void save_state(struct sbx_logins *l, const struct login *ct)
{
        struct sbx_login_state st = {
            .name = ct->name,
            .user = ct->user,
            .policy = ct->policy,
            .cgroup = ct->cgroup_name,
            .uid = ct->uid,
            .linger_usec = ct->linger_usec,
            .max_sessions = ct->max_sessions,
            .init_pid = ct->init_pid,
            .init_starttime = ct->init_starttime,
            .ns_flags = ct->ns_flags,
            .start_time = ct->start_time,
        };
        struct sbx_login_state_session ss[64];
        cleanup_free char *text = NULL;
        char file[96];
        int r;

        for (const struct session *s = l->sessions; s; s = s->next)
                if (s->ct == ct && st.n_sessions < ELEMENTSOF(ss))
                        ss[st.n_sessions++] = (struct sbx_login_state_session){
                            .pid = s->pid,
                            .starttime = s->starttime,
                            .start_time = s->start_time,
                            .service = s->service,
                            .tty = s->tty,
                            .rhost = s->rhost,
                            .orig_cgroup = s->orig_cgroup,
                        };
        st.sessions = ss;
        state_file_name(ct, file, sizeof(file));
        r = sbx_login_state_format(&st, &text);
        if (r >= 0)
                r = sbx_login_state_write(l->state_fd, file, text);
        if (r < 0)
                log_warning_errno(r, "Cannot save the state of '%s', ignoring: %m", ct->name);
}

static void remove_state(struct sbx_logins *l, const struct login *ct)
{
        char file[96], path[128];

        state_file_name(ct, file, sizeof(file));
        (void) snprintf(path, sizeof(path), "%s.state", file);
        (void) unlinkat(l->state_fd, path, 0);
}

static struct login *login_new(void)
{
        struct login *ct = calloc(1, sizeof(*ct));

        if (!ct)
                return NULL;
        ct->init_pidfd = -1;
        ct->setup = (struct sbx_login_init){.pidfd = -1, .helper_pidfd = -1, .sock = -1};
        return ct;
}

static void login_free(struct login *ct)
{
        if (!ct)
                return;
        free(ct->name);
        free(ct->user);
        free(ct->policy);
        free(ct->cgroup_name);
        ct->cg = sbx_cgroup_cleanup(ct->cg);
        (void) sbx_safe_close(ct->init_pidfd);
        (void) sbx_safe_close(ct->setup.pidfd);
        sbx_login_init_end(&ct->setup);
        free(ct);
}

static bool pidfd_alive(int pidfd);

static void login_kill(struct login *ct)
{
        if (ct->dying)
                return;
        ct->dying = true;
        ct->idle_deadline = 0;
        log_notice("login container '%s' (user '%s'): tearing down (%zu session(s))", ct->name,
                   ct->user, ct->n_sessions);
        /* PID 1 dies, and with it the whole PID namespace. Reaped when its
         * pidfd says so, never waited for here. */
        if (ct->init_pidfd >= 0 &&
            syscall(SYS_pidfd_send_signal, ct->init_pidfd, SIGKILL, NULL, 0) < 0)
                log_warning_errno(sbx_negerrno(), "Cannot kill the init of '%s': %m", ct->name);
}

static void arm_timer(struct sbx_logins *l)
{
        struct itimerspec its = {};
        uint64_t next = 0;

        for (struct login *ct = l->containers; ct; ct = ct->next) {
                if (ct->idle_deadline && (!next || ct->idle_deadline < next))
                        next = ct->idle_deadline;
                if (ct->starting && (!next || ct->setup_deadline < next))
                        next = ct->setup_deadline;
        }
        if (next) {
                its.it_value.tv_sec = (time_t) (next / 1000000u);
                its.it_value.tv_nsec = (long) (next % 1000000u) * 1000;
        }
        (void) timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void container_idle(struct sbx_logins *l, struct login *ct)
{
        uint64_t now;

        /* A container being set up is not idle: joins wait for it. */
        if (ct->n_sessions > 0 || ct->dying || ct->starting)
                return;
        if (ct->linger_usec == 0) {
                login_kill(ct);
                return;
        }
        /* Linger=infinity: until sbxctl stop. (The sum would wrap around
         * to the past: torn down at once.) */
        if (ct->linger_usec == SBX_DURATION_INFINITY) {
                ct->idle_deadline = 0;
                return;
        }
        now = now_usec(CLOCK_MONOTONIC);
        ct->idle_deadline = ct->linger_usec > UINT64_MAX - now ? UINT64_MAX : now + ct->linger_usec;
        if (ct->idle_deadline == 0)
                ct->idle_deadline = 1;
        arm_timer(l);
}

static void container_gone(struct sbx_logins *l, struct login *ct)
{
        /* Died (or was stopped) before its set-up finished: the joins
         * waiting for it fail. */
        if (ct->starting)
                setup_progress(l, ct, true);
        unwatch(l, ct->init_pidfd);
        /* The daemon's SIGCHLD handler may have reaped it already. */
        (void) waitid((idtype_t) P_PIDFD, (id_t) ct->init_pidfd, NULL, WEXITED | WNOHANG);
        for (struct login **p = &l->containers; *p; p = &(*p)->next)
                if (*p == ct) {
                        *p = ct->next;
                        break;
                }
        /* Sessions still bound to it (stopped, or its init died under them):
         * their login processes go back to their cgroups before the
         * container's is emptied and removed. They end when they exit. */
        for (struct session *s = l->sessions; s; s = s->next)
                if (s->ct == ct) {
                        if (ct->cg && s->orig_cgroup && pidfd_alive(s->pidfd))
                                (void) sbx_login_cgroup_restore(s->pid, s->orig_cgroup);
                        s->ct = NULL;
                }
        log_notice("login container '%s' (user '%s') is gone", ct->name, ct->user);
        /* One taken back without its cgroup object still has the directory. */
        if (!ct->cg && ct->cgroup_name)
                (void) sbx_cgroup_remove_stale(ct->cgroup_name);
        remove_state(l, ct);
        login_free(ct);
        arm_timer(l);
}

static void session_free(struct session *s)
{
        (void) sbx_safe_close(s->pidfd);
        free(s->service);
        free(s->tty);
        free(s->rhost);
        free(s->orig_cgroup);
        free(s);
}

/* Ends session S: on CLOSE (MOVE_BACK: its process goes back to its own
 * cgroups) or because its process exited. */
static void session_end(struct sbx_logins *l, struct session *s, bool move_back, const char *why)
{
        struct login *ct = s->ct;

        for (struct session **p = &l->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        unwatch(l, s->pidfd);
        if (move_back && ct && ct->cg && s->orig_cgroup) {
                int r = sbx_login_cgroup_restore(s->pid, s->orig_cgroup);

                if (r < 0)
                        log_warning_errno(r, "Cannot move pid %d back to its cgroups, ignoring: %m",
                                          (int) s->pid);
                else
                        log_debug("moved pid %d back to its own cgroup in %d hierarch%s",
                                  (int) s->pid, r, r == 1 ? "y" : "ies");
        }
        if (ct) {
                ct->n_sessions--;
                if (!ct->dying)
                        save_state(l, ct);
                log_notice("login session ended (%s): user='%s' pid=%d container='%s' sessions=%zu",
                           why, ct->user, (int) s->pid, ct->name, ct->n_sessions);
                container_idle(l, ct);
        }
        session_free(s);
}

void sbx_logins_on_event(struct sbx_logins *l, int fd)
{
        if (fd == l->timer_fd) {
                uint64_t now = now_usec(CLOCK_MONOTONIC), ticks;

                (void) !read(l->timer_fd, &ticks, sizeof(ticks));
                for (struct login *ct = l->containers, *next; ct; ct = next) {
                        next = ct->next; /* setup_fail() may free CT */
                        if (ct->idle_deadline && ct->idle_deadline <= now && ct->n_sessions == 0)
                                login_kill(ct);
                        if (ct->starting && ct->setup_deadline <= now)
                                setup_fail(l, ct, -ETIMEDOUT,
                                           "the container's set-up did not finish in time");
                }
                arm_timer(l);
                return;
        }
        for (struct login *ct = l->containers; ct; ct = ct->next)
                if (ct->starting && ct->setup.sock == fd) {
                        setup_progress(l, ct, false);
                        return;
                }
        for (struct session *s = l->sessions; s; s = s->next)
                if (s->pidfd == fd) {
                        session_end(l, s, false, "login process exited");
                        return;
                }
        for (struct login *ct = l->containers; ct; ct = ct->next)
                if (ct->init_pidfd == fd) {
                        container_gone(l, ct);
                        return;
                }
}

struct sbx_logins *sbx_logins_free(struct sbx_logins *l)
{
        if (!l)
                return NULL;
        /* Half set-up containers are not kept: their joins fail. */
        for (struct login *ct = l->containers, *next; ct; ct = next) {
                next = ct->next;
                if (ct->starting) {
                        int pidfd = ct->init_pidfd;

                        setup_fail(l, ct, -ESHUTDOWN, "sandboxd is stopping");
                        /* Killed: normally gone at once, so its cgroup can be
                         * removed. An exiting daemon waits a second at most. */
                        if (pidfd >= 0) {
                                struct pollfd p = {.fd = pidfd, .events = POLLIN};

                                (void) poll(&p, 1, 1000);
                                (void) waitid((idtype_t) P_PIDFD, (id_t) pidfd, NULL,
                                              WEXITED | WNOHANG);
                        }
                }
        }
        while (l->sessions) {
                struct session *s = l->sessions;

                l->sessions = s->next;
                session_free(s);
        }
        /* Containers keep running, and their sessions with them: a restarted
         * daemon takes them back from their state files. */
        while (l->containers) {
                struct login *ct = l->containers;

                l->containers = ct->next;
                if (!ct->dying) {
                        log_info("login container '%s' keeps running (%zu session(s))", ct->name,
                                 ct->n_sessions);
                        ct->cg = sbx_cgroup_forget(ct->cg);
                }
                login_free(ct);
        }
        (void) sbx_safe_close(l->state_fd);
        (void) sbx_safe_close(l->timer_fd);
        (void) sbx_safe_close(l->reaper_fd);
        free(l);
        return NULL;
}

/* ---- requests -------------------------------------------------------------- */

static int send_joined(int conn_fd, const struct login *ct)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_LOGIN_JOINED);
        int r;

        if (!b)
                return -ENOMEM;
        (void) sbx_msg_put_string(b, SBX_A_NAME, ct->name);
        (void) sbx_msg_put_u32(b, SBX_A_NS_FLAGS, (uint32_t) ct->ns_flags);
        (void) sbx_msg_put_u32(b, SBX_A_INIT_PID, (uint32_t) ct->init_pid);
        r = sbx_msg_send(conn_fd, b, &ct->init_pidfd, 1);
        sbx_msg_builder_free(b);
        return r;
}

static struct login *find_container(struct sbx_logins *l, uid_t uid)
{
        for (struct login *ct = l->containers; ct; ct = ct->next)
                if (ct->uid == uid && !ct->dying)
                        return ct;
        return NULL;
}

static bool pidfd_alive(int pidfd)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};

        return poll(&p, 1, 0) == 0;
}

static int peer_pidfd(int conn_fd, pid_t pid)
{
        socklen_t len = sizeof(int);
        int fd = -1;

        /* Linux >= 6.5: the kernel's own reference, no PID reuse race. */
        if (getsockopt(conn_fd, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0)
                return fd;
        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return sbx_negerrno();
        /* Linux < 6.5: the pid is from connect() time. A login process waits
         * for our answer, so it is normally still the same process; all this
         * can check is that some process with that pid lives. (Only root may
         * ask, and a root peer can do worse than race its own pid.) */
        if (!pidfd_alive(fd)) {
                (void) close(fd);
                return -ESRCH;
        }
        return fd;
}

static int refuse(int conn_fd, int error, enum sbx_err code, const char *fmt, ...) sbx_printf(4, 5);
static int refuse(int conn_fd, int error, enum sbx_err code, const char *fmt, ...)
{
        char msg[1024], e[1100];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_notice("login: refused: %s", sbx_log_escape(msg, e, sizeof(e)));
        return sbx_msg_send_error(conn_fd, error, code, "%s", msg);
}

static int create_container(struct sbx_logins *l, const struct sbx_msg *m,
                            const struct sbx_login_user *w, int conn_fd, struct login **ret)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_(sbx_user_donep) struct sbx_user u = {};
        cleanup_free char *err = NULL, *home = NULL, *shell = NULL;
        struct sbx_login_user w2 = *w;
        struct login *ct;
        int r;

        if (m->policy) {
                r = sbx_policy_load(l->cfg.policy_dir_fd, m->policy, &p, &err);
                if (r == -ENOENT || r == -EINVAL)
                        return refuse(conn_fd, ENOENT, SBX_ERR_NO_POLICY, "no such policy '%s'",
                                      m->policy) < 0
                                   ? -EIO
                                   : -ENOENT;
                if (r < 0)
                        return refuse(conn_fd, -r, SBX_ERR_BAD_POLICY, "policy is invalid: %s",
                                      err ? err : strerror(-r)) < 0
                                   ? -EIO
                                   : r;
                if (!sbx_login_policy_admits(p, w))
                        p = sbx_policy_free(p);
        } else {
                r = sbx_login_policy_find(l->cfg.policy_dir_fd, w, &p);
                if (r < 0 && r != -ENOENT)
                        return refuse(conn_fd, -r, SBX_ERR_INTERNAL, "cannot read the policies: %s",
                                      strerror(-r)) < 0
                                   ? -EIO
                                   : r;
        }
        if (!p) {
                /* Not an error: this user is simply not confined. */
                log_notice("login: user '%s' (uid %u) matches no login policy%s%s: not confined",
                           w->name, w->uid, m->policy ? " in " : "", m->policy ? m->policy : "");
                return sbx_msg_send_error(conn_fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "no login policy matches user '%s'", w->name) < 0
                           ? -EIO
                           : -ENOENT;
        }
        r = sbx_login_user_lookup(w->name, &w2, &home, &shell);
        if (r >= 0)
                r = sbx_user_new(w2.uid, w2.gid, w2.groups, (size_t) w2.n_groups, w->name, home,
                                 shell, &u);
        if (r < 0)
                return refuse(conn_fd, -r, SBX_ERR_INTERNAL, "cannot look up user '%s'", w->name) <
                               0
                           ? -EIO
                           : r;

        ct = login_new();
        if (!ct)
                return -ENOMEM;
        ct->uid = w->uid;
        ct->linger_usec = p->linger_usec;
        ct->max_sessions = p->max_sessions;
        ct->start_time = (uint64_t) time(NULL);
        if (asprintf(&ct->name, LOGIN_PREFIX "%s", w->name) < 0)
                ct->name = NULL;
        ct->user = strdup(w->name);
        ct->policy = strdup(p->name);
        if (!ct->name || !ct->user || !ct->policy) {
                login_free(ct);
                return -ENOMEM;
        }
        /* Returns at once: the set-up, which may wait on the user's files,
         * goes on in a helper process (setup_progress()). */
        r = sbx_login_init_start(l->reaper_fd, l->cfg.run_dir, ct->name, p, &u, &ct->setup, &err);
        if (r >= 0) {
                ct->ns_flags = ct->setup.ns_flags;
                ct->cg = TAKE_PTR(ct->setup.cg);
                if (ct->setup.cgroup_name[0])
                        ct->cgroup_name = strdup(ct->setup.cgroup_name);
                if (ct->setup.cgroup_name[0] && !ct->cgroup_name)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = watch(l, ct->setup.sock);
        if (r < 0) {
                int q = refuse(conn_fd, -r, SBX_ERR_SETUP,
                               "cannot start login container '%s' (policy '%s'): %s", ct->name,
                               ct->policy, err ? err : strerror(-r));

                login_free(ct);
                return q < 0 ? -EIO : r;
        }
        ct->starting = true;
        ct->setup_deadline = now_usec(CLOCK_MONOTONIC) + SETUP_TIMEOUT_USEC;
        ct->next = l->containers;
        l->containers = ct;
        arm_timer(l);
        log_info("login container '%s': setting up (user '%s', policy '%s')", ct->name, ct->user,
                 ct->policy);
        *ret = ct;
        return 0;
}

/* Moves the peer into CT's cgroup, recording where it was in *RET_ORIG. */
static int enter_cgroup(struct login *ct, pid_t pid, int pidfd, char **ret_orig)
{
        int r;

        if (!ct->cg)
                return 0;
        /* It may have waited for the container's set-up: still there? */
        if (!pidfd_alive(pidfd))
                return -ESRCH;
        r = sbx_login_cgroup_read(pid, ret_orig);
        if (r < 0)
                return r;
        r = sbx_cgroup_attach(ct->cg, pid);
        if (r < 0)
                return r;
        if (pidfd_alive(pidfd))
                return 0;
        /* Died in between: the pid we moved may be someone else's now. */
        (void) sbx_login_cgroup_restore(pid, *ret_orig);
        return -ESRCH;
}

/* Puts the login process PID (PIDFD, ours) into the running container CT and
 * answers on CONN_FD. */
static int join_session(struct sbx_logins *l, struct login *ct, int conn_fd, pid_t pid, int pidfd,
                        const char *service, const char *tty, const char *rhost)
{
        struct session *s = NULL;
        char e1[128], e2[300], e3[300];
        int r;

        /* Each session holds a pidfd in the daemon: a user opening logins
         * without end is stopped here, not by the daemon's fd limit. */
        if (ct->max_sessions && ct->n_sessions >= ct->max_sessions) {
                (void) close(pidfd);
                return refuse(conn_fd, EUSERS, SBX_ERR_LIMIT,
                              "user '%s' already has %zu login sessions (MaxSessions=%" PRIu32
                              " in policy '%s')",
                              ct->user, ct->n_sessions, ct->max_sessions, ct->policy);
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                (void) close(pidfd);
                return -ENOMEM;
        }
        s->pidfd = -1;
        s->pid = pid;
        s->start_time = (uint64_t) time(NULL);
        s->service = service ? strdup(service) : NULL;
        s->tty = tty ? strdup(tty) : NULL;
        s->rhost = rhost ? strdup(rhost) : NULL;
        r = enter_cgroup(ct, pid, pidfd, &s->orig_cgroup);
        if (r < 0) {
                (void) close(pidfd);
                session_free(s);
                container_idle(l, ct);
                return refuse(conn_fd, -r, SBX_ERR_SETUP,
                              "cannot move the login process into the container's cgroup: %s",
                              strerror(-r));
        }
        s->pidfd = pidfd;
        r = watch(l, s->pidfd);
        if (r < 0) {
                if (s->orig_cgroup)
                        (void) sbx_login_cgroup_restore(s->pid, s->orig_cgroup);
                session_free(s);
                container_idle(l, ct);
                return r;
        }
        (void) sbx_login_pid_starttime(s->pid, &s->starttime);
        s->ct = ct;
        s->next = l->sessions;
        l->sessions = s;
        ct->n_sessions++;
        ct->idle_deadline = 0;
        arm_timer(l);
        save_state(l, ct);
        log_notice("login session joined: user='%s' uid=%u pid=%d service='%s' tty='%s' "
                   "rhost='%s' container='%s' sessions=%zu",
                   ct->user, ct->uid, (int) s->pid,
                   sbx_log_escape(sbx_strna(s->service), e1, sizeof(e1)),
                   sbx_log_escape(sbx_strna(s->tty), e2, sizeof(e2)),
                   sbx_log_escape(sbx_strna(s->rhost), e3, sizeof(e3)), ct->name, ct->n_sessions);
        r = send_joined(conn_fd, ct);
        if (r < 0)
                /* The module fails closed without the reply: end the session. */
                session_end(l, s, true, "reply failed");
        return r;
}

static void waiter_free(struct waiter *w)
{
        (void) sbx_safe_close(w->conn_fd);
        (void) sbx_safe_close(w->pidfd);
        free(w->service);
        free(w->tty);
        free(w->rhost);
        free(w);
}

/* The join waits for CT's set-up; answered by setup_progress() or setup_fail(). */
static int add_waiter(struct login *ct, int conn_fd, pid_t pid, int *pidfd, const struct sbx_msg *m)
{
        struct waiter *w, **tail;

        if (ct->n_waiters >= MAX_WAITERS)
                return refuse(conn_fd, EAGAIN, SBX_ERR_SETUP,
                              "too many logins wait for container '%s'", ct->name);
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->pid = pid;
        w->pidfd = -1;
        w->conn_fd = fcntl(conn_fd, F_DUPFD_CLOEXEC, 3);
        w->service = m->service ? strdup(m->service) : NULL;
        w->tty = m->tty ? strdup(m->tty) : NULL;
        w->rhost = m->rhost ? strdup(m->rhost) : NULL;
        if (w->conn_fd < 0 || (m->service && !w->service) || (m->tty && !w->tty) ||
            (m->rhost && !w->rhost)) {
                waiter_free(w);
                return -ENOMEM;
        }
        w->pidfd = TAKE_FD(*pidfd);
        /* Answered in the order they came. */
        for (tail = &ct->waiters; *tail; tail = &(*tail)->next)
                ;
        *tail = w;
        ct->n_waiters++;
        return 0;
}

/* Fails CT's set-up: the waiting joins are refused, the helper and the init
 * killed. CT is freed here when it has no init yet, else when the init's
 * pidfd says it is gone. */
static void setup_fail(struct sbx_logins *l, struct login *ct, int r, const char *why)
{
        char e[600];

        log_error("cannot start login container '%s' (policy '%s'): %s", ct->name, ct->policy,
                  sbx_log_escape(why, e, sizeof(e)));
        unwatch(l, ct->setup.sock);
        sbx_login_init_end(&ct->setup);
        ct->starting = false;
        while (ct->waiters) {
                struct waiter *w = ct->waiters;

                ct->waiters = w->next;
                (void) sbx_msg_send_error(w->conn_fd, -r, SBX_ERR_SETUP,
                                          "cannot start login container '%s' (policy '%s'): %s",
                                          ct->name, ct->policy, why);
                waiter_free(w);
        }
        ct->n_waiters = 0;
        if (ct->init_pidfd >= 0) {
                login_kill(ct);
                arm_timer(l);
                return;
        }
        for (struct login **p = &l->containers; *p; p = &(*p)->next)
                if (*p == ct) {
                        *p = ct->next;
                        break;
                }
        login_free(ct);
        arm_timer(l);
}

/* The set-up helper has news (or, GONE, the init died): take the init's
 * pidfd, or finish the set-up and answer the waiting joins. */
static void setup_progress(struct sbx_logins *l, struct login *ct, bool gone)
{
        cleanup_free char *err = NULL;
        int r = sbx_login_init_progress(&ct->setup, ct->cg, &err);

        if (ct->init_pidfd < 0 && ct->setup.pidfd >= 0) {
                ct->init_pidfd = TAKE_FD(ct->setup.pidfd);
                ct->init_pid = ct->setup.pid;
                if (watch(l, ct->init_pidfd) < 0 && r >= 0) {
                        r = -ENOMEM;
                        free(err);
                        err = strdup("cannot watch the init");
                }
        }
        if (gone && r >= 0) {
                r = -ESRCH;
                free(err);
                err = strdup("the container's init exited during its set-up");
        }
        if (r == 1)
                return;
        if (r < 0) {
                setup_fail(l, ct, r, err ? err : strerror(-r));
                return;
        }
        unwatch(l, ct->setup.sock);
        (void) sbx_login_pid_starttime(ct->init_pid, &ct->init_starttime);
        log_notice("login container '%s' started: user='%s' uid=%u policy='%s' init=%d", ct->name,
                   ct->user, ct->uid, ct->policy, (int) ct->init_pid);
        /* Still "starting" while the waiters join: none of them failing
         * makes it idle before the others are in. */
        while (ct->waiters) {
                struct waiter *w = ct->waiters;

                ct->waiters = w->next;
                (void) join_session(l, ct, w->conn_fd, w->pid, TAKE_FD(w->pidfd), w->service,
                                    w->tty, w->rhost);
                waiter_free(w);
        }
        ct->n_waiters = 0;
        ct->starting = false;
        arm_timer(l);
        if (ct->n_sessions == 0)
                container_idle(l, ct);
}

/* The service asks for policy M->policy, but the user's container CT runs
 * another one: a policy= is never silently replaced by the policy of the
 * container another service started. As without a container, a policy that
 * does not admit the user leaves them unconfined; one that does is refused. */
static int other_policy(struct sbx_logins *l, int conn_fd, const struct sbx_msg *m,
                        const struct sbx_login_user *w, const struct login *ct)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *err = NULL;
        int r = sbx_policy_load(l->cfg.policy_dir_fd, m->policy, &p, &err);

        if (r == -ENOENT || r == -EINVAL)
                return refuse(conn_fd, ENOENT, SBX_ERR_NO_POLICY, "no such policy '%s'", m->policy);
        if (r < 0)
                return refuse(conn_fd, -r, SBX_ERR_BAD_POLICY, "policy is invalid: %s",
                              err ? err : strerror(-r));
        if (!sbx_login_policy_admits(p, w)) {
                log_notice("login: user '%s' (uid %u) matches no login policy in %s: not confined",
                           w->name, w->uid, m->policy);
                return sbx_msg_send_error(conn_fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "no login policy matches user '%s'", w->name);
        }
        return refuse(conn_fd, EBUSY, SBX_ERR_EXISTS,
                      "user '%s' has a login container with policy '%s'; this service asks for "
                      "policy '%s'",
                      ct->user, ct->policy, m->policy);
}

static int handle_join(struct sbx_logins *l, int conn_fd, const struct ucred *cred,
                       const struct sbx_msg *m)
{
        struct login *ct;
        struct sbx_login_user w = {};
        cleanup_close int pidfd = -1;
        int r;

        if (!sbx_login_user_name_valid(m->user) || (m->policy && !sbx_policy_name_valid(m->policy)))
                return refuse(conn_fd, EINVAL, SBX_ERR_BAD_REQUEST, "malformed login request");
        if (sbx_login_user_lookup(m->user, &w, NULL, NULL) < 0)
                return refuse(conn_fd, ENOENT, SBX_ERR_BAD_REQUEST, "no such user '%s'", m->user);
        if (w.uid == 0) {
                log_notice("login: user '%s' is root: never confined", m->user);
                return sbx_msg_send_error(conn_fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "root is never confined");
        }
        for (struct session *q = l->sessions; q; q = q->next)
                if (q->pid == cred->pid && pidfd_alive(q->pidfd))
                        return refuse(conn_fd, EEXIST, SBX_ERR_EXISTS,
                                      "pid %d already has a login session", (int) cred->pid);
        for (struct login *c = l->containers; c; c = c->next)
                for (struct waiter *q = c->waiters; q; q = q->next)
                        if (q->pid == cred->pid && pidfd_alive(q->pidfd))
                                return refuse(conn_fd, EEXIST, SBX_ERR_EXISTS,
                                              "pid %d already waits for a login session",
                                              (int) cred->pid);
        pidfd = peer_pidfd(conn_fd, cred->pid);
        if (pidfd < 0)
                return refuse(conn_fd, -pidfd, SBX_ERR_INTERNAL, "the login process is gone");

        ct = find_container(l, w.uid);
        if (!ct) {
                r = create_container(l, m, &w, conn_fd, &ct);
                if (r < 0)
                        return r == -ENOMEM ? r : 0; /* already answered */
        }
        if (m->policy && strcmp(m->policy, ct->policy) != 0)
                return other_policy(l, conn_fd, m, &w, ct);
        if (ct->starting)
                return add_waiter(ct, conn_fd, cred->pid, &pidfd, m);
        return join_session(l, ct, conn_fd, cred->pid, TAKE_FD(pidfd), m->service, m->tty,
                            m->rhost);
}

static int handle_close(struct sbx_logins *l, int conn_fd, const struct ucred *cred)
{
        for (struct session *s = l->sessions; s; s = s->next)
                if (s->pid == cred->pid && pidfd_alive(s->pidfd)) {
                        /* Moved back and counted down first; the teardown (if
                         * any) is only started, never waited for. */
                        session_end(l, s, true, "closed");
                        return sbx_msg_send_ok(conn_fd);
                }
        return sbx_msg_send_error(conn_fd, ENOENT, SBX_ERR_NOT_FOUND, "pid %d has no login session",
                                  (int) cred->pid);
}

static int handle_sessions(struct sbx_logins *l, int conn_fd, const struct ucred *cred,
                           const struct sbx_msg *m)
{
        for (struct session *s = l->sessions; s; s = s->next) {
                struct sbx_msg_builder *b;
                int r;

                if (!s->ct || (cred->uid != 0 && s->ct->uid != cred->uid) ||
                    (m->user && strcmp(m->user, s->ct->user) != 0))
                        continue;
                b = sbx_msg_new(SBX_MSG_LOGIN_SESSION);
                if (!b)
                        return -ENOMEM;
                (void) sbx_msg_put_string(b, SBX_A_NAME, s->ct->name);
                (void) sbx_msg_put_string(b, SBX_A_USER, s->ct->user);
                (void) sbx_msg_put_u32(b, SBX_A_PEER_PID, (uint32_t) s->pid);
                if (s->service)
                        (void) sbx_msg_put_string(b, SBX_A_SERVICE, s->service);
                if (s->tty)
                        (void) sbx_msg_put_string(b, SBX_A_TTY, s->tty);
                if (s->rhost)
                        (void) sbx_msg_put_string(b, SBX_A_RHOST, s->rhost);
                (void) sbx_msg_put_u64(b, SBX_A_START_TIME, s->start_time);
                r = sbx_msg_send(conn_fd, b, NULL, 0);
                sbx_msg_builder_free(b);
                if (r < 0)
                        return r;
        }
        return sbx_msg_send_ok(conn_fd);
}

/* sbxctl enter: root runs a command in an existing container. */
static int handle_enter(struct sbx_logins *l, int conn_fd, const struct ucred *cred,
                        const struct sbx_msg *m)
{
        cleanup_free char *orig = NULL;
        cleanup_close int pidfd = -1;
        struct login *ct = NULL;
        int r;

        for (struct login *c = l->containers; c; c = c->next)
                if (!c->dying && !c->starting && strcmp(c->user, m->user) == 0)
                        ct = c;
        if (!ct)
                return sbx_msg_send_error(conn_fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "user '%s' has no login container", m->user);
        pidfd = peer_pidfd(conn_fd, cred->pid);
        if (pidfd < 0)
                return pidfd;
        r = enter_cgroup(ct, cred->pid, pidfd, &orig);
        if (r < 0)
                return sbx_msg_send_error(conn_fd, -r, SBX_ERR_SETUP,
                                          "cannot move into the container's cgroup: %s",
                                          strerror(-r));
        log_notice("login: enter: uid=%u pid=%d container='%s'", cred->uid, (int) cred->pid,
                   ct->name);
        return send_joined(conn_fd, ct);
}

/* ---- a restarted daemon ------------------------------------------------- */

/* A pidfd of PID if it is still the process started at STARTTIME. */
static int pidfd_of(pid_t pid, uint64_t starttime)
{
        uint64_t now = 0;
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);

        if (fd < 0)
                return sbx_negerrno();
        /* After the open: the pidfd pins the process it was opened for. */
        if (sbx_login_pid_starttime(pid, &now) < 0 || now != starttime || !pidfd_alive(fd)) {
                (void) close(fd);
                return -ESRCH;
        }
        return fd;
}

static bool is_reaper(pid_t pid)
{
        char path[64], comm[32] = "";
        cleanup_close int fd = -1;
        ssize_t n;

        (void) snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd < 0 ? -1 : read(fd, comm, sizeof(comm) - 1);
        return n > 0 && strncmp(comm, "sandboxd-reaper\n", (size_t) n) == 0;
}

static void adopt_sessions(struct sbx_logins *l, struct login *ct, struct sbx_login_state *st)
{
        for (size_t i = 0; i < st->n_sessions; i++) {
                struct sbx_login_state_session *ss = &st->sessions[i];
                int fd = pidfd_of(ss->pid, ss->starttime);
                struct session *s;

                /* Ended while no daemon watched: nothing left to do for it. */
                if (fd < 0)
                        continue;
                s = calloc(1, sizeof(*s));
                if (!s || watch(l, fd) < 0) {
                        free(s);
                        (void) close(fd);
                        continue;
                }
                s->ct = ct;
                s->pid = ss->pid;
                s->starttime = ss->starttime;
                s->pidfd = fd;
                s->start_time = ss->start_time;
                /* Moved, not copied: the state is freed after. */
                s->service = ss->service;
                s->tty = ss->tty;
                s->rhost = ss->rhost;
                s->orig_cgroup = ss->orig_cgroup;
                ss->service = ss->tty = ss->rhost = ss->orig_cgroup = NULL;
                s->next = l->sessions;
                l->sessions = s;
                ct->n_sessions++;
        }
}

/* Takes back the container of one state file, or removes what is left of it. */
static void adopt(struct sbx_logins *l, const char *file)
{
        cleanup_(sbx_login_state_done) struct sbx_login_state st = {};
        cleanup_free char *text = NULL;
        cleanup_close int fd = -1;
        struct login *ct;
        char expect[96];
        struct stat sb;
        ssize_t n;
        int r;

        fd = openat(l->state_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
            sb.st_size > (off_t) 1024 * 1024)
                goto drop;
        text = calloc(1, (size_t) sb.st_size + 1);
        n = text ? read(fd, text, (size_t) sb.st_size) : -1;
        if (n != sb.st_size || sbx_login_state_parse(text, &st) < 0 ||
            !sbx_login_user_name_valid(st.user))
                goto drop;
        (void) snprintf(expect, sizeof(expect), LOGIN_PREFIX "%s.%d.state", st.user,
                        (int) st.init_pid);
        if (strcmp(file, expect) != 0)
                goto drop;
        (void) snprintf(expect, sizeof(expect), LOGIN_PREFIX "%s", st.user);
        if (strcmp(st.name, expect) != 0)
                goto drop;
        sbx_closep(&fd);

        ct = login_new();
        if (!ct)
                return;
        ct->init_pidfd = is_reaper(st.init_pid) ? pidfd_of(st.init_pid, st.init_starttime) : -1;
        if (ct->init_pidfd < 0) {
                log_info("login container '%s' ended while the daemon was down", st.name);
                if (st.cgroup)
                        (void) sbx_cgroup_remove_stale(st.cgroup);
                free(ct);
                goto drop;
        }
        ct->name = TAKE_PTR(st.name);
        ct->user = TAKE_PTR(st.user);
        ct->policy = TAKE_PTR(st.policy);
        ct->cgroup_name = TAKE_PTR(st.cgroup);
        ct->uid = st.uid;
        ct->linger_usec = st.linger_usec;
        ct->max_sessions = st.max_sessions;
        ct->init_pid = st.init_pid;
        ct->init_starttime = st.init_starttime;
        ct->ns_flags = st.ns_flags;
        ct->start_time = st.start_time;
        ct->next = l->containers;
        l->containers = ct;
        /* Watched first: even a container we cannot take back must be
         * cleaned up when its init is gone. */
        r = watch(l, ct->init_pidfd);
        if (r >= 0 && ct->cgroup_name)
                r = sbx_cgroup_reopen(ct->cgroup_name, &ct->cg);
        if (r < 0) {
                /* Fail closed: no new session may join a container without
                 * its limits. Its pidfd event (or none) finishes the rest. */
                log_error_errno(r, "Cannot take back login container '%s', stopping it: %m",
                                ct->name);
                login_kill(ct);
                return;
        }
        adopt_sessions(l, ct, &st);
        log_notice("found login container '%s': user='%s' init=%d sessions=%zu", ct->name, ct->user,
                   (int) ct->init_pid, ct->n_sessions);
        save_state(l, ct);
        container_idle(l, ct);
        return;
drop:
        (void) unlinkat(l->state_fd, file, 0);
}

static void rediscover(struct sbx_logins *l)
{
        int dfd = openat(l->state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;

        if (dfd < 0)
                return;
        d = fdopendir(dfd);
        if (!d) {
                (void) close(dfd);
                return;
        }
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);

                if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
                    strcmp(de->d_name, "..") != 0)
                        (void) unlinkat(l->state_fd, de->d_name, 0); /* a write cut short */
                else if (n > 6 && strcmp(de->d_name + n - 6, ".state") == 0)
                        adopt(l, de->d_name);
        }
        closedir(d);
        arm_timer(l);
}

int sbx_logins_handle(struct sbx_logins *l, int conn_fd, const struct ucred *cred,
                      const struct sbx_msg *m)
{
        if (m->type == SBX_MSG_LOGIN_SESSIONS)
                return handle_sessions(l, conn_fd, cred, m);
        /* Only root may put processes into containers (the login programs run
         * as root when they open a session). */
        if (cred->uid != 0) {
                log_notice("login: refused %s from uid=%u pid=%d: root only",
                           sbx_strna(sbx_msg_type_to_string(m->type)), cred->uid, (int) cred->pid);
                return sbx_msg_send_error(conn_fd, EPERM, SBX_ERR_DENIED,
                                          "login requests are for root only");
        }
        switch (m->type) {
        case SBX_MSG_LOGIN_JOIN:
                return handle_join(l, conn_fd, cred, m);
        case SBX_MSG_LOGIN_CLOSE:
                return handle_close(l, conn_fd, cred);
        case SBX_MSG_LOGIN_ENTER:
                return handle_enter(l, conn_fd, cred, m);
        default:
                return -EBADMSG;
        }
}

int sbx_logins_stop(struct sbx_logins *l, const char *name, uid_t uid)
{
        for (struct login *ct = l->containers; ct; ct = ct->next)
                if (!ct->dying && strcmp(ct->name, name) == 0 && (uid == 0 || uid == ct->uid)) {
                        log_notice("stop: uid=%u name='%s' (login container, %zu session(s))", uid,
                                   ct->name, ct->n_sessions);
                        if (ct->starting)
                                setup_fail(l, ct, -ECANCELED, "stopped during its set-up");
                        else
                                login_kill(ct);
                        return 0;
                }
        return -ENOENT;
}

int sbx_logins_list(struct sbx_logins *l, int conn_fd, uid_t uid)
{
        for (struct login *ct = l->containers; ct; ct = ct->next) {
                const char *argv[] = {"sandboxd-reaper"};
                struct sbx_msg_builder *b;
                int r;

                if (uid != 0 && uid != ct->uid)
                        continue;
                b = sbx_msg_new(SBX_MSG_CONTAINER);
                if (!b)
                        return -ENOMEM;
                (void) sbx_msg_put_string(b, SBX_A_NAME, ct->name);
                (void) sbx_msg_put_string(b, SBX_A_POLICY, ct->policy);
                (void) sbx_msg_put_u32(b, SBX_A_UID, ct->uid);
                (void) sbx_msg_put_u32(b, SBX_A_INIT_PID, (uint32_t) ct->init_pid);
                (void) sbx_msg_put_string(b, SBX_A_STATE,
                                          ct->dying        ? "stopping"
                                          : ct->starting   ? "starting"
                                          : ct->n_sessions ? "running"
                                                           : "lingering");
                (void) sbx_msg_put_u64(b, SBX_A_START_TIME, ct->start_time);
                (void) sbx_msg_put_strv(b, SBX_A_ARGV, argv, 1);
                (void) sbx_msg_put_string(b, SBX_A_USER, ct->user);
                (void) sbx_msg_put_u32(b, SBX_A_SESSIONS, (uint32_t) ct->n_sessions);
                r = sbx_msg_send(conn_fd, b, NULL, 0);
                sbx_msg_builder_free(b);
                if (r < 0)
                        return r;
        }
        return 0;
}
