/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "caps.h"
#include "macro.h"

int sbx_caps_drop_to_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
        uid_t ru, eu, su;

        /* Groups first: setgroups needs CAP_SETGID, which capng_change_id drops. */
        if (setgroups(n_groups, groups) < 0)
                return sbx_negerrno();

        capng_clear(CAPNG_SELECT_ALL);
        if (capng_change_id((int) uid, (int) gid, CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT) < 0)
                return -EPERM;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return sbx_negerrno();

        /* Fail closed: check what the kernel now says, not what we asked for. */
        if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid)
                return -EPERM;
        capng_clear(CAPNG_SELECT_ALL);
        if (capng_get_caps_process() < 0)
                return -EPERM;
        if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE ||
            capng_have_capabilities(CAPNG_SELECT_BOUNDS) != CAPNG_NONE)
                return -EPERM;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0) > 0)
                return -EPERM;
        return 0;
}
