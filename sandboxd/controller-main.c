/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sandboxd-controller: one per container, started by sandboxd with the daemon
 * socket as fd 3. Not meant to be run by hand. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "controller.h"
#include "log.h"

#define CTL_FD 3

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"log-level", required_argument, NULL, 'l'},
            {"syslog", no_argument, NULL, 's'},
            {"run-dir", required_argument, NULL, 'r'},
            {"network-dir", required_argument, NULL, 'n'},
            {},
        };
        unsigned targets = SBX_LOG_STDERR;
        const char *run_dir = NULL, *network_dir = NULL;
        int level = -1, c;
        struct stat st;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'l':
                        level = sbx_log_level_from_string(optarg);
                        break;
                case 's':
                        targets |= SBX_LOG_SYSLOG;
                        break;
                case 'r':
                        run_dir = optarg;
                        break;
                case 'n':
                        network_dir = optarg;
                        break;
                default:
                        return 2;
                }
        }
        /* Ignored signals survive execve, and the sandbox's init and command
         * inherit ours: reset them all here, once, before any request (the
         * daemon's posix_spawn does too; this does not depend on it). */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        /* The daemon raised its fd limit for its many clients; the sandbox gets
         * the usual soft limit back (select()-based programs break above it). */
        {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 1024) {
                        rl.rlim_cur = 1024;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }
        sbx_log_open("sandboxd-controller", targets);
        if (level >= 0)
                sbx_log_set_level(level);
        if (fstat(CTL_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
                log_error("sandboxd-controller is started by sandboxd, not by hand");
                return 2;
        }
        return sbx_controller_run(CTL_FD, run_dir, network_dir);
}
