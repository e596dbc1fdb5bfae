#!/usr/bin/env python3
"""gentcp - captures of TCP flows with known capture loss, for the tests.

usage: gentcp.py OUT.pcap [SEED]

Writes a classic pcap (Ethernet, microseconds) holding:
  - two-way flows (handshake, data one way, an ACK every two segments, FIN)
    where chosen data segments are left out of the capture: the receiver's
    ACKs cover bytes the capture does not hold;
  - one-way flows (data only, the return path not captured) with segments
    left out: sequence holes;
  - a retransmission and a reordered pair in each flow, which are not loss;
  - one flow whose sequence numbers wrap past 2^32.
Prints, as JSON on stdout, what pcap-summary must measure: acked and
acked_unseen bytes, one-way stream and hole bytes.
"""
import json
import random
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def packet(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0) + payload
    ph = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(ph + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                     6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
    return eth + ip + tcp


SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08
SEG = 1000


def flow(rng, n, two_way, drop, isn, cli, srv, cport, sport, t, want):
    """Packets (time, bytes) of one flow; adds what is measured to want."""
    out = []
    a, b = isn, rng.randrange(1 << 32)

    def emit(pkt):
        nonlocal t
        t += rng.randrange(50, 400)
        out.append((t, pkt))

    if two_way:
        emit(packet(cli, srv, cport, sport, a, 0, SYN, b""))
        emit(packet(srv, cli, sport, cport, b, a + 1, SYN | ACK, b""))
        emit(packet(cli, srv, cport, sport, a + 1, b + 1, ACK, b""))
    seq0 = a + 1 if two_way else a
    segs = []
    for i in range(n):
        segs.append((i, packet(cli, srv, cport, sport, seq0 + i * SEG, b + 1,
                               ACK | PSH, bytes([i & 0xFF]) * SEG)))
    order = list(range(n))
    # a reordered pair and a retransmission, away from the drops
    r = n // 2
    order[r], order[r + 1] = order[r + 1], order[r]
    order.insert(r + 3, r + 2)
    lost = 0
    for k, i in enumerate(order):
        if i in drop and k == order.index(i):
            lost += SEG
        else:
            emit(segs[i][1])
        if two_way and i % 2 == 1 and k == order.index(i):
            # the receiver ACKs everything sent so far
            hi = max(order[:k + 1]) + 1
            emit(packet(srv, cli, sport, cport, b + 1, seq0 + hi * SEG, ACK,
                        b""))
    if two_way:
        fin = seq0 + n * SEG
        emit(packet(cli, srv, cport, sport, fin, b + 1, FIN | ACK, b""))
        emit(packet(srv, cli, sport, cport, b + 1, fin + 1, FIN | ACK, b""))
        emit(packet(cli, srv, cport, sport, fin + 1, b + 2, ACK, b""))
        # client: acked from the SYN's ACK (isn + 1) to the FIN's (fin + 1)
        want["acked"] += n * SEG + 1
        want["acked_unseen"] += lost
        # server: its SYN and FIN, both acked, none lost
        want["acked"] += 1
    else:
        first = min(i for i in range(n) if i not in drop)
        last = max(i for i in range(n) if i not in drop)
        want["stream"] += (last - first + 1) * SEG
        want["stream_holes"] += sum(SEG for i in drop if first < i < last)
    return out


def main():
    path = sys.argv[1]
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    want = {"acked": 0, "acked_unseen": 0, "stream": 0, "stream_holes": 0}
    pkts = []
    t0 = 1700000000 * 1000000
    for f in range(12):
        two_way = f % 2 == 0
        n = 40 + f * 3
        drop = set(rng.sample(range(3, n // 2 - 2), 2)) if f % 3 else set()
        if two_way and f % 4 == 0:
            drop.add(n - 1)		# the last segment: only an ACK shows it
        isn = (1 << 32) - 5 * SEG if f == 4 else rng.randrange(1 << 32)
        cli = [10, 0, f, 1]
        srv = [192, 0, 2, 1 + f]
        pkts += flow(rng, n, two_way, drop, isn, cli, srv, 40000 + f, 443,
                     t0 + f * 20, want)
    pkts.sort(key=lambda p: p[0])
    with open(path, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, p in pkts:
            o.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(p),
                                len(p)))
            o.write(p)
    json.dump(want, sys.stdout, sort_keys=True)
    print()


main()
