#!/usr/bin/env python3
"""moldsend.py - a small MoldUDP64 sender for the ringfeed tests: generated packets to UDP
destinations, with chosen packets left out per destination.

usage: moldsend.py [--session S] [--start SEQ] [--packets N] [--per K] [--skip I,J,...]
                   [--skip-on DEST_INDEX:I,J,...] [--heartbeat] [--gap-us US] HOST:PORT...

Packet i (from 0) carries K ITCH 5.0 system event messages ('S', 12 bytes) with sequence numbers
START + i*K ... ; --skip leaves packets out on every destination, --skip-on on one destination.
Every destination gets every other packet, in order, A before B. With --heartbeat a final
heartbeat (count 0, the next sequence number) goes to every destination. Prints one JSON line:
{"packets": sent packets (first destination), "messages": messages in them, "skipped": [...]}.
"""
import json
import socket
import struct
import sys
import time


def main(argv):
    opts = {"session": b"TESTSESS01", "start": 1, "packets": 100, "per": 3, "skip": set(),
            "skip_on": {}, "heartbeat": False, "gap_us": 0}
    dests = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--session":
            opts["session"] = argv[i + 1].encode().ljust(10)[:10]
            i += 1
        elif a in ("--start", "--packets", "--per", "--gap-us"):
            opts[a[2:].replace("-", "_")] = int(argv[i + 1])
            i += 1
        elif a == "--skip":
            opts["skip"] = {int(x) for x in argv[i + 1].split(",") if x}
            i += 1
        elif a == "--skip-on":
            d, lst = argv[i + 1].split(":")
            opts["skip_on"][int(d)] = {int(x) for x in lst.split(",") if x}
            i += 1
        elif a == "--heartbeat":
            opts["heartbeat"] = True
        else:
            host, port = a.rsplit(":", 1)
            dests.append((host, int(port)))
        i += 1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
    msg = b"S" + struct.pack(">HH", 1, 0) + b"\0" * 6 + b"O"  # 12 bytes
    sent = msgs = 0
    for p in range(opts["packets"]):
        seq = opts["start"] + p * opts["per"]
        pkt = opts["session"] + struct.pack(">QH", seq, opts["per"])
        pkt += b"".join(struct.pack(">H", len(msg)) + msg for _ in range(opts["per"]))
        if p in opts["skip"]:
            continue
        for d, dest in enumerate(dests):
            if p not in opts["skip_on"].get(d, ()):
                s.sendto(pkt, dest)
        sent += 1
        msgs += opts["per"]
        if opts["gap_us"]:
            time.sleep(opts["gap_us"] / 1e6)
    if opts["heartbeat"]:
        seq = opts["start"] + opts["packets"] * opts["per"]
        for dest in dests:
            s.sendto(opts["session"] + struct.pack(">QH", seq, 0), dest)
    print(json.dumps({"packets": sent, "messages": msgs, "skipped": sorted(opts["skip"])}))


if __name__ == "__main__":
    main(sys.argv[1:])
