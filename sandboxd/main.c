/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#ifndef SBX_VERSION
#define SBX_VERSION "0.1"
#endif

static const char *arg_policy_dir = SBX_POLICY_DIR;
static const char *arg_run_dir = SBX_RUN_DIR;
static const char *arg_network_dir = SBX_NETWORK_DIR;
static const char *arg_controller;
static bool arg_foreground;
static size_t arg_max_per_user = 64;
static size_t arg_max_connections = 256;

static void help(void)
{
        printf("Usage: sandboxd [OPTIONS]\n"
               "\n"
               "The lxsandbox daemon: runs sandboxes for sbx-run and sbxctl clients.\n"
               "\n"
               "  -f, --foreground          stay in the foreground, log to stderr too\n"
               "      --policy-dir DIR      policies (default %s)\n"
               "      --run-dir DIR         socket and runtime state (default %s)\n"
               "      --network-dir DIR     virtual network definitions (default %s)\n"
               "      --controller PATH     the sandboxd-controller binary\n"
               "                            (default: beside sandboxd, else %s)\n"
               "      --max-per-user N      containers one non-root user may run (default 64)\n"
               "      --max-connections N   open connections per non-root user (default 256)\n"
               "      --log-level LEVEL     debug, info, notice, warning, error (default info)\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n",
               SBX_POLICY_DIR, SBX_RUN_DIR, SBX_NETWORK_DIR,
               SBX_LIBEXEC_DIR "/sandboxd-controller");
}

static int parse_count(const char *s, size_t *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v == 0 || v > 100000)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_args(int argc, char **argv)
{
        enum {
                OPT_POLICY_DIR = 256,
                OPT_RUN_DIR,
                OPT_CONTROLLER,
                OPT_LOG,
                OPT_MAX,
                OPT_MAXCONN,
                OPT_VERSION,
                OPT_NETWORK_DIR,
        };
        static const struct option opts[] = {
            {"foreground", no_argument, NULL, 'f'},
            {"policy-dir", required_argument, NULL, OPT_POLICY_DIR},
            {"run-dir", required_argument, NULL, OPT_RUN_DIR},
            {"controller", required_argument, NULL, OPT_CONTROLLER},
            {"log-level", required_argument, NULL, OPT_LOG},
            {"max-per-user", required_argument, NULL, OPT_MAX},
            {"max-connections", required_argument, NULL, OPT_MAXCONN},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {"network-dir", required_argument, NULL, OPT_NETWORK_DIR},
            {}};
        int c, level;

        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        arg_foreground = true;
                        break;
                case OPT_POLICY_DIR:
                        arg_policy_dir = optarg;
                        break;
                case OPT_RUN_DIR:
                        arg_run_dir = optarg;
                        break;
                case OPT_CONTROLLER:
                        arg_controller = optarg;
                        break;
                case OPT_NETWORK_DIR:
                        arg_network_dir = optarg;
                        break;
                case OPT_LOG:
                        level = sbx_log_level_from_string(optarg);
                        if (level < 0) {
                                fprintf(stderr, "sandboxd: unknown log level '%s'\n", optarg);
                                return -EINVAL;
                        }
                        sbx_log_set_level(level);
                        break;
                case OPT_MAX:
                case OPT_MAXCONN:
                        if (parse_count(optarg, c == OPT_MAX ? &arg_max_per_user
                                                             : &arg_max_connections) < 0) {
                                fprintf(stderr, "sandboxd: bad count '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                        help();
                        return 0;
                case OPT_VERSION:
                        printf("sandboxd %s\n", SBX_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "sandboxd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* A helper beside our own binary (build tree), else the installed one. */
static const char *find_helper(const char *name, char *buf, size_t n)
{
        char self[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (len > 0) {
                self[len] = '\0';
                (void) snprintf(buf, n, "%s/%s", dirname(self), name);
                if (access(buf, X_OK) == 0)
                        return buf;
        }
        (void) snprintf(buf, n, "%s/%s", SBX_LIBEXEC_DIR, name);
        return buf;
}

/* Forks into the background; the parent exits only once the child listens (or
 * failed), so "sandboxd && sbx-run ..." never races the socket. */
static int daemonize(int *ret_notify_fd)
{
        int p[2], null;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                char c;

                (void) close(p[1]);
                _exit(read(p[0], &c, 1) == 1 ? 0 : 1);
        }
        (void) close(p[0]);
        if (setsid() < 0)
                return -errno;
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                return -errno;
        for (int fd = 0; fd < 3; fd++)
                (void) dup2(null, fd);
        if (null > 2)
                (void) close(null);
        *ret_notify_fd = p[1];
        return 0;
}

int main(int argc, char **argv)
{
        char controller[PATH_MAX], reaper[PATH_MAX], controller_dir[PATH_MAX + 32];
        struct sbx_server_config cfg = {.notify_fd = -1};
        unsigned targets;
        int r;

        r = parse_args(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (geteuid() != 0) {
                fprintf(stderr, "sandboxd: must run as root\n");
                return 1;
        }
        cfg.policy_dir = arg_policy_dir;
        cfg.run_dir = arg_run_dir;
        cfg.network_dir = arg_network_dir;
        cfg.controller = arg_controller
                             ? arg_controller
                             : find_helper("sandboxd-controller", controller, sizeof(controller));
        /* The reaper lives beside the controller. */
        (void) snprintf(reaper, sizeof(reaper), "%s", cfg.controller);
        (void) snprintf(controller_dir, sizeof(controller_dir), "%s/sandboxd-reaper",
                        dirname(reaper));
        cfg.reaper = access(controller_dir, X_OK) == 0
                         ? controller_dir
                         : find_helper("sandboxd-reaper", reaper, sizeof(reaper));
        cfg.max_per_user = arg_max_per_user;
        cfg.max_connections = arg_max_connections;

        /* Under systemd, stderr already goes to the journal: syslog too would
         * log every line twice. */
        if (!arg_foreground)
                targets = SBX_LOG_SYSLOG;
        else if (getenv("JOURNAL_STREAM"))
                targets = SBX_LOG_STDERR;
        else
                targets = SBX_LOG_STDERR | SBX_LOG_SYSLOG;
        cfg.syslog = targets & SBX_LOG_SYSLOG;
        sbx_log_open("sandboxd", targets);
        if (!arg_foreground) {
                r = daemonize(&cfg.notify_fd);
                if (r < 0) {
                        fprintf(stderr, "sandboxd: cannot daemonize: %s\n", strerror(-r));
                        return 1;
                }
        }
        r = sbx_server_run(&cfg);
        return r < 0 ? 1 : 0;
}
