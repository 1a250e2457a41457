/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fuzz-targets.h"
#include "netconf.h"
#include "policy.h"
#include "protocol.h"

#define MAX_INPUT (64 * 1024)

int sbx_fuzz_policy(const uint8_t *data, size_t size)
{
        struct sbx_policy *p = NULL, *again = NULL;
        char *err = NULL, *dump = NULL, *dump2 = NULL;

        if (size > MAX_INPUT)
                return 0;
        if (sbx_policy_parse_string((const char *) data, size, "fuzz", "fuzz.ini", &p, &err) < 0) {
                /* Every refusal must say why. */
                if (!err)
                        abort();
                free(err);
                return 0;
        }
        /* What parses must dump to a policy that parses to the same dump. */
        if (sbx_policy_dump(p, &dump) < 0)
                abort();
        if (sbx_policy_parse_string(dump, strlen(dump), "fuzz", "fuzz.ini", &again, &err) < 0)
                abort();
        if (sbx_policy_dump(again, &dump2) < 0 || strcmp(dump, dump2) != 0)
                abort();
        free(dump);
        free(dump2);
        sbx_policy_free(p);
        sbx_policy_free(again);
        return 0;
}

int sbx_fuzz_protocol(const uint8_t *data, size_t size)
{
        struct sbx_msg m;
        void *buf;

        if (size > MAX_INPUT)
                return 0;
        buf = malloc(size ? size : 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        if (sbx_msg_decode(buf, size, &m) < 0) {
                free(buf);
                return 0;
        }
        /* A decoded message keeps its type's rules. */
        if (m.type == SBX_MSG_RUN && (!m.policy || !m.argv || m.argc == 0))
                abort();
        for (size_t i = 0; i < m.argc; i++)
                if (!m.argv[i])
                        abort();
        sbx_msg_done(&m);
        return 0;
}

/* Network files: a refusal says why; what parses dumps to a file that parses
 * to the same dump; the containers' range is inside the subnet. */
int sbx_fuzz_netconf(const uint8_t *data, size_t size)
{
        struct sbx_netconf *c = NULL, *again = NULL;
        char *err = NULL, *dump = NULL, *dump2 = NULL;
        uint32_t first, last;

        if (size > MAX_INPUT)
                return 0;
        if (sbx_netconf_parse_string((const char *) data, size, "fuzz", "fuzz.ini", &c, &err) < 0) {
                if (!err)
                        abort();
                free(err);
                return 0;
        }
        if (sbx_netconf_dump(c, &dump) < 0)
                abort();
        if (sbx_netconf_parse_string(dump, strlen(dump), "fuzz", "fuzz.ini", &again, &err) < 0)
                abort();
        if (sbx_netconf_dump(again, &dump2) < 0 || strcmp(dump, dump2) != 0)
                abort();
        sbx_netconf_range(c, &first, &last);
        if (first > last || c->address < first - 1 || c->address > last + 1)
                abort();
        free(dump);
        free(dump2);
        sbx_netconf_free(c);
        sbx_netconf_free(again);
        return 0;
}
