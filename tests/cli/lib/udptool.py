#!/usr/bin/env python3
"""udptool.py - the network tests' helper: a UDP receiver, and the UDP payloads of a capture.

  udptool.py recv ADDR:PORT[,PORT...] OUT [--group G [--ifaddr A]] [--count N] [--idle S]
          [--timeout S]
      binds ADDR (0.0.0.0 for multicast) on each PORT (joining group G on the interface of
      local address A when given), writes
      `ready` to OUT.ready once bound, and every datagram to OUT as "PORT HEX" lines, until N
      datagrams arrived, S idle seconds after the first one (default 1), or the timeout
      (default 15 s).
  udptool.py payloads CAPTURE
      "PORT HEX" for every UDP payload of a pcap or pcapng file (Ethernet, VLAN, IPv4).
  udptool.py times CAPTURE
      the capture timestamp (ns) of every UDP packet, one per line.
  udptool.py mold FILE
      reads recv's output of MoldUDP64 packets: "SEQ HEX" per message, checks nothing.
"""
import select
import socket
import struct
import sys
import time


def recv(argv):
    addr, ports = argv[0].rsplit(':', 1)
    out = argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    socks = []
    for p in ports.split(','):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:  # root: past net.core.rmem_max, so that a burst at max speed fits
            s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((addr, int(p)))
        if '--group' in opts:
            mreq = socket.inet_aton(opts['--group']) + socket.inet_aton(opts.get('--ifaddr', '0.0.0.0'))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        socks.append((s, int(p)))
    count = int(opts.get('--count', '0'))
    idle = float(opts.get('--idle', '1'))
    deadline = time.time() + float(opts.get('--timeout', '15'))
    open(out + '.ready', 'w').write('ready\n')
    n, first = 0, None
    ports_of = dict((id(a), b) for a, b in socks)
    with open(out, 'w') as f:
        while True:
            now = time.time()
            wait = deadline - now
            if first is not None:
                wait = min(wait, idle)
            if wait <= 0:
                break
            r, _, _ = select.select([s for s, _ in socks], [], [], wait)
            if not r:
                if first is not None or time.time() >= deadline:
                    break
                continue
            for s in r:
                port = ports_of[id(s)]
                while True:  # drain what is queued
                    try:
                        data = s.recv(65536, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    f.write('%d %s\n' % (port, data.hex()))
                    n += 1
                first = first or time.time()
            if count and n >= count:
                break


def frames(path):
    """(linktype, timestamp ns, packet bytes) of each record of a pcap or pcapng file."""
    d = open(path, 'rb').read()
    if d[:4] == b'\x0a\x0d\x0d\x0a':
        bo = '<' if d[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        off, links = 0, []
        while off + 12 <= len(d):
            btype, blen = struct.unpack(bo + 'II', d[off:off + 8])
            body = d[off + 8:off + blen - 4]
            if btype == 1:  # interface: link type, if_tsresol (default microseconds)
                res, o = 1000, 8
                while o + 4 <= len(body):
                    code, ln = struct.unpack(bo + 'HH', body[o:o + 4])
                    if code == 0:
                        break
                    if code == 9:
                        r = body[o + 4]
                        res = 10 ** 9 // (10 ** r) if r < 128 else 10 ** 9 // (2 ** (r & 127))
                    o += 4 + (ln + 3) // 4 * 4
                links.append((struct.unpack(bo + 'H', body[:2])[0], res))
            elif btype == 6:
                iface, hi, lo, cap, _ = struct.unpack(bo + 'IIIII', body[:20])
                link, res = links[iface]
                yield link, ((hi << 32) | lo) * res, body[20:20 + cap]
            elif btype == 3:
                yield links[0][0], 0, body[4:]
            off += blen
        return
    magic = d[:4]
    bo = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    frac = 1 if magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d') else 1000
    link = struct.unpack(bo + 'I', d[20:24])[0]
    off = 24
    while off + 16 <= len(d):
        sec, sub, cap, _ = struct.unpack(bo + 'IIII', d[off:off + 16])
        yield link, sec * 10 ** 9 + sub * frac, d[off + 16:off + 16 + cap]
        off += 16 + cap


def udp(path):
    """(dport, timestamp ns, payload) of each UDP packet of a capture."""
    for link, ts, p in frames(path):
        if link != 1:
            raise SystemExit('link type %d not handled' % link)
        et, off = struct.unpack('>H', p[12:14])[0], 14
        while et in (0x8100, 0x88a8):
            et, off = struct.unpack('>H', p[off + 2:off + 4])[0], off + 4
        if et != 0x0800 or p[off + 9] != 17:
            continue
        ihl = (p[off] & 15) * 4
        tot = struct.unpack('>H', p[off + 2:off + 4])[0]
        u = off + ihl
        dport, ulen = struct.unpack('>HH', p[u + 2:u + 6])
        end = min(u + ulen, off + tot, len(p))
        yield dport, ts, p[u + 8:end]


def payloads(argv):
    for dport, _, data in udp(argv[0]):
        print('%d %s' % (dport, data.hex()))


def times(argv):
    for _, ts, _ in udp(argv[0]):
        print(ts)


def mold(argv):
    for line in open(argv[0]):
        pkt = bytes.fromhex(line.split()[1])
        seq, count = struct.unpack('>QH', pkt[10:20])
        off = 20
        for i in range(count if count != 0xFFFF else 0):
            ln = struct.unpack('>H', pkt[off:off + 2])[0]
            print('%d %s' % (seq + i, pkt[off + 2:off + 2 + ln].hex()))
            off += 2 + ln


if __name__ == '__main__':
    {'recv': recv, 'payloads': payloads, 'times': times, 'mold': mold}[sys.argv[1]](sys.argv[2:])
