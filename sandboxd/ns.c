/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "ns.h"
#include "policy.h"

int sbx_ns_clone_flags(const struct sbx_policy *p)
{
        static const int flags[SBX_NS_COUNT] = {
            [SBX_NS_MOUNT] = CLONE_NEWNS, [SBX_NS_IPC] = CLONE_NEWIPC, [SBX_NS_UTS] = CLONE_NEWUTS,
            [SBX_NS_PID] = CLONE_NEWPID,  [SBX_NS_NET] = CLONE_NEWNET,
        };
        int r = 0;

        for (int i = 0; i < SBX_NS_COUNT; i++)
                if (p->namespaces & (1u << i))
                        r |= flags[i];
        return r;
}

int sbx_ns_loopback_up(void)
{
        struct ifreq ifr = {};
        cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return sbx_negerrno();
        memcpy(ifr.ifr_name, "lo", 3);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return sbx_negerrno();
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return sbx_negerrno();
        return 0;
}
