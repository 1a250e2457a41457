/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int log_level = LOG_INFO;
static unsigned log_targets = SBX_LOG_STDERR;
static char log_ident[32] = "lxsandbox";
static char log_prefix[128];

void sbx_log_open(const char *ident, unsigned targets)
{
        (void) snprintf(log_ident, sizeof(log_ident), "%s", ident);
        log_targets = targets;
        if (targets & SBX_LOG_SYSLOG)
                openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void sbx_log_set_level(int level)
{
        log_level = level;
}

int sbx_log_get_level(void)
{
        return log_level;
}

int sbx_log_level_from_string(const char *s)
{
        static const struct {
                const char *name;
                int level;
        } table[] = {
            {"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"notice", LOG_NOTICE},
            {"warning", LOG_WARNING}, {"err", LOG_ERR},   {"error", LOG_ERR},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(s, table[i].name) == 0)
                        return table[i].level;
        return -EINVAL;
}

const char *sbx_log_level_to_string(int level)
{
        switch (level) {
        case LOG_DEBUG:
                return "debug";
        case LOG_INFO:
                return "info";
        case LOG_NOTICE:
                return "notice";
        case LOG_WARNING:
                return "warning";
        default:
                return "error";
        }
}

void sbx_log_set_prefix(const char *prefix)
{
        (void) snprintf(log_prefix, sizeof(log_prefix), "%s", prefix ? prefix : "");
}

int sbx_log_internal(int level, int error, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;
        int saved = errno;

        if (level > log_level)
                return error;

        /* %m must print the error we were given, not whatever errno holds now. */
        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (log_targets & SBX_LOG_STDERR) {
                /* At debug level, a monotonic timestamp lets one line up the
                 * daemon's, the controllers' and the clients' steps. */
                if (log_level >= LOG_DEBUG) {
                        struct timespec ts;

                        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
                        (void) fprintf(stderr, "[%lld.%06ld] ", (long long) ts.tv_sec,
                                       ts.tv_nsec / 1000);
                }
                (void) fprintf(stderr, "%s: %s%s\n", log_ident, log_prefix, msg);
        }
        if (log_targets & SBX_LOG_SYSLOG)
                syslog(level, "%s%s", log_prefix, msg);

        errno = saved;
        return error;
}

const char *sbx_log_escape(const char *s, char *buf, size_t n)
{
        size_t o = 0;

        if (n == 0)
                return buf;
        for (; s && *s && o + 5 < n; s++) {
                unsigned char c = (unsigned char) *s;

                if (c < 0x20 || c == 0x7f || c == '\\')
                        o += (size_t) snprintf(buf + o, n - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o] = '\0';
        return buf;
}
