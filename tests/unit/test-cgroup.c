/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup backends against a fake tree in a mkdtemp directory, through the
 * root-dirfd seam: which files get which values, create/destroy, the v2 leaf
 * move, errors. The fake plays the kernel's part by hand: after a backend's
 * mkdir it creates the interface files a real cgroupfs would show, and before
 * a destroy it removes them (cgroupfs lets rmdir take a directory with files).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup-internal.h"
#include "macro.h"
#include "parse-util.h"
#include "policy.h"

struct fake {
        char dir[64];
        int fd;
};

static void put(struct fake *f, const char *path, const char *content)
{
        char p[PATH_MAX];
        int fd;

        (void) snprintf(p, sizeof(p), "%s/%s", f->dir, path);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        (void) close(fd);
}

static void mkdirs(struct fake *f, const char *path)
{
        char p[PATH_MAX];
        size_t n;

        n = (size_t) snprintf(p, sizeof(p), "%s/%s", f->dir, path);
        for (size_t i = strlen(f->dir) + 1; i <= n; i++)
                if (p[i] == '/' || p[i] == '\0') {
                        char c = p[i];

                        p[i] = '\0';
                        assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
                        p[i] = c;
                }
}

/* Contents of PATH (empty string if missing: "absent" below). */
static char *get(struct fake *f, const char *path)
{
        static char buf[4096];
        char p[PATH_MAX];
        int r;

        (void) snprintf(p, sizeof(p), "%s/%s", f->dir, path);
        r = sbx_cg_read(AT_FDCWD, p, buf, sizeof(buf));
        return r < 0 ? (char *) "(absent)" : buf;
}

static bool exists(struct fake *f, const char *path)
{
        char p[PATH_MAX];

        (void) snprintf(p, sizeof(p), "%s/%s", f->dir, path);
        return access(p, F_OK) == 0;
}

static void rm_files(struct fake *f, const char *dir)
{
        char cmd_dir[PATH_MAX];
        static const char *const files[] = {
            "cgroup.procs",
            "memory.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.oom_control",
            "pids.max",
            "pids.events",
            "cpu.cfs_period_us",
            "cpu.cfs_quota_us",
            "cpu.shares",
            "cpuset.cpus",
            "cpuset.mems",
            "blkio.bfq.weight",
            "blkio.weight",
            "memory.max",
            "memory.high",
            "memory.swap.max",
            "cpu.max",
            "cpu.weight",
            "io.weight",
            "memory.events",
            "cgroup.kill",
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                (void) snprintf(cmd_dir, sizeof(cmd_dir), "%s/%s/%s", f->dir, dir, files[i]);
                (void) unlink(cmd_dir);
        }
}

static int setup(void **state)
{
        struct fake *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        (void) snprintf(f->dir, sizeof(f->dir), "/tmp/sbx-test-cgroup.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fake *f = *state;
        char cmd[PATH_MAX + 32];

        (void) close(f->fd);
        /* Our own mkdtemp directory, nothing else. */
        if (strncmp(f->dir, "/tmp/sbx-test-cgroup.", 21) == 0) {
                (void) snprintf(cmd, sizeof(cmd), "%s", f->dir);
                pid_t pid = fork();

                if (pid == 0) {
                        execl("/bin/rm", "rm", "-rf", "--one-file-system", "--", cmd,
                              (char *) NULL);
                        _exit(127);
                }
                if (pid > 0)
                        (void) waitpid(pid, NULL, 0);
        }
        free(f);
        return 0;
}

static struct sbx_limits all_limits(void)
{
        return (struct sbx_limits){
            .set = (1u << SBX_LIMIT_COUNT) - 1,
            .memory_max = 64u << 20,
            .memory_high = 32u << 20,
            .memory_swap_max = 16u << 20,
            .tasks_max = 32,
            .cpu_quota = 50,
            .cpu_weight = 200,
            .io_weight = 100,
            .allowed_cpus = (char *) "0",
        };
}

/* A v1 tree like this project's machines: memory nested, the rest at the root. */
static void v1_tree(struct fake *f)
{
        static const char *const ctrls[] = {"pids", "cpu", "cpuacct", "cpuset", "blkio"};

        mkdirs(f, "memory/process_api/abc");
        for (size_t i = 0; i < ELEMENTSOF(ctrls); i++)
                mkdirs(f, ctrls[i]);
        put(f, "cpuset/cpuset.cpus", "0-3\n");
        put(f, "cpuset/cpuset.mems", "0\n");
        put(f, "cpuset/cpuset.effective_cpus", "0-3\n");
}

/* Like put(), for the kernel's files: only in a cgroup that was created. */
static void kput(struct fake *f, const char *path, const char *content)
{
        char dir[256];

        (void) snprintf(dir, sizeof(dir), "%s", path);
        *strrchr(dir, '/') = '\0';
        if (exists(f, dir))
                put(f, path, content);
}

/* What the kernel shows in a new v1 cgroup, per hierarchy. */
static void v1_kernel_files(struct fake *f, bool memsw)
{
        kput(f, "memory/process_api/abc/lxsandbox-t/cgroup.procs", "");
        kput(f, "memory/process_api/abc/lxsandbox-t/memory.limit_in_bytes", "");
        kput(f, "memory/process_api/abc/lxsandbox-t/memory.soft_limit_in_bytes", "");
        kput(f, "memory/process_api/abc/lxsandbox-t/memory.oom_control",
             "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        if (memsw)
                kput(f, "memory/process_api/abc/lxsandbox-t/memory.memsw.limit_in_bytes", "");
        kput(f, "pids/lxsandbox-t/cgroup.procs", "");
        kput(f, "pids/lxsandbox-t/pids.max", "");
        kput(f, "pids/lxsandbox-t/pids.events", "max 0\n");
        kput(f, "cpu/lxsandbox-t/cgroup.procs", "");
        kput(f, "cpu/lxsandbox-t/cpu.cfs_period_us", "");
        kput(f, "cpu/lxsandbox-t/cpu.cfs_quota_us", "");
        kput(f, "cpu/lxsandbox-t/cpu.shares", "");
        kput(f, "cpuacct/lxsandbox-t/cgroup.procs", "");
        kput(f, "cpuset/lxsandbox-t/cgroup.procs", "");
        kput(f, "cpuset/lxsandbox-t/cpuset.cpus", "");
        kput(f, "cpuset/lxsandbox-t/cpuset.mems", "");
        kput(f, "blkio/lxsandbox-t/cgroup.procs", "");
        kput(f, "blkio/lxsandbox-t/blkio.bfq.weight", "");
}

static void v1_cgroup(struct fake *f, struct sbx_cgroup *cg, const struct sbx_limits *l)
{
        const char *text = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n"
                           "5:devices:/\n4:memory:/process_api/abc\n3:cpuset:/\n"
                           "2:cpuacct:/\n1:cpu:/\n0::/\n";

        sbx_cgroup_init(cg);
        cg->ops = &sbx_cgroup_v1_ops;
        assert_int_equal(sbx_cgroup_parse_self(text, false, cg->base), 0);
        assert_int_equal(sbx_cgroup_name("t", &cg->name), 0);
        cg->want = sbx_cgroup_v1_controllers(l);
        (void) f;
}

static void v1_remove_all(struct fake *f)
{
        rm_files(f, "memory/process_api/abc/lxsandbox-t");
        rm_files(f, "pids/lxsandbox-t");
        rm_files(f, "cpu/lxsandbox-t");
        rm_files(f, "cpuacct/lxsandbox-t");
        rm_files(f, "cpuset/lxsandbox-t");
        rm_files(f, "blkio/lxsandbox-t");
}

static void test_parse_self(void **state)
{
        char *base[SBX_CG_COUNT] = {};

        (void) state;
        assert_int_equal(sbx_cgroup_parse_self("4:memory:/process_api/x\n3:cpu,cpuacct:/a/b/\n"
                                               "1:name=systemd:/user.slice\n0::/\n",
                                               false, base),
                         0);
        assert_string_equal(base[SBX_CG_MEMORY], "process_api/x");
        assert_string_equal(base[SBX_CG_CPU], "a/b");
        assert_string_equal(base[SBX_CG_CPUACCT], "a/b");
        assert_null(base[SBX_CG_PIDS]);
        for (int i = 0; i < SBX_CG_COUNT; i++)
                free(base[i]), base[i] = NULL;

        /* v2: the daemon's leaf is dropped, its parent is the place. */
        assert_int_equal(
            sbx_cgroup_parse_self("0::/system.slice/sandboxd.service/daemon\n", true, base), 0);
        assert_string_equal(base[0], "system.slice/sandboxd.service");
        free(base[0]), base[0] = NULL;
        assert_int_equal(sbx_cgroup_parse_self("0::/\n", true, base), 0);
        assert_string_equal(base[0], "");
        free(base[0]), base[0] = NULL;
        assert_int_equal(sbx_cgroup_parse_self("0::/a/../b\n", true, base), -EINVAL);
        assert_int_equal(sbx_cgroup_parse_self("1:memory:/\n", true, base), -ENOENT);
        assert_int_equal(sbx_cgroup_parse_self("4:memory:relative\n", false, base), -EINVAL);
}

static void test_name(void **state)
{
        char *s = NULL;

        (void) state;
        assert_int_equal(sbx_cgroup_name("web-1000-abc", &s), 0);
        assert_string_equal(s, "lxsandbox-web-1000-abc");
        free(s);
        assert_int_equal(sbx_cgroup_name("", &s), -EINVAL);
        assert_int_equal(sbx_cgroup_name("..", &s), -EINVAL);
        assert_int_equal(sbx_cgroup_name("a/b", &s), -EINVAL);
        assert_int_equal(sbx_cgroup_name("-x", &s), -EINVAL);
        assert_int_equal(sbx_cgroup_name(NULL, &s), -EINVAL);
}

static void test_check_cpus(void **state)
{
        (void) state;
        assert_int_equal(sbx_cgroup_check_cpus("0", "0-1\n"), 0);
        assert_int_equal(sbx_cgroup_check_cpus("0-1", "0-1"), 0);
        assert_int_equal(sbx_cgroup_check_cpus("0-7", "0-1\n"), -ERANGE);
        assert_int_equal(sbx_cgroup_check_cpus("3", "0-2,4"), -ERANGE);
}

static void test_v1_controllers(void **state)
{
        struct sbx_limits l = {.set = 1u << SBX_LIMIT_MEMORY_MAX};

        (void) state;
        assert_int_equal(sbx_cgroup_v1_controllers(&l), 1u << SBX_CG_MEMORY);
        l.set = 1u << SBX_LIMIT_TASKS_MAX;
        assert_int_equal(sbx_cgroup_v1_controllers(&l), 1u << SBX_CG_PIDS);
        l.set = 1u << SBX_LIMIT_CPU_WEIGHT;
        assert_int_equal(sbx_cgroup_v1_controllers(&l),
                         (1u << SBX_CG_CPU) | (1u << SBX_CG_CPUACCT));
        l.set = 1u << SBX_LIMIT_ALLOWED_CPUS;
        assert_int_equal(sbx_cgroup_v1_controllers(&l), 1u << SBX_CG_CPUSET);
        l.set = 0;
        assert_int_equal(sbx_cgroup_v1_controllers(&l), 0);
}

static void test_v1_limits(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = all_limits();
        struct sbx_cgroup cg;
        struct sbx_cgroup_events ev;

        v1_tree(f);
        v1_cgroup(f, &cg, &l);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        assert_true(exists(f, "memory/process_api/abc/lxsandbox-t"));
        assert_true(exists(f, "pids/lxsandbox-t"));
        assert_true(exists(f, "cpuacct/lxsandbox-t"));
        assert_false(exists(f, "memory/lxsandbox-t")); /* never beside or at the root */
        v1_kernel_files(f, true);

        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        assert_string_equal(get(f, "memory/process_api/abc/lxsandbox-t/memory.limit_in_bytes"),
                            "67108864");
        assert_string_equal(get(f, "memory/process_api/abc/lxsandbox-t/memory.soft_limit_in_bytes"),
                            "33554432");
        /* memsw is memory + swap. */
        assert_string_equal(
            get(f, "memory/process_api/abc/lxsandbox-t/memory.memsw.limit_in_bytes"), "83886080");
        assert_string_equal(get(f, "pids/lxsandbox-t/pids.max"), "32");
        assert_string_equal(get(f, "cpu/lxsandbox-t/cpu.cfs_period_us"), "100000");
        assert_string_equal(get(f, "cpu/lxsandbox-t/cpu.cfs_quota_us"), "50000");
        assert_string_equal(get(f, "cpu/lxsandbox-t/cpu.shares"), "2048");
        assert_string_equal(get(f, "cpuset/lxsandbox-t/cpuset.cpus"), "0");
        assert_string_equal(get(f, "cpuset/lxsandbox-t/cpuset.mems"), "0\n");
        assert_string_equal(get(f, "blkio/lxsandbox-t/blkio.bfq.weight"), "500");

        assert_int_equal(cg.ops->attach(&cg, 4242), 0);
        assert_string_equal(get(f, "pids/lxsandbox-t/cgroup.procs"), "4242");
        assert_string_equal(get(f, "memory/process_api/abc/lxsandbox-t/cgroup.procs"), "4242");
        assert_string_equal(get(f, "cpuset/lxsandbox-t/cgroup.procs"), "4242");

        assert_int_equal(cg.ops->read_events(&cg, &ev), 0);
        assert_int_equal(ev.oom_kill, 0);
        assert_int_equal(ev.pids_max, 0);
        put(f, "memory/process_api/abc/lxsandbox-t/memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        put(f, "pids/lxsandbox-t/pids.events", "max 7\n");
        assert_int_equal(cg.ops->read_events(&cg, &ev), 0);
        assert_int_equal(ev.oom_kill, 2);
        assert_int_equal(ev.pids_max, 7);

        /* destroy: a directory the "kernel" cannot remove stays, and is reported. */
        put(f, "memory/process_api/abc/lxsandbox-t/cgroup.procs", "");
        put(f, "pids/lxsandbox-t/cgroup.procs", "");
        v1_remove_all(f);
        put(f, "cpu/lxsandbox-t/stray", "");
        assert_int_equal(cg.ops->destroy(&cg), -ENOTEMPTY);
        assert_false(exists(f, "pids/lxsandbox-t"));
        assert_true(exists(f, "cpu/lxsandbox-t"));
        assert_int_equal(cg.have, 1u << SBX_CG_CPU);
        {
                char stray[PATH_MAX];

                (void) snprintf(stray, sizeof(stray), "%s/cpu/lxsandbox-t/stray", f->dir);
                assert_int_equal(unlink(stray), 0);
        }
        assert_int_equal(cg.ops->destroy(&cg), 0);
        assert_false(exists(f, "cpu/lxsandbox-t"));
        assert_int_equal(cg.have, 0);
        sbx_cgroup_done(&cg);
}

static void test_v1_infinity_no_memsw(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = {.set = (1u << SBX_LIMIT_MEMORY_MAX) |
                                      (1u << SBX_LIMIT_MEMORY_SWAP_MAX) |
                                      (1u << SBX_LIMIT_TASKS_MAX),
                               .memory_max = SBX_LIMIT_INFINITY,
                               .memory_swap_max = 0,
                               .tasks_max = SBX_LIMIT_INFINITY};
        struct sbx_cgroup cg;

        v1_tree(f);
        v1_cgroup(f, &cg, &l);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        assert_false(exists(f, "cpu/lxsandbox-t"));
        v1_kernel_files(f, false);
        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        assert_string_equal(get(f, "memory/process_api/abc/lxsandbox-t/memory.limit_in_bytes"),
                            "-1");
        assert_string_equal(get(f, "pids/lxsandbox-t/pids.max"), "max");
        /* No swap accounting: nothing written, nothing created. */
        assert_false(exists(f, "memory/process_api/abc/lxsandbox-t/memory.memsw.limit_in_bytes"));
        v1_remove_all(f);
        assert_int_equal(cg.ops->destroy(&cg), 0);
        sbx_cgroup_done(&cg);
}

static void test_v1_errors(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = all_limits();
        struct sbx_cgroup cg;

        /* No pids hierarchy: create fails and leaves nothing behind. */
        mkdirs(f, "memory/process_api/abc");
        mkdirs(f, "cpu");
        mkdirs(f, "cpuacct");
        v1_cgroup(f, &cg, &l);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), -ENOENT);
        assert_false(exists(f, "memory/process_api/abc/lxsandbox-t"));
        assert_int_equal(cg.have, 0);
        sbx_cgroup_done(&cg);

        /* A limit file the kernel does not have: which limit failed is known. */
        v1_tree(f);
        l.set = (1u << SBX_LIMIT_MEMORY_MAX) | (1u << SBX_LIMIT_TASKS_MAX);
        v1_cgroup(f, &cg, &l);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        put(f, "memory/process_api/abc/lxsandbox-t/memory.limit_in_bytes", "");
        assert_int_equal(cg.ops->set_limits(&cg, &l), -ENOENT);
        assert_int_equal(cg.failed_limit, SBX_LIMIT_TASKS_MAX);
        assert_false(exists(f, "pids/lxsandbox-t/pids.max")); /* never O_CREAT */
        v1_remove_all(f);
        assert_int_equal(cg.ops->destroy(&cg), 0);
        sbx_cgroup_done(&cg);
}

static void test_kill_procs(void **state)
{
        struct fake *f = *state;
        char num[32];
        int status = 0;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        mkdirs(f, "cg");
        (void) snprintf(num, sizeof(num), "%d\n", (int) pid);
        put(f, "cg/cgroup.procs", num);
        {
                cleanup_close int fd = openat(f->fd, "cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                /* The fake's list never empties: -EBUSY after the retries. */
                assert_int_equal(sbx_cg_kill_procs(fd), -EBUSY);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
                put(f, "cg/cgroup.procs", "");
                assert_int_equal(sbx_cg_kill_procs(fd), 0);
        }
}

static void v2_files(struct fake *f, const char *dir)
{
        static const char *const files[] = {
            "cgroup.procs", "memory.max", "memory.high", "memory.swap.max", "pids.max",
            "cpu.max",      "cpu.weight", "cpuset.cpus", "io.weight",       "cgroup.kill"};
        char p[PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                (void) snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
                put(f, p, "");
        }
        (void) snprintf(p, sizeof(p), "%s/memory.events", dir);
        put(f, p, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
        (void) snprintf(p, sizeof(p), "%s/pids.events", dir);
        put(f, p, "max 0\n");
}

static void test_v2_leaf(void **state)
{
        struct fake *f = *state;

        mkdirs(f, "system.slice/sandboxd.service/daemon");
        put(f, "system.slice/sandboxd.service/cgroup.controllers",
            "cpuset cpu io memory hugetlb pids rdma misc\n");
        put(f, "system.slice/sandboxd.service/cgroup.subtree_control", "");
        put(f, "system.slice/sandboxd.service/daemon/cgroup.procs", "");
        assert_int_equal(sbx_cgroup_v2_enter_leaf(f->fd, "system.slice/sandboxd.service", 777), 0);
        assert_string_equal(get(f, "system.slice/sandboxd.service/daemon/cgroup.procs"), "777");
        assert_string_equal(get(f, "system.slice/sandboxd.service/cgroup.subtree_control"),
                            "+memory +pids +cpu +cpuset +io");

        /* Only what the parent delegates to us. */
        mkdirs(f, "u/daemon");
        put(f, "u/cgroup.controllers", "memory pids\n");
        put(f, "u/cgroup.subtree_control", "");
        put(f, "u/daemon/cgroup.procs", "");
        assert_int_equal(sbx_cgroup_v2_enter_leaf(f->fd, "u", 1), 0);
        assert_string_equal(get(f, "u/cgroup.subtree_control"), "+memory +pids");

        /* No cgroup.procs in the leaf (not a cgroup fs): an error. */
        mkdirs(f, "x");
        put(f, "x/cgroup.controllers", "memory\n");
        assert_int_equal(sbx_cgroup_v2_enter_leaf(f->fd, "x", 1), -ENOENT);
        assert_int_equal(sbx_cgroup_v2_enter_leaf(f->fd, "missing", 1), -ENOENT);
}

static void test_v2_limits(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = all_limits();
        struct sbx_cgroup cg;
        struct sbx_cgroup_events ev;
        char *report = NULL;

        mkdirs(f, "svc");
        sbx_cgroup_init(&cg);
        cg.ops = &sbx_cgroup_v2_ops;
        assert_int_equal(sbx_cgroup_parse_self("0::/svc/daemon\n", true, cg.base), 0);
        assert_int_equal(sbx_cgroup_name("t", &cg.name), 0);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        assert_true(exists(f, "svc/lxsandbox-t"));
        assert_false(exists(f, "svc/daemon/lxsandbox-t"));
        v2_files(f, "svc/lxsandbox-t");

        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.max"), "67108864");
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.high"), "33554432");
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.swap.max"), "16777216");
        assert_string_equal(get(f, "svc/lxsandbox-t/pids.max"), "32");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpu.max"), "50000 100000");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpu.weight"), "200");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpuset.cpus"), "0");
        assert_string_equal(get(f, "svc/lxsandbox-t/io.weight"), "default 100");

        l.memory_max = SBX_LIMIT_INFINITY;
        l.tasks_max = SBX_LIMIT_INFINITY;
        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.max"), "max");
        assert_string_equal(get(f, "svc/lxsandbox-t/pids.max"), "max");
        l.memory_max = 64u << 20;
        l.tasks_max = 32;

        assert_int_equal(cg.ops->attach(&cg, 99), 0);
        assert_string_equal(get(f, "svc/lxsandbox-t/cgroup.procs"), "99");
        assert_int_equal(cg.ops->read_events(&cg, &ev), 0);
        assert_int_equal(ev.oom_kill, 1);

        /* The report names the limit, as sbx-run prints it. */
        cg.limits = l;
        cg.limits.allowed_cpus = NULL;
        assert_int_equal(sbx_cgroup_limit_report(&cg, &report), 1);
        assert_string_equal(report, "killed: out of memory (MemoryMax=64M)");
        free(report);
        put(f, "svc/lxsandbox-t/memory.events", "oom_kill 0\n");
        put(f, "svc/lxsandbox-t/pids.events", "max 12\n");
        assert_int_equal(sbx_cgroup_limit_report(&cg, &report), 1);
        assert_string_equal(report, "fork failed: TasksMax=32 reached");
        free(report);
        put(f, "svc/lxsandbox-t/pids.events", "max 0\n");
        assert_int_equal(sbx_cgroup_limit_report(&cg, &report), 0);
        assert_null(report);

        /* cgroup.kill gets "1" (the kernel empties the cgroup). */
        assert_int_equal(cg.ops->kill_all(&cg), 0);
        assert_string_equal(get(f, "svc/lxsandbox-t/cgroup.kill"), "1");

        /* A missing controller file: the limit is named. */
        rm_files(f, "svc/lxsandbox-t");
        put(f, "svc/lxsandbox-t/memory.max", "");
        assert_int_equal(cg.ops->set_limits(&cg, &l), -ENOENT);
        assert_int_equal(cg.failed_limit, SBX_LIMIT_MEMORY_HIGH);

        rm_files(f, "svc/lxsandbox-t");
        assert_int_equal(cg.ops->destroy(&cg), 0);
        assert_false(exists(f, "svc/lxsandbox-t"));
        assert_int_equal(cg.ops->destroy(&cg), 0); /* idempotent */
        sbx_cgroup_done(&cg);
}

static void test_v2_stale_dir_reused(void **state)
{
        struct fake *f = *state;
        struct sbx_cgroup cg;

        /* An empty cgroup left by a killed controller is replaced. */
        mkdirs(f, "svc/lxsandbox-t");
        sbx_cgroup_init(&cg);
        cg.ops = &sbx_cgroup_v2_ops;
        assert_int_equal(sbx_cgroup_parse_self("0::/svc\n", true, cg.base), 0);
        assert_int_equal(sbx_cgroup_name("t", &cg.name), 0);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        assert_int_equal(cg.ops->destroy(&cg), 0);
        sbx_cgroup_done(&cg);

        /* One still in use (here: not empty) is an error. */
        mkdirs(f, "svc/lxsandbox-t");
        put(f, "svc/lxsandbox-t/cgroup.procs", "1\n");
        sbx_cgroup_init(&cg);
        cg.ops = &sbx_cgroup_v2_ops;
        assert_int_equal(sbx_cgroup_parse_self("0::/svc\n", true, cg.base), 0);
        assert_int_equal(sbx_cgroup_name("t", &cg.name), 0);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), -EEXIST);
        assert_int_equal(cg.have, 0);
        sbx_cgroup_done(&cg);
}

static void test_size_format(void **state)
{
        char buf[SBX_SIZE_FORMAT_MAX];
        const uint64_t values[] = {0,
                                   1,
                                   1023,
                                   1024,
                                   1536,
                                   64u << 20,
                                   3ull << 30,
                                   5ull << 40,
                                   (5ull << 40) * 1024,
                                   SBX_SIZE_INFINITY};

        (void) state;
        assert_string_equal(sbx_size_format(64u << 20, buf), "64M");
        assert_string_equal(sbx_size_format(1536, buf), "1536");
        assert_string_equal(sbx_size_format(3072, buf), "3K");
        assert_string_equal(sbx_size_format(SBX_SIZE_INFINITY, buf), "infinity");
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                uint64_t v = 0;

                assert_int_equal(sbx_parse_size(sbx_size_format(values[i], buf), &v), 0);
                assert_true(v == values[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_self),
            cmocka_unit_test(test_name),
            cmocka_unit_test(test_check_cpus),
            cmocka_unit_test(test_v1_controllers),
            cmocka_unit_test(test_size_format),
            cmocka_unit_test_setup_teardown(test_v1_limits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v1_infinity_no_memsw, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v1_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_kill_procs, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v2_leaf, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v2_limits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v2_stale_dir_reused, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
