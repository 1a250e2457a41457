#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# fuse-hang.py DIR: mounts a FUSE file system on DIR that nobody serves (the
# INIT request is never answered), so every access below DIR waits, as long
# as this process lives (killable waits). Stands in for a FUSE file system a
# user mounted in their home (fusermount) and stopped answering. Prints
# "mounted" once the mount is there; killing it fails the waiting accesses.
import ctypes
import os
import signal
import sys

libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/dev/fuse", os.O_RDWR)
opts = b"fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % fd
if libc.mount(b"sbx-fuse-hang", sys.argv[1].encode(), b"fuse", 0, opts) != 0:
    sys.exit("fuse-hang: mount: " + os.strerror(ctypes.get_errno()))
print("mounted", flush=True)
signal.pause()
