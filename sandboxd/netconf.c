/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network files: a small line parser of its own rather than inih. The format
 * is one section of five keys; no continuation lines, no inline comments (a
 * ';' is part of the value, which every key then refuses). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "net-util.h"
#include "netconf.h"
#include "parse-util.h"
#include "policy.h"

enum key { KEY_BRIDGE, KEY_ADDRESS, KEY_NAT, KEY_OUTBOUND, KEY_DESCRIPTION, KEY_COUNT };

static const char *const key_names[KEY_COUNT] = {
    [KEY_BRIDGE] = "Bridge",
    [KEY_ADDRESS] = "Address",
    [KEY_NAT] = "NAT",
    [KEY_OUTBOUND] = "OutboundInterface",
    [KEY_DESCRIPTION] = "Description",
};

struct ctx {
        const char *filename;
        unsigned line;
        unsigned key_line[KEY_COUNT];
        char *error;
        int r;
        struct sbx_netconf *c;
};

sbx_printf(3, 4) static int fail(struct ctx *x, unsigned line, const char *fmt, ...)
{
        cleanup_free char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                what = NULL;
        va_end(ap);
        if (!what || asprintf(&x->error, "%s:%u: %s", x->filename, line, what) < 0) {
                x->error = NULL;
                return x->r = -ENOMEM;
        }
        return x->r = -EINVAL;
}

/* User text in messages: printable ASCII only, at most 64 bytes. */
static const char *quote(const char *s, char *buf, size_t len)
{
        size_t k = 0;

        for (; *s && k + 5 < len && k < 64; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch >= 0x20 && ch < 0x7f && ch != '\\')
                        buf[k++] = (char) ch;
                else
                        k += (size_t) snprintf(buf + k, len - k, "\\x%02x", ch);
        }
        buf[k] = '\0';
        return buf;
}

/* Interface names that go into an nft script too: a narrower set than the
 * kernel's, so no quoting question ever arises. */
static bool ifname_valid(const char *s)
{
        if (!sbx_ifname_valid(s))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

static int set_string(struct ctx *x, char **field, const char *value)
{
        free(*field);
        *field = strdup(value);
        return *field ? 0 : (x->r = -ENOMEM);
}

static int parse_key(struct ctx *x, enum key k, const char *v)
{
        struct sbx_netconf *c = x->c;
        char q[300];
        const char *kn = key_names[k];
        uint32_t a, mask;
        unsigned prefix;
        int b;

        switch (k) {
        case KEY_BRIDGE:
                if (!ifname_valid(v))
                        return fail(x, x->line,
                                    "[Network] %s: expected an interface name (1 to 15 of "
                                    "[A-Za-z0-9._-]), got '%s'",
                                    kn, quote(v, q, sizeof(q)));
                if (strncmp(v, SBX_NET_VETH_PREFIX, strlen(SBX_NET_VETH_PREFIX)) == 0)
                        return fail(x, x->line,
                                    "[Network] %s: names starting with '" SBX_NET_VETH_PREFIX
                                    "' are the containers' interfaces",
                                    kn);
                return set_string(x, &c->bridge, v);
        case KEY_ADDRESS:
                if (sbx_net_parse_ipv4_cidr(v, &a, &prefix) < 0)
                        return fail(x, x->line,
                                    "[Network] %s: expected an IPv4 ADDRESS/PREFIX like "
                                    "10.213.7.1/24, got '%s'",
                                    kn, quote(v, q, sizeof(q)));
                if (prefix < 8 || prefix > 30)
                        return fail(x, x->line,
                                    "[Network] %s: expected a prefix from /8 to /30, got '%s'", kn,
                                    quote(v, q, sizeof(q)));
                mask = sbx_net_mask(prefix);
                if ((a & ~mask) == 0 || (a & ~mask) == ~mask)
                        return fail(x, x->line,
                                    "[Network] %s: '%s' is the subnet's network or broadcast "
                                    "address; give the bridge's own address, like 10.213.7.1/24",
                                    kn, quote(v, q, sizeof(q)));
                c->address = a;
                c->prefix = prefix;
                return 0;
        case KEY_NAT:
                b = sbx_parse_boolean(v);
                if (b < 0)
                        return fail(x, x->line, "[Network] %s: expected 'yes' or 'no', got '%s'",
                                    kn, quote(v, q, sizeof(q)));
                c->nat = b;
                return 0;
        case KEY_OUTBOUND:
                if (!ifname_valid(v))
                        return fail(x, x->line,
                                    "[Network] %s: expected an interface name (1 to 15 of "
                                    "[A-Za-z0-9._-]), got '%s'",
                                    kn, quote(v, q, sizeof(q)));
                return set_string(x, &c->outbound, v);
        case KEY_DESCRIPTION:
                if (strlen(v) > 256)
                        return fail(x, x->line, "[Network] %s: longer than 256 bytes", kn);
                return set_string(x, &c->description, v);
        case KEY_COUNT:
                break;
        }
        return -EINVAL;
}

static char *strip(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

static int parse_line(struct ctx *x, char *line, bool *in_section, bool *seen_section)
{
        char q[300];
        char *s = strip(line), *eq, *key, *value;

        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 && *p != '\t')
                        return fail(x, x->line, "control character in line");
        if (*s == '\0' || *s == '#' || *s == ';')
                return 0;
        if (*s == '[') {
                if (strcmp(s, "[Network]") != 0)
                        return fail(x, x->line, "unknown section '%s' (expected [Network])",
                                    quote(s, q, sizeof(q)));
                if (*seen_section)
                        return fail(x, x->line, "duplicate section [Network]");
                *in_section = *seen_section = true;
                return 0;
        }
        eq = strchr(s, '=');
        if (!eq)
                return fail(x, x->line, "expected 'Key = Value', got '%s'", quote(s, q, sizeof(q)));
        *eq = '\0';
        key = strip(s);
        value = strip(eq + 1);
        if (!*in_section)
                return fail(x, x->line, "key '%s' outside of [Network]", quote(key, q, sizeof(q)));
        for (int k = 0; k < KEY_COUNT; k++) {
                if (strcmp(key, key_names[k]) != 0)
                        continue;
                if (x->key_line[k])
                        return fail(x, x->line,
                                    "[Network] %s: duplicate key (first set at line %u)",
                                    key_names[k], x->key_line[k]);
                x->key_line[k] = x->line;
                return parse_key(x, (enum key) k, value);
        }
        return fail(x, x->line, "[Network] %s: unknown key", quote(key, q, sizeof(q)));
}

int sbx_netconf_parse_string(const char *text, size_t len, const char *name, const char *filename,
                             struct sbx_netconf **ret, char **ret_error)
{
        cleanup_(sbx_netconf_freep) struct sbx_netconf *c = calloc(1, sizeof(*c));
        struct ctx x = {.filename = filename, .c = c};
        bool in_section = false, seen_section = false;
        char line[SBX_NETCONF_MAX_LINE + 2];
        size_t pos = 0;

        if (!c)
                return -ENOMEM;
        c->name = strdup(name);
        c->filename = strdup(filename);
        if (!c->name || !c->filename)
                return -ENOMEM;
        if (len > SBX_NETCONF_MAX_SIZE)
                (void) fail(&x, 0, "larger than %zu bytes", SBX_NETCONF_MAX_SIZE);
        else if (memchr(text, '\0', len))
                (void) fail(&x, 0, "contains a NUL byte");
        while (x.r >= 0 && pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;

                x.line++;
                if (n > SBX_NETCONF_MAX_LINE) {
                        (void) fail(&x, x.line, "line longer than %zu bytes", SBX_NETCONF_MAX_LINE);
                        break;
                }
                memcpy(line, text + pos, n);
                line[n] = '\0';
                (void) parse_line(&x, line, &in_section, &seen_section);
                pos += n + 1;
        }
        if (x.r >= 0 && !seen_section)
                (void) fail(&x, x.line, "missing [Network] section");
        else if (x.r >= 0 && !c->bridge)
                (void) fail(&x, x.line, "[Network] Bridge: missing (the bridge lxsandbox creates)");
        else if (x.r >= 0 && !x.key_line[KEY_ADDRESS])
                (void) fail(&x, x.line,
                            "[Network] Address: missing (the bridge's address, like "
                            "10.213.7.1/24)");
        else if (x.r >= 0 && c->outbound && strcmp(c->outbound, c->bridge) == 0)
                (void) fail(&x, x.key_line[KEY_OUTBOUND],
                            "[Network] OutboundInterface: is the network's own bridge");
        if (x.r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(x.error);
                free(x.error);
                return x.r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int sbx_netconf_load(int dir_fd, const char *name, struct sbx_netconf **ret, char **ret_text,
                     char **ret_error)
{
        cleanup_free char *file = NULL, *text = NULL;
        cleanup_close int fd = -1;
        size_t len = 0;
        int r;

        if (!sbx_policy_name_valid(name))
                return -EINVAL;
        if (asprintf(&file, "%s.ini", name) < 0)
                return -ENOMEM;
        fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = sbx_negerrno();
                if (ret_error && asprintf(ret_error, "%s: %s", file,
                                          r == -ENOENT ? "no such network" : strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = sbx_policy_read_fd(fd, file, &text, &len, ret_error);
        if (r < 0)
                return r;
        r = sbx_netconf_parse_string(text, len, name, file, ret, ret_error);
        if (r < 0)
                return r;
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

int sbx_netconf_dump(const struct sbx_netconf *c, char **ret_text)
{
        char a[16];
        int r = asprintf(
            ret_text, "[Network]\nBridge=%s\nAddress=%s/%u\nNAT=%s\n%s%s\n%s%s\n", c->bridge,
            sbx_net_ipv4_format(c->address, a, sizeof(a)), c->prefix, c->nat ? "yes" : "no",
            c->outbound ? "OutboundInterface=" : "# OutboundInterface: any",
            c->outbound ? c->outbound : "", c->description ? "Description=" : "# Description: none",
            c->description ? c->description : "");

        return r < 0 ? -ENOMEM : 0;
}

void sbx_netconf_range(const struct sbx_netconf *c, uint32_t *ret_first, uint32_t *ret_last)
{
        uint32_t mask = sbx_net_mask(c->prefix);

        *ret_first = (c->address & mask) + 1;
        *ret_last = (c->address | ~mask) - 1;
}

struct sbx_netconf *sbx_netconf_free(struct sbx_netconf *c)
{
        if (!c)
                return NULL;
        free(c->name);
        free(c->filename);
        free(c->bridge);
        free(c->outbound);
        free(c->description);
        free(c);
        return NULL;
}
