/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "login-state.h"
#include "macro.h"

#define STATE_MAX_SESSIONS 4096u

static void put_hex(FILE *f, const char *s)
{
        if (!s) {
                (void) fputc('-', f);
                return;
        }
        /* "=" marks an empty string, so that "-" can mean none. */
        if (!*s)
                (void) fputc('=', f);
        for (; *s; s++)
                (void) fprintf(f, "%02x", (unsigned char) *s);
}

int sbx_login_state_format(const struct sbx_login_state *st, char **ret)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        (void) fprintf(f, "lxsandbox-login 1\nname ");
        put_hex(f, st->name);
        (void) fprintf(f, "\nuser ");
        put_hex(f, st->user);
        (void) fprintf(f, "\npolicy ");
        put_hex(f, st->policy);
        (void) fprintf(f, "\ncgroup ");
        put_hex(f, st->cgroup);
        (void) fprintf(
            f, "\nuid %u\nlinger %" PRIu64 "\ninit %d %" PRIu64 "\nnsflags %d\nstart %" PRIu64 "\n",
            (unsigned) st->uid, st->linger_usec, (int) st->init_pid, st->init_starttime,
            st->ns_flags, st->start_time);
        if (st->max_sessions)
                (void) fprintf(f, "maxsessions %" PRIu32 "\n", st->max_sessions);
        for (size_t i = 0; i < st->n_sessions; i++) {
                const struct sbx_login_state_session *s = &st->sessions[i];

                (void) fprintf(f, "session %d %" PRIu64 " %" PRIu64 " ", (int) s->pid, s->starttime,
                               s->start_time);
                put_hex(f, s->service);
                (void) fputc(' ', f);
                put_hex(f, s->tty);
                (void) fputc(' ', f);
                put_hex(f, s->rhost);
                (void) fputc(' ', f);
                put_hex(f, s->orig_cgroup);
                (void) fputc('\n', f);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* One hex word of LEN bytes at P into *RET (NULL for "-"). */
static int get_hex(const char *p, size_t len, char **ret)
{
        char *s;

        if (len == 1 && p[0] == '-') {
                *ret = NULL;
                return 0;
        }
        if (len == 1 && p[0] == '=') {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        if (len == 0 || len % 2 != 0)
                return -EBADMSG;
        s = malloc(len / 2 + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < len; i += 2) {
                int hi = hexval(p[i]), lo = hexval(p[i + 1]);

                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                        free(s);
                        return -EBADMSG;
                }
                s[i / 2] = (char) (hi * 16 + lo);
        }
        s[len / 2] = '\0';
        *ret = s;
        return 0;
}

/* Splits LINE (without its newline) into at most N words. */
static size_t split(const char *line, size_t len, const char **w, size_t *wl, size_t n)
{
        size_t k = 0, i = 0;

        while (i < len && k < n) {
                size_t j = i;

                while (j < len && line[j] != ' ')
                        j++;
                w[k] = line + i;
                wl[k++] = j - i;
                i = j + 1;
        }
        return i < len ? n + 1 : k;
}

static int get_u64(const char *p, size_t len, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || len > 20)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (p[i] - '0');
        }
        *ret = v;
        return 0;
}

static int get_pid(const char *p, size_t len, pid_t *ret)
{
        uint64_t v;
        int r = get_u64(p, len, &v);

        if (r < 0 || v == 0 || v > INT32_MAX)
                return -EBADMSG;
        *ret = (pid_t) v;
        return 0;
}

static bool word_is(const char *w, size_t wl, const char *s)
{
        return wl == strlen(s) && memcmp(w, s, wl) == 0;
}

/* The string-valued keys, in the order of their bits in SEEN. */
static char **string_key(struct sbx_login_state *st, const char *w, size_t wl, unsigned *bit)
{
        static const char *const keys[] = {"name", "user", "policy", "cgroup"};
        char **slots[] = {&st->name, &st->user, &st->policy, &st->cgroup};

        for (unsigned i = 0; i < ELEMENTSOF(keys); i++)
                if (word_is(w, wl, keys[i])) {
                        *bit = 1u << i;
                        return slots[i];
                }
        return NULL;
}

static int parse_session(struct sbx_login_state *st, const char *const *w, const size_t *wl)
{
        struct sbx_login_state_session *more, *s;
        int r;

        if (st->n_sessions >= STATE_MAX_SESSIONS)
                return -EBADMSG;
        more = reallocarray(st->sessions, st->n_sessions + 1, sizeof(*more));
        if (!more)
                return -ENOMEM;
        st->sessions = more;
        s = &st->sessions[st->n_sessions++];
        *s = (struct sbx_login_state_session){};
        r = get_pid(w[1], wl[1], &s->pid);
        if (r >= 0)
                r = get_u64(w[2], wl[2], &s->starttime);
        if (r >= 0)
                r = get_u64(w[3], wl[3], &s->start_time);
        if (r >= 0)
                r = get_hex(w[4], wl[4], &s->service);
        if (r >= 0)
                r = get_hex(w[5], wl[5], &s->tty);
        if (r >= 0)
                r = get_hex(w[6], wl[6], &s->rhost);
        if (r >= 0)
                r = get_hex(w[7], wl[7], &s->orig_cgroup);
        return r;
}

static int parse_line(const char *line, size_t len, struct sbx_login_state *st, unsigned *seen)
{
        const char *w[8];
        size_t wl[8], n = split(line, len, w, wl, 8);
        unsigned bit = 0;
        uint64_t v = 0;
        char **slot;
        int r;

        if (n == 8 && word_is(w[0], wl[0], "session"))
                return parse_session(st, w, wl);
        slot = n == 2 ? string_key(st, w[0], wl[0], &bit) : NULL;
        if (slot) {
                if (*seen & bit)
                        return -EBADMSG;
                *seen |= bit;
                return get_hex(w[1], wl[1], slot);
        }
        if (n == 3 && word_is(w[0], wl[0], "init")) {
                bit = 1u << 4;
                r = get_pid(w[1], wl[1], &st->init_pid);
                if (r >= 0)
                        r = get_u64(w[2], wl[2], &st->init_starttime);
        } else if (n == 2 && word_is(w[0], wl[0], "uid")) {
                bit = 1u << 5;
                r = get_u64(w[1], wl[1], &v);
                if (r >= 0 && v >= UINT32_MAX)
                        r = -EBADMSG;
                st->uid = (uid_t) v;
        } else if (n == 2 && word_is(w[0], wl[0], "linger")) {
                bit = 1u << 6;
                r = get_u64(w[1], wl[1], &st->linger_usec);
        } else if (n == 2 && word_is(w[0], wl[0], "nsflags")) {
                bit = 1u << 7;
                r = get_u64(w[1], wl[1], &v);
                if (r >= 0 && v > INT32_MAX)
                        r = -EBADMSG;
                st->ns_flags = (int) v;
        } else if (n == 2 && word_is(w[0], wl[0], "start")) {
                bit = 1u << 8;
                r = get_u64(w[1], wl[1], &st->start_time);
        } else if (n == 2 && word_is(w[0], wl[0], "maxsessions")) {
                bit = 1u << 9;
                r = get_u64(w[1], wl[1], &v);
                if (r >= 0 && (v == 0 || v > UINT32_MAX))
                        r = -EBADMSG;
                st->max_sessions = (uint32_t) v;
        } else
                return -EBADMSG;
        if (*seen & bit)
                return -EBADMSG;
        *seen |= bit;
        return r;
}

int sbx_login_state_parse(const char *text, struct sbx_login_state *ret)
{
        static const char magic[] = "lxsandbox-login 1\n";
        struct sbx_login_state st = {};
        unsigned seen = 0;
        const char *p;
        int r = 0;

        if (strncmp(text, magic, sizeof(magic) - 1) != 0)
                return -EBADMSG;
        for (p = text + sizeof(magic) - 1; *p && r >= 0;) {
                const char *nl = strchr(p, '\n');

                if (!nl) {
                        r = -EBADMSG;
                        break;
                }
                r = parse_line(p, (size_t) (nl - p), &st, &seen);
                p = nl + 1;
        }
        /* Everything but the cgroup and maxsessions is required, and the names are. */
        if (r >= 0 && ((seen & 511) != 511 || !st.name || !st.user || !st.policy))
                r = -EBADMSG;
        if (r < 0) {
                sbx_login_state_done(&st);
                return r;
        }
        *ret = st;
        return 0;
}

void sbx_login_state_done(struct sbx_login_state *st)
{
        free(st->name);
        free(st->user);
        free(st->policy);
        free(st->cgroup);
        for (size_t i = 0; i < st->n_sessions; i++) {
                free(st->sessions[i].service);
                free(st->sessions[i].tty);
                free(st->sessions[i].rhost);
                free(st->sessions[i].orig_cgroup);
        }
        free(st->sessions);
        *st = (struct sbx_login_state){};
}

int sbx_login_pid_starttime(pid_t pid, uint64_t *ret)
{
        char path[64], buf[1024], *p;
        cleanup_close int fd = -1;
        uint64_t v;
        ssize_t n;

        (void) snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : sbx_negerrno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -ESRCH;
        buf[n] = '\0';
        /* The command name may hold anything, ")" too: skip to the last one. */
        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        /* Fields after the name: state is 3, starttime 22: skip 19 words. */
        p += 2;
        for (int i = 0; i < 19; i++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
        }
        {
                size_t len = strcspn(p, " ");
                uint64_t t;

                if (get_u64(p, len, &t) < 0)
                        return -EBADMSG;
                v = t;
        }
        *ret = v;
        return 0;
}

int sbx_login_state_write(int dir_fd, const char *name, const char *text)
{
        char tmp[128], final[128];
        cleanup_close int fd = -1;
        int r;

        (void) snprintf(tmp, sizeof(tmp), ".%s.state.tmp", name);
        (void) snprintf(final, sizeof(final), "%s.state", name);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return sbx_negerrno();
        r = sbx_write_all(fd, text, strlen(text));
        if (r >= 0 && fsync(fd) < 0)
                r = sbx_negerrno();
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, final) < 0)
                r = sbx_negerrno();
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}
