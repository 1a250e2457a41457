/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internals of the cgroup module, for cgroup*.c and tests/unit/test-cgroup.c. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "policy.h"

/* v1 hierarchies used (each mounted at /sys/fs/cgroup/<name>). On v2 only
 * slot 0 is used. */
enum sbx_cg_ctrl {
        SBX_CG_MEMORY,
        SBX_CG_PIDS,
        SBX_CG_CPU,
        SBX_CG_CPUACCT,
        SBX_CG_CPUSET,
        SBX_CG_BLKIO,
        SBX_CG_DEVICES,
        SBX_CG_FREEZER,
        SBX_CG_COUNT,
};

/* The leaf the daemon moves itself into on v2. */
#define SBX_CGROUP_DAEMON_LEAF "daemon"
#define SBX_CGROUP_PREFIX "lxsandbox-"
#define SBX_CGROUP_MOUNT "/sys/fs/cgroup"
/* v1 cpu.cfs_period_us and v2 cpu.max period. */
#define SBX_CGROUP_CPU_PERIOD_US 100000u

/* Event counters read after the init exited. */
struct sbx_cgroup_events {
        uint64_t oom_kill; /* memory.oom_control / memory.events "oom_kill" */
        uint64_t pids_max; /* pids.events "max": forks refused */
};

struct sbx_cgroup_ops;

/* One device access rule (DevicePolicy=, DeviceAllow=): TYPE 'c', 'b' or 'a'
 * (any); MAJOR/MINOR -1 for any; ACCESS SBX_DEV_*. */
enum {
        SBX_DEV_READ = 1u << 0,
        SBX_DEV_WRITE = 1u << 1,
        SBX_DEV_MKNOD = 1u << 2,
        SBX_DEV_ALL = (1u << 3) - 1,
};

struct sbx_device_rule {
        char type;
        int64_t major, minor;
        unsigned access;
};

#define SBX_DEVICE_RULES_MAX 256

/* One sandbox's cgroup. The caller of ops->create fills in root_fd, base[]
 * and want; the backend fills in the rest. */
struct sbx_cgroup {
        const struct sbx_cgroup_ops *ops;
        int root_fd;              /* the cgroup mount (v2) or the tmpfs of v1 hierarchies */
        char *name;               /* "lxsandbox-<container>" */
        char *base[SBX_CG_COUNT]; /* own cgroup, relative to the hierarchy root, "" = root */
        unsigned want;            /* v1: hierarchies to create in (1u << SBX_CG_*) */
        unsigned have;            /* created */
        int base_fd[SBX_CG_COUNT];
        int dir_fd[SBX_CG_COUNT];
        int failed_limit;         /* set_limits: the SBX_LIMIT_* that failed, else -1 */
        struct sbx_limits limits; /* a copy, for messages (allowed_cpus not kept) */
        int64_t io_bw_major[2], io_bw_minor[2]; /* IO{Read,Write}BandwidthMax= disk */
        bool dev_restrict;                      /* devices: deny all but dev_rules */
        struct sbx_device_rule *dev_rules;
        size_t n_dev_rules;
        char *policy;
};

/* STYLE 2.3. Backends take a root dirfd so tests can point them at a fake tree.
 * create: NAME under each base (cg->root_fd, cg->base[], cg->want set by the
 * caller). kill_all is optional (NULL: -EOPNOTSUPP). */
struct sbx_cgroup_ops {
        const char *name; /* "v1" / "v2" */
        int (*create)(int root_fd, const char *name, struct sbx_cgroup *cg);
        int (*attach)(struct sbx_cgroup *cg, pid_t pid);
        int (*set_limits)(struct sbx_cgroup *cg, const struct sbx_limits *l);
        int (*kill_all)(struct sbx_cgroup *cg);
        int (*destroy)(struct sbx_cgroup *cg);
        int (*read_events)(struct sbx_cgroup *cg, struct sbx_cgroup_events *ret);
        /* Fills what the cgroup has; leaves the rest zero (and its bit clear). */
        int (*read_stats)(struct sbx_cgroup *cg, struct sbx_cgroup_stats *ret);
};

extern const struct sbx_cgroup_ops sbx_cgroup_v1_ops;
extern const struct sbx_cgroup_ops sbx_cgroup_v2_ops;

const char *sbx_cg_ctrl_to_string(enum sbx_cg_ctrl c);

/* A zeroed cgroup with every fd -1. */
void sbx_cgroup_init(struct sbx_cgroup *cg);
/* Closes fds and frees strings (does not remove anything). */
void sbx_cgroup_done(struct sbx_cgroup *cg);

/* "lxsandbox-NAME" for a valid container name ([A-Za-z0-9._-], 1..64, not
 * starting with '-' or '.'). */
int sbx_cgroup_name(const char *container, char **ret);

/* Parses /proc/self/cgroup TEXT: for v2 the "0::" line into base[0] (with a
 * trailing "/daemon" leaf removed), for v1 each controller's line. Paths are
 * stored relative ("" for the root). */
int sbx_cgroup_parse_self(const char *text, bool v2, char *ret_base[SBX_CG_COUNT]);

/* Resolves a device node PATH (stat in the controller; a fake in tests). */
typedef int (*sbx_device_resolve_t)(const char *path, char *ret_type, int64_t *ret_major,
                                    int64_t *ret_minor);
int sbx_cgroup_device_stat(const char *path, char *ret_type, int64_t *ret_major,
                           int64_t *ret_minor);

/* The device rules of L, as systemd.resource-control(5) builds them: none and
 * 0 when nothing is restricted (DevicePolicy=auto without DeviceAllow=), else
 * 1 with the rules: "closed" (and "auto" with DeviceAllow=) allows the
 * standard pseudo devices (null, zero, full, random, urandom) and the
 * terminal devices (tty, ptmx, pts), "strict" only the terminal devices (the
 * sandbox's console needs them), then each DeviceAllow= entry: a node
 * through RESOLVE, a class ("char-pts", "block-loop", fnmatch patterns) as
 * one rule per matching major in PROC_DEVICES (the text of /proc/devices). */
int sbx_cgroup_device_rules(const struct sbx_limits *l, sbx_device_resolve_t resolve,
                            const char *proc_devices, struct sbx_device_rule **ret, size_t *ret_n,
                            char **ret_error);

/* "c 1:3 rwm", "c 136:* rw" (v1 devices.allow). */
void sbx_device_rule_format(const struct sbx_device_rule *r, char *buf, size_t n);

/* v2: a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[]) allowing RULES,
 * denying the rest. RET is malloc'd. */
struct bpf_insn;
int sbx_cgroup_device_bpf(const struct sbx_device_rule *rules, size_t n, struct bpf_insn **ret,
                          size_t *ret_n);

/* The whole disk holding block device PATH (a partition's disk: the kernel
 * throttles disks only), from stat and /sys/dev/block. */
int sbx_cgroup_block_device(const char *path, int64_t *ret_major, int64_t *ret_minor);

/* Whether L restricts devices (DevicePolicy= closed/strict, or DeviceAllow=). */
bool sbx_cgroup_devices_restricted(const struct sbx_limits *l);

/* The v1 hierarchies a set of limits needs. */
unsigned sbx_cgroup_v1_controllers(const struct sbx_limits *l);

/* v2: moves PID into "<OWN>/daemon" and enables the available controllers
 * of interest in "<OWN>/cgroup.subtree_control". OWN is relative to ROOT_FD. */
int sbx_cgroup_v2_enter_leaf(int root_fd, const char *own, pid_t pid);

/* Checks that the CPUs of ALLOWED are all in AVAILABLE (kernel list syntax);
 * -ERANGE if not. */
int sbx_cgroup_check_cpus(const char *allowed, const char *available);

/* Small file helpers: write VALUE to FILE under DIR_FD (no O_CREAT: the file
 * must exist, as in cgroupfs); read at most SIZE-1 bytes, NUL-terminated. */
int sbx_cg_write(int dir_fd, const char *file, const char *value);
int sbx_cg_read(int dir_fd, const char *file, char *buf, size_t size);
bool sbx_cg_has(int dir_fd, const char *file);
/* Looks up "KEY N" in a flat keyed file (memory.events, pids.events). */
int sbx_cg_read_key(int dir_fd, const char *file, const char *key, uint64_t *ret);
/* Reads a file holding one number, or "max" (UINT64_MAX). */
int sbx_cg_read_u64(int dir_fd, const char *file, uint64_t *ret);
/* Sums "MAJ:MIN Read N" / "MAJ:MIN Write N" lines (v1 blkio io_service_bytes). */
int sbx_cg_parse_blkio_bytes(const char *text, uint64_t *ret_read, uint64_t *ret_write);
/* Sums "MAJ:MIN rbytes=N wbytes=N ..." lines (v2 io.stat). */
int sbx_cg_parse_io_stat(const char *text, uint64_t *ret_read, uint64_t *ret_write);
/* Space-separated numbers (cpuacct.usage_percpu) into a malloc'd array. */
int sbx_cg_parse_u64_list(const char *text, uint64_t **ret, size_t *ret_n);

/* rmdir NAME under DIR_FD, retrying EBUSY for up to about half a second. */
int sbx_cg_rmdir(int dir_fd, const char *name);
/* Kills (SIGKILL) the pids in DIR_FD's cgroup.procs until it is empty. */
int sbx_cg_kill_procs(int dir_fd);
