/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which login policy confines a user: the module's policy=, else the first
 * policy by file name with a [Login] section whose [Access] admits the user. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "login-policy.h"
#include "macro.h"
#include "policy.h"

bool sbx_login_policy_admits(const struct sbx_policy *p, const struct sbx_login_user *w)
{
        /* Root is never confined: sbx_access_allowed() lets uid 0 use anything. */
        return w->uid != 0 &&
               sbx_access_allowed(p, w->uid, w->gid, w->groups, (size_t) w->n_groups, w->name);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int sbx_login_policy_find(int dir_fd, const struct sbx_login_user *w, struct sbx_policy **ret)
{
        cleanup_strv char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int dfd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return sbx_negerrno();
        d = fdopendir(dfd);
        if (!d) {
                (void) close(dfd);
                return -ENOMEM;
        }
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char **bigger;

                if (len <= 4 || strcmp(de->d_name + len - 4, ".ini") != 0)
                        continue;
                bigger = reallocarray(names, n + 2, sizeof(char *));
                if (!bigger)
                        break;
                names = bigger;
                names[n] = strndup(de->d_name, len - 4);
                names[n + 1] = NULL;
                if (!names[n])
                        break;
                n++;
        }
        closedir(d);
        if (n > 1)
                qsort(names, n, sizeof(char *), name_cmp);
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *err = NULL;
                struct sbx_policy *p = NULL;

                if (!sbx_policy_name_valid(names[i]))
                        continue;
                if (sbx_policy_load(dir_fd, names[i], &p, &err) < 0 || !p) {
                        log_warning("login: policy '%s' skipped: %s", names[i], sbx_strna(err));
                        continue;
                }
                if (p->login && sbx_login_policy_admits(p, w)) {
                        *ret = p;
                        return 0;
                }
                sbx_policy_free(p);
        }
        return -ENOENT;
}

int sbx_login_user_lookup(const char *name, struct sbx_login_user *w, char **ret_home,
                          char **ret_shell)
{
        struct passwd pw, *res = NULL;
        char buf[16384];

        if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
                return -ENOENT;
        w->name = name;
        w->uid = pw.pw_uid;
        w->gid = pw.pw_gid;
        w->n_groups = (int) ELEMENTSOF(w->groups);
        if (getgrouplist(name, pw.pw_gid, w->groups, &w->n_groups) < 0)
                return -E2BIG;
        if (ret_home) {
                *ret_home = strdup(pw.pw_dir);
                *ret_shell = strdup(pw.pw_shell);
                if (!*ret_home || !*ret_shell)
                        return -ENOMEM;
        }
        return 0;
}

bool sbx_login_user_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 32 || s[0] == '-' || s[0] == '.')
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}
