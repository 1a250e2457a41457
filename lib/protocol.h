/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The wire protocol between sbx-run/sbxctl, sandboxd and the controllers.
 *
 * One message per SOCK_SEQPACKET packet: a netlink message header, a fixed
 * struct sbx_wire_hdr (protocol version), then netlink attributes (libnl nla_*).
 * Decoding is pure and strict: unknown types, unknown or duplicate attributes,
 * attributes not allowed for the message type, missing required attributes,
 * unterminated strings and bad lengths are all -EBADMSG. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#define SBX_PROTOCOL_VERSION 1u
/* Largest packet a client may send; the daemon drops the connection on more. */
#define SBX_CLIENT_MSG_MAX ((size_t) 64 * 1024)
/* Largest packet between daemon and controller (policy text + request). */
#define SBX_MSG_MAX ((size_t) 256 * 1024)
#define SBX_ARGV_MAX 4096u
#define SBX_ENV_MAX 4096u
#define SBX_GROUPS_MAX 65536u

enum sbx_msg_type {
        /* client -> daemon */
        SBX_MSG_RUN = 16,
        SBX_MSG_LIST,
        SBX_MSG_INFO,
        SBX_MSG_STOP,
        /* client -> controller */
        SBX_MSG_SIGNAL,
        /* replies */
        SBX_MSG_ERROR,
        SBX_MSG_OK,
        SBX_MSG_STARTED,
        SBX_MSG_EXITED,
        SBX_MSG_CONTAINER, /* one per container in a LIST/INFO reply, then OK */
        /* daemon <-> controller */
        SBX_MSG_CTL_START,
        SBX_MSG_CTL_STATE,
        SBX_MSG_CTL_STOP,
        /* resource accounting and live limits (client -> daemon -> controller) */
        SBX_MSG_STATS,       /* client -> daemon: NAME */
        SBX_MSG_STATS_REPLY, /* controller -> daemon -> client: STATS [CPU_PERCPU] */
        SBX_MSG_CTL_STATS,   /* daemon -> controller */
        SBX_MSG_SET,         /* client -> daemon: NAME SETTINGS */
        SBX_MSG_SET_REPLY,   /* controller -> daemon -> client: SETTINGS applied */
        SBX_MSG_CTL_SET,     /* daemon -> controller: SETTINGS */
        /* login containers (pam_lxsandbox, sbxctl; uid 0 only) */
        SBX_MSG_LOGIN_JOIN,     /* USER [POLICY SERVICE TTY RHOST] -> LOGIN_JOINED + init pidfd */
        SBX_MSG_LOGIN_JOINED,   /* NAME NS_FLAGS INIT_PID, one fd: the init's pidfd */
        SBX_MSG_LOGIN_CLOSE,    /* ends the peer process's session -> OK, never waits */
        SBX_MSG_LOGIN_SESSIONS, /* [USER] -> LOGIN_SESSION..., OK */
        SBX_MSG_LOGIN_SESSION,  /* NAME USER PEER_PID [SERVICE TTY RHOST] START_TIME */
        SBX_MSG_LOGIN_ENTER,    /* USER -> LOGIN_JOINED (no session; the container must exist) */
        /* virtual networks (client -> daemon); replies: NETWORK per network, then OK */
        SBX_MSG_NETWORK_LIST,
        SBX_MSG_NETWORK_INFO,    /* NAME */
        SBX_MSG_NETWORK_DESTROY, /* NAME; root only; reply OK */
        SBX_MSG_NETWORK,         /* NAME SETTINGS: "Key=Value" lines */
        SBX_MSG_TYPE_END,
};

enum sbx_attr {
        SBX_A_UNSPEC,
        SBX_A_POLICY,      /* string: policy name */
        SBX_A_NAME,        /* string: container name */
        SBX_A_ARGV,        /* nested SBX_A_ITEM strings */
        SBX_A_ENV,         /* nested SBX_A_ITEM "KEY=VALUE" strings */
        SBX_A_FLAGS,       /* u32 SBX_RUN_* */
        SBX_A_WINSIZE,     /* struct winsize */
        SBX_A_CWD,         /* string: caller's working directory */
        SBX_A_ERRNO,       /* u32: positive errno */
        SBX_A_ERRCODE,     /* u32: enum sbx_err */
        SBX_A_MESSAGE,     /* string */
        SBX_A_EXIT_CODE,   /* u32 */
        SBX_A_EXIT_SIGNAL, /* u32 */
        SBX_A_SIGNAL,      /* u32 */
        SBX_A_CONTROLLER_PID,
        SBX_A_INIT_PID,
        SBX_A_UID,
        SBX_A_GID,
        SBX_A_GROUPS,      /* array of u32 */
        SBX_A_POLICY_TEXT, /* binary: the policy file as read by the daemon */
        SBX_A_STATE,       /* string */
        SBX_A_START_TIME,  /* u64: CLOCK_REALTIME seconds */
        SBX_A_ITEM,
        SBX_A_PASSWD,      /* nested SBX_A_ITEM: user name, home, shell (daemon -> controller) */
        SBX_A_SECCOMP_BPF, /* binary: struct sock_filter[] the daemon compiled (cached) */
        SBX_A_STATS,       /* binary: struct sbx_wire_stats */
        SBX_A_CPU_PERCPU,  /* binary: u64[] nanoseconds per CPU (cgroup v1 only) */
        SBX_A_SETTINGS,    /* nested SBX_A_ITEM "Key=Value" ([Resources] keys) */
        SBX_A_USER,        /* string: a login name */
        SBX_A_SERVICE,     /* string: PAM service */
        SBX_A_TTY,         /* string: PAM_TTY */
        SBX_A_RHOST,       /* string: PAM_RHOST */
        SBX_A_NS_FLAGS,    /* u32: CLONE_NEW* of a login container, for setns() */
        SBX_A_SESSIONS,    /* u32: open sessions of a login container */
        SBX_A_PEER_PID,    /* u32: the login process a session is bound to */
        SBX_A_NET_STATS,   /* binary: struct sbx_wire_net_stats */
        SBX_A_COUNT,
};

/* Flags of SBX_MSG_RUN: which of the caller's stdio are terminals. Those get the
 * container's PTY and are not sent; the others are sent as fds, in order. */
enum {
        SBX_RUN_TTY_STDIN = 1u << 0,
        SBX_RUN_TTY_STDOUT = 1u << 1,
        SBX_RUN_TTY_STDERR = 1u << 2,
        SBX_RUN_FLAGS_ALL = (1u << 3) - 1,
};

/* Stable error codes in SBX_MSG_ERROR replies. */
enum sbx_err {
        SBX_ERR_INTERNAL = 1,
        SBX_ERR_BAD_REQUEST,
        SBX_ERR_NO_POLICY,
        SBX_ERR_BAD_POLICY,
        SBX_ERR_DENIED,
        SBX_ERR_EXISTS,
        SBX_ERR_NOT_FOUND,
        SBX_ERR_LIMIT,
        SBX_ERR_SETUP, /* the sandbox could not be built */
        SBX_ERR_EXEC,  /* the command could not be executed */
        SBX_ERR_COUNT,
};

/* Most CPUs in SBX_A_CPU_PERCPU, and settings in one SET. */
#define SBX_STATS_CPUS_MAX 4096u
#define SBX_SETTINGS_MAX 32u

/* SBX_A_STATS: a container's counters, read from its cgroup files. A field is
 * meaningful only when its SBX_STATS_HAVE_* bit is set; limits use UINT64_MAX
 * for "no limit". */
enum {
        SBX_STATS_HAVE_CPU = 1u << 0,    /* cpu_usage_ns */
        SBX_STATS_HAVE_MEMORY = 1u << 1, /* memory_current, memory_max, oom_kills */
        SBX_STATS_HAVE_PEAK = 1u << 2,   /* memory_peak */
        SBX_STATS_HAVE_TASKS = 1u << 3,  /* tasks_current, tasks_max */
        SBX_STATS_HAVE_IO = 1u << 4,     /* io_read_bytes, io_write_bytes */
        SBX_STATS_HAVE_ALL = (1u << 5) - 1,
};

struct sbx_wire_stats {
        uint32_t have;           /* SBX_STATS_HAVE_* */
        uint32_t cgroup_version; /* 1 or 2 */
        uint64_t cpu_usage_ns;
        uint64_t memory_current, memory_peak, memory_max, oom_kills;
        uint64_t tasks_current, tasks_max;
        uint64_t io_read_bytes, io_write_bytes;
};

/* SBX_A_NET_STATS: the counters of a container's eth0, as seen from inside
 * (read from the host end of its veth, whose rx is the container's tx). */
struct sbx_wire_net_stats {
        uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
};

struct sbx_wire_hdr {
        uint32_t version;
};

/* A decoded message. Strings point into BUF, which the message owns. */
struct sbx_msg {
        uint16_t type;
        uint64_t present; /* 1ull << SBX_A_* for each attribute present */

        const char *policy, *name, *cwd, *message, *state;
        const char **argv; /* NULL-terminated, allocated */
        size_t argc;
        const char **env;
        size_t envc;
        const char **passwd;
        size_t n_passwd;
        const void *bpf;
        size_t bpf_len;
        uint32_t flags, err, errcode, exit_code, exit_signal, signal;
        uint32_t controller_pid, init_pid, uid, gid;
        uint32_t *groups;
        size_t n_groups;
        const char *policy_text;
        size_t policy_text_len;
        struct winsize winsize;
        uint64_t start_time;
        struct sbx_wire_stats stats;
        uint64_t *percpu; /* allocated, n_percpu entries */
        size_t n_percpu;
        const char **settings;
        size_t n_settings;
        const char *user, *service, *tty, *rhost;
        uint32_t ns_flags, sessions, peer_pid;
        struct sbx_wire_net_stats net_stats;

        void *buf;
};

static inline bool sbx_msg_has(const struct sbx_msg *m, enum sbx_attr a)
{
        return m->present & (1ull << a);
}

/* Decodes LEN bytes of BUF; on success takes ownership of BUF (freed by
 * sbx_msg_done). On failure BUF still belongs to the caller. */
int sbx_msg_decode(void *buf, size_t len, struct sbx_msg *ret);
void sbx_msg_done(struct sbx_msg *m);

/* Builder. */
struct sbx_msg_builder;
struct sbx_msg_builder *sbx_msg_new(enum sbx_msg_type type);
struct sbx_msg_builder *sbx_msg_builder_free(struct sbx_msg_builder *b);
int sbx_msg_put_string(struct sbx_msg_builder *b, enum sbx_attr a, const char *s);
int sbx_msg_put_u32(struct sbx_msg_builder *b, enum sbx_attr a, uint32_t v);
int sbx_msg_put_u64(struct sbx_msg_builder *b, enum sbx_attr a, uint64_t v);
int sbx_msg_put_binary(struct sbx_msg_builder *b, enum sbx_attr a, const void *p, size_t n);
int sbx_msg_put_strv(struct sbx_msg_builder *b, enum sbx_attr a, const char *const *v, size_t n);
/* The encoded bytes; valid until the builder changes or is freed. */
int sbx_msg_bytes(struct sbx_msg_builder *b, const void **ret_data, size_t *ret_len);
int sbx_msg_send(int sock, struct sbx_msg_builder *b, const int *fds, size_t n_fds);

/* Receives and decodes one message of at most CAP bytes; 0 on end of stream,
 * 1 on a message. Bad messages: -EBADMSG / -EMSGSIZE, with no fds left open. */
int sbx_msg_recv(int sock, size_t cap, struct sbx_msg *ret, int *ret_fds, size_t max_fds,
                 size_t *ret_n_fds);

/* Convenience: an empty SBX_MSG_OK reply. */
int sbx_msg_send_ok(int sock);

/* Convenience: an SBX_MSG_ERROR reply. */
int sbx_msg_send_error(int sock, int error, enum sbx_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

const char *sbx_msg_type_to_string(enum sbx_msg_type t);
const char *sbx_err_to_string(enum sbx_err e);
