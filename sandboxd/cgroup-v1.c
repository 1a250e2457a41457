/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1 backend: one directory per controller hierarchy, each mounted at
 * <root>/<controller>. The sandbox's cgroup is made only in the hierarchies
 * its limits need (cg->want). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"

/* Hierarchies a kernel may lack without that being an error: accounting only. */
#define V1_OPTIONAL (1u << SBX_CG_CPUACCT)

static int open_base(int root_fd, enum sbx_cg_ctrl c, const char *base)
{
        char path[4096];
        int fd;

        if (snprintf(path, sizeof(path), "%s%s%s", sbx_cg_ctrl_to_string(c), base[0] ? "/" : "",
                     base) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        fd = openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        return fd < 0 ? sbx_negerrno() : fd;
}

/* A new v1 cpuset has no CPUs and no memory nodes, and nothing can join it
 * until it has both: start from the parent's (set_limits, before any attach). */
static int cpuset_inherit(int base_fd, int dir_fd)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char buf[4096];
                int r = sbx_cg_read(base_fd, files[i], buf, sizeof(buf));

                if (r >= 0)
                        r = sbx_cg_write(dir_fd, files[i], buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_destroy(struct sbx_cgroup *cg)
{
        int ret = 0;

        for (int i = 0; i < SBX_CG_COUNT; i++) {
                int r;

                if (!(cg->have & (1u << i)))
                        continue;
                cg->dir_fd[i] = sbx_safe_close(cg->dir_fd[i]);
                r = sbx_cg_rmdir(cg->base_fd[i], cg->name);
                if (r < 0) {
                        log_debug_errno(r, "rmdir %s/%s/%s: %m", sbx_cg_ctrl_to_string(i),
                                        cg->base[i], cg->name);
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                cg->have &= ~(1u << i);
                cg->base_fd[i] = sbx_safe_close(cg->base_fd[i]);
        }
        return ret;
}

static int v1_create(int root_fd, const char *name, struct sbx_cgroup *cg)
{
        int r;

        for (int i = 0; i < SBX_CG_COUNT; i++) {
                int fd;

                if (!(cg->want & (1u << i)))
                        continue;
                if (!cg->base[i]) {
                        if (V1_OPTIONAL & (1u << i))
                                continue;
                        r = -ENOENT; /* the controller is not mounted */
                        goto fail;
                }
                fd = open_base(root_fd, i, cg->base[i]);
                if (fd < 0 && (V1_OPTIONAL & (1u << i)))
                        continue;
                if (fd < 0) {
                        r = fd;
                        goto fail;
                }
                cg->base_fd[i] = fd;
                if (mkdirat(fd, name, 0755) < 0) {
                        r = sbx_negerrno();
                        /* Left by a controller that was killed: empty, so removable. */
                        if (r == -EEXIST && unlinkat(fd, name, AT_REMOVEDIR) == 0 &&
                            mkdirat(fd, name, 0755) == 0)
                                r = 0;
                        if (r < 0) {
                                cg->base_fd[i] = sbx_safe_close(cg->base_fd[i]);
                                goto fail;
                        }
                }
                cg->have |= 1u << i;
                cg->dir_fd[i] = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (cg->dir_fd[i] < 0) {
                        r = sbx_negerrno();
                        goto fail;
                }
        }
        return 0;
fail:
        (void) v1_destroy(cg);
        return r;
}

static int v1_attach(struct sbx_cgroup *cg, pid_t pid)
{
        char num[32];

        (void) snprintf(num, sizeof(num), "%d", (int) pid);
        for (int i = 0; i < SBX_CG_COUNT; i++)
                if (cg->have & (1u << i)) {
                        int r = sbx_cg_write(cg->dir_fd[i], "cgroup.procs", num);

                        if (r < 0)
                                return r;
                }
        return 0;
}

static void fmt_bytes(uint64_t v, char *buf, size_t n)
{
        if (v == SBX_LIMIT_INFINITY)
                (void) snprintf(buf, n, "-1");
        else
                (void) snprintf(buf, n, "%" PRIu64, v);
}

static int fail_limit(struct sbx_cgroup *cg, int which, int r)
{
        cg->failed_limit = which;
        return r;
}

static int dir_of(struct sbx_cgroup *cg, enum sbx_cg_ctrl c)
{
        return (cg->have & (1u << c)) ? cg->dir_fd[c] : -1;
}

/* systemd's mapping of IOWeight (1..10000, default 100) to blkio.weight
 * (10..1000, default 500). */
static uint64_t io_weight_to_blkio(uint64_t w)
{
        uint64_t b = w * 500 / 100;

        return b < 10 ? 10 : b > 1000 ? 1000 : b;
}

static int v1_set_devices(struct sbx_cgroup *cg);

static int v1_set_limits(struct sbx_cgroup *cg, const struct sbx_limits *l)
{
        char v[64];
        int fd, r;

        cg->failed_limit = -1;
        /* Only a new cpuset (no memory nodes yet): a live update keeps what it has. */
        if (dir_of(cg, SBX_CG_CPUSET) >= 0 &&
            (sbx_cg_read(cg->dir_fd[SBX_CG_CPUSET], "cpuset.mems", v, sizeof(v)) <= 0 ||
             v[strspn(v, " \n")] == '\0')) {
                r = cpuset_inherit(cg->base_fd[SBX_CG_CPUSET], cg->dir_fd[SBX_CG_CPUSET]);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_ALLOWED_CPUS, r);
        }
        if (l->set & (1u << SBX_LIMIT_MEMORY_MAX)) {
                fd = dir_of(cg, SBX_CG_MEMORY);
                fmt_bytes(l->memory_max, v, sizeof(v));
                r = sbx_cg_write(fd, "memory.limit_in_bytes", v);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_MEMORY_MAX, r);
        }
        if (l->set & (1u << SBX_LIMIT_MEMORY_HIGH)) {
                /* v1 has no throttling limit; the soft limit is the nearest. */
                fd = dir_of(cg, SBX_CG_MEMORY);
                fmt_bytes(l->memory_high, v, sizeof(v));
                r = sbx_cg_write(fd, "memory.soft_limit_in_bytes", v);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_MEMORY_HIGH, r);
        }
        if (l->set & (1u << SBX_LIMIT_MEMORY_SWAP_MAX)) {
                /* memsw counts memory plus swap; without swap accounting
                 * (no memsw files) there is nothing to set. */
                fd = dir_of(cg, SBX_CG_MEMORY);
                if (sbx_cg_has(fd, "memory.memsw.limit_in_bytes")) {
                        uint64_t mem = (l->set & (1u << SBX_LIMIT_MEMORY_MAX)) ? l->memory_max
                                                                               : SBX_LIMIT_INFINITY;
                        uint64_t sum = mem == SBX_LIMIT_INFINITY ||
                                               l->memory_swap_max == SBX_LIMIT_INFINITY ||
                                               mem > UINT64_MAX - l->memory_swap_max
                                           ? SBX_LIMIT_INFINITY
                                           : mem + l->memory_swap_max;

                        fmt_bytes(sum, v, sizeof(v));
                        r = sbx_cg_write(fd, "memory.memsw.limit_in_bytes", v);
                        if (r < 0)
                                return fail_limit(cg, SBX_LIMIT_MEMORY_SWAP_MAX, r);
                } else
                        log_debug("no swap accounting (memory.memsw.*): MemorySwapMax= not set");
        }
        if (l->set & (1u << SBX_LIMIT_TASKS_MAX)) {
                if (l->tasks_max == SBX_LIMIT_INFINITY)
                        (void) snprintf(v, sizeof(v), "max");
                else
                        (void) snprintf(v, sizeof(v), "%" PRIu64, l->tasks_max);
                r = sbx_cg_write(dir_of(cg, SBX_CG_PIDS), "pids.max", v);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_TASKS_MAX, r);
        }
        if (l->set & (1u << SBX_LIMIT_CPU_QUOTA)) {
                fd = dir_of(cg, SBX_CG_CPU);
                (void) snprintf(v, sizeof(v), "%u", SBX_CGROUP_CPU_PERIOD_US);
                r = sbx_cg_write(fd, "cpu.cfs_period_us", v);
                if (r >= 0) {
                        (void) snprintf(v, sizeof(v), "%" PRIu64,
                                        (uint64_t) l->cpu_quota * SBX_CGROUP_CPU_PERIOD_US / 100);
                        r = sbx_cg_write(fd, "cpu.cfs_quota_us", v);
                }
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_CPU_QUOTA, r);
        }
        if (l->set & (1u << SBX_LIMIT_CPU_WEIGHT)) {
                uint64_t shares = l->cpu_weight * 1024 / 100;

                (void) snprintf(v, sizeof(v), "%" PRIu64, shares < 2 ? 2 : shares);
                r = sbx_cg_write(dir_of(cg, SBX_CG_CPU), "cpu.shares", v);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_CPU_WEIGHT, r);
        }
        if (l->set & (1u << SBX_LIMIT_ALLOWED_CPUS)) {
                r = sbx_cg_write(dir_of(cg, SBX_CG_CPUSET), "cpuset.cpus", l->allowed_cpus);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_ALLOWED_CPUS, r);
        }
        for (int w = 0; w < 2; w++) {
                int key = w ? SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX : SBX_LIMIT_IO_READ_BANDWIDTH_MAX;

                if (!(l->set & (1u << key)))
                        continue;
                /* 0 removes the limit. */
                (void) snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %" PRIu64,
                                cg->io_bw_major[w], cg->io_bw_minor[w],
                                l->io_bandwidth[w] == SBX_LIMIT_INFINITY ? 0 : l->io_bandwidth[w]);
                r = sbx_cg_write(
                    dir_of(cg, SBX_CG_BLKIO),
                    w ? "blkio.throttle.write_bps_device" : "blkio.throttle.read_bps_device", v);
                if (r < 0)
                        return fail_limit(cg, key, r);
        }
        if (l->set & (1u << SBX_LIMIT_ALLOWED_MEMORY_NODES)) {
                r = sbx_cg_write(dir_of(cg, SBX_CG_CPUSET), "cpuset.mems", l->allowed_memory_nodes);
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_ALLOWED_MEMORY_NODES, r);
        }
        if (l->set & (1u << SBX_LIMIT_IO_WEIGHT)) {
                fd = dir_of(cg, SBX_CG_BLKIO);
                (void) snprintf(v, sizeof(v), "%" PRIu64, io_weight_to_blkio(l->io_weight));
                /* CFQ had blkio.weight; with BFQ it is blkio.bfq.weight. */
                r = sbx_cg_write(
                    fd, sbx_cg_has(fd, "blkio.bfq.weight") ? "blkio.bfq.weight" : "blkio.weight",
                    v);
                if (r == -ENOENT)
                        r = -EOPNOTSUPP; /* no proportional I/O scheduler here */
                if (r < 0)
                        return fail_limit(cg, SBX_LIMIT_IO_WEIGHT, r);
        }
        if (cg->dev_restrict &&
            (l->set & ((1u << SBX_LIMIT_DEVICE_POLICY) | (1u << SBX_LIMIT_DEVICE_ALLOW)))) {
                r = v1_set_devices(cg);
                if (r < 0)
                        return fail_limit(cg,
                                          (l->set & (1u << SBX_LIMIT_DEVICE_ALLOW))
                                              ? SBX_LIMIT_DEVICE_ALLOW
                                              : SBX_LIMIT_DEVICE_POLICY,
                                          r);
        }
        return 0;
}

/* Deny everything, then allow the rules (the kernel checks on open and mknod). */
static int v1_set_devices(struct sbx_cgroup *cg)
{
        int fd = dir_of(cg, SBX_CG_DEVICES);
        int r = sbx_cg_write(fd, "devices.deny", "a");

        for (size_t i = 0; r >= 0 && i < cg->n_dev_rules; i++) {
                char rule[64];

                sbx_device_rule_format(&cg->dev_rules[i], rule, sizeof(rule));
                r = sbx_cg_write(fd, "devices.allow", rule);
        }
        return r;
}

static int v1_kill_all(struct sbx_cgroup *cg)
{
        int ret = 0;

        for (int i = 0; i < SBX_CG_COUNT; i++)
                if (cg->have & (1u << i)) {
                        int r = sbx_cg_kill_procs(cg->dir_fd[i]);

                        if (r < 0 && ret == 0)
                                ret = r;
                }
        return ret;
}

static int v1_read_events(struct sbx_cgroup *cg, struct sbx_cgroup_events *ret)
{
        struct sbx_cgroup_events ev = {};
        int fd;

        fd = dir_of(cg, SBX_CG_MEMORY);
        if (fd >= 0)
                (void) sbx_cg_read_key(fd, "memory.oom_control", "oom_kill", &ev.oom_kill);
        fd = dir_of(cg, SBX_CG_PIDS);
        if (fd >= 0)
                (void) sbx_cg_read_key(fd, "pids.events", "max", &ev.pids_max);
        *ret = ev;
        return 0;
}

static int v1_read_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *ret)
{
        char buf[16384];
        int fd;

        fd = dir_of(cg, SBX_CG_CPUACCT);
        if (fd >= 0 && sbx_cg_read_u64(fd, "cpuacct.usage", &ret->cpu_usage_ns) >= 0) {
                ret->have |= SBX_CGROUP_STATS_CPU;
                if (sbx_cg_read(fd, "cpuacct.usage_percpu", buf, sizeof(buf)) >= 0 &&
                    sbx_cg_parse_u64_list(buf, &ret->percpu, &ret->n_percpu) < 0) {
                        ret->percpu = NULL;
                        ret->n_percpu = 0;
                }
        }
        fd = dir_of(cg, SBX_CG_MEMORY);
        if (fd >= 0 && sbx_cg_read_u64(fd, "memory.usage_in_bytes", &ret->memory_current) >= 0 &&
            sbx_cg_read_u64(fd, "memory.limit_in_bytes", &ret->memory_max) >= 0) {
                ret->have |= SBX_CGROUP_STATS_MEMORY;
                /* No limit reads as PAGE_COUNTER_MAX pages, rounded down to a page. */
                if (ret->memory_max >= (uint64_t) INT64_MAX - 65535)
                        ret->memory_max = UINT64_MAX;
                (void) sbx_cg_read_key(fd, "memory.oom_control", "oom_kill", &ret->oom_kills);
                if (sbx_cg_read_u64(fd, "memory.max_usage_in_bytes", &ret->memory_peak) >= 0)
                        ret->have |= SBX_CGROUP_STATS_PEAK;
        }
        fd = dir_of(cg, SBX_CG_PIDS);
        if (fd >= 0 && sbx_cg_read_u64(fd, "pids.current", &ret->tasks_current) >= 0 &&
            sbx_cg_read_u64(fd, "pids.max", &ret->tasks_max) >= 0)
                ret->have |= SBX_CGROUP_STATS_TASKS;
        fd = dir_of(cg, SBX_CG_BLKIO);
        if (fd >= 0) {
                static const char *const files[] = {"blkio.throttle.io_service_bytes_recursive",
                                                    "blkio.throttle.io_service_bytes",
                                                    "blkio.io_service_bytes_recursive"};

                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        if (sbx_cg_read(fd, files[i], buf, sizeof(buf)) >= 0) {
                                (void) sbx_cg_parse_blkio_bytes(buf, &ret->io_read_bytes,
                                                                &ret->io_write_bytes);
                                ret->have |= SBX_CGROUP_STATS_IO;
                                break;
                        }
        }
        return 0;
}

const struct sbx_cgroup_ops sbx_cgroup_v1_ops = {
    .name = "v1",
    .create = v1_create,
    .attach = v1_attach,
    .set_limits = v1_set_limits,
    .kill_all = v1_kill_all,
    .destroy = v1_destroy,
    .read_events = v1_read_events,
    .read_stats = v1_read_stats,
};
