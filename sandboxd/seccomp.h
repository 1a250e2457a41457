/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* System call filters (libseccomp), systemd's SystemCallFilter= semantics.
 *
 * The daemon compiles a policy's filter once (sbx_seccomp_prepare(): seccomp_init,
 * rules, seccomp_export_bpf into a memfd, read back into memory; cached by
 * seccomp-cache.c); the controller sends the raw BPF to the sandbox's init, and
 * the command installs it with one prctl() right before execve
 * (sbx_seccomp_install(): no allocation, async-signal-safe). The name checks and
 * the group table are pure, so the policy parser uses them. */

#include <stdbool.h>
#include <stddef.h>

#include <linux/filter.h>

struct sbx_policy;
struct sbx_seccomp;

/* A named group of system calls. MEMBERS are system call names, "@group"
 * names, or (only in @default) argument-filtered entries such as
 * "ioctl(TIOCSTI)", which policies cannot name themselves. */
struct sbx_seccomp_group {
        const char *name; /* "@mount" */
        const char *description;
        const char *const *members; /* NULL-terminated */
};

/* The group table, in the order sbxctl lists it. */
size_t sbx_seccomp_group_count(void);
const struct sbx_seccomp_group *sbx_seccomp_group_get(size_t i);
/* NAME with its '@'; NULL if unknown. */
const struct sbx_seccomp_group *sbx_seccomp_group_find(const char *name);

/* Checks one word of SystemCallFilter=: a system call known to libseccomp, or
 * "@group". Pure. Returns 0, -EINVAL (not a name: bad characters), -ENOENT (no
 * such system call) or -ESRCH (no such group). */
int sbx_seccomp_validate_name(const char *name);

/* Expands WORDS (names and @groups, validated) into the sorted, duplicate-free
 * list of system calls and argument-filtered entries they stand for. */
int sbx_seccomp_expand(char *const *words, char ***ret_names);

/* Builds the filter for POLICY: SystemCallFilter=, SystemCallErrorNumber=,
 * and SystemCallArchitectures=native (every filter, even without
 * SystemCallFilter=, kills a process that enters the kernel through a
 * non-native ABI: i386 int 0x80, x32). On failure returns -errno and, if
 * RET_ERROR is not NULL, a malloc'd message. */
int sbx_seccomp_prepare(const struct sbx_policy *policy, struct sbx_seccomp **ret,
                        char **ret_error);

/* Number of BPF instructions of a prepared filter (0 for NULL). */
size_t sbx_seccomp_size(const struct sbx_seccomp *f);

/* Installs the prepared filter in the calling thread. no_new_privs must be set.
 * No allocation, async-signal-safe. NULL: nothing to do. Returns -errno. */
int sbx_seccomp_apply_child(const struct sbx_seccomp *f);

/* A filter from BPF instructions compiled elsewhere (the daemon's cache). */
int sbx_seccomp_from_bpf(const void *insns, size_t len, struct sbx_seccomp **ret);

/* The exported BPF program (for sending to the sandbox's init). */
const struct sock_fprog *sbx_seccomp_prog(const struct sbx_seccomp *f);

/* Child side: installs PROG, with one prctl() and no allocation. */
int sbx_seccomp_install(const struct sock_fprog *prog);

struct sbx_seccomp *sbx_seccomp_free(struct sbx_seccomp *f);
static inline void sbx_seccomp_freep(struct sbx_seccomp **f)
{
        sbx_seccomp_free(*f);
}
