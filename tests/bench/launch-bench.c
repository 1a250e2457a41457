/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interleaved launch-latency benchmark: runs each command in turn, N rounds,
 * and prints median and p90 wall time per command and the ratio of medians to
 * the first (the baseline). Interleaving spreads machine noise evenly.
 *
 *   launch-bench N NAME1 CMD1 [ARGS] ';' NAME2 CMD2 [ARGS] ';' ... */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8

struct cmd {
        const char *name;
        char **argv;
        double *ms;
        int failures;
};

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int run(char **argv)
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        struct cmd cmds[MAX_CMDS];
        int n_cmds = 0, rounds;

        if (argc < 4) {
                fprintf(stderr, "usage: launch-bench N NAME CMD... [';' NAME CMD...]\n");
                return 2;
        }
        rounds = (int) strtol(argv[1], NULL, 10);
        if (rounds < 1)
                return 2;
        for (int i = 2; i < argc && n_cmds < MAX_CMDS;) {
                struct cmd *c = &cmds[n_cmds++];
                int j = i + 1;

                c->name = argv[i];
                c->argv = argv + j;
                while (j < argc && strcmp(argv[j], ";") != 0)
                        j++;
                argv[j < argc ? j : argc] = NULL;
                c->ms = calloc((size_t) rounds, sizeof(double));
                c->failures = 0;
                i = j + 1;
        }
        /* One warm-up round fills caches for everyone alike. */
        for (int k = 0; k < n_cmds; k++)
                (void) run(cmds[k].argv);
        for (int r = 0; r < rounds; r++)
                for (int k = 0; k < n_cmds; k++) {
                        double t0 = now_ms();

                        if (run(cmds[k].argv) != 0)
                                cmds[k].failures++;
                        cmds[k].ms[r] = now_ms() - t0;
                }
        printf("%-28s %10s %10s %10s %8s\n", "command", "median ms", "p90 ms", "ratio", "failed");
        double base = 0;
        for (int k = 0; k < n_cmds; k++) {
                struct cmd *c = &cmds[k];
                double med, p90;

                qsort(c->ms, (size_t) rounds, sizeof(double), cmp);
                med = c->ms[rounds / 2];
                p90 = c->ms[(rounds * 9) / 10];
                if (k == 0)
                        base = med;
                printf("%-28s %10.2f %10.2f %9.2fx %8d\n", c->name, med, p90, med / base,
                       c->failures);
                free(c->ms);
        }
        return 0;
}
