/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon: listens, authorizes every request from the peer's kernel
 * credentials, and starts one controller per container. Single-threaded. */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "fd-util.h"
#include "log.h"
#include "login.h"
#include "policy.h"
#include "protocol.h"
#include "registry.h"
#include "cgroup.h"
#include "network.h"
#include "network-ctl.h"
#include "parse-util.h"
#include "seccomp-cache.h"
#include "server.h"
#include "user.h"

#define MAX_PEER_GROUPS 1024

struct conn {
        int fd;
        struct ucred cred;
        gid_t *groups;
        size_t n_groups;
        uint64_t id; /* never reused, unlike fd numbers */
        struct conn *next;
};

/* A STATS or SET request forwarded to a controller, waiting for its reply.
 * A controller answers its requests in order, so the first entry for its
 * socket gets the next reply. */
struct pending {
        struct pending *next;
        int ctl_fd;
        uint64_t conn_id;
};

/* At most this many unanswered requests per controller: the daemon's sends
 * on its socket then never fill the socket buffer, so they never block. */
#define PENDING_PER_CONTROLLER 8

struct server {
        const struct sbx_server_config *cfg;
        int listen_fd, epoll_fd, signal_fd, policy_dir_fd, controller_fd;
        char socket_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
        int spare_fd;   /* a controller started ahead, waiting for a request */
        int reserve_fd; /* one fd kept back to shed connections when out of fds */
        struct sbx_seccomp_cache *filters;
        pid_t spare_pid;
        struct conn *conns;
        uint64_t next_conn_id;
        struct pending *pending;
        struct sbx_registry reg;
        struct sbx_logins *logins; /* login containers (login.c) */
        bool quit;
};

/* epoll data: fds below this tag are client connections, ctl sockets carry the tag. */
#define TAG_CTL (1ull << 32)
#define TAG_LISTEN (TAG_CTL - 1)
#define TAG_SIGNAL (TAG_CTL - 2)
#define TAG_SPARE (TAG_CTL - 3)
#define TAG_LOGIN (1ull << 33) /* login.c's pidfds and timer */

static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
        socklen_t len = MAX_PEER_GROUPS * sizeof(gid_t);
        gid_t *g = NULL;

        /* Twice at most: on ERANGE the kernel has said how much it needs. */
        for (int attempt = 0; attempt < 2; attempt++) {
                gid_t *bigger = realloc(g, len ? len : 1);

                if (!bigger) {
                        free(g);
                        return -ENOMEM;
                }
                g = bigger;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
                        *ret = g;
                        *ret_n = len / sizeof(gid_t);
                        return 0;
                }
                if (errno != ERANGE)
                        break;
        }
        free(g);
        return -EIO;
}

static size_t conns_of_uid(const struct server *s, uid_t uid)
{
        size_t n = 0;

        for (const struct conn *c = s->conns; c; c = c->next)
                n += c->cred.uid == uid;
        return n;
}

static void conn_close(struct server *s, struct conn *c)
{
        for (struct conn **p = &s->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        (void) sbx_safe_close(c->fd);
        free(c->groups);
        free(c);
}

static struct conn *conn_find(struct server *s, int fd)
{
        for (struct conn *c = s->conns; c; c = c->next)
                if (c->fd == fd)
                        return c;
        return NULL;
}

static void on_accept(struct server *s)
{
        struct conn *c;
        socklen_t len = sizeof(struct ucred);
        struct epoll_event ev = {.events = EPOLLIN};
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0 && (errno == EMFILE || errno == ENFILE) && s->reserve_fd >= 0) {
                /* Out of fds: the pending connection would make epoll report the
                 * listening socket forever. Free the reserve, take the connection
                 * and drop it, then take the reserve back. */
                s->reserve_fd = sbx_safe_close(s->reserve_fd);
                fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0)
                        (void) close(fd);
                s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                log_warning("out of file descriptors: dropped a connection");
                return;
        }
        if (fd < 0)
                return;
        c = calloc(1, sizeof(*c));
        if (!c) {
                (void) close(fd);
                return;
        }
        c->fd = fd;
        c->id = ++s->next_conn_id;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 ||
            peer_groups(fd, &c->groups, &c->n_groups) < 0) {
                (void) close(fd);
                free(c->groups);
                free(c);
                return;
        }
        if (c->cred.uid != 0 && conns_of_uid(s, c->cred.uid) >= s->cfg->max_connections) {
                log_notice("refused connection: uid=%u has %zu open connections", c->cred.uid,
                           s->cfg->max_connections);
                (void) close(fd);
                free(c->groups);
                free(c);
                return;
        }
        ev.data.u64 = (uint64_t) fd;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                (void) close(fd);
                free(c->groups);
                free(c);
                return;
        }
        c->next = s->conns;
        s->conns = c;
}

static bool name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > 64 || name[0] == '-' || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}

/* Starts a controller with CTL as its fd 3, from the binary opened at start-up.
 * posix_spawn (vfork-style) rather than fork: the daemon's page tables are not
 * copied and it takes no copy-on-write faults afterwards. Every other fd of the
 * daemon is close-on-exec. */
static pid_t spawn_controller(struct server *s, int ctl)
{
        char level[16], exe[64];
        char *argv[] = {(char *) "sandboxd-controller",
                        (char *) "--log-level",
                        level,
                        (char *) "--run-dir",
                        (char *) s->cfg->run_dir,
                        NULL,
                        NULL,
                        NULL,
                        NULL};
        int argc = 5;
        char *envp[] = {(char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t empty, def;
        pid_t pid;
        int r;

        (void) snprintf(level, sizeof(level), "%s", sbx_log_level_to_string(sbx_log_get_level()));
        if (s->cfg->network_dir) {
                argv[argc++] = (char *) "--network-dir";
                argv[argc++] = (char *) s->cfg->network_dir;
        }
        if (s->cfg->syslog)
                argv[argc] = (char *) "--syslog";
        /* Exec by the fd opened at start: a binary replaced on disk since is
         * never picked up half-way. */
        (void) snprintf(exe, sizeof(exe), "/proc/self/fd/%d", s->controller_fd);

        sigemptyset(&empty);
        /* Whatever started the daemon may have left signals ignored (a shell's
         * background job ignores SIGINT and SIGQUIT): the controller starts clean. */
        sigfillset(&def);
        if (posix_spawn_file_actions_init(&fa) != 0)
                return -ENOMEM;
        if (posix_spawnattr_init(&attr) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -ENOMEM;
        }
        r = posix_spawn_file_actions_adddup2(&fa, ctl, 3);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &empty);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(&attr, &def);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                        POSIX_SPAWN_SETSID);
        if (r == 0)
                r = posix_spawn(&pid, exe, &fa, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return r == 0 ? pid : -r;
}

/* One controller is always started ahead, waiting for its request: its exec
 * and start-up then happen while no client waits for them. */
static void spare_spawn(struct server *s)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_SPARE};
        int pair[2];
        pid_t pid;

        if (s->spare_fd >= 0)
                return;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                log_warning_errno(sbx_negerrno(), "Cannot start a spare controller: %m");
                return;
        }
        pid = spawn_controller(s, pair[1]);
        (void) close(pair[1]);
        if (pid < 0) {
                log_warning_errno(pid, "Cannot start a spare controller: %m");
                (void) close(pair[0]);
                return;
        }
        /* Watched only to notice if it dies before it is used. */
        ev.data.u64 = TAG_SPARE;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, pair[0], &ev) < 0) {
                (void) kill(pid, SIGKILL);
                (void) close(pair[0]);
                return;
        }
        s->spare_fd = pair[0];
        s->spare_pid = pid;
}

/* Takes the spare controller (starting one if there is none). */
static int spare_take(struct server *s, pid_t *ret_pid, int *ret_fd)
{
        spare_spawn(s);
        if (s->spare_fd < 0)
                return -EAGAIN;
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->spare_fd, NULL);
        *ret_pid = s->spare_pid;
        *ret_fd = TAKE_FD(s->spare_fd);
        s->spare_pid = 0;
        return 0;
}

static void spare_gone(struct server *s)
{
        log_warning("spare controller %d exited unexpectedly", (int) s->spare_pid);
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->spare_fd, NULL);
        s->spare_fd = sbx_safe_close(s->spare_fd);
        s->spare_pid = 0;
}

static void refuse(struct conn *c, int error, enum sbx_err code, const char *policy,
                   const char *fmt, ...) sbx_printf(5, 6);

static void refuse(struct conn *c, int error, enum sbx_err code, const char *policy,
                   const char *fmt, ...)
{
        char e1[128], e2[1024], msg[1200];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_notice("refused run: uid=%u pid=%d policy='%s': %s", c->cred.uid, (int) c->cred.pid,
                   sbx_log_escape(policy, e1, sizeof(e1)), sbx_log_escape(msg, e2, sizeof(e2)));
        (void) sbx_msg_send_error(c->fd, error, code, "%s", msg);
}

/* The stdio fds a client sends end up in the command. A directory (or an
 * O_PATH fd) there would hand the command a way out of its mount namespace
 * (fchdir, openat: runc CVE-2024-21626), so only data channels are accepted. */
static bool stdio_fds_valid(const int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                int fl = fcntl(fds[i], F_GETFL);

                if (fl < 0 || (fl & O_PATH) || fstat(fds[i], &st) < 0 || S_ISDIR(st.st_mode))
                        return false;
        }
        return true;
}

static int read_policy_text(struct server *s, const char *name, char **ret_text, size_t *ret_len,
                            char **ret_error)
{
        cleanup_free char *file = NULL;
        cleanup_close int fd = -1;

        if (asprintf(&file, "%s.ini", name) < 0)
                return -ENOMEM;
        /* O_NONBLOCK: a FIFO planted as a policy must not hang the daemon. */
        fd = openat(s->policy_dir_fd, file,
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return sbx_negerrno();
        return sbx_policy_read_fd(fd, file, ret_text, ret_len, ret_error);
}

/* RUN: returns true when the connection was handed to a controller. */
static bool handle_run(struct server *s, struct conn *c, struct sbx_msg *m, int *fds, size_t n_fds)
{
        cleanup_free char *text = NULL;
        cleanup_free char *err = NULL;
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_(sbx_user_donep) struct sbx_user u = {};
        char name[80], e1[128], e3[256];
        const void *bpf = NULL;
        size_t want_fds = 0, len = 0, bpf_len = 0;
        struct sbx_msg_builder *b = NULL;
        struct sbx_container *ct;
        int send_fds[SBX_MAX_FDS], r;
        pid_t pid;

        for (int i = 0; i < 3; i++)
                if (!(m->flags & (1u << i)))
                        want_fds++;
        if ((m->flags & ~SBX_RUN_FLAGS_ALL) || n_fds != want_fds || m->argc == 0 ||
            m->argv[0][0] == '\0' || !sbx_policy_name_valid(m->policy) ||
            (m->name && !name_valid(m->name)) || (m->cwd && m->cwd[0] != '/')) {
                refuse(c, -EINVAL, SBX_ERR_BAD_REQUEST, m->policy, "%s", "malformed request");
                return false;
        }
        if (!stdio_fds_valid(fds, n_fds)) {
                refuse(c, -EBADF, SBX_ERR_BAD_REQUEST, m->policy, "%s",
                       "standard input, output and error must be files, pipes, sockets or "
                       "terminals, not directories");
                return false;
        }
        if (sbx_user_from_creds(c->cred.uid, c->cred.gid, c->groups, c->n_groups, &u) < 0) {
                refuse(c, -ENOENT, SBX_ERR_DENIED, m->policy, "%s", "caller has no passwd entry");
                return false;
        }

        r = read_policy_text(s, m->policy, &text, &len, &err);
        if (r == -ENOENT) {
                refuse(c, r, SBX_ERR_NO_POLICY, m->policy, "no such policy '%s'", m->policy);
                return false;
        }
        if (r >= 0) {
                char file[80];

                (void) snprintf(file, sizeof(file), "%s.ini", m->policy);
                r = sbx_policy_parse_string(text, len, m->policy, file, &p, &err);
        }
        if (r < 0) {
                refuse(c, r, SBX_ERR_BAD_POLICY, m->policy, "policy is invalid: %s",
                       err ? err : strerror(-r));
                return false;
        }
        if (!sbx_access_allowed(p, c->cred.uid, c->cred.gid, c->groups, c->n_groups, u.name)) {
                refuse(c, -EPERM, SBX_ERR_DENIED, m->policy,
                       "user is not allowed to use policy '%s' (see its [Access] section)",
                       m->policy);
                return false;
        }
        if (c->cred.uid != 0 &&
            sbx_registry_count_uid(&s->reg, c->cred.uid) >= s->cfg->max_per_user) {
                refuse(c, -EUSERS, SBX_ERR_LIMIT, m->policy,
                       "too many containers for this user (limit %zu)", s->cfg->max_per_user);
                return false;
        }
        if (m->name)
                (void) snprintf(name, sizeof(name), "%s", m->name);
        else {
                uint32_t rnd = 0;

                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                        rnd = (uint32_t) time(NULL) ^ (uint32_t) c->cred.pid;
                (void) snprintf(name, sizeof(name), "%s-%u-%08x", m->policy, c->cred.uid, rnd);
        }
        if (sbx_registry_find(&s->reg, name)) {
                refuse(c, -EEXIST, SBX_ERR_EXISTS, m->policy, "container '%s' already exists",
                       name);
                return false;
        }

        b = sbx_msg_new(SBX_MSG_CTL_START);
        if (!b)
                goto oom;
        (void) sbx_msg_put_string(b, SBX_A_POLICY, m->policy);
        (void) sbx_msg_put_string(b, SBX_A_NAME, name);
        (void) sbx_msg_put_strv(b, SBX_A_ARGV, m->argv, m->argc);
        if (m->env)
                (void) sbx_msg_put_strv(b, SBX_A_ENV, m->env, m->envc);
        (void) sbx_msg_put_u32(b, SBX_A_FLAGS, m->flags);
        if (sbx_msg_has(m, SBX_A_WINSIZE))
                (void) sbx_msg_put_binary(b, SBX_A_WINSIZE, &m->winsize, sizeof(m->winsize));
        if (m->cwd)
                (void) sbx_msg_put_string(b, SBX_A_CWD, m->cwd);
        (void) sbx_msg_put_u32(b, SBX_A_UID, c->cred.uid);
        (void) sbx_msg_put_u32(b, SBX_A_GID, c->cred.gid);
        (void) sbx_msg_put_binary(b, SBX_A_GROUPS, c->groups, c->n_groups * sizeof(gid_t));
        (void) sbx_msg_put_binary(b, SBX_A_POLICY_TEXT, text, len);
        {
                const char *pw[] = {u.name, u.home, u.shell};

                (void) sbx_msg_put_strv(b, SBX_A_PASSWD, pw, 3);
        }
        /* Without it the controller compiles the filter itself. */
        if (sbx_seccomp_cache_get(s->filters, p, text, len, &bpf, &bpf_len) >= 0)
                (void) sbx_msg_put_binary(b, SBX_A_SECCOMP_BPF, bpf, bpf_len);

        ct = sbx_registry_add(&s->reg, name, m->policy, m->argv[0], c->cred.uid);
        if (!ct)
                goto oom;
        r = spare_take(s, &pid, &ct->ctl_fd);
        if (r < 0)
                goto fail_ct;
        ct->controller_pid = pid;

        send_fds[0] = c->fd;
        memcpy(send_fds + 1, fds, n_fds * sizeof(int));
        r = sbx_msg_send(ct->ctl_fd, b, send_fds, n_fds + 1);
        b = sbx_msg_builder_free(b);
        if (r < 0) {
                /* The controller exits on EOF; reaped by SIGCHLD. */
                log_error_errno(r, "Failed to hand the request to the controller: %m");
                goto fail_ct;
        }
        {
                struct epoll_event ev = {.events = EPOLLIN,
                                         .data.u64 = TAG_CTL | (uint64_t) ct->ctl_fd};

                if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, ct->ctl_fd, &ev) < 0)
                        goto fail_ct;
        }
        log_notice(
            "accepted run: uid=%u user='%s' policy='%s' name='%s' command='%s' controller=%d",
            c->cred.uid, sbx_log_escape(u.name, e1, sizeof(e1)), m->policy, name,
            sbx_log_escape(m->argv[0], e3, sizeof(e3)), (int) pid);
        spare_spawn(s);
        return true;

fail_ct:
        if (ct->ctl_fd >= 0)
                (void) close(ct->ctl_fd);
        if (ct->controller_pid > 0)
                (void) kill(ct->controller_pid, SIGKILL);
        sbx_registry_remove(&s->reg, ct);
oom:
        sbx_msg_builder_free(b);
        refuse(c, -ENOMEM, SBX_ERR_INTERNAL, m->policy, "%s", "cannot start a controller");
        return false;
}

static bool may_see(const struct conn *c, const struct sbx_container *ct)
{
        return c->cred.uid == 0 || c->cred.uid == ct->uid;
}

static int send_container(struct conn *c, const struct sbx_container *ct)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_CONTAINER);
        const char *argv[] = {ct->argv0};
        int r;

        if (!b)
                return -ENOMEM;
        (void) sbx_msg_put_string(b, SBX_A_NAME, ct->name);
        (void) sbx_msg_put_string(b, SBX_A_POLICY, ct->policy);
        (void) sbx_msg_put_u32(b, SBX_A_UID, ct->uid);
        (void) sbx_msg_put_u32(b, SBX_A_CONTROLLER_PID, (uint32_t) ct->controller_pid);
        (void) sbx_msg_put_u32(b, SBX_A_INIT_PID, (uint32_t) ct->init_pid);
        (void) sbx_msg_put_string(b, SBX_A_STATE, ct->state);
        (void) sbx_msg_put_u64(b, SBX_A_START_TIME, ct->start_time);
        (void) sbx_msg_put_strv(b, SBX_A_ARGV, argv, 1);
        r = sbx_msg_send(c->fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        return r;
}

static int handle_list(struct server *s, struct conn *c)
{
        for (struct sbx_container *ct = s->reg.head; ct; ct = ct->next)
                if (may_see(c, ct)) {
                        int r = send_container(c, ct);

                        if (r < 0)
                                return r;
                }
        if (sbx_logins_list(s->logins, c->fd, c->cred.uid) < 0)
                return -EIO;
        return sbx_msg_send_ok(c->fd);
}

static int handle_info(struct server *s, struct conn *c, const struct sbx_msg *m)
{
        struct sbx_container *ct = sbx_registry_find(&s->reg, m->name);

        /* Someone else's container looks exactly like a missing one. */
        if (!ct || !may_see(c, ct))
                return sbx_msg_send_error(c->fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "no such container '%s'", m->name);
        return send_container(c, ct) < 0 ? -EIO : sbx_msg_send_ok(c->fd);
}

static int handle_stop(struct server *s, struct conn *c, const struct sbx_msg *m)
{
        struct sbx_container *ct = sbx_registry_find(&s->reg, m->name);
        struct sbx_msg_builder *b;
        int r;

        if (!ct && sbx_logins_stop(s->logins, m->name, c->cred.uid) >= 0)
                return sbx_msg_send_ok(c->fd);
        if (!ct || !may_see(c, ct)) {
                log_notice("refused stop: uid=%u name='%s': not found or not owner", c->cred.uid,
                           m->name);
                return sbx_msg_send_error(c->fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "no such container '%s'", m->name);
        }
        b = sbx_msg_new(SBX_MSG_CTL_STOP);
        if (!b)
                return -ENOMEM;
        r = sbx_msg_send(ct->ctl_fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        if (r < 0)
                return sbx_msg_send_error(c->fd, -r, SBX_ERR_INTERNAL, "cannot reach controller");
        (void) snprintf(ct->state, sizeof(ct->state), "stopping");
        log_notice("stop: uid=%u name='%s'", c->cred.uid, ct->name);
        return sbx_msg_send_ok(c->fd);
}

static struct conn *conn_find_id(struct server *s, uint64_t id)
{
        for (struct conn *c = s->conns; c; c = c->next)
                if (c->id == id)
                        return c;
        return NULL;
}

/* STATS and SET go to the container's controller, which owns the cgroup; the
 * reply is relayed by on_ctl() when it comes, so the daemon never waits. */
static int forward_to_controller(struct server *s, struct conn *c, const struct sbx_msg *m)
{
        struct sbx_container *ct = sbx_registry_find(&s->reg, m->name);
        bool set = m->type == SBX_MSG_SET;
        struct sbx_msg_builder *b;
        struct pending *p, **tail;
        size_t n = 0;
        int r;

        if (!ct || !may_see(c, ct)) {
                log_notice("refused %s: uid=%u name='%s': not found or not owner",
                           set ? "set" : "stats", c->cred.uid, m->name);
                return sbx_msg_send_error(c->fd, ENOENT, SBX_ERR_NOT_FOUND,
                                          "no such container '%s'", m->name);
        }
        for (tail = &s->pending; *tail; tail = &(*tail)->next) {
                n += (*tail)->ctl_fd == ct->ctl_fd;
                if ((*tail)->conn_id == c->id)
                        n = PENDING_PER_CONTROLLER; /* one request at a time per connection */
        }
        if (n >= PENDING_PER_CONTROLLER)
                return sbx_msg_send_error(c->fd, EBUSY, SBX_ERR_LIMIT,
                                          "too many requests for container '%s', try again",
                                          m->name);
        p = calloc(1, sizeof(*p));
        b = sbx_msg_new(set ? SBX_MSG_CTL_SET : SBX_MSG_CTL_STATS);
        if (!p || !b) {
                free(p);
                sbx_msg_builder_free(b);
                return -ENOMEM;
        }
        if (set)
                (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, m->settings, m->n_settings);
        r = sbx_msg_send(ct->ctl_fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        if (r < 0) {
                free(p);
                return sbx_msg_send_error(c->fd, -r, SBX_ERR_INTERNAL, "cannot reach controller");
        }
        if (set) {
                char e[1024];

                log_notice("set: uid=%u name='%s' settings='%s'%s", c->cred.uid, ct->name,
                           sbx_log_escape(m->settings[0], e, sizeof(e)),
                           m->n_settings > 1 ? " ..." : "");
        }
        p->ctl_fd = ct->ctl_fd;
        p->conn_id = c->id;
        *tail = p;
        return 0;
}

/* A reply from the controller behind CTL_FD: to the connection that asked,
 * verbatim (it was decoded, so it is well-formed), if it is still there. */
static void relay_reply(struct server *s, int ctl_fd, const struct sbx_msg *m)
{
        const struct nlmsghdr *nlh = m->buf;
        struct conn *c;

        for (struct pending **p = &s->pending; *p; p = &(*p)->next) {
                struct pending *q = *p;

                if (q->ctl_fd != ctl_fd)
                        continue;
                *p = q->next;
                c = conn_find_id(s, q->conn_id);
                free(q);
                if (c && sbx_send_fds(c->fd, nlh, nlh->nlmsg_len, NULL, 0) < 0)
                        conn_close(s, c);
                return;
        }
}

/* The controller behind CTL_FD is gone: its pending requests fail. */
static void pending_fail(struct server *s, int ctl_fd)
{
        for (struct pending **p = &s->pending; *p;) {
                struct pending *q = *p;
                struct conn *c;

                if (q->ctl_fd != ctl_fd) {
                        p = &q->next;
                        continue;
                }
                *p = q->next;
                c = conn_find_id(s, q->conn_id);
                if (c)
                        (void) sbx_msg_send_error(c->fd, ESRCH, SBX_ERR_NOT_FOUND,
                                                  "the container exited");
                free(q);
        }
}

static void on_client(struct server *s, int fd)
{
        struct conn *c = conn_find(s, fd);
        int fds[SBX_MAX_FDS];
        size_t n_fds = 0;
        struct sbx_msg m;
        int r;

        if (!c)
                return;
        r = sbx_msg_recv(fd, SBX_CLIENT_MSG_MAX, &m, fds, 3, &n_fds);
        if (r <= 0) {
                if (r < 0)
                        log_info_errno(r, "dropping connection of uid=%u pid=%d: %m", c->cred.uid,
                                       (int) c->cred.pid);
                conn_close(s, c);
                return;
        }
        log_debug("request %s from uid=%u", sbx_strna(sbx_msg_type_to_string(m.type)), c->cred.uid);
        switch (m.type) {
        case SBX_MSG_RUN:
                if (handle_run(s, c, &m, fds, n_fds)) {
                        /* The controller owns the connection now. */
                        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
                        conn_close(s, c);
                } else
                        conn_close(s, c);
                r = 0;
                break;
        case SBX_MSG_LIST:
                r = handle_list(s, c);
                break;
        case SBX_MSG_INFO:
                r = handle_info(s, c, &m);
                break;
        case SBX_MSG_STOP:
                r = handle_stop(s, c, &m);
                break;
        case SBX_MSG_STATS:
        case SBX_MSG_SET:
                r = forward_to_controller(s, c, &m);
                break;
        case SBX_MSG_LOGIN_JOIN:
        case SBX_MSG_LOGIN_CLOSE:
        case SBX_MSG_LOGIN_SESSIONS:
        case SBX_MSG_LOGIN_ENTER:
                r = n_fds == 0 ? sbx_logins_handle(s->logins, c->fd, &c->cred, &m) : -EBADMSG;
                break;
        case SBX_MSG_NETWORK_LIST:
        case SBX_MSG_NETWORK_INFO:
        case SBX_MSG_NETWORK_DESTROY:
                r = sbx_network_ctl(c->fd, c->cred.uid, &s->reg, s->cfg->run_dir,
                                    s->cfg->network_dir, &m);
                break;
        default:
                log_info("dropping connection of uid=%u: unexpected %s", c->cred.uid,
                         sbx_strna(sbx_msg_type_to_string(m.type)));
                conn_close(s, c);
                r = 0;
                break;
        }
        sbx_close_many(fds, n_fds);
        sbx_msg_done(&m);
        if (r < 0 && (c = conn_find(s, fd)))
                conn_close(s, c);
}

/* RUN_DIR/containers/NAME.sock: where a controller waits for a restarted daemon. */
static int state_socket_path(const struct server *s, const char *name, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/containers/%s.sock", s->cfg->run_dir,
                     name) >= (int) sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        return 0;
}

static void container_gone(struct server *s, struct sbx_container *ct)
{
        struct sockaddr_un sa;

        /* A controller killed hard leaves its socket behind. */
        if (state_socket_path(s, ct->name, &sa) >= 0)
                (void) unlink(sa.sun_path);
        /* And its cgroup, unless it said it exited (after removing it itself). */
        if (strcmp(ct->state, "exited") != 0) {
                (void) sbx_cgroup_remove_stale(ct->name);
                /* Its veth, leases, and a network it was the last user of. */
                (void) sbx_network_remove_stale(s->cfg->run_dir, ct->name);
        }
        log_notice("exited: name='%s' uid=%u", ct->name, ct->uid);
        pending_fail(s, ct->ctl_fd);
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, ct->ctl_fd, NULL);
        (void) close(ct->ctl_fd);
        sbx_registry_remove(&s->reg, ct);
}

static void on_ctl(struct server *s, int fd)
{
        struct sbx_container *ct = sbx_registry_find_ctl(&s->reg, fd);
        struct sbx_msg m;
        int r;

        if (!ct)
                return;
        r = sbx_msg_recv(fd, SBX_MSG_MAX, &m, NULL, 0, NULL);
        if (r <= 0) {
                container_gone(s, ct);
                return;
        }
        if (m.type == SBX_MSG_CTL_STATE) {
                if (sbx_msg_has(&m, SBX_A_INIT_PID))
                        ct->init_pid = (pid_t) m.init_pid;
                if (strcmp(m.state, "running") == 0 && strcmp(ct->state, "starting") == 0)
                        (void) snprintf(ct->state, sizeof(ct->state), "running");
                /* Sent after its own clean-up: nothing left for container_gone(). */
                if (strcmp(m.state, "exited") == 0)
                        (void) snprintf(ct->state, sizeof(ct->state), "exited");
        } else if (m.type == SBX_MSG_STATS_REPLY || m.type == SBX_MSG_SET_REPLY ||
                   m.type == SBX_MSG_ERROR)
                relay_reply(s, fd, &m);
        sbx_msg_done(&m);
}

/* After a restart: connects to the controller behind one state socket and
 * registers its container from the state message it sends. Stale sockets (a
 * controller that died with the old daemon) are removed. */
static void rediscover_one(struct server *s, const char *name)
{
        struct epoll_event ev = {.events = EPOLLIN};
        struct pollfd p = {.events = POLLIN};
        struct sockaddr_un sa;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct sbx_container *ct;
        struct sbx_msg m;
        int fd;

        if (!name_valid(name) || sbx_registry_find(&s->reg, name) ||
            state_socket_path(s, name, &sa) < 0)
                return;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                /* Its controller died with the old daemon (a crash, or a kill
                 * of the whole service): what it left in the cgroups goes too. */
                log_info("removing stale %s", sa.sun_path);
                (void) unlink(sa.sun_path);
                (void) close(fd);
                (void) sbx_cgroup_remove_stale(name);
                return;
        }
        /* Only a root controller, and it must answer promptly. */
        p.fd = fd;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0 ||
            poll(&p, 1, 2000) <= 0 || sbx_msg_recv(fd, SBX_MSG_MAX, &m, NULL, 0, NULL) <= 0) {
                log_warning("controller behind %s did not answer, ignoring", sa.sun_path);
                (void) close(fd);
                return;
        }
        if (m.type != SBX_MSG_CTL_STATE || !m.name || strcmp(m.name, name) != 0 || !m.policy ||
            !sbx_msg_has(&m, SBX_A_UID) || m.argc < 1) {
                log_warning("controller behind %s sent a bad state, ignoring", sa.sun_path);
                sbx_msg_done(&m);
                (void) close(fd);
                return;
        }
        ct = sbx_registry_add(&s->reg, m.name, m.policy, m.argv[0], (uid_t) m.uid);
        if (ct) {
                ct->controller_pid = cred.pid;
                ct->init_pid = (pid_t) m.init_pid;
                ct->start_time = m.start_time;
                (void) snprintf(ct->state, sizeof(ct->state), "%s", m.state);
                ct->ctl_fd = fd;
                ev.data.u64 = TAG_CTL | (uint64_t) fd;
                if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        sbx_registry_remove(&s->reg, ct);
                        ct = NULL;
                }
        }
        if (!ct)
                (void) close(fd);
        else
                log_notice("found running container: name='%s' uid=%u controller=%d", m.name, m.uid,
                           (int) cred.pid);
        sbx_msg_done(&m);
}

static void rediscover(struct server *s)
{
        char dir[PATH_MAX];
        DIR *d;
        struct dirent *de;

        (void) snprintf(dir, sizeof(dir), "%s/containers", s->cfg->run_dir);
        d = opendir(dir);
        if (!d)
                return;
        /* readdir_r is deprecated; one DIR stream in one thread is safe. */
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                char name[80];

                if (n <= 5 || n - 5 >= sizeof(name) || strcmp(de->d_name + n - 5, ".sock") != 0)
                        continue;
                memcpy(name, de->d_name, n - 5);
                name[n - 5] = '\0';
                rediscover_one(s, name);
        }
        closedir(d);
}

/* After a crash: veths, leases and networks of containers that are gone.
 * Alive are the registered ones and any whose state socket is still there
 * (rediscover() removed the dead ones; one that did not answer in time may
 * still be running, and must keep its network). */
static void sweep_networks(struct server *s)
{
        cleanup_strv char **live = NULL;
        char dir[PATH_MAX];
        struct dirent *de;
        DIR *d;

        for (struct sbx_container *ct = s->reg.head; ct; ct = ct->next) {
                char *n = strdup(ct->name);

                if (!n || sbx_strv_consume(&live, n) < 0)
                        return;
        }
        (void) snprintf(dir, sizeof(dir), "%s/containers", s->cfg->run_dir);
        d = opendir(dir);
        // cppcheck-suppress readdirCalled
        while (d && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                char *name;

                if (n <= 5 || strcmp(de->d_name + n - 5, ".sock") != 0)
                        continue;
                name = strndup(de->d_name, n - 5);
                if (!name || sbx_strv_consume(&live, name) < 0) {
                        closedir(d);
                        return;
                }
        }
        if (d)
                closedir(d);
        (void) sbx_network_sweep(s->cfg->run_dir, live);
}

static void on_signal(struct server *s)
{
        struct signalfd_siginfo si;

        if (read(s->signal_fd, &si, sizeof(si)) != sizeof(si))
                return;
        if (si.ssi_signo == SIGCHLD) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                return;
        }
        log_notice("got signal %u, exiting (running containers keep running)", si.ssi_signo);
        s->quit = true;
}

static int open_controller(const char *path)
{
        int fd = open(path, O_PATH | O_CLOEXEC);

        if (fd < 0)
                return log_error_errno(sbx_negerrno(), "Cannot open controller '%s': %m", path);
        return fd;
}

static int listen_on(struct server *s)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, r;

        if (snprintf(s->socket_path, sizeof(s->socket_path), "%s/sandboxd.sock", s->cfg->run_dir) >=
            (int) sizeof(s->socket_path))
                return log_error_errno(-ENAMETOOLONG, "Run directory path too long");
        memcpy(sa.sun_path, s->socket_path, sizeof(sa.sun_path));

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(sbx_negerrno(), "socket: %m");
        /* A live daemon answers; a stale socket file does not. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                (void) close(fd);
                return log_error_errno(-EADDRINUSE, "Another sandboxd is serving %s",
                                       s->socket_path);
        }
        (void) unlink(s->socket_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(s->socket_path, 0666) < 0 ||
            listen(fd, 128) < 0) {
                r = log_error_errno(sbx_negerrno(), "Cannot listen on %s: %m", s->socket_path);
                (void) close(fd);
                return r;
        }
        s->listen_fd = fd;
        return 0;
}

static int setup(struct server *s)
{
        struct epoll_event ev = {.events = EPOLLIN};
        sigset_t mask;
        int r;

        s->filters = sbx_seccomp_cache_new();
        if (!s->filters)
                return -ENOMEM;
        /* Every client connection and container costs the daemon an fd: use
         * what the hard limit allows, and keep one back for overload. */
        {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                        rl.rlim_cur = rl.rlim_max;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }
        s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (mkdir(s->cfg->run_dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(sbx_negerrno(), "Cannot create %s: %m", s->cfg->run_dir);
        s->policy_dir_fd = open(s->cfg->policy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->policy_dir_fd < 0)
                return log_error_errno(sbx_negerrno(), "Cannot open policy directory %s: %m",
                                       s->cfg->policy_dir);
        s->controller_fd = open_controller(s->cfg->controller);
        if (s->controller_fd < 0)
                return s->controller_fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) signal(SIGPIPE, SIG_IGN);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return sbx_negerrno();
        s->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->signal_fd < 0)
                return sbx_negerrno();

        /* v2: into a leaf of our cgroup, so it can delegate controllers. */
        (void) sbx_cgroup_daemon_setup();

        r = listen_on(s);
        if (r < 0)
                return r;
        s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s->epoll_fd < 0)
                return sbx_negerrno();
        ev.data.u64 = TAG_LISTEN;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0)
                return sbx_negerrno();
        ev.data.u64 = TAG_SIGNAL;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0)
                return sbx_negerrno();
        {
                struct sbx_logins_config lc = {.epoll_fd = s->epoll_fd,
                                               .tag = TAG_LOGIN,
                                               .policy_dir_fd = s->policy_dir_fd,
                                               .run_dir = s->cfg->run_dir,
                                               .reaper = s->cfg->reaper};

                r = sbx_logins_new(&lc, &s->logins);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sbx_server_run(const struct sbx_server_config *cfg)
{
        struct server s = {.cfg = cfg,
                           .listen_fd = -1,
                           .epoll_fd = -1,
                           .signal_fd = -1,
                           .policy_dir_fd = -1,
                           .reserve_fd = -1,
                           .controller_fd = -1,
                           .spare_fd = -1};
        int r = setup(&s);

        if (r < 0)
                goto out;
        rediscover(&s);
        sweep_networks(&s);
        spare_spawn(&s);
        log_notice("listening on %s, policies from %s", s.socket_path, cfg->policy_dir);
        if (cfg->notify_fd >= 0) {
                (void) sbx_write_all(cfg->notify_fd, "1", 1);
                (void) close(cfg->notify_fd);
        }
        while (!s.quit) {
                struct epoll_event evs[32];
                int n = epoll_wait(s.epoll_fd, evs, (int) ELEMENTSOF(evs), -1);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = log_error_errno(sbx_negerrno(), "epoll_wait: %m");
                        break;
                }
                for (int i = 0; i < n; i++) {
                        uint64_t d = evs[i].data.u64;

                        if (d & TAG_LOGIN)
                                sbx_logins_on_event(s.logins, (int) (d & 0xffffffffu));
                        else if (d == TAG_LISTEN)
                                on_accept(&s);
                        else if (d == TAG_SIGNAL)
                                on_signal(&s);
                        else if (d == TAG_SPARE)
                                spare_gone(&s);
                        else if (d & TAG_CTL)
                                on_ctl(&s, (int) (d & 0xffffffffu));
                        else
                                on_client(&s, (int) d);
                }
        }
out:
        if (s.listen_fd >= 0) {
                (void) unlink(s.socket_path);
                (void) close(s.listen_fd);
        }
        while (s.conns)
                conn_close(&s, s.conns);
        while (s.pending) {
                struct pending *q = s.pending;

                s.pending = q->next;
                free(q);
        }
        s.logins = sbx_logins_free(s.logins);
        while (s.reg.head) {
                (void) close(s.reg.head->ctl_fd);
                sbx_registry_remove(&s.reg, s.reg.head);
        }
        /* The spare sees end of stream and exits. */
        (void) sbx_safe_close(s.spare_fd);
        (void) sbx_safe_close(s.reserve_fd);
        s.filters = sbx_seccomp_cache_free(s.filters);
        (void) sbx_safe_close(s.epoll_fd);
        (void) sbx_safe_close(s.signal_fd);
        (void) sbx_safe_close(s.policy_dir_fd);
        (void) sbx_safe_close(s.controller_fd);
        return r;
}
