/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Namespaces a policy may ask for. Bits of struct sbx_policy.namespaces. */
enum sbx_ns {
        SBX_NS_MOUNT,
        SBX_NS_IPC,
        SBX_NS_UTS,
        SBX_NS_PID,
        SBX_NS_NET,
        SBX_NS_COUNT,
        SBX_NS_INVALID = -22,
};

enum sbx_network_mode {
        SBX_NETWORK_NONE,   /* private net namespace, lo up */
        SBX_NETWORK_HOST,   /* no net namespace */
        SBX_NETWORK_BRIDGE, /* a veth on an existing bridge */
        /* a veth on a virtual network lxsandbox owns (netconf.h) */
        SBX_NETWORK_NETWORK,
        SBX_NETWORK_COUNT,
        SBX_NETWORK_INVALID = -22,
};

/* A bind mount. Paths may contain %h (home) and %u (user name) specifiers,
 * expanded when the sandbox starts. */
struct sbx_bind {
        char *source;
        char *target;
        bool read_only;
        bool ignore_missing; /* source written with a leading '-' */
        bool recursive;      /* "rbind" (default) or "norbind" */
};

struct sbx_tmpfs {
        char *path;
        char *options; /* validated tmpfs options, e.g. "mode=0755,size=10M"; may be NULL */
};

/* A path list entry: ReadOnlyPaths=-/opt means /opt, ignore_missing. */
struct sbx_path {
        char *path;
        bool ignore_missing;
};

enum sbx_workdir_mode {
        SBX_WORKDIR_INHERIT, /* caller's cwd if visible inside, else HOME, else / */
        SBX_WORKDIR_HOME,    /* "~" */
        SBX_WORKDIR_PATH,    /* an absolute path (may use %h/%u) */
};

/* [Resources] limits, applied through cgroups (cgroup.h). A key that is not
 * set has its bit clear in SET; sizes and task counts may be SBX_LIMIT_INFINITY. */
enum sbx_limit {
        SBX_LIMIT_MEMORY_MAX,
        SBX_LIMIT_MEMORY_HIGH,
        SBX_LIMIT_MEMORY_SWAP_MAX,
        SBX_LIMIT_TASKS_MAX,
        SBX_LIMIT_CPU_QUOTA,
        SBX_LIMIT_CPU_WEIGHT,
        SBX_LIMIT_ALLOWED_CPUS,
        SBX_LIMIT_IO_WEIGHT,
        SBX_LIMIT_DEVICE_POLICY,
        SBX_LIMIT_DEVICE_ALLOW,
        SBX_LIMIT_ALLOWED_MEMORY_NODES,
        SBX_LIMIT_IO_READ_BANDWIDTH_MAX,
        SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX,
        SBX_LIMIT_COUNT,
};

#define SBX_LIMIT_INFINITY UINT64_MAX

struct sbx_limits {
        unsigned set;                                      /* 1u << SBX_LIMIT_* */
        uint64_t memory_max, memory_high, memory_swap_max; /* bytes */
        uint64_t tasks_max;
        uint32_t cpu_quota;  /* percent of one CPU, > 0 */
        uint64_t cpu_weight; /* 1..10000 */
        uint64_t io_weight;  /* 1..10000 */
        char *allowed_cpus;  /* canonical list, e.g. "0-1,3" */
        int device_policy;   /* SBX_DEVICE_POLICY_*; AUTO when DevicePolicy= is not set */
        char **device_allow; /* DeviceAllow= entries "/dev/PATH ACCESS", access in "rwm" order */
        char *allowed_memory_nodes; /* canonical list, e.g. "0" */
        /* IOReadBandwidthMax=, IOWriteBandwidthMax=: [0] read, [1] write */
        char *io_bandwidth_device[2]; /* "/dev/..." */
        uint64_t io_bandwidth[2];     /* bytes per second, or SBX_LIMIT_INFINITY */
};

/* DevicePolicy= (systemd.resource-control(5)). */
enum {
        SBX_DEVICE_POLICY_AUTO,
        SBX_DEVICE_POLICY_CLOSED,
        SBX_DEVICE_POLICY_STRICT,
};

/* Systemd's name of a limit ("MemoryMax"). */
const char *sbx_limit_to_string(enum sbx_limit l);

/* A parsed, validated, frozen policy. Only the policy module writes it. */
struct sbx_policy {
        char *name;     /* from the file name, without ".ini" */
        char *filename; /* as given to the parser, for messages */
        char *description;

        /* [Sandbox] */
        unsigned namespaces; /* 1u << SBX_NS_* */
        char *hostname;      /* NULL: keep the UTS name ("sandbox" when UTS is unshared) */

        /* [Access] */
        bool access_everyone; /* Users=* */
        char **users;         /* NULL-terminated, may be NULL */
        char **groups;

        /* [Files] */
        bool private_tmp;
        bool private_devices; /* minimal /dev; default yes */
        struct sbx_path *read_only_paths;
        size_t n_read_only_paths;
        struct sbx_path *read_write_paths;
        size_t n_read_write_paths;
        struct sbx_path *inaccessible_paths;
        size_t n_inaccessible_paths;
        struct sbx_bind *binds;
        size_t n_binds;
        struct sbx_tmpfs *tmpfs;
        size_t n_tmpfs;
        enum sbx_workdir_mode workdir_mode;
        char *workdir;

        /* [Environment] */
        char **pass_env; /* names taken from the client's environment */
        char **set_env;  /* "KEY=VALUE" */

        /* [Network] */
        enum sbx_network_mode network_mode;
        struct {
                char *bridge;       /* Bridge=: an existing bridge (Mode=bridge) */
                char *network;      /* Network=: NAME of NETWORK_DIR/NAME.ini (Mode=network) */
                char *address;      /* Address=: "ADDRESS/PREFIX" */
                char *address_pool; /* AddressPool=: IPv4 "ADDRESS/PREFIX" to lease from */
                char *gateway;      /* Gateway=: the default route's next hop */
                /* IngressRate=, EgressRate=: bits per second, 0 = no limit */
                uint64_t ingress_rate, egress_rate;
        } net;

        /* [Security] */
        bool no_new_privileges; /* always true: "no" is refused */

        /* [Login]: a section present makes the policy a login policy (pam_lxsandbox) */
        bool login;
        uint64_t linger_usec;  /* Linger=: keep the container this long after the last session */
        uint32_t max_sessions; /* MaxSessions=: open sessions per user; 0 = no limit */

        /* [Resources] (kept last: other sections grow above) */
        struct sbx_limits limits;

        /* [Security] system call filter (seccomp.h builds it) */
        char **syscall_filter;   /* SystemCallFilter= names and @groups; NULL: not set */
        bool syscall_allow_list; /* no leading '~': only the listed calls are allowed */
        int syscall_errno;       /* SystemCallErrorNumber=: 1..4095 or SBX_SYSCALL_ERRNO_KILL */
};

/* SystemCallErrorNumber=kill: a denied system call kills the process (SIGSYS). */
#define SBX_SYSCALL_ERRNO_KILL (-1)

/* Largest policy file accepted, and longest line. */
#define SBX_POLICY_MAX_SIZE (64u * 1024u)
#define SBX_POLICY_MAX_LINE 4096u

/* Parses TEXT (LEN bytes, need not be NUL-terminated) as the policy called NAME,
 * read from FILENAME (used in messages only). Pure: no syscalls.
 * On error returns -EINVAL (or -ENOMEM) and, if ret_error is not NULL, stores a
 * malloc'd one-line message "FILENAME:LINE: [Section] Key: what was expected".
 * On success stores the frozen policy in *ret_policy. */
int sbx_policy_parse_string(const char *text, size_t len, const char *name, const char *filename,
                            struct sbx_policy **ret_policy, char **ret_error);

/* Opens NAME.ini in the directory DIR_FD (O_NOFOLLOW), checks that it is a regular
 * file owned by root and not group/other-writable, reads and parses it.
 * Same error contract as sbx_policy_parse_string(); -ENOENT for a missing policy,
 * -EPERM for bad ownership/mode (with a message). */
int sbx_policy_load(int dir_fd, const char *name, struct sbx_policy **ret_policy, char **ret_error);

/* Same, for an explicit path (sbxctl policy check FILE). The name is the base name
 * without ".ini". */
int sbx_policy_load_path(const char *path, struct sbx_policy **ret_policy, char **ret_error);

/* Reads the whole policy file from FD after checking owner/mode with fstat. */
int sbx_policy_load_fd(int fd, const char *name, const char *filename,
                       struct sbx_policy **ret_policy, char **ret_error);

/* Policy names: [A-Za-z0-9_-], 1..64 chars, not starting with '-'. */
bool sbx_policy_name_valid(const char *name);

/* Prints the policy in a stable, canonical "Key=Value" form (golden tests). */
int sbx_policy_dump(const struct sbx_policy *p, char **ret_text);

/* The daemon's run dir (its socket, the controllers' sockets) must never be
 * reachable inside: a sandbox that could talk to sandboxd could ask for another
 * one under a laxer policy. Adds RUN_DIR to InaccessiblePaths= as "-RUN_DIR"
 * (ignored where missing, so dropped where the policy already hides it, e.g.
 * PrivateTmp= or a tmpfs on /run). No-op without a mount namespace. */
int sbx_policy_hide_run_dir(struct sbx_policy *p, const char *run_dir);

struct sbx_policy *sbx_policy_free(struct sbx_policy *p);
static inline void sbx_policy_freep(struct sbx_policy **p)
{
        sbx_policy_free(*p);
}

const char *sbx_ns_to_string(enum sbx_ns ns);
enum sbx_ns sbx_ns_from_string(const char *s);
const char *sbx_network_mode_to_string(enum sbx_network_mode m);
enum sbx_network_mode sbx_network_mode_from_string(const char *s);

/* Checks the open policy file FD (regular file, owned by root, not group- or
 * other-writable: -EPERM otherwise) and reads at most SBX_POLICY_MAX_SIZE + 1
 * bytes (the parser refuses the extra byte), NUL-terminated. FILENAME names it in
 * *ret_error. The daemon sends the text it read to the controller, so both parse
 * the same bytes. */
int sbx_policy_read_fd(int fd, const char *filename, char **ret_text, size_t *ret_len,
                       char **ret_error);
