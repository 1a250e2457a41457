/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "fd-util.h"
#include "macro.h"
#include "protocol.h"

enum attr_kind {
        KIND_NONE,
        KIND_STRING,
        KIND_U32,
        KIND_U64,
        KIND_BINARY,
        KIND_STRV,
};

struct attr_spec {
        enum attr_kind kind;
        uint32_t max_len; /* strings: including NUL; binary: exact size if exact */
        bool exact;
};

#define STR(n)                                                                                     \
        {                                                                                          \
                KIND_STRING, (n), false                                                            \
        }
#define U32                                                                                        \
        {                                                                                          \
                KIND_U32, 4, true                                                                  \
        }
#define U64                                                                                        \
        {                                                                                          \
                KIND_U64, 8, true                                                                  \
        }

static const struct attr_spec attr_specs[SBX_A_COUNT] = {
    [SBX_A_POLICY] = STR(65),
    [SBX_A_NAME] = STR(65),
    [SBX_A_ARGV] = {KIND_STRV, 0, false},
    [SBX_A_ENV] = {KIND_STRV, 0, false},
    [SBX_A_FLAGS] = U32,
    [SBX_A_WINSIZE] = {KIND_BINARY, sizeof(struct winsize), true},
    [SBX_A_CWD] = STR(4096),
    [SBX_A_ERRNO] = U32,
    [SBX_A_ERRCODE] = U32,
    [SBX_A_MESSAGE] = STR(4096),
    [SBX_A_EXIT_CODE] = U32,
    [SBX_A_EXIT_SIGNAL] = U32,
    [SBX_A_SIGNAL] = U32,
    [SBX_A_CONTROLLER_PID] = U32,
    [SBX_A_INIT_PID] = U32,
    [SBX_A_UID] = U32,
    [SBX_A_GID] = U32,
    [SBX_A_GROUPS] = {KIND_BINARY, SBX_GROUPS_MAX * 4, false},
    [SBX_A_POLICY_TEXT] = {KIND_BINARY, 64 * 1024, false},
    [SBX_A_STATE] = STR(32),
    [SBX_A_START_TIME] = U64,
    [SBX_A_PASSWD] = {KIND_STRV, 0, false},
    [SBX_A_SECCOMP_BPF] = {KIND_BINARY, 4096 * 8, false},
    [SBX_A_STATS] = {KIND_BINARY, sizeof(struct sbx_wire_stats), true},
    [SBX_A_CPU_PERCPU] = {KIND_BINARY, SBX_STATS_CPUS_MAX * 8, false},
    [SBX_A_SETTINGS] = {KIND_STRV, 0, false},
    [SBX_A_USER] = STR(256),
    [SBX_A_SERVICE] = STR(256),
    [SBX_A_TTY] = STR(256),
    [SBX_A_RHOST] = STR(1024),
    [SBX_A_NS_FLAGS] = U32,
    [SBX_A_SESSIONS] = U32,
    [SBX_A_PEER_PID] = U32,
    [SBX_A_NET_STATS] = {KIND_BINARY, sizeof(struct sbx_wire_net_stats), true},
};

#define A(x) (1ull << SBX_A_##x)

struct msg_spec {
        const char *name;
        uint64_t allowed;
        uint64_t required;
};

static const struct msg_spec msg_specs[SBX_MSG_TYPE_END] = {
    [SBX_MSG_RUN] = {"RUN", A(POLICY) | A(NAME) | A(ARGV) | A(ENV) | A(FLAGS) | A(WINSIZE) | A(CWD),
                     A(POLICY) | A(ARGV) | A(FLAGS)},
    [SBX_MSG_LIST] = {"LIST", 0, 0},
    [SBX_MSG_INFO] = {"INFO", A(NAME), A(NAME)},
    [SBX_MSG_STOP] = {"STOP", A(NAME), A(NAME)},
    [SBX_MSG_SIGNAL] = {"SIGNAL", A(SIGNAL), A(SIGNAL)},
    [SBX_MSG_ERROR] = {"ERROR", A(ERRNO) | A(ERRCODE) | A(MESSAGE), A(ERRNO) | A(ERRCODE)},
    [SBX_MSG_OK] = {"OK", 0, 0},
    [SBX_MSG_STARTED] = {"STARTED", A(NAME) | A(INIT_PID), A(NAME)},
    [SBX_MSG_EXITED] = {"EXITED", A(EXIT_CODE) | A(EXIT_SIGNAL), A(EXIT_CODE)},
    [SBX_MSG_CONTAINER] = {"CONTAINER",
                           A(NAME) | A(POLICY) | A(UID) | A(CONTROLLER_PID) | A(INIT_PID) |
                               A(STATE) | A(START_TIME) | A(ARGV) | A(USER) | A(SESSIONS),
                           A(NAME) | A(POLICY) | A(UID) | A(STATE)},
    [SBX_MSG_CTL_START] = {"CTL_START",
                           A(POLICY) | A(NAME) | A(ARGV) | A(ENV) | A(FLAGS) | A(WINSIZE) | A(CWD) |
                               A(UID) | A(GID) | A(GROUPS) | A(POLICY_TEXT) | A(PASSWD) |
                               A(SECCOMP_BPF),
                           A(POLICY) | A(NAME) | A(ARGV) | A(FLAGS) | A(UID) | A(GID) |
                               A(POLICY_TEXT)},
    [SBX_MSG_CTL_STATE] = {"CTL_STATE",
                           A(STATE) | A(INIT_PID) | A(NAME) | A(POLICY) | A(UID) | A(START_TIME) |
                               A(ARGV),
                           A(STATE)},
    [SBX_MSG_CTL_STOP] = {"CTL_STOP", 0, 0},
    [SBX_MSG_STATS] = {"STATS", A(NAME), A(NAME)},
    /* STATS or NET_STATS or both: checked in sbx_msg_decode(). */
    [SBX_MSG_STATS_REPLY] = {"STATS_REPLY", A(STATS) | A(CPU_PERCPU) | A(NET_STATS), 0},
    [SBX_MSG_CTL_STATS] = {"CTL_STATS", 0, 0},
    [SBX_MSG_SET] = {"SET", A(NAME) | A(SETTINGS), A(NAME) | A(SETTINGS)},
    [SBX_MSG_SET_REPLY] = {"SET_REPLY", A(SETTINGS), A(SETTINGS)},
    [SBX_MSG_CTL_SET] = {"CTL_SET", A(SETTINGS), A(SETTINGS)},
    [SBX_MSG_LOGIN_JOIN] = {"LOGIN_JOIN", A(USER) | A(POLICY) | A(SERVICE) | A(TTY) | A(RHOST),
                            A(USER)},
    [SBX_MSG_LOGIN_JOINED] = {"LOGIN_JOINED", A(NAME) | A(NS_FLAGS) | A(INIT_PID),
                              A(NAME) | A(NS_FLAGS)},
    [SBX_MSG_LOGIN_CLOSE] = {"LOGIN_CLOSE", 0, 0},
    [SBX_MSG_LOGIN_SESSIONS] = {"LOGIN_SESSIONS", A(USER), 0},
    [SBX_MSG_LOGIN_SESSION] = {"LOGIN_SESSION",
                               A(NAME) | A(USER) | A(PEER_PID) | A(SERVICE) | A(TTY) | A(RHOST) |
                                   A(START_TIME),
                               A(NAME) | A(USER) | A(PEER_PID)},
    [SBX_MSG_LOGIN_ENTER] = {"LOGIN_ENTER", A(USER), A(USER)},
    [SBX_MSG_NETWORK_LIST] = {"NETWORK_LIST", 0, 0},
    [SBX_MSG_NETWORK_INFO] = {"NETWORK_INFO", A(NAME), A(NAME)},
    [SBX_MSG_NETWORK_DESTROY] = {"NETWORK_DESTROY", A(NAME), A(NAME)},
    [SBX_MSG_NETWORK] = {"NETWORK", A(NAME) | A(SETTINGS), A(NAME) | A(SETTINGS)},
};

static const char *const err_names[SBX_ERR_COUNT] = {
    [SBX_ERR_INTERNAL] = "internal",   [SBX_ERR_BAD_REQUEST] = "bad-request",
    [SBX_ERR_NO_POLICY] = "no-policy", [SBX_ERR_BAD_POLICY] = "bad-policy",
    [SBX_ERR_DENIED] = "denied",       [SBX_ERR_EXISTS] = "exists",
    [SBX_ERR_NOT_FOUND] = "not-found", [SBX_ERR_LIMIT] = "limit",
    [SBX_ERR_SETUP] = "setup",         [SBX_ERR_EXEC] = "exec",
};

const char *sbx_msg_type_to_string(enum sbx_msg_type t)
{
        if ((int) t < 0 || t >= SBX_MSG_TYPE_END || !msg_specs[t].name)
                return NULL;
        return msg_specs[t].name;
}

const char *sbx_err_to_string(enum sbx_err e)
{
        if ((int) e < 0 || e >= SBX_ERR_COUNT)
                return NULL;
        return err_names[e];
}

/* A string attribute must hold exactly one NUL, at its end. */
static int check_string(const struct nlattr *nla, size_t max_len)
{
        size_t len = (size_t) nla_len(nla);
        const char *s = nla_data(nla);

        if (len == 0 || len > max_len || s[len - 1] != '\0' || strlen(s) != len - 1)
                return -EBADMSG;
        return 0;
}

static int decode_strv(struct nlattr *nest, size_t max_items, const char ***ret, size_t *ret_n)
{
        struct nlattr *pos;
        const char **v;
        size_t n = 0;
        int rem;

        nla_for_each_nested (pos, nest, rem)
                n++;
        if (rem != 0 || n > max_items)
                return -EBADMSG;
        v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        n = 0;
        nla_for_each_nested (pos, nest, rem) {
                if (nla_type(pos) != SBX_A_ITEM || check_string(pos, (size_t) 128 * 1024) < 0) {
                        free(v);
                        return -EBADMSG;
                }
                v[n++] = nla_data(pos);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int decode_attr(struct sbx_msg *m, struct nlattr *nla)
{
        int type = nla_type(nla);
        const struct attr_spec *s = &attr_specs[type];
        size_t len = (size_t) nla_len(nla);
        const void *d = nla_data(nla);

        switch (s->kind) {
        case KIND_STRING: {
                const char *str = d;

                if (check_string(nla, s->max_len) < 0)
                        return -EBADMSG;
                switch (type) {
                case SBX_A_POLICY:
                        m->policy = str;
                        break;
                case SBX_A_NAME:
                        m->name = str;
                        break;
                case SBX_A_CWD:
                        m->cwd = str;
                        break;
                case SBX_A_MESSAGE:
                        m->message = str;
                        break;
                case SBX_A_STATE:
                        m->state = str;
                        break;
                case SBX_A_USER:
                        m->user = str;
                        break;
                case SBX_A_SERVICE:
                        m->service = str;
                        break;
                case SBX_A_TTY:
                        m->tty = str;
                        break;
                case SBX_A_RHOST:
                        m->rhost = str;
                        break;
                default:
                        return -EBADMSG;
                }
                return 0;
        }
        case KIND_U32: {
                uint32_t v;

                if (len != 4)
                        return -EBADMSG;
                memcpy(&v, d, 4);
                switch (type) {
                case SBX_A_FLAGS:
                        m->flags = v;
                        break;
                case SBX_A_ERRNO:
                        m->err = v;
                        break;
                case SBX_A_ERRCODE:
                        m->errcode = v;
                        break;
                case SBX_A_EXIT_CODE:
                        m->exit_code = v;
                        break;
                case SBX_A_EXIT_SIGNAL:
                        m->exit_signal = v;
                        break;
                case SBX_A_SIGNAL:
                        m->signal = v;
                        break;
                case SBX_A_CONTROLLER_PID:
                        m->controller_pid = v;
                        break;
                case SBX_A_INIT_PID:
                        m->init_pid = v;
                        break;
                case SBX_A_UID:
                        m->uid = v;
                        break;
                case SBX_A_GID:
                        m->gid = v;
                        break;
                case SBX_A_NS_FLAGS:
                        m->ns_flags = v;
                        break;
                case SBX_A_SESSIONS:
                        m->sessions = v;
                        break;
                case SBX_A_PEER_PID:
                        m->peer_pid = v;
                        break;
                default:
                        return -EBADMSG;
                }
                return 0;
        }
        case KIND_U64:
                if (len != 8 || type != SBX_A_START_TIME)
                        return -EBADMSG;
                memcpy(&m->start_time, d, 8);
                return 0;
        case KIND_BINARY:
                if (len > s->max_len || (s->exact && len != s->max_len))
                        return -EBADMSG;
                switch (type) {
                case SBX_A_WINSIZE:
                        memcpy(&m->winsize, d, sizeof(m->winsize));
                        return 0;
                case SBX_A_GROUPS:
                        if (len % 4 != 0)
                                return -EBADMSG;
                        m->n_groups = len / 4;
                        m->groups = malloc(len ? len : 1);
                        if (!m->groups)
                                return -ENOMEM;
                        memcpy(m->groups, d, len);
                        return 0;
                case SBX_A_POLICY_TEXT:
                        m->policy_text = d;
                        m->policy_text_len = len;
                        return 0;
                case SBX_A_SECCOMP_BPF:
                        if (len == 0 || len % 8 != 0)
                                return -EBADMSG;
                        m->bpf = d;
                        m->bpf_len = len;
                        return 0;
                case SBX_A_STATS:
                        memcpy(&m->stats, d, sizeof(m->stats));
                        if ((m->stats.have & ~(uint32_t) SBX_STATS_HAVE_ALL) ||
                            (m->stats.cgroup_version != 1 && m->stats.cgroup_version != 2))
                                return -EBADMSG;
                        return 0;
                case SBX_A_NET_STATS:
                        memcpy(&m->net_stats, d, sizeof(m->net_stats));
                        return 0;
                case SBX_A_CPU_PERCPU:
                        /* Attribute data is only 4-byte aligned: copy. */
                        if (len == 0 || len % 8 != 0)
                                return -EBADMSG;
                        m->n_percpu = len / 8;
                        m->percpu = malloc(len);
                        if (!m->percpu)
                                return -ENOMEM;
                        memcpy(m->percpu, d, len);
                        return 0;
                default:
                        return -EBADMSG;
                }
        case KIND_STRV:
                if (type == SBX_A_ARGV) {
                        int r = decode_strv(nla, SBX_ARGV_MAX, &m->argv, &m->argc);

                        /* Every message with a command line has a command. */
                        return r < 0 ? r : m->argc == 0 ? -EBADMSG : 0;
                }
                if (type == SBX_A_PASSWD)
                        return decode_strv(nla, 3, &m->passwd, &m->n_passwd);
                if (type == SBX_A_SETTINGS) {
                        int r = decode_strv(nla, SBX_SETTINGS_MAX, &m->settings, &m->n_settings);

                        if (r >= 0 && m->n_settings == 0)
                                r = -EBADMSG;
                        return r;
                }
                return decode_strv(nla, SBX_ENV_MAX, &m->env, &m->envc);
        case KIND_NONE:
        default:
                return -EBADMSG;
        }
}

static void msg_clear(struct sbx_msg *m)
{
        free(m->argv);
        free(m->env);
        free(m->passwd);
        free(m->groups);
        free(m->percpu);
        free(m->settings);
        memset(m, 0, sizeof(*m));
}

int sbx_msg_decode(void *buf, size_t len, struct sbx_msg *ret)
{
        struct sbx_msg m = {};
        struct nlmsghdr *nlh = buf;
        const struct sbx_wire_hdr *wh;
        const struct msg_spec *spec;
        struct nlattr *head, *nla;
        int attrlen, rem, r = -EBADMSG;

        if (len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*wh)) || len > SBX_MSG_MAX)
                return -EBADMSG;
        if (nlh->nlmsg_len != len || nlh->nlmsg_flags != 0)
                return -EBADMSG;
        if (nlh->nlmsg_type >= SBX_MSG_TYPE_END || !msg_specs[nlh->nlmsg_type].name)
                return -EBADMSG;
        wh = nlmsg_data(nlh);
        if (wh->version != SBX_PROTOCOL_VERSION)
                return -EPROTONOSUPPORT;

        m.type = nlh->nlmsg_type;
        spec = &msg_specs[m.type];
        head = nlmsg_attrdata(nlh, sizeof(*wh));
        attrlen = nlmsg_attrlen(nlh, sizeof(*wh));

        nla_for_each_attr (nla, head, attrlen, rem) {
                int type = nla_type(nla);

                if (type <= SBX_A_UNSPEC || type >= SBX_A_COUNT)
                        goto fail;
                if (!(spec->allowed & (1ull << type)) || (m.present & (1ull << type)))
                        goto fail;
                m.present |= 1ull << type;
                r = decode_attr(&m, nla);
                if (r < 0)
                        goto fail;
                r = -EBADMSG;
        }
        /* A stats reply has its cgroup's figures (per-CPU ones only with
         * them), its network's, or both. */
        if (m.type == SBX_MSG_STATS_REPLY &&
            (!(m.present & (A(STATS) | A(NET_STATS))) ||
             ((m.present & A(CPU_PERCPU)) && !(m.present & A(STATS)))))
                goto fail;
        /* Trailing bytes that do not form an attribute. */
        if (rem != 0 || (m.present & spec->required) != spec->required)
                goto fail;

        m.buf = buf;
        *ret = m;
        return 0;
fail:
        msg_clear(&m);
        return r;
}

void sbx_msg_done(struct sbx_msg *m)
{
        void *buf = m->buf;

        msg_clear(m);
        free(buf);
}

struct sbx_msg_builder {
        struct nl_msg *msg;
        int error; /* first error of a put, reported by sbx_msg_bytes */
};

struct sbx_msg_builder *sbx_msg_new(enum sbx_msg_type type)
{
        struct sbx_msg_builder *b = calloc(1, sizeof(*b));
        struct sbx_wire_hdr wh = {.version = SBX_PROTOCOL_VERSION};

        if (!b)
                return NULL;
        b->msg = nlmsg_alloc_size(SBX_MSG_MAX);
        if (!b->msg || !nlmsg_put(b->msg, 0, 0, (int) type, 0, 0) ||
            nlmsg_append(b->msg, &wh, sizeof(wh), NLMSG_ALIGNTO) < 0)
                return sbx_msg_builder_free(b);
        return b;
}

struct sbx_msg_builder *sbx_msg_builder_free(struct sbx_msg_builder *b)
{
        if (b) {
                nlmsg_free(b->msg);
                free(b);
        }
        return NULL;
}

static int put_result(struct sbx_msg_builder *b, int nl_r)
{
        if (nl_r < 0 && b->error == 0)
                b->error = -EMSGSIZE;
        return nl_r < 0 ? -EMSGSIZE : 0;
}

int sbx_msg_put_string(struct sbx_msg_builder *b, enum sbx_attr a, const char *s)
{
        return put_result(b, nla_put_string(b->msg, (int) a, s));
}

int sbx_msg_put_u32(struct sbx_msg_builder *b, enum sbx_attr a, uint32_t v)
{
        return put_result(b, nla_put_u32(b->msg, (int) a, v));
}

int sbx_msg_put_u64(struct sbx_msg_builder *b, enum sbx_attr a, uint64_t v)
{
        return put_result(b, nla_put_u64(b->msg, (int) a, v));
}

int sbx_msg_put_binary(struct sbx_msg_builder *b, enum sbx_attr a, const void *p, size_t n)
{
        if (n > INT16_MAX * 2)
                return put_result(b, -1);
        return put_result(b, nla_put(b->msg, (int) a, (int) n, p));
}

int sbx_msg_put_strv(struct sbx_msg_builder *b, enum sbx_attr a, const char *const *v, size_t n)
{
        struct nlattr *nest = nla_nest_start(b->msg, (int) a);

        if (!nest)
                return put_result(b, -1);
        for (size_t i = 0; i < n; i++)
                if (put_result(b, nla_put_string(b->msg, SBX_A_ITEM, v[i])) < 0)
                        return -EMSGSIZE;
        return put_result(b, nla_nest_end(b->msg, nest));
}

int sbx_msg_bytes(struct sbx_msg_builder *b, const void **ret_data, size_t *ret_len)
{
        struct nlmsghdr *nlh;

        if (b->error < 0)
                return b->error;
        nlh = nlmsg_hdr(b->msg);
        *ret_data = nlh;
        *ret_len = nlh->nlmsg_len;
        return 0;
}

int sbx_msg_send(int sock, struct sbx_msg_builder *b, const int *fds, size_t n_fds)
{
        const void *data;
        size_t len;
        int r = sbx_msg_bytes(b, &data, &len);

        if (r < 0)
                return r;
        return sbx_send_fds(sock, data, len, fds, n_fds);
}

int sbx_msg_recv(int sock, size_t cap, struct sbx_msg *ret, int *ret_fds, size_t max_fds,
                 size_t *ret_n_fds)
{
        cleanup_free void *buf = malloc(cap);
        int fds[SBX_MAX_FDS];
        size_t n_fds = 0;
        ssize_t n;
        int r;

        if (!buf)
                return -ENOMEM;
        n = sbx_recv_fds(sock, buf, cap, fds, max_fds < SBX_MAX_FDS ? max_fds : SBX_MAX_FDS,
                         &n_fds);
        if (n < 0)
                return (int) n;
        if (n == 0 && n_fds == 0)
                return 0;
        r = sbx_msg_decode(buf, (size_t) n, ret);
        if (r < 0) {
                sbx_close_many(fds, n_fds);
                return r;
        }
        buf = NULL; /* owned by *ret now */
        if (ret_fds)
                memcpy(ret_fds, fds, n_fds * sizeof(int));
        else
                sbx_close_many(fds, n_fds);
        if (ret_n_fds)
                *ret_n_fds = ret_fds ? n_fds : 0;
        return 1;
}

int sbx_msg_send_ok(int sock)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_OK);
        int r = b ? sbx_msg_send(sock, b, NULL, 0) : -ENOMEM;

        sbx_msg_builder_free(b);
        return r;
}

int sbx_msg_send_error(int sock, int error, enum sbx_err code, const char *fmt, ...)
{
        struct sbx_msg_builder *b = sbx_msg_new(SBX_MSG_ERROR);
        char text[1024];
        va_list ap;
        int r;

        if (!b)
                return -ENOMEM;
        va_start(ap, fmt);
        (void) vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        (void) sbx_msg_put_u32(b, SBX_A_ERRNO, (uint32_t) (error < 0 ? -error : error));
        (void) sbx_msg_put_u32(b, SBX_A_ERRCODE, (uint32_t) code);
        (void) sbx_msg_put_string(b, SBX_A_MESSAGE, text);
        r = sbx_msg_send(sock, b, NULL, 0);
        sbx_msg_builder_free(b);
        return r;
}
