/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Only struct open_how and RESOLVE_*: unlike <linux/mount.h>, no clash with glibc's
 * <sys/mount.h>. */
#include <linux/openat2.h>

#include "log.h"
#include "macro.h"
#include "mount.h"
#include "parse-util.h"
#include "policy.h"
#include "user.h"

/* ---- the plan ------------------------------------------------------------- */

enum op_type {
        OP_READ_ONLY,    /* make what is at the path read-only, recursively */
        OP_READ_WRITE,   /* clear read-only, recursively */
        OP_INACCESSIBLE, /* cover with an empty mode-000 directory or file */
        OP_BIND,         /* attach the tree cloned from source before anything was hidden */
        OP_FS,           /* attach a fresh file system (tmpfs, devpts, proc) */
        OP_SYMLINK,      /* create a symbolic link in a fresh file system */
};

struct fs_opt {
        char *key;
        char *value; /* NULL: a flag */
};

struct mount_op {
        enum op_type type;
        const char *origin; /* the setting, for messages */
        const char *what;   /* the part of a composite setting, or NULL */
        const char *fstype; /* OP_FS */
        char *target;
        char *source;        /* OP_BIND: a host path; OP_SYMLINK: the link's text */
        char *create_root;   /* a fresh file system of ours above target, where missing
                              * components of target may be created; NULL: never create */
        char *target_parent; /* OP_INACCESSIBLE: see inaccessible_file() */
        struct fs_opt *opts; /* OP_FS: fsconfig() parameters, in order */
        size_t n_opts;
        unsigned attrs;    /* MOUNT_ATTR_* of the new mount */
        bool recursive;    /* OP_BIND */
        bool skip_missing; /* decided in the child: paths in the fresh /proc */
};

struct sbx_mount_plan {
        struct mount_op *ops;
        size_t n_ops;
        /* Scratch for the child, one per op: the trees cloned before anything is
         * hidden. Allocated here because the child may not allocate. */
        int *tree_fds;
        bool mount_ns;
        bool fresh_sysfs; /* a new sysfs on /sys: room for the cgroup view */
        dev_t mntns_dev;  /* the mount namespace the plan was built in */
        ino_t mntns_ino;
};

/* ---- building the plan (parent) ------------------------------------------ */

enum entry_kind {
        /* Entries that put something new at their path. At equal paths these come
         * first, so that access entries apply to what they mounted. */
        ENTRY_PROC,
        ENTRY_DEV,
        ENTRY_SYS,
        ENTRY_PRIVATE_TMP,
        ENTRY_TMPFS,
        ENTRY_BIND,
        /* Entries that change access to what is at their path, the most restrictive
         * first. INACCESSIBLE also replaces the content below it. */
        ENTRY_INACCESSIBLE,
        ENTRY_READ_ONLY,
        ENTRY_READ_WRITE,
};

struct entry {
        enum entry_kind kind;
        const char *origin;
        char *target;
        char *source; /* ENTRY_BIND */
        struct fs_opt *opts;
        size_t n_opts;
        unsigned attrs; /* ENTRY_TMPFS: MOUNT_ATTR_* from its options */
        bool ignore_missing;
        bool read_only; /* ENTRY_BIND */
        bool recursive; /* ENTRY_BIND */
        bool dropped;
        const char *create_root; /* borrowed from the covering entry */
        size_t order;
};

/* What the private /dev holds, besides pts/ and shm/. */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
static const struct {
        const char *name;
        const char *target;
} dev_links[] = {
    {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

/* Made read-only in the fresh /proc, as systemd's ProtectKernelTunables does. */
static const char *const proc_read_only[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
                                             "/proc/bus"};

static const char *const origin_proc = "Namespaces=pid";
static const char *const origin_sys = "Namespaces=net";
static const char *const origin_dev = "PrivateDevices";
static const char *const origin_tmp = "PrivateTmp";

static bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static bool is_access(enum entry_kind k)
{
        return k >= ENTRY_INACCESSIBLE;
}

/* True if PATH is strictly below DIR. Both are normalized. */
static bool path_below(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (streq(dir, "/"))
                return !streq(path, "/");
        return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static unsigned path_depth(const char *path)
{
        unsigned d = 0;

        if (streq(path, "/"))
                return 0;
        for (const char *p = path; *p; p++)
                if (*p == '/')
                        d++;
        return d;
}

static void set_error(char **ret_error, const char *fmt, ...) sbx_printf(2, 3);
static void set_error(char **ret_error, const char *fmt, ...)
{
        char *msg = NULL, *esc;
        size_t len;
        va_list ap;
        int n;

        if (!ret_error)
                return;
        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        /* Paths come from policies and the passwd database: escape control characters. */
        len = (size_t) n * 4 + 8;
        esc = malloc(len);
        if (esc)
                (void) sbx_log_escape(msg, esc, len);
        free(msg);
        free(*ret_error);
        *ret_error = esc;
}

/* Stores the message and evaluates to R (a macro, so that analyzers see R). */
#define plan_error(ret_error, r, ...) (set_error((ret_error), __VA_ARGS__), (r))

/* Opens PATH (relative to DFD) as an O_PATH fd without following a symbolic
 * link in any component: -ELOOP if there is one. Async-signal-safe: the parent
 * checks paths with it and the child opens them with it.
 *
 * openat2(RESOLVE_NO_SYMLINKS) where there is one; where it is missing (ENOSYS
 * under valgrind and some container seccomp profiles) the same one component at
 * a time with O_NOFOLLOW. */
static int open_nofollow(int dfd, const char *path, bool directory)
{
        struct open_how how = {
            .flags = (uint64_t) (O_PATH | O_CLOEXEC | (directory ? O_DIRECTORY : 0)),
            .resolve = RESOLVE_NO_SYMLINKS,
        };
        long lfd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
        cleanup_close int cur = -1;
        const char *p = path;

        if (lfd >= 0)
                return (int) lfd;
        if (errno != ENOSYS)
                return sbx_negerrno();

        if (*p == '/') {
                cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (cur < 0)
                        return sbx_negerrno();
        } else {
                cur = openat(dfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (cur < 0)
                        return sbx_negerrno();
        }
        for (;;) {
                char name[NAME_MAX + 1];
                const char *end;
                struct stat st;
                size_t n;
                int fd;

                while (*p == '/')
                        p++;
                if (*p == '\0')
                        return TAKE_FD(cur);
                end = strchrnul(p, '/');
                n = (size_t) (end - p);
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, n);
                name[n] = '\0';
                fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return sbx_negerrno();
                (void) close(cur);
                cur = fd;
                if (fstat(cur, &st) < 0)
                        return sbx_negerrno();
                if (S_ISLNK(st.st_mode))
                        return -ELOOP;
                p = end;
                while (*p == '/')
                        p++;
                if (!S_ISDIR(st.st_mode) && (*p != '\0' || directory))
                        return -ENOTDIR;
        }
}

/* 0 if PATH exists on the host without going through a symbolic link; -ENOENT if
 * it does not (a file where a directory was expected counts as missing); -ELOOP
 * through a symbolic link. The child opens paths the same way. */
static int host_path_check(const char *path)
{
        int fd = open_nofollow(AT_FDCWD, path, false);

        if (fd < 0)
                return fd == -ENOTDIR ? -ENOENT : fd;
        (void) close(fd);
        return 0;
}

static int path_check_error(char **ret_error, int r, const char *origin, const char *what,
                            const char *path)
{
        if (r == -ENOENT)
                return plan_error(ret_error, r, "%s: %s'%s' does not exist", origin, what, path);
        if (r == -ELOOP)
                return plan_error(ret_error, r, "%s: %s'%s' goes through a symbolic link", origin,
                                  what, path);
        return plan_error(ret_error, r, "%s: cannot access %s'%s': %s", origin, what, path,
                          strerror(-r));
}

static int expand_path(const char *in, const struct sbx_user *u, const char *origin, char **ret,
                       char **ret_error)
{
        cleanup_free char *expanded = NULL;
        const char *path = in;
        int r;

        if (!in)
                return plan_error(ret_error, -EINVAL, "%s: missing path", origin);
        if (strchr(in, '%')) {
                if (!u)
                        return plan_error(ret_error, -EINVAL,
                                          "%s: '%s' uses specifiers but there is no user", origin,
                                          in);
                r = sbx_specifier_expand(in, u->name, u->uid, u->home, &expanded);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return plan_error(ret_error, -EINVAL,
                                          "%s: cannot expand the specifiers in '%s'", origin, in);
                path = expanded;
        }
        r = sbx_path_normalize(path, 0, ret);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return plan_error(ret_error, -EINVAL, "%s: '%s' is not a normalized absolute path",
                                  origin, path);
        return 0;
}

static int opts_add(struct fs_opt **opts, size_t *n, const char *key, const char *value)
{
        struct fs_opt *o = reallocarray(*opts, *n + 1, sizeof(**opts));

        if (!o)
                return -ENOMEM;
        *opts = o;
        o[*n] = (struct fs_opt){.key = strdup(key), .value = value ? strdup(value) : NULL};
        if (!o[*n].key || (value && !o[*n].value)) {
                free(o[*n].key);
                free(o[*n].value);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

static void opts_free(struct fs_opt *opts, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(opts[i].key);
                free(opts[i].value);
        }
        free(opts);
}

/* Splits TemporaryFileSystem options into mount attributes and tmpfs parameters.
 * nosuid and nodev are always set, so "suid" and "dev" are refused. */
static int parse_tmpfs_options(struct entry *e, const char *options, char **ret_error)
{
        static const char *const params[] = {"mode", "size", "nr_inodes", "nr_blocks",
                                             "uid",  "gid",  "huge"};
        bool has_mode = false;
        int r;

        e->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        for (const char *p = options; p && *p;) {
                size_t n = strcspn(p, ",");
                char word[256], *eq;
                bool known = false;

                /* No tmpfs option is this long; a longer word is not one. */
                (void) snprintf(word, sizeof(word), "%.*s", (int) MIN(n, sizeof(word) - 1), p);
                eq = n < sizeof(word) ? strchr(word, '=') : NULL;
                if (eq) {
                        *eq = '\0';
                        for (size_t i = 0; i < ELEMENTSOF(params); i++)
                                known = known || streq(word, params[i]);
                        if (known && eq[1] != '\0') {
                                r = opts_add(&e->opts, &e->n_opts, word, eq + 1);
                                if (r < 0)
                                        return r;
                                has_mode = has_mode || streq(word, "mode");
                        } else
                                known = false;
                        *eq = '=';
                } else if (n >= sizeof(word))
                        known = false;
                else if (streq(word, "ro")) {
                        e->attrs |= MOUNT_ATTR_RDONLY;
                        known = true;
                } else if (streq(word, "rw")) {
                        e->attrs &= ~(unsigned) MOUNT_ATTR_RDONLY;
                        known = true;
                } else if (streq(word, "noexec")) {
                        e->attrs |= MOUNT_ATTR_NOEXEC;
                        known = true;
                } else if (streq(word, "exec")) {
                        e->attrs &= ~(unsigned) MOUNT_ATTR_NOEXEC;
                        known = true;
                } else if (streq(word, "nosuid") || streq(word, "nodev"))
                        known = true;
                if (!known)
                        return plan_error(ret_error, -EINVAL,
                                          "%s: '%s' has an unsupported option '%s'", e->origin,
                                          e->target, word);
                p += n;
                if (*p == ',')
                        p++;
        }
        /* systemd's default for TemporaryFileSystem=; tmpfs alone would give 1777. */
        if (!has_mode)
                return opts_add(&e->opts, &e->n_opts, "mode", "0755");
        return 0;
}

static void entry_done(struct entry *e)
{
        free(e->target);
        free(e->source);
        opts_free(e->opts, e->n_opts);
}

static struct entry *entry_new(struct entry *es, size_t *n, enum entry_kind kind,
                               const char *origin)
{
        struct entry *e = &es[(*n)++];

        *e = (struct entry){.kind = kind, .origin = origin, .order = *n};
        return e;
}

static int collect_paths(struct entry *es, size_t *n, enum entry_kind kind, const char *origin,
                         const struct sbx_path *paths, size_t n_paths, const struct sbx_user *u,
                         char **ret_error)
{
        for (size_t i = 0; i < n_paths; i++) {
                struct entry *e = entry_new(es, n, kind, origin);
                int r;

                e->ignore_missing = paths[i].ignore_missing;
                r = expand_path(paths[i].path, u, origin, &e->target, ret_error);
                if (r < 0)
                        return r;
                if (kind == ENTRY_INACCESSIBLE && streq(e->target, "/"))
                        return plan_error(ret_error, -EINVAL, "%s: cannot hide '/'", origin);
        }
        return 0;
}

static int collect_entries(const struct sbx_policy *p, const struct sbx_user *u, struct entry *es,
                           size_t *n, char **ret_error)
{
        struct entry *e;
        int r;

        r = collect_paths(es, n, ENTRY_READ_ONLY, "ReadOnlyPaths", p->read_only_paths,
                          p->n_read_only_paths, u, ret_error);
        if (r >= 0)
                r = collect_paths(es, n, ENTRY_READ_WRITE, "ReadWritePaths", p->read_write_paths,
                                  p->n_read_write_paths, u, ret_error);
        if (r >= 0)
                r = collect_paths(es, n, ENTRY_INACCESSIBLE, "InaccessiblePaths",
                                  p->inaccessible_paths, p->n_inaccessible_paths, u, ret_error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < p->n_binds; i++) {
                const struct sbx_bind *b = &p->binds[i];

                e = entry_new(es, n, ENTRY_BIND, b->read_only ? "BindReadOnlyPaths" : "BindPaths");
                e->ignore_missing = b->ignore_missing;
                e->read_only = b->read_only;
                e->recursive = b->recursive;
                r = expand_path(b->source, u, e->origin, &e->source, ret_error);
                if (r >= 0)
                        r = expand_path(b->target ? b->target : b->source, u, e->origin, &e->target,
                                        ret_error);
                if (r < 0)
                        return r;
                if (streq(e->target, "/"))
                        return plan_error(ret_error, -EINVAL, "%s: cannot mount over '/'",
                                          e->origin);
        }

        for (size_t i = 0; i < p->n_tmpfs; i++) {
                e = entry_new(es, n, ENTRY_TMPFS, "TemporaryFileSystem");
                r = expand_path(p->tmpfs[i].path, u, e->origin, &e->target, ret_error);
                if (r < 0)
                        return r;
                if (streq(e->target, "/"))
                        return plan_error(ret_error, -EINVAL, "%s: cannot mount over '/'",
                                          e->origin);
                r = parse_tmpfs_options(e, p->tmpfs[i].options, ret_error);
                if (r < 0)
                        return r;
        }

        if (p->private_tmp) {
                e = entry_new(es, n, ENTRY_PRIVATE_TMP, origin_tmp);
                e->target = strdup("/tmp");
                if (!e->target)
                        return -ENOMEM;
                /* Not every system has /var/tmp, or shows it once other entries apply. */
                e = entry_new(es, n, ENTRY_PRIVATE_TMP, origin_tmp);
                e->ignore_missing = true;
                e->target = strdup("/var/tmp");
                if (!e->target)
                        return -ENOMEM;
        }
        if (p->private_devices) {
                e = entry_new(es, n, ENTRY_DEV, origin_dev);
                e->target = strdup("/dev");
                if (!e->target)
                        return -ENOMEM;
        }
        if (p->namespaces & (1u << SBX_NS_PID)) {
                e = entry_new(es, n, ENTRY_PROC, origin_proc);
                e->target = strdup("/proc");
                if (!e->target)
                        return -ENOMEM;
        }
        /* The host's sysfs shows the host's network devices: a private network
         * gets a fresh one, which shows only its own. */
        if (p->namespaces & (1u << SBX_NS_NET)) {
                e = entry_new(es, n, ENTRY_SYS, origin_sys);
                e->target = strdup("/sys");
                if (!e->target)
                        return -ENOMEM;
                /* With limits the init mounts its own cgroup's view on
                 * /sys/fs/cgroup later, in its cgroup namespace (cgroup-view.c);
                 * without, the sandbox has no cgroup of its own and sees none. */
        }
        return 0;
}

/* Parents before children (depth), then a stable order. */
static int entry_cmp(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        unsigned dx = path_depth(x->target), dy = path_depth(y->target);
        int c;

        if (dx != dy)
                return dx < dy ? -1 : 1;
        c = strcmp(x->target, y->target);
        if (c != 0)
                return c;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* The nearest earlier entry that replaced what is at E's path or above it. */
static const struct entry *find_cover(const struct entry *es, size_t i)
{
        for (size_t j = i; j-- > 0;) {
                const struct entry *c = &es[j];

                if (c->dropped || (is_access(c->kind) && c->kind != ENTRY_INACCESSIBLE))
                        continue;
                if (streq(c->target, es[i].target) || path_below(es[i].target, c->target))
                        return c;
        }
        return NULL;
}

/* True if PATH (below /dev) is something the private /dev has, other than a
 * symbolic link. */
static bool in_private_dev(const char *path)
{
        const char *rel = path + strlen("/dev/");
        size_t n = strcspn(rel, "/");

        if (n == 3 && (strncmp(rel, "pts", 3) == 0 || strncmp(rel, "shm", 3) == 0))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++)
                if (streq(rel, dev_nodes[i]))
                        return true;
        return false;
}

/* E's path seen through the bind C: the same path below C's source on the host.
 * Drops E if it may be missing (for a bind, "-" is about its source instead). */
static int check_through_bind(struct entry *e, const struct entry *c, const char *what,
                              char **ret_error)
{
        cleanup_free char *mapped = NULL;
        int r;

        if (asprintf(&mapped, "%s%s", streq(c->source, "/") ? "" : c->source,
                     e->target + strlen(c->target)) < 0)
                return -ENOMEM;
        r = host_path_check(mapped);
        if (r == -ENOENT && e->ignore_missing && e->kind != ENTRY_BIND) {
                e->dropped = true;
                return 0;
        }
        if (r == -ENOENT)
                return plan_error(ret_error, r, "%s: %s'%s' does not exist (as '%s' in %s)",
                                  e->origin, what, e->target, mapped, c->origin);
        return r < 0 ? path_check_error(ret_error, r, e->origin, what, mapped) : 0;
}

/* Decides, in the parent, what each entry means given the entries before it:
 * drops "-" entries whose path is missing and redundant ones, refuses
 * contradictions, and finds where mount points may be created. */
static int analyze_access(struct entry *es, size_t i, char **ret_error)
{
        struct entry *e = &es[i];
        const struct entry *c = find_cover(es, i);
        bool same = c && streq(c->target, e->target);
        int r;

        for (size_t j = 0; j < i; j++) {
                const struct entry *o = &es[j];

                if (o->dropped || !is_access(o->kind) || o->kind == ENTRY_INACCESSIBLE ||
                    !streq(o->target, e->target))
                        continue;
                if (o->kind != e->kind)
                        return plan_error(ret_error, -EINVAL, "%s: '%s' is also in %s", e->origin,
                                          e->target, o->origin);
                e->dropped = true; /* a duplicate */
                return 0;
        }

        if (!c || c->kind == ENTRY_PROC || c->kind == ENTRY_SYS) {
                /* The fresh /proc and /sys show the same kernel files as the host's. */
                r = host_path_check(e->target);
                if (r == -ENOENT && e->ignore_missing) {
                        log_debug("%s: '%s' does not exist, ignoring", e->origin, e->target);
                        e->dropped = true;
                        return 0;
                }
                return r < 0 ? path_check_error(ret_error, r, e->origin, "", e->target) : 0;
        }
        if (c->kind == ENTRY_INACCESSIBLE) {
                if (e->kind == ENTRY_READ_WRITE)
                        return plan_error(ret_error, -EINVAL, "%s: '%s' is hidden by %s '%s'",
                                          e->origin, e->target, c->origin, c->target);
                e->dropped = true; /* already as restricted as it gets */
                return 0;
        }
        if (same)
                return 0; /* applies to what the entry before mounted */
        if (c->kind == ENTRY_BIND)
                return check_through_bind(e, c, "", ret_error);
        if (c->kind == ENTRY_DEV && in_private_dev(e->target))
                return 0;
        /* Below a fresh, empty tmpfs of ours nothing exists. */
        if (e->ignore_missing) {
                e->dropped = true;
                return 0;
        }
        return plan_error(ret_error, -ENOENT, "%s: '%s' does not exist below %s '%s'", e->origin,
                          e->target, c->origin, c->target);
}

static int analyze_mount(struct entry *es, size_t i, char **ret_error)
{
        struct entry *e = &es[i];
        const struct entry *c;
        int r;

        if (e->kind == ENTRY_BIND) {
                r = host_path_check(e->source);
                if (r == -ENOENT && e->ignore_missing) {
                        log_debug("%s: source '%s' does not exist, ignoring", e->origin, e->source);
                        e->dropped = true;
                        return 0;
                }
                if (r < 0)
                        return path_check_error(ret_error, r, e->origin, "source ", e->source);
        }

        c = find_cover(es, i);
        if (c && streq(c->target, e->target))
                return plan_error(ret_error, -EINVAL, "%s: '%s' is also mounted by %s", e->origin,
                                  e->target, c->origin);
        if (!c || c->kind == ENTRY_PROC || c->kind == ENTRY_SYS) {
                r = host_path_check(e->target);
                if (r == -ENOENT && e->kind == ENTRY_PRIVATE_TMP && e->ignore_missing) {
                        e->dropped = true;
                        return 0;
                }
                return r < 0 ? path_check_error(ret_error, r, e->origin,
                                                e->kind == ENTRY_BIND ? "target " : "", e->target)
                             : 0;
        }
        switch (c->kind) {
        case ENTRY_INACCESSIBLE:
                if (e->kind == ENTRY_PRIVATE_TMP && e->ignore_missing) {
                        e->dropped = true;
                        return 0;
                }
                return plan_error(ret_error, -EINVAL, "%s: '%s' is hidden by %s '%s'", e->origin,
                                  e->target, c->origin, c->target);
        case ENTRY_BIND:
                return check_through_bind(e, c, e->kind == ENTRY_BIND ? "target " : "", ret_error);
        case ENTRY_TMPFS:
                if (c->attrs & MOUNT_ATTR_RDONLY)
                        return plan_error(ret_error, -EINVAL,
                                          "%s: '%s' needs a mount point in the read-only %s '%s'",
                                          e->origin, e->target, c->origin, c->target);
                e->create_root = c->target;
                return 0;
        case ENTRY_PRIVATE_TMP:
        case ENTRY_DEV:
                /* Our own empty file system: the mount point can be made there. */
                e->create_root = c->target;
                return 0;
        default:
                return plan_error(ret_error, -EINVAL, "%s: '%s' is below %s '%s'", e->origin,
                                  e->target, c->origin, c->target);
        }
}

static void op_done(struct mount_op *op)
{
        free(op->target);
        free(op->source);
        free(op->create_root);
        free(op->target_parent);
        opts_free(op->opts, op->n_opts);
}

struct sbx_mount_plan *sbx_mount_plan_free(struct sbx_mount_plan *plan)
{
        if (!plan)
                return NULL;
        for (size_t i = 0; i < plan->n_ops; i++)
                op_done(&plan->ops[i]);
        free(plan->ops);
        free(plan->tree_fds);
        free(plan);
        return NULL;
}

bool sbx_mount_plan_fresh_sysfs(const struct sbx_mount_plan *plan)
{
        return plan && plan->fresh_sysfs;
}

size_t sbx_mount_plan_count(const struct sbx_mount_plan *plan)
{
        return plan ? plan->n_ops : 0;
}

static struct mount_op *op_new(struct sbx_mount_plan *plan, enum op_type type, const char *origin,
                               const char *what, const char *target)
{
        struct mount_op *op = &plan->ops[plan->n_ops];

        *op = (struct mount_op){.type = type, .origin = origin, .what = what};
        op->target = strdup(target);
        if (!op->target)
                return NULL;
        plan->n_ops++;
        return op;
}

static int op_set(char **field, const char *value)
{
        if (!value)
                return 0;
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
}

static int expand_dev(struct sbx_mount_plan *plan, const struct entry *e)
{
        struct mount_op *op;
        struct group grp, *g = NULL;
        char path[64], gid[32], grbuf[4096];
        int r;

        op = op_new(plan, OP_FS, e->origin, "tmpfs", e->target);
        if (!op)
                return -ENOMEM;
        op->fstype = "tmpfs";
        op->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
        r = op_set(&op->create_root, e->create_root);
        /* Only root writes here; the limits are systemd's for its private /dev. */
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "mode", "0755");
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "size", "4m");
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "nr_inodes", "64k");
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                (void) snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
                r = host_path_check(path);
                if (r < 0) {
                        log_debug("%s: host has no usable '%s' (%s), ignoring", e->origin, path,
                                  strerror(-r));
                        continue;
                }
                op = op_new(plan, OP_BIND, e->origin, "device node", path);
                if (!op)
                        return -ENOMEM;
                /* Device nodes: so no nodev, unlike other binds. */
                op->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
                if (op_set(&op->source, path) < 0 || op_set(&op->create_root, "/dev") < 0)
                        return -ENOMEM;
        }

        op = op_new(plan, OP_FS, e->origin, "devpts", "/dev/pts");
        if (!op)
                return -ENOMEM;
        op->fstype = "devpts";
        op->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
        r = op_set(&op->create_root, "/dev");
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "newinstance", NULL);
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "ptmxmode", "0666");
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "mode", "0620");
        if (getgrnam_r("tty", &grp, grbuf, sizeof(grbuf), &g) != 0)
                g = NULL;
        if (r >= 0 && g) {
                (void) snprintf(gid, sizeof(gid), "%lu", (unsigned long) g->gr_gid);
                r = opts_add(&op->opts, &op->n_opts, "gid", gid);
        } else if (!g)
                log_debug("%s: no 'tty' group, new ptys get the caller's group", e->origin);
        if (r < 0)
                return r;

        op = op_new(plan, OP_FS, e->origin, "tmpfs", "/dev/shm");
        if (!op)
                return -ENOMEM;
        op->fstype = "tmpfs";
        op->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        r = op_set(&op->create_root, "/dev");
        if (r >= 0)
                r = opts_add(&op->opts, &op->n_opts, "mode", "1777");
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++) {
                (void) snprintf(path, sizeof(path), "/dev/%s", dev_links[i].name);
                op = op_new(plan, OP_SYMLINK, e->origin, "symlink", path);
                if (!op)
                        return -ENOMEM;
                if (op_set(&op->source, dev_links[i].target) < 0 ||
                    op_set(&op->create_root, "/dev") < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int expand_proc(struct sbx_mount_plan *plan, const struct entry *e)
{
        struct mount_op *op = op_new(plan, OP_FS, e->origin, "proc", e->target);

        if (!op)
                return -ENOMEM;
        op->fstype = "proc";
        op->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        if (op_set(&op->create_root, e->create_root) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(proc_read_only); i++) {
                op = op_new(plan, OP_READ_ONLY, e->origin, "read-only", proc_read_only[i]);
                if (!op)
                        return -ENOMEM;
                op->skip_missing = true;
        }
        return 0;
}

/* A fresh sysfs, read-only. */
static int expand_sys(struct sbx_mount_plan *plan, const struct entry *e)
{
        struct mount_op *op = op_new(plan, OP_FS, e->origin, "sysfs", e->target);

        if (!op)
                return -ENOMEM;
        op->fstype = "sysfs";
        op->attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        plan->fresh_sysfs = true;
        return op_set(&op->create_root, e->create_root);
}

static int expand_entry(struct sbx_mount_plan *plan, struct entry *e)
{
        static const enum op_type access_ops[] = {
            [ENTRY_INACCESSIBLE] = OP_INACCESSIBLE,
            [ENTRY_READ_ONLY] = OP_READ_ONLY,
            [ENTRY_READ_WRITE] = OP_READ_WRITE,
        };
        struct mount_op *op;
        char *slash;

        switch (e->kind) {
        case ENTRY_DEV:
                return expand_dev(plan, e);
        case ENTRY_PROC:
                return expand_proc(plan, e);
        case ENTRY_SYS:
                return expand_sys(plan, e);
        case ENTRY_PRIVATE_TMP:
        case ENTRY_TMPFS:
                op = op_new(plan, OP_FS, e->origin, NULL, e->target);
                if (!op)
                        return -ENOMEM;
                op->fstype = "tmpfs";
                if (e->kind == ENTRY_TMPFS) {
                        op->attrs = e->attrs;
                        op->opts = TAKE_PTR(e->opts);
                        op->n_opts = e->n_opts;
                        e->n_opts = 0;
                } else {
                        op->attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
                        if (opts_add(&op->opts, &op->n_opts, "mode", "1777") < 0)
                                return -ENOMEM;
                }
                return op_set(&op->create_root, e->create_root);
        case ENTRY_BIND:
                op = op_new(plan, OP_BIND, e->origin, NULL, e->target);
                if (!op)
                        return -ENOMEM;
                op->recursive = e->recursive;
                op->attrs =
                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (e->read_only ? MOUNT_ATTR_RDONLY : 0);
                if (op_set(&op->source, e->source) < 0 ||
                    op_set(&op->create_root, e->create_root) < 0)
                        return -ENOMEM;
                return 0;
        case ENTRY_INACCESSIBLE:
        case ENTRY_READ_ONLY:
        case ENTRY_READ_WRITE:
                op = op_new(plan, access_ops[e->kind], e->origin, NULL, e->target);
                if (!op)
                        return -ENOMEM;
                if (e->kind != ENTRY_INACCESSIBLE)
                        return 0;
                if (op_set(&op->target_parent, e->target) < 0)
                        return -ENOMEM;
                slash = strrchr(op->target_parent, '/');
                slash[slash == op->target_parent ? 1 : 0] = '\0';
                return 0;
        }
        return -EINVAL;
}

static bool policy_wants_files(const struct sbx_policy *p)
{
        return p->n_read_only_paths > 0 || p->n_read_write_paths > 0 ||
               p->n_inaccessible_paths > 0 || p->n_binds > 0 || p->n_tmpfs > 0 || p->private_tmp ||
               p->private_devices;
}

int sbx_mount_plan_build(const struct sbx_policy *p, const struct sbx_user *u,
                         struct sbx_mount_plan **ret, char **ret_error)
{
        struct sbx_mount_plan *plan = NULL;
        struct entry *es = NULL;
        size_t n = 0, cap;
        struct stat st;
        int r;

        if (!p || !ret)
                return -EINVAL;
        if (ret_error)
                *ret_error = NULL;

        plan = calloc(1, sizeof(*plan));
        if (!plan)
                return -ENOMEM;
        plan->mount_ns = p->namespaces & (1u << SBX_NS_MOUNT);
        if (!plan->mount_ns) {
                if (policy_wants_files(p)) {
                        r = plan_error(ret_error, -EINVAL,
                                       "[Files] settings need the mount namespace "
                                       "(Namespaces=mount)");
                        goto finish;
                }
                *ret = TAKE_PTR(plan);
                return 0;
        }
        if (stat("/proc/self/ns/mnt", &st) < 0) {
                r = plan_error(ret_error, sbx_negerrno(),
                               "cannot identify the current mount namespace: %m");
                goto finish;
        }
        plan->mntns_dev = st.st_dev;
        plan->mntns_ino = st.st_ino;

        cap = p->n_read_only_paths + p->n_read_write_paths + p->n_inaccessible_paths + p->n_binds +
              p->n_tmpfs + 5;
        es = calloc(cap, sizeof(*es));
        if (!es) {
                r = -ENOMEM;
                goto finish;
        }
        r = collect_entries(p, u, es, &n, ret_error);
        if (r < 0)
                goto finish;

        qsort(es, n, sizeof(*es), entry_cmp);
        for (size_t i = 0; i < n; i++) {
                r = is_access(es[i].kind) ? analyze_access(es, i, ret_error)
                                          : analyze_mount(es, i, ret_error);
                if (r < 0)
                        goto finish;
        }

        /* A composite entry adds at most this many ops; each other entry one. */
        plan->ops = calloc(n + ELEMENTSOF(dev_nodes) + ELEMENTSOF(dev_links) + 3 +
                               ELEMENTSOF(proc_read_only) + 1,
                           sizeof(*plan->ops));
        if (!plan->ops) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                if (es[i].dropped)
                        continue;
                r = expand_entry(plan, &es[i]);
                if (r < 0)
                        goto finish;
        }
        plan->tree_fds = calloc(plan->n_ops + 1, sizeof(int));
        if (!plan->tree_fds) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < plan->n_ops; i++)
                plan->tree_fds[i] = -1;

        *ret = TAKE_PTR(plan);
        r = 0;
finish:
        for (size_t i = 0; i < n; i++)
                entry_done(&es[i]);
        free(es);
        sbx_mount_plan_free(plan);
        return r;
}

const char *sbx_mount_plan_describe(const struct sbx_mount_plan *plan, int index, char *buf,
                                    size_t len)
{
        const struct mount_op *op;
        char *msg = NULL;
        int n;

        if (len == 0)
                return buf;
        if (index == SBX_MOUNT_INDEX_SETUP) {
                (void) snprintf(buf, len, "making the new mount namespace private");
                return buf;
        }
        if (!plan || index < 0 || (size_t) index >= plan->n_ops) {
                (void) snprintf(buf, len, "mount step %d", index);
                return buf;
        }
        op = &plan->ops[index];
        if (op->type == OP_BIND)
                n = asprintf(&msg, "%s: '%s' -> '%s'%s%s%s", op->origin, op->source, op->target,
                             op->what ? " (" : "", op->what ? op->what : "", op->what ? ")" : "");
        else if (op->type == OP_SYMLINK)
                n = asprintf(&msg, "%s: '%s' -> '%s' (symlink)", op->origin, op->target,
                             op->source);
        else
                n = asprintf(&msg, "%s: '%s'%s%s%s", op->origin, op->target, op->what ? " (" : "",
                             op->what ? op->what : "", op->what ? ")" : "");
        if (n < 0) {
                (void) snprintf(buf, len, "%s", op->origin);
                return buf;
        }
        (void) sbx_log_escape(msg, buf, len);
        free(msg);
        return buf;
}

/* ---- applying the plan (child) --------------------------------------------
 * Everything below runs between clone() and execve(): system calls only, no
 * allocation, no stdio. Paths are opened with open_nofollow(), which follows no
 * symbolic link in any component (stricter than O_NOFOLLOW on the last one), and
 * mounts are placed through those fds, so a path cannot be swapped for a
 * symbolic link between the check and the mount. */

/* The name of the empty file in the private tmpfs that InaccessiblePaths= binds
 * over files. */
#define EMPTY_FILE_NAME "inaccessible"

struct child_ctx {
        const struct sbx_mount_plan *plan;
        int empty_mnt; /* detached tmpfs holding EMPTY_FILE_NAME, or -1 */
};

static int fd_is_dir(int fd)
{
        struct statx stx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return sbx_negerrno();
        return S_ISDIR(stx.stx_mode);
}

static int fd_is_mount_root(int fd)
{
        struct statx stx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return sbx_negerrno();
        /* Before 5.8 the kernel does not say: binding onto itself is right either way. */
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return 0;
        return !!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int set_attrs(int fd, bool recursive, uint64_t set, uint64_t clr)
{
        struct mount_attr attr = {.attr_set = set, .attr_clr = clr};

        if (set == 0 && clr == 0)
                return 0;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                          sizeof(attr)) < 0)
                return sbx_negerrno();
        return 0;
}

static int attach(int mnt_fd, int target_fd)
{
        if (move_mount(mnt_fd, "", target_fd, "",
                       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return sbx_negerrno();
        return 0;
}

static int clone_tree(int fd, const char *path, bool recursive)
{
        int t = open_tree(fd, path,
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (path[0] ? 0 : AT_EMPTY_PATH) |
                              (recursive ? AT_RECURSIVE : 0));

        return t < 0 ? sbx_negerrno() : t;
}

/* Creates the missing components of TARGET below ROOT, a fresh file system of
 * ours (nothing else can have put a symbolic link there): directories, and for
 * a non-directory mount an empty file last. Returns an O_PATH fd of TARGET. */
static int create_below(const char *root, const char *target, bool dir)
{
        cleanup_close int dfd = open_nofollow(AT_FDCWD, root, true);
        const char *p = target + strlen(root);

        if (dfd < 0)
                return dfd;
        while (*p == '/') {
                char name[NAME_MAX + 1];
                const char *end = strchrnul(++p, '/');
                size_t n = (size_t) (end - p);
                bool last = *end == '\0';
                int fd;

                if (n == 0 || n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, n);
                name[n] = '\0';
                if (!last || dir) {
                        if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
                                return sbx_negerrno();
                        fd = open_nofollow(dfd, name, true);
                } else {
                        if (mknodat(dfd, name, S_IFREG | 0000, 0) < 0 && errno != EEXIST)
                                return sbx_negerrno();
                        fd = open_nofollow(dfd, name, false);
                }
                if (fd < 0)
                        return fd;
                (void) close(dfd);
                dfd = fd;
                p = end;
        }
        return TAKE_FD(dfd);
}

static int open_target(const struct mount_op *op, bool dir)
{
        int fd = open_nofollow(AT_FDCWD, op->target, false);

        if (fd == -ENOENT && op->create_root)
                return create_below(op->create_root, op->target, dir);
        return fd;
}

static int apply_access(const struct mount_op *op)
{
        uint64_t set = op->type == OP_READ_ONLY ? MOUNT_ATTR_RDONLY : 0;
        uint64_t clr = op->type == OP_READ_WRITE ? MOUNT_ATTR_RDONLY : 0;
        cleanup_close int fd = open_nofollow(AT_FDCWD, op->target, false);
        cleanup_close int tree = -1;
        int r;

        if (fd == -ENOENT && op->skip_missing)
                return 0;
        if (fd < 0)
                return fd;
        /* Our private copy of a mount can be changed in place ("/" always is one);
         * anything else is first bound onto itself to become one. */
        r = streq(op->target, "/") ? 1 : fd_is_mount_root(fd);
        if (r < 0)
                return r;
        if (r > 0)
                return set_attrs(fd, true, set, clr);
        tree = clone_tree(fd, "", true);
        if (tree < 0)
                return tree;
        /* Set on the detached copy, so the path is never seen writable. */
        r = set_attrs(tree, true, set, clr);
        return r < 0 ? r : attach(tree, fd);
}

static int make_fs(const char *fstype, const struct fs_opt *opts, size_t n_opts, unsigned attrs)
{
        cleanup_close int fs = fsopen(fstype, FSOPEN_CLOEXEC);
        int mnt;

        if (fs < 0)
                return sbx_negerrno();
        for (size_t i = 0; i < n_opts; i++)
                if (fsconfig(fs, opts[i].value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
                             opts[i].key, opts[i].value, 0) < 0)
                        return sbx_negerrno();
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return sbx_negerrno();
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        return mnt < 0 ? sbx_negerrno() : mnt;
}

static int apply_fs(const struct mount_op *op)
{
        cleanup_close int fd = open_target(op, true);
        cleanup_close int mnt = -1;

        if (fd < 0)
                return fd;
        mnt = make_fs(op->fstype, op->opts, op->n_opts, op->attrs);
        if (mnt < 0)
                return mnt;
        return attach(mnt, fd);
}

/* An empty mode-0000 file on a private tmpfs that is never attached anywhere,
 * cloned once per target. */
static int inaccessible_file(struct child_ctx *ctx, const struct mount_op *op)
{
        static const struct fs_opt opts[] = {{.key = (char *) "mode", .value = (char *) "0000"}};
        cleanup_close int parent = -1;
        int clone, r;

        if (ctx->empty_mnt < 0) {
                int mnt = make_fs("tmpfs", opts, ELEMENTSOF(opts),
                                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);

                if (mnt < 0)
                        return mnt;
                ctx->empty_mnt = mnt;
                if (mknodat(mnt, EMPTY_FILE_NAME, S_IFREG | 0000, 0) < 0)
                        return sbx_negerrno();
        }
        clone = clone_tree(ctx->empty_mnt, EMPTY_FILE_NAME, false);
        if (clone != -EINVAL || streq(op->target_parent, "/"))
                return clone;

        /* Kernels before 6.15 clone only from mounts in our namespace: attach the
         * tmpfs over the target's directory just long enough to clone the file. This
         * namespace is still ours alone. */
        parent = open_nofollow(AT_FDCWD, op->target_parent, true);
        if (parent < 0)
                return parent;
        r = attach(ctx->empty_mnt, parent);
        if (r < 0)
                return r;
        clone = clone_tree(ctx->empty_mnt, EMPTY_FILE_NAME, false);
        ctx->empty_mnt = sbx_safe_close(ctx->empty_mnt);
        if (umount2(op->target_parent, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                r = sbx_negerrno();
                if (clone >= 0)
                        (void) close(clone);
                return r;
        }
        return clone;
}

static int apply_inaccessible(struct child_ctx *ctx, const struct mount_op *op)
{
        static const struct fs_opt dir_opts[] = {
            {.key = (char *) "mode", .value = (char *) "0000"},
            {.key = (char *) "ro", .value = NULL},
        };
        const unsigned attrs =
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        cleanup_close int fd = open_nofollow(AT_FDCWD, op->target, false);
        cleanup_close int mnt = -1;
        int r;

        if (fd < 0)
                return fd;
        r = fd_is_dir(fd);
        if (r < 0)
                return r;
        if (r > 0)
                mnt = make_fs("tmpfs", dir_opts, ELEMENTSOF(dir_opts), attrs);
        else {
                /* Any non-directory (device, socket, fifo) can be covered by a file. */
                mnt = inaccessible_file(ctx, op);
                if (mnt >= 0) {
                        r = set_attrs(mnt, false, attrs, 0);
                        if (r < 0)
                                return r;
                }
        }
        if (mnt < 0)
                return mnt;
        return attach(mnt, fd);
}

static int apply_bind(const struct mount_op *op, int *tree)
{
        cleanup_close int fd = -1;
        int r;

        r = fd_is_dir(*tree);
        if (r < 0)
                return r;
        fd = open_target(op, r > 0);
        if (fd < 0)
                return fd;
        r = set_attrs(*tree, op->recursive, op->attrs, 0);
        if (r >= 0)
                r = attach(*tree, fd);
        *tree = sbx_safe_close(*tree);
        return r;
}

static int apply_symlink(const struct mount_op *op)
{
        cleanup_close int dfd = open_nofollow(AT_FDCWD, op->create_root, true);

        if (dfd < 0)
                return dfd;
        if (symlinkat(op->source, dfd, op->target + strlen(op->create_root) + 1) < 0)
                return sbx_negerrno();
        return 0;
}

static int apply_op(struct child_ctx *ctx, size_t i)
{
        const struct mount_op *op = &ctx->plan->ops[i];

        switch (op->type) {
        case OP_READ_ONLY:
        case OP_READ_WRITE:
                return apply_access(op);
        case OP_INACCESSIBLE:
                return apply_inaccessible(ctx, op);
        case OP_BIND:
                return apply_bind(op, &ctx->plan->tree_fds[i]);
        case OP_FS:
                return apply_fs(op);
        case OP_SYMLINK:
                return apply_symlink(op);
        }
        return -EINVAL;
}

int sbx_mount_apply_child(const struct sbx_mount_plan *plan, int *ret_failed_index)
{
        struct child_ctx ctx = {.plan = plan, .empty_mnt = -1};
        int failed = SBX_MOUNT_INDEX_SETUP, r = 0;
        struct stat st;

        if (!plan) {
                r = -EINVAL;
                goto finish;
        }
        if (!plan->mount_ns)
                return 0;
        for (size_t i = 0; i < plan->n_ops; i++)
                plan->tree_fds[i] = -1;

        /* Everything below would change the host's mounts if the caller forgot
         * CLONE_NEWNS. */
        if (stat("/proc/self/ns/mnt", &st) < 0) {
                r = sbx_negerrno();
                goto finish;
        }
        if (st.st_dev == plan->mntns_dev && st.st_ino == plan->mntns_ino) {
                r = -EBUSY;
                goto finish;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                r = sbx_negerrno();
                goto finish;
        }

        /* Sources are taken as the host shows them, before any entry hides them. */
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct mount_op *op = &plan->ops[i];
                cleanup_close int fd = -1;

                if (op->type != OP_BIND)
                        continue;
                failed = (int) i;
                fd = open_nofollow(AT_FDCWD, op->source, false);
                if (fd < 0) {
                        r = fd;
                        goto finish;
                }
                plan->tree_fds[i] = clone_tree(fd, "", op->recursive);
                if (plan->tree_fds[i] < 0) {
                        r = plan->tree_fds[i];
                        goto finish;
                }
        }

        for (size_t i = 0; i < plan->n_ops; i++) {
                failed = (int) i;
                r = apply_op(&ctx, i);
                if (r < 0)
                        goto finish;
        }

finish:
        if (plan)
                for (size_t i = 0; i < plan->n_ops; i++)
                        plan->tree_fds[i] = sbx_safe_close(plan->tree_fds[i]);
        ctx.empty_mnt = sbx_safe_close(ctx.empty_mnt);
        if (r < 0 && ret_failed_index)
                *ret_failed_index = failed;
        return r < 0 ? r : 0;
}
