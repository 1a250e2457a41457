/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"

int sbx_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * SBX_MAX_FDS)];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = (void *) buf, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (n_fds > SBX_MAX_FDS)
                return -E2BIG;
        if (n_fds > 0) {
                struct cmsghdr *c;

                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return sbx_negerrno();
        return (size_t) n == len ? 0 : -EIO;
}

void sbx_close_many(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fds[i] = sbx_safe_close(fds[i]);
}

ssize_t sbx_recv_fds(int sock, void *buf, size_t cap, int *ret_fds, size_t max_fds,
                     size_t *ret_n_fds)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * SBX_MAX_FDS)];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = cap};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        int got[SBX_MAX_FDS];
        size_t n_got = 0;
        ssize_t n;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return sbx_negerrno();

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n_got < SBX_MAX_FDS)
                                got[n_got++] = fd;
                        else
                                (void) close(fd);
                }
        }

        if ((size_t) n > cap || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_got > max_fds) {
                sbx_close_many(got, n_got);
                return -EMSGSIZE;
        }
        memcpy(ret_fds, got, n_got * sizeof(int));
        *ret_n_fds = n_got;
        return n;
}

int sbx_fd_set_nonblock(int fd, int on)
{
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return sbx_negerrno();
        flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (fcntl(fd, F_SETFL, flags) < 0)
                return sbx_negerrno();
        return 0;
}

int sbx_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return sbx_negerrno();
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}
