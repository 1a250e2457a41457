/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Most fds one message may carry. */
#define SBX_MAX_FDS 8

/* Sends one datagram/packet with up to SBX_MAX_FDS fds attached. */
int sbx_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);

/* Receives one packet of at most CAP bytes. Received fds are CLOEXEC. A packet
 * longer than CAP, or with more than MAX_FDS fds or truncated control data,
 * closes every received fd and returns -EMSGSIZE. 0 means end of stream. */
ssize_t sbx_recv_fds(int sock, void *buf, size_t cap, int *ret_fds, size_t max_fds,
                     size_t *ret_n_fds);

void sbx_close_many(int *fds, size_t n);
int sbx_fd_set_nonblock(int fd, int on);
/* Loops over short writes and EINTR. */
int sbx_write_all(int fd, const void *buf, size_t len);
