/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "macro.h"

const char *sbx_client_socket_path(const char *opt)
{
        const char *env;

        if (opt)
                return opt;
        env = getenv("LXSANDBOX_SOCKET");
        if (env && *env)
                return env;
        return SBX_DEFAULT_SOCKET;
}

int sbx_client_connect(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return sbx_negerrno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = sbx_negerrno();
                (void) close(fd);
                return r;
        }
        return fd;
}
