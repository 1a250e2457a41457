/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "network-ctl.h"
#include "network.h"
#include "parse-util.h"
#include "policy.h"
#include "protocol.h"
#include "registry.h"

struct reply_ctx {
        int fd;
        uid_t uid;
        const struct sbx_registry *reg;
        size_t n;
};

/* "Lease=ADDRESS CONTAINER" lines of containers the asker may not see are
 * dropped: someone else's container looks exactly like a missing one. */
static bool may_see_lease(const struct reply_ctx *c, const char *line)
{
        const char *owner;
        const struct sbx_container *ct;

        if (c->uid == 0 || strncmp(line, "Lease=", 6) != 0)
                return true;
        owner = strchr(line + 6, ' ');
        if (!owner)
                return false;
        ct = sbx_registry_find(c->reg, owner + 1);
        return ct && ct->uid == c->uid;
}

static int send_one(const char *name, char **lines, void *userdata)
{
        struct reply_ctx *c = userdata;
        const char *v[SBX_SETTINGS_MAX];
        struct sbx_msg_builder *b;
        size_t n = 0;
        int r;

        for (size_t i = 0; lines && lines[i]; i++) {
                if (!may_see_lease(c, lines[i]))
                        continue;
                /* The protocol carries at most SBX_SETTINGS_MAX lines: the
                 * configuration and the count come first, leases after. */
                if (n == ELEMENTSOF(v))
                        break;
                v[n++] = lines[i];
        }
        if (n == 0)
                return 0;
        b = sbx_msg_new(SBX_MSG_NETWORK);
        if (!b)
                return -ENOMEM;
        (void) sbx_msg_put_string(b, SBX_A_NAME, name);
        (void) sbx_msg_put_strv(b, SBX_A_SETTINGS, v, n);
        r = sbx_msg_send(c->fd, b, NULL, 0);
        sbx_msg_builder_free(b);
        c->n++;
        return r;
}

int sbx_network_ctl(int fd, uid_t uid, const struct sbx_registry *reg, const char *run_dir,
                    const char *network_dir, const struct sbx_msg *m)
{
        struct reply_ctx c = {.fd = fd, .uid = uid, .reg = reg};
        int r;

        if (m->type != SBX_MSG_NETWORK_LIST && !sbx_policy_name_valid(m->name))
                return sbx_msg_send_error(fd, EINVAL, SBX_ERR_BAD_REQUEST, "bad network name '%s'",
                                          m->name);
        switch (m->type) {
        case SBX_MSG_NETWORK_LIST:
        case SBX_MSG_NETWORK_INFO:
                r = sbx_network_foreach(run_dir, network_dir,
                                        m->type == SBX_MSG_NETWORK_INFO ? m->name : NULL, send_one,
                                        &c);
                if (r == -ENOENT || (r >= 0 && m->type == SBX_MSG_NETWORK_INFO && c.n == 0))
                        return sbx_msg_send_error(fd, ENOENT, SBX_ERR_NOT_FOUND,
                                                  "no such network '%s'", m->name);
                if (r < 0)
                        return sbx_msg_send_error(fd, -r, SBX_ERR_INTERNAL,
                                                  "cannot list networks: %s", strerror(-r));
                return sbx_msg_send_ok(fd);
        case SBX_MSG_NETWORK_DESTROY:
                if (uid != 0) {
                        log_notice("refused network destroy: uid=%u network='%s'", uid, m->name);
                        return sbx_msg_send_error(fd, EPERM, SBX_ERR_DENIED,
                                                  "only root may destroy a network");
                }
                r = sbx_network_destroy(run_dir, m->name);
                if (r == -ENOENT)
                        return sbx_msg_send_error(fd, ENOENT, SBX_ERR_NOT_FOUND,
                                                  "network '%s' is not active", m->name);
                if (r < 0)
                        return sbx_msg_send_error(fd, -r, SBX_ERR_INTERNAL,
                                                  "cannot destroy network '%s': %s", m->name,
                                                  strerror(-r));
                log_notice("network destroy: uid=%u network='%s'", uid, m->name);
                return sbx_msg_send_ok(fd);
        default:
                return -EBADMSG;
        }
}
