/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_lxsandbox.so against a fake sandboxd, through pam_start_confdir() and a
 * service file naming the built module: options, the return code of every
 * failure, the join and the restore (in a user namespace of our own, so no
 * root is needed), and the exported symbols. The fake daemon is a forked
 * process: the module refuses to run in a multi-threaded caller. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <security/pam_appl.h>

#include "fd-util.h"
#include "macro.h"
#include "protocol.h"

/* libpam's answer when every module of the stack returned PAM_IGNORE (the
 * test stacks hold only this module): what "not confined" looks like here. */
#define MODULE_IGNORED PAM_PERM_DENIED

static char so_path[PATH_MAX];
static char dir[64];
static char sock_path[96];

/* What the fake daemon answers to a LOGIN_JOIN. */
enum reply {
        REPLY_NOT_FOUND,
        REPLY_DENIED,
        REPLY_JOINED_NO_FD,
        REPLY_JOINED_BAD_FLAGS,
        REPLY_GARBAGE,
        REPLY_HANG_UP,
        REPLY_JOINED, /* pidfd of HOLDER, flags uts|ipc|net|mnt */
};

struct fake {
        pid_t pid;
        int report_fd; /* what it saw, one line per request */
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        (void) n;
        (void) msg;
        (void) resp;
        (void) data;
        return PAM_CONV_ERR;
}

static void write_service(const char *lines)
{
        char path[PATH_MAX + 32];
        FILE *f;

        (void) snprintf(path, sizeof(path), "%s/lxsbx-test", dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(lines, f);
        assert_int_equal(fclose(f), 0);
}

/* A service with the restore instance first and the confining one last. */
static void service(const char *opts)
{
        char buf[3 * PATH_MAX];

        (void) snprintf(buf, sizeof(buf),
                        "session optional %s phase=restore\n"
                        "session required %s %s\n",
                        so_path, so_path, opts);
        write_service(buf);
}

static int listen_sock(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        (void) unlink(sock_path);
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 8), 0);
        return fd;
}

static void send_msg(int fd, struct sbx_msg_builder *b, const int *fds, size_t n)
{
        (void) sbx_msg_send(fd, b, fds, n);
        sbx_msg_builder_free(b);
}

/* Child: answers every connection on LFD; reports to REPORT. Reports "JOIN
 * user", "CLOSE same-uts|other-uts" (the peer's UTS namespace against the
 * holder's at the time of CLOSE: the restore must come first). */
static sbx_noreturn void fake_main(int lfd, int report, enum reply reply, pid_t holder)
{
        for (;;) {
                struct ucred cred;
                socklen_t len = sizeof(cred);
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), pidfd;
                struct sbx_msg_builder *b;
                struct sbx_msg m;
                char line[256], a[64], p[64];

                if (c < 0)
                        _exit(1);
                if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
                    sbx_msg_recv(c, SBX_CLIENT_MSG_MAX, &m, NULL, 0, NULL) <= 0) {
                        (void) close(c);
                        continue;
                }
                if (m.type == SBX_MSG_LOGIN_CLOSE) {
                        ssize_t n1, n2;

                        (void) snprintf(line, sizeof(line), "/proc/%d/ns/uts", (int) cred.pid);
                        n1 = readlink(line, a, sizeof(a) - 1);
                        (void) snprintf(line, sizeof(line), "/proc/%d/ns/uts", (int) holder);
                        n2 = readlink(line, p, sizeof(p) - 1);
                        (void) snprintf(line, sizeof(line), "CLOSE %s\n",
                                        n1 > 0 && n1 == n2 && memcmp(a, p, (size_t) n1) == 0
                                            ? "same-uts"
                                            : "other-uts");
                        (void) !write(report, line, strlen(line));
                        send_msg(c, sbx_msg_new(SBX_MSG_OK), NULL, 0);
                        sbx_msg_done(&m);
                        (void) close(c);
                        continue;
                }
                (void) snprintf(line, sizeof(line), "JOIN %s %s\n", sbx_strna(m.user),
                                sbx_strna(m.service));
                (void) !write(report, line, strlen(line));
                sbx_msg_done(&m);
                switch (reply) {
                case REPLY_NOT_FOUND:
                        (void) sbx_msg_send_error(c, ENOENT, SBX_ERR_NOT_FOUND, "no policy");
                        break;
                case REPLY_DENIED:
                        (void) sbx_msg_send_error(c, EPERM, SBX_ERR_SETUP, "cannot start");
                        break;
                case REPLY_JOINED_NO_FD:
                case REPLY_JOINED_BAD_FLAGS:
                case REPLY_JOINED:
                        b = sbx_msg_new(SBX_MSG_LOGIN_JOINED);
                        (void) sbx_msg_put_string(b, SBX_A_NAME, "login-test");
                        (void) sbx_msg_put_u32(b, SBX_A_NS_FLAGS,
                                               reply == REPLY_JOINED_BAD_FLAGS
                                                   ? CLONE_NEWUSER
                                                   : CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                                                         CLONE_NEWNS);
                        pidfd = holder > 0 ? (int) syscall(SYS_pidfd_open, holder, 0) : -1;
                        if (reply == REPLY_JOINED_NO_FD || pidfd < 0)
                                send_msg(c, b, NULL, 0);
                        else
                                send_msg(c, b, &pidfd, 1);
                        break;
                case REPLY_GARBAGE:
                        (void) !write(c, "garbage", 7);
                        break;
                case REPLY_HANG_UP:
                        break;
                }
                (void) close(c);
        }
}

static struct fake fake_start(enum reply reply, pid_t holder)
{
        int lfd = listen_sock(), p[2];
        struct fake f;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        f.pid = fork();
        assert_true(f.pid >= 0);
        if (f.pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) close(p[0]);
                fake_main(lfd, p[1], reply, holder);
        }
        (void) close(lfd);
        (void) close(p[1]);
        f.report_fd = p[0];
        return f;
}

/* Stops the fake daemon and returns what it saw (static buffer). */
static const char *fake_stop(struct fake *f)
{
        static char buf[1024];
        ssize_t n;

        (void) kill(f->pid, SIGKILL);
        (void) waitpid(f->pid, NULL, 0);
        n = read(f->report_fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        (void) close(f->report_fd);
        (void) unlink(sock_path);
        return buf;
}

static int open_close(const char *user, int *ret_close)
{
        pam_handle_t *h = NULL;
        int r, c;

        assert_int_equal(
            pam_start_confdir("lxsbx-test", user, &(struct pam_conv){conv, NULL}, dir, &h),
            PAM_SUCCESS);
        r = pam_open_session(h, 0);
        c = pam_close_session(h, 0);
        if (ret_close)
                *ret_close = c;
        (void) pam_end(h, r);
        return r;
}

static void opts_with_socket(char *buf, size_t n, const char *extra)
{
        (void) snprintf(buf, n, "socket=%s %s", sock_path, extra);
}

static void test_bad_option(void **state)
{
        (void) state;
        service("socket=/nonexistent bogus=1");
        assert_int_equal(open_close("nobody", NULL), PAM_SESSION_ERR);
        service("socket=relative/path");
        assert_int_equal(open_close("nobody", NULL), PAM_SESSION_ERR);
}

static void test_root_and_unknown_user(void **state)
{
        char o[PATH_MAX + 64];
        struct fake f;

        (void) state;
        opts_with_socket(o, sizeof(o), "debug");
        service(o);
        f = fake_start(REPLY_DENIED, 0);
        /* Root is never confined; the daemon is not even asked. */
        assert_int_equal(open_close("root", NULL), MODULE_IGNORED);
        assert_int_equal(open_close("no-such-user-lxsbx", NULL), PAM_SESSION_ERR);
        assert_string_equal(fake_stop(&f), "");
}

static void test_daemon_down(void **state)
{
        char o[PATH_MAX + 64];
        int c;

        (void) state;
        opts_with_socket(o, sizeof(o), "");
        service(o);
        assert_int_equal(open_close("nobody", &c), PAM_SESSION_ERR);
        /* Nothing was opened: nothing to close. */
        assert_int_equal(c, MODULE_IGNORED);
        /* exempt_group lets its members in, unconfined, while the daemon is down. */
        opts_with_socket(o, sizeof(o), "exempt_group=nogroup");
        service(o);
        assert_int_equal(open_close("nobody", NULL), MODULE_IGNORED);
        opts_with_socket(o, sizeof(o), "exempt_group=root");
        service(o);
        assert_int_equal(open_close("nobody", NULL), PAM_SESSION_ERR);
}

static void expect_reply(enum reply reply, int want)
{
        char o[PATH_MAX + 64];
        struct fake f;

        opts_with_socket(o, sizeof(o), "exempt_group=nogroup");
        service(o);
        f = fake_start(reply, getpid());
        assert_int_equal(open_close("nobody", NULL), want);
        assert_string_equal(fake_stop(&f), "JOIN nobody lxsbx-test\n");
}

static void test_replies(void **state)
{
        (void) state;
        /* Unmatched user: not confined. */
        expect_reply(REPLY_NOT_FOUND, MODULE_IGNORED);
        /* Every other failure fails closed, exempt group or not (the daemon is up). */
        expect_reply(REPLY_DENIED, PAM_SESSION_ERR);
        expect_reply(REPLY_JOINED_NO_FD, PAM_SESSION_ERR);
        expect_reply(REPLY_JOINED_BAD_FLAGS, PAM_SESSION_ERR);
        expect_reply(REPLY_GARBAGE, PAM_SESSION_ERR);
}

static void test_hang_up_is_daemon_down(void **state)
{
        char o[PATH_MAX + 64];
        struct fake f;

        (void) state;
        opts_with_socket(o, sizeof(o), "");
        service(o);
        f = fake_start(REPLY_HANG_UP, 0);
        assert_int_equal(open_close("nobody", NULL), PAM_SESSION_ERR);
        (void) fake_stop(&f);
}

static void *idle_thread(void *arg)
{
        (void) arg;
        pause();
        return NULL;
}

static void test_threads_refused(void **state)
{
        char o[PATH_MAX + 64];
        pthread_t t;
        struct fake f;
        pid_t pid;
        int status;

        (void) state;
        opts_with_socket(o, sizeof(o), "");
        service(o);
        f = fake_start(REPLY_NOT_FOUND, 0);
        /* In a child: the thread must not outlive the check. */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r;

                (void) close(f.report_fd);
                if (pthread_create(&t, NULL, idle_thread, NULL) != 0)
                        _exit(3);
                r = open_close("nobody", NULL);
                _exit(r == PAM_SESSION_ERR ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* Refused before the daemon was asked. */
        assert_string_equal(fake_stop(&f), "");
}

/* Fds of this process without FD_CLOEXEC, above stdio. */
static int count_fds(bool only_inheritable)
{
        int n = 0;

        for (int fd = 3; fd < 1024; fd++) {
                int fl = fcntl(fd, F_GETFD);

                if (fl >= 0 && (!only_inheritable || !(fl & FD_CLOEXEC)))
                        n++;
        }
        return n;
}

/* In a child with its own user namespace (and uts/ipc/net/mnt namespaces it
 * owns, to come back to): a holder process in yet other namespaces plays the
 * container; the module joins it on open and comes back on close, and the
 * restore instance (first in the stack) restores before the CLOSE is sent. */
static int join_child(void)
{
        char host[64], inside[64], cwd[PATH_MAX], cwd2[PATH_MAX], o[PATH_MAX + 64];
        int sync[2], fds_before, inheritable_before, r;
        pam_handle_t *h = NULL;
        const char *seen;
        struct fake f;
        pid_t holder;

        uid_t uid = getuid();
        int probe = (int) syscall(SYS_pidfd_open, getpid(), 0);

        /* valgrind 3.19 does not know pidfd_open. */
        if (probe < 0)
                return 77;
        (void) close(probe);
        if (unshare(CLONE_NEWUSER) < 0)
                return 77;
        {
                char map[64];
                int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);

                if (fd >= 0) {
                        (void) !write(fd, "deny", 4);
                        (void) close(fd);
                }
                (void) snprintf(map, sizeof(map), "0 %u 1", (unsigned) uid);
                fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, map, strlen(map)) < 0)
                        return 10;
                (void) close(fd);
        }
        if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS) < 0 ||
            sethostname("pam-host", 8) < 0)
                return 11;
        if (pipe2(sync, O_CLOEXEC) < 0)
                return 12;
        holder = fork();
        if (holder == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS) < 0 ||
                    sethostname("pam-box", 7) < 0)
                        _exit(1);
                (void) !write(sync[1], "r", 1);
                pause();
                _exit(0);
        }
        (void) close(sync[1]);
        if (read(sync[0], host, 1) != 1)
                return 13;
        (void) close(sync[0]);

        opts_with_socket(o, sizeof(o), "debug");
        service(o);
        f = fake_start(REPLY_JOINED, holder);
        if (chdir(dir) < 0 || !getcwd(cwd, sizeof(cwd)))
                return 14;
        fds_before = count_fds(false);
        inheritable_before = count_fds(true);
        if (pam_start_confdir("lxsbx-test", "nobody", &(struct pam_conv){conv, NULL}, dir, &h) !=
            PAM_SUCCESS)
                return 15;
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
                return 16;
        r = pam_open_session(h, 0);
        if (r != PAM_SUCCESS)
                return 20;
        (void) gethostname(inside, sizeof(inside));
        if (strcmp(inside, "pam-box") != 0)
                return 21;
        /* Inherited by the session's processes: setuid binaries inside give
         * no privileges. */
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                return 29;
        /* The working directory is kept across the mount namespace change. */
        if (!getcwd(cwd2, sizeof(cwd2)) || strcmp(cwd, cwd2) != 0)
                return 22;
        /* The saved namespaces are all the module keeps, all close-on-exec. */
        if (count_fds(true) != inheritable_before || count_fds(false) <= fds_before)
                return 23;
        r = pam_close_session(h, 0);
        (void) pam_end(h, r);
        if (r != PAM_SUCCESS)
                return 24;
        (void) gethostname(host, sizeof(host));
        if (strcmp(host, "pam-host") != 0)
                return 25;
        if (!getcwd(cwd2, sizeof(cwd2)) || strcmp(cwd, cwd2) != 0)
                return 26;
        if (count_fds(false) != fds_before)
                return 27;
        seen = fake_stop(&f);
        if (strcmp(seen, "JOIN nobody lxsbx-test\nCLOSE other-uts\n") != 0) {
                fprintf(stderr, "fake daemon saw: %s", seen);
                return 28;
        }
        (void) kill(holder, SIGKILL);
        return 0;
}

static void test_join_and_restore(void **state)
{
        pid_t pid;
        int status;

        (void) state;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r = join_child();

                /* The fake daemon's report pipe, left open on a failure. */
                (void) close_range(3, ~0U, 0);
                _exit(r);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* The dynamic symbol table of the module defines exactly the pam_sm_* entry
 * points it implements (the version script hides everything else). */
static void test_exported_symbols(void **state)
{
        cleanup_close int fd = open(so_path, O_RDONLY | O_CLOEXEC);
        const Elf64_Ehdr *eh;
        const Elf64_Shdr *sh;
        struct stat st;
        const char *base;
        char names[512] = "";

        (void) state;
        assert_true(fd >= 0 && fstat(fd, &st) == 0);
        base = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        assert_true(base != MAP_FAILED);
        eh = (const Elf64_Ehdr *) base;
        assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
        sh = (const Elf64_Shdr *) (base + eh->e_shoff);
        for (int i = 0; i < eh->e_shnum; i++) {
                const Elf64_Sym *sym;
                const char *str;

                if (sh[i].sh_type != SHT_DYNSYM)
                        continue;
                sym = (const Elf64_Sym *) (base + sh[i].sh_offset);
                str = base + sh[sh[i].sh_link].sh_offset;
                for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++) {
                        if (sym[k].st_shndx == SHN_UNDEF ||
                            ELF64_ST_BIND(sym[k].st_info) == STB_LOCAL)
                                continue;
                        size_t used = strlen(names);

                        (void) snprintf(names + used, sizeof(names) - used, "%s ",
                                        str + sym[k].st_name);
                }
        }
        (void) munmap((void *) base, (size_t) st.st_size);
        assert_true(strcmp(names, "pam_sm_open_session pam_sm_close_session ") == 0 ||
                    strcmp(names, "pam_sm_close_session pam_sm_open_session ") == 0);
}

static int group_setup(void **state)
{
        const char *b = getenv("SBX_BUILD");
        char rel[PATH_MAX];

        (void) state;
        (void) snprintf(rel, sizeof(rel), "%s/pam_lxsandbox.so", b ? b : "build");
        if (!realpath(rel, so_path)) {
                fprintf(stderr, "%s not found (run make)\n", rel);
                return -1;
        }
        (void) snprintf(dir, sizeof(dir), "/tmp/sbx-pam-test.XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        (void) chmod(dir, 0755);
        (void) snprintf(sock_path, sizeof(sock_path), "%s/sandboxd.sock", dir);
        return 0;
}

static int group_teardown(void **state)
{
        char path[PATH_MAX + 32];

        (void) state;
        (void) snprintf(path, sizeof(path), "%s/lxsbx-test", dir);
        (void) unlink(path);
        (void) unlink(sock_path);
        (void) rmdir(dir);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bad_option),
            cmocka_unit_test(test_root_and_unknown_user),
            cmocka_unit_test(test_daemon_down),
            cmocka_unit_test(test_replies),
            cmocka_unit_test(test_hang_up_is_daemon_down),
            cmocka_unit_test(test_threads_refused),
            cmocka_unit_test(test_join_and_restore),
            cmocka_unit_test(test_exported_symbols),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
