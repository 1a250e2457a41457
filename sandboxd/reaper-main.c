/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sandboxd-reaper: PID 1 of a login container. Exec'd by sandboxd (so nothing
 * of the daemon, its fds, argv or memory, is visible inside), as root with an
 * empty capability bounding set and no_new_privs. It only reaps: sessions join
 * the container with setns(), and whatever they leave behind is re-parented
 * here. It exits on SIGTERM; the kernel then kills the rest of the namespace. */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
        sigset_t all;

        /* Blocked signals reach PID 1 even from the parent namespace, and the
         * user's processes (another uid, no capabilities) cannot signal it. */
        (void) sigfillset(&all);
        if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
                return 1;
        /* The user may not ptrace it or read its /proc files. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);

                if (sig == SIGTERM)
                        return 0;
                if (sig == SIGCHLD)
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
        }
}
