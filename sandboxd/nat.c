/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "nat.h"
#include "net-util.h"

#define NFT_TIMEOUT_MS 10000

static const char *nft_path(void)
{
        static const char *const paths[] = {"/usr/sbin/nft", "/sbin/nft"};

        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (access(paths[i], X_OK) == 0)
                        return paths[i];
        return NULL;
}

/* Runs "nft -f -" with SCRIPT on stdin; its output (errors) in *ret_output. */
static int run_nft(const char *script, char **ret_output)
{
        const char *path = nft_path();
        char *argv[] = {(char *) "nft", (char *) "-f", (char *) "-", NULL};
        char *envp[] = {NULL};
        cleanup_close int in = -1, out = -1;
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;

        if (!path)
                return -ENOENT;
        in = memfd_create("nft-in", MFD_CLOEXEC);
        out = memfd_create("nft-out", MFD_CLOEXEC);
        if (in < 0 || out < 0)
                return sbx_negerrno();
        if (write(in, script, strlen(script)) != (ssize_t) strlen(script) ||
            lseek(in, 0, SEEK_SET) < 0)
                return sbx_negerrno();
        if (posix_spawn_file_actions_init(&fa) != 0)
                return -ENOMEM;
        r = posix_spawn_file_actions_adddup2(&fa, in, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out, 1);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out, 2);
        if (r == 0)
                r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        /* Bounded: the caller holds the networks' lock. */
        for (int waited_ms = 0;; waited_ms++) {
                pid_t p = waitpid(pid, &status, WNOHANG);

                if (p == pid)
                        break;
                if (p < 0 && errno != EINTR)
                        return sbx_negerrno();
                if (waited_ms >= NFT_TIMEOUT_MS) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        return -ETIMEDOUT;
                }
                (void) usleep(1000);
        }
        if (ret_output) {
                char buf[1024];
                ssize_t n = pread(out, buf, sizeof(buf) - 1, 0);

                buf[n > 0 ? n : 0] = '\0';
                /* One line: the first error is what matters. */
                buf[strcspn(buf, "\n")] = '\0';
                *ret_output = strdup(buf);
        }
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

int sbx_nat_apply(const char *network, uint32_t subnet, unsigned prefix, const char *bridge,
                  const char *outbound, char **ret_error)
{
        cleanup_free char *script = NULL, *out = NULL, *oif = NULL;
        char a[16];
        int r;

        if (outbound && asprintf(&oif, "oifname \"%s\" ", outbound) < 0)
                return -ENOMEM;
        /* "table; delete table; table {...}" replaces a stale table atomically. */
        if (asprintf(&script,
                     "table ip lxsandbox-%s\n"
                     "delete table ip lxsandbox-%s\n"
                     "table ip lxsandbox-%s {\n"
                     "  chain postrouting {\n"
                     "    type nat hook postrouting priority srcnat; policy accept;\n"
                     "    ip saddr %s/%u ip daddr != %s/%u oifname != \"%s\" %smasquerade\n"
                     "  }\n"
                     "}\n",
                     network, network, network, sbx_net_ipv4_format(subnet, a, sizeof(a)), prefix,
                     a, prefix, bridge, oif ? oif : "") < 0)
                return -ENOMEM;
        r = run_nft(script, &out);
        if (r < 0) {
                log_debug("nft failed: %s", out ? out : "");
                if (ret_error)
                        *ret_error = TAKE_PTR(out);
        }
        return r;
}

int sbx_nat_exists(const char *network)
{
        cleanup_free char *script = NULL;
        int r;

        if (asprintf(&script, "list table ip lxsandbox-%s\n", network) < 0)
                return -ENOMEM;
        r = run_nft(script, NULL);
        return r == -ENOENT ? r : r >= 0;
}

int sbx_nat_remove(const char *network)
{
        cleanup_free char *script = NULL;

        if (asprintf(&script, "table ip lxsandbox-%s\ndelete table ip lxsandbox-%s\n", network,
                     network) < 0)
                return -ENOMEM;
        return run_nft(script, NULL);
}
