/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "policy.h"

static void set_error(char **ret_error, const char *filename, const char *what)
{
        if (ret_error && asprintf(ret_error, "%s: %s", filename, what) < 0)
                *ret_error = NULL;
}

int sbx_policy_read_fd(int fd, const char *filename, char **ret_text, size_t *ret_len,
                       char **ret_error)
{
        cleanup_free char *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fstat(fd, &st) < 0)
                return sbx_negerrno();
        if (!S_ISREG(st.st_mode)) {
                set_error(ret_error, filename, "refused: not a regular file");
                return -EPERM;
        }
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                set_error(ret_error, filename,
                          "refused: must be owned by root and not writable by group or others");
                return -EPERM;
        }
        buf = malloc(SBX_POLICY_MAX_SIZE + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, SBX_POLICY_MAX_SIZE + 1 - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return sbx_negerrno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > SBX_POLICY_MAX_SIZE) {
                        set_error(ret_error, filename, "file too large (max 64 KiB)");
                        return -EFBIG;
                }
        }
        buf[len] = '\0';
        *ret_text = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}
