#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a command on a fresh pseudo-terminal and drives it like a person at a
terminal would: wait for output, type, resize the window.

  pty-run.py [--rows R] [--cols C] [--timeout S] [--step KIND ARG]... -- CMD...

Steps run in order: "expect REGEX" waits for REGEX in the output so far (from
where the last expect matched), "send TEXT" types TEXT (Python escapes such as
\\x1a are decoded), "resize RxC" changes the window size, "sleep S".
Prints everything the terminal showed; exits with the command's status (128+N
for signal N), or 124 if a step or the command timed out.
"""
import argparse
import codecs
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--step", nargs=2, action="append", default=[])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd

    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    set_size(master, args.rows, args.cols)
    deadline = time.monotonic() + args.timeout
    out = b""
    pos = 0

    def pump(wait):
        nonlocal out
        r, _, _ = select.select([master], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(master, 65536)
        except OSError:
            return False
        if not data:
            return False
        out += data
        return True

    failed = None
    for kind, arg in args.step:
        if kind == "expect":
            rx = re.compile(arg.encode())
            while True:
                m = rx.search(out, pos)
                if m:
                    pos = m.end()
                    break
                if time.monotonic() > deadline or not pump(0.05):
                    failed = "timed out waiting for %r" % arg
                    break
        elif kind == "send":
            os.write(master, codecs.decode(arg, "unicode_escape").encode("latin-1"))
        elif kind == "resize":
            rows, cols = (int(x) for x in arg.split("x"))
            set_size(master, rows, cols)
        elif kind == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end and pump(0.02):
                pass
        else:
            failed = "unknown step %r" % kind
        if failed:
            break

    status = None
    while failed is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
        if time.monotonic() > deadline:
            failed = "timed out waiting for the command to exit"
            break
        pump(0.05)
    while pump(0):
        if time.monotonic() > deadline + 2:
            break
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.flush()
    if failed:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.stderr.write("pty-run: %s\n" % failed)
        return 124
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
