/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define sbx_unused __attribute__((unused))
#define sbx_noreturn __attribute__((noreturn))
#define sbx_printf(a, b) __attribute__((format(printf, a, b)))
#define sbx_warn_unused __attribute__((warn_unused_result))

static inline void sbx_freep(void *p)
{
        free(*(void **) p);
}

static inline int sbx_safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -1;
}

static inline void sbx_closep(int *fd)
{
        *fd = sbx_safe_close(*fd);
}

static inline void sbx_fclosep(FILE **f)
{
        if (*f)
                (void) fclose(*f);
}

/* Free a NULL-terminated array of strings and the array itself. */
static inline void sbx_strv_free(char **v)
{
        if (!v)
                return;
        for (char **s = v; *s; s++)
                free(*s);
        free(v);
}

static inline void sbx_strv_freep(char ***v)
{
        sbx_strv_free(*v);
}

#define cleanup_(fn) __attribute__((cleanup(fn)))
#define cleanup_free cleanup_(sbx_freep)
#define cleanup_close cleanup_(sbx_closep)
#define cleanup_fclose cleanup_(sbx_fclosep)
#define cleanup_strv cleanup_(sbx_strv_freep)

/* Hand ownership of a pointer or fd out of a cleanup-scoped variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) take_ptr_tmp = (p);                                                  \
                (p) = NULL;                                                                        \
                take_ptr_tmp;                                                                      \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int take_fd_tmp = (fd);                                                            \
                (fd) = -1;                                                                         \
                take_fd_tmp;                                                                       \
        })

/* -errno of the last failed libc call, never 0 (a libc that forgot errno still fails). */
static inline int sbx_negerrno(void)
{
        return errno > 0 ? -errno : -EIO;
}

static inline const char *sbx_strna(const char *s)
{
        return s ? s : "n/a";
}
