#!/usr/bin/env python3
"""moldcounts.py - the message count of every UDP datagram of a classic pcap of MoldUDP64
(Ethernet or raw IPv4 link), in capture order, as a JSON list on stdout (heartbeats and the end
of session count 0). The ringfeed loss tests compute expected losses from it.

usage: moldcounts.py FILE.pcap
"""
import json
import struct
import sys


def main(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off, counts = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[14:] if linktype == 1 else pkt
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 15) * 4:]
        mold = udp[8:]
        if len(mold) < 20:
            continue
        n = struct.unpack(">H", mold[18:20])[0]
        counts.append(0 if n == 0xFFFF else n)
    json.dump(counts, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
