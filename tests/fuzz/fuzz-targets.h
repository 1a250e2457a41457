/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The fuzz targets, shared by the libFuzzer entry points (make fuzz) and the
 * corpus replay in the unit tests (make check). Pure: no syscalls, no global
 * state; abort() on a broken invariant. */
int sbx_fuzz_policy(const uint8_t *data, size_t size);
int sbx_fuzz_protocol(const uint8_t *data, size_t size);
int sbx_fuzz_netconf(const uint8_t *data, size_t size);
