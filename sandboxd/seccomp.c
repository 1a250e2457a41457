/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * System call filters, built with libseccomp in the controller and installed as
 * raw BPF in the command (crun, nsjail).
 *
 * Semantics are systemd's: SystemCallFilter= lists system calls and @groups; with a
 * leading '~' the listed calls fail with SystemCallErrorNumber= (EPERM by default)
 * and everything else is allowed; without it, only the listed calls (plus a few
 * that every process needs, see implicit_allow) are allowed. Group names follow
 * systemd's where systemd has them, except @default: here it is our built-in deny
 * profile, what the shipped policies apply with "~@default".
 *
 * Every filter also enforces SystemCallArchitectures=native: a system call made
 * through another ABI (i386 "int 0x80", x32 numbers with bit 30 set) kills the
 * process (SIGSYS), since the rules are written for native numbers only.
 *
 * Argument filters: libseccomp compares 64-bit values, the kernel truncates "int"
 * arguments to 32 bits, so a 32-bit argument (ioctl's request, personality's
 * persona) is compared through a 0xffffffff mask; otherwise setting an upper bit
 * would slip past an equality test.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "policy.h"
#include "seccomp.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

struct sbx_seccomp {
        struct sock_fprog prog;
        struct sock_filter *insns;
};

/* ---- the group table ------------------------------------------------------ */

#define MEMBERS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct sbx_seccomp_group groups[] = {
    {"@default",
     "lxsandbox's deny profile, applied by the shipped policies as '~@default': "
     "kernel and host administration, namespace and mount escapes, attack surface "
     "unprivileged sandboxes do not need",
     MEMBERS("@clock", "@keyring", "@module", "@mount", "@obsolete", "@raw-io", "@reboot", "@swap",
             "acct", "bpf", "clone(CLONE_NEWUSER)", "clone3(ENOSYS)", "io_uring_enter",
             "io_uring_register", "io_uring_setup", "ioctl(TIOCLINUX)", "ioctl(TIOCSTI)",
             "lookup_dcookie", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
             "perf_event_open", "personality(!PER_LINUX)", "quotactl", "quotactl_fd", "setns",
             "syslog", "unshare(CLONE_NEWUSER)", "userfaultfd", "vhangup")},
    {"@aio", "asynchronous I/O, io_uring included",
     MEMBERS("io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup", "io_submit",
             "io_uring_enter", "io_uring_register", "io_uring_setup")},
    {"@basic-io", "reading, writing, seeking, duplicating and closing file descriptors",
     MEMBERS("_llseek", "close", "close_range", "dup", "dup2", "dup3", "lseek", "pread64", "preadv",
             "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readv", "write", "writev")},
    {"@clock", "setting the system clock",
     MEMBERS("adjtimex", "clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
             "settimeofday", "stime")},
    {"@cpu-emulation", "CPU emulation (vm86, LDT)",
     MEMBERS("modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old")},
    {"@debug", "debugging, performance monitoring and tracing",
     MEMBERS("lookup_dcookie", "perf_event_open", "pidfd_getfd", "ptrace", "rtas",
             "s390_runtime_instr", "sys_debug_setcontext")},
    {"@keyring", "the kernel keyring", MEMBERS("add_key", "keyctl", "request_key")},
    {"@module", "loading and unloading kernel modules",
     MEMBERS("delete_module", "finit_module", "init_module")},
    {"@mount", "mounting, unmounting and changing the root",
     MEMBERS("chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
             "move_mount", "open_tree", "pivot_root", "umount", "umount2")},
    {"@obsolete", "unusual, obsolete or unimplemented system calls",
     MEMBERS("_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime",
             "get_kernel_syms", "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil",
             "putpmsg", "query_module", "security", "sgetmask", "ssetmask", "stime", "stty",
             "sysfs", "tuxcall", "ulimit", "uselib", "ustat", "vserver")},
    {"@raw-io", "raw I/O port and PCI configuration access",
     MEMBERS("ioperm", "iopl", "pciconfig_iobase", "pciconfig_read", "pciconfig_write",
             "s390_pci_mmio_read", "s390_pci_mmio_write")},
    {"@reboot", "rebooting and loading a new kernel",
     MEMBERS("kexec_file_load", "kexec_load", "reboot")},
    {"@swap", "enabling and disabling swap", MEMBERS("swapoff", "swapon")},
};

/* Allowed in every allow-list (systemd's rule): the filter is installed before
 * execve, and a process must be able to exit and return from signal handlers. */
static const char *const implicit_allow[] = {
    "execve",          "exit",          "exit_group",   "getrlimit",    "rt_sigreturn", "sigreturn",
    "restart_syscall", "clock_gettime", "clock_getres", "gettimeofday", "time",         "nanosleep",
    "clock_nanosleep",
};

/* Argument-filtered entries, only reachable through @default. */
enum cond {
        COND_NONE,
        COND_CLONE_NEWUSER,
        COND_UNSHARE_NEWUSER,
        COND_CLONE3_ENOSYS,
        COND_IOCTL_TIOCSTI,
        COND_IOCTL_TIOCLINUX,
        COND_PERSONALITY,
};

static const struct {
        const char *token;
        const char *syscall;
        enum cond cond;
} conds[] = {
    {"clone(CLONE_NEWUSER)", "clone", COND_CLONE_NEWUSER},
    {"unshare(CLONE_NEWUSER)", "unshare", COND_UNSHARE_NEWUSER},
    {"clone3(ENOSYS)", "clone3", COND_CLONE3_ENOSYS},
    {"ioctl(TIOCSTI)", "ioctl", COND_IOCTL_TIOCSTI},
    {"ioctl(TIOCLINUX)", "ioctl", COND_IOCTL_TIOCLINUX},
    {"personality(!PER_LINUX)", "personality", COND_PERSONALITY},
};

size_t sbx_seccomp_group_count(void)
{
        return ELEMENTSOF(groups);
}

const struct sbx_seccomp_group *sbx_seccomp_group_get(size_t i)
{
        return i < ELEMENTSOF(groups) ? &groups[i] : NULL;
}

const struct sbx_seccomp_group *sbx_seccomp_group_find(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(groups); i++)
                if (strcmp(groups[i].name, name) == 0)
                        return &groups[i];
        return NULL;
}

static const char *cond_syscall(const char *token, enum cond *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(conds); i++)
                if (strcmp(conds[i].token, token) == 0) {
                        *ret = conds[i].cond;
                        return conds[i].syscall;
                }
        *ret = COND_NONE;
        return token;
}

int sbx_seccomp_validate_name(const char *name)
{
        const char *p;

        if (!name || !*name)
                return -EINVAL;
        p = name[0] == '@' ? name + 1 : name;
        if (!*p)
                return -EINVAL;
        for (; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      (*p == '-' && name[0] == '@')))
                        return -EINVAL;
        if (name[0] == '@')
                return sbx_seccomp_group_find(name) ? 0 : -ESRCH;
        return seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR ? -ENOENT : 0;
}

/* ---- expansion ------------------------------------------------------------ */

static int strv_add_unique(char ***v, size_t *n, const char *s)
{
        char **nv;

        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i], s) == 0)
                        return 0;
        nv = reallocarray(*v, *n + 2, sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* DEPTH bounds the recursion: the table has no cycles, but a bug must not loop. */
static int expand_word(const char *w, char ***v, size_t *n, unsigned depth)
{
        const struct sbx_seccomp_group *g;

        if (w[0] != '@')
                return strv_add_unique(v, n, w);
        g = sbx_seccomp_group_find(w);
        if (!g || depth > 4)
                return -EINVAL;
        for (size_t i = 0; g->members[i]; i++) {
                int r = expand_word(g->members[i], v, n, depth + 1);

                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int sbx_seccomp_expand(char *const *words, char ***ret_names)
{
        cleanup_strv char **v = NULL;
        size_t n = 0;

        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; words && words[i]; i++) {
                int r = expand_word(words[i], &v, &n, 0);

                if (r < 0)
                        return r;
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret_names = TAKE_PTR(v);
        return 0;
}

/* ---- building the filter -------------------------------------------------- */

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static int add_cond_rules(scmp_filter_ctx ctx, uint32_t deny, enum cond cond)
{
        int r = 0;

        switch (cond) {
        case COND_CLONE_NEWUSER:
                /* x86-64: clone(flags, ...); flags is a full unsigned long. */
                return seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
                                        SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        case COND_UNSHARE_NEWUSER:
                return seccomp_rule_add(ctx, deny, SCMP_SYS(unshare), 1,
                                        SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        case COND_CLONE3_ENOSYS:
                /* Its flags are in memory, out of BPF's reach: ENOSYS makes libc
                 * fall back to clone(), where they are checked (as Docker does). */
                return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        case COND_IOCTL_TIOCSTI:
                return seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1,
                                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
        case COND_IOCTL_TIOCLINUX:
                return seccomp_rule_add(ctx, deny, SCMP_SYS(ioctl), 1,
                                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
        case COND_PERSONALITY:
                /* Allowed: PER_LINUX (0) and the query 0xffffffff, i.e. the 32-bit
                 * persona the kernel sees is all zeros or all ones. Any other value
                 * has a 1 bit followed (cyclically) by a 0 bit: one rule per bit
                 * pair, since libseccomp tests an argument once per rule. */
                for (unsigned i = 0; i < 32 && r >= 0; i++) {
                        uint64_t one = 1ull << i, zero = 1ull << ((i + 1) % 32);

                        r = seccomp_rule_add(ctx, deny, SCMP_SYS(personality), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, one | zero, one));
                }
                return r;
        case COND_NONE:
                break;
        }
        return -EINVAL;
}

static int build_deny(scmp_filter_ctx ctx, uint32_t deny, char *const *names)
{
        for (size_t i = 0; names[i]; i++) {
                enum cond cond;
                const char *sys = cond_syscall(names[i], &cond);
                int nr = seccomp_syscall_resolve_name(sys), r;

                if (nr == __NR_SCMP_ERROR)
                        return -EINVAL;
                if (nr < 0) /* known to libseccomp, not on this architecture */
                        continue;
                if (cond != COND_NONE) {
                        /* Listed without arguments too: the whole call is denied. */
                        bool whole = false;

                        for (size_t j = 0; names[j] && !whole; j++)
                                whole = strcmp(names[j], sys) == 0;
                        if (whole)
                                continue;
                        r = add_cond_rules(ctx, deny, cond);
                } else
                        r = seccomp_rule_add(ctx, deny, nr, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_allow(scmp_filter_ctx ctx, const char *name)
{
        int nr = seccomp_syscall_resolve_name(name);

        if (nr == __NR_SCMP_ERROR)
                return -EINVAL;
        if (nr < 0)
                return 0;
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int build_allow(scmp_filter_ctx ctx, uint32_t deny, char *const *names)
{
        bool clone3 = false;
        int r;

        for (size_t i = 0; names[i]; i++) {
                if (strchr(names[i], '(')) /* argument filters belong to deny lists */
                        return -EINVAL;
                clone3 = clone3 || strcmp(names[i], "clone3") == 0;
                r = add_allow(ctx, names[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(implicit_allow); i++) {
                bool listed = false;

                for (size_t j = 0; names[j] && !listed; j++)
                        listed = strcmp(names[j], implicit_allow[i]) == 0;
                if (!listed) {
                        r = add_allow(ctx, implicit_allow[i]);
                        if (r < 0)
                                return r;
                }
        }
        /* Unlisted clone3: ENOSYS, so that libc falls back to clone() (unless
         * that is the default action already: libseccomp refuses such a rule). */
        if (!clone3 && deny != SCMP_ACT_ERRNO(ENOSYS))
                return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        return 0;
}

/* Exports CTX's BPF through a memfd into memory. */
static int export_bpf(scmp_filter_ctx ctx, struct sbx_seccomp **ret)
{
        cleanup_close int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
        cleanup_free struct sock_filter *insns = NULL;
        struct sbx_seccomp *f;
        struct stat st;
        size_t size, got = 0;
        int r;

        if (fd < 0)
                return sbx_negerrno();
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return sbx_negerrno();
        size = (size_t) st.st_size;
        if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
            size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -E2BIG;
        insns = malloc(size);
        if (!insns)
                return -ENOMEM;
        while (got < size) {
                ssize_t k = pread(fd, (char *) insns + got, size - got, (off_t) got);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return sbx_negerrno();
                if (k == 0)
                        return -EIO;
                got += (size_t) k;
        }
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->insns = TAKE_PTR(insns);
        f->prog.len = (unsigned short) (size / sizeof(struct sock_filter));
        f->prog.filter = f->insns;
        *ret = f;
        return 0;
}

static int set_error(char **ret_error, int r, const char *what)
{
        if (ret_error && asprintf(ret_error, "cannot build the system call filter (%s): %s", what,
                                  strerror(-r)) < 0)
                *ret_error = NULL;
        return r;
}

int sbx_seccomp_prepare(const struct sbx_policy *policy, struct sbx_seccomp **ret, char **ret_error)
{
        cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        cleanup_strv char **names = NULL;
        uint32_t deny;
        int r;

        if (!policy || !ret)
                return -EINVAL;
        deny = policy->syscall_errno == SBX_SYSCALL_ERRNO_KILL
                   ? SCMP_ACT_KILL_PROCESS
                   : SCMP_ACT_ERRNO(
                         (uint32_t) (policy->syscall_errno > 0 ? policy->syscall_errno : EPERM));
        if (policy->syscall_filter) {
                r = sbx_seccomp_expand(policy->syscall_filter, &names);
                if (r < 0)
                        return set_error(ret_error, r, "expanding the groups");
        }

        ctx = seccomp_init(policy->syscall_filter && policy->syscall_allow_list ? deny
                                                                                : SCMP_ACT_ALLOW);
        if (!ctx)
                return set_error(ret_error, -ENOMEM, "seccomp_init");
        /* SystemCallArchitectures=native: the context holds the native
         * architecture only; anything else (i386, and x32 numbers on x86-64)
         * takes the bad-architecture action. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return set_error(ret_error, r, "bad-architecture action");
        /* A binary search over the system call numbers: cheaper for long lists.
         * Without it the filter is still correct, only slower. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

        if (names) {
                r = policy->syscall_allow_list ? build_allow(ctx, deny, names)
                                               : build_deny(ctx, deny, names);
                if (r < 0)
                        return set_error(ret_error, r, "adding the rules");
        }
        r = export_bpf(ctx, ret);
        if (r < 0)
                return set_error(ret_error, r, "exporting the BPF program");
        return 0;
}

size_t sbx_seccomp_size(const struct sbx_seccomp *f)
{
        return f ? f->prog.len : 0;
}

int sbx_seccomp_install(const struct sock_fprog *prog)
{
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0)
                return sbx_negerrno();
        return 0;
}

int sbx_seccomp_apply_child(const struct sbx_seccomp *f)
{
        return f ? sbx_seccomp_install(&f->prog) : 0;
}

int sbx_seccomp_from_bpf(const void *insns, size_t len, struct sbx_seccomp **ret)
{
        struct sbx_seccomp *f;

        if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
            len / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->insns = malloc(len);
        if (!f->insns) {
                free(f);
                return -ENOMEM;
        }
        memcpy(f->insns, insns, len);
        f->prog.len = (unsigned short) (len / sizeof(struct sock_filter));
        f->prog.filter = f->insns;
        *ret = f;
        return 0;
}

const struct sock_fprog *sbx_seccomp_prog(const struct sbx_seccomp *f)
{
        return &f->prog;
}

struct sbx_seccomp *sbx_seccomp_free(struct sbx_seccomp *f)
{
        if (!f)
                return NULL;
        free(f->insns);
        free(f);
        return NULL;
}
