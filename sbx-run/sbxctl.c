/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sbxctl: list, inspect and stop containers; check policy files. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "macro.h"
#include "policy.h"
#include "protocol.h"
#include "seccomp.h"

#ifndef SBX_VERSION
#define SBX_VERSION "0.1"
#endif

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char *arg_socket;
static const char *arg_policy_dir = SBX_POLICY_DIR;
static bool arg_json;

static void help(void)
{
        printf("Usage: sbxctl [OPTIONS] COMMAND ...\n"
               "\n"
               "Commands:\n"
               "  list [--json]                 containers you may see (root: all)\n"
               "  info NAME [--json]            one container\n"
               "  stop NAME                     stop a container (SIGTERM, SIGKILL after 5 s)\n"
               "  stats NAME [--json]           CPU, memory, tasks, I/O (cgroup), network\n"
               "  set NAME KEY=VALUE...         change [Resources] limits of a running container\n"
               "  sessions [USER]               login sessions (pam_lxsandbox) you may see\n"
               "  enter USER -- CMD [ARGS...]   run CMD in USER's login container (root)\n"
               "  network list [--json]         virtual networks: defined and active\n"
               "  network info NAME [--json]    one network, with its leases\n"
               "  network destroy NAME          tear an active network down (root)\n"
               "  policy check FILE|NAME        validate a policy file without a daemon\n"
               "  policy syscalls [GROUP]       system call groups for SystemCallFilter=\n"
               "\n"
               "Options:\n"
               "  -s, --socket PATH    sandboxd socket (default: $LXSANDBOX_SOCKET, else %s)\n"
               "      --policy-dir DIR where 'policy check NAME' looks (default %s)\n"
               "      --json           machine-readable output\n"
               "  -h, --help           show this help\n"
               "      --version        show the version\n"
               "\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n",
               SBX_DEFAULT_SOCKET, SBX_POLICY_DIR);
}

static void json_string(const char *s)
{
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static const char *uid_name(uint32_t uid, char *buf, size_t n)
{
        struct passwd pw, *res = NULL;
        char pwbuf[4096];

        if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0)
                res = NULL;
        (void) snprintf(buf, n, "%s", res ? res->pw_name : "?");
        return buf;
}

static int connect_daemon(void)
{
        const char *path = sbx_client_socket_path(arg_socket);
        int fd = sbx_client_connect(path);

        if (fd < 0) {
                fprintf(stderr, "sbxctl: cannot connect to sandboxd at %s: %s%s\n", path,
                        strerror(-fd),
                        fd == -ENOENT || fd == -ECONNREFUSED ? " (is sandboxd running?)" : "");
                return -1;
        }
        return fd;
}

static int request(int fd, enum sbx_msg_type type, const char *name)
{
        struct sbx_msg_builder *b = sbx_msg_new(type);
        int r;

        if (!b)
                return -ENOMEM;
        if (name)
                (void) sbx_msg_put_string(b, SBX_A_NAME, name);
        r = sbx_msg_send(fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        return r;
}

static void print_container(const struct sbx_msg *m, bool first)
{
        char user[64];

        uid_name(m->uid, user, sizeof(user));
        if (!arg_json) {
                char since[32] = "-";
                time_t t = (time_t) m->start_time;
                struct tm tm;

                if (localtime_r(&t, &tm))
                        (void) strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
                if (sbx_msg_has(m, SBX_A_SESSIONS))
                        printf("%-32s %-12s %-12s %-9s %8u  %s  (login: %u session%s)\n", m->name,
                               m->policy, sbx_strna(m->user), m->state, m->init_pid, since,
                               m->sessions, m->sessions == 1 ? "" : "s");
                else
                        printf("%-32s %-12s %-12s %-9s %8u  %s  %s\n", m->name, m->policy, user,
                               m->state, m->init_pid, since, m->argc ? m->argv[0] : "");
                return;
        }
        printf("%s{\"name\":", first ? "" : ",");
        json_string(m->name);
        printf(",\"policy\":");
        json_string(m->policy);
        printf(",\"uid\":%u,\"user\":", m->uid);
        json_string(user);
        printf(",\"state\":");
        json_string(m->state);
        printf(",\"controller_pid\":%u,\"init_pid\":%u,\"start_time\":%llu,\"command\":",
               m->controller_pid, m->init_pid, (unsigned long long) m->start_time);
        json_string(m->argc ? m->argv[0] : "");
        if (sbx_msg_has(m, SBX_A_SESSIONS))
                printf(",\"login\":true,\"sessions\":%u", m->sessions);
        printf("}");
}

/* Reads CONTAINER messages until OK; prints them. Returns count or -1. */
static int read_containers(int fd, bool as_array)
{
        int n = 0;

        if (as_array && arg_json)
                printf("[");
        else if (!arg_json)
                printf("%-32s %-12s %-12s %-9s %8s  %-19s  %s\n", "NAME", "POLICY", "USER", "STATE",
                       "PID", "STARTED", "COMMAND");
        for (;;) {
                struct sbx_msg m;
                int r = sbx_msg_recv(fd, SBX_MSG_MAX, &m, NULL, 0, NULL);

                if (r <= 0) {
                        fprintf(stderr, "sbxctl: lost the connection to sandboxd\n");
                        return -1;
                }
                if (m.type == SBX_MSG_OK) {
                        sbx_msg_done(&m);
                        break;
                }
                if (m.type == SBX_MSG_ERROR) {
                        fprintf(stderr, "sbxctl: %s\n", m.message ? m.message : "failed");
                        sbx_msg_done(&m);
                        return -1;
                }
                if (m.type == SBX_MSG_CONTAINER)
                        print_container(&m, n++ == 0);
                sbx_msg_done(&m);
        }
        if (as_array && arg_json)
                printf("]");
        if (arg_json)
                printf("\n");
        return n;
}

static int cmd_list(void)
{
        cleanup_close int fd = connect_daemon();

        if (fd < 0 || request(fd, SBX_MSG_LIST, NULL) < 0)
                return EXIT_FAIL;
        return read_containers(fd, true) < 0 ? EXIT_FAIL : 0;
}

static int cmd_info(const char *name)
{
        cleanup_close int fd = connect_daemon();

        if (fd < 0 || request(fd, SBX_MSG_INFO, name) < 0)
                return EXIT_FAIL;
        return read_containers(fd, false) <= 0 ? EXIT_FAIL : 0;
}

static int cmd_stop(const char *name)
{
        cleanup_close int fd = connect_daemon();
        struct sbx_msg m;
        int r;

        if (fd < 0 || request(fd, SBX_MSG_STOP, name) < 0)
                return EXIT_FAIL;
        r = sbx_msg_recv(fd, SBX_MSG_MAX, &m, NULL, 0, NULL);
        if (r <= 0) {
                fprintf(stderr, "sbxctl: lost the connection to sandboxd\n");
                return EXIT_FAIL;
        }
        r = m.type == SBX_MSG_OK ? 0 : EXIT_FAIL;
        if (m.type == SBX_MSG_ERROR)
                fprintf(stderr, "sbxctl: %s\n", m.message ? m.message : "failed");
        sbx_msg_done(&m);
        return r;
}

static int cmd_sessions(const char *user)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_LOGIN_SESSIONS);
        cleanup_close int fd = connect_daemon();
        int r = fd < 0 || !b ? -1 : 0;

        if (r == 0 && user)
                (void) sbx_msg_put_string(b, SBX_A_USER, user);
        if (r == 0)
                r = sbx_msg_send(fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        if (r < 0)
                return EXIT_FAIL;
        printf("%-16s %8s %-10s %-12s %-20s %-19s %s\n", "USER", "PID", "SERVICE", "TTY", "RHOST",
               "STARTED", "CONTAINER");
        for (;;) {
                char since[32] = "-", e1[1024], e2[1024], e3[1024];
                struct sbx_msg m;
                struct tm tm;
                time_t t;

                r = sbx_msg_recv(fd, SBX_MSG_MAX, &m, NULL, 0, NULL);
                if (r <= 0) {
                        fprintf(stderr, "sbxctl: lost the connection to sandboxd\n");
                        return EXIT_FAIL;
                }
                if (m.type != SBX_MSG_LOGIN_SESSION) {
                        r = m.type == SBX_MSG_OK ? 0 : EXIT_FAIL;
                        if (m.type == SBX_MSG_ERROR)
                                fprintf(stderr, "sbxctl: %s\n", sbx_strna(m.message));
                        sbx_msg_done(&m);
                        return r;
                }
                t = (time_t) m.start_time;
                if (localtime_r(&t, &tm))
                        (void) strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
                /* The login program's PAM items (a remote host name, say):
                 * no control characters reach the terminal. */
                printf("%-16s %8u %-10s %-12s %-20s %-19s %s\n", m.user, m.peer_pid,
                       sbx_log_escape(m.service ? m.service : "-", e1, sizeof(e1)),
                       sbx_log_escape(m.tty ? m.tty : "-", e2, sizeof(e2)),
                       sbx_log_escape(m.rhost ? m.rhost : "-", e3, sizeof(e3)), since, m.name);
                sbx_msg_done(&m);
        }
}

/* Runs ARGV inside USER's login container: the daemon moves us into its
 * cgroup and hands over its init's pidfd; the command is our child, so it is
 * in the container's PID namespace too. */
static int cmd_enter(const char *user, char **argv)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_LOGIN_ENTER);
        cleanup_close int fd = -1;
        struct sbx_msg m;
        int pidfd = -1, status, r;
        size_t n_fds = 0;
        pid_t pid;

        if (geteuid() != 0) {
                sbx_msg_builder_free(b);
                fprintf(stderr, "sbxctl: enter is for root only\n");
                return EXIT_FAIL;
        }
        fd = connect_daemon();
        r = fd < 0 || !b ? -1 : sbx_msg_put_string(b, SBX_A_USER, user);
        if (r >= 0)
                r = sbx_msg_send(fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        if (r < 0)
                return EXIT_FAIL;
        r = sbx_msg_recv(fd, SBX_MSG_MAX, &m, &pidfd, 1, &n_fds);
        if (r <= 0) {
                fprintf(stderr, "sbxctl: lost the connection to sandboxd\n");
                return EXIT_FAIL;
        }
        if (m.type != SBX_MSG_LOGIN_JOINED || n_fds != 1) {
                fprintf(stderr, "sbxctl: %s\n",
                        m.type == SBX_MSG_ERROR ? sbx_strna(m.message)
                                                : "bad answer from sandboxd");
                if (n_fds)
                        (void) close(pidfd);
                sbx_msg_done(&m);
                return EXIT_FAIL;
        }
        r = setns(pidfd, (int) m.ns_flags);
        (void) close(pidfd);
        sbx_msg_done(&m);
        if (r < 0) {
                fprintf(stderr, "sbxctl: cannot join the container: %m\n");
                return EXIT_FAIL;
        }
        /* The command must not inherit the daemon connection. */
        sbx_closep(&fd);
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "sbxctl: fork: %m\n");
                return EXIT_FAIL;
        }
        if (pid == 0) {
                execvp(argv[0], argv);
                fprintf(stderr, "sbxctl: cannot execute '%s': %m\n", argv[0]);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return EXIT_FAIL;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The reply to STATS or SET, relayed by the daemon from the container's
 * controller; a controller that hangs costs us at most 10 s. */
static int recv_reply(int fd, struct sbx_msg *ret)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 10000);

        if (r == 0) {
                fprintf(stderr, "sbxctl: no answer from the container's controller\n");
                return -1;
        }
        r = r < 0 ? -errno : sbx_msg_recv(fd, SBX_MSG_MAX, ret, NULL, 0, NULL);
        if (r <= 0) {
                fprintf(stderr, "sbxctl: lost the connection to sandboxd\n");
                return -1;
        }
        if (ret->type == SBX_MSG_ERROR) {
                fprintf(stderr, "sbxctl: %s\n", ret->message ? ret->message : "failed");
                sbx_msg_done(ret);
                return -1;
        }
        return 0;
}

/* 1536 -> "1.5K" (powers of 1024, as the policy sizes). */
static const char *human_bytes(uint64_t v, char *buf, size_t n)
{
        static const char units[] = "KMGTPE";
        double d = (double) v;
        int u = -1;

        if (v == UINT64_MAX)
                return "infinity";
        while (d >= 1024.0 && u < 5) {
                d /= 1024.0;
                u++;
        }
        if (u < 0)
                (void) snprintf(buf, n, "%" PRIu64 "B", v);
        else
                (void) snprintf(buf, n, "%.1f%c", d, units[u]);
        return buf;
}

static void json_u64_or_null(const char *key, uint64_t v, bool have)
{
        if (have && v != UINT64_MAX)
                printf("\"%s\":%" PRIu64, key, v);
        else
                printf("\"%s\":null", key);
}

static void print_stats_json(const char *name, const struct sbx_msg *m)
{
        const struct sbx_wire_stats *st = &m->stats;

        printf("{\"name\":");
        json_string(name);
        printf(",\"cgroup_version\":%u,\"cpu\":", st->cgroup_version);
        if (st->have & SBX_STATS_HAVE_CPU) {
                printf("{\"usage_ns\":%" PRIu64 ",\"percpu_ns\":", st->cpu_usage_ns);
                if (m->n_percpu) {
                        for (size_t i = 0; i < m->n_percpu; i++)
                                printf("%s%" PRIu64, i ? "," : "[", m->percpu[i]);
                        printf("]}");
                } else
                        printf("null}");
        } else
                printf("null");
        printf(",\"memory\":");
        if (st->have & SBX_STATS_HAVE_MEMORY) {
                printf("{\"current\":%" PRIu64 ",", st->memory_current);
                json_u64_or_null("peak", st->memory_peak, st->have & SBX_STATS_HAVE_PEAK);
                putchar(',');
                json_u64_or_null("max", st->memory_max, true);
                printf(",\"oom_kills\":%" PRIu64 "}", st->oom_kills);
        } else
                printf("null");
        printf(",\"tasks\":");
        if (st->have & SBX_STATS_HAVE_TASKS) {
                printf("{\"current\":%" PRIu64 ",", st->tasks_current);
                json_u64_or_null("max", st->tasks_max, true);
                putchar('}');
        } else
                printf("null");
        printf(",\"io\":");
        if (st->have & SBX_STATS_HAVE_IO)
                printf("{\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 "}",
                       st->io_read_bytes, st->io_write_bytes);
        else
                printf("null");
        printf(",\"network\":");
        if (sbx_msg_has(m, SBX_A_NET_STATS))
                printf("{\"rx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
                       ",\"tx_packets\":%" PRIu64 "}",
                       m->net_stats.rx_bytes, m->net_stats.rx_packets, m->net_stats.tx_bytes,
                       m->net_stats.tx_packets);
        else
                printf("null");
        printf("}\n");
}

static void print_net_stats(const struct sbx_msg *m)
{
        char a[32], b[32];

        if (!sbx_msg_has(m, SBX_A_NET_STATS)) {
                printf("Network:   unavailable (no veth: Mode=none or host)\n");
                return;
        }
        printf("Network:   %s received (%" PRIu64 " packets), %s sent (%" PRIu64 " packets)\n",
               human_bytes(m->net_stats.rx_bytes, a, sizeof(a)), m->net_stats.rx_packets,
               human_bytes(m->net_stats.tx_bytes, b, sizeof(b)), m->net_stats.tx_packets);
}

static void print_stats(const char *name, const struct sbx_msg *m)
{
        const struct sbx_wire_stats *st = &m->stats;
        char a[32], b[32], c[32];

        if (!sbx_msg_has(m, SBX_A_STATS)) {
                printf("Container: %s (no cgroup: the policy sets no [Resources] limits)\n", name);
                print_net_stats(m);
                return;
        }
        printf("Container: %s (cgroup v%u)\n", name, st->cgroup_version);
        if (st->have & SBX_STATS_HAVE_CPU) {
                printf("CPU:       %.3fs\n", (double) st->cpu_usage_ns / 1e9);
                if (m->n_percpu) {
                        printf("  per-CPU:");
                        for (size_t i = 0; i < m->n_percpu; i++)
                                printf(" cpu%zu=%.3fs", i, (double) m->percpu[i] / 1e9);
                        printf("\n");
                } else if (st->cgroup_version == 2)
                        printf("  per-CPU: unavailable on cgroup v2\n");
        } else
                printf(
                    "CPU:       unavailable (no CPU accounting: the policy sets no CPU limit)\n");
        if (st->have & SBX_STATS_HAVE_MEMORY)
                printf("Memory:    %s current, %s peak, limit %s, %" PRIu64 " OOM kills\n",
                       human_bytes(st->memory_current, a, sizeof(a)),
                       st->have & SBX_STATS_HAVE_PEAK ? human_bytes(st->memory_peak, b, sizeof(b))
                                                      : "unknown",
                       human_bytes(st->memory_max, c, sizeof(c)), st->oom_kills);
        else
                printf("Memory:    unavailable (no memory cgroup: the policy sets no memory "
                       "limit)\n");
        if (st->have & SBX_STATS_HAVE_TASKS) {
                if (st->tasks_max == UINT64_MAX)
                        printf("Tasks:     %" PRIu64 " (limit infinity)\n", st->tasks_current);
                else
                        printf("Tasks:     %" PRIu64 " (limit %" PRIu64 ")\n", st->tasks_current,
                               st->tasks_max);
        } else
                printf("Tasks:     unavailable (no pids cgroup: the policy sets no TasksMax)\n");
        if (st->have & SBX_STATS_HAVE_IO)
                printf("I/O:       %s read, %s written\n",
                       human_bytes(st->io_read_bytes, a, sizeof(a)),
                       human_bytes(st->io_write_bytes, b, sizeof(b)));
        else
                printf("I/O:       unavailable (no I/O accounting: the policy sets no I/O "
                       "limit)\n");
        print_net_stats(m);
}

static int cmd_stats(const char *name)
{
        cleanup_close int fd = connect_daemon();
        struct sbx_msg m = {};

        if (fd < 0 || request(fd, SBX_MSG_STATS, name) < 0 || recv_reply(fd, &m) < 0)
                return EXIT_FAIL;
        if (m.type != SBX_MSG_STATS_REPLY) {
                fprintf(stderr, "sbxctl: unexpected reply from sandboxd\n");
                sbx_msg_done(&m);
                return EXIT_FAIL;
        }
        if (arg_json)
                print_stats_json(name, &m);
        else
                print_stats(name, &m);
        sbx_msg_done(&m);
        return 0;
}

static void print_network(const struct sbx_msg *m, bool first)
{
        if (!arg_json) {
                printf("%s%s\n", first ? "" : "\n", m->name);
                for (size_t i = 0; i < m->n_settings; i++)
                        printf("  %s\n", m->settings[i]);
                return;
        }
        printf("%s{\"name\":", first ? "" : ",");
        json_string(m->name);
        printf(",\"leases\":[");
        for (size_t i = 0, k = 0; i < m->n_settings; i++) {
                const char *l = m->settings[i], *sp = strchr(l, ' ');

                if (strncmp(l, "Lease=", 6) != 0 || !sp)
                        continue;
                printf("%s{\"address\":\"%.*s\",\"container\":", k++ ? "," : "",
                       (int) (sp - (l + 6)), l + 6);
                json_string(sp + 1);
                printf("}");
        }
        printf("]");
        for (size_t i = 0; i < m->n_settings; i++) {
                const char *eq = strchr(m->settings[i], '=');

                if (!eq || strncmp(m->settings[i], "Lease=", 6) == 0)
                        continue;
                printf(",\"%.*s\":", (int) (eq - m->settings[i]), m->settings[i]);
                json_string(eq + 1);
        }
        printf("}");
}

/* network list|info|destroy: NETWORK replies until OK. */
static int cmd_network(const char *what, const char *name)
{
        enum sbx_msg_type t = strcmp(what, "list") == 0   ? SBX_MSG_NETWORK_LIST
                              : strcmp(what, "info") == 0 ? SBX_MSG_NETWORK_INFO
                                                          : SBX_MSG_NETWORK_DESTROY;
        cleanup_close int fd = connect_daemon();
        int n = 0, r = 0;

        if (fd < 0 || request(fd, t, name) < 0)
                return EXIT_FAIL;
        if (arg_json && t == SBX_MSG_NETWORK_LIST)
                printf("[");
        for (bool done = false; !done;) {
                struct sbx_msg m;

                if (sbx_msg_recv(fd, SBX_MSG_MAX, &m, NULL, 0, NULL) <= 0) {
                        fprintf(stderr, "sbxctl: lost the connection to sandboxd\n");
                        return EXIT_FAIL;
                }
                done = m.type != SBX_MSG_NETWORK;
                if (m.type == SBX_MSG_NETWORK)
                        print_network(&m, n++ == 0);
                else if (m.type == SBX_MSG_ERROR) {
                        fprintf(stderr, "sbxctl: %s\n", m.message ? m.message : "failed");
                        r = EXIT_FAIL;
                }
                sbx_msg_done(&m);
        }
        if (arg_json && t == SBX_MSG_NETWORK_LIST)
                printf("]");
        if (arg_json && (t == SBX_MSG_NETWORK_LIST || n > 0))
                printf("\n");
        return r;
}

static int cmd_set(const char *name, const char *const *settings, size_t n)
{
        cleanup_close int fd = connect_daemon();
        struct sbx_msg_builder *b;
        struct sbx_msg m = {};
        int r;

        for (size_t i = 0; i < n; i++)
                if (!strchr(settings[i], '=')) {
                        fprintf(stderr, "sbxctl: expected KEY=VALUE, got '%s'\n", settings[i]);
                        return EXIT_USAGE;
                }
        if (fd < 0)
                return EXIT_FAIL;
        b = sbx_msg_new(SBX_MSG_SET);
        if (!b)
                return EXIT_FAIL;
        (void) sbx_msg_put_string(b, SBX_A_NAME, name);
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, settings, n);
        r = sbx_msg_send(fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        if (r < 0 || recv_reply(fd, &m) < 0)
                return EXIT_FAIL;
        if (m.type != SBX_MSG_SET_REPLY) {
                fprintf(stderr, "sbxctl: unexpected reply from sandboxd\n");
                sbx_msg_done(&m);
                return EXIT_FAIL;
        }
        for (size_t i = 0; i < m.n_settings; i++)
                printf("%s: changed %s\n", name, m.settings[i]);
        sbx_msg_done(&m);
        return 0;
}

static int cmd_policy_check(const char *what)
{
        cleanup_(sbx_policy_freep) struct sbx_policy *p = NULL;
        cleanup_free char *err = NULL;
        int r;

        /* A bare name means a policy in the policy directory. */
        if (strchr(what, '/') || strstr(what, ".ini"))
                r = sbx_policy_load_path(what, &p, &err);
        else if (!sbx_policy_name_valid(what)) {
                fprintf(stderr, "sbxctl: '%s' is not a valid policy name\n", what);
                return EXIT_FAIL;
        } else {
                cleanup_close int dir = open(arg_policy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (dir < 0) {
                        fprintf(stderr, "sbxctl: cannot open %s: %s\n", arg_policy_dir,
                                strerror(errno));
                        return EXIT_FAIL;
                }
                r = sbx_policy_load(dir, what, &p, &err);
        }
        if (r < 0) {
                if (err)
                        fprintf(stderr, "%s\n", err);
                else
                        fprintf(stderr, "sbxctl: %s: %s\n", what, strerror(-r));
                return EXIT_FAIL;
        }
        printf("%s: OK\n", what);
        return 0;
}

static void print_group(const struct sbx_seccomp_group *g)
{
        printf("%s\n    # %s\n", g->name, g->description);
        for (size_t j = 0; g->members[j]; j++)
                printf("    %s\n", g->members[j]);
}

/* Without GROUP: every group and its members (nested groups by name). With
 * GROUP ("@mount" or "mount"): its members, then everything it expands to. */
static int cmd_policy_syscalls(const char *group)
{
        const struct sbx_seccomp_group *g;
        cleanup_strv char **all = NULL;
        cleanup_free char *name = NULL;
        char *words[2] = {};
        size_t n = 0;

        if (!group) {
                for (size_t i = 0; i < sbx_seccomp_group_count(); i++) {
                        if (i > 0)
                                putchar('\n');
                        print_group(sbx_seccomp_group_get(i));
                }
                return 0;
        }
        if (asprintf(&name, "%s%s", group[0] == '@' ? "" : "@", group) < 0)
                return EXIT_FAIL;
        g = sbx_seccomp_group_find(name);
        if (!g) {
                fprintf(stderr,
                        "sbxctl: unknown system call group '%s' ('sbxctl policy syscalls' lists "
                        "them)\n",
                        group);
                return EXIT_FAIL;
        }
        print_group(g);
        words[0] = name;
        if (sbx_seccomp_expand(words, &all) < 0)
                return EXIT_FAIL;
        while (all[n])
                n++;
        printf("    # expands to %zu entries:\n", n);
        for (size_t i = 0; i < n; i++)
                printf("    %s\n", all[i]);
        return 0;
}

int main(int argc, char **argv)
{
        enum { OPT_POLICY_DIR = 256, OPT_JSON, OPT_VERSION };
        static const struct option opts[] = {
            {"socket", required_argument, NULL, 's'},
            {"policy-dir", required_argument, NULL, OPT_POLICY_DIR},
            {"json", no_argument, NULL, OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {}};
        const char *verb, *args[2 + SBX_SETTINGS_MAX] = {};
        int c, n = 0;

        /* Options may come anywhere (sbxctl list --json). */
        while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        arg_socket = optarg;
                        break;
                case OPT_POLICY_DIR:
                        arg_policy_dir = optarg;
                        break;
                case OPT_JSON:
                        arg_json = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case OPT_VERSION:
                        printf("sbxctl %s\n", SBX_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'sbxctl --help'.\n");
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "sbxctl: missing command (try 'sbxctl --help')\n");
                return EXIT_USAGE;
        }
        verb = argv[optind++];
        /* enter USER -- CMD ARGS...: the command line is taken as it is. */
        if (strcmp(verb, "enter") == 0) {
                if (argc - optind < 2) {
                        fprintf(stderr, "sbxctl: usage: sbxctl enter USER -- CMD [ARGS...]\n");
                        return EXIT_USAGE;
                }
                return cmd_enter(argv[optind], argv + optind + 1);
        }
        for (; optind < argc; optind++) {
                if (n == (int) ELEMENTSOF(args)) {
                        fprintf(stderr, "sbxctl: too many arguments\n");
                        return EXIT_USAGE;
                }
                args[n++] = argv[optind];
        }

        if (strcmp(verb, "list") == 0 && n == 0)
                return cmd_list();
        if (strcmp(verb, "info") == 0 && n == 1)
                return cmd_info(args[0]);
        if (strcmp(verb, "sessions") == 0 && n <= 1)
                return cmd_sessions(n == 1 ? args[0] : NULL);
        if (strcmp(verb, "stop") == 0 && n == 1)
                return cmd_stop(args[0]);
        if (strcmp(verb, "stats") == 0 && n == 1)
                return cmd_stats(args[0]);
        if (strcmp(verb, "set") == 0 && n >= 2)
                return cmd_set(args[0], args + 1, (size_t) n - 1);
        if (strcmp(verb, "network") == 0 && n == 1 && strcmp(args[0], "list") == 0)
                return cmd_network(args[0], NULL);
        if (strcmp(verb, "network") == 0 && n == 2 &&
            (strcmp(args[0], "info") == 0 || strcmp(args[0], "destroy") == 0))
                return cmd_network(args[0], args[1]);
        if (strcmp(verb, "policy") == 0 && n == 2 && strcmp(args[0], "check") == 0)
                return cmd_policy_check(args[1]);
        if (strcmp(verb, "policy") == 0 && (n == 1 || n == 2) && strcmp(args[0], "syscalls") == 0)
                return cmd_policy_syscalls(n == 2 ? args[1] : NULL);
        fprintf(stderr, "sbxctl: bad command or arguments: '%s' (try 'sbxctl --help')\n", verb);
        return EXIT_USAGE;
}
