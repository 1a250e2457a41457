/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "lease.h"
#include "macro.h"
#include "net-util.h"

#define OWNER_MAX 128

static int read_owner(int dir_fd, const char *file, char owner[OWNER_MAX])
{
        cleanup_close int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return sbx_negerrno();
        n = read(fd, owner, OWNER_MAX - 1);
        if (n < 0)
                return sbx_negerrno();
        owner[n] = '\0';
        return 0;
}

/* Walks the leases with a duplicated fd, so DIR_FD's offset is untouched. */
int sbx_lease_foreach(int dir_fd, sbx_lease_fn fn, void *userdata)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (fd < 0)
                return sbx_negerrno();
        d = fdopendir(fd);
        if (!d) {
                r = sbx_negerrno();
                (void) close(fd);
                return r;
        }
        rewinddir(d);
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d))) {
                char owner[OWNER_MAX] = "";
                uint32_t a;

                if (de->d_name[0] == '.' || sbx_net_parse_ipv4(de->d_name, &a) < 0)
                        continue;
                if (read_owner(dir_fd, de->d_name, owner) < 0)
                        continue;
                r = fn(de->d_name, owner, userdata);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r < 0 ? r : 0;
}

static int count_one(const char *addr, const char *owner, void *userdata)
{
        (void) addr;
        (void) owner;
        (*(int *) userdata)++;
        return 0;
}

int sbx_lease_count(int dir_fd)
{
        int n = 0, r = sbx_lease_foreach(dir_fd, count_one, &n);

        return r < 0 ? r : n;
}

int sbx_lease_acquire(int dir_fd, uint32_t first, uint32_t last, uint32_t skip, const char *owner,
                      uint32_t *ret_addr)
{
        size_t len = strlen(owner);
        int used = sbx_lease_count(dir_fd);

        if (used < 0)
                return used;
        if (len == 0 || len >= OWNER_MAX || first > last)
                return -EINVAL;
        if ((uint64_t) used >= (uint64_t) last - first + 1 - (skip >= first && skip <= last))
                return -ENOSPC;
        for (uint64_t a = first; a <= last; a++) {
                char name[16];
                int fd, r;

                if (a == skip)
                        continue;
                (void) sbx_net_ipv4_format((uint32_t) a, name, sizeof(name));
                fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                            0644);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return sbx_negerrno();
                r = sbx_write_all(fd, owner, len);
                if (close(fd) < 0 && r >= 0)
                        r = sbx_negerrno();
                if (r < 0) {
                        (void) unlinkat(dir_fd, name, 0);
                        return r;
                }
                *ret_addr = (uint32_t) a;
                return 0;
        }
        return -ENOSPC;
}

struct release_ctx {
        int dir_fd;
        const char *owner;
        sbx_lease_live_fn live;
        void *userdata;
        int removed;
};

static int release_one(const char *addr, const char *owner, void *userdata)
{
        struct release_ctx *c = userdata;
        bool drop = c->owner ? strcmp(owner, c->owner) == 0
                             : owner[0] == '\0' || !c->live(owner, c->userdata);

        if (drop && unlinkat(c->dir_fd, addr, 0) == 0)
                c->removed++;
        return 0;
}

int sbx_lease_release(int dir_fd, const char *owner)
{
        struct release_ctx c = {.dir_fd = dir_fd, .owner = owner};
        int r = sbx_lease_foreach(dir_fd, release_one, &c);

        return r < 0 ? r : c.removed;
}

int sbx_lease_sweep(int dir_fd, sbx_lease_live_fn live, void *userdata)
{
        struct release_ctx c = {.dir_fd = dir_fd, .live = live, .userdata = userdata};
        int r = sbx_lease_foreach(dir_fd, release_one, &c);

        return r < 0 ? r : c.removed;
}

static bool claim_key_valid(const char *key)
{
        size_t n = strlen(key);

        if (n == 0 || n > 64 || key[0] == '.')
                return false;
        return strspn(key, "0123456789abcdefghijklmnopqrstuvwxyz:.") == n;
}

int sbx_lease_claim(int dir_fd, const char *key, const char *owner)
{
        size_t len = strlen(owner);
        char cur[OWNER_MAX];
        int fd, r;

        if (!claim_key_valid(key) || len == 0 || len >= OWNER_MAX)
                return -EINVAL;
        fd = openat(dir_fd, key, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno == EEXIST) {
                r = read_owner(dir_fd, key, cur);
                return r < 0 ? r : strcmp(cur, owner) == 0 ? 0 : -EEXIST;
        }
        if (fd < 0)
                return sbx_negerrno();
        r = sbx_write_all(fd, owner, len);
        if (close(fd) < 0 && r >= 0)
                r = sbx_negerrno();
        if (r < 0)
                (void) unlinkat(dir_fd, key, 0);
        return r;
}

int sbx_lease_unclaim(int dir_fd, const char *owner, sbx_lease_live_fn live, void *userdata)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3), left = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return sbx_negerrno();
        d = fdopendir(fd);
        if (!d) {
                int r = sbx_negerrno();

                (void) close(fd);
                return r;
        }
        rewinddir(d);
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d))) {
                char cur[OWNER_MAX] = "";
                bool drop;

                if (!claim_key_valid(de->d_name) || read_owner(dir_fd, de->d_name, cur) < 0)
                        continue;
                drop = owner ? strcmp(cur, owner) == 0
                             : cur[0] == '\0' || !live || !live(cur, userdata);
                if (!drop || unlinkat(dir_fd, de->d_name, 0) < 0)
                        left++;
        }
        closedir(d);
        return left;
}
