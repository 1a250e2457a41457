/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sandbox's own view of its cgroup (see cgroup-view.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup-view.h"
#include "fd-util.h"
#include "macro.h"

/* Whether the comma-separated LIST of N bytes names controller C. */
static bool list_has(const char *list, size_t n, const char *c)
{
        size_t k = strlen(c);

        for (const char *p = list, *end = list + n; p < end;) {
                const char *comma = memchr(p, ',', (size_t) (end - p));
                size_t len = comma ? (size_t) (comma - p) : (size_t) (end - p);

                if (len == k && memcmp(p, c, k) == 0)
                        return true;
                p += len + 1;
        }
        return false;
}

int sbx_cgroup_view_parse(const char *text, int version, unsigned want, struct sbx_cgroup_view *ret)
{
        struct sbx_cgroup_view v = {.version = version};
        unsigned found = 0;

        if (version == 2) {
                *ret = v;
                return 0;
        }
        if (version != 1)
                return -EINVAL;
        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line)) : NULL;
                size_t n = c2 ? (size_t) (c2 - c1 - 1) : 0;
                unsigned here = 0;

                /* "N:ctrl1,ctrl2:/path"; v2's "0::/path" and "name=" ones have none of ours. */
                for (int i = 0; i < SBX_CG_COUNT && n > 0; i++)
                        if ((want & (1u << i)) && list_has(c1 + 1, n, sbx_cg_ctrl_to_string(i)))
                                here |= 1u << i;
                if (here && !(found & here)) {
                        if (v.n >= SBX_CGROUP_VIEW_MAX || n >= SBX_CGROUP_VIEW_NAME_MAX)
                                return -E2BIG;
                        memcpy(v.hierarchy[v.n], c1 + 1, n);
                        v.hierarchy[v.n][n] = '\0';
                        v.n++;
                        found |= here;
                }
                line = nl ? nl + 1 : NULL;
        }
        if ((found & want) != want)
                return -ENOENT;
        *ret = v;
        return 0;
}

int sbx_cgroup_view_prepare(const struct sbx_limits *l, struct sbx_cgroup_view *ret)
{
        char text[4096] = "";
        int version = sbx_cgroup_version(), r;

        if (version < 0)
                return version;
        if (version == 1) {
                r = sbx_cg_read(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text));
                if (r < 0)
                        return r;
        }
        return sbx_cgroup_view_parse(text, version, sbx_cgroup_v1_controllers(l), ret);
}

/* ---- child: system calls only ------------------------------------------------ */

/* A new detached mount of FSTYPE with the flags in FLAGS (comma-separated, may
 * be NULL) and the string options KEYS[i]=VALUES[i]. */
static int new_mount(const char *fstype, const char *flags, const char *const *keys,
                     const char *const *values, size_t n_opts, unsigned attrs)
{
        cleanup_close int fs = fsopen(fstype, FSOPEN_CLOEXEC);
        int mnt;

        if (fs < 0)
                return sbx_negerrno();
        for (const char *p = flags; p && *p;) {
                char key[SBX_CGROUP_VIEW_NAME_MAX];
                size_t len = strcspn(p, ",");

                if (len >= sizeof(key))
                        return -E2BIG;
                memcpy(key, p, len);
                key[len] = '\0';
                if (fsconfig(fs, FSCONFIG_SET_FLAG, key, NULL, 0) < 0)
                        return sbx_negerrno();
                p += len + (p[len] == ',');
        }
        for (size_t i = 0; i < n_opts; i++)
                if (fsconfig(fs, FSCONFIG_SET_STRING, keys[i], values[i], 0) < 0)
                        return sbx_negerrno();
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return sbx_negerrno();
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        return mnt < 0 ? sbx_negerrno() : mnt;
}

static int attach_at(int mnt, int dir_fd, const char *path)
{
        if (move_mount(mnt, "", dir_fd, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return sbx_negerrno();
        return 0;
}

/* Symbolic links "cpu" and "cpuacct" to "cpu,cpuacct", as on the host. */
static int link_members(int dir_fd, const char *hierarchy)
{
        if (!strchr(hierarchy, ','))
                return 0;
        for (const char *p = hierarchy; *p;) {
                char name[SBX_CGROUP_VIEW_NAME_MAX];
                size_t len = strcspn(p, ",");

                memcpy(name, p, len); /* len < sizeof(name): a part of HIERARCHY */
                name[len] = '\0';
                if (symlinkat(hierarchy, dir_fd, name) < 0 && errno != EEXIST)
                        return sbx_negerrno();
                p += len + (p[len] == ',');
        }
        return 0;
}

int sbx_cgroup_view_apply_child(const struct sbx_cgroup_view *v, const char *target)
{
        static const unsigned ro =
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        static const char *const tmpfs_keys[] = {"mode", "size", "nr_inodes"};
        static const char *const tmpfs_values[] = {"0755", "64k", "64"};
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        cleanup_close int top = -1;
        int r;

        if (v->version == 2) {
                int mnt = new_mount("cgroup2", NULL, NULL, NULL, 0, ro);

                if (mnt < 0)
                        return mnt;
                r = attach_at(mnt, AT_FDCWD, target);
                (void) close(mnt);
                return r;
        }
        if (v->version != 1)
                return 0;
        /* The directories are made in the tmpfs through its root fd, which
         * stays valid once it is attached; then it is made read-only. */
        top = new_mount("tmpfs", NULL, tmpfs_keys, tmpfs_values, ELEMENTSOF(tmpfs_keys),
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (top < 0)
                return top;
        r = attach_at(top, AT_FDCWD, target);
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->n; i++) {
                int mnt;

                if (mkdirat(top, v->hierarchy[i], 0755) < 0)
                        return sbx_negerrno();
                mnt = new_mount("cgroup", v->hierarchy[i], NULL, NULL, 0, ro);
                if (mnt < 0)
                        return mnt;
                r = attach_at(mnt, top, v->hierarchy[i]);
                (void) close(mnt);
                if (r < 0)
                        return r;
                r = link_members(top, v->hierarchy[i]);
                if (r < 0)
                        return r;
        }
        if (mount_setattr(top, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return sbx_negerrno();
        return 0;
}
