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
#include <linux/bpf.h>

#include "cgroup-internal.h"
#include "cgroup-view.h"
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
            /* counters (stats) */
            "cpuacct.usage",
            "cpuacct.usage_percpu",
            "memory.usage_in_bytes",
            "memory.max_usage_in_bytes",
            "pids.current",
            "blkio.throttle.io_service_bytes_recursive",
            "cpu.stat",
            "memory.current",
            "memory.peak",
            "io.stat",
            "devices.deny",
            "devices.allow",
            "blkio.throttle.read_bps_device",
            "blkio.throttle.write_bps_device",
            "io.max",
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
            /* Devices have their own tests (test_device_*, test_v1_devices). */
            .set = ((1u << SBX_LIMIT_COUNT) - 1) &
                   ~((1u << SBX_LIMIT_DEVICE_POLICY) | (1u << SBX_LIMIT_DEVICE_ALLOW)),
            .memory_max = 64u << 20,
            .memory_high = 32u << 20,
            .memory_swap_max = 16u << 20,
            .tasks_max = 32,
            .cpu_quota = 50,
            .cpu_weight = 200,
            .io_weight = 100,
            .allowed_cpus = (char *) "0",
            .allowed_memory_nodes = (char *) "0",
            .io_bandwidth_device = {(char *) "/dev/sda", (char *) "/dev/sda"},
            .io_bandwidth = {10u << 20, SBX_LIMIT_INFINITY},
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
        put(f, "cpuset/cpuset.effective_mems", "0\n");
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
        kput(f, "blkio/lxsandbox-t/blkio.throttle.read_bps_device", "");
        kput(f, "blkio/lxsandbox-t/blkio.throttle.write_bps_device", "");
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
        /* What resolve_io() finds for /dev/sda. */
        cg->io_bw_major[0] = cg->io_bw_major[1] = 8;
        cg->io_bw_minor[0] = cg->io_bw_minor[1] = 0;
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

static void test_view_parse(void **state)
{
        static const char self[] = "9:name=systemd:/u\n8:pids:/a\n4:memory:/a\n3:cpu,cpuacct:/a\n"
                                   "2:cpuset:/a\n1:freezer:/a\n0::/\n";
        struct sbx_cgroup_view v;

        (void) state;
        /* One mount per hierarchy the sandbox has a cgroup in, named as the
         * kernel lists its controllers; cpu and cpuacct share one. */
        assert_int_equal(sbx_cgroup_view_parse(self, 1,
                                               (1u << SBX_CG_MEMORY) | (1u << SBX_CG_CPU) |
                                                   (1u << SBX_CG_CPUACCT) | (1u << SBX_CG_PIDS),
                                               &v),
                         0);
        assert_int_equal(v.version, 1);
        assert_int_equal(v.n, 3);
        assert_string_equal(v.hierarchy[0], "pids");
        assert_string_equal(v.hierarchy[1], "memory");
        assert_string_equal(v.hierarchy[2], "cpu,cpuacct");
        /* Never a hierarchy it has no cgroup in: its root there is the daemon's. */
        assert_int_equal(sbx_cgroup_view_parse(self, 1, 1u << SBX_CG_PIDS, &v), 0);
        assert_int_equal(v.n, 1);
        assert_string_equal(v.hierarchy[0], "pids");
        /* A wanted controller without a hierarchy. */
        assert_int_equal(sbx_cgroup_view_parse(self, 1, 1u << SBX_CG_BLKIO, &v), -ENOENT);
        /* "cpuset" is not "cpu"; "name=systemd" is no controller of ours. */
        assert_int_equal(sbx_cgroup_view_parse("2:cpuset:/a\n", 1, 1u << SBX_CG_CPU, &v), -ENOENT);
        /* v2: one cgroup2 mount, nothing to list. */
        assert_int_equal(sbx_cgroup_view_parse("0::/a\n", 2, 1u << SBX_CG_MEMORY, &v), 0);
        assert_int_equal(v.version, 2);
        assert_int_equal(v.n, 0);
        assert_int_equal(sbx_cgroup_view_parse(self, 3, 0, &v), -EINVAL);
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
        /* Inherited from the parent ("0\n"), then AllowedMemoryNodes=0. */
        assert_string_equal(get(f, "cpuset/lxsandbox-t/cpuset.mems"), "0");
        assert_string_equal(get(f, "blkio/lxsandbox-t/blkio.bfq.weight"), "500");
        /* The whole disk's number; infinity removes the limit (0). */
        assert_string_equal(get(f, "blkio/lxsandbox-t/blkio.throttle.read_bps_device"),
                            "8:0 10485760");
        assert_string_equal(get(f, "blkio/lxsandbox-t/blkio.throttle.write_bps_device"), "8:0 0");

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
        static const char *const files[] = {"cgroup.procs",    "memory.max",  "memory.high",
                                            "memory.swap.max", "pids.max",    "cpu.max",
                                            "cpu.weight",      "cpuset.cpus", "io.weight",
                                            "cgroup.kill",     "cpuset.mems", "io.max"};
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
        cg.io_bw_major[0] = cg.io_bw_major[1] = 8;

        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.max"), "67108864");
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.high"), "33554432");
        assert_string_equal(get(f, "svc/lxsandbox-t/memory.swap.max"), "16777216");
        assert_string_equal(get(f, "svc/lxsandbox-t/pids.max"), "32");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpu.max"), "50000 100000");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpu.weight"), "200");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpuset.cpus"), "0");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpuset.mems"), "0");
        /* io.max takes one key per write; the fake file keeps the last (write). */
        assert_string_equal(get(f, "svc/lxsandbox-t/io.max"), "8:0 wbps=max");
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

static void test_stats_parsers(void **state)
{
        uint64_t rd, wr, *v = NULL;
        size_t n;

        (void) state;
        assert_int_equal(sbx_cg_parse_blkio_bytes("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 1\n"
                                                  "8:0 Total 4609\n8:16 Read 100\n"
                                                  "8:16 Write 11\nTotal 4720\n",
                                                  &rd, &wr),
                         0);
        assert_int_equal(rd, 4196);
        assert_int_equal(wr, 523);
        assert_int_equal(sbx_cg_parse_blkio_bytes("Total 0\n", &rd, &wr), 0);
        assert_int_equal(rd + wr, 0);
        assert_int_equal(sbx_cg_parse_io_stat("8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 "
                                              "dbytes=0 dios=0\n"
                                              "254:0 rbytes=1 wbytes=2 rios=3 wios=4\n",
                                              &rd, &wr),
                         0);
        assert_int_equal(rd, 1025);
        assert_int_equal(wr, 2050);
        assert_int_equal(sbx_cg_parse_io_stat("", &rd, &wr), 0);
        assert_int_equal(rd + wr, 0);
        assert_int_equal(sbx_cg_parse_u64_list("10 20 30 \n", &v, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(v[2], 30);
        free(v);
        assert_int_equal(sbx_cg_parse_u64_list("10 x\n", &v, &n), -EINVAL);
}

static void test_v1_stats_and_update(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = all_limits(), ch = {};
        struct sbx_cgroup_stats st = {};
        struct sbx_cgroup cg;
        char *changed = NULL, *err = NULL;

        v1_tree(f);
        /* No blkio: I/O stays unavailable. */
        l.set &= ~((1u << SBX_LIMIT_IO_WEIGHT) | (1u << SBX_LIMIT_IO_READ_BANDWIDTH_MAX) |
                   (1u << SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX));
        v1_cgroup(f, &cg, &l);
        cg.policy = strdup("p");
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        v1_kernel_files(f, true);
        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        cg.limits = l;
        cg.limits.allowed_cpus = NULL;

        kput(f, "cpuacct/lxsandbox-t/cpuacct.usage", "3000\n");
        kput(f, "cpuacct/lxsandbox-t/cpuacct.usage_percpu", "1000 2000 0 0 \n");
        kput(f, "memory/process_api/abc/lxsandbox-t/memory.usage_in_bytes", "1048576\n");
        kput(f, "memory/process_api/abc/lxsandbox-t/memory.max_usage_in_bytes", "2097152\n");
        kput(f, "memory/process_api/abc/lxsandbox-t/memory.oom_control",
             "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        kput(f, "pids/lxsandbox-t/pids.current", "5\n");
        assert_int_equal(sbx_cgroup_stats(&cg, &st), 0);
        assert_int_equal(st.version, 1);
        assert_int_equal(st.have, SBX_CGROUP_STATS_CPU | SBX_CGROUP_STATS_MEMORY |
                                      SBX_CGROUP_STATS_PEAK | SBX_CGROUP_STATS_TASKS);
        assert_int_equal(st.cpu_usage_ns, 3000);
        assert_int_equal(st.n_percpu, 4);
        assert_int_equal(st.percpu[1], 2000);
        assert_int_equal(st.memory_current, 1048576);
        assert_int_equal(st.memory_peak, 2097152);
        assert_int_equal(st.memory_max, 64u << 20);
        assert_int_equal(st.oom_kills, 3);
        assert_int_equal(st.tasks_current, 5);
        assert_int_equal(st.tasks_max, 32);
        free(st.percpu);
        /* No limit: the kernel's PAGE_COUNTER_MAX, and "max". */
        put(f, "memory/process_api/abc/lxsandbox-t/memory.limit_in_bytes", "9223372036854771712\n");
        put(f, "pids/lxsandbox-t/pids.max", "max\n");
        assert_int_equal(sbx_cgroup_stats(&cg, &st), 0);
        assert_true(st.memory_max == UINT64_MAX);
        assert_true(st.tasks_max == UINT64_MAX);
        free(st.percpu);

        /* Live update: only the keys given; the cpuset keeps its CPUs. */
        ch.set = 1u << SBX_LIMIT_TASKS_MAX;
        ch.tasks_max = 8;
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), 0);
        assert_string_equal(changed, "TasksMax=8 (was 32)");
        free(changed);
        assert_string_equal(get(f, "pids/lxsandbox-t/pids.max"), "8");
        assert_string_equal(get(f, "cpuset/lxsandbox-t/cpuset.cpus"), "0");
        assert_string_equal(get(f, "cpu/lxsandbox-t/cpu.cfs_quota_us"), "50000");
        assert_int_equal(cg.limits.tasks_max, 8);

        /* memsw (memory + swap) follows a new MemoryMax. */
        ch = (struct sbx_limits){.set = 1u << SBX_LIMIT_MEMORY_MAX, .memory_max = 128u << 20};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), 0);
        assert_string_equal(changed, "MemoryMax=128M (was 64M)");
        free(changed);
        assert_string_equal(get(f, "memory/process_api/abc/lxsandbox-t/memory.limit_in_bytes"),
                            "134217728");
        assert_string_equal(
            get(f, "memory/process_api/abc/lxsandbox-t/memory.memsw.limit_in_bytes"), "150994944");
        /* Several keys, and AllowedCPUs checked against what exists. */
        ch = (struct sbx_limits){.set = (1u << SBX_LIMIT_CPU_QUOTA) | (1u << SBX_LIMIT_CPU_WEIGHT),
                                 .cpu_quota = 200,
                                 .cpu_weight = 50};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), 0);
        assert_string_equal(changed, "CPUQuota=200% (was 50%), CPUWeight=50 (was 200)");
        free(changed);
        assert_string_equal(get(f, "cpu/lxsandbox-t/cpu.cfs_quota_us"), "200000");
        assert_string_equal(get(f, "cpu/lxsandbox-t/cpu.shares"), "512");
        ch = (struct sbx_limits){.set = 1u << SBX_LIMIT_ALLOWED_CPUS,
                                 .allowed_cpus = (char *) "4-5"};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), -EINVAL);
        assert_string_equal(err, "policy 'p': AllowedCPUs=4-5 names CPUs this host does not have "
                                 "(available: 0-3)");
        free(err);
        assert_string_equal(get(f, "cpuset/lxsandbox-t/cpuset.cpus"), "0");
        ch = (struct sbx_limits){.set = 1u << SBX_LIMIT_ALLOWED_MEMORY_NODES,
                                 .allowed_memory_nodes = (char *) "1"};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), -EINVAL);
        assert_string_equal(err, "policy 'p': AllowedMemoryNodes=1 names memory nodes this host "
                                 "does not have (available: 0)");
        free(err);
        ch.allowed_memory_nodes = (char *) "0";
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), 0);
        assert_string_equal(changed, "AllowedMemoryNodes=0");
        free(changed);
        /* A hierarchy the container was not made in: refused, nothing written. */
        ch = (struct sbx_limits){.set = 1u << SBX_LIMIT_IO_WEIGHT, .io_weight = 10};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), -EOPNOTSUPP);
        assert_string_equal(err, "cannot set IOWeight=10 on a running container: it has no blkio "
                                 "cgroup (its policy sets no limit that needs one)");
        free(err);
        assert_false(exists(f, "blkio/lxsandbox-t"));
        /* A write the kernel refuses names the key and value. */
        rm_files(f, "pids/lxsandbox-t");
        ch = (struct sbx_limits){.set = 1u << SBX_LIMIT_TASKS_MAX, .tasks_max = 9};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), -ENOENT);
        assert_string_equal(err, "Failed to set TasksMax=9: No such file or directory");
        free(err);
        assert_int_equal(cg.limits.tasks_max, 8);

        v1_remove_all(f);
        assert_int_equal(cg.ops->destroy(&cg), 0);
        sbx_cgroup_done(&cg);
}

static void test_v2_stats_and_update(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = all_limits(), ch;
        struct sbx_cgroup_stats st = {};
        struct sbx_cgroup cg;
        char *changed = NULL, *err = NULL;

        mkdirs(f, "svc");
        sbx_cgroup_init(&cg);
        cg.ops = &sbx_cgroup_v2_ops;
        cg.policy = strdup("p");
        assert_int_equal(sbx_cgroup_parse_self("0::/svc/daemon\n", true, cg.base), 0);
        assert_int_equal(sbx_cgroup_name("t", &cg.name), 0);
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        v2_files(f, "svc/lxsandbox-t");
        cg.io_bw_major[0] = cg.io_bw_major[1] = 8;
        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        cg.limits = l;
        cg.limits.allowed_cpus = NULL;

        put(f, "svc/lxsandbox-t/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
        put(f, "svc/lxsandbox-t/memory.current", "4096\n");
        put(f, "svc/lxsandbox-t/pids.current", "2\n");
        put(f, "svc/lxsandbox-t/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=1\n");
        put(f, "svc/lxsandbox-t/memory.max", "max\n");
        assert_int_equal(sbx_cgroup_stats(&cg, &st), 0);
        assert_int_equal(st.version, 2);
        /* No memory.peak (before Linux 5.19) and never per-CPU figures. */
        assert_int_equal(st.have, SBX_CGROUP_STATS_CPU | SBX_CGROUP_STATS_MEMORY |
                                      SBX_CGROUP_STATS_TASKS | SBX_CGROUP_STATS_IO);
        assert_null(st.percpu);
        assert_int_equal(st.cpu_usage_ns, 1500000);
        assert_int_equal(st.memory_current, 4096);
        assert_true(st.memory_max == UINT64_MAX);
        assert_int_equal(st.oom_kills, 1);
        assert_int_equal(st.tasks_current, 2);
        assert_int_equal(st.tasks_max, 32);
        assert_int_equal(st.io_read_bytes, 10);
        assert_int_equal(st.io_write_bytes, 20);
        put(f, "svc/lxsandbox-t/memory.peak", "8192\n");
        assert_int_equal(sbx_cgroup_stats(&cg, &st), 0);
        assert_true(st.have & SBX_CGROUP_STATS_PEAK);
        assert_int_equal(st.memory_peak, 8192);

        /* Live update: every controller is there on v2. */
        ch = (struct sbx_limits){.set = (1u << SBX_LIMIT_TASKS_MAX) | (1u << SBX_LIMIT_IO_WEIGHT),
                                 .tasks_max = SBX_LIMIT_INFINITY,
                                 .io_weight = 10};
        assert_int_equal(sbx_cgroup_update(&cg, &ch, &changed, &err), 0);
        assert_string_equal(changed, "TasksMax=infinity (was 32), IOWeight=10 (was 100)");
        free(changed);
        assert_string_equal(get(f, "svc/lxsandbox-t/pids.max"), "max");
        assert_string_equal(get(f, "svc/lxsandbox-t/io.weight"), "default 10");
        assert_string_equal(get(f, "svc/lxsandbox-t/cpu.max"), "50000 100000");

        rm_files(f, "svc/lxsandbox-t");
        assert_int_equal(cg.ops->destroy(&cg), 0);
        sbx_cgroup_done(&cg);
}

static int fake_resolve(const char *path, char *ret_type, int64_t *ret_major, int64_t *ret_minor)
{
        if (strcmp(path, "/dev/sda") == 0) {
                *ret_type = 'b';
                *ret_major = 8;
                *ret_minor = 0;
                return 0;
        }
        if (strcmp(path, "/dev/fuse") == 0) {
                *ret_type = 'c';
                *ret_major = 10;
                *ret_minor = 229;
                return 0;
        }
        return strcmp(path, "/dev/dir") == 0 ? -ENODEV : -ENOENT;
}

/* The rules as v1 writes them, one per line. */
static char *rules_text(const struct sbx_device_rule *r, size_t n)
{
        static char buf[2048];
        size_t o = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                char one[64];

                sbx_device_rule_format(&r[i], one, sizeof(one));
                o += (size_t) snprintf(buf + o, sizeof(buf) - o, "%s\n", one);
        }
        return buf;
}

static void test_device_rules(void **state)
{
        char *allow[] = {(char *) "/dev/sda r", (char *) "/dev/fuse rwm", NULL};
        char *missing[] = {(char *) "/dev/nope rw", NULL};
        char *dir[] = {(char *) "/dev/dir rw", NULL};
        struct sbx_limits l = {};
        struct sbx_device_rule *r = NULL;
        size_t n = 0;
        char *err = NULL;

        (void) state;
        /* auto without DeviceAllow=: no restriction, no devices cgroup. */
        l.set = 1u << SBX_LIMIT_DEVICE_POLICY;
        l.device_policy = SBX_DEVICE_POLICY_AUTO;
        assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err), 0);
        assert_null(r);
        assert_int_equal(n, 0);
        assert_false(sbx_cgroup_v1_controllers(&l) & (1u << SBX_CG_DEVICES));

        /* closed: the pseudo devices and the terminal. */
        l.device_policy = SBX_DEVICE_POLICY_CLOSED;
        assert_true(sbx_cgroup_v1_controllers(&l) & (1u << SBX_CG_DEVICES));
        assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err), 1);
        assert_string_equal(rules_text(r, n), "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\n"
                                              "c 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 136:* rw\n");
        free(r);

        /* strict: only the terminal, then DeviceAllow= in order. */
        l.device_policy = SBX_DEVICE_POLICY_STRICT;
        l.set |= 1u << SBX_LIMIT_DEVICE_ALLOW;
        l.device_allow = allow;
        assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err), 1);
        assert_string_equal(rules_text(r, n),
                            "c 5:0 rwm\nc 5:2 rwm\nc 136:* rw\nb 8:0 r\nc 10:229 rwm\n");
        free(r);

        /* auto with DeviceAllow= is closed. */
        l.set = 1u << SBX_LIMIT_DEVICE_ALLOW;
        assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err), 1);
        assert_int_equal(n, 10);
        assert_string_equal(rules_text(r + 8, 2), "b 8:0 r\nc 10:229 rwm\n");
        free(r);

        /* A node that is missing or not a device is named. */
        l.device_allow = missing;
        assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err), -ENOENT);
        assert_string_equal(err, "DeviceAllow=/dev/nope: No such file or directory");
        free(err);
        l.device_allow = dir;
        assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err), -ENODEV);
        assert_string_equal(err, "DeviceAllow=/dev/dir: not a device node");
        free(err);

        /* IO*BandwidthMax= take block devices only. */
        {
                int64_t ma, mi;

                assert_int_equal(sbx_cgroup_block_device("/dev/null", &ma, &mi), -ENOTBLK);
                assert_int_equal(sbx_cgroup_block_device("/dev/lxsandbox-nope", &ma, &mi), -ENOENT);
        }

        /* Classes: one rule per major of the matching names in /proc/devices. */
        {
                static const char devices[] = "Character devices:\n  1 mem\n  4 /dev/vc/0\n"
                                              "  4 tty\n  4 ttyS\n  5 /dev/tty\n"
                                              "136 pts\n204 ttyAMA\n\nBlock devices:\n"
                                              "  7 loop\n  8 sd\n259 blkext\n";
                char *classes[] = {(char *) "char-pts rw", (char *) "char-tty* r",
                                   (char *) "block-loop rwm", NULL};
                char *none[] = {(char *) "char-loop rw", NULL};

                l.set = (1u << SBX_LIMIT_DEVICE_POLICY) | (1u << SBX_LIMIT_DEVICE_ALLOW);
                l.device_policy = SBX_DEVICE_POLICY_STRICT;
                l.device_allow = classes;
                assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, devices, &r, &n, &err),
                                 1);
                assert_string_equal(rules_text(r, n), "c 5:0 rwm\nc 5:2 rwm\nc 136:* rw\n"
                                                      "c 136:* rw\nc 4:* r\nc 204:* r\n"
                                                      "b 7:* rwm\n");
                free(r);
                /* "loop" is a block device: no character device of that name. */
                l.device_allow = none;
                assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, devices, &r, &n, &err),
                                 -ENOENT);
                assert_string_equal(err,
                                    "DeviceAllow=char-loop: no such device class in /proc/devices");
                free(err);
                assert_int_equal(sbx_cgroup_device_rules(&l, fake_resolve, NULL, &r, &n, &err),
                                 -ENOENT);
                free(err);
        }
}

#define I(c, d, s_, o, i)                                                                          \
        {                                                                                          \
                .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i)               \
        }

static void test_device_bpf(void **state)
{
        const struct sbx_device_rule rules[] = {
            {'c', 1, 3, SBX_DEV_ALL},                     /* every check but access */
            {'c', 136, -1, SBX_DEV_READ | SBX_DEV_WRITE}, /* any minor, no mknod */
            {'a', -1, -1, SBX_DEV_MKNOD},                 /* any device: mknod only */
        };
        /* Hand-written: ctx loads, then per rule "if mismatch goto next rule",
         * then "return 1"; the default is "return 0". */
        const struct bpf_insn want[] = {
            I(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0),
            I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff),
            I(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0),
            I(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16),
            I(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0),
            I(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0),
            /* rule 0: 5 insns */
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 4, BPF_DEVCG_DEV_CHAR),
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 3, 1),
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 2, 3),
            I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
            I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
            /* rule 1: 7 insns */
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 6, BPF_DEVCG_DEV_CHAR),
            I(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0),
            I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
              (int32_t) ~(BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)),
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 3, 0),
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 2, 136),
            I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
            I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
            /* rule 2: 5 insns */
            I(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0),
            I(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t) ~BPF_DEVCG_ACC_MKNOD),
            I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 2, 0),
            I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
            I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
            /* default: deny */
            I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
            I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        };
        struct bpf_insn *p = NULL;
        size_t n = 0;

        (void) state;
        assert_int_equal(sbx_cgroup_device_bpf(rules, ELEMENTSOF(rules), &p, &n), 0);
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                if (memcmp(&p[i], &want[i], sizeof(want[i])) != 0)
                        fail_msg("instruction %zu: code %#x dst %u src %u off %d imm %d", i,
                                 p[i].code, p[i].dst_reg, p[i].src_reg, p[i].off, p[i].imm);
        }
        free(p);
        /* No rules: deny everything. */
        assert_int_equal(sbx_cgroup_device_bpf(NULL, 0, &p, &n), 0);
        assert_int_equal(n, 8);
        assert_int_equal(p[6].imm, 0);
        assert_int_equal(p[7].code, BPF_JMP | BPF_EXIT);
        free(p);
}

static void test_v1_devices(void **state)
{
        struct fake *f = *state;
        struct sbx_limits l = {.set = 1u << SBX_LIMIT_DEVICE_POLICY,
                               .device_policy = SBX_DEVICE_POLICY_CLOSED};
        struct sbx_cgroup cg;

        v1_tree(f);
        mkdirs(f, "devices");
        v1_cgroup(f, &cg, &l);
        assert_int_equal(cg.want, 1u << SBX_CG_DEVICES);
        assert_int_equal(
            sbx_cgroup_device_rules(&l, fake_resolve, NULL, &cg.dev_rules, &cg.n_dev_rules, NULL),
            1);
        cg.dev_restrict = true;
        assert_int_equal(cg.ops->create(f->fd, cg.name, &cg), 0);
        assert_true(exists(f, "devices/lxsandbox-t"));
        put(f, "devices/lxsandbox-t/devices.deny", "");
        put(f, "devices/lxsandbox-t/devices.allow", "");
        assert_int_equal(cg.ops->set_limits(&cg, &l), 0);
        /* Everything denied first; the fake file keeps the last allow rule. */
        assert_string_equal(get(f, "devices/lxsandbox-t/devices.deny"), "a");
        assert_string_equal(get(f, "devices/lxsandbox-t/devices.allow"), "c 136:* rw");
        /* A refused write names the key. */
        rm_files(f, "devices/lxsandbox-t");
        assert_int_equal(cg.ops->set_limits(&cg, &l), -ENOENT);
        assert_int_equal(cg.failed_limit, SBX_LIMIT_DEVICE_POLICY);
        assert_int_equal(cg.ops->destroy(&cg), 0);
        assert_false(exists(f, "devices/lxsandbox-t"));
        sbx_cgroup_done(&cg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_self),
            cmocka_unit_test(test_view_parse),
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
            cmocka_unit_test(test_stats_parsers),
            cmocka_unit_test(test_device_rules),
            cmocka_unit_test(test_device_bpf),
            cmocka_unit_test_setup_teardown(test_v1_devices, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v1_stats_and_update, setup, teardown),
            cmocka_unit_test_setup_teardown(test_v2_stats_and_update, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
