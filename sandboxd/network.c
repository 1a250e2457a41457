/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "lease.h"
#include "log.h"
#include "macro.h"
#include "nat.h"
#include "net-util.h"
#include "netconf.h"
#include "network.h"
#include "parse-util.h"
#include "policy.h"

struct sbx_network {
        char *container;
        char *run_dir;
        char host_if[SBX_NET_IFNAME_MAX];
        uint8_t mac[6];
        int master;    /* the bridge's ifindex */
        char *scope;   /* lease directory under RUN_DIR/net, NULL: static Address= */
        char *address; /* "ADDRESS/PREFIX" for eth0 */
        char *gateway; /* NULL: no default route */
        bool onlink;
        bool attached;
        uint64_t ingress_rate, egress_rate; /* bits per second, 0: none */
};

/* For the debug log (make bench reads it): where a launch's network time goes. */
static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

sbx_printf(2, 3) static int set_error(char **ret_error, const char *fmt, ...)
{
        va_list ap;

        if (!ret_error)
                return 0;
        free(*ret_error);
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return 0;
}

/* How long the daemon waits for the lock: it serves everyone from one
 * thread, so a controller stuck while holding it must not stall it. */
#define DAEMON_LOCK_TIMEOUT_MS 5000

/* RUN_DIR/net, created if needed, locked (flock, released with the fd).
 * TIMEOUT_MS < 0: wait as long as it takes (controllers); else -EBUSY after it. */
static int lock_net_dir(const char *run_dir, bool create, int timeout_ms)
{
        cleanup_free char *path = NULL;
        double deadline = now_ms() + timeout_ms;
        int fd;

        if (asprintf(&path, "%s/net", run_dir) < 0)
                return -ENOMEM;
        if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
                return sbx_negerrno();
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sbx_negerrno();
        while (flock(fd, timeout_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
                int r = sbx_negerrno();

                if (r == -EINTR)
                        continue;
                if (r == -EWOULDBLOCK && now_ms() < deadline) {
                        (void) usleep(10000);
                        continue;
                }
                (void) close(fd);
                if (r == -EWOULDBLOCK)
                        return log_warning_errno(-EBUSY, "%s stayed locked for %d ms: %m", path,
                                                 timeout_ms);
                return r;
        }
        return fd;
}

static int read_file_at(int dir_fd, const char *name, char **ret_text, size_t *ret_len)
{
        cleanup_close int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        cleanup_free char *buf = NULL;
        ssize_t n;

        if (fd < 0)
                return sbx_negerrno();
        buf = malloc(SBX_NETCONF_MAX_SIZE + 1);
        if (!buf)
                return -ENOMEM;
        n = read(fd, buf, SBX_NETCONF_MAX_SIZE);
        if (n < 0)
                return sbx_negerrno();
        buf[n] = '\0';
        *ret_text = TAKE_PTR(buf);
        *ret_len = (size_t) n;
        return 0;
}

/* The configuration an active network was created with. */
static int active_config(int scope_fd, const char *name, struct sbx_netconf **ret)
{
        cleanup_free char *text = NULL, *file = NULL;
        size_t len = 0;
        int r = read_file_at(scope_fd, ".config", &text, &len);

        if (r < 0)
                return r;
        if (asprintf(&file, "network-%s/.config", name) < 0)
                return -ENOMEM;
        return sbx_netconf_parse_string(text, len, name, file, ret, NULL);
}

static int remove_dir_contents(int dir_fd)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return sbx_negerrno();
        d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return -ENOMEM;
        }
        /* The duplicate shares DIR_FD's offset, which another walk may have moved. */
        rewinddir(d);
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        (void) unlinkat(dir_fd, de->d_name, 0);
        closedir(d);
        return 0;
}

/* Under the lock: the bridge, the NAT table, the directory. Best effort and
 * idempotent: whatever is already gone is skipped. */
static int network_teardown(int net_fd, const char *name)
{
        cleanup_(sbx_netconf_freep) struct sbx_netconf *conf = NULL;
        cleanup_free char *dir = NULL;
        cleanup_close int scope_fd = -1;
        struct nl_sock *sk = NULL;

        if (asprintf(&dir, "network-%s", name) < 0)
                return -ENOMEM;
        scope_fd = openat(net_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (scope_fd < 0)
                return errno == ENOENT ? 0 : sbx_negerrno();
        if (active_config(scope_fd, name, &conf) >= 0) {
                if (sbx_net_open(&sk) >= 0) {
                        int r = sbx_net_link_delete(sk, conf->bridge);

                        if (r < 0)
                                log_warning_errno(r, "Cannot delete bridge '%s', ignoring: %m",
                                                  conf->bridge);
                        sbx_net_close(sk);
                }
                if (conf->nat)
                        (void) sbx_nat_remove(name);
        }
        (void) remove_dir_contents(scope_fd);
        if (unlinkat(net_fd, dir, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return sbx_negerrno();
        log_info("network '%s' removed", name);
        return 0;
}

/* Under the lock, for a network's first user. Undone whole on failure. */
static int network_create(int net_fd, const struct sbx_netconf *conf, const char *text,
                          char **ret_error)
{
        cleanup_free char *dir = NULL, *cidr = NULL, *natmsg = NULL, *fwd = NULL;
        cleanup_close int scope_fd = -1, cfg = -1;
        struct nl_sock *sk = NULL;
        char a[16];
        int r, idx;

        if (asprintf(&dir, "network-%s", conf->name) < 0 ||
            asprintf(&cidr, "%s/%u", sbx_net_ipv4_format(conf->address, a, sizeof(a)),
                     conf->prefix) < 0)
                return -ENOMEM;
        r = sbx_net_open(&sk);
        if (r < 0)
                return r;
        idx = sbx_net_link_index(sk, conf->bridge, NULL);
        if (idx >= 0) {
                sbx_net_close(sk);
                set_error(ret_error,
                          "network '%s': an interface '%s' exists already and is not this "
                          "network's bridge",
                          conf->name, conf->bridge);
                return -EEXIST;
        }
        if (mkdirat(net_fd, dir, 0700) < 0) {
                sbx_net_close(sk);
                return sbx_negerrno();
        }
        scope_fd = openat(net_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        cfg = scope_fd < 0 ? -1
                           : openat(scope_fd, ".config",
                                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (cfg < 0 || sbx_write_all(cfg, text, strlen(text)) < 0) {
                r = sbx_negerrno();
                goto fail;
        }
        r = sbx_net_bridge_create(sk, conf->bridge);
        if (r < 0) {
                set_error(ret_error, "network '%s': cannot create bridge '%s': %s", conf->name,
                          conf->bridge, strerror(-r));
                goto fail;
        }
        idx = sbx_net_link_index(sk, conf->bridge, NULL);
        r = idx < 0 ? idx : sbx_net_addr_add(sk, idx, cidr);
        if (r < 0) {
                set_error(ret_error, "network '%s': cannot add %s to bridge '%s': %s", conf->name,
                          cidr, conf->bridge, strerror(-r));
                goto fail;
        }
        /* Forwarding only where it is needed: in from the bridge, and in from
         * the outbound interface (the replies); with no outbound interface
         * named, the replies may come in anywhere: the global switch. */
        if (conf->nat || conf->outbound) {
                if (asprintf(&fwd, "net/ipv4/conf/%s/forwarding", conf->bridge) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = sbx_net_sysctl_write(fwd, "1");
                free(fwd);
                fwd = NULL;
                if (r >= 0 && conf->outbound) {
                        if (asprintf(&fwd, "net/ipv4/conf/%s/forwarding", conf->outbound) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        r = sbx_net_sysctl_write(fwd, "1");
                } else if (r >= 0)
                        r = sbx_net_sysctl_write("net/ipv4/ip_forward", "1");
                if (r < 0) {
                        set_error(ret_error, "network '%s': cannot enable forwarding%s%s: %s",
                                  conf->name, conf->outbound ? " on " : "",
                                  conf->outbound ? conf->outbound : "", strerror(-r));
                        goto fail;
                }
        }
        if (conf->nat) {
                uint32_t subnet = conf->address & sbx_net_mask(conf->prefix);
                double t0 = now_ms();

                r = sbx_nat_apply(conf->name, subnet, conf->prefix, conf->bridge, conf->outbound,
                                  &natmsg);
                log_debug("network: nft in %.3f ms", now_ms() - t0);
                if (r < 0) {
                        set_error(ret_error, "network '%s': cannot set up NAT with nft: %s",
                                  conf->name,
                                  r == -ENOENT ? "nft not found (install nftables)"
                                               : (natmsg && *natmsg ? natmsg : strerror(-r)));
                        goto fail;
                }
        }
        sbx_net_close(sk);
        log_info("network '%s' created: bridge '%s' %s%s", conf->name, conf->bridge, cidr,
                 conf->nat ? ", NAT" : "");
        return 0;
fail:
        sbx_net_close(sk);
        (void) network_teardown(net_fd, conf->name);
        return r;
}

/* Leaves no empty scope directory, and no network without a lease. */
static void scope_release(int net_fd, const char *scope, const char *container)
{
        cleanup_close int fd =
            openat(net_fd, scope, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return;
        if (container)
                (void) sbx_lease_release(fd, container);
        if (sbx_lease_count(fd) != 0)
                return;
        if (strncmp(scope, "network-", 8) == 0)
                (void) network_teardown(net_fd, scope + 8);
        else {
                (void) remove_dir_contents(fd);
                (void) unlinkat(net_fd, scope, AT_REMOVEDIR);
        }
}

static int lease_in(int net_fd, const char *scope, uint32_t first, uint32_t last, uint32_t skip,
                    unsigned prefix, const char *container, char **ret_cidr, char **ret_error)
{
        cleanup_close int fd = -1;
        char a[16], b[16], c[16];
        uint32_t addr;
        int r;

        if (mkdirat(net_fd, scope, 0700) < 0 && errno != EEXIST)
                return sbx_negerrno();
        fd = openat(net_fd, scope, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sbx_negerrno();
        r = sbx_lease_acquire(fd, first, last, skip, container, &addr);
        if (r == -ENOSPC)
                set_error(ret_error,
                          "%s '%s': the address pool %s-%s is exhausted (%d in use by containers)",
                          strncmp(scope, "network-", 8) == 0 ? "network" : "bridge",
                          strchr(scope, '-') + 1, sbx_net_ipv4_format(first, a, sizeof(a)),
                          sbx_net_ipv4_format(last, b, sizeof(b)), sbx_lease_count(fd));
        else if (r < 0)
                set_error(ret_error, "cannot lease an address in %s: %s", scope, strerror(-r));
        if (r < 0)
                return r;
        if (asprintf(ret_cidr, "%s/%u", sbx_net_ipv4_format(addr, c, sizeof(c)), prefix) < 0) {
                (void) sbx_lease_release(fd, container);
                return -ENOMEM;
        }
        return 0;
}

/* RUN_DIR/net/macs and RUN_DIR/net/links: one claim per MAC address and per
 * host interface name in use. Both derive from the container name, which the
 * user picks, and the hash is no secret: without the claims, a user could
 * choose a name whose MAC is another container's and take its traffic on a
 * shared bridge, or whose interface name is another's, which the failed
 * start's clean-up would then delete. */
#define MACS_DIR "macs"
#define LINKS_DIR "links"

static void mac_key(const uint8_t mac[6], char ret[18])
{
        (void) snprintf(ret, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                        mac[4], mac[5]);
}

static int claim(int net_fd, const char *dir, const char *key, const char *container)
{
        cleanup_close int fd = -1;

        if (mkdirat(net_fd, dir, 0700) < 0 && errno != EEXIST)
                return sbx_negerrno();
        fd = openat(net_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sbx_negerrno();
        return sbx_lease_claim(fd, key, container);
}

static int claims_take(int net_fd, const struct sbx_network *n, char **ret_error)
{
        char key[18];
        int r;

        mac_key(n->mac, key);
        r = claim(net_fd, MACS_DIR, key, n->container);
        if (r == -EEXIST)
                set_error(ret_error,
                          "the MAC address %s derived from the name '%s' is another running "
                          "container's: choose another name",
                          key, n->container);
        if (r < 0)
                return r;
        r = claim(net_fd, LINKS_DIR, n->host_if, n->container);
        if (r == -EEXIST)
                set_error(ret_error,
                          "the interface name %s derived from the name '%s' is another running "
                          "container's: choose another name",
                          n->host_if, n->container);
        return r;
}

/* Under the lock: OWNER's claims in DIR (OWNER NULL: those of containers LIVE
 * says are gone); the directory goes with its last claim. */
static void claims_release(int net_fd, const char *dir, const char *owner, sbx_lease_live_fn live,
                           void *userdata)
{
        cleanup_close int fd = openat(net_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (fd >= 0 && sbx_lease_unclaim(fd, owner, live, userdata) == 0)
                (void) unlinkat(net_fd, dir, AT_REMOVEDIR);
}

/* Is the host interface IFNAME CONTAINER's to delete? Yes if it holds the
 * claim, or if nobody does (nothing running owns it). */
static bool link_is_ours(int net_fd, const char *ifname, const char *container)
{
        cleanup_close int fd =
            openat(net_fd, LINKS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        int r;

        if (fd < 0)
                return true;
        /* Taking it succeeds for its owner and for a free name; released below. */
        r = sbx_lease_claim(fd, ifname, container);
        return r >= 0;
}

static struct sbx_network *network_free(struct sbx_network *n)
{
        if (!n)
                return NULL;
        free(n->container);
        free(n->run_dir);
        free(n->scope);
        free(n->address);
        free(n->gateway);
        free(n);
        return NULL;
}

static void network_freep(struct sbx_network **n)
{
        network_free(*n);
}

static int prepare_network(struct sbx_network *n, const struct sbx_policy *p,
                           const char *network_dir, char **ret_error)
{
        cleanup_(sbx_netconf_freep) struct sbx_netconf *conf = NULL, *active = NULL;
        cleanup_free char *text = NULL, *err = NULL;
        cleanup_close int dir_fd = -1, net_fd = -1, scope_fd = -1;
        struct nl_sock *sk = NULL;
        uint32_t first, last;
        char g[16];
        bool created = false;
        int r;

        dir_fd = open(network_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                r = sbx_negerrno();
                set_error(ret_error, "network '%s': cannot open the network directory: %s",
                          p->net.network, strerror(-r));
                return r;
        }
        r = sbx_netconf_load(dir_fd, p->net.network, &conf, &text, &err);
        if (r < 0) {
                set_error(ret_error, "network '%s': %s", p->net.network, err ? err : strerror(-r));
                return r;
        }
        net_fd = lock_net_dir(n->run_dir, true, -1);
        if (net_fd < 0)
                return net_fd;
        if (asprintf(&n->scope, "network-%s", conf->name) < 0)
                return -ENOMEM;
        scope_fd = openat(net_fd, n->scope, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        /* A directory without its .config and without leases is what a
         * controller killed half-way through creating the network leaves:
         * nobody uses it, so it is made again. */
        if (scope_fd >= 0 && active_config(scope_fd, conf->name, &active) < 0 &&
            sbx_lease_count(scope_fd) == 0) {
                scope_fd = sbx_safe_close(scope_fd);
                (void) network_teardown(net_fd, conf->name);
        }
        if (scope_fd < 0) {
                r = network_create(net_fd, conf, text, ret_error);
                if (r < 0)
                        return r;
                created = true;
        } else {
                /* In use: as it was created, even if the file changed since. */
                if (!active) {
                        set_error(ret_error, "network '%s': its state is unreadable", conf->name);
                        return -EIO;
                }
                sbx_netconf_free(conf);
                conf = TAKE_PTR(active);
        }
        sbx_netconf_range(conf, &first, &last);
        r = lease_in(net_fd, n->scope, first, last, conf->address, conf->prefix, n->container,
                     &n->address, ret_error);
        if (r < 0) {
                if (created)
                        (void) network_teardown(net_fd, conf->name);
                return r;
        }
        n->gateway = strdup(sbx_net_ipv4_format(conf->address, g, sizeof(g)));
        r = n->gateway ? sbx_net_open(&sk) : -ENOMEM;
        if (r >= 0) {
                n->master = sbx_net_link_index(sk, conf->bridge, NULL);
                r = n->master < 0 ? n->master : 0;
                sbx_net_close(sk);
        }
        if (r < 0) {
                set_error(ret_error, "network '%s': bridge '%s' is gone: %s", conf->name,
                          conf->bridge, strerror(-r));
                scope_release(net_fd, n->scope, n->container);
        }
        return r;
}

/* Is GATEWAY inside CIDR's subnet? (IPv4; IPv6 gateways are taken as on-link
 * only when the kernel says so, so no ONLINK for them.) */
static bool gateway_offlink(const char *cidr, const char *gateway)
{
        uint32_t a, g;
        unsigned prefix;

        if (!gateway || sbx_net_parse_ipv4_cidr(cidr, &a, &prefix) < 0 ||
            sbx_net_parse_ipv4(gateway, &g) < 0)
                return false;
        return (a & sbx_net_mask(prefix)) != (g & sbx_net_mask(prefix));
}

static int prepare_bridge(struct sbx_network *n, const struct sbx_policy *p, char **ret_error)
{
        cleanup_close int net_fd = -1;
        struct nl_sock *sk = NULL;
        bool is_bridge = false;
        int r = sbx_net_open(&sk);

        if (r < 0)
                return r;
        n->master = sbx_net_link_index(sk, p->net.bridge, &is_bridge);
        sbx_net_close(sk);
        if (n->master == -ENODEV || (n->master >= 0 && !is_bridge)) {
                set_error(ret_error,
                          n->master < 0 ? "bridge '%s' does not exist (Mode=bridge uses an "
                                          "existing bridge; lxsandbox does not create it)"
                                        : "'%s' is not a bridge",
                          p->net.bridge);
                return n->master < 0 ? -ENODEV : -EINVAL;
        }
        if (n->master < 0)
                return n->master;
        if (p->net.gateway) {
                n->gateway = strdup(p->net.gateway);
                if (!n->gateway)
                        return -ENOMEM;
        }
        if (p->net.address) {
                n->address = strdup(p->net.address);
                return n->address ? 0 : -ENOMEM;
        }
        {
                uint32_t pool, gw = 0, mask;
                unsigned prefix;

                if (sbx_net_parse_ipv4_cidr(p->net.address_pool, &pool, &prefix) < 0)
                        return -EINVAL;
                if (p->net.gateway)
                        (void) sbx_net_parse_ipv4(p->net.gateway, &gw);
                mask = sbx_net_mask(prefix);
                if (asprintf(&n->scope, "bridge-%s", p->net.bridge) < 0)
                        return -ENOMEM;
                net_fd = lock_net_dir(n->run_dir, true, -1);
                if (net_fd < 0)
                        return net_fd;
                r = lease_in(net_fd, n->scope, (pool & mask) + 1, (pool | ~mask) - 1, gw, prefix,
                             n->container, &n->address, ret_error);
                if (r < 0)
                        scope_release(net_fd, n->scope, NULL);
                return r;
        }
}

int sbx_network_prepare(const struct sbx_policy *p, const char *container, const char *run_dir,
                        const char *network_dir, struct sbx_network **ret, char **ret_error)
{
        cleanup_(network_freep) struct sbx_network *n = calloc(1, sizeof(*n));
        double t0 = now_ms();
        int r;

        if (!n)
                return -ENOMEM;
        n->container = strdup(container);
        n->run_dir = strdup(run_dir);
        if (!n->container || !n->run_dir)
                return -ENOMEM;
        sbx_net_host_ifname(container, n->host_if);
        sbx_net_mac_from_name(container, n->mac);
        n->ingress_rate = p->net.ingress_rate;
        n->egress_rate = p->net.egress_rate;
        if (p->network_mode == SBX_NETWORK_NETWORK)
                r = prepare_network(n, p, network_dir, ret_error);
        else if (p->network_mode == SBX_NETWORK_BRIDGE)
                r = prepare_bridge(n, p, ret_error);
        else
                return -EINVAL;
        if (r < 0) {
                /* A lease taken before the failure is released by the callee. */
                return r;
        }
        {
                cleanup_close int net_fd = lock_net_dir(run_dir, true, -1);

                r = net_fd < 0 ? net_fd : claims_take(net_fd, n, ret_error);
                if (r < 0) {
                        if (net_fd >= 0 && n->scope)
                                scope_release(net_fd, n->scope, container);
                        if (net_fd >= 0) {
                                claims_release(net_fd, MACS_DIR, container, NULL, NULL);
                                claims_release(net_fd, LINKS_DIR, container, NULL, NULL);
                        }
                        return r;
                }
        }
        n->onlink = gateway_offlink(n->address, n->gateway);
        log_debug("network: prepared %s in %.3f ms", n->address, now_ms() - t0);
        *ret = TAKE_PTR(n);
        return 0;
}

/* Written in the sandbox's namespace before eth0 comes up. Unprivileged ICMP
 * echo sockets for every group (as Docker does): the namespace is the
 * sandbox's alone, and it has no CAP_NET_RAW for ping otherwise. No IPv6
 * router advertisements or address autoconfiguration: eth0 has the addresses
 * and routes the policy or the network gives, not what a router on an
 * admin's bridge would add. */
static const char *const inside_sysctls[] = {
    "net/ipv4/ping_group_range",
    "0 2147483647",
    "net/ipv6/conf/eth0/accept_ra",
    "0",
    "net/ipv6/conf/eth0/autoconf",
    "0",
    NULL,
};

int sbx_network_attach(struct sbx_network *n, pid_t pid, char **ret_error)
{
        struct nl_sock *host = NULL, *in = NULL;
        double t0 = now_ms(), t1;
        int r = sbx_net_open(&host), idx;

        if (r >= 0)
                r = sbx_net_veth_create(host, n->host_if, n->mac, n->master, pid);
        if (r < 0) {
                sbx_net_close(host);
                set_error(ret_error, "cannot create the veth pair '%s': %s", n->host_if,
                          strerror(-r));
                return r;
        }
        n->attached = true;
        /* IngressRate=: what the host end sends is what the sandbox receives. */
        if (n->ingress_rate) {
                idx = sbx_net_link_index(host, n->host_if, NULL);
                r = idx < 0 ? idx : sbx_net_rate_limit(host, idx, n->ingress_rate);
        }
        sbx_net_close(host);
        if (r < 0) {
                set_error(ret_error, "cannot limit IngressRate= on '%s': %s", n->host_if,
                          strerror(-r));
                return r;
        }
        t1 = now_ms();
        r = sbx_net_open_in(pid, inside_sysctls, &in);
        if (r < 0) {
                set_error(ret_error, "cannot enter the sandbox's network namespace: %s",
                          strerror(-r));
                return r;
        }
        idx = sbx_net_link_index(in, "eth0", NULL);
        r = idx < 0 ? idx : sbx_net_link_up(in, idx);
        if (r >= 0)
                r = sbx_net_addr_add(in, idx, n->address);
        if (r < 0)
                set_error(ret_error, "cannot add address %s to eth0: %s", n->address, strerror(-r));
        if (r >= 0 && n->gateway) {
                r = sbx_net_route_default(in, idx, n->gateway, n->onlink);
                if (r < 0)
                        set_error(ret_error, "cannot add the default route via %s: %s", n->gateway,
                                  strerror(-r));
        }
        /* EgressRate=: on eth0 itself; the sandbox has no CAP_NET_ADMIN to change it. */
        if (r >= 0 && n->egress_rate) {
                r = sbx_net_rate_limit(in, idx, n->egress_rate);
                if (r < 0)
                        set_error(ret_error, "cannot limit EgressRate= on eth0: %s", strerror(-r));
        }
        sbx_net_close(in);
        if (r >= 0)
                log_debug("network: veth in %.3f ms, eth0 configured in %.3f ms", t1 - t0,
                          now_ms() - t1);
        return r;
}

struct sbx_network *sbx_network_cleanup(struct sbx_network *n)
{
        struct nl_sock *sk = NULL;

        double t0 = now_ms();

        if (!n)
                return NULL;
        /* Deleting one end deletes both: do not wait for the kernel to
         * dismantle the namespace (asynchronous) to have it gone. */
        if (sbx_net_open(&sk) >= 0) {
                int r = sbx_net_link_delete(sk, n->host_if);

                if (r < 0)
                        log_warning_errno(r, "Cannot delete '%s', ignoring: %m", n->host_if);
                sbx_net_close(sk);
        }
        {
                cleanup_close int net_fd = lock_net_dir(n->run_dir, false, -1);

                if (net_fd >= 0 && n->scope)
                        scope_release(net_fd, n->scope, n->container);
                if (net_fd >= 0) {
                        claims_release(net_fd, MACS_DIR, n->container, NULL, NULL);
                        claims_release(net_fd, LINKS_DIR, n->container, NULL, NULL);
                }
        }
        log_debug("network: removed in %.3f ms", now_ms() - t0);
        return network_free(n);
}

int sbx_network_counters(const struct sbx_network *n, struct sbx_net_counters *ret)
{
        struct sbx_net_counters h;
        struct nl_sock *sk = NULL;
        int r = sbx_net_open(&sk);

        if (r < 0)
                return r;
        r = sbx_net_link_counters(sk, n->host_if, &h);
        sbx_net_close(sk);
        if (r < 0)
                return r;
        *ret = (struct sbx_net_counters){.rx_bytes = h.tx_bytes,
                                         .rx_packets = h.tx_packets,
                                         .tx_bytes = h.rx_bytes,
                                         .tx_packets = h.rx_packets};
        return 0;
}

/* Calls FN for every scope directory under NET_FD. */
static void scopes_foreach(int net_fd, void (*fn)(int net_fd, const char *scope, void *ud),
                           void *ud)
{
        int fd = fcntl(net_fd, F_DUPFD_CLOEXEC, 3);
        char **names = NULL;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return;
        }
        /* Collected first: FN may remove entries. */
        // cppcheck-suppress readdirCalled
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "bridge-", 7) == 0 ||
                    strncmp(de->d_name, "network-", 8) == 0) {
                        char *s = strdup(de->d_name);

                        if (!s || sbx_strv_consume(&names, s) < 0)
                                break;
                }
        closedir(d);
        for (size_t i = 0; names && names[i]; i++)
                fn(net_fd, names[i], ud);
        sbx_strv_free(names);
}

static void release_stale(int net_fd, const char *scope, void *ud)
{
        scope_release(net_fd, scope, ud);
}

int sbx_network_remove_stale(const char *run_dir, const char *container)
{
        char ifname[SBX_NET_IFNAME_MAX];
        cleanup_close int net_fd = -1;
        struct nl_sock *sk = NULL;

        sbx_net_host_ifname(container, ifname);
        net_fd = lock_net_dir(run_dir, false, DAEMON_LOCK_TIMEOUT_MS);
        if (net_fd == -ENOENT)
                return 0;
        /* Without the lock, do not touch a link another container may own. */
        if (net_fd >= 0 && link_is_ours(net_fd, ifname, container) && sbx_net_open(&sk) >= 0) {
                (void) sbx_net_link_delete(sk, ifname);
                sbx_net_close(sk);
        }
        if (net_fd < 0)
                return net_fd;
        scopes_foreach(net_fd, release_stale, (void *) container);
        claims_release(net_fd, MACS_DIR, container, NULL, NULL);
        claims_release(net_fd, LINKS_DIR, container, NULL, NULL);
        return 0;
}

struct sweep_ctx {
        char *const *live;
        struct nl_sock *sk;
};

static bool is_live(const char *owner, void *ud)
{
        return sbx_strv_contains(((struct sweep_ctx *) ud)->live, owner);
}

static void sweep_scope(int net_fd, const char *scope, void *ud)
{
        cleanup_close int fd =
            openat(net_fd, scope, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

        if (fd >= 0) {
                int n = sbx_lease_sweep(fd, is_live, ud);

                if (n > 0)
                        log_info("released %d stale lease(s) in %s", n, scope);
        }
        scope_release(net_fd, scope, NULL);
}

static void sweep_link(const char *name, void *ud)
{
        struct sweep_ctx *c = ud;
        char ifname[SBX_NET_IFNAME_MAX];

        for (size_t i = 0; c->live && c->live[i]; i++) {
                sbx_net_host_ifname(c->live[i], ifname);
                if (strcmp(ifname, name) == 0)
                        return;
        }
        log_info("removing stale interface '%s'", name);
        (void) sbx_net_link_delete(c->sk, name);
}

int sbx_network_sweep(const char *run_dir, char *const *live)
{
        struct sweep_ctx c = {.live = live};
        cleanup_close int net_fd = -1;

        if (sbx_net_open(&c.sk) >= 0) {
                (void) sbx_net_links_foreach(c.sk, SBX_NET_VETH_PREFIX, sweep_link, &c);
                sbx_net_close(c.sk);
                c.sk = NULL;
        }
        net_fd = lock_net_dir(run_dir, false, DAEMON_LOCK_TIMEOUT_MS);
        if (net_fd < 0)
                return net_fd == -ENOENT ? 0 : net_fd;
        scopes_foreach(net_fd, sweep_scope, &c);
        claims_release(net_fd, MACS_DIR, NULL, is_live, &c);
        claims_release(net_fd, LINKS_DIR, NULL, is_live, &c);
        return 0;
}

int sbx_network_destroy(const char *run_dir, const char *name)
{
        cleanup_free char *dir = NULL;
        cleanup_close int net_fd = -1;
        struct stat st;

        if (!sbx_policy_name_valid(name))
                return -EINVAL;
        net_fd = lock_net_dir(run_dir, false, DAEMON_LOCK_TIMEOUT_MS);
        if (net_fd < 0)
                return net_fd == -ENOENT ? -ENOENT : net_fd;
        if (asprintf(&dir, "network-%s", name) < 0)
                return -ENOMEM;
        if (fstatat(net_fd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_negerrno();
        return network_teardown(net_fd, name);
}

struct info_ctx {
        char **lines;
        int r;
};

static int add_line(char ***lines, const char *fmt, ...) sbx_printf(2, 3);
static int add_line(char ***lines, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return sbx_strv_consume(lines, s);
}

static int lease_line(const char *addr, const char *owner, void *ud)
{
        return add_line(ud, "Lease=%s %s", addr, owner);
}

static int describe(int net_fd, int dir_fd, const char *name, sbx_network_fn fn, void *userdata)
{
        cleanup_(sbx_netconf_freep) struct sbx_netconf *conf = NULL;
        cleanup_free char *dir = NULL, *dump = NULL;
        cleanup_close int scope_fd = -1;
        cleanup_strv char **lines = NULL;
        int r;

        if (asprintf(&dir, "network-%s", name) < 0)
                return -ENOMEM;
        if (net_fd >= 0)
                scope_fd = openat(net_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (scope_fd >= 0)
                r = active_config(scope_fd, name, &conf);
        else if (dir_fd >= 0) {
                cleanup_free char *err = NULL;

                r = sbx_netconf_load(dir_fd, name, &conf, NULL, &err);
                if (r == -ENOENT)
                        return r;
                if (r < 0)
                        return add_line(&lines, "Error=%s", err ? err : strerror(-r)) < 0
                                   ? -ENOMEM
                                   : fn(name, lines, userdata);
        } else
                r = -ENOENT;
        if (r < 0)
                return r;
        r = sbx_netconf_dump(conf, &dump);
        if (r < 0)
                return r;
        {
                char *save = NULL;

                for (char *l = strtok_r(dump, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (l[0] != '[' && l[0] != '#' && add_line(&lines, "%s", l) < 0)
                                return -ENOMEM;
        }
        if (add_line(&lines, "State=%s", scope_fd >= 0 ? "active" : "inactive") < 0 ||
            add_line(&lines, "Leases=%d", scope_fd >= 0 ? sbx_lease_count(scope_fd) : 0) < 0)
                return -ENOMEM;
        if (scope_fd >= 0 && sbx_lease_foreach(scope_fd, lease_line, &lines) < 0)
                return -ENOMEM;
        return fn(name, lines, userdata);
}

int sbx_network_foreach(const char *run_dir, const char *network_dir, const char *only,
                        sbx_network_fn fn, void *userdata)
{
        cleanup_close int net_fd = lock_net_dir(run_dir, false, DAEMON_LOCK_TIMEOUT_MS);
        cleanup_close int dir_fd =
            network_dir ? open(network_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        cleanup_strv char **names = NULL;
        int fds[2] = {net_fd, dir_fd};

        if (net_fd == -EBUSY)
                return net_fd;
        if (only)
                return describe(net_fd, dir_fd, only, fn, userdata);
        /* Defined (files) and active (run dir) networks, each once. */
        for (int i = 0; i < 2; i++) {
                int fd = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : -1;
                struct dirent *de;
                DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

                if (!d) {
                        if (fd >= 0)
                                (void) close(fd);
                        continue;
                }
                // cppcheck-suppress readdirCalled
                while ((de = readdir(d))) {
                        char name[80];
                        size_t n = strlen(de->d_name);

                        if (i == 0 && strncmp(de->d_name, "network-", 8) == 0)
                                (void) snprintf(name, sizeof(name), "%s", de->d_name + 8);
                        else if (i == 1 && n > 4 && n - 4 < sizeof(name) &&
                                 strcmp(de->d_name + n - 4, ".ini") == 0)
                                (void) snprintf(name, sizeof(name), "%.*s", (int) (n - 4),
                                                de->d_name);
                        else
                                continue;
                        if (sbx_policy_name_valid(name) && !sbx_strv_contains(names, name)) {
                                char *s = strdup(name);

                                if (!s || sbx_strv_consume(&names, s) < 0)
                                        break;
                        }
                }
                closedir(d);
        }
        for (size_t i = 0; names && names[i]; i++) {
                int r = describe(net_fd, dir_fd, names[i], fn, userdata);

                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}
