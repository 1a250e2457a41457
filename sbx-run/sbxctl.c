/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sbxctl: list, inspect and stop containers; check policy files. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
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
                printf("%-32s %-12s %-12s %-9s %8u  %s  %s\n", m->name, m->policy, user, m->state,
                       m->init_pid, since, m->argc ? m->argv[0] : "");
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
        const char *verb, *args[3] = {};
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
        if (strcmp(verb, "stop") == 0 && n == 1)
                return cmd_stop(args[0]);
        if (strcmp(verb, "policy") == 0 && n == 2 && strcmp(args[0], "check") == 0)
                return cmd_policy_check(args[1]);
        if (strcmp(verb, "policy") == 0 && (n == 1 || n == 2) && strcmp(args[0], "syscalls") == 0)
                return cmd_policy_syscalls(n == 2 ? args[1] : NULL);
        fprintf(stderr, "sbxctl: bad command or arguments: '%s' (try 'sbxctl --help')\n", verb);
        return EXIT_USAGE;
}
