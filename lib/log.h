/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Where log lines go: stderr (foreground daemon, CLI) and/or syslog. */
enum sbx_log_target {
        SBX_LOG_STDERR = 1u << 0,
        SBX_LOG_SYSLOG = 1u << 1,
};

void sbx_log_open(const char *ident, unsigned targets);
void sbx_log_set_level(int level);
int sbx_log_get_level(void);
/* Parses "debug", "info", "notice", "warning", "err"/"error"; -EINVAL otherwise. */
int sbx_log_level_from_string(const char *s);
const char *sbx_log_level_to_string(int level);
/* Prefix for every line, e.g. "sandbox web1: "; NULL clears. Copied. */
void sbx_log_set_prefix(const char *prefix);

/* Logs at LEVEL; with error != 0, %m means strerror(-error). Returns error. */
int sbx_log_internal(int level, int error, const char *fmt, ...) sbx_printf(3, 4);

#define log_full_errno(level, error, ...) sbx_log_internal((level), (error), __VA_ARGS__)
#define log_debug(...) sbx_log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) sbx_log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) sbx_log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) sbx_log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) sbx_log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) sbx_log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) sbx_log_internal(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) sbx_log_internal(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) sbx_log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) sbx_log_internal(LOG_ERR, (e), __VA_ARGS__)

/* Copies S into BUF (size N) with control characters escaped as \xNN, for quoting
 * user-controlled strings in log lines. Always NUL-terminates; returns BUF. */
const char *sbx_log_escape(const char *s, char *buf, size_t n);
