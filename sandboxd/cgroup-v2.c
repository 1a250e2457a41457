/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 backend: one directory in the unified hierarchy. The daemon has
 * enabled the controllers in its own cgroup's subtree_control at start
 * (sbx_cgroup_daemon_setup), so the files below exist in the new cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"

static int v2_destroy(struct sbx_cgroup *cg)
{
        int r;

        if (!(cg->have & 1u))
                return 0;
        cg->dir_fd[0] = sbx_safe_close(cg->dir_fd[0]);
        r = sbx_cg_rmdir(cg->base_fd[0], cg->name);
        if (r < 0)
                return r;
        cg->have = 0;
        cg->base_fd[0] = sbx_safe_close(cg->base_fd[0]);
        return 0;
}

static int v2_create(int root_fd, const char *name, struct sbx_cgroup *cg)
{
        const char *base = cg->base[0];
        int r;

        if (!base)
                return -ENOENT;
        cg->base_fd[0] =
            openat(root_fd, base[0] ? base : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cg->base_fd[0] < 0)
                return sbx_negerrno();
        if (mkdirat(cg->base_fd[0], name, 0755) < 0) {
                r = sbx_negerrno();
                if (r == -EEXIST && unlinkat(cg->base_fd[0], name, AT_REMOVEDIR) == 0 &&
                    mkdirat(cg->base_fd[0], name, 0755) == 0)
                        r = 0;
                if (r < 0) {
                        cg->base_fd[0] = sbx_safe_close(cg->base_fd[0]);
                        return r;
                }
        }
        cg->have = 1u;
        cg->dir_fd[0] =
            openat(cg->base_fd[0], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cg->dir_fd[0] < 0) {
                r = sbx_negerrno();
                (void) v2_destroy(cg);
                return r;
        }
        return 0;
}

static int v2_attach(struct sbx_cgroup *cg, pid_t pid)
{
        char num[32];

        (void) snprintf(num, sizeof(num), "%d", (int) pid);
        return sbx_cg_write(cg->dir_fd[0], "cgroup.procs", num);
}

static void fmt_max(uint64_t v, char *buf, size_t n)
{
        if (v == SBX_LIMIT_INFINITY)
                (void) snprintf(buf, n, "max");
        else
                (void) snprintf(buf, n, "%" PRIu64, v);
}

static int v2_set_devices(struct sbx_cgroup *cg);

static int v2_set_limits(struct sbx_cgroup *cg, const struct sbx_limits *l)
{
        static const struct {
                int limit;
                const char *file;
        } files[] = {
            {SBX_LIMIT_MEMORY_MAX, "memory.max"},
            {SBX_LIMIT_MEMORY_HIGH, "memory.high"},
            {SBX_LIMIT_MEMORY_SWAP_MAX, "memory.swap.max"},
            {SBX_LIMIT_TASKS_MAX, "pids.max"},
            {SBX_LIMIT_CPU_QUOTA, "cpu.max"},
            {SBX_LIMIT_CPU_WEIGHT, "cpu.weight"},
            {SBX_LIMIT_ALLOWED_CPUS, "cpuset.cpus"},
            {SBX_LIMIT_ALLOWED_MEMORY_NODES, "cpuset.mems"},
            {SBX_LIMIT_IO_READ_BANDWIDTH_MAX, "io.max"},
            {SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX, "io.max"},
            {SBX_LIMIT_IO_WEIGHT, "io.weight"},
        };
        int fd = cg->dir_fd[0];

        cg->failed_limit = -1;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char v[64];
                const char *value = v;
                int r;

                if (!(l->set & (1u << files[i].limit)))
                        continue;
                switch (files[i].limit) {
                case SBX_LIMIT_MEMORY_MAX:
                        fmt_max(l->memory_max, v, sizeof(v));
                        break;
                case SBX_LIMIT_MEMORY_HIGH:
                        fmt_max(l->memory_high, v, sizeof(v));
                        break;
                case SBX_LIMIT_MEMORY_SWAP_MAX:
                        fmt_max(l->memory_swap_max, v, sizeof(v));
                        break;
                case SBX_LIMIT_TASKS_MAX:
                        fmt_max(l->tasks_max, v, sizeof(v));
                        break;
                case SBX_LIMIT_CPU_QUOTA:
                        (void) snprintf(v, sizeof(v), "%" PRIu64 " %u",
                                        (uint64_t) l->cpu_quota * SBX_CGROUP_CPU_PERIOD_US / 100,
                                        SBX_CGROUP_CPU_PERIOD_US);
                        break;
                case SBX_LIMIT_CPU_WEIGHT:
                        (void) snprintf(v, sizeof(v), "%" PRIu64, l->cpu_weight);
                        break;
                case SBX_LIMIT_ALLOWED_CPUS:
                        value = l->allowed_cpus;
                        break;
                case SBX_LIMIT_ALLOWED_MEMORY_NODES:
                        value = l->allowed_memory_nodes;
                        break;
                case SBX_LIMIT_IO_READ_BANDWIDTH_MAX:
                case SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX: {
                        int w = files[i].limit == SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX;
                        char bps[24];

                        fmt_max(l->io_bandwidth[w], bps, sizeof(bps));
                        (void) snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %s=%s",
                                        cg->io_bw_major[w], cg->io_bw_minor[w], w ? "wbps" : "rbps",
                                        bps);
                        break;
                }
                case SBX_LIMIT_IO_WEIGHT:
                        (void) snprintf(v, sizeof(v), "default %" PRIu64, l->io_weight);
                        break;
                default:
                        continue;
                }
                r = sbx_cg_write(fd, files[i].file, value);
                if (r < 0) {
                        cg->failed_limit = files[i].limit;
                        return r;
                }
        }
        if (cg->dev_restrict &&
            (l->set & ((1u << SBX_LIMIT_DEVICE_POLICY) | (1u << SBX_LIMIT_DEVICE_ALLOW)))) {
                int r = v2_set_devices(cg);

                if (r < 0) {
                        cg->failed_limit = (l->set & (1u << SBX_LIMIT_DEVICE_ALLOW))
                                               ? SBX_LIMIT_DEVICE_ALLOW
                                               : SBX_LIMIT_DEVICE_POLICY;
                        return r;
                }
        }
        return 0;
}

/* Loads the device program and attaches it to the container's cgroup; the
 * attachment keeps it alive, so its fd is closed. Only testable on a real
 * cgroup v2 (the qemu harness); the program itself is unit-tested. */
static int v2_set_devices(struct sbx_cgroup *cg)
{
        struct bpf_insn *insns = NULL;
        size_t n = 0;
        union bpf_attr a;
        int prog, r = sbx_cgroup_device_bpf(cg->dev_rules, cg->n_dev_rules, &insns, &n);

        if (r < 0)
                return r;
        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t) (uintptr_t) insns;
        a.insn_cnt = (uint32_t) n;
        a.license = (uint64_t) (uintptr_t) "GPL";
        prog = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
        r = prog < 0 ? sbx_negerrno() : 0;
        free(insns);
        if (r < 0)
                return r;
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t) cg->dir_fd[0];
        a.attach_bpf_fd = (uint32_t) prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
                r = sbx_negerrno();
        (void) close(prog);
        return r;
}

static int v2_kill_all(struct sbx_cgroup *cg)
{
        int r;

        if (!(cg->have & 1u))
                return 0;
        /* Linux 5.14+: the kernel kills every process, forks racing included. */
        r = sbx_cg_write(cg->dir_fd[0], "cgroup.kill", "1");
        if (r != -ENOENT)
                return r;
        return sbx_cg_kill_procs(cg->dir_fd[0]);
}

static int v2_read_events(struct sbx_cgroup *cg, struct sbx_cgroup_events *ret)
{
        struct sbx_cgroup_events ev = {};

        if (!(cg->have & 1u))
                return -ENOENT;
        (void) sbx_cg_read_key(cg->dir_fd[0], "memory.events", "oom_kill", &ev.oom_kill);
        (void) sbx_cg_read_key(cg->dir_fd[0], "pids.events", "max", &ev.pids_max);
        *ret = ev;
        return 0;
}

static int v2_read_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *ret)
{
        char buf[16384];
        int fd = cg->dir_fd[0];
        uint64_t usec;

        if (!(cg->have & 1u))
                return -ENOENT;
        /* No per-CPU figures on v2: percpu stays NULL. */
        if (sbx_cg_read_key(fd, "cpu.stat", "usage_usec", &usec) >= 0) {
                ret->cpu_usage_ns = usec > UINT64_MAX / 1000 ? UINT64_MAX : usec * 1000;
                ret->have |= SBX_CGROUP_STATS_CPU;
        }
        if (sbx_cg_read_u64(fd, "memory.current", &ret->memory_current) >= 0 &&
            sbx_cg_read_u64(fd, "memory.max", &ret->memory_max) >= 0) {
                ret->have |= SBX_CGROUP_STATS_MEMORY;
                (void) sbx_cg_read_key(fd, "memory.events", "oom_kill", &ret->oom_kills);
                /* Linux 5.19+. */
                if (sbx_cg_read_u64(fd, "memory.peak", &ret->memory_peak) >= 0)
                        ret->have |= SBX_CGROUP_STATS_PEAK;
        }
        if (sbx_cg_read_u64(fd, "pids.current", &ret->tasks_current) >= 0 &&
            sbx_cg_read_u64(fd, "pids.max", &ret->tasks_max) >= 0)
                ret->have |= SBX_CGROUP_STATS_TASKS;
        if (sbx_cg_read(fd, "io.stat", buf, sizeof(buf)) >= 0) {
                (void) sbx_cg_parse_io_stat(buf, &ret->io_read_bytes, &ret->io_write_bytes);
                ret->have |= SBX_CGROUP_STATS_IO;
        }
        return 0;
}

const struct sbx_cgroup_ops sbx_cgroup_v2_ops = {
    .name = "v2",
    .create = v2_create,
    .attach = v2_attach,
    .set_limits = v2_set_limits,
    .kill_all = v2_kill_all,
    .destroy = v2_destroy,
    .read_events = v2_read_events,
    .read_stats = v2_read_stats,
};
