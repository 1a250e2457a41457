/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The only code that runs between clone() and execve(). It follows the fixed
 * sequence decided by the controller and reports the first failure as
 * {step, errno} on the sync socket. It allocates nothing itself; execvpe()
 * may, which is safe here because the controller is single-threaded. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

#include "caps.h"
#include "fd-util.h"
#include "mount.h"
#include "ns.h"
#include "policy.h"
#include "protocol.h"
#include "sandbox.h"
#include "seccomp.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Signals the init passes on to the command; SIGCHLD is its own. */
const int sbx_forwarded_signals[SBX_N_FORWARDED_SIGNALS] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

/* The command's system call filter, as the controller sent it. Static: the
 * init allocates nothing, and the vforked command reads it from here. */
static struct sock_filter filter_insns[BPF_MAXINSNS];
static struct sock_fprog filter_prog;

static const char *const step_names[SBX_STEP_COUNT] = {
    [SBX_STEP_WAIT_PARENT] = "waiting for the controller",
    [SBX_STEP_CGROUP_NS] = "entering a cgroup namespace",
    [SBX_STEP_MOUNTS] = "setting up mounts",
    [SBX_STEP_HOSTNAME] = "setting the hostname",
    [SBX_STEP_LOOPBACK] = "bringing up lo",
    [SBX_STEP_PTY] = "allocating the terminal",
    [SBX_STEP_SIGNALS] = "setting up signals",
    [SBX_STEP_FORK] = "starting the command",
    [SBX_STEP_SESSION] = "creating a session",
    [SBX_STEP_STDIO] = "setting up standard input/output",
    [SBX_STEP_CREDENTIALS] = "dropping privileges",
    [SBX_STEP_CHDIR] = "changing directory",
    [SBX_STEP_SECCOMP] = "installing the system call filter",
    [SBX_STEP_EXEC] = "executing the command",
    [SBX_STEP_CGROUP_VIEW] = "mounting the cgroup view on /sys/fs/cgroup",
};

const char *sbx_step_to_string(enum sbx_step s)
{
        if ((int) s < 0 || s >= SBX_STEP_COUNT)
                return "unknown step";
        return step_names[s];
}

static void sync_send(int fd, int kind, int step, int err, int value, int pass_fd)
{
        struct sbx_sync rec = {.kind = kind, .step = step, .err = err, .value = value};

        (void) sbx_send_fds(fd, &rec, sizeof(rec), &pass_fd, pass_fd >= 0 ? 1 : 0);
}

static sbx_noreturn void fail(const struct sbx_sandbox *s, enum sbx_step step, int r, int value)
{
        sync_send(s->sync_fd, SBX_SYNC_ERROR, (int) step, r < 0 ? -r : r, value, -1);
        /* The shell's convention: 127 not found, 126 found but not executable. */
        _exit(step == SBX_STEP_EXEC && r != -ENOENT && r != -ENOTDIR ? 126 : 127);
}

/* Moves FD to a number >= 10 so that dup2 onto 0..2 cannot clobber a source. */
static int lift_fd(int fd)
{
        return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static sbx_noreturn void run_command(const struct sbx_sandbox *s, int master, const sigset_t *mask)
{
        int src[3], slave = -1, r;

        /* Every disposition is the default here: the controller reset them all
         * when it started (ignored signals would survive execve). */
        if (sigprocmask(SIG_UNBLOCK, mask, NULL) < 0)
                fail(s, SBX_STEP_SIGNALS, sbx_negerrno(), 0);
        /* A new session: the command can never reach the caller's terminal
         * (TIOCSTI), only the PTY we made, if any. */
        if (setsid() < 0)
                fail(s, SBX_STEP_SESSION, sbx_negerrno(), 0);
        if (master >= 0) {
                slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
                        fail(s, SBX_STEP_PTY, sbx_negerrno(), 0);
        }
        for (int i = 0; i < 3; i++) {
                src[i] = lift_fd((s->tty & (1u << i)) ? slave : s->stdio[i]);
                if (src[i] < 0)
                        fail(s, SBX_STEP_STDIO, -EBADF, i);
        }
        for (int i = 0; i < 3; i++)
                if (dup2(src[i], i) < 0)
                        fail(s, SBX_STEP_STDIO, sbx_negerrno(), i);
        /* Everything else (sync socket included) closes at exec. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                fail(s, SBX_STEP_STDIO, sbx_negerrno(), 0);

        /* As the user, so permissions apply, and only in the sandbox's own view:
         * WorkingDirectory= must exist; else the caller's cwd, home, or /. */
        if (s->workdir) {
                if (chdir(s->workdir) < 0)
                        fail(s, SBX_STEP_CHDIR, sbx_negerrno(), 0);
        } else if ((!s->cwd || chdir(s->cwd) < 0) && chdir(s->user.home) < 0 && chdir("/") < 0)
                fail(s, SBX_STEP_CHDIR, sbx_negerrno(), 0);

        /* execvp searches the PATH of environ, so the sandbox's PATH must be it. */
        environ = s->envp;
        /* Last: the filter (built by the controller) binds only this thread,
         * the command; the init we were vforked from stays unfiltered.
         * no_new_privs is inherited from the init. */
        r = sbx_seccomp_install(&filter_prog);
        if (r < 0)
                fail(s, SBX_STEP_SECCOMP, r, 0);
        execvp(s->argv[0], s->argv);
        fail(s, SBX_STEP_EXEC, sbx_negerrno(), 0);
}

/* vfork: no copy of our page tables and no copy-on-write faults; we wait
 * until the command has exec'd (or failed), which is all we need. The command
 * touches our memory only on its way to execve, and we are single-threaded. */
static int receive_filter(const struct sbx_sandbox *s)
{
        struct sbx_sync hdr;
        struct iovec iov[2] = {
            {.iov_base = &hdr, .iov_len = sizeof(hdr)},
            {.iov_base = filter_insns, .iov_len = sizeof(filter_insns)},
        };
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t n;

        do
                n = recvmsg(s->sync_fd, &mh, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return sbx_negerrno();
        /* End of stream: the controller died; do nothing more. */
        if (n == 0)
                _exit(1);
        if ((size_t) n < sizeof(hdr) || hdr.kind != SBX_SYNC_FILTER || hdr.value <= 0 ||
            hdr.value > BPF_MAXINSNS ||
            (size_t) n != sizeof(hdr) + (size_t) hdr.value * sizeof(struct sock_filter))
                return -EBADMSG;
        filter_prog.len = (unsigned short) hdr.value;
        filter_prog.filter = filter_insns;
        return 0;
}

static pid_t spawn_command(const struct sbx_sandbox *s, int master, const sigset_t *mask)
{
        pid_t pid = vfork(); /* NOLINT(clang-analyzer-security.insecureAPI.vfork): see above */

        if (pid == 0)
                run_command(s, master, mask); /* NOLINT(clang-analyzer-unix.Vfork): ends in exec */
        return pid;
}

static int wait_for_go(const struct sbx_sandbox *s)
{
        struct sbx_sync rec;
        ssize_t n;

        do
                n = recv(s->sync_fd, &rec, sizeof(rec), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return sbx_negerrno();
        /* End of stream: the controller died before we ran; do nothing. */
        if (n != sizeof(rec) || rec.kind != SBX_SYNC_GO)
                _exit(1);
        return 0;
}

/* Closes every fd but KEEP (sorted ascending, -1 entries ignored): nothing the
 * controller holds (client and daemon sockets) may reach the sandbox. */
static int close_all_but(const int *keep, size_t n)
{
        unsigned next = 0;

        for (size_t i = 0; i < n; i++) {
                if (keep[i] < 0 || (unsigned) keep[i] < next)
                        continue;
                if ((unsigned) keep[i] > next && close_range(next, (unsigned) keep[i] - 1, 0) < 0)
                        return sbx_negerrno();
                next = (unsigned) keep[i] + 1;
        }
        if (close_range(next, ~0U, 0) < 0)
                return sbx_negerrno();
        return 0;
}

static int keep_cmp(const void *a, const void *b)
{
        return *(const int *) a - *(const int *) b;
}

static int open_pty(const struct sbx_sandbox *s)
{
        int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

        if (master < 0)
                return sbx_negerrno();
        if (unlockpt(master) < 0 ||
            (s->has_winsize && ioctl(master, TIOCSWINSZ, &s->winsize) < 0)) {
                int r = sbx_negerrno();

                (void) close(master);
                return r;
        }
        return master;
}

/* PID 1: reap everything, pass signals on to the command, report its status. */
static sbx_noreturn void init_loop(const struct sbx_sandbox *s, pid_t cmd, int sfd)
{
        for (;;) {
                struct signalfd_siginfo si;
                ssize_t n = read(sfd, &si, sizeof(si));
                int status;
                pid_t p;

                if (n != sizeof(si))
                        continue;
                if (si.ssi_signo != SIGCHLD) {
                        (void) kill(cmd, (int) si.ssi_signo);
                        continue;
                }
                while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                        if (p == cmd) {
                                sync_send(s->sync_fd, SBX_SYNC_EXIT, 0, 0, status, -1);
                                /* Leaving as PID 1 kills whatever the command left. */
                                _exit(0);
                        }
        }
}

/* Credential changes clear the parent-death signal: set it again, then make
 * sure the controller did not die in between (its end of the sync socket). */
static void rearm_parent_death(const struct sbx_sandbox *s)
{
        struct pollfd p = {.fd = s->sync_fd, .events = 0};

        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                fail(s, SBX_STEP_CREDENTIALS, sbx_negerrno(), 0);
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
                _exit(1);
}

void sbx_child_main(const struct sbx_sandbox *s)
{
        sigset_t mask;
        int master = -1, sfd, failed = -1, r;
        pid_t cmd;

        /* The controller owns us: if it dies, so do we (and with PID 1, everything). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                fail(s, SBX_STEP_WAIT_PARENT, sbx_negerrno(), 0);
        r = wait_for_go(s);
        if (r < 0)
                fail(s, SBX_STEP_WAIT_PARENT, r, 0);
        /* Into the sandbox's cgroup first (v1; on v2 the clone put us there),
         * then make it our root, so the sandbox sees "/" and not the host's
         * paths. */
        r = sbx_cgroup_join_child(s->cgroup_join_fds, s->n_cgroup_join_fds);
        if (r < 0)
                fail(s, SBX_STEP_CGROUP_NS, r, 0);
        if (s->cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
                fail(s, SBX_STEP_CGROUP_NS, sbx_negerrno(), 0);

        int keep[] = {0, 1, 2, s->sync_fd, s->stdio[0], s->stdio[1], s->stdio[2]};
        qsort(keep, ELEMENTSOF(keep), sizeof(int), keep_cmp);
        r = close_all_but(keep, ELEMENTSOF(keep));
        if (r < 0)
                fail(s, SBX_STEP_WAIT_PARENT, r, 0);

        /* As root: the namespaces' contents. */
        if (s->clone_flags & CLONE_NEWNS) {
                r = sbx_mount_apply_child(s->mounts, &failed);
                if (r < 0)
                        fail(s, SBX_STEP_MOUNTS, r, failed);
                /* On the fresh sysfs the plan mounted. */
                r = sbx_cgroup_view_apply_child(&s->cgroup_view, "/sys/fs/cgroup");
                if (r < 0)
                        fail(s, SBX_STEP_CGROUP_VIEW, r, 0);
        }
        if ((s->clone_flags & CLONE_NEWUTS) && s->policy->hostname &&
            sethostname(s->policy->hostname, strlen(s->policy->hostname)) < 0)
                fail(s, SBX_STEP_HOSTNAME, sbx_negerrno(), 0);
        if (s->clone_flags & CLONE_NEWNET) {
                r = sbx_ns_loopback_up();
                if (r < 0)
                        fail(s, SBX_STEP_LOOPBACK, r, 0);
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < SBX_N_FORWARDED_SIGNALS; i++)
                sigaddset(&mask, sbx_forwarded_signals[i]);
        /* Blocked signals reach PID 1 even from the parent namespace, unlike
         * default-handled ones, so the controller can signal us. */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                fail(s, SBX_STEP_SIGNALS, sbx_negerrno(), 0);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                fail(s, SBX_STEP_SIGNALS, sbx_negerrno(), 0);

        /* A fresh, anonymous session keyring: not the controller's (inherited
         * from the daemon), which every sandbox would otherwise possess and
         * share. Joined as root, so it counts against root's key quota. */
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
                fail(s, SBX_STEP_CREDENTIALS, sbx_negerrno(), 0);

        /* From here on the user, with no capabilities: the init and the command
         * alike (the command inherits this). The init has the command's uid so
         * it may signal it; it is not dumpable, so the command can neither
         * ptrace it nor read its /proc files. */
        r = sbx_caps_drop_to_user(s->user.uid, s->user.gid, s->user.groups, s->user.n_groups);
        if (r < 0)
                fail(s, SBX_STEP_CREDENTIALS, r, 0);
        rearm_parent_death(s);
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                fail(s, SBX_STEP_CREDENTIALS, sbx_negerrno(), 0);

        /* Opened as the user, so the terminal belongs to the user. */
        if (s->tty) {
                master = open_pty(s);
                if (master < 0)
                        fail(s, SBX_STEP_PTY, master, 0);
                sync_send(s->sync_fd, SBX_SYNC_PTY, 0, 0, 0, master);
        }

        r = receive_filter(s);
        if (r < 0)
                fail(s, SBX_STEP_SECCOMP, r, 0);
        cmd = spawn_command(s, master, &mask);
        if (cmd < 0)
                fail(s, SBX_STEP_FORK, sbx_negerrno(), 0);

        /* The init keeps only what it needs: the sync socket and the signalfd. */
        for (int fd = 0; fd < 3; fd++) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (null >= 0 && null != fd) {
                        (void) dup2(null, fd);
                        (void) close(null);
                }
        }
        if (master >= 0)
                (void) close(master);
        for (int i = 0; i < 3; i++)
                if (s->stdio[i] > 2)
                        (void) close(s->stdio[i]);

        sync_send(s->sync_fd, SBX_SYNC_READY, 0, 0, (int) cmd, -1);
        init_loop(s, cmd, sfd);
}
