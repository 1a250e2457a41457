/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "net.h"

/* libnl's NLE_* -> -errno. */
static int nl_errno(int e)
{
        static const int table[] = {
            [NLE_FAILURE] = EIO,
            [NLE_INTR] = EINTR,
            [NLE_BAD_SOCK] = EBADF,
            [NLE_AGAIN] = EAGAIN,
            [NLE_NOMEM] = ENOMEM,
            [NLE_EXIST] = EEXIST,
            [NLE_INVAL] = EINVAL,
            [NLE_RANGE] = ERANGE,
            [NLE_MSGSIZE] = EMSGSIZE,
            [NLE_OPNOTSUPP] = EOPNOTSUPP,
            [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
            [NLE_OBJ_NOTFOUND] = ENOENT,
            [NLE_NOATTR] = ENODATA,
            [NLE_MISSING_ATTR] = EINVAL,
            [NLE_AF_MISMATCH] = EAFNOSUPPORT,
            [NLE_SEQ_MISMATCH] = EBADMSG,
            [NLE_MSG_OVERFLOW] = EOVERFLOW,
            [NLE_MSG_TRUNC] = EMSGSIZE,
            [NLE_NOADDR] = EADDRNOTAVAIL,
            [NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
            [NLE_MSG_TOOSHORT] = EBADMSG,
            [NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
            [NLE_OBJ_MISMATCH] = EINVAL,
            [NLE_NOCACHE] = ENOENT,
            [NLE_BUSY] = EBUSY,
            [NLE_PROTO_MISMATCH] = EPROTO,
            [NLE_NOACCESS] = EACCES,
            [NLE_PERM] = EPERM,
            [NLE_PKTLOC_FILE] = ENOENT,
            [NLE_PARSE_ERR] = EINVAL,
            [NLE_NODEV] = ENODEV,
            [NLE_IMMUTABLE] = EPERM,
            [NLE_DUMP_INTR] = EINTR,
            [NLE_ATTRSIZE] = EINVAL,
        };
        int a = e < 0 ? -e : e;

        if (a == 0)
                return 0;
        log_debug("netlink: %s", nl_geterror(a));
        return -(a < (int) ELEMENTSOF(table) && table[a] ? table[a] : EIO);
}

int sbx_net_open(struct nl_sock **ret)
{
        struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return nl_errno(r);
        }
        /* libnl opens it with SOCK_CLOEXEC; make sure, whatever the version. */
        (void) fcntl(nl_socket_get_fd(sk), F_SETFD, FD_CLOEXEC);
        *ret = sk;
        return 0;
}

void sbx_net_close(struct nl_sock *sk)
{
        if (sk)
                nl_socket_free(sk);
}

int sbx_net_open_in(pid_t pid, const char *const *sysctls, struct nl_sock **ret)
{
        cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        cleanup_close int target = -1;
        char path[64];
        int r, r2;

        (void) snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        target = open(path, O_RDONLY | O_CLOEXEC);
        if (self < 0 || target < 0)
                return sbx_negerrno();
        if (setns(target, CLONE_NEWNET) < 0)
                return sbx_negerrno();
        r = sbx_net_open(ret);
        for (size_t i = 0; sysctls && sysctls[i] && sysctls[i + 1]; i += 2)
                (void) sbx_net_sysctl_write(sysctls[i], sysctls[i + 1]);
        /* Back home, or this process would work in the sandbox's namespace. */
        if (setns(self, CLONE_NEWNET) < 0) {
                r2 = sbx_negerrno();
                if (r >= 0)
                        sbx_net_close(*ret);
                log_error_errno(r2, "Cannot return to our network namespace: %m");
                abort();
        }
        return r;
}

int sbx_net_sysctl_write(const char *path, const char *value)
{
        char p[256];
        cleanup_close int fd = -1;

        if (snprintf(p, sizeof(p), "/proc/sys/%s", path) >= (int) sizeof(p))
                return -ENAMETOOLONG;
        fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sbx_negerrno();
        return sbx_write_all(fd, value, strlen(value));
}

int sbx_net_link_index(struct nl_sock *sk, const char *name, bool *ret_is_bridge)
{
        struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &link);

        if (r < 0)
                return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : nl_errno(r);
        r = rtnl_link_get_ifindex(link);
        if (ret_is_bridge) {
                const char *type = rtnl_link_get_type(link);

                *ret_is_bridge = type && strcmp(type, "bridge") == 0;
        }
        rtnl_link_put(link);
        return r;
}

int sbx_net_veth_create(struct nl_sock *sk, const char *host_if, const uint8_t mac[6],
                        int master_ifindex, pid_t pid)
{
        struct rtnl_link *veth = rtnl_link_veth_alloc(), *peer;
        struct nl_addr *a = NULL;
        int r = -ENOMEM;

        if (!veth)
                return -ENOMEM;
        peer = rtnl_link_veth_get_peer(veth);
        a = nl_addr_build(AF_LLC, mac, 6);
        if (!peer || !a)
                goto out;
        rtnl_link_set_name(veth, host_if);
        rtnl_link_set_flags(veth, IFF_UP);
        if (master_ifindex > 0)
                rtnl_link_set_master(veth, master_ifindex);
        rtnl_link_set_name(peer, "eth0");
        rtnl_link_set_addr(peer, a);
        /* Not IFF_UP: the peer is configured before the pair is linked, and a
         * veth without its peer refuses to open (ENOTCONN). */
        rtnl_link_set_ns_pid(peer, pid);
        r = nl_errno(rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL));
out:
        if (peer)
                rtnl_link_put(peer);
        nl_addr_put(a);
        rtnl_link_put(veth);
        return r;
}

int sbx_net_link_delete(struct nl_sock *sk, const char *name)
{
        struct rtnl_link *link = rtnl_link_alloc();
        int r;

        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, name);
        r = nl_errno(rtnl_link_delete(sk, link));
        rtnl_link_put(link);
        return r == -ENODEV || r == -ENOENT ? 0 : r;
}

int sbx_net_bridge_create(struct nl_sock *sk, const char *name)
{
        struct rtnl_link *link = rtnl_link_bridge_alloc();
        int r;

        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, name);
        rtnl_link_set_flags(link, IFF_UP);
        r = nl_errno(rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL));
        rtnl_link_put(link);
        return r;
}

int sbx_net_rate_limit(struct nl_sock *sk, int ifindex, uint64_t bits_per_sec)
{
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        uint64_t rate = bits_per_sec / 8, bucket = rate / 100;
        int r;

        if (!q)
                return -ENOMEM;
        if (rate == 0 || rate > INT32_MAX) {
                rtnl_qdisc_put(q);
                return -ERANGE;
        }
        /* At least ten full Ethernet frames. */
        if (bucket < UINT64_C(15140))
                bucket = UINT64_C(15140);
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
        r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
        if (r >= 0) {
                rtnl_qdisc_tbf_set_rate(q, (int) rate,
                                        (int) (bucket > INT32_MAX ? INT32_MAX : bucket), 0);
                r = rtnl_qdisc_tbf_set_limit_by_latency(q, 50000);
        }
        if (r >= 0)
                r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
        rtnl_qdisc_put(q);
        return nl_errno(r);
}

int sbx_net_link_up(struct nl_sock *sk, int ifindex)
{
        struct rtnl_link *old = NULL, *change = rtnl_link_alloc();
        int r;

        if (!change)
                return -ENOMEM;
        r = rtnl_link_get_kernel(sk, ifindex, NULL, &old);
        if (r >= 0) {
                rtnl_link_set_flags(change, IFF_UP);
                r = rtnl_link_change(sk, old, change, 0);
        }
        rtnl_link_put(change);
        if (old)
                rtnl_link_put(old);
        return nl_errno(r);
}

int sbx_net_addr_add(struct nl_sock *sk, int ifindex, const char *cidr)
{
        struct rtnl_addr *addr = rtnl_addr_alloc();
        struct nl_addr *local = NULL;
        int r;

        if (!addr)
                return -ENOMEM;
        r = nl_addr_parse(cidr, AF_UNSPEC, &local);
        if (r >= 0) {
                rtnl_addr_set_ifindex(addr, ifindex);
                r = rtnl_addr_set_local(addr, local);
        }
        /* No duplicate address detection: the address is ours by lease. */
        if (r >= 0 && nl_addr_get_family(local) == AF_INET6)
                rtnl_addr_set_flags(addr, IFA_F_NODAD);
        if (r >= 0)
                r = rtnl_addr_add(sk, addr, 0);
        nl_addr_put(local);
        rtnl_addr_put(addr);
        return nl_errno(r);
}

int sbx_net_route_default(struct nl_sock *sk, int ifindex, const char *gateway, bool onlink)
{
        struct rtnl_route *route = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        struct nl_addr *gw = NULL, *dst = NULL;
        int r = -NLE_NOMEM, family;

        if (!route || !nh)
                goto out;
        r = nl_addr_parse(gateway, AF_UNSPEC, &gw);
        if (r < 0)
                goto out;
        family = nl_addr_get_family(gw);
        r = nl_addr_parse(family == AF_INET6 ? "::/0" : "0.0.0.0/0", family, &dst);
        if (r < 0)
                goto out;
        rtnl_route_set_family(route, (uint8_t) family);
        rtnl_route_set_table(route, RT_TABLE_MAIN);
        rtnl_route_set_protocol(route, RTPROT_STATIC);
        rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
        (void) rtnl_route_set_dst(route, dst);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        if (onlink)
                rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
        rtnl_route_add_nexthop(route, nh);
        nh = NULL; /* the route owns it */
        r = rtnl_route_add(sk, route, NLM_F_CREATE | NLM_F_EXCL);
out:
        if (nh)
                rtnl_route_nh_free(nh);
        nl_addr_put(gw);
        nl_addr_put(dst);
        if (route)
                rtnl_route_put(route);
        return nl_errno(r);
}

int sbx_net_link_counters(struct nl_sock *sk, const char *name, struct sbx_net_counters *ret)
{
        struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &link);

        if (r < 0)
                return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : nl_errno(r);
        *ret = (struct sbx_net_counters){
            .rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES),
            .rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS),
            .tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES),
            .tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS),
        };
        rtnl_link_put(link);
        return 0;
}

struct foreach_ctx {
        const char *prefix;
        void (*fn)(const char *name, void *userdata);
        void *userdata;
};

static void foreach_one(struct nl_object *obj, void *arg)
{
        struct foreach_ctx *c = arg;
        const char *name = rtnl_link_get_name((struct rtnl_link *) obj);

        if (name && strncmp(name, c->prefix, strlen(c->prefix)) == 0)
                c->fn(name, c->userdata);
}

int sbx_net_links_foreach(struct nl_sock *sk, const char *prefix,
                          void (*fn)(const char *name, void *userdata), void *userdata)
{
        struct foreach_ctx c = {.prefix = prefix, .fn = fn, .userdata = userdata};
        struct nl_cache *cache = NULL;
        int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);

        if (r < 0)
                return nl_errno(r);
        nl_cache_foreach(cache, foreach_one, &c);
        nl_cache_free(cache);
        return 0;
}
