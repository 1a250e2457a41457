/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sbx-run: run a command in a sandbox made by sandboxd. Unprivileged; it only
 * sends the request, its stdio fds (never a terminal), and relays a PTY. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"
#include "fd-util.h"
#include "macro.h"
#include "protocol.h"

#ifndef SBX_VERSION
#define SBX_VERSION "0.1"
#endif

/* Exit codes of sbx-run's own failures, as env(1) and timeout(1) use them. */
#define EXIT_SBX_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

extern char **environ;

static const char *arg_socket;
static const char *arg_name;

static void help(void)
{
        printf("Usage: sbx-run [OPTIONS] POLICY -- COMMAND [ARGS...]\n"
               "\n"
               "Runs COMMAND as you, in a sandbox built by sandboxd from POLICY.\n"
               "\n"
               "  -n, --name NAME      name the container (default: POLICY-UID-RANDOM)\n"
               "  -s, --socket PATH    sandboxd socket (default: $LXSANDBOX_SOCKET, else %s)\n"
               "  -h, --help           show this help\n"
               "      --version        show the version\n"
               "\n"
               "Exit status: COMMAND's status, or 128+N if it was killed by signal N;\n"
               "125 if sbx-run or sandboxd failed, 126 if COMMAND cannot be executed,\n"
               "127 if COMMAND was not found.\n",
               SBX_DEFAULT_SOCKET);
}

static sbx_noreturn void die(int code, const char *fmt, ...) sbx_printf(2, 3);
static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
        termios_saved = false;
}

static void die(int code, const char *fmt, ...)
{
        va_list ap;

        restore_terminal();
        (void) fputs("sbx-run: ", stderr);
        va_start(ap, fmt);
        (void) vfprintf(stderr, fmt, ap);
        va_end(ap);
        (void) fputc('\n', stderr);
        exit(code);
}

static int parse_args(int argc, char **argv, const char **ret_policy, char ***ret_cmd)
{
        static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                             {"socket", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {}};
        int c;

        /* '+': stop at the policy name, so the command's options stay its own. */
        while ((c = getopt_long(argc, argv, "+n:s:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        arg_name = optarg;
                        break;
                case 's':
                        arg_socket = optarg;
                        break;
                case 'h':
                        help();
                        exit(0);
                case 'V':
                        printf("sbx-run %s\n", SBX_VERSION);
                        exit(0);
                default:
                        fprintf(stderr, "Try 'sbx-run --help'.\n");
                        exit(EXIT_SBX_FAILED);
                }
        }
        if (optind >= argc)
                die(EXIT_SBX_FAILED, "missing POLICY (try 'sbx-run --help')");
        *ret_policy = argv[optind++];
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        if (optind >= argc)
                die(EXIT_SBX_FAILED,
                    "missing COMMAND (usage: sbx-run POLICY -- COMMAND [ARGS...])");
        *ret_cmd = argv + optind;
        return argc - optind;
}

static int send_run(int sock, const char *policy, char **cmd, int n_cmd, unsigned tty)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_RUN);
        char cwd[PATH_MAX];
        int fds[3];
        size_t n_fds = 0, n_env = 0;
        int r;

        if (!b)
                return -ENOMEM;
        (void) sbx_msg_put_string(b, SBX_A_POLICY, policy);
        if (arg_name)
                (void) sbx_msg_put_string(b, SBX_A_NAME, arg_name);
        (void) sbx_msg_put_strv(b, SBX_A_ARGV, (const char *const *) cmd, (size_t) n_cmd);
        while (environ && environ[n_env])
                n_env++;
        (void) sbx_msg_put_strv(b, SBX_A_ENV, (const char *const *) environ, n_env);
        (void) sbx_msg_put_u32(b, SBX_A_FLAGS, tty);
        if (getcwd(cwd, sizeof(cwd)) && cwd[0] == '/')
                (void) sbx_msg_put_string(b, SBX_A_CWD, cwd);
        for (int i = 0; i < 3; i++) {
                struct winsize ws;

                if (!(tty & (1u << i)))
                        fds[n_fds++] = i;
                else if (!(tty & ((1u << i) - 1)) && ioctl(i, TIOCGWINSZ, &ws) == 0)
                        (void) sbx_msg_put_binary(b, SBX_A_WINSIZE, &ws, sizeof(ws));
        }
        r = sbx_msg_send(sock, b, fds, n_fds);
        sbx_msg_builder_free(b);
        return r;
}

struct relay {
        int sock, master, sigfd;
        int out_fd;   /* where the PTY's output goes; -1: discarded */
        bool in_open; /* relaying our stdin into the PTY */
        char inbuf[4096];
        size_t in_len;
        int exit_code; /* -1 until EXITED */
};

static void raw_mode(void)
{
        struct termios t;

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return;
        termios_saved = true;
        t = saved_termios;
        cfmakeraw(&t);
        (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
}

static void copy_winsize(const struct relay *rl)
{
        struct winsize ws;
        int src = rl->in_open ? STDIN_FILENO : rl->out_fd;

        if (rl->master >= 0 && src >= 0 && ioctl(src, TIOCGWINSZ, &ws) == 0)
                (void) ioctl(rl->master, TIOCSWINSZ, &ws);
}

/* Moves what the PTY has to our terminal; false once the PTY is closed. */
static bool pump_master(struct relay *rl)
{
        char buf[8192];
        ssize_t n = read(rl->master, buf, sizeof(buf));

        if (n > 0) {
                if (rl->out_fd >= 0)
                        (void) sbx_write_all(rl->out_fd, buf, (size_t) n);
                return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
        return false; /* EIO: every slave fd is closed */
}

/*
 * Reads the PTY until every slave fd is closed (EIO). By the time the command
 * has exited the sandbox's own slave fds are gone, but one passed to a process
 * outside could keep it open: stop when it stays quiet for DRAIN_QUIET_MS.
 */
#define DRAIN_QUIET_MS 500
static void drain_master(struct relay *rl)
{
        while (rl->master >= 0) {
                struct pollfd p = {.fd = rl->master, .events = POLLIN};
                int r = poll(&p, 1, DRAIN_QUIET_MS);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (!pump_master(rl))
                        rl->master = sbx_safe_close(rl->master);
        }
}

static void on_message(struct relay *rl)
{
        struct sbx_msg m;
        int r = sbx_msg_recv(rl->sock, SBX_MSG_MAX, &m, NULL, 0, NULL);

        if (r <= 0)
                die(EXIT_SBX_FAILED, "lost the connection to the sandbox%s%s", r < 0 ? ": " : "",
                    r < 0 ? strerror(-r) : "");
        if (m.type == SBX_MSG_EXITED)
                rl->exit_code = (int) m.exit_code;
        else if (m.type == SBX_MSG_ERROR) {
                /* Only exec failures arrive after the start; the exit status follows. */
                restore_terminal();
                fprintf(stderr, "sbx-run: %s\n", m.message ? m.message : "command failed");
        }
        sbx_msg_done(&m);
}

static void forward_signal(struct relay *rl, int sig)
{
        struct sbx_msg_builder *b;

        if (sig == SIGWINCH) {
                copy_winsize(rl);
                return;
        }
        b = sbx_msg_new(SBX_MSG_SIGNAL);
        if (!b)
                return;
        (void) sbx_msg_put_u32(b, SBX_A_SIGNAL, (uint32_t) sig);
        (void) sbx_msg_send(rl->sock, b, NULL, 0);
        sbx_msg_builder_free(b);
}

static int relay_loop(struct relay *rl)
{
        while (rl->exit_code < 0) {
                struct pollfd p[4] = {
                    {.fd = rl->sock, .events = POLLIN},
                    {.fd = rl->sigfd, .events = POLLIN},
                    {.fd = rl->master, .events = POLLIN | (rl->in_len ? POLLOUT : 0)},
                    {.fd = rl->in_open && rl->in_len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
                };

                if (poll(p, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        die(EXIT_SBX_FAILED, "poll: %s", strerror(errno));
                }
                if (p[1].revents) {
                        struct signalfd_siginfo si;

                        if (read(rl->sigfd, &si, sizeof(si)) == sizeof(si))
                                forward_signal(rl, (int) si.ssi_signo);
                }
                if (p[2].revents & POLLIN)
                        if (!pump_master(rl))
                                rl->master = sbx_safe_close(rl->master);
                if (rl->master >= 0 && (p[2].revents & POLLOUT) && rl->in_len) {
                        ssize_t n = write(rl->master, rl->inbuf, rl->in_len);

                        if (n > 0) {
                                memmove(rl->inbuf, rl->inbuf + n, rl->in_len - (size_t) n);
                                rl->in_len -= (size_t) n;
                        }
                }
                /* The kernel may report the hang-up of a slave that wrote just
                 * before closing without POLLIN; reads still return that data,
                 * then EIO. */
                if (rl->master >= 0 && (p[2].revents & (POLLHUP | POLLERR)))
                        drain_master(rl);
                if (p[3].revents) {
                        ssize_t n = read(STDIN_FILENO, rl->inbuf, sizeof(rl->inbuf));

                        if (n > 0)
                                rl->in_len = (size_t) n;
                        else if (n == 0 || errno != EINTR)
                                rl->in_open = false;
                }
                if (p[0].revents)
                        on_message(rl);
        }
        /* Output written just before the exit is still in the PTY. */
        drain_master(rl);
        return rl->exit_code;
}

static int wait_started(struct relay *rl)
{
        int fds[1];
        size_t n_fds = 0;
        struct sbx_msg m;
        int r = sbx_msg_recv(rl->sock, SBX_MSG_MAX, &m, fds, 1, &n_fds);

        if (r == 0)
                die(EXIT_SBX_FAILED, "sandboxd closed the connection without an answer");
        if (r < 0)
                die(EXIT_SBX_FAILED, "bad answer from sandboxd: %s", strerror(-r));
        if (m.type == SBX_MSG_ERROR) {
                int code = EXIT_SBX_FAILED;

                if (m.errcode == SBX_ERR_EXEC)
                        code = m.err == ENOENT || m.err == ENOTDIR ? EXIT_NOT_FOUND
                                                                   : EXIT_NOT_EXECUTABLE;
                die(code, "%s", m.message ? m.message : "request failed");
        }
        if (m.type != SBX_MSG_STARTED)
                die(EXIT_SBX_FAILED, "unexpected answer from sandboxd");
        rl->master = n_fds ? fds[0] : -1;
        sbx_msg_done(&m);
        return 0;
}

int main(int argc, char **argv)
{
        struct relay rl = {.sock = -1, .master = -1, .sigfd = -1, .out_fd = -1, .exit_code = -1};
        const char *policy, *path;
        char **cmd;
        unsigned tty = 0;
        sigset_t mask;
        int n_cmd, r;

        n_cmd = parse_args(argc, argv, &policy, &cmd);
        path = sbx_client_socket_path(arg_socket);

        for (int i = 0; i < 3; i++)
                if (isatty(i))
                        tty |= 1u << i;

        /* Signals become messages; block them before anything can arrive. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGUSR2);
        (void) signal(SIGPIPE, SIG_IGN);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (rl.sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
                die(EXIT_SBX_FAILED, "cannot set up signals: %s", strerror(errno));

        rl.sock = sbx_client_connect(path);
        if (rl.sock < 0)
                die(EXIT_SBX_FAILED, "cannot connect to sandboxd at %s: %s%s", path,
                    strerror(-rl.sock),
                    rl.sock == -ENOENT || rl.sock == -ECONNREFUSED ? " (is sandboxd running?)"
                                                                   : "");
        r = send_run(rl.sock, policy, cmd, n_cmd, tty);
        if (r < 0)
                die(EXIT_SBX_FAILED, "cannot send the request to sandboxd: %s%s", strerror(-r),
                    r == -EMSGSIZE ? " (command line or environment too large)" : "");
        wait_started(&rl);

        if (rl.master >= 0) {
                (void) sbx_fd_set_nonblock(rl.master, 1);
                rl.out_fd = (tty & SBX_RUN_TTY_STDOUT)   ? STDOUT_FILENO
                            : (tty & SBX_RUN_TTY_STDERR) ? STDERR_FILENO
                                                         : -1;
                rl.in_open = tty & SBX_RUN_TTY_STDIN;
                if (rl.in_open)
                        raw_mode();
        }
        r = relay_loop(&rl);
        restore_terminal();
        return r;
}
