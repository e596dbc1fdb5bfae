#!/usr/bin/env python3
"""Write the seed corpora of the fuzz harnesses into tests/fuzz/corpus/.

usage: mkseeds.py GENCAP   (the path of build/tests/gencap)

The seeds are committed; this script says how they were made and remakes
them.  Each is small (fuzzing is faster on small inputs) and reaches one
path: a format, an encapsulation, an error.  Inputs that once crashed a
harness live in tests/fuzz/crashes/HARNESS/ and are never regenerated.
"""
import gzip
import os
import shutil
import struct
import subprocess
import sys

top = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(top, "corpus")
gencap = sys.argv[1]


def put(harness, name, data):
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- reader: captures ---------------------------------------------------------
tmp = os.path.join(out, ".tmp")
os.makedirs(tmp, exist_ok=True)
caps = {
    "pcap-le-usec": ["-n", "4", "-m", "80"],
    "pcap-be-nsec": ["-n", "4", "-m", "80", "-E", "big", "-N"],
    "pcap-raw": ["-n", "3", "-m", "60", "-l", "101"],
    "pcap-snaplen": ["-n", "3", "-m", "200", "-s", "64"],
    "pcap-snaplen-kept": ["-n", "3", "-m", "200", "-s", "64", "-k"],
    "pcap-backwards": ["-n", "6", "-m", "60", "-b", "2"],
    "ng-le": ["-n", "4", "-m", "80", "-F", "pcapng"],
    "ng-be-nsec": ["-n", "4", "-m", "80", "-F", "pcapng", "-E", "big", "-N"],
    "ng-ifaces": ["-n", "6", "-m", "60", "-F", "pcapng", "-I", "3", "-L", "101"],
    "ng-tsresol": ["-n", "3", "-m", "60", "-F", "pcapng", "-r", "0x83"],
    "ng-tsoffset": ["-n", "3", "-m", "60", "-F", "pcapng", "-O", "100"],
    "ng-spb": ["-n", "3", "-m", "60", "-F", "pcapng", "-P"],
    "ng-extra": ["-n", "3", "-m", "60", "-F", "pcapng", "-x"],
}
for name, args in caps.items():
    p = os.path.join(tmp, name)
    subprocess.run([gencap, *args, "-o", p], check=True)
    data = open(p, "rb").read()
    put("reader", name, data)
    if name in ("pcap-le-usec", "ng-le"):
        put("reader", name + ".gz", gzip.compress(data, mtime=0))
        z = subprocess.run(["zstd", "-q", "-c", p], check=True,
                           capture_output=True).stdout
        put("reader", name + ".zst", z)
    if name == "pcap-le-usec":
        put("reader", name + "-cut", data[:-7])
        put("reader", name + "-garbage",
            data[:24 + 16 + 80] + b"garbage!" * 4 + data[24 + 16 + 80:])
        hdr = bytearray(data)
        struct.pack_into("<I", hdr, 24 + 8, 300000)   # caplen over 256 KiB
        put("reader", name + "-hugecap", bytes(hdr))
    if name == "ng-le":
        put("reader", name + "-cut", data[:-5])
shutil.rmtree(tmp)
put("reader", "empty", b"")
put("reader", "header-only", struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0,
                                         65535, 1))

# ---- dissect: byte 0 linktype index, byte 1 options, packet -------------------
LT = {0: 0, 1: 1, 12: 2, 14: 3, 101: 4, 108: 5, 113: 6, 228: 7, 229: 8,
      276: 9}


def ip4(proto, payload, src=b"\x0a\x00\x00\x01", dst=b"\xc0\x00\x02\x01",
        frag=0, opts=b""):
    ihl = (20 + len(opts)) // 4
    return struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) +
                       len(payload), 0x1234, frag, 64, proto, 0, src,
                       dst) + opts + payload


def ip6(nh, payload, src=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\1",
        dst=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\2"):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nh, 64, src,
                       dst) + payload


udp = struct.pack(">HHHH", 1234, 53, 12, 0) + b"abcd"
tcp = struct.pack(">HHIIHHHH", 80, 40000, 1, 0, 0x5002, 1024, 0, 0)
icmp = b"\x08\x00\x00\x00\x00\x01\x00\x01"
eth = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"


def seed(name, lt, pkt, opt=0):
    put("dissect", name, bytes([LT[lt], opt]) + pkt)


seed("eth-ip4-udp", 1, eth + b"\x08\x00" + ip4(17, udp))
seed("eth-ip4-tcp-both", 1, eth + b"\x08\x00" + ip4(6, tcp), 3)
# the fast path's edges: Ethernet padding after the IP length; ports cut
seed("eth-ip4-udp-padded", 1, eth + b"\x08\x00" + ip4(17, udp) + b"\0" * 14)
seed("eth-ip4-tcp-cut", 1, (eth + b"\x08\x00" + ip4(6, tcp))[:36])
seed("eth-ip4-opts", 1, eth + b"\x08\x00" + ip4(17, udp, opts=b"\x01" * 4))
seed("eth-vlan", 1, eth + b"\x81\x00\x00\x05\x08\x00" + ip4(17, udp))
seed("eth-qinq", 1, eth + b"\x88\xa8\x00\x05\x81\x00\x00\x06\x86\xdd" +
     ip6(17, udp))
seed("eth-mpls", 1, eth + b"\x88\x47\x00\x01\x01\x40" + ip4(1, icmp))
seed("eth-snap", 1, eth + struct.pack(">H", 8 + 28 + len(udp)) +
     b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ip4(17, udp))
seed("eth-arp", 1, eth + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" +
     b"\0" * 20)
seed("eth-ip6-ext", 1, eth + b"\x86\xdd" + ip6(0, b"\x2b\x00" + b"\0" * 6 +
     b"\x3c\x00" + b"\0" * 6 + b"\x11\x00" + b"\0" * 6 + udp))
seed("eth-ip6-ah", 1, eth + b"\x86\xdd" + ip6(51, b"\x06\x04\0\0" + b"\0" * 20
     + tcp))
seed("eth-ip6-frag", 1, eth + b"\x86\xdd" + ip6(44, b"\x11\x00\x00\x01" +
     b"\0\0\0\7" + udp))
seed("eth-ip4-frag-first", 1, eth + b"\x08\x00" + ip4(17, udp, frag=0x2000))
seed("eth-ip4-frag-later", 1, eth + b"\x08\x00" + ip4(17, b"\0" * 8,
     frag=0x0001))
seed("eth-gre-ip4", 1, eth + b"\x08\x00" + ip4(47, b"\xb0\x00\x08\x00" +
     b"\0\0\0\0" + b"\0\0\0\1" + b"\0\0\0\2" + ip4(17, udp)))
seed("eth-gre-eth", 1, eth + b"\x08\x00" + ip4(47, b"\x00\x00\x65\x58" + eth
     + b"\x08\x00" + ip4(6, tcp)))
seed("eth-gre-mpls", 1, eth + b"\x08\x00" + ip4(47, b"\x00\x00\x88\x47" +
     b"\x00\x01\x01\x40" + ip6(17, udp)), 2)
seed("eth-ipip", 1, eth + b"\x08\x00" + ip4(4, ip4(17, udp)), 1)
seed("eth-6in4", 1, eth + b"\x08\x00" + ip4(41, ip6(6, tcp)), 2)
seed("eth-4in6", 1, eth + b"\x86\xdd" + ip6(4, ip4(17, udp)))
seed("raw-ip4", 101, ip4(17, udp))
seed("raw-ip6", 101, ip6(58, b"\x80\0\0\0\0\1\0\1"))
seed("raw12-ip4", 12, ip4(6, tcp))
seed("raw14-ip4", 14, ip4(6, tcp))
seed("ipv4-lt", 228, ip4(17, udp))
seed("ipv6-lt", 229, ip6(17, udp))
seed("sll", 113, b"\x00\x00\x00\x01\x00\x06" + b"\0" * 8 + b"\x08\x00" +
     ip4(17, udp))
seed("sll2", 276, b"\x86\xdd\x00\x00" + b"\0\0\0\1" + b"\x00\x01\x00\x06" +
     b"\0" * 8 + ip6(17, udp))
seed("null-le", 0, b"\x02\x00\x00\x00" + ip4(17, udp))
seed("null-be6", 0, b"\x00\x00\x00\x1e" + ip6(17, udp))
seed("loop", 108, b"\x00\x00\x00\x02" + ip4(17, udp))
seed("truncated", 1, (eth + b"\x08\x00" + ip4(17, udp))[:30])

# ---- filter_v1: byte 0 picks the parser ---------------------------------------
def fv(name, sel, text):
    put("filter_v1", name, bytes([sel]) + text.encode())


fv("json-full", 0, '{"source_address":"10.0.0.0/8","destination_address":'
   '"2001:db8::1","source_port":53,"destination_port":443,"protocol":17}')
fv("json-empty", 0, "{}")
fv("json-float", 0, '{"protocol":6.0}')
fv("json-bad-key", 0, '{"source_adress":"10.0.0.1"}')
fv("capture", 1, '{"success":true,"result":{"id":"x","filter_v1":'
   '{"protocol":6,"destination_port":80}}}')
fv("capture-bare", 1, '{"id":"x","type":"full","filter_v1":{}}')
fv("flag-src", 2 + 0 * 8, "10.1.2.0/24\0" + "udp")  # src then (0>>3)%5=src
fv("flag-v6", 3, "2001:db8::/48")
fv("flag-port", 4, "65535")
fv("flag-proto", 5, "icmp6")
fv("flag-two", 2 + 4 * 8, "192.0.2.1\0tcp")
fv("num-size", 6, "64k")
fv("num-duration", 6, "1500ms")
fv("time-iso", 7, "2023-11-14T22:13:19.123456789Z")
fv("time-epoch", 7, "1700000000.5")

# ---- s3xml ---------------------------------------------------------------------
put("s3xml", "list", b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Name>b</Name><Prefix>pcaps/</Prefix><KeyCount>2</KeyCount>
<MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<NextContinuationToken>tok&amp;1</NextContinuationToken>
<Contents><Key>pcaps/pcap_abc_m1.pcap</Key><Size>1024</Size>
<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>
<ChecksumAlgorithm>CRC32C</ChecksumAlgorithm></Contents>
<Contents><Key>pcaps/sub/pcap_abc_m2.pcap</Key><Size>7</Size>
<ETag>"0123456789abcdef0123456789abcdef-3"</ETag></Contents>
</ListBucketResult>""")
put("s3xml", "error", b"<?xml version=\"1.0\"?><Error><Code>AccessDenied"
    b"</Code><Message>Access Denied</Message></Error>")
put("s3xml", "doctype", b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a "
    b"\"aaaa\">]><ListBucketResult><Contents><Key>&a;</Key></Contents>"
    b"</ListBucketResult>")
put("s3xml", "hostile-keys", b"<ListBucketResult><Contents><Key>../x</Key>"
    b"</Contents><Contents><Key>/etc/x</Key></Contents><Contents><Key>a//b"
    b"</Key></Contents><Contents><Key>a&#x1;b</Key></Contents>"
    b"<IsTruncated>false</IsTruncated></ListBucketResult>")

# ---- apijson: byte 0 = status index + 6 * reader ------------------------------
def aj(name, status, reader, text):
    put("apijson", name, bytes([status + 6 * reader]) + text.encode())


aj("list", 0, 0, '{"success":true,"errors":[],"messages":[],"result":[{"id":'
   '"4f9d1c5e8a0b4d2e9c7f6a5b3e2d1c0f","status":"success","type":"simple",'
   '"submitted":"2023-11-14T22:13:19Z","time_limit":300,"packet_limit":'
   '10000,"system":"magic-transit","filter_v1":{"protocol":6}}],'
   '"result_info":{"page":1,"per_page":20,"count":1,"total_count":1}}')
aj("show-full", 0, 0, '{"success":true,"errors":[],"result":{"id":"a","type":'
   '"full","status":"conversion_pending","colo_name":"ord02","byte_limit":'
   '1000000,"destination_conf":"s3://b/p?region=us-east-1","filter_v1":{'
   '"source_address":"10.0.0.0/8","destination_port":53}}}')
aj("stop-204", 1, 0, "")
aj("error-400", 2, 0, '{"success":false,"errors":[{"code":1000,"message":'
   '"bad request"},{"message":"second"}],"result":null}')
aj("error-429", 4, 0, "rate limited")
aj("false-200", 0, 0, '{"success":false,"errors":[]}')
aj("gcs-list", 0, 1, '{"kind":"storage#objects","nextPageToken":"t","items":'
   '[{"name":"p/pcap_a_m1.pcap","size":"1024","md5Hash":'
   '"1B2M2Y8AsgTpgAmY7PhCfg==","crc32c":"AAAAAA=="},{"name":"../evil",'
   '"size":"1"}]}')
aj("gcs-empty", 0, 1, '{"kind":"storage#objects"}')
aj("b64", 0, 2, "1B2M2Y8AsgTpgAmY7PhCfg==")
