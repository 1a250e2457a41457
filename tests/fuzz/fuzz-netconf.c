/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        return sbx_fuzz_netconf(data, size);
}
