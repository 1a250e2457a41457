/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public sbx_cgroup_* API: mode detection, placement under the daemon's own
 * cgroup, dispatch to the v1/v2 backends, and the helpers they share. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"

static const char *const ctrl_table[SBX_CG_COUNT] = {
    [SBX_CG_MEMORY] = "memory",   [SBX_CG_PIDS] = "pids",       [SBX_CG_CPU] = "cpu",
    [SBX_CG_CPUACCT] = "cpuacct", [SBX_CG_CPUSET] = "cpuset",   [SBX_CG_BLKIO] = "blkio",
    [SBX_CG_DEVICES] = "devices", [SBX_CG_FREEZER] = "freezer",
};

const char *sbx_cg_ctrl_to_string(enum sbx_cg_ctrl c)
{
        return sbx_table_to_string(ctrl_table, ELEMENTSOF(ctrl_table), (int) c);
}

/* ---- file helpers ---------------------------------------------------------- */

int sbx_cg_write(int dir_fd, const char *file, const char *value)
{
        size_t n = strlen(value);
        ssize_t k;
        int fd = openat(dir_fd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        int r = 0;

        if (fd < 0)
                return sbx_negerrno();
        /* cgroupfs takes a value in one write(); a short write is an error. */
        k = write(fd, value, n);
        if (k < 0)
                r = sbx_negerrno();
        else if ((size_t) k != n)
                r = -EIO;
        (void) close(fd);
        return r;
}

int sbx_cg_read(int dir_fd, const char *file, char *buf, size_t size)
{
        size_t o = 0;
        int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

        if (fd < 0)
                return sbx_negerrno();
        while (o + 1 < size) {
                ssize_t k = read(fd, buf + o, size - 1 - o);

                if (k < 0) {
                        int r = sbx_negerrno();

                        if (r == -EINTR)
                                continue;
                        (void) close(fd);
                        return r;
                }
                if (k == 0)
                        break;
                o += (size_t) k;
        }
        (void) close(fd);
        buf[o] = '\0';
        return (int) o;
}

bool sbx_cg_has(int dir_fd, const char *file)
{
        return faccessat(dir_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int sbx_cg_read_key(int dir_fd, const char *file, const char *key, uint64_t *ret)
{
        char buf[4096];
        size_t kl = strlen(key);
        int r = sbx_cg_read(dir_fd, file, buf, sizeof(buf));

        if (r < 0)
                return r;
        for (char *line = buf; *line;) {
                char *end = strchr(line, '\n');
                uint64_t v;

                if (end)
                        *end = '\0';
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ' &&
                    sbx_parse_uint64(line + kl + 1, &v) >= 0) {
                        *ret = v;
                        return 0;
                }
                if (!end)
                        break;
                line = end + 1;
        }
        return -ENOENT;
}

int sbx_cg_read_u64(int dir_fd, const char *file, uint64_t *ret)
{
        char buf[64];
        int r = sbx_cg_read(dir_fd, file, buf, sizeof(buf));

        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (strcmp(buf, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return sbx_parse_uint64(buf, ret);
}

/* Adds V to *SUM, saturating. */
static void add_sat(uint64_t *sum, uint64_t v)
{
        *sum = *sum > UINT64_MAX - v ? UINT64_MAX : *sum + v;
}

int sbx_cg_parse_blkio_bytes(const char *text, uint64_t *ret_read, uint64_t *ret_write)
{
        uint64_t rd = 0, wr = 0;

        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                char buf[256], dev[64], op[16], num[32];
                uint64_t v;

                if (len >= sizeof(buf)) {
                        line = nl ? nl + 1 : NULL;
                        continue;
                }
                memcpy(buf, line, len);
                buf[len] = '\0';
                line = nl ? nl + 1 : NULL;
                /* "8:0 Read 4096"; the "Total N" line has two words. */
                if (sscanf(buf, "%63s %15s %31s", dev, op, num) != 3 ||
                    sbx_parse_uint64(num, &v) < 0)
                        continue;
                if (strcmp(op, "Read") == 0)
                        add_sat(&rd, v);
                else if (strcmp(op, "Write") == 0)
                        add_sat(&wr, v);
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

int sbx_cg_parse_io_stat(const char *text, uint64_t *ret_read, uint64_t *ret_write)
{
        uint64_t rd = 0, wr = 0;

        for (const char *p = text; *p;) {
                size_t k = strcspn(p, " \n");
                char word[64];
                uint64_t v;

                if (k > 0 && k < sizeof(word)) {
                        memcpy(word, p, k);
                        word[k] = '\0';
                        if (strncmp(word, "rbytes=", 7) == 0 && sbx_parse_uint64(word + 7, &v) >= 0)
                                add_sat(&rd, v);
                        else if (strncmp(word, "wbytes=", 7) == 0 &&
                                 sbx_parse_uint64(word + 7, &v) >= 0)
                                add_sat(&wr, v);
                }
                p += k;
                if (*p)
                        p++;
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

int sbx_cg_parse_u64_list(const char *text, uint64_t **ret, size_t *ret_n)
{
        cleanup_free uint64_t *v = NULL;
        size_t n = 0, cap = 0;

        for (const char *p = text; *p;) {
                size_t k = strcspn(p, " \n");

                if (k > 0) {
                        char word[32];

                        if (k >= sizeof(word))
                                return -EINVAL;
                        memcpy(word, p, k);
                        word[k] = '\0';
                        if (n == cap) {
                                uint64_t *bigger;

                                cap = cap ? cap * 2 : 16;
                                bigger = reallocarray(v, cap, sizeof(*v));
                                if (!bigger)
                                        return -ENOMEM;
                                v = bigger;
                        }
                        if (sbx_parse_uint64(word, &v[n]) < 0)
                                return -EINVAL;
                        n++;
                }
                p += k;
                if (*p)
                        p++;
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int sbx_cg_rmdir(int dir_fd, const char *name)
{
        for (int i = 0;; i++) {
                struct timespec ts = {.tv_nsec = 10L * 1000 * 1000};

                if (unlinkat(dir_fd, name, AT_REMOVEDIR) == 0)
                        return 0;
                if (errno == ENOENT)
                        return 0;
                /* Tasks that were just killed leave the cgroup asynchronously. */
                if (errno != EBUSY || i >= 50)
                        return sbx_negerrno();
                (void) nanosleep(&ts, NULL);
        }
}

int sbx_cg_kill_procs(int dir_fd)
{
        for (int i = 0; i < 100; i++) {
                char buf[8192];
                bool any = false;
                struct timespec ts = {.tv_nsec = 5L * 1000 * 1000};
                int r = sbx_cg_read(dir_fd, "cgroup.procs", buf, sizeof(buf));

                if (r < 0)
                        return r;
                for (char *p = buf; *p;) {
                        char *end = strchr(p, '\n');
                        uint64_t pid;

                        if (end)
                                *end = '\0';
                        /* Only processes in our own cgroup: the sandbox's. */
                        if (sbx_parse_uint64(p, &pid) >= 0 && pid > 1 && pid <= INT32_MAX) {
                                (void) kill((pid_t) pid, SIGKILL);
                                any = true;
                        }
                        if (!end)
                                break;
                        p = end + 1;
                }
                if (!any)
                        return 0;
                (void) nanosleep(&ts, NULL);
        }
        return -EBUSY;
}

/* ---- names and placement ---------------------------------------------------- */

int sbx_cgroup_name(const char *container, char **ret)
{
        size_t n = container ? strlen(container) : 0;
        char *s;

        if (n == 0 || n > 64 || container[0] == '-' || container[0] == '.')
                return -EINVAL;
        for (const char *p = container; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return -EINVAL;
        if (asprintf(&s, SBX_CGROUP_PREFIX "%s", container) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* "/a/b" -> "a/b", "/" -> "". Refuses ".." and other oddities. */
static int relative_path(const char *path, size_t n, char **ret)
{
        cleanup_free char *s = NULL;

        if (n == 0 || path[0] != '/')
                return -EINVAL;
        while (n > 0 && path[0] == '/')
                path++, n--;
        s = strndup(path, n);
        if (!s)
                return -ENOMEM;
        for (char *c = s; *c;) {
                size_t k = strcspn(c, "/");

                if (k == 0 || (k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
                        return -EINVAL;
                c += k;
                if (*c == '/' && c[1] == '\0')
                        *c = '\0';
                else if (*c)
                        c++;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int sbx_cgroup_parse_self(const char *text, bool v2, char *ret_base[SBX_CG_COUNT])
{
        char *base[SBX_CG_COUNT] = {};
        const char *line = text;
        int r = 0;

        while (line && *line && r >= 0) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                const char *c1 = memchr(line, ':', len), *c2;

                if (!c1)
                        goto next;
                c2 = memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line));
                if (!c2)
                        goto next;
                if (v2) {
                        size_t pl = len - (size_t) (c2 + 1 - line);
                        const char *leaf = "/" SBX_CGROUP_DAEMON_LEAF;

                        if (c2 != c1 + 1 || c1 - line != 1 || line[0] != '0' || base[0])
                                goto next;
                        /* The daemon's leaf is not its place in the tree: its parent is. */
                        if (pl > strlen(leaf) &&
                            memcmp(c2 + 1 + pl - strlen(leaf), leaf, strlen(leaf)) == 0)
                                pl -= strlen(leaf);
                        r = relative_path(c2 + 1, pl, &base[0]);
                        goto next;
                }
                /* "N:ctrl1,ctrl2:/path" */
                for (const char *p = c1 + 1; p < c2;) {
                        size_t k = strcspn(p, ",:");

                        for (int i = 0; i < SBX_CG_COUNT; i++)
                                if (!base[i] && strlen(ctrl_table[i]) == k &&
                                    strncmp(ctrl_table[i], p, k) == 0)
                                        r = r < 0 ? r
                                                  : relative_path(c2 + 1,
                                                                  len - (size_t) (c2 + 1 - line),
                                                                  &base[i]);
                        p += k + (p[k] == ',');
                }
        next:
                line = nl ? nl + 1 : NULL;
        }
        if (r >= 0 && v2 && !base[0])
                r = -ENOENT;
        if (r < 0) {
                for (int i = 0; i < SBX_CG_COUNT; i++)
                        free(base[i]);
                return r;
        }
        memcpy(ret_base, base, sizeof(base));
        return 0;
}

unsigned sbx_cgroup_v1_controllers(const struct sbx_limits *l)
{
        unsigned m = 0;

        if (!l->set)
                return 0;
        if (l->set & ((1u << SBX_LIMIT_MEMORY_MAX) | (1u << SBX_LIMIT_MEMORY_HIGH) |
                      (1u << SBX_LIMIT_MEMORY_SWAP_MAX)))
                m |= 1u << SBX_CG_MEMORY;
        if (l->set & (1u << SBX_LIMIT_TASKS_MAX))
                m |= 1u << SBX_CG_PIDS;
        /* With CPU limits, CPU accounting too (what tests and stats read). */
        if (l->set & ((1u << SBX_LIMIT_CPU_QUOTA) | (1u << SBX_LIMIT_CPU_WEIGHT)))
                m |= (1u << SBX_CG_CPU) | (1u << SBX_CG_CPUACCT);
        if (l->set & ((1u << SBX_LIMIT_ALLOWED_CPUS) | (1u << SBX_LIMIT_ALLOWED_MEMORY_NODES)))
                m |= 1u << SBX_CG_CPUSET;
        if (l->set & ((1u << SBX_LIMIT_IO_WEIGHT) | (1u << SBX_LIMIT_IO_READ_BANDWIDTH_MAX) |
                      (1u << SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX)))
                m |= 1u << SBX_CG_BLKIO;
        if (sbx_cgroup_devices_restricted(l))
                m |= 1u << SBX_CG_DEVICES;
        return m;
}

/* Kernel list syntax ("0-1,3", possibly with a newline) into a bitmap. */
static int cpu_list(const char *s, struct sbx_cpu_set *ret)
{
        char buf[4096];
        size_t n = strcspn(s, "\n");

        if (n >= sizeof(buf))
                return -ERANGE;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return sbx_parse_cpu_list(buf, ret);
}

int sbx_cgroup_check_cpus(const char *allowed, const char *available)
{
        struct sbx_cpu_set a, h;
        int r = cpu_list(allowed, &a);

        if (r >= 0)
                r = cpu_list(available, &h);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(a.bits); i++)
                if (a.bits[i] & ~h.bits[i])
                        return -ERANGE;
        return 0;
}

/* ---- devices ----------------------------------------------------------------- */

/* "N" then SEP (or the end of S when SEP is 0): N into *RET, returns what follows. */
static const char *parse_num(const char *s, char sep, unsigned *ret)
{
        char num[16];
        size_t k = strspn(s, "0123456789");
        uint64_t v;

        if (k == 0 || k >= sizeof(num) || s[k] != sep)
                return NULL;
        memcpy(num, s, k);
        num[k] = '\0';
        if (sbx_parse_uint64(num, &v) < 0 || v > UINT32_MAX)
                return NULL;
        *ret = (unsigned) v;
        return s + k;
}

int sbx_cgroup_block_device(const char *path, int64_t *ret_major, int64_t *ret_minor)
{
        char sys[64], buf[64];
        unsigned ma, mi;
        struct stat st;

        if (stat(path, &st) < 0)
                return sbx_negerrno();
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        ma = major(st.st_rdev);
        mi = minor(st.st_rdev);
        (void) snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/partition", ma, mi);
        if (access(sys, F_OK) == 0) {
                (void) snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/../dev", ma, mi);
                const char *p;

                if (sbx_cg_read(AT_FDCWD, sys, buf, sizeof(buf)) < 0)
                        return -ENODEV;
                buf[strcspn(buf, "\n")] = '\0';
                p = parse_num(buf, ':', &ma);
                if (!p || !parse_num(p + 1, '\0', &mi))
                        return -ENODEV;
        }
        *ret_major = ma;
        *ret_minor = mi;
        return 0;
}

/* Resolves the disks of IO{Read,Write}BandwidthMax= in L into CG. */
static int resolve_io(struct sbx_cgroup *cg, const struct sbx_limits *l, char **ret_error)
{
        for (int w = 0; w < 2; w++) {
                int key = w ? SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX : SBX_LIMIT_IO_READ_BANDWIDTH_MAX;
                int r;

                if (!(l->set & (1u << key)))
                        continue;
                r = sbx_cgroup_block_device(l->io_bandwidth_device[w], &cg->io_bw_major[w],
                                            &cg->io_bw_minor[w]);
                if (r < 0) {
                        if (ret_error &&
                            asprintf(ret_error, "policy '%s': %s=%s: %s", sbx_strna(cg->policy),
                                     sbx_limit_to_string(key), l->io_bandwidth_device[w],
                                     r == -ENOTBLK ? "not a block device" : strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
        }
        return 0;
}

int sbx_cgroup_device_stat(const char *path, char *ret_type, int64_t *ret_major, int64_t *ret_minor)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return sbx_negerrno();
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return -ENODEV;
        *ret_type = S_ISCHR(st.st_mode) ? 'c' : 'b';
        *ret_major = major(st.st_rdev);
        *ret_minor = minor(st.st_rdev);
        return 0;
}

static unsigned access_bits(const char *s)
{
        unsigned a = 0;

        for (; *s; s++)
                a |= *s == 'r'   ? SBX_DEV_READ
                     : *s == 'w' ? SBX_DEV_WRITE
                     : *s == 'm' ? SBX_DEV_MKNOD
                                 : 0;
        return a;
}

bool sbx_cgroup_devices_restricted(const struct sbx_limits *l)
{
        return ((l->set & (1u << SBX_LIMIT_DEVICE_POLICY)) &&
                l->device_policy != SBX_DEVICE_POLICY_AUTO) ||
               (l->set & (1u << SBX_LIMIT_DEVICE_ALLOW));
}

/* Adds a rule per major number of the devices of TYPE ('c' or 'b') whose name
 * in /proc/devices TEXT matches PATTERN (fnmatch, as systemd's "char-pts"). */
static int class_rules(const char *text, char type, const char *pattern, unsigned access,
                       struct sbx_device_rule *v, size_t *n, size_t max)
{
        char cur = 0;
        size_t found = 0;

        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                char buf[256];
                const char *dname;
                unsigned maj;

                if (len < sizeof(buf)) {
                        memcpy(buf, line, len);
                        buf[len] = '\0';
                        if (strcmp(buf, "Character devices:") == 0)
                                cur = 'c';
                        else if (strcmp(buf, "Block devices:") == 0)
                                cur = 'b';
                        else if (cur == type &&
                                 (dname = parse_num(buf + strspn(buf, " "), ' ', &maj)) &&
                                 fnmatch(pattern, dname + 1, 0) == 0) {
                                bool dup = false;

                                for (size_t i = *n - found; i < *n; i++)
                                        dup = dup || v[i].major == (int64_t) maj;
                                if (!dup) {
                                        if (*n >= max)
                                                return -E2BIG;
                                        v[(*n)++] = (struct sbx_device_rule){type, maj, -1, access};
                                        found++;
                                }
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        return found > 0 ? 0 : -ENOENT;
}

int sbx_cgroup_device_rules(const struct sbx_limits *l, sbx_device_resolve_t resolve,
                            const char *proc_devices, struct sbx_device_rule **ret, size_t *ret_n,
                            char **ret_error)
{
        /* What systemd allows with "closed" (its auto_devices), and our console. */
        static const struct sbx_device_rule tty[] = {
            {'c', 5, 0, SBX_DEV_ALL},                     /* /dev/tty */
            {'c', 5, 2, SBX_DEV_ALL},                     /* /dev/ptmx, /dev/pts/ptmx */
            {'c', 136, -1, SBX_DEV_READ | SBX_DEV_WRITE}, /* /dev/pts/N */
        };
        static const struct sbx_device_rule std[] = {
            {'c', 1, 3, SBX_DEV_ALL}, /* null */
            {'c', 1, 5, SBX_DEV_ALL}, /* zero */
            {'c', 1, 7, SBX_DEV_ALL}, /* full */
            {'c', 1, 8, SBX_DEV_ALL}, /* random */
            {'c', 1, 9, SBX_DEV_ALL}, /* urandom */
        };
        size_t n_allow = sbx_strv_length(l->device_allow), n = 0;
        bool closed = !((l->set & (1u << SBX_LIMIT_DEVICE_POLICY)) &&
                        l->device_policy == SBX_DEVICE_POLICY_STRICT);
        struct sbx_device_rule *v;

        *ret = NULL;
        *ret_n = 0;
        if (!sbx_cgroup_devices_restricted(l))
                return 0;
        if (n_allow > SBX_DEVICE_RULES_MAX)
                return -E2BIG;
        v = calloc(ELEMENTSOF(tty) + ELEMENTSOF(std) + SBX_DEVICE_RULES_MAX, sizeof(*v));
        if (!v)
                return -ENOMEM;
        if (closed)
                for (size_t i = 0; i < ELEMENTSOF(std); i++)
                        v[n++] = std[i];
        for (size_t i = 0; i < ELEMENTSOF(tty); i++)
                v[n++] = tty[i];
        for (size_t i = 0; i < n_allow; i++) {
                const char *e = l->device_allow[i], *sp = strrchr(e, ' ');
                size_t max = ELEMENTSOF(tty) + ELEMENTSOF(std) + SBX_DEVICE_RULES_MAX;
                bool chr = strncmp(e, "char-", 5) == 0, blk = strncmp(e, "block-", 6) == 0;
                char path[PATH_MAX];
                const char *why;
                int r;

                if (!sp || (size_t) (sp - e) >= sizeof(path)) {
                        free(v);
                        return -EINVAL;
                }
                memcpy(path, e, (size_t) (sp - e));
                path[sp - e] = '\0';
                if (chr || blk)
                        r = proc_devices
                                ? class_rules(proc_devices, chr ? 'c' : 'b', path + (chr ? 5 : 6),
                                              access_bits(sp + 1), v, &n, max)
                                : -ENOENT;
                else if (n >= max)
                        r = -E2BIG;
                else {
                        r = resolve(path, &v[n].type, &v[n].major, &v[n].minor);
                        if (r >= 0)
                                v[n++].access = access_bits(sp + 1);
                }
                if (r < 0) {
                        why = r == -E2BIG    ? "too many device rules"
                              : r == -ENODEV ? "not a device node"
                              : (chr || blk) && r == -ENOENT
                                  ? "no such device class in /proc/devices"
                                  : strerror(-r);
                        if (ret_error && asprintf(ret_error, "DeviceAllow=%s: %s", path, why) < 0)
                                *ret_error = NULL;
                        free(v);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 1;
}

void sbx_device_rule_format(const struct sbx_device_rule *r, char *buf, size_t n)
{
        char maj[24] = "*", min[24] = "*", acc[4] = "";
        size_t k = 0;

        if (r->major >= 0)
                (void) snprintf(maj, sizeof(maj), "%" PRId64, r->major);
        if (r->minor >= 0)
                (void) snprintf(min, sizeof(min), "%" PRId64, r->minor);
        if (r->access & SBX_DEV_READ)
                acc[k++] = 'r';
        if (r->access & SBX_DEV_WRITE)
                acc[k++] = 'w';
        if (r->access & SBX_DEV_MKNOD)
                acc[k++] = 'm';
        if (r->type == 'a')
                (void) snprintf(buf, n, "a");
        else
                (void) snprintf(buf, n, "%c %s:%s %s", r->type, maj, min, acc);
}

#define INSN(c, d, s, o, i)                                                                        \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

int sbx_cgroup_device_bpf(const struct sbx_device_rule *rules, size_t n, struct bpf_insn **ret,
                          size_t *ret_n)
{
        /* 4 loads + 2 shifts/masks + 2 per rule's checks (at most 5) + 2 + 2. */
        struct bpf_insn *p = calloc(6 + n * 8 + 2, sizeof(*p));
        size_t k = 0;

        if (!p)
                return -ENOMEM;
        /* struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor. */
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
        p[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
        p[k++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
        p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
        for (size_t i = 0; i < n; i++) {
                const struct sbx_device_rule *r = &rules[i];
                unsigned acc = (r->access & SBX_DEV_READ ? BPF_DEVCG_ACC_READ : 0) |
                               (r->access & SBX_DEV_WRITE ? BPF_DEVCG_ACC_WRITE : 0) |
                               (r->access & SBX_DEV_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0);
                size_t start = k, len;

                /* Each check jumps to the next rule on mismatch; offsets are
                 * patched below, once the block's length is known. */
                if (r->type != 'a')
                        p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                      r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
                if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
                        /* Any requested access outside ACC: not this rule. */
                        p[k++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
                        p[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t) ~acc);
                        p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 0, 0);
                }
                if (r->major >= 0)
                        p[k++] =
                            INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t) r->major);
                if (r->minor >= 0)
                        p[k++] =
                            INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t) r->minor);
                p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
                p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
                len = k - start;
                for (size_t j = start; j < k; j++)
                        if (BPF_OP(p[j].code) == BPF_JNE && BPF_CLASS(p[j].code) == BPF_JMP)
                                p[j].off = (int16_t) (len - (j - start) - 1);
        }
        p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        *ret = p;
        *ret_n = k;
        return 0;
}

/* ---- v2 leaf ------------------------------------------------------------------ */

int sbx_cgroup_v2_enter_leaf(int root_fd, const char *own, pid_t pid)
{
        static const char *const wanted[] = {"memory", "pids", "cpu", "cpuset", "io"};
        cleanup_close int own_fd = -1, leaf_fd = -1;
        char avail[1024], enable[128] = "", num[32];
        size_t o = 0;
        int r;

        own_fd = openat(root_fd, own[0] ? own : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (own_fd < 0)
                return sbx_negerrno();
        if (mkdirat(own_fd, SBX_CGROUP_DAEMON_LEAF, 0755) < 0 && errno != EEXIST)
                return sbx_negerrno();
        leaf_fd = openat(own_fd, SBX_CGROUP_DAEMON_LEAF, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (leaf_fd < 0)
                return sbx_negerrno();
        (void) snprintf(num, sizeof(num), "%d", (int) pid);
        r = sbx_cg_write(leaf_fd, "cgroup.procs", num);
        if (r < 0)
                return r;

        r = sbx_cg_read(own_fd, "cgroup.controllers", avail, sizeof(avail));
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                const char *p = avail;
                size_t k = strlen(wanted[i]);
                bool found = false;

                while ((p = strstr(p, wanted[i]))) {
                        if ((p == avail || p[-1] == ' ') &&
                            (p[k] == '\0' || p[k] == ' ' || p[k] == '\n')) {
                                found = true;
                                break;
                        }
                        p += k;
                }
                if (found)
                        o += (size_t) snprintf(enable + o, sizeof(enable) - o, "%s+%s",
                                               o ? " " : "", wanted[i]);
        }
        if (o == 0)
                return 0;
        return sbx_cg_write(own_fd, "cgroup.subtree_control", enable);
}

/* ---- mode and the public API ----------------------------------------------- */

static const struct sbx_cgroup_ops *detect(void)
{
        static const struct sbx_cgroup_ops *ops;
        static int r;
        struct statfs fs;

        if (ops || r < 0)
                return ops;
        if (statfs(SBX_CGROUP_MOUNT, &fs) < 0) {
                r = sbx_negerrno();
                return NULL;
        }
        if (fs.f_type == CGROUP2_SUPER_MAGIC)
                ops = &sbx_cgroup_v2_ops;
        else if (fs.f_type == TMPFS_MAGIC)
                ops = &sbx_cgroup_v1_ops;
        else
                r = -EOPNOTSUPP;
        return ops;
}

int sbx_cgroup_version(void)
{
        const struct sbx_cgroup_ops *ops = detect();

        if (!ops)
                return -EOPNOTSUPP;
        return ops == &sbx_cgroup_v2_ops ? 2 : 1;
}

_Static_assert(SBX_CG_COUNT <= SBX_CGROUP_JOIN_MAX, "SBX_CGROUP_JOIN_MAX too small");

int sbx_cgroup_open_join_fds(const struct sbx_cgroup *cg, int ret_fds[], size_t max, size_t *ret_n)
{
        size_t n = 0;

        if (cg->ops != &sbx_cgroup_v1_ops) {
                *ret_n = 0;
                return 0;
        }
        for (int i = 0; i < SBX_CG_COUNT; i++) {
                int fd;

                if (!(cg->have & (1u << i)) || cg->dir_fd[i] < 0)
                        continue;
                fd = n < max ? openat(cg->dir_fd[i], "tasks", O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
                             : -1;
                if (fd < 0) {
                        int r = n < max ? sbx_negerrno() : -E2BIG;

                        while (n > 0)
                                (void) close(ret_fds[--n]);
                        return r;
                }
                ret_fds[n++] = fd;
        }
        *ret_n = n;
        return 0;
}

int sbx_cgroup_join_child(const int fds[], size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (write(fds[i], "0", 1) != 1)
                        return sbx_negerrno();
        return 0;
}

int sbx_cgroup_clone_fd(const struct sbx_cgroup *cg)
{
        if (!cg || cg->ops != &sbx_cgroup_v2_ops || cg->dir_fd[0] < 0)
                return -EOPNOTSUPP;
        return cg->dir_fd[0];
}

static int read_self(bool v2, char *base[SBX_CG_COUNT])
{
        char text[4096] = "";
        int r = sbx_cg_read(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text));

        if (r < 0)
                return r;
        return sbx_cgroup_parse_self(text, v2, base);
}

int sbx_cgroup_daemon_setup(void)
{
        const struct sbx_cgroup_ops *ops = detect();
        char *base[SBX_CG_COUNT] = {};
        char text[4096], *own = NULL;
        cleanup_close int root_fd = -1;
        int r;

        if (!ops)
                return log_warning_errno(-EOPNOTSUPP, "No cgroup hierarchy at " SBX_CGROUP_MOUNT
                                                      ", resource limits will fail");
        if (ops != &sbx_cgroup_v2_ops)
                return 0;
        /* Our own path, leaf included: already in "<own>/daemon" after a restart. */
        r = sbx_cg_read(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text));
        if (r >= 0)
                r = sbx_cgroup_parse_self(text, true, base);
        if (r < 0)
                return log_warning_errno(r, "Cannot find our own cgroup, ignoring: %m");
        own = base[0];
        root_fd = open(SBX_CGROUP_MOUNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                r = sbx_negerrno();
        else
                r = sbx_cgroup_v2_enter_leaf(root_fd, own, getpid());
        if (r < 0)
                log_warning_errno(r, "Cannot delegate cgroup controllers below '/%s', ignoring: %m",
                                  own);
        else
                log_debug("cgroup v2: moved into '/%s/" SBX_CGROUP_DAEMON_LEAF "'", own);
        free(own);
        return r;
}

void sbx_cgroup_init(struct sbx_cgroup *cg)
{
        *cg = (struct sbx_cgroup){.root_fd = -1, .failed_limit = -1};
        for (int i = 0; i < SBX_CG_COUNT; i++)
                cg->base_fd[i] = cg->dir_fd[i] = -1;
}

void sbx_cgroup_done(struct sbx_cgroup *cg)
{
        for (int i = 0; i < SBX_CG_COUNT; i++) {
                cg->base_fd[i] = sbx_safe_close(cg->base_fd[i]);
                cg->dir_fd[i] = sbx_safe_close(cg->dir_fd[i]);
                free(cg->base[i]);
                cg->base[i] = NULL;
        }
        cg->root_fd = sbx_safe_close(cg->root_fd);
        free(cg->dev_rules);
        cg->dev_rules = NULL;
        cg->n_dev_rules = 0;
        free(cg->name);
        free(cg->policy);
        cg->name = cg->policy = NULL;
}

/* Sets up CG for container NAME in the running system (mode, bases, root fd). */
static int open_system(const char *name, unsigned want, struct sbx_cgroup *cg)
{
        const struct sbx_cgroup_ops *ops = detect();
        int r;

        if (!ops)
                return -EOPNOTSUPP;
        cg->ops = ops;
        cg->want = want;
        r = sbx_cgroup_name(name, &cg->name);
        if (r < 0)
                return r;
        r = read_self(ops == &sbx_cgroup_v2_ops, cg->base);
        if (r < 0)
                return r;
        cg->root_fd = open(SBX_CGROUP_MOUNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->root_fd < 0)
                return sbx_negerrno();
        return 0;
}

/* AllowedMemoryNodes= against the memory nodes of the daemon's cpuset. */
static int check_nodes(struct sbx_cgroup *cg, const struct sbx_limits *l, char **ret_error)
{
        bool v2 = cg->ops == &sbx_cgroup_v2_ops;
        int fd = v2 ? cg->base_fd[0] : cg->base_fd[SBX_CG_CPUSET];
        char avail[4096];
        int r;

        if (!(l->set & (1u << SBX_LIMIT_ALLOWED_MEMORY_NODES)) || fd < 0)
                return 0;
        r = sbx_cg_read(fd, v2 ? "cpuset.mems.effective" : "cpuset.effective_mems", avail,
                        sizeof(avail));
        if (r < 0)
                return 0; /* writing cpuset.mems reports it */
        r = sbx_cgroup_check_cpus(l->allowed_memory_nodes, avail);
        if (r == -ERANGE) {
                avail[strcspn(avail, "\n")] = '\0';
                if (ret_error && asprintf(ret_error,
                                          "policy '%s': AllowedMemoryNodes=%s names memory nodes "
                                          "this host does not have (available: %s)",
                                          cg->policy, l->allowed_memory_nodes, avail) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        return 0;
}

static int check_cpus(struct sbx_cgroup *cg, const struct sbx_limits *l, char **ret_error)
{
        bool v2 = cg->ops == &sbx_cgroup_v2_ops;
        int fd = v2 ? cg->base_fd[0] : cg->base_fd[SBX_CG_CPUSET];
        char avail[4096];
        int r = check_nodes(cg, l, ret_error);

        if (r < 0)
                return r;
        if (!(l->set & (1u << SBX_LIMIT_ALLOWED_CPUS)) || fd < 0)
                return 0;
        r = sbx_cg_read(fd, v2 ? "cpuset.cpus.effective" : "cpuset.effective_cpus", avail,
                        sizeof(avail));
        if (r < 0)
                return 0; /* writing cpuset.cpus reports it */
        r = sbx_cgroup_check_cpus(l->allowed_cpus, avail);
        if (r == -ERANGE) {
                avail[strcspn(avail, "\n")] = '\0';
                if (ret_error && asprintf(ret_error,
                                          "policy '%s': AllowedCPUs=%s names CPUs this host does "
                                          "not have (available: %s)",
                                          cg->policy, l->allowed_cpus, avail) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        return 0;
}

/* "MemoryMax=64M", for messages. */
static void describe_limit(const struct sbx_limits *l, int which, char *buf, size_t n)
{
        char v[SBX_SIZE_FORMAT_MAX] = "";
        const char *name = sbx_strna(sbx_limit_to_string(which));

        switch (which) {
        case SBX_LIMIT_MEMORY_MAX:
                (void) sbx_size_format(l->memory_max, v);
                break;
        case SBX_LIMIT_MEMORY_HIGH:
                (void) sbx_size_format(l->memory_high, v);
                break;
        case SBX_LIMIT_MEMORY_SWAP_MAX:
                (void) sbx_size_format(l->memory_swap_max, v);
                break;
        case SBX_LIMIT_TASKS_MAX:
                if (l->tasks_max == SBX_LIMIT_INFINITY)
                        (void) snprintf(v, sizeof(v), "infinity");
                else
                        (void) snprintf(v, sizeof(v), "%" PRIu64, l->tasks_max);
                break;
        case SBX_LIMIT_CPU_QUOTA:
                (void) snprintf(v, sizeof(v), "%" PRIu32 "%%", l->cpu_quota);
                break;
        case SBX_LIMIT_CPU_WEIGHT:
                (void) snprintf(v, sizeof(v), "%" PRIu64, l->cpu_weight);
                break;
        case SBX_LIMIT_IO_WEIGHT:
                (void) snprintf(v, sizeof(v), "%" PRIu64, l->io_weight);
                break;
        default:
                break;
        }
        if (which == SBX_LIMIT_IO_READ_BANDWIDTH_MAX || which == SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX) {
                int w = which == SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX;

                (void) snprintf(buf, n, "%s=%s %s", name, sbx_strna(l->io_bandwidth_device[w]),
                                sbx_size_format(l->io_bandwidth[w], v));
        } else if (which == SBX_LIMIT_ALLOWED_CPUS)
                (void) snprintf(buf, n, "%s=%s", name, sbx_strna(l->allowed_cpus));
        else if (which == SBX_LIMIT_ALLOWED_MEMORY_NODES)
                (void) snprintf(buf, n, "%s=%s", name, sbx_strna(l->allowed_memory_nodes));
        else
                (void) snprintf(buf, n, "%s=%s", name, v);
}

int sbx_cgroup_prepare(const char *name, const char *policy, const struct sbx_limits *l,
                       struct sbx_cgroup **ret, char **ret_error)
{
        struct sbx_cgroup *cg = calloc(1, sizeof(*cg));
        int r;

        if (!cg)
                return -ENOMEM;
        sbx_cgroup_init(cg);
        cg->limits = *l;
        cg->limits.allowed_cpus = NULL;
        cg->limits.device_allow = NULL;
        cg->limits.allowed_memory_nodes = NULL;
        cg->limits.io_bandwidth_device[0] = cg->limits.io_bandwidth_device[1] = NULL;
        cg->policy = strdup(sbx_strna(policy));
        if (!cg->policy) {
                r = -ENOMEM;
                goto fail;
        }
        /* Device nodes are resolved here, as root, before anything is made. */
        {
                /* Device classes ("char-pts") name majors listed in /proc/devices. */
                char devices[8192];

                r = sbx_cgroup_devices_restricted(l)
                        ? sbx_cg_read(AT_FDCWD, "/proc/devices", devices, sizeof(devices))
                        : -ENOENT;
                r = sbx_cgroup_device_rules(l, sbx_cgroup_device_stat, r >= 0 ? devices : NULL,
                                            &cg->dev_rules, &cg->n_dev_rules, ret_error);
        }
        if (r < 0) {
                if (ret_error && *ret_error) {
                        char *m = NULL;

                        if (asprintf(&m, "policy '%s': %s", cg->policy, *ret_error) >= 0) {
                                free(*ret_error);
                                *ret_error = m;
                        }
                }
                goto fail;
        }
        cg->dev_restrict = r > 0;
        r = resolve_io(cg, l, ret_error);
        if (r < 0)
                goto fail;
        r = cg->policy ? open_system(name, sbx_cgroup_v1_controllers(l), cg) : -ENOMEM;
        if (r < 0) {
                if (ret_error &&
                    asprintf(ret_error, "Failed to find our own cgroup: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                goto fail;
        }
        r = cg->ops->create(cg->root_fd, cg->name, cg);
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "Failed to create cgroup '%s' (%s): %s",
                                          cg->name, cg->ops->name, strerror(-r)) < 0)
                        *ret_error = NULL;
                goto fail;
        }
        r = check_cpus(cg, l, ret_error);
        if (r < 0)
                goto fail;
        r = cg->ops->set_limits(cg, l);
        if (r < 0) {
                char what[256];

                describe_limit(l, cg->failed_limit, what, sizeof(what));
                if (ret_error &&
                    asprintf(ret_error, "Failed to set %s: %s", what, strerror(-r)) < 0)
                        *ret_error = NULL;
                goto fail;
        }
        log_debug("cgroup '%s' (%s) created", cg->name, cg->ops->name);
        *ret = cg;
        return 0;
fail:
        (void) sbx_cgroup_cleanup(cg);
        return r;
}

int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid)
{
        return cg->ops->attach(cg, pid);
}

int sbx_cgroup_limit_report(struct sbx_cgroup *cg, char **ret)
{
        struct sbx_cgroup_events ev = {};
        char what[256];
        int r;

        *ret = NULL;
        if (!cg || !cg->ops->read_events)
                return 0;
        r = cg->ops->read_events(cg, &ev);
        if (r < 0)
                return r;
        if (ev.oom_kill > 0 && (cg->limits.set & (1u << SBX_LIMIT_MEMORY_MAX))) {
                describe_limit(&cg->limits, SBX_LIMIT_MEMORY_MAX, what, sizeof(what));
                r = asprintf(ret, "killed: out of memory (%s)", what);
        } else if (ev.oom_kill > 0)
                r = asprintf(ret, "killed: out of memory");
        else if (ev.pids_max > 0) {
                describe_limit(&cg->limits, SBX_LIMIT_TASKS_MAX, what, sizeof(what));
                r = asprintf(ret, "fork failed: %s reached", what);
        } else
                return 0;
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 1;
}

int sbx_cgroup_stats(struct sbx_cgroup *cg, struct sbx_cgroup_stats *ret)
{
        struct sbx_cgroup_stats st = {};
        int r;

        if (!cg || !cg->ops->read_stats)
                return -EOPNOTSUPP;
        st.version = cg->ops == &sbx_cgroup_v2_ops ? 2 : 1;
        r = cg->ops->read_stats(cg, &st);
        if (r < 0) {
                free(st.percpu);
                return r;
        }
        *ret = st;
        return 0;
}

/* Copies the limits set in FROM into TO (allowed_cpus is not kept). */
static void limits_merge(struct sbx_limits *to, const struct sbx_limits *from)
{
        unsigned set = from->set;

        if (set & (1u << SBX_LIMIT_MEMORY_MAX))
                to->memory_max = from->memory_max;
        if (set & (1u << SBX_LIMIT_MEMORY_HIGH))
                to->memory_high = from->memory_high;
        if (set & (1u << SBX_LIMIT_MEMORY_SWAP_MAX))
                to->memory_swap_max = from->memory_swap_max;
        if (set & (1u << SBX_LIMIT_TASKS_MAX))
                to->tasks_max = from->tasks_max;
        if (set & (1u << SBX_LIMIT_CPU_QUOTA))
                to->cpu_quota = from->cpu_quota;
        if (set & (1u << SBX_LIMIT_CPU_WEIGHT))
                to->cpu_weight = from->cpu_weight;
        if (set & (1u << SBX_LIMIT_IO_WEIGHT))
                to->io_weight = from->io_weight;
        for (int w = 0; w < 2; w++)
                if (set & (1u << (w ? SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX
                                    : SBX_LIMIT_IO_READ_BANDWIDTH_MAX)))
                        to->io_bandwidth[w] = from->io_bandwidth[w];
        to->set |= set;
}

int sbx_cgroup_update(struct sbx_cgroup *cg, const struct sbx_limits *changes, char **ret_changed,
                      char **ret_error)
{
        struct sbx_limits apply = *changes;
        cleanup_free char *out = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!changes->set)
                return -EINVAL;
        if (changes->set & ((1u << SBX_LIMIT_DEVICE_POLICY) | (1u << SBX_LIMIT_DEVICE_ALLOW))) {
                if (ret_error && asprintf(ret_error, "DevicePolicy= and DeviceAllow= cannot be "
                                                     "changed on a running container") < 0)
                        *ret_error = NULL;
                return -EOPNOTSUPP;
        }
        if (cg->ops == &sbx_cgroup_v1_ops) {
                unsigned missing =
                    sbx_cgroup_v1_controllers(changes) & ~cg->have & ~(1u << SBX_CG_CPUACCT);

                for (int i = 0; i < SBX_LIMIT_COUNT && missing; i++) {
                        struct sbx_limits one = *changes;
                        char what[256];

                        one.set = changes->set & (1u << i);
                        if (!one.set || !(sbx_cgroup_v1_controllers(&one) & missing))
                                continue;
                        describe_limit(changes, i, what, sizeof(what));
                        if (ret_error &&
                            asprintf(ret_error,
                                     "cannot set %s on a running container: it has no %s cgroup "
                                     "(its policy sets no limit that needs one)",
                                     what,
                                     sbx_strna(sbx_cg_ctrl_to_string(__builtin_ctz(
                                         sbx_cgroup_v1_controllers(&one) & missing)))) < 0)
                                *ret_error = NULL;
                        return -EOPNOTSUPP;
                }
                /* memory.memsw.limit_in_bytes holds memory plus swap: rewrite
                 * it with the new memory limit, and the other way round. */
                if (apply.set &
                    ((1u << SBX_LIMIT_MEMORY_MAX) | (1u << SBX_LIMIT_MEMORY_SWAP_MAX))) {
                        struct sbx_limits merged = cg->limits;

                        limits_merge(&merged, changes);
                        merged.set &=
                            (1u << SBX_LIMIT_MEMORY_MAX) | (1u << SBX_LIMIT_MEMORY_SWAP_MAX);
                        apply.memory_max = merged.memory_max;
                        apply.memory_swap_max = merged.memory_swap_max;
                        apply.set |= merged.set;
                }
        }
        r = check_cpus(cg, changes, ret_error);
        if (r >= 0)
                r = resolve_io(cg, changes, ret_error);
        if (r < 0)
                return r;
        r = cg->ops->set_limits(cg, &apply);
        if (r < 0) {
                char what[256];

                describe_limit(&apply, cg->failed_limit, what, sizeof(what));
                if (ret_error &&
                    asprintf(ret_error, "Failed to set %s: %s", what, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        for (int i = 0; i < SBX_LIMIT_COUNT; i++) {
                char now[256], was[256];

                if (!(changes->set & (1u << i)))
                        continue;
                describe_limit(changes, i, now, sizeof(now));
                if (i != SBX_LIMIT_ALLOWED_CPUS && i != SBX_LIMIT_ALLOWED_MEMORY_NODES &&
                    i != SBX_LIMIT_IO_READ_BANDWIDTH_MAX && i != SBX_LIMIT_IO_WRITE_BANDWIDTH_MAX &&
                    (cg->limits.set & (1u << i))) {
                        describe_limit(&cg->limits, i, was, sizeof(was));
                        (void) fprintf(f, "%s%s (was %s)", ftell(f) ? ", " : "", now,
                                       strchr(was, '=') + 1);
                } else
                        (void) fprintf(f, "%s%s", ftell(f) ? ", " : "", now);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        limits_merge(&cg->limits, changes);
        cg->limits.allowed_cpus = NULL;
        cg->limits.allowed_memory_nodes = NULL;
        cg->limits.io_bandwidth_device[0] = cg->limits.io_bandwidth_device[1] = NULL;
        log_debug("cgroup '%s': set %s", cg->name, out);
        *ret_changed = TAKE_PTR(out);
        return 0;
}

struct sbx_cgroup *sbx_cgroup_cleanup(struct sbx_cgroup *cg)
{
        int r;

        if (!cg)
                return NULL;
        if (cg->ops && cg->have) {
                if (cg->ops->kill_all) {
                        r = cg->ops->kill_all(cg);
                        if (r < 0)
                                log_debug_errno(r, "Failed to empty cgroup '%s', ignoring: %m",
                                                cg->name);
                }
                r = cg->ops->destroy(cg);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove cgroup '%s', ignoring: %m",
                                          cg->name);
        }
        sbx_cgroup_done(cg);
        free(cg);
        return NULL;
}

/* Opens what exists of container NAME's cgroup, in every hierarchy a sandbox
 * may use; cg->have says where. */
static int open_existing(const char *name, struct sbx_cgroup *cg)
{
        int r = open_system(name, (1u << SBX_CG_COUNT) - 1, cg);

        if (r < 0)
                return r;
        for (int i = 0; i < SBX_CG_COUNT; i++) {
                bool v2 = cg->ops == &sbx_cgroup_v2_ops;
                char path[PATH_MAX];

                if (!cg->base[i] || (v2 && i > 0))
                        continue;
                if (v2)
                        (void) snprintf(path, sizeof(path), "%s",
                                        cg->base[0][0] ? cg->base[0] : ".");
                else
                        (void) snprintf(path, sizeof(path), "%s%s%s", sbx_cg_ctrl_to_string(i),
                                        cg->base[i][0] ? "/" : "", cg->base[i]);
                cg->base_fd[i] =
                    openat(cg->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (cg->base_fd[i] < 0)
                        continue;
                cg->dir_fd[i] = openat(cg->base_fd[i], cg->name,
                                       O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (cg->dir_fd[i] < 0) {
                        cg->base_fd[i] = sbx_safe_close(cg->base_fd[i]);
                        continue;
                }
                cg->have |= 1u << i;
        }
        return 0;
}

int sbx_cgroup_remove_stale(const char *name)
{
        struct sbx_cgroup cg;
        int r;

        sbx_cgroup_init(&cg);
        r = open_existing(name, &cg);
        if (r >= 0 && cg.have) {
                log_info("removing cgroup '%s' left by a dead controller", cg.name);
                if (cg.ops->kill_all)
                        (void) cg.ops->kill_all(&cg);
                r = cg.ops->destroy(&cg);
        }
        sbx_cgroup_done(&cg);
        return r;
}

struct sbx_cgroup *sbx_cgroup_forget(struct sbx_cgroup *cg)
{
        if (cg) {
                sbx_cgroup_done(cg);
                free(cg);
        }
        return NULL;
}

int sbx_cgroup_reopen(const char *name, struct sbx_cgroup **ret)
{
        struct sbx_cgroup *cg = calloc(1, sizeof(*cg));
        int r;

        if (!cg)
                return -ENOMEM;
        sbx_cgroup_init(cg);
        cg->policy = strdup("?");
        r = cg->policy ? open_existing(name, cg) : -ENOMEM;
        if (r >= 0 && !cg->have)
                r = -ENOENT;
        if (r < 0) {
                sbx_cgroup_done(cg);
                free(cg);
                return r;
        }
        *ret = cg;
        return 0;
}
