/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_lxsandbox: puts a login session into its user's container.
 *
 * open_session asks sandboxd (LOGIN_JOIN) for the user's container; the daemon
 * creates it or reuses it, moves this process into its cgroup and answers with
 * a pidfd of the container's init. We save our own namespaces, setns() into
 * the container's, and return: every process the login program starts from
 * here on (sshd's user child, the shell, sftp-server) is inside.
 *
 * close_session goes back to the saved namespaces, so what runs after it runs
 * on the host, then tells the daemon (LOGIN_CLOSE), which moves us back out of
 * the container's cgroup. It never waits for the container's teardown. A
 * second line with phase=restore, first in the session stack, restores the
 * namespaces before every other module's close runs.
 *
 * Fails closed: any failure to confine a user some policy matches is
 * PAM_SESSION_ERR, with the reason in syslog. Logging goes to syslog only. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "fd-util.h"
#include "macro.h"
#include "protocol.h"

#ifndef SBX_RUN_DIR
#define SBX_RUN_DIR "/run/lxsandbox"
#endif
#define DEFAULT_SOCKET SBX_RUN_DIR "/sandboxd.sock"
#define DATA_KEY "pam_lxsandbox:saved_ns"
/* Creating a user's container may take a while on a loaded machine. */
#define JOIN_TIMEOUT_SEC 15
#define CLOSE_TIMEOUT_SEC 2
#define JOINABLE                                                                                   \
        (CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP)

struct options {
        const char *socket;
        const char *policy;
        const char *exempt_group;
        bool debug;
        bool restore_phase;
};

/* The namespaces we came from, in the order they are restored: the mount
 * namespace first, so that /proc and the daemon's socket are the host's again. */
static const struct {
        const char *name;
        int flag;
} ns_table[] = {
    {"mnt", CLONE_NEWNS},  {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
    {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}, {"cgroup", CLONE_NEWCGROUP},
};
#define N_NS ELEMENTSOF(ns_table)

struct saved {
        int fds[N_NS];
        int joined; /* CLONE_NEW* joined; restored when 0 */
        char *cwd;
};

static int parse_options(pam_handle_t *h, int argc, const char **argv, struct options *o)
{
        *o = (struct options){.socket = DEFAULT_SOCKET};
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];

                if (strncmp(a, "socket=", 7) == 0 && a[7] == '/')
                        o->socket = a + 7;
                else if (strncmp(a, "policy=", 7) == 0 && a[7])
                        o->policy = a + 7;
                else if (strncmp(a, "exempt_group=", 13) == 0 && a[13])
                        o->exempt_group = a + 13;
                else if (strcmp(a, "debug") == 0)
                        o->debug = true;
                else if (strcmp(a, "phase=restore") == 0)
                        o->restore_phase = true;
                else {
                        pam_syslog(h, LOG_ERR, "unknown or bad option '%s'", a);
                        return -EINVAL;
                }
        }
        if (strlen(o->socket) >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
                pam_syslog(h, LOG_ERR, "socket path too long");
                return -EINVAL;
        }
        return 0;
}

static void saved_free(pam_handle_t *h sbx_unused, void *data, int status sbx_unused)
{
        struct saved *s = data;

        if (!s)
                return;
        for (size_t i = 0; i < N_NS; i++)
                (void) sbx_safe_close(s->fds[i]);
        free(s->cwd);
        free(s);
}

/* Another thread would stay in the host's namespaces (or the join would fail
 * half-way, for the mount namespace). */
static int threads_count(void)
{
        char buf[4096];
        cleanup_close int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        const char *p;
        ssize_t n;

        if (fd < 0)
                return sbx_negerrno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        p = strstr(buf, "\nThreads:");
        return p ? (int) strtol(p + 9, NULL, 10) : -EIO;
}

static bool in_group(const struct passwd *pw, const char *group)
{
        struct group gr, *res = NULL;
        char buf[16384];
        gid_t groups[1024];
        int n = (int) ELEMENTSOF(groups);

        if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || !res)
                return false;
        if (pw->pw_gid == gr.gr_gid)
                return true;
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
                return false;
        for (int i = 0; i < n; i++)
                if (groups[i] == gr.gr_gid)
                        return true;
        return false;
}

static int connect_daemon(const char *path, int timeout_sec)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = timeout_sec};
        cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return sbx_negerrno();
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return sbx_negerrno();
        return TAKE_FD(fd);
}

static int save_namespaces(struct saved *s)
{
        char path[64];

        for (size_t i = 0; i < N_NS; i++) {
                (void) snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_table[i].name);
                s->fds[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (s->fds[i] < 0)
                        return sbx_negerrno();
        }
        return 0;
}

/* Back to the saved namespaces and working directory. Idempotent. */
static int restore(pam_handle_t *h, struct saved *s, bool debug)
{
        int r = 0;

        if (!s->joined)
                return 0;
        for (size_t i = 0; i < N_NS; i++) {
                if (!(s->joined & ns_table[i].flag))
                        continue;
                if (setns(s->fds[i], ns_table[i].flag) < 0) {
                        r = sbx_negerrno();
                        pam_syslog(h, LOG_ERR, "cannot go back to the host's %s namespace: %s",
                                   ns_table[i].name, strerror(-r));
                }
        }
        for (size_t i = 0; i < N_NS; i++)
                s->fds[i] = sbx_safe_close(s->fds[i]);
        /* Joining a mount namespace moved us to its root. */
        if (s->cwd && chdir(s->cwd) < 0 && debug)
                pam_syslog(h, LOG_DEBUG, "cannot change back to '%s'", s->cwd);
        s->joined = 0;
        if (debug && r >= 0)
                pam_syslog(h, LOG_DEBUG, "back in the host's namespaces");
        return r;
}

struct join_result {
        int pidfd;
        int ns_flags;
        char name[80];
};

/* One LOGIN_JOIN round trip. 1: joined (RESULT filled), 0: the user is not
 * confined, -EHOSTDOWN: daemon unreachable, other < 0: refused/bad answer. */
static int ask_daemon(pam_handle_t *h, const struct options *o, const char *user,
                      struct join_result *result)
{
        const void *service = NULL, *tty = NULL, *rhost = NULL;
        struct sbx_msg_builder *b = NULL;
        cleanup_close int fd = -1;
        struct sbx_msg m;
        int fds[1], r;
        size_t n_fds = 0;

        fd = connect_daemon(o->socket, JOIN_TIMEOUT_SEC);
        if (fd < 0) {
                pam_syslog(h, LOG_ERR, "cannot connect to sandboxd at %s: %s", o->socket,
                           strerror(-fd));
                return -EHOSTDOWN;
        }
        (void) pam_get_item(h, PAM_SERVICE, &service);
        (void) pam_get_item(h, PAM_TTY, &tty);
        (void) pam_get_item(h, PAM_RHOST, &rhost);
        b = sbx_msg_new(SBX_MSG_LOGIN_JOIN);
        if (!b)
                return -ENOMEM;
        (void) sbx_msg_put_string(b, SBX_A_USER, user);
        if (o->policy)
                (void) sbx_msg_put_string(b, SBX_A_POLICY, o->policy);
        if (service)
                (void) sbx_msg_put_string(b, SBX_A_SERVICE, service);
        if (tty)
                (void) sbx_msg_put_string(b, SBX_A_TTY, tty);
        if (rhost)
                (void) sbx_msg_put_string(b, SBX_A_RHOST, rhost);
        r = sbx_msg_send(fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        if (r < 0) {
                pam_syslog(h, LOG_ERR, "cannot send to sandboxd: %s", strerror(-r));
                return -EHOSTDOWN;
        }
        r = sbx_msg_recv(fd, SBX_CLIENT_MSG_MAX, &m, fds, 1, &n_fds);
        if (r <= 0) {
                pam_syslog(h, LOG_ERR, "no answer from sandboxd: %s",
                           r == 0 ? "connection closed" : strerror(-r));
                return r == 0 || r == -EAGAIN ? -EHOSTDOWN : r;
        }
        if (m.type == SBX_MSG_ERROR) {
                r = m.errcode == SBX_ERR_NOT_FOUND ? 0 : -(int) (m.err ? m.err : EIO);
                if (r == 0)
                        pam_syslog(h, LOG_NOTICE, "user '%s' is not confined: %s", user,
                                   sbx_strna(m.message));
                else
                        pam_syslog(h, LOG_ERR, "sandboxd refused the session of '%s': %s", user,
                                   sbx_strna(m.message));
                sbx_close_many(fds, n_fds);
                sbx_msg_done(&m);
                return r;
        }
        if (m.type != SBX_MSG_LOGIN_JOINED || n_fds != 1 || (m.ns_flags & ~(uint32_t) JOINABLE) ||
            m.ns_flags == 0) {
                pam_syslog(h, LOG_ERR, "bad answer from sandboxd (%s, %zu fds)",
                           sbx_strna(sbx_msg_type_to_string(m.type)), n_fds);
                sbx_close_many(fds, n_fds);
                sbx_msg_done(&m);
                return -EBADMSG;
        }
        result->pidfd = fds[0];
        result->ns_flags = (int) m.ns_flags;
        (void) snprintf(result->name, sizeof(result->name), "%s", m.name);
        sbx_msg_done(&m);
        return 1;
}

static int open_session(pam_handle_t *h, const struct options *o)
{
        struct passwd pw, *res = NULL;
        struct join_result jr = {.pidfd = -1};
        struct saved *s = NULL;
        const void *data = NULL;
        const char *user = NULL;
        char buf[16384];
        int r, threads;

        if (pam_get_user(h, &user, NULL) != PAM_SUCCESS || !user || !*user) {
                pam_syslog(h, LOG_ERR, "no user name");
                return PAM_SESSION_ERR;
        }
        if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
                pam_syslog(h, LOG_ERR, "no passwd entry for '%s'", user);
                return PAM_SESSION_ERR;
        }
        if (pw.pw_uid == 0) {
                if (o->debug)
                        pam_syslog(h, LOG_DEBUG, "root is never confined");
                return PAM_IGNORE;
        }
        if (pam_get_data(h, DATA_KEY, &data) == PAM_SUCCESS && data) {
                pam_syslog(h, LOG_ERR, "a session is already open in this handle");
                return PAM_SESSION_ERR;
        }
        threads = threads_count();
        if (threads != 1) {
                pam_syslog(h, LOG_ERR, "refusing to confine '%s': the login process has %d threads",
                           user, threads);
                return PAM_SESSION_ERR;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return PAM_BUF_ERR;
        for (size_t i = 0; i < N_NS; i++)
                s->fds[i] = -1;
        s->cwd = getcwd(NULL, 0);
        /* Everything path-based happens before the mount namespace changes. */
        r = save_namespaces(s);
        if (r < 0) {
                pam_syslog(h, LOG_ERR, "cannot open our own namespaces: %s", strerror(-r));
                saved_free(h, s, 0);
                return PAM_SESSION_ERR;
        }

        r = ask_daemon(h, o, user, &jr);
        if (r == -EHOSTDOWN && o->exempt_group && in_group(&pw, o->exempt_group)) {
                pam_syslog(h, LOG_WARNING,
                           "sandboxd is unreachable; '%s' is in group '%s': not confined", user,
                           o->exempt_group);
                saved_free(h, s, 0);
                return PAM_IGNORE;
        }
        if (r <= 0) {
                saved_free(h, s, 0);
                return r == 0 ? PAM_IGNORE : PAM_SESSION_ERR;
        }
        /* One call, atomic: all of the namespaces or none. */
        if (setns(jr.pidfd, jr.ns_flags) < 0) {
                r = sbx_negerrno();
                pam_syslog(h, LOG_ERR, "cannot join container '%s': %s", jr.name, strerror(-r));
                (void) close(jr.pidfd);
                saved_free(h, s, 0);
                /* The daemon ends the session when this process exits. */
                return PAM_SESSION_ERR;
        }
        (void) close(jr.pidfd);
        s->joined = jr.ns_flags;
        /* Inherited by everything the login program starts from here on, and
         * never cleared: no setuid or file-capability exec inside raises
         * privileges. The container shares the host's user namespace, so
         * root inside would be root with every capability, next to the
         * host's kernel. The login program's own setuid() to the user is
         * not an exec and still works. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = sbx_negerrno();
                pam_syslog(h, LOG_ERR, "cannot set no_new_privs: %s", strerror(-r));
                (void) restore(h, s, o->debug);
                saved_free(h, s, 0);
                return PAM_SESSION_ERR;
        }
        if (s->cwd && chdir(s->cwd) < 0 && o->debug)
                pam_syslog(h, LOG_DEBUG, "'%s' does not exist in the container", s->cwd);
        if (pam_set_data(h, DATA_KEY, s, saved_free) != PAM_SUCCESS) {
                (void) restore(h, s, o->debug);
                saved_free(h, s, 0);
                return PAM_SESSION_ERR;
        }
        pam_syslog(h, LOG_INFO, "session of '%s' joined container '%s'", user, jr.name);
        return PAM_SUCCESS;
}

static void send_close(pam_handle_t *h, const struct options *o)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_LOGIN_CLOSE);
        cleanup_close int fd = -1;
        struct sbx_msg m;
        int r = -ENOMEM;

        if (b) {
                fd = connect_daemon(o->socket, CLOSE_TIMEOUT_SEC);
                r = fd < 0 ? fd : sbx_msg_send(fd, b, NULL, 0);
                sbx_msg_builder_free(b);
        }
        /* The daemon acknowledges once it has moved us back out of the
         * container's cgroup; it never waits for the teardown. */
        if (r >= 0)
                r = sbx_msg_recv(fd, SBX_CLIENT_MSG_MAX, &m, NULL, 0, NULL);
        if (r > 0) {
                r = m.type == SBX_MSG_OK ? 0 : -EPROTO;
                sbx_msg_done(&m);
        }
        /* Not fatal: the daemon also ends the session when we exit. */
        if (r < 0)
                pam_syslog(h, LOG_WARNING, "cannot tell sandboxd the session ended: %s",
                           strerror(r == 0 ? EPIPE : -r));
        else if (o->debug)
                pam_syslog(h, LOG_DEBUG, "session closed");
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *h, int flags sbx_unused, int argc,
                                   const char **argv)
{
        struct options o;

        if (parse_options(h, argc, argv, &o) < 0)
                return PAM_SESSION_ERR;
        if (o.restore_phase)
                return PAM_IGNORE;
        return open_session(h, &o);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *h, int flags sbx_unused, int argc,
                                    const char **argv)
{
        const void *data = NULL;
        struct saved *s;
        struct options o;

        if (parse_options(h, argc, argv, &o) < 0)
                return PAM_SESSION_ERR;
        if (pam_get_data(h, DATA_KEY, &data) != PAM_SUCCESS || !data)
                return PAM_IGNORE;
        s = (struct saved *) data;
        (void) restore(h, s, o.debug);
        if (o.restore_phase)
                return PAM_SUCCESS;
        send_close(h, &o);
        /* Done with it: a second close finds nothing. */
        (void) pam_set_data(h, DATA_KEY, NULL, NULL);
        return PAM_SUCCESS;
}
