/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "registry.h"

struct sbx_container *sbx_registry_find(const struct sbx_registry *r, const char *name)
{
        for (struct sbx_container *c = r->head; c; c = c->next)
                if (strcmp(c->name, name) == 0)
                        return c;
        return NULL;
}

struct sbx_container *sbx_registry_find_ctl(const struct sbx_registry *r, int ctl_fd)
{
        for (struct sbx_container *c = r->head; c; c = c->next)
                if (c->ctl_fd == ctl_fd)
                        return c;
        return NULL;
}

size_t sbx_registry_count_uid(const struct sbx_registry *r, uid_t uid)
{
        size_t n = 0;

        for (struct sbx_container *c = r->head; c; c = c->next)
                n += c->uid == uid;
        return n;
}

struct sbx_container *sbx_registry_add(struct sbx_registry *r, const char *name, const char *policy,
                                       const char *argv0, uid_t uid)
{
        struct sbx_container *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->name = strdup(name);
        c->policy = strdup(policy);
        c->argv0 = strdup(argv0);
        if (!c->name || !c->policy || !c->argv0) {
                free(c->name);
                free(c->policy);
                free(c->argv0);
                free(c);
                return NULL;
        }
        c->uid = uid;
        c->ctl_fd = -1;
        c->start_time = (uint64_t) time(NULL);
        (void) snprintf(c->state, sizeof(c->state), "starting");
        c->next = r->head;
        r->head = c;
        r->count++;
        return c;
}

void sbx_registry_remove(struct sbx_registry *r, struct sbx_container *c)
{
        for (struct sbx_container **p = &r->head; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        r->count--;
                        break;
                }
        free(c->name);
        free(c->policy);
        free(c->argv0);
        free(c);
}
