#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Network probes for 90-network.bats, usable inside a sandbox (no
capabilities: ICMP through a datagram socket, which net.ipv4.ping_group_range
allows; the ping binary has file capabilities and cannot be executed under an
empty bounding set).

  net-probe.py ping HOST              exit 0 if HOST answers an ICMP echo
  net-probe.py connect HOST PORT      exit 0 if a TCP connection succeeds
  net-probe.py serve ADDR PORT FILE   accept one connection, write the peer's address to FILE
"""
import os
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(host, tries=3):
    v6 = ":" in host
    # ICMPv6 echo: the kernel computes the checksum of datagram sockets.
    echo, reply = (128, 129) if v6 else (8, 0)
    for _ in range(tries):
        try:
            if v6:
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
        except OSError as e:
            print("socket: %s" % e, file=sys.stderr)
            return 2
        s.settimeout(1.0)
        payload = b"lxsandbox"
        hdr = struct.pack("!BBHHH", echo, 0, 0, 0, 1)
        pkt = struct.pack("!BBHHH", echo, 0, 0 if v6 else checksum(hdr + payload), 0, 1) + payload
        try:
            s.sendto(pkt, (host, 0))
            data, _ = s.recvfrom(1024)
            if data and data[0] == reply:
                return 0
        except OSError as e:
            print("ping %s: %s" % (host, e), file=sys.stderr)
            time.sleep(0.2)
        finally:
            s.close()
    return 1


def connect(host, port):
    try:
        with socket.create_connection((host, int(port)), timeout=3) as s:
            s.sendall(b"hello\n")
        return 0
    except OSError as e:
        print("connect %s:%s: %s" % (host, port, e), file=sys.stderr)
        return 1


def serve(addr, port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    # Ready: the test waits for this file.
    with open(out + ".ready", "w") as f:
        f.write("ready\n")
    s.settimeout(60)
    c, peer = s.accept()
    c.recv(64)
    c.close()
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(peer[0] + "\n")
    os.rename(tmp, out)
    return 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "ping":
        return ping(sys.argv[2])
    if len(sys.argv) >= 4 and sys.argv[1] == "connect":
        return connect(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 5 and sys.argv[1] == "serve":
        return serve(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
