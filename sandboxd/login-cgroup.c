/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "login-cgroup.h"
#include "macro.h"

int sbx_login_cgroup_read(pid_t pid, char **ret)
{
        char path[64], buf[8192];
        cleanup_close int fd = -1;
        ssize_t n;

        (void) snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sbx_negerrno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return sbx_negerrno();
        if ((size_t) n == sizeof(buf) - 1)
                return -E2BIG;
        buf[n] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* The line of TEXT for hierarchy "ID:CONTROLLERS:" (KEY, KEYLEN bytes). */
static const char *find_line(const char *text, const char *key, size_t keylen)
{
        for (const char *l = text; l && *l;) {
                if (strncmp(l, key, keylen) == 0)
                        return l;
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return NULL;
}

int sbx_login_cgroup_diff(const char *saved, const char *current, int unified_subdir,
                          int (*fn)(const char *dir, const char *path, void *userdata),
                          void *userdata)
{
        int moves = 0;

        for (const char *l = saved; l && *l;) {
                const char *end = strchrnul(l, '\n');
                const char *c1 = memchr(l, ':', (size_t) (end - l));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (end - c1 - 1)) : NULL;
                char dir[256], path[4096];
                const char *cur, *cur_end;
                size_t keylen, ctrl_len, path_len;

                if (!c1 || !c2)
                        return -EBADMSG;
                keylen = (size_t) (c2 + 1 - l);
                ctrl_len = (size_t) (c2 - c1 - 1);
                path_len = (size_t) (end - c2 - 1);
                if (ctrl_len >= sizeof(dir) || path_len >= sizeof(path) || path_len == 0 ||
                    c2[1] != '/')
                        return -EBADMSG;
                memcpy(path, c2 + 1, path_len);
                path[path_len] = '\0';
                cur = find_line(current, l, keylen);
                if (cur) {
                        cur_end = strchrnul(cur, '\n');
                        /* Same path: nothing to do in this hierarchy. */
                        if ((size_t) (cur_end - cur - (ptrdiff_t) keylen) == path_len &&
                            memcmp(cur + keylen, path, path_len) == 0)
                                cur = NULL;
                }
                if (cur) {
                        int r;

                        if (ctrl_len == 0)
                                (void) snprintf(dir, sizeof(dir), "%s",
                                                unified_subdir ? "unified" : "");
                        else if (ctrl_len > 5 && strncmp(c1 + 1, "name=", 5) == 0)
                                (void) snprintf(dir, sizeof(dir), "%.*s", (int) ctrl_len - 5,
                                                c1 + 6);
                        else
                                (void) snprintf(dir, sizeof(dir), "%.*s", (int) ctrl_len, c1 + 1);
                        if (strstr(path, "/..") || strchr(dir, '/'))
                                return -EBADMSG;
                        r = fn(dir, path, userdata);
                        if (r < 0)
                                return r;
                        moves++;
                }
                l = *end ? end + 1 : end;
        }
        return moves;
}

static int move_back(const char *dir, const char *path, void *userdata)
{
        pid_t pid = *(const pid_t *) userdata;
        char file[PATH_MAX], value[32];
        cleanup_close int fd = -1;
        int n;

        (void) snprintf(file, sizeof(file), SBX_CGROUP_MOUNT "%s%s%s/cgroup.procs",
                        dir[0] ? "/" : "", dir, path);
        fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sbx_negerrno();
        n = snprintf(value, sizeof(value), "%d", (int) pid);
        if (write(fd, value, (size_t) n) != n)
                return sbx_negerrno();
        return 0;
}

int sbx_login_cgroup_restore(pid_t pid, const char *saved)
{
        cleanup_free char *current = NULL;
        struct statfs sf;
        bool unified_subdir;
        int r = sbx_login_cgroup_read(pid, &current);

        if (r < 0)
                return r;
        /* v2 line "0::" lives at the top on a unified layout, else in "unified". */
        unified_subdir = !(statfs(SBX_CGROUP_MOUNT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC);
        return sbx_login_cgroup_diff(saved, current, unified_subdir, move_back, &pid);
}
