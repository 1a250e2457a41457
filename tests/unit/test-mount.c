/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "mount.h"
#include "policy.h"
#include "user.h"

#define TMPFS_MAGIC_NUMBER 0x01021994

/* ---- a policy filled by hand ---------------------------------------------- */

#define MAX_ENTRIES 16

struct pol {
        struct sbx_policy p;
        struct sbx_path ro[MAX_ENTRIES], rw[MAX_ENTRIES], inacc[MAX_ENTRIES];
        struct sbx_bind binds[MAX_ENTRIES];
        struct sbx_tmpfs tmpfs[MAX_ENTRIES];
        char *strings[8 * MAX_ENTRIES];
        size_t n_strings;
};

static char *pol_str(struct pol *t, const char *fmt, va_list ap) sbx_printf(2, 0);
static char *pol_str(struct pol *t, const char *fmt, va_list ap)
{
        char *s = NULL;

        assert_true(vasprintf(&s, fmt, ap) >= 0);
        assert_true(t->n_strings < ELEMENTSOF(t->strings));
        t->strings[t->n_strings++] = s;
        return s;
}

static char *pol_printf(struct pol *t, const char *fmt, ...) sbx_printf(2, 3);
static char *pol_printf(struct pol *t, const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = pol_str(t, fmt, ap);
        va_end(ap);
        return s;
}

static struct pol *pol_new(void)
{
        struct pol *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        t->p.namespaces = 1u << SBX_NS_MOUNT;
        t->p.read_only_paths = t->ro;
        t->p.read_write_paths = t->rw;
        t->p.inaccessible_paths = t->inacc;
        t->p.binds = t->binds;
        t->p.tmpfs = t->tmpfs;
        return t;
}

static void pol_free(struct pol *t)
{
        for (size_t i = 0; i < t->n_strings; i++)
                free(t->strings[i]);
        free(t);
}

static void add_path(struct pol *t, struct sbx_path *v, size_t *n, bool ignore, const char *fmt,
                     va_list ap) sbx_printf(5, 0);
static void add_path(struct pol *t, struct sbx_path *v, size_t *n, bool ignore, const char *fmt,
                     va_list ap)
{
        assert_true(*n < MAX_ENTRIES);
        v[*n].path = pol_str(t, fmt, ap);
        v[*n].ignore_missing = ignore;
        (*n)++;
}

#define DEFINE_ADD(name, field, count)                                                             \
        static void name(struct pol *t, bool ignore, const char *fmt, ...) sbx_printf(3, 4);       \
        static void name(struct pol *t, bool ignore, const char *fmt, ...)                         \
        {                                                                                          \
                va_list ap;                                                                        \
                va_start(ap, fmt);                                                                 \
                add_path(t, t->field, &t->p.count, ignore, fmt, ap);                               \
                va_end(ap);                                                                        \
        }
DEFINE_ADD(add_ro, ro, n_read_only_paths)
DEFINE_ADD(add_rw, rw, n_read_write_paths)
DEFINE_ADD(add_inacc, inacc, n_inaccessible_paths)

static void add_bind(struct pol *t, bool read_only, bool ignore, const char *source,
                     const char *target)
{
        struct sbx_bind *b = &t->binds[t->p.n_binds++];

        b->source = pol_printf(t, "%s", source);
        b->target = pol_printf(t, "%s", target);
        b->read_only = read_only;
        b->ignore_missing = ignore;
        b->recursive = true;
}

static void add_tmpfs(struct pol *t, const char *path, const char *options)
{
        struct sbx_tmpfs *f = &t->tmpfs[t->p.n_tmpfs++];

        f->path = pol_printf(t, "%s", path);
        f->options = options ? pol_printf(t, "%s", options) : NULL;
}

/* ---- scratch directories -------------------------------------------------- */

static char *scratch_new(const char *base)
{
        char *d = NULL;

        assert_true(asprintf(&d, "%s/sbx-test-mount.XXXXXX", base) >= 0);
        assert_non_null(mkdtemp(d));
        return d;
}

static int rm_rf_at(int dfd, const char *name)
{
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *d;
                struct dirent *de;

                if (fd < 0)
                        return -errno;
                d = fdopendir(fd);
                if (!d) {
                        (void) close(fd);
                        return -errno;
                }
                // cppcheck-suppress readdirCalled
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                (void) rm_rf_at(dirfd(d), de->d_name);
                (void) closedir(d);
                return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
        }
        return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

static void scratch_free(char *d)
{
        if (!d)
                return;
        (void) chmod(d, 0700);
        assert_int_equal(rm_rf_at(AT_FDCWD, d), 0);
        free(d);
}

static void mkdirf(const char *fmt, ...) sbx_printf(1, 2);
static void mkdirf(const char *fmt, ...)
{
        cleanup_free char *p = NULL;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&p, fmt, ap) >= 0);
        va_end(ap);
        assert_int_equal(mkdir(p, 0755), 0);
}

static void write_file(const char *content, const char *fmt, ...) sbx_printf(2, 3);
static void write_file(const char *content, const char *fmt, ...)
{
        cleanup_free char *p = NULL;
        cleanup_close int fd = -1;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&p, fmt, ap) >= 0);
        va_end(ap);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
}

/* A scratch directory per test. cmocka runs a test's teardown only when the test
 * passed or was skipped, so the group teardown removes what failed tests left.
 * Root tests need one outside /tmp and /var/tmp, which PrivateTmp hides. */
static char *scratch_dirs[32];

static int scratch_register(void **state, const char *base)
{
        char *d = scratch_new(base);

        for (size_t i = 0; i < ELEMENTSOF(scratch_dirs); i++)
                if (!scratch_dirs[i]) {
                        scratch_dirs[i] = d;
                        *state = d;
                        return 0;
                }
        scratch_free(d);
        return -1;
}

static int setup_scratch(void **state)
{
        const char *tmpdir = getenv("TMPDIR");

        return scratch_register(state, tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
}

static int setup_root_scratch(void **state)
{
        if (geteuid() != 0)
                return setup_scratch(state);
        return scratch_register(state, "/run");
}

static int teardown_scratch(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(scratch_dirs); i++)
                if (scratch_dirs[i] == *state)
                        scratch_dirs[i] = NULL;
        scratch_free(*state);
        return 0;
}

static int teardown_group(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(scratch_dirs); i++)
                if (scratch_dirs[i]) {
                        (void) chmod(scratch_dirs[i], 0700);
                        (void) rm_rf_at(AT_FDCWD, scratch_dirs[i]);
                        free(scratch_dirs[i]);
                        scratch_dirs[i] = NULL;
                }
        return 0;
}

/* ---- building plans ------------------------------------------------------- */

static struct sbx_mount_plan *build_ok(const struct sbx_policy *p, const struct sbx_user *u)
{
        struct sbx_mount_plan *plan = NULL;
        cleanup_free char *err = NULL;
        int r = sbx_mount_plan_build(p, u, &plan, &err);

        if (r < 0)
                print_error("unexpected plan error %d: %s\n", r, sbx_strna(err));
        assert_int_equal(r, 0);
        assert_null(err);
        assert_non_null(plan);
        return plan;
}

static void build_fails(const struct sbx_policy *p, const struct sbx_user *u, int expected_r,
                        const char *expected_msg)
{
        struct sbx_mount_plan *plan = NULL;
        cleanup_free char *err = NULL;
        int r = sbx_mount_plan_build(p, u, &plan, &err);

        assert_int_equal(r, expected_r);
        assert_null(plan);
        assert_non_null(err);
        assert_string_equal(err, expected_msg);
}

/* All descriptions, one per line. */
static char *describe_all(const struct sbx_mount_plan *plan)
{
        char *all = NULL, *tmp;
        char buf[1024];

        all = strdup("");
        assert_non_null(all);
        for (size_t i = 0; i < sbx_mount_plan_count(plan); i++) {
                sbx_mount_plan_describe(plan, (int) i, buf, sizeof(buf));
                assert_true(asprintf(&tmp, "%s%s\n", all, buf) >= 0);
                free(all);
                all = tmp;
        }
        return all;
}

static void assert_plan(const struct sbx_mount_plan *plan, const char *expected)
{
        char *all = describe_all(plan);
        bool same = strcmp(all, expected) == 0;

        if (!same)
                print_error("plan:\n%s\nexpected:\n%s\n", all, expected);
        free(all);
        assert_true(same);
}

static const struct sbx_user test_user = {
    .uid = 4242, .gid = 4242, .name = (char *) "alice", .home = (char *) "/nonexistent"};

/* ---- pure tests (no root) ------------------------------------------------- */

static void test_sorting(void **state)
{
        const char *s = *state;
        struct pol *t = pol_new();
        struct sbx_mount_plan *plan;
        cleanup_free char *expected = NULL;

        mkdirf("%s/a", s);
        mkdirf("%s/a/b", s);
        mkdirf("%s/a/b/c", s);
        mkdirf("%s/z", s);
        add_ro(t, false, "%s/a/b/c", s);
        add_rw(t, false, "%s/a/b", s);
        add_inacc(t, false, "%s/z", s);
        add_ro(t, false, "%s/a", s);
        add_ro(t, false, "/");
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(sbx_mount_plan_count(plan), 5);
        assert_true(asprintf(&expected,
                             "ReadOnlyPaths: '/'\n"
                             "ReadOnlyPaths: '%1$s/a'\n"
                             "InaccessiblePaths: '%1$s/z'\n"
                             "ReadWritePaths: '%1$s/a/b'\n"
                             "ReadOnlyPaths: '%1$s/a/b/c'\n",
                             s) >= 0);
        assert_plan(plan, expected);
        sbx_mount_plan_free(plan);
        pol_free(t);
}

static void test_specifiers(void **state)
{
        const char *s = *state;
        struct pol *t = pol_new();
        struct sbx_mount_plan *plan;
        struct sbx_user u = test_user;
        cleanup_free char *expected = NULL, *home = NULL, *msg = NULL;

        assert_true(asprintf(&home, "%s/home", s) >= 0);
        u.home = home;
        mkdirf("%s/home", s);
        mkdirf("%s/home/work", s);
        mkdirf("%s/alice-4242", s);
        mkdirf("%s/100%%", s);
        add_rw(t, false, "%%h/work");
        add_ro(t, false, "%s/%%u-%%U", s);
        add_inacc(t, false, "%s/100%%%%", s);
        add_bind(t, true, false, "%h", "%h/work");
        plan = build_ok(&t->p, &u);
        assert_true(asprintf(&expected,
                             "InaccessiblePaths: '%1$s/100%%'\n"
                             "ReadOnlyPaths: '%1$s/alice-4242'\n"
                             "BindReadOnlyPaths: '%1$s/home' -> '%1$s/home/work'\n"
                             "ReadWritePaths: '%1$s/home/work'\n",
                             s) >= 0);
        assert_plan(plan, expected);
        sbx_mount_plan_free(plan);

        /* Without a user, specifiers cannot be expanded. */
        plan = NULL;
        assert_int_equal(sbx_mount_plan_build(&t->p, NULL, &plan, &msg), -EINVAL);
        assert_null(plan);
        free(expected);
        assert_true(asprintf(&expected,
                             "ReadOnlyPaths: '%s/%%u-%%U' uses specifiers but there is no user",
                             s) >= 0);
        assert_string_equal(msg, expected);
        pol_free(t);

        t = pol_new();
        add_ro(t, false, "/usr/%%x");
        build_fails(&t->p, &u, -EINVAL, "ReadOnlyPaths: cannot expand the specifiers in '/usr/%x'");
        pol_free(t);

        /* A home that makes the path relative or unnormalized is refused. */
        t = pol_new();
        u.home = (char *) "relative";
        add_ro(t, false, "%%h");
        build_fails(&t->p, &u, -EINVAL,
                    "ReadOnlyPaths: 'relative' is not a normalized absolute path");
        pol_free(t);
}

static void test_ignore_missing(void **state)
{
        const char *s = *state;
        struct pol *t = pol_new();
        struct sbx_mount_plan *plan;
        cleanup_free char *msg = NULL;

        mkdirf("%s/here", s);
        add_ro(t, true, "%s/missing", s);
        add_rw(t, true, "%s/missing/deeper", s);
        add_inacc(t, true, "%s/here/missing", s);
        add_bind(t, false, true, "/nonexistent-sbx-source", "/usr");
        add_ro(t, false, "%s/here", s);
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(sbx_mount_plan_count(plan), 1);
        sbx_mount_plan_free(plan);
        pol_free(t);

        t = pol_new();
        add_ro(t, false, "/nonexistent-sbx-test");
        build_fails(&t->p, &test_user, -ENOENT,
                    "ReadOnlyPaths: '/nonexistent-sbx-test' does not exist");
        pol_free(t);

        t = pol_new();
        add_bind(t, false, false, "/nonexistent-sbx-source", "/usr");
        build_fails(&t->p, &test_user, -ENOENT,
                    "BindPaths: source '/nonexistent-sbx-source' does not exist");
        pol_free(t);

        /* "-" on a bind is about its source: a missing target is still an error. */
        t = pol_new();
        add_bind(t, true, true, "/usr", "/nonexistent-sbx-target");
        build_fails(&t->p, &test_user, -ENOENT,
                    "BindReadOnlyPaths: target '/nonexistent-sbx-target' does not exist");
        pol_free(t);

        /* A file where a directory should be counts as missing. */
        t = pol_new();
        write_file("x", "%s/file", s);
        add_inacc(t, true, "%s/file/below", s);
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(sbx_mount_plan_count(plan), 0);
        sbx_mount_plan_free(plan);
        pol_free(t);

        /* Symbolic links are refused, even with "-". */
        t = pol_new();
        assert_true(asprintf(&msg, "%s/link", s) >= 0);
        assert_int_equal(symlink("here", msg), 0);
        add_ro(t, true, "%s/link", s);
        free(msg);
        assert_true(asprintf(&msg, "ReadOnlyPaths: '%s/link' goes through a symbolic link", s) >=
                    0);
        build_fails(&t->p, &test_user, -ELOOP, msg);
        pol_free(t);
        t = pol_new();
        add_ro(t, false, "%s/link/x", s);
        free(msg);
        assert_true(asprintf(&msg, "ReadOnlyPaths: '%s/link/x' goes through a symbolic link", s) >=
                    0);
        build_fails(&t->p, &test_user, -ELOOP, msg);
        pol_free(t);
}

static void test_conflicts(void **state)
{
        const char *s = *state;
        struct pol *t;
        struct sbx_mount_plan *plan;
        cleanup_free char *msg = NULL, *a = NULL;

        mkdirf("%s/a", s);
        mkdirf("%s/a/b", s);
        assert_true(asprintf(&a, "%s/a", s) >= 0);

        /* Duplicates are dropped; the more restrictive of Inaccessible/ReadOnly wins. */
        t = pol_new();
        add_ro(t, false, "%s", a);
        add_ro(t, false, "%s/", a);
        add_inacc(t, false, "%s", a);
        add_ro(t, false, "%s/b", a);
        add_inacc(t, false, "%s/b", a);
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(sbx_mount_plan_count(plan), 1);
        sbx_mount_plan_free(plan);
        pol_free(t);

        t = pol_new();
        add_ro(t, false, "%s", a);
        add_rw(t, false, "%s", a);
        assert_true(asprintf(&msg, "ReadWritePaths: '%s' is also in ReadOnlyPaths", a) >= 0);
        build_fails(&t->p, &test_user, -EINVAL, msg);
        pol_free(t);

        t = pol_new();
        add_inacc(t, false, "%s", a);
        add_rw(t, false, "%s/b", a);
        free(msg);
        assert_true(asprintf(&msg, "ReadWritePaths: '%s/b' is hidden by InaccessiblePaths '%s'", a,
                             a) >= 0);
        build_fails(&t->p, &test_user, -EINVAL, msg);
        pol_free(t);

        t = pol_new();
        add_inacc(t, false, "%s", a);
        add_bind(t, false, false, "/usr", a);
        add_tmpfs(t, a, NULL);
        free(msg);
        assert_true(asprintf(&msg, "BindPaths: '%s' is also mounted by TemporaryFileSystem", a) >=
                    0);
        build_fails(&t->p, &test_user, -EINVAL, msg);
        pol_free(t);

        t = pol_new();
        t->p.private_tmp = true;
        add_tmpfs(t, "/tmp", "mode=0700");
        build_fails(&t->p, &test_user, -EINVAL,
                    "TemporaryFileSystem: '/tmp' is also mounted by PrivateTmp");
        pol_free(t);

        t = pol_new();
        add_bind(t, false, false, "/usr", "/");
        build_fails(&t->p, &test_user, -EINVAL, "BindPaths: cannot mount over '/'");
        pol_free(t);

        t = pol_new();
        add_inacc(t, false, "/");
        build_fails(&t->p, &test_user, -EINVAL, "InaccessiblePaths: cannot hide '/'");
        pol_free(t);

        /* Nothing to mount without a mount namespace. */
        t = pol_new();
        t->p.namespaces = 1u << SBX_NS_PID;
        add_ro(t, false, "/usr");
        build_fails(&t->p, &test_user, -EINVAL,
                    "[Files] settings need the mount namespace (Namespaces=mount)");
        pol_free(t);
        t = pol_new();
        t->p.namespaces = 0;
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(sbx_mount_plan_count(plan), 0);
        sbx_mount_plan_free(plan);
        pol_free(t);
}

static void test_tmpfs_and_binds(void **state)
{
        const char *s = *state;
        struct pol *t;
        struct sbx_mount_plan *plan;
        cleanup_free char *expected = NULL, *msg = NULL, *src = NULL, *tmp = NULL, *dst = NULL;

        mkdirf("%s/src", s);
        mkdirf("%s/src/sub", s);
        mkdirf("%s/dst", s);
        mkdirf("%s/tmp", s);
        assert_true(asprintf(&src, "%s/src", s) >= 0);
        assert_true(asprintf(&dst, "%s/dst", s) >= 0);
        assert_true(asprintf(&tmp, "%s/tmp/x/y", s) >= 0);

        /* Mount points below our own tmpfs are created in the child; paths below a
         * bind are checked in its source. */
        t = pol_new();
        add_tmpfs(t, pol_printf(t, "%s/tmp", s), NULL);
        add_bind(t, true, false, src, tmp);
        add_bind(t, false, false, src, dst);
        add_ro(t, false, "%s/sub", dst);
        add_inacc(t, true, "%s/tmp/missing", s);
        plan = build_ok(&t->p, &test_user);
        assert_true(asprintf(&expected,
                             "BindPaths: '%1$s/src' -> '%1$s/dst'\n"
                             "TemporaryFileSystem: '%1$s/tmp'\n"
                             "ReadOnlyPaths: '%1$s/dst/sub'\n"
                             "BindReadOnlyPaths: '%1$s/src' -> '%1$s/tmp/x/y'\n",
                             s) >= 0);
        assert_plan(plan, expected);
        sbx_mount_plan_free(plan);
        pol_free(t);

        t = pol_new();
        add_bind(t, false, false, src, dst);
        add_ro(t, false, "%s/nothere", dst);
        assert_true(asprintf(&msg,
                             "ReadOnlyPaths: '%1$s/dst/nothere' does not exist "
                             "(as '%1$s/src/nothere' in BindPaths)",
                             s) >= 0);
        build_fails(&t->p, &test_user, -ENOENT, msg);
        pol_free(t);

        t = pol_new();
        add_tmpfs(t, pol_printf(t, "%s/tmp", s), NULL);
        add_ro(t, false, "%s/tmp/a", s);
        free(msg);
        assert_true(asprintf(&msg,
                             "ReadOnlyPaths: '%1$s/tmp/a' does not exist below "
                             "TemporaryFileSystem '%1$s/tmp'",
                             s) >= 0);
        build_fails(&t->p, &test_user, -ENOENT, msg);
        pol_free(t);

        t = pol_new();
        add_tmpfs(t, pol_printf(t, "%s/tmp", s), "ro,mode=0755");
        add_bind(t, false, false, src, tmp);
        free(msg);
        assert_true(asprintf(&msg,
                             "BindPaths: '%1$s/tmp/x/y' needs a mount point in the read-only "
                             "TemporaryFileSystem '%1$s/tmp'",
                             s) >= 0);
        build_fails(&t->p, &test_user, -EINVAL, msg);
        pol_free(t);

        t = pol_new();
        add_tmpfs(t, pol_printf(t, "%s/tmp", s), "mode=0700,suid");
        free(msg);
        assert_true(asprintf(&msg, "TemporaryFileSystem: '%s/tmp' has an unsupported option 'suid'",
                             s) >= 0);
        build_fails(&t->p, &test_user, -EINVAL, msg);
        pol_free(t);
}

/* A private network namespace gets a fresh sysfs (only its own interfaces),
 * with the host's cgroup mounts bound on it, read-only under ReadOnlyPaths=/. */
static void test_sysfs(void **state)
{
        struct pol *t = pol_new();
        struct sbx_mount_plan *plan;

        (void) state;
        /* Without a network namespace, the host's sysfs stays. */
        add_ro(t, false, "/");
        plan = build_ok(&t->p, &test_user);
        assert_plan(plan, "ReadOnlyPaths: '/'\n");
        assert_false(sbx_mount_plan_fresh_sysfs(plan));
        sbx_mount_plan_free(plan);

        t->p.namespaces |= 1u << SBX_NS_NET;
        plan = build_ok(&t->p, &test_user);
        assert_plan(plan, "ReadOnlyPaths: '/'\n"
                          "Namespaces=net: '/sys' (sysfs)\n");
        assert_true(sbx_mount_plan_fresh_sysfs(plan));
        sbx_mount_plan_free(plan);

        /* With limits the plan is the same: the init mounts its own cgroup's
         * view on /sys/fs/cgroup later (cgroup-view.c), never the host's tree. */
        t->p.limits.set = 1u << SBX_LIMIT_TASKS_MAX;
        plan = build_ok(&t->p, &test_user);
        assert_plan(plan, "ReadOnlyPaths: '/'\n"
                          "Namespaces=net: '/sys' (sysfs)\n");
        sbx_mount_plan_free(plan);

        /* Entries below /sys apply to the fresh sysfs, checked on the host's. */
        add_ro(t, false, "/sys/kernel");
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(sbx_mount_plan_count(plan), 3);
        sbx_mount_plan_free(plan);
        pol_free(t);
}

static void test_composite(void **state)
{
        struct pol *t = pol_new();
        struct sbx_mount_plan *plan;
        char buf[128];

        (void) state;
        t->p.namespaces |= 1u << SBX_NS_PID;
        t->p.private_tmp = true;
        t->p.private_devices = true;
        add_inacc(t, false, "/dev/shm");
        add_ro(t, true, "/dev/nonexistent");
        add_ro(t, false, "/");
        plan = build_ok(&t->p, &test_user);
        assert_plan(plan, "ReadOnlyPaths: '/'\n"
                          "PrivateDevices: '/dev' (tmpfs)\n"
                          "PrivateDevices: '/dev/null' -> '/dev/null' (device node)\n"
                          "PrivateDevices: '/dev/zero' -> '/dev/zero' (device node)\n"
                          "PrivateDevices: '/dev/full' -> '/dev/full' (device node)\n"
                          "PrivateDevices: '/dev/random' -> '/dev/random' (device node)\n"
                          "PrivateDevices: '/dev/urandom' -> '/dev/urandom' (device node)\n"
                          "PrivateDevices: '/dev/tty' -> '/dev/tty' (device node)\n"
                          "PrivateDevices: '/dev/pts' (devpts)\n"
                          "PrivateDevices: '/dev/shm' (tmpfs)\n"
                          "PrivateDevices: '/dev/ptmx' -> 'pts/ptmx' (symlink)\n"
                          "PrivateDevices: '/dev/fd' -> '/proc/self/fd' (symlink)\n"
                          "PrivateDevices: '/dev/stdin' -> '/proc/self/fd/0' (symlink)\n"
                          "PrivateDevices: '/dev/stdout' -> '/proc/self/fd/1' (symlink)\n"
                          "PrivateDevices: '/dev/stderr' -> '/proc/self/fd/2' (symlink)\n"
                          "Namespaces=pid: '/proc' (proc)\n"
                          "Namespaces=pid: '/proc/sys' (read-only)\n"
                          "Namespaces=pid: '/proc/sysrq-trigger' (read-only)\n"
                          "Namespaces=pid: '/proc/irq' (read-only)\n"
                          "Namespaces=pid: '/proc/bus' (read-only)\n"
                          "PrivateTmp: '/tmp'\n"
                          "InaccessiblePaths: '/dev/shm'\n"
                          "PrivateTmp: '/var/tmp'\n");

        assert_string_equal(sbx_mount_plan_describe(plan, SBX_MOUNT_INDEX_SETUP, buf, sizeof(buf)),
                            "making the new mount namespace private");
        assert_string_equal(sbx_mount_plan_describe(plan, 999, buf, sizeof(buf)), "mount step 999");
        /* Truncated, never overflowing (the escaping keeps room for one "\\xNN"). */
        assert_string_equal(sbx_mount_plan_describe(plan, 0, buf, 8), "Rea");
        assert_string_equal(sbx_mount_plan_describe(NULL, 0, buf, sizeof(buf)), "mount step 0");
        sbx_mount_plan_free(plan);

        /* Outside the private /dev, paths below it do not exist. */
        t->inacc[0].path = (char *) "/dev/kmsg";
        build_fails(&t->p, &test_user, -ENOENT,
                    "InaccessiblePaths: '/dev/kmsg' does not exist below PrivateDevices '/dev'");
        pol_free(t);
}

/* The same through the real parser: its conventions (targets filled in, "-"
 * prefixes, options, PrivateDevices on by default) are what the plan expects. */
static void test_from_policy_text(void **state)
{
        const char *s = *state;
        struct sbx_policy *p = NULL;
        struct sbx_mount_plan *plan;
        struct sbx_user u = test_user;
        cleanup_free char *text = NULL, *err = NULL, *expected = NULL, *home = NULL;

        mkdirf("%s/home", s);
        mkdirf("%s/src", s);
        mkdirf("%s/t", s);
        assert_true(asprintf(&home, "%s/home", s) >= 0);
        u.home = home;
        assert_true(asprintf(&text,
                             "[Sandbox]\n"
                             "Namespaces = mount ipc uts\n"
                             "[Files]\n"
                             "ReadOnlyPaths = / -/nonexistent-sbx\n"
                             "ReadWritePaths = %%h\n"
                             "BindReadOnlyPaths = %1$s/src -%1$s/missing:/usr\n"
                             "TemporaryFileSystem = %1$s/t:mode=0700,size=1M\n",
                             s) >= 0);
        if (sbx_policy_parse_string(text, strlen(text), "t", "t.ini", &p, &err) < 0)
                print_error("%s\n", sbx_strna(err));
        assert_non_null(p);
        plan = build_ok(p, &u);
        assert_true(asprintf(&expected,
                             "ReadOnlyPaths: '/'\n"
                             "PrivateDevices: '/dev' (tmpfs)\n"
                             "PrivateDevices: '/dev/null' -> '/dev/null' (device node)\n"
                             "PrivateDevices: '/dev/zero' -> '/dev/zero' (device node)\n"
                             "PrivateDevices: '/dev/full' -> '/dev/full' (device node)\n"
                             "PrivateDevices: '/dev/random' -> '/dev/random' (device node)\n"
                             "PrivateDevices: '/dev/urandom' -> '/dev/urandom' (device node)\n"
                             "PrivateDevices: '/dev/tty' -> '/dev/tty' (device node)\n"
                             "PrivateDevices: '/dev/pts' (devpts)\n"
                             "PrivateDevices: '/dev/shm' (tmpfs)\n"
                             "PrivateDevices: '/dev/ptmx' -> 'pts/ptmx' (symlink)\n"
                             "PrivateDevices: '/dev/fd' -> '/proc/self/fd' (symlink)\n"
                             "PrivateDevices: '/dev/stdin' -> '/proc/self/fd/0' (symlink)\n"
                             "PrivateDevices: '/dev/stdout' -> '/proc/self/fd/1' (symlink)\n"
                             "PrivateDevices: '/dev/stderr' -> '/proc/self/fd/2' (symlink)\n"
                             "ReadWritePaths: '%1$s/home'\n"
                             "BindReadOnlyPaths: '%1$s/src' -> '%1$s/src'\n"
                             "TemporaryFileSystem: '%1$s/t'\n",
                             s) >= 0);
        assert_plan(plan, expected);
        sbx_mount_plan_free(plan);
        sbx_policy_free(p);
}

static void test_apply_refuses_same_namespace(void **state)
{
        struct pol *t = pol_new();
        struct sbx_mount_plan *plan;
        int failed = 1234;

        (void) state;
        add_ro(t, false, "/");
        plan = build_ok(&t->p, &test_user);
        /* Here, in the namespace it was built in, it must not touch anything. */
        assert_int_equal(sbx_mount_apply_child(plan, &failed), -EBUSY);
        assert_int_equal(failed, SBX_MOUNT_INDEX_SETUP);
        sbx_mount_plan_free(plan);
        pol_free(t);

        assert_null(sbx_mount_plan_free(NULL));
        assert_int_equal(sbx_mount_plan_count(NULL), 0);
}

/* ---- root tests: apply plans in fresh namespaces -------------------------- */

static const char *skip_reason(void)
{
        static char reason[128];
        pid_t pid;
        int status;

        if (geteuid() != 0)
                return "not running as root";
        /* Valgrind 3.19 and kernels before 5.12 lack some of the mount API. */
        errno = 0;
        if ((syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno == ENOSYS) ||
            (syscall(SYS_open_tree, -1, "", 0) < 0 && errno == ENOSYS) ||
            (syscall(SYS_move_mount, -1, "", -1, "", 0) < 0 && errno == ENOSYS) ||
            (syscall(SYS_fsopen, "", 0) < 0 && errno == ENOSYS))
                return "the mount API (open_tree, move_mount, fsopen, mount_setattr) is missing "
                       "(old kernel, or valgrind)";
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(unshare(CLONE_NEWNS | CLONE_NEWPID) < 0 ? errno : 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                (void) snprintf(reason, sizeof(reason), "cannot unshare mount+pid namespaces: %s",
                                strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EIO));
                return reason;
        }
        return NULL;
}

#define SKIP_UNLESS_ROOT()                                                                         \
        do {                                                                                       \
                const char *why = skip_reason();                                                   \
                if (why) {                                                                         \
                        print_message("skipping: %s\n", why);                                      \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

/* In the sandbox: report a failed check on OUT. */
#define CHECK(out, cond, ...)                                                                      \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        dprintf(out, "FAIL line %d: %s: ", __LINE__, #cond);                       \
                        dprintf(out, __VA_ARGS__);                                                 \
                        dprintf(out, " (errno %s)\n", strerror(errno));                            \
                }                                                                                  \
        } while (0)

typedef void (*inside_fn)(int out, void *userdata);

/* Forks a child that unshares mount and PID namespaces and forks again, so the
 * grandchild is PID 1 of the new PID namespace; it runs PRE, applies PLAN and runs FN,
 * which writes failures to a pipe. Returns what was written; *RET_R and
 * *RET_FAILED get the result of sbx_mount_apply_child(). */
static char *run_inside(const struct sbx_mount_plan *plan, inside_fn pre, inside_fn fn,
                        void *userdata, int *ret_r, int *ret_failed)
{
        int pfd[2], rpipe[2], status, res[2] = {0, -99};
        char *out = NULL;
        size_t len = 0;
        FILE *f;
        pid_t pid;

        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        assert_int_equal(pipe2(rpipe, O_CLOEXEC), 0);
        (void) fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                pid_t g;

                (void) close(pfd[0]);
                (void) close(rpipe[0]);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0) {
                        dprintf(pfd[1], "FAIL unshare: %s\n", strerror(errno));
                        _exit(1);
                }
                g = fork();
                if (g < 0)
                        _exit(1);
                if (g == 0) {
                        int failed = -99, r;

                        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                        if (pre)
                                pre(pfd[1], userdata);
                        r = sbx_mount_apply_child(plan, &failed);
                        res[0] = r;
                        res[1] = failed;
                        if (write(rpipe[1], res, sizeof(res)) != sizeof(res))
                                _exit(1);
                        if (r >= 0 && fn)
                                fn(pfd[1], userdata);
                        _exit(0);
                }
                if (waitpid(g, &status, 0) != g)
                        _exit(1);
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        }
        (void) close(pfd[1]);
        (void) close(rpipe[1]);
        f = open_memstream(&out, &len);
        assert_non_null(f);
        for (;;) {
                char buf[4096];
                ssize_t n = read(pfd[0], buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                assert_int_equal(fwrite(buf, 1, (size_t) n, f), (size_t) n);
        }
        assert_int_equal(fclose(f), 0);
        assert_int_equal(read(rpipe[0], res, sizeof(res)), sizeof(res));
        (void) close(pfd[0]);
        (void) close(rpipe[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        *ret_r = res[0];
        *ret_failed = res[1];
        return out;
}

static char *read_text(const char *path)
{
        char *text = NULL;
        size_t len = 0;
        FILE *in = fopen(path, "re"), *f;
        char buf[4096];
        size_t n;

        assert_non_null(in);
        f = open_memstream(&text, &len);
        assert_non_null(f);
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                assert_int_equal(fwrite(buf, 1, n, f), n);
        (void) fclose(in);
        assert_int_equal(fclose(f), 0);
        return text;
}

/* Sorted, comma-separated names in DIR, without "." and "..". */
static int list_dir(const char *dir, char *buf, size_t len)
{
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        size_t o = 0;

        buf[0] = '\0';
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
                        o += (size_t) snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "",
                                               names[i]->d_name);
                free(names[i]);
        }
        free(names);
        return 0;
}

struct strict {
        const char *s;
        char tmp_name[64];
        dev_t host_pts_dev;
};

static int count_pids(void)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d)))
                if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
                        n++;
        (void) closedir(d);
        return n;
}

static bool fs_flag(const char *path, unsigned long flag)
{
        struct statvfs sv;

        return statvfs(path, &sv) == 0 && (sv.f_flag & flag);
}

static bool is_tmpfs(const char *path)
{
        struct statfs sf;

        return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC_NUMBER;
}

static int try_create(const char *fmt, ...) sbx_printf(1, 2);
static int try_create(const char *fmt, ...)
{
        cleanup_free char *path = NULL;
        va_list ap;
        int fd, n;

        va_start(ap, fmt);
        n = vasprintf(&path, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, "x", 1) != 1) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        (void) close(fd);
        return 0;
}

static int try_open(int flags, const char *fmt, ...) sbx_printf(2, 3);
static int try_open(int flags, const char *fmt, ...)
{
        cleanup_free char *path = NULL;
        va_list ap;
        int fd, n;

        va_start(ap, fmt);
        n = vasprintf(&path, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void) close(fd);
        return 0;
}

static void inside_strict(int out, void *userdata)
{
        const struct strict *st = userdata;
        const char *s = st->s;
        char buf[1024], path[PATH_MAX], link[64];
        struct stat sb;
        ssize_t n;
        int fd;

        /* PID namespace and its /proc */
        CHECK(out, getpid() == 1, "pid %d", (int) getpid());
        n = readlink("/proc/self", link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = '\0';
        CHECK(out, strcmp(link, "1") == 0, "/proc/self -> '%s'", link);
        CHECK(out, count_pids() == 1, "%d pids in /proc", count_pids());
        /* We are /proc/1: our parent is outside the namespace, so ppid 0. */
        fd = open("/proc/1/stat", O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        buf[n > 0 ? n : 0] = '\0';
        if (fd >= 0)
                (void) close(fd);
        CHECK(out, strstr(buf, ") S 0 ") || strstr(buf, ") R 0 "), "/proc/1/stat: '%s'", buf);
        CHECK(out,
              fs_flag("/proc", ST_NOSUID) && fs_flag("/proc", ST_NODEV) &&
                  fs_flag("/proc", ST_NOEXEC),
              "/proc flags");
        CHECK(out, try_open(O_WRONLY, "/proc/sys/kernel/hostname") == -EROFS, "/proc/sys");
        /* Not every kernel has it (CONFIG_MAGIC_SYSRQ); then it is skipped quietly. */
        n = try_open(O_WRONLY, "/proc/sysrq-trigger");
        CHECK(out, n == -EROFS || n == -ENOENT, "/proc/sysrq-trigger: %zd", n);
        CHECK(out,
              fs_flag("/proc/bus", ST_RDONLY) && fs_flag("/proc/irq", ST_RDONLY) &&
                  fs_flag("/proc/sys", ST_RDONLY) && !fs_flag("/proc", ST_RDONLY),
              "read-only parts of /proc");

        /* Read-only root */
        CHECK(out, try_create("/usr/.sbx-test-mount") == -EROFS, "create under /usr");
        CHECK(out, try_open(O_WRONLY, "/usr/lib/os-release") == -EROFS,
              "write /usr/lib/os-release");
        CHECK(out, mkdir("/.sbx-test-mount", 0755) < 0 && errno == EROFS, "mkdir in /");
        CHECK(out, try_create("%s/unlisted", s) == -EROFS, "scratch dir outside rw");

        /* ReadWritePaths, also through %h */
        CHECK(out, try_create("%s/rw/new", s) == 0, "write in ReadWritePaths");
        CHECK(out, try_create("%s/home/work/new", s) == 0, "write in ReadWritePaths %%h/work");

        /* InaccessiblePaths as root: empty, mode 000 */
        CHECK(out, stat(s, &sb) == 0, "stat scratch");
        (void) snprintf(path, sizeof(path), "%s/hidden", s);
        CHECK(out, stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 07777) == 0,
              "hidden dir mode %o", sb.st_mode);
        CHECK(out, list_dir(path, buf, sizeof(buf)) == 0 && buf[0] == '\0', "hidden dir lists '%s'",
              buf);
        (void) snprintf(buf, sizeof(buf), "%s/secret", s);
        CHECK(out,
              stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 07777) == 0 &&
                  sb.st_size == 0,
              "secret file mode %o size %lld", sb.st_mode, (long long) sb.st_size);
        fd = open(buf, O_RDONLY | O_CLOEXEC);
        CHECK(out, fd >= 0 && read(fd, buf, sizeof(buf)) == 0, "secret file reads empty");
        if (fd >= 0)
                (void) close(fd);
        CHECK(out, try_open(O_WRONLY, "%s/secret", s) == -EROFS, "secret file writable");
        (void) snprintf(buf, sizeof(buf), "%s/fifo", s);
        CHECK(out, stat(buf, &sb) == 0 && S_ISREG(sb.st_mode), "fifo covered by a file");

        /* Private /tmp and /var/tmp */
        CHECK(out, list_dir("/tmp", buf, sizeof(buf)) == 0 && buf[0] == '\0', "/tmp lists '%s'",
              buf);
        CHECK(out, stat("/tmp", &sb) == 0 && (sb.st_mode & 07777) == 01777, "/tmp mode %o",
              sb.st_mode);
        CHECK(out, is_tmpfs("/tmp") && fs_flag("/tmp", ST_NOSUID) && fs_flag("/tmp", ST_NODEV),
              "/tmp fs");
        CHECK(out, try_create("/tmp/%s", st->tmp_name) == 0, "write /tmp");
        CHECK(out, is_tmpfs("/var/tmp") && try_create("/var/tmp/%s", st->tmp_name) == 0,
              "/var/tmp");

        /* Minimal /dev */
        CHECK(out,
              list_dir("/dev", buf, sizeof(buf)) == 0 &&
                  strcmp(buf, "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,"
                              "tty,urandom,zero") == 0,
              "/dev lists '%s'", buf);
        CHECK(out, is_tmpfs("/dev") && fs_flag("/dev", ST_NOSUID) && fs_flag("/dev", ST_NOEXEC),
              "/dev fs");
        CHECK(out, stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode), "/dev/null is a device");
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK(out, fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null");
        if (fd >= 0)
                (void) close(fd);
        fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        CHECK(out, fd >= 0 && read(fd, buf, 4) == 4 && buf[0] == 0 && buf[3] == 0, "/dev/zero");
        if (fd >= 0)
                (void) close(fd);
        CHECK(out, try_open(O_RDONLY, "/dev/urandom") == 0, "/dev/urandom");
        n = readlink("/dev/ptmx", link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = '\0';
        CHECK(out, strcmp(link, "pts/ptmx") == 0, "/dev/ptmx -> '%s'", link);
        n = readlink("/dev/stderr", link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = '\0';
        CHECK(out, strcmp(link, "/proc/self/fd/2") == 0, "/dev/stderr -> '%s'", link);
        CHECK(out, stat("/dev/fd/0", &sb) == 0, "/dev/fd/0");

        /* A new devpts instance: not the host's, and without its ptys */
        CHECK(out, stat("/dev/pts", &sb) == 0 && sb.st_dev != st->host_pts_dev,
              "/dev/pts is the host's");
        CHECK(out, list_dir("/dev/pts", buf, sizeof(buf)) == 0 && strcmp(buf, "ptmx") == 0,
              "/dev/pts lists '%s'", buf);
        fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        CHECK(out, fd >= 0 && grantpt(fd) == 0 && unlockpt(fd) == 0, "open a pty");
        if (fd >= 0) {
                const char *name = ptsname(fd);
                int sfd;

                CHECK(out, name && strcmp(name, "/dev/pts/0") == 0, "pty is '%s'", sbx_strna(name));
                sfd = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
                CHECK(out, sfd >= 0 && fstat(sfd, &sb) == 0 && (sb.st_mode & 0777) == 0620,
                      "pty slave mode %o", sb.st_mode);
                if (sfd >= 0)
                        (void) close(sfd);
                (void) close(fd);
        }
        CHECK(out,
              stat("/dev/shm", &sb) == 0 && (sb.st_mode & 07777) == 01777 &&
                  try_create("/dev/shm/x") == 0,
              "/dev/shm");

        /* Binds */
        CHECK(out, try_create("%s/btgt/written", s) == 0, "write through BindPaths");
        CHECK(out, try_open(O_RDONLY, "%s/bsrc/written", s) == 0, "bind shows in its source");
        (void) snprintf(path, sizeof(path), "%s/btgt/written", s);
        CHECK(out, unlink(path) == 0, "unlink through BindPaths");
        (void) snprintf(path, sizeof(path), "%s/btgt", s);
        CHECK(out, fs_flag(path, ST_NOSUID) && fs_flag(path, ST_NODEV), "bind nosuid,nodev");
        CHECK(out, try_open(O_RDONLY, "%s/brotgt/hello", s) == 0, "read BindReadOnlyPaths");
        CHECK(out, try_create("%s/brotgt/new", s) == -EROFS, "write BindReadOnlyPaths");

        /* TemporaryFileSystem with binds into it */
        (void) snprintf(path, sizeof(path), "%s/tmpfs", s);
        CHECK(out, is_tmpfs(path) && stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0700,
              "TemporaryFileSystem mode %o", sb.st_mode);
        CHECK(out, try_open(O_RDONLY, "%s/tmpfs/sub/dir/hello", s) == 0, "bind into the tmpfs");
        (void) snprintf(path, sizeof(path), "%s/tmpfs/file", s);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, link, sizeof(link) - 1) : -1;
        link[n > 0 ? n : 0] = '\0';
        CHECK(out, strcmp(link, "hello") == 0, "file bound into the tmpfs reads '%s'", link);
        if (fd >= 0)
                (void) close(fd);

        /* Unprivileged now */
        CHECK(out,
              setgroups(0, NULL) == 0 && setresgid(65534, 65534, 65534) == 0 &&
                  setresuid(65534, 65534, 65534) == 0,
              "drop to 65534");
        CHECK(out, try_open(O_RDONLY | O_DIRECTORY, "%s/hidden", s) == -EACCES, "hidden dir");
        CHECK(out, try_open(O_RDONLY, "%s/hidden/inside", s) == -EACCES, "file in hidden dir");
        CHECK(out, try_open(O_RDONLY, "%s/secret", s) == -EACCES, "secret file");
        CHECK(out, try_open(O_RDONLY | O_NONBLOCK, "%s/fifo", s) == -EACCES, "fifo");
        CHECK(out, try_create("%s/rw/by-nobody", s) == 0, "ReadWritePaths as nobody");
        CHECK(out, try_create("/tmp/by-nobody") == 0, "/tmp as nobody");
        CHECK(out, try_create("/dev/shm/by-nobody") == 0, "/dev/shm as nobody");
        CHECK(out, try_open(O_RDWR, "/dev/null") == 0, "/dev/null as nobody");
}

static void test_apply_strict(void **state)
{
        struct strict st = {0};
        struct pol *t;
        struct sbx_mount_plan *plan;
        struct sbx_user u = test_user;
        cleanup_free char *home = NULL, *before = NULL, *after = NULL, *out = NULL,
                          *host_tmp = NULL;
        const char *s;
        char path[PATH_MAX];
        struct stat sb;
        int r, failed;

        SKIP_UNLESS_ROOT();
        /* Not below /tmp or /var/tmp: PrivateTmp hides those. */
        s = *state;
        st.s = s;
        (void) snprintf(st.tmp_name, sizeof(st.tmp_name), "sbx-test-mount-%d-%ld", (int) getpid(),
                        (long) random());
        assert_int_equal(stat("/dev/pts", &sb), 0);
        st.host_pts_dev = sb.st_dev;
        assert_int_equal(chmod(s, 0755), 0);

        mkdirf("%s/rw", s);
        (void) snprintf(path, sizeof(path), "%s/rw", s);
        assert_int_equal(chmod(path, 0777), 0);
        mkdirf("%s/home", s);
        mkdirf("%s/home/work", s);
        mkdirf("%s/hidden", s);
        write_file("inside", "%s/hidden/inside", s);
        write_file("secret", "%s/secret", s);
        assert_true(asprintf(&home, "%s/fifo", s) >= 0);
        assert_int_equal(mkfifo(home, 0666), 0);
        free(home);
        mkdirf("%s/bsrc", s);
        write_file("hello", "%s/bsrc/hello", s);
        mkdirf("%s/btgt", s);
        mkdirf("%s/brotgt", s);
        mkdirf("%s/tmpfs", s);
        assert_true(asprintf(&home, "%s/home", s) >= 0);
        u.home = home;

        t = pol_new();
        t->p.namespaces |= 1u << SBX_NS_PID;
        t->p.private_tmp = true;
        t->p.private_devices = true;
        add_ro(t, false, "/");
        add_ro(t, true, "/nonexistent-sbx-test");
        add_rw(t, false, "%s/rw", s);
        add_rw(t, false, "%%h/work");
        add_inacc(t, false, "%s/hidden", s);
        add_inacc(t, false, "%s/secret", s);
        add_inacc(t, false, "%s/fifo", s);
        add_bind(t, false, false, pol_printf(t, "%s/bsrc", s), pol_printf(t, "%s/btgt", s));
        add_bind(t, true, false, pol_printf(t, "%s/bsrc", s), pol_printf(t, "%s/brotgt", s));
        add_bind(t, true, false, pol_printf(t, "%s/bsrc", s), pol_printf(t, "%s/tmpfs/sub/dir", s));
        add_bind(t, true, false, pol_printf(t, "%s/bsrc/hello", s),
                 pol_printf(t, "%s/tmpfs/file", s));
        add_tmpfs(t, pol_printf(t, "%s/tmpfs", s), "mode=0700,size=1M");
        plan = build_ok(&t->p, &u);

        before = read_text("/proc/self/mountinfo");
        out = run_inside(plan, NULL, inside_strict, &st, &r, &failed);
        after = read_text("/proc/self/mountinfo");
        if (r < 0) {
                char what[512];

                print_error("apply failed at %d (%s): %s\n", failed,
                            sbx_mount_plan_describe(plan, failed, what, sizeof(what)),
                            strerror(-r));
        }
        assert_int_equal(r, 0);
        if (strstr(out, "FAIL"))
                print_error("%s", out);
        assert_null(strstr(out, "FAIL"));

        /* Nothing leaked to the host. */
        assert_string_equal(before, after);
        assert_true(asprintf(&host_tmp, "/tmp/%s", st.tmp_name) >= 0);
        assert_int_equal(access(host_tmp, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        free(host_tmp);
        assert_true(asprintf(&host_tmp, "/var/tmp/%s", st.tmp_name) >= 0);
        assert_int_equal(access(host_tmp, F_OK), -1);
        free(host_tmp);
        host_tmp = NULL;
        /* What the sandbox wrote through ReadWritePaths is on the host. */
        (void) snprintf(path, sizeof(path), "%s/rw/by-nobody", s);
        assert_int_equal(access(path, F_OK), 0);

        sbx_mount_plan_free(plan);
        pol_free(t);
}

/* Before the plan, in the new namespace: a submount in a bind source, to tell
 * rbind from norbind. Made private first, so it cannot propagate to the host. */
static void pre_layers(int out, void *userdata)
{
        const char *s = userdata;
        char path[PATH_MAX];

        CHECK(out, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make private");
        (void) snprintf(path, sizeof(path), "%s/src/sub", s);
        CHECK(out, mount("tmpfs", path, "tmpfs", 0, "mode=0755") == 0, "submount");
        CHECK(out, try_create("%s/src/sub/marker", s) == 0, "marker");
}

static void inside_layers(int out, void *userdata)
{
        const char *s = userdata;
        char path[PATH_MAX], buf[64];
        struct stat sb;
        int fd;
        ssize_t n;

        CHECK(out, try_open(O_RDONLY, "%s/rec/sub/marker", s) == 0, "rbind keeps submounts");
        CHECK(out, try_open(O_RDONLY, "%s/norec/sub/marker", s) == -ENOENT,
              "norbind drops submounts");
        CHECK(out, try_open(O_RDONLY, "%s/norec/hello", s) == 0, "norbind shows the source");

        (void) snprintf(path, sizeof(path), "%s/t", s);
        CHECK(out, is_tmpfs(path) && fs_flag(path, ST_RDONLY), "read-only tmpfs, in place");
        CHECK(out, try_create("%s/t/x", s) == -EROFS, "write to read-only tmpfs");

        CHECK(out, try_open(O_WRONLY, "%s/file", s) == -EROFS, "read-only file");
        CHECK(out, try_open(O_RDONLY, "%s/file", s) == 0, "read-only file readable");
        CHECK(out, try_create("%s/beside", s) == 0, "next to the read-only file");

        (void) snprintf(path, sizeof(path), "%s/rec/hello", s);
        CHECK(out, stat(path, &sb) == 0 && sb.st_size == 0 && (sb.st_mode & 07777) == 0,
              "file hidden below a bind");
        (void) snprintf(path, sizeof(path), "%s/src/hello", s);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
        CHECK(out, n == 5, "the source itself is not hidden (%zd)", n);
        if (fd >= 0)
                (void) close(fd);

        CHECK(out, try_create("%s/robind/x", s) == -EROFS, "read-only bind");
        CHECK(out, try_create("%s/robind/w/x", s) == 0, "ReadWritePaths below a read-only bind");
        CHECK(out, try_create("%s/ro2/x", s) == 0, "ReadWritePaths on a read-only bind, in place");
}

static void test_apply_layers(void **state)
{
        struct pol *t;
        struct sbx_mount_plan *plan;
        cleanup_free char *out = NULL, *expected = NULL;
        const char *s;
        int r, failed;

        SKIP_UNLESS_ROOT();
        s = *state;
        mkdirf("%s/src", s);
        mkdirf("%s/src/sub", s);
        write_file("hello", "%s/src/hello", s);
        mkdirf("%s/src2", s);
        mkdirf("%s/src2/w", s);
        mkdirf("%s/rec", s);
        mkdirf("%s/norec", s);
        mkdirf("%s/t", s);
        mkdirf("%s/robind", s);
        mkdirf("%s/ro2", s);
        write_file("file", "%s/file", s);

        t = pol_new();
        add_bind(t, false, false, pol_printf(t, "%s/src", s), pol_printf(t, "%s/rec", s));
        add_bind(t, false, false, pol_printf(t, "%s/src", s), pol_printf(t, "%s/norec", s));
        t->binds[1].recursive = false;
        add_tmpfs(t, pol_printf(t, "%s/t", s), NULL);
        add_ro(t, false, "%s/t", s);
        add_ro(t, false, "%s/file", s);
        add_inacc(t, false, "%s/rec/hello", s);
        add_bind(t, true, false, pol_printf(t, "%s/src2", s), pol_printf(t, "%s/robind", s));
        add_rw(t, false, "%s/robind/w", s);
        add_bind(t, true, false, pol_printf(t, "%s/src2", s), pol_printf(t, "%s/ro2", s));
        add_rw(t, false, "%s/ro2", s);
        plan = build_ok(&t->p, &test_user);
        assert_true(asprintf(&expected,
                             "ReadOnlyPaths: '%1$s/file'\n"
                             "BindPaths: '%1$s/src' -> '%1$s/norec'\n"
                             "BindPaths: '%1$s/src' -> '%1$s/rec'\n"
                             "BindReadOnlyPaths: '%1$s/src2' -> '%1$s/ro2'\n"
                             "ReadWritePaths: '%1$s/ro2'\n"
                             "BindReadOnlyPaths: '%1$s/src2' -> '%1$s/robind'\n"
                             "TemporaryFileSystem: '%1$s/t'\n"
                             "ReadOnlyPaths: '%1$s/t'\n"
                             "InaccessiblePaths: '%1$s/rec/hello'\n"
                             "ReadWritePaths: '%1$s/robind/w'\n",
                             s) >= 0);
        assert_plan(plan, expected);

        out = run_inside(plan, pre_layers, inside_layers, (void *) s, &r, &failed);
        if (r < 0) {
                char what[512];

                print_error("apply failed at %d (%s): %s\n", failed,
                            sbx_mount_plan_describe(plan, failed, what, sizeof(what)),
                            strerror(-r));
        }
        assert_int_equal(r, 0);
        if (strstr(out, "FAIL"))
                print_error("%s", out);
        assert_null(strstr(out, "FAIL"));
        sbx_mount_plan_free(plan);
        pol_free(t);
}

/* Kernels before 6.15 refuse open_tree(OPEN_TREE_CLONE) on a detached mount.
 * Defined here, this open_tree() is the one mount.o links to, so the test can
 * make the first clone of the inaccessible file fail as they do. */
static bool simulate_old_kernel;

int open_tree(int dfd, const char *path, unsigned flags)
{
        static unsigned calls;

        if (simulate_old_kernel && strcmp(path, "inaccessible") == 0 && calls++ % 2 == 0) {
                errno = EINVAL;
                return -1;
        }
        return (int) syscall(SYS_open_tree, dfd, path, flags);
}

static int count_mounts_at(const char *dir)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096], mp[PATH_MAX];
        int n = 0;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strcmp(mp, dir) == 0)
                        n++;
        (void) fclose(f);
        return n;
}

static void inside_fallback(int out, void *userdata)
{
        const char *s = userdata;
        char path[PATH_MAX];
        struct stat sb;

        for (int i = 0; i < 2; i++) {
                (void) snprintf(path, sizeof(path), "%s/%s", s, i ? "fifo" : "secret");
                CHECK(out,
                      stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0 &&
                          (sb.st_mode & 07777) == 0,
                      "%s covered", path);
        }
        /* The tmpfs attached over the directory for the clone is gone again. */
        CHECK(out, try_open(O_RDONLY, "%s/other", s) == 0, "directory not covered");
        CHECK(out, count_mounts_at(s) == 0, "%d mounts on the directory", count_mounts_at(s));
        CHECK(out, setresuid(65534, 65534, 65534) == 0, "drop to 65534");
        CHECK(out, try_open(O_RDONLY, "%s/secret", s) == -EACCES, "secret file");
}

static void test_apply_inaccessible_fallback(void **state)
{
        struct pol *t;
        struct sbx_mount_plan *plan;
        cleanup_free char *out = NULL, *fifo = NULL;
        const char *s;
        int r, failed;

        SKIP_UNLESS_ROOT();
        s = *state;
        assert_int_equal(chmod(s, 0755), 0);
        write_file("secret", "%s/secret", s);
        write_file("other", "%s/other", s);
        assert_true(asprintf(&fifo, "%s/fifo", s) >= 0);
        assert_int_equal(mkfifo(fifo, 0666), 0);

        t = pol_new();
        add_inacc(t, false, "%s/secret", s);
        add_inacc(t, false, "%s", fifo);
        plan = build_ok(&t->p, &test_user);
        simulate_old_kernel = true;
        out = run_inside(plan, NULL, inside_fallback, (void *) s, &r, &failed);
        simulate_old_kernel = false;
        if (r < 0)
                print_error("apply failed at %d: %s\n", failed, strerror(-r));
        assert_int_equal(r, 0);
        if (strstr(out, "FAIL"))
                print_error("%s", out);
        assert_null(strstr(out, "FAIL"));
        sbx_mount_plan_free(plan);
        pol_free(t);
}

static void test_apply_fails_closed(void **state)
{
        struct pol *t;
        struct sbx_mount_plan *plan;
        cleanup_free char *out = NULL, *src = NULL, *gone = NULL, *before = NULL, *after = NULL;
        cleanup_free char *expected = NULL;
        char what[512];
        const char *s;
        int r, failed;

        SKIP_UNLESS_ROOT();
        s = *state;
        mkdirf("%s/src", s);
        mkdirf("%s/gone", s);
        assert_true(asprintf(&src, "%s/src", s) >= 0);
        assert_true(asprintf(&gone, "%s/gone", s) >= 0);

        t = pol_new();
        add_ro(t, false, "/");
        add_bind(t, false, false, src, gone);
        add_ro(t, false, "%s", src);
        plan = build_ok(&t->p, &test_user);
        assert_true(asprintf(&expected,
                             "ReadOnlyPaths: '/'\n"
                             "BindPaths: '%1$s/src' -> '%1$s/gone'\n"
                             "ReadOnlyPaths: '%1$s/src'\n",
                             s) >= 0);
        assert_plan(plan, expected);

        /* The target disappears between the plan and the child: the bind fails,
         * after "/" was made read-only in the child's namespace only. */
        assert_int_equal(rmdir(gone), 0);
        before = read_text("/proc/self/mountinfo");
        out = run_inside(plan, NULL, NULL, NULL, &r, &failed);
        after = read_text("/proc/self/mountinfo");
        assert_int_equal(r, -ENOENT);
        assert_int_equal(failed, 1);
        free(expected);
        assert_true(asprintf(&expected, "BindPaths: '%1$s/src' -> '%1$s/gone'", s) >= 0);
        assert_string_equal(sbx_mount_plan_describe(plan, failed, what, sizeof(what)), expected);
        assert_string_equal(before, after);
        sbx_mount_plan_free(plan);

        /* The source disappears: cloning the sources fails, before any step. */
        mkdirf("%s/gone", s);
        plan = build_ok(&t->p, &test_user);
        assert_int_equal(rmdir(src), 0);
        free(out);
        out = run_inside(plan, NULL, NULL, NULL, &r, &failed);
        assert_int_equal(r, -ENOENT);
        assert_int_equal(failed, 1);
        assert_string_equal(out, "");
        sbx_mount_plan_free(plan);
        pol_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_sorting, setup_scratch, teardown_scratch),
            cmocka_unit_test_setup_teardown(test_specifiers, setup_scratch, teardown_scratch),
            cmocka_unit_test_setup_teardown(test_ignore_missing, setup_scratch, teardown_scratch),
            cmocka_unit_test_setup_teardown(test_conflicts, setup_scratch, teardown_scratch),
            cmocka_unit_test_setup_teardown(test_tmpfs_and_binds, setup_scratch, teardown_scratch),
            cmocka_unit_test(test_composite),
            cmocka_unit_test(test_sysfs),
            cmocka_unit_test_setup_teardown(test_from_policy_text, setup_scratch, teardown_scratch),
            cmocka_unit_test(test_apply_refuses_same_namespace),
            cmocka_unit_test_setup_teardown(test_apply_strict, setup_root_scratch,
                                            teardown_scratch),
            cmocka_unit_test_setup_teardown(test_apply_layers, setup_root_scratch,
                                            teardown_scratch),
            cmocka_unit_test_setup_teardown(test_apply_inaccessible_fallback, setup_root_scratch,
                                            teardown_scratch),
            cmocka_unit_test_setup_teardown(test_apply_fails_closed, setup_root_scratch,
                                            teardown_scratch),
        };

        return cmocka_run_group_tests(tests, NULL, teardown_group);
}
