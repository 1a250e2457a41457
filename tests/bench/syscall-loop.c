/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Syscall-heavy loop for the seccomp benchmark: N getppid() calls (raw
 * syscall, no libc caching), prints the elapsed time in nanoseconds per call.
 *
 *   syscall-loop [N]   (default 1000000) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
        struct timespec a, b;
        double ns;

        if (n <= 0)
                return 2;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++)
                (void) syscall(SYS_getppid);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ns = (double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec);
        printf("%.2f\n", ns / (double) n);
        return 0;
}
