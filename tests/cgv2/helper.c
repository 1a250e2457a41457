/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-guest workloads for tests/cgv2 (built by tests/cgv2/run.sh on the host):
 *   helper hog MIB     allocates and touches MIB MiB, 1 MiB at a time, then
 *                      prints "not killed"
 *   helper forks N S   forks up to N children that each sleep S seconds,
 *                      prints how many forks succeeded, then exits (the
 *                      sandbox's PID namespace ends the children)
 *   helper open PATH:r|w...  opens each path for reading or writing, prints
 *                      "PATH MODE ok" or "PATH MODE EPERM" (errno name) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "hog") == 0) {
                long n = strtol(argv[2], NULL, 10);

                for (long i = 0; i < n; i++) {
                        char *p = malloc(1 << 20);

                        if (!p)
                                return 1;
                        memset(p, 'x', 1 << 20);
                }
                puts("not killed");
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "forks") == 0) {
                long n = strtol(argv[2], NULL, 10), ok = 0;
                unsigned s = (unsigned) strtoul(argv[3], NULL, 10);

                for (long i = 0; i < n; i++) {
                        pid_t pid = fork();

                        if (pid == 0) {
                                sleep(s);
                                _exit(0);
                        }
                        if (pid > 0)
                                ok++;
                }
                printf("%ld\n", ok);
                fflush(stdout);
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "open") == 0) {
                for (int i = 2; i < argc; i++) {
                        char *mode = strrchr(argv[i], ':');
                        const char *e;
                        int fd;

                        if (!mode)
                                return 2;
                        *mode++ = '\0';
                        fd = open(argv[i], (*mode == 'w' ? O_WRONLY : O_RDONLY) | O_NOCTTY);
                        if (fd >= 0) {
                                close(fd);
                                printf("%s %s ok\n", argv[i], mode);
                                continue;
                        }
                        e = errno == EPERM    ? "EPERM"
                            : errno == EACCES ? "EACCES"
                            : errno == ENXIO  ? "ENXIO"
                            : errno == ENOENT ? "ENOENT"
                                              : "other";
                        printf("%s %s %s\n", argv[i], mode, e);
                }
                return 0;
        }
        fprintf(stderr, "usage: %s hog MIB | forks N SECONDS | open PATH:MODE...\n", argv[0]);
        return 2;
}
