#!/usr/bin/env python3
"""A hostile or broken server for pcap-fetch's tests (stdlib only).

usage: hostile.py PORTFILE TRAPPORTFILE

Serves on 127.0.0.1 (port written to PORTFILE) the Cloudflare PCAP API and
the GCS JSON API, each misbehaving in one way per account or bucket; and a
second listener, the trap (port in TRAPPORTFILE), that only counts the
connections it is offered (in TRAPPORTFILE.count), for the cases where
pcap-fetch must not connect at all.  Requests are logged to PORTFILE.log.

API accounts (32 hex digits, the first letter says the behaviour):
  a...  list: 1,000 captures a page whatever was asked, total_count 10^12,
        per_page 1
  b...  list: exactly the page size asked for, forever (total_count 10^12)
  c...  strings with terminal escapes: ids, statuses, colo names,
        error_message (GET of a capture: status failed)
  d...  GET of a capture drips one byte every 0.5 s
  e...  GET of capture N: a full capture whose destination_conf is
        DESTS[N % len(DESTS)] below, {trap} replaced by the trap's port
  f...  a simple capture (packet_limit 10) whose download never ends
  1...  needs Authorization: Bearer TOKEN (environment, any length)
S3 (path style, AWS_ENDPOINT_URL): bucket s3cycle, tokens A, B, A, B...
GCS buckets:
  cycle      page tokens A, B, A, B...
  endless    a new page token forever, maxResults objects a page
  million    KEYS (environment, default 1,000,000) objects, 1,000 a page
  longbody   one object listed as 10 bytes whose body never ends (no length)
  longcl     one object listed as 10 bytes with Content-Length 10^12
  gone       one object listed, whose GET is 404
  versions   one object, version 2 now: honours If-Range (200 on mismatch)
  ignoring   the same, but ignores If-Range: 206 from the asked byte
  nochecksum the same, with no ETag, generation, MD5 or CRC at all
  escape     keys with terminal escapes (ESC, and the C1 CSI U+009B)
  drip       one object whose body drips one byte every 0.5 s
"""
import hashlib
import http.server
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

PORTFILE, TRAPFILE = sys.argv[1], sys.argv[2]
LOG = open(PORTFILE + ".log", "a")
KEYS = int(os.environ.get("KEYS", "1000000"))
V1 = bytes(range(256)) * 40          # the old version of an object
V2 = bytes(255 - (i % 256) for i in range(10240))   # the new one
ESC = "\x1b[31mRED\x1b[0m"
CSI = "\u009b2J"
TRAP = {"port": 0, "count": 0}
# Each would steer a signed request to the trap if it were taken as given.
DESTS = ["s3://bkt/dir?region=x@127.0.0.1:{trap}/",
         "s3://bkt@127.0.0.1:{trap}/dir",
         "http://127.0.0.1:{trap}/dir",
         "s3://bkt/dir?region=eu-west-1&endpoint=127.0.0.1:{trap}",
         "gs://bkt:{trap}/dir",
         "r2://bkt/dir?account-id=127.0.0.1:{trap}",
         "s3://bkt/dir?region=us-east-1.127.0.0.1.nip.io:{trap}"]


def cap(i, **kw):
    c = {"id": "%032x" % i, "type": "full", "status": "success",
         "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
         "time_limit": 300, "colo_name": "ord02"}
    c.update(kw)
    return c


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        LOG.write("%s %s\n" % (self.command, self.path))
        LOG.flush()

    def send(self, code, body=b"", headers=(), ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def envelope(self, result, info=None, code=200):
        doc = {"success": code < 300, "errors": [], "messages": [],
               "result": result}
        if info is not None:
            doc["result_info"] = info
        self.send(code, json.dumps(doc).encode())

    def forever(self, length=None, drip=False):
        """A body that never ends (until the client goes away)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"\xa1\xb2\xc3\xd4" * (1 if drip else 16384)
        try:
            while True:
                self.wfile.write(chunk[:1] if drip else chunk)
                self.wfile.flush()
                if drip:
                    time.sleep(0.5)
        except OSError:
            pass

    # ---- the API -------------------------------------------------------
    def api(self, path, q):
        m = re.match(r"^/client/v4/accounts/([0-9a-f]{32})/pcaps"
                     r"(?:/([0-9a-f]{32}))?(/download)?$", path)
        if not m:
            return self.envelope(None, code=404)
        acct, pid, dl = m.group(1), m.group(2), m.group(3)
        kind = acct[0]
        page = int(q.get("page", ["1"])[0])
        per = int(q.get("per_page", ["50"])[0])
        if kind == "1":
            if self.headers.get("Authorization") != \
                    "Bearer " + os.environ.get("TOKEN", ""):
                return self.envelope(None, code=401)
            return self.envelope([cap(1)] if pid is None else cap(1))
        if pid is None:
            if kind == "a":
                return self.envelope(
                    [cap(page * 1000 + i) for i in range(1000)],
                    {"page": page, "per_page": 1, "count": 1000,
                     "total_count": 10 ** 12})
            if kind == "b":
                return self.envelope(
                    [cap(page * per + i) for i in range(per)],
                    {"page": page, "per_page": per, "count": per,
                     "total_count": 10 ** 12})
            if kind == "c":
                return self.envelope(
                    [cap(1, status=ESC, colo_name=CSI, type=ESC)],
                    {"page": 1, "per_page": per, "count": 1,
                     "total_count": 1})
            return self.envelope([])
        if kind == "c":
            return self.envelope(cap(int(pid, 16), status="failed",
                                     colo_name=ESC,
                                     error_message="bad " + ESC + CSI))
        if kind == "d":
            body = json.dumps({"success": True, "errors": [], "messages": [],
                               "result": cap(int(pid, 16),
                                             status="running")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for b in body:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return
        if kind == "e":
            dest = DESTS[int(pid, 16) % len(DESTS)].replace(
                "{trap}", str(TRAP["port"]))
            return self.envelope(cap(int(pid, 16), destination_conf=dest))
        if kind == "f":
            if dl:
                return self.forever()
            return self.envelope(cap(int(pid, 16), type="simple",
                                     packet_limit=10))
        return self.envelope(None, code=404)

    # ---- GCS -----------------------------------------------------------
    def gcs_list(self, bucket, q):
        tok = q.get("pageToken", [""])[0]
        per = int(q.get("maxResults", ["1000"])[0])
        items, nxt = [], None
        if bucket == "cycle":
            items = [{"name": "caps/pcap_%s.pcap" % (tok or "0"),
                      "size": "10"}]
            nxt = {"": "A", "A": "B", "B": "A"}[tok]
        elif bucket == "endless":
            n = int(tok or "0")
            items = [{"name": "caps/pcap_%09d.pcap" % (n * per + i),
                      "size": "10"} for i in range(per)]
            nxt = str(n + 1)
        elif bucket == "million":
            n = int(tok or "0")
            items = [{"name": "caps/2026/eu/pcap_%032x_m%07d.pcap" % (7, k),
                      "size": "123456", "md5Hash": "JfnnlDI7RTiF9RgfG2JNCw==",
                      "crc32c": "4waSgw==", "generation": "1700000000000000"}
                     for k in range(n, min(n + 1000, KEYS))]
            if n + 1000 < KEYS:
                nxt = str(n + 1000)
        elif bucket in ("longbody", "longcl", "gone", "drip"):
            items = [{"name": "caps/a.pcap",
                      "size": "1000" if bucket == "drip" else "10"}]
        elif bucket in ("versions", "ignoring"):
            items = [{"name": "caps/v.pcap", "size": str(len(V2)),
                      "generation": "2"}]
        elif bucket == "nochecksum":
            items = [{"name": "caps/v.pcap", "size": str(len(V2))}]
        elif bucket == "escape":
            items = [{"name": "caps/" + ESC + ".pcap", "size": "10"},
                     {"name": "caps/" + CSI + ".pcap", "size": "10"}]
        doc = {"kind": "storage#objects", "items": items}
        if nxt is not None:
            doc["nextPageToken"] = nxt
        self.send(200, json.dumps(doc).encode())

    def gcs_get(self, bucket, name, q):
        if bucket == "longbody":
            return self.forever()
        if bucket == "longcl":
            return self.forever(length=10 ** 12)
        if bucket == "drip":
            return self.forever(length=1000, drip=True)
        if bucket == "gone":
            return self.send(404, b'{"error":{"code":404,'
                             b'"message":"No such object"}}')
        if bucket == "escape":
            return self.send(200, b"0123456789",
                             ctype="application/octet-stream")
        etag = '"%s"' % hashlib.md5(V2).hexdigest()
        hdrs = []
        if bucket != "nochecksum":
            hdrs = [("ETag", etag), ("x-goog-generation", "2")]
        rng = self.headers.get("Range")
        ir = self.headers.get("If-Range")
        if bucket == "versions" and ir is not None and ir != etag:
            rng = None
        if q.get("ifGenerationMatch", ["2"])[0] != "2" and \
                bucket == "versions":
            return self.send(412, b'{"error":{"code":412}}')
        if rng:
            start = int(re.match(r"bytes=(\d+)-$", rng).group(1))
            hdrs.append(("Content-Range", "bytes %d-%d/%d" %
                         (start, len(V2) - 1, len(V2))))
            self.send_response(206)
            self.send_header("Content-Length", str(len(V2) - start))
            for k, v in hdrs:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(V2[start:])
            return
        self.send(200, V2, hdrs, "application/octet-stream")

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path.startswith("/client/v4/"):
            return self.api(u.path, q)
        if u.path == "/s3cycle":
            tok = q.get("continuation-token", [""])[0]
            nxt = {"": "A", "A": "B", "B": "A"}[tok]
            return self.send(200, (
                "<?xml version=\"1.0\"?><ListBucketResult>"
                "<IsTruncated>true</IsTruncated>"
                "<NextContinuationToken>%s</NextContinuationToken>"
                "<Contents><Key>caps/x%s</Key><Size>1</Size></Contents>"
                "</ListBucketResult>" % (nxt, tok)).encode(),
                ctype="application/xml")
        m = re.match(r"^/storage/v1/b/([^/]+)/o(?:/(.+))?$", u.path)
        if m and m.group(2) is None:
            return self.gcs_list(m.group(1), q)
        if m:
            return self.gcs_get(m.group(1), urllib.parse.unquote(m.group(2)),
                                q)
        self.send(404, b"no such path", ctype="text/plain")


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def trap(sock):
    while True:
        c, _ = sock.accept()
        TRAP["count"] += 1
        with open(TRAPFILE + ".count", "w") as f:
            f.write(str(TRAP["count"]))
        c.close()


t = socket.socket()
t.bind(("0.0.0.0", 0))
t.listen(16)
TRAP["port"] = t.getsockname()[1]
with open(TRAPFILE + ".count", "w") as f:
    f.write("0")
threading.Thread(target=trap, args=(t,), daemon=True).start()
srv = S(("127.0.0.1", 0), H)
for path, port in ((TRAPFILE, TRAP["port"]),
                   (PORTFILE, srv.server_address[1])):
    with open(path + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(path + ".tmp", path)
srv.serve_forever()
