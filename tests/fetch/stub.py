#!/usr/bin/env python3
"""A local stand-in for what Prism cannot mock (tests only, stdlib only).

Serves, on 127.0.0.1:
  /client/v4/accounts/ACCT/pcaps...   the Cloudflare PCAP API, with state:
      captures step through a list of statuses on each GET, the binary
      download honours Range, and faults can be asked for per capture.
  /storage/v1/b/BUCKET/o...            the GCS JSON API (list with paging,
      media download with Range, md5Hash and crc32c), over a directory.

usage: stub.py CONFIG.json PORTFILE
CONFIG: {"account": A, "token": T, "email": E, "key": K,
         "captures": [{"object": {...}, "statuses": [...],
                       "download": FILE, "faults": [...]}],
         "gcs": {"BUCKET": DIR}, "gcs_faults": {"NAME": [...]}}
A fault list is consumed one entry per request: "429" (Retry-After: 1),
"503", "cut" (half the body, then the connection closes), "corrupt"
(one byte flipped), "403", "ok".  "gcs_extra": {NAME: TEXT} adds objects
that cannot be files (names with "..", control characters).
"""
import base64
import hashlib
import http.server
import json
import os
import re
import socketserver
import struct
import sys
import urllib.parse

CONF = json.load(open(sys.argv[1]))
CAPS = {c["object"]["id"]: c for c in CONF.get("captures", [])}
POLLS = {}
LOG = open(sys.argv[2] + ".log", "a")


def crc32c(data):
    crc = 0xFFFFFFFF
    tab = crc32c.tab
    for b in data:
        crc = (crc >> 8) ^ tab[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def _tab():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.tab = _tab()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        LOG.write("%s %s\n" % (self.command, self.path))
        LOG.flush()

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        if code != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if code != 204 and self.command != "HEAD":
            self.wfile.write(body)

    def envelope(self, code, result=None, errors=(), info=None):
        doc = {"success": code < 300, "errors": list(errors),
               "messages": [], "result": result}
        if info is not None:
            doc["result_info"] = info
        self.send(code, json.dumps(doc).encode())

    def authed(self):
        a = self.headers.get("Authorization", "")
        if a == "Bearer " + CONF["token"]:
            return True
        if (self.headers.get("X-Auth-Email") == CONF.get("email") and
                self.headers.get("X-Auth-Key") == CONF.get("key")):
            return True
        self.envelope(401, None, [{"code": 10000,
                                   "message": "Authentication error"}])
        return False

    def fault(self, faults):
        f = faults.pop(0) if faults else "ok"
        if f == "429":
            self.send(429, b'{"success":false,"errors":[{"code":971,'
                      b'"message":"Please wait and consider throttling '
                      b'your request speed"}]}',
                      headers=[("Retry-After", "1")])
            return None
        if f == "503":
            self.send(503, b"upstream unavailable", "text/plain")
            return None
        if f == "403":
            self.send(403, b'{"success":false,"errors":[{"code":10000,'
                      b'"message":"Authentication error"}]}')
            return None
        return f

    def body(self, data, faults, extra=(), gen=None):
        f = self.fault(faults)
        if f is None:
            return
        start = 0
        rng = self.headers.get("Range")
        code = 200
        # The ETag is the MD5 (as S3's for a single-part object); GCS also
        # gives the generation, here the CRC-32C of the bytes.
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        headers = list(extra) + [("ETag", etag)]
        if gen is not None:
            headers.append(("x-goog-generation", str(gen)))
        ir = self.headers.get("If-Range")
        if ir is not None and ir != etag:
            rng = None      # another version: the whole object, 200
        if rng:
            m = re.match(r"bytes=(\d+)-$", rng)
            start = int(m.group(1))
            if start >= len(data):
                self.send(416, b"", "text/plain",
                          [("Content-Range", "bytes */%d" % len(data))])
                return
            code = 206
            headers.append(("Content-Range", "bytes %d-%d/%d" %
                            (start, len(data) - 1, len(data))))
        part = data[start:]
        if f == "corrupt" and part:
            part = bytes([part[0] ^ 0xFF]) + part[1:]
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(part)))
        for k, v in headers:
            self.send_header(k, v)
        if f == "cut":
            self.send_header("Connection", "close")
        self.end_headers()
        if f == "cut":
            self.wfile.write(part[:len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(part)

    # ---- Cloudflare API ------------------------------------------------
    def api(self, method, path, query):
        m = re.match(r"^/client/v4/accounts/([^/]+)/pcaps(/[^/]+)?"
                     r"(/download|/stop)?$", path)
        if not m:
            return self.envelope(404, None, [{"code": 7003,
                                              "message": "No route"}])
        if not self.authed():
            return
        if m.group(1) != CONF["account"]:
            return self.envelope(403, None, [{"code": 10001,
                                              "message": "Forbidden"}])
        pid = m.group(2)[1:] if m.group(2) else None
        tail = m.group(3)
        if pid is None and method == "GET":
            page = int(query.get("page", ["1"])[0])
            per = int(query.get("per_page", ["50"])[0])
            objs = [c["object"] for c in CAPS.values()]
            sl = objs[(page - 1) * per:page * per]
            return self.envelope(200, sl, info={
                "page": page, "per_page": per, "count": len(sl),
                "total_count": len(objs)})
        if pid is None and method == "POST":
            n = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(n))
            obj = dict(req)
            obj.update({"id": "c0ffee%026d" % len(CAPS), "status": "pending",
                        "submitted": "2026-11-23T10:00:00Z"})
            CAPS[obj["id"]] = {"object": obj}
            return self.envelope(200, obj)
        c = CAPS.get(pid)
        if c is None:
            return self.envelope(404, None, [{"code": 1003,
                                              "message": "capture not found"}])
        if tail == "/stop" and method == "PUT":
            return self.send(204)
        if tail == "/download" and method == "GET":
            data = open(c["download"], "rb").read()
            return self.body(data, c.setdefault("faults", []))
        if tail is None and method == "GET":
            f = self.fault(c.setdefault("api_faults", []))
            if f is None:
                return
            st = c.get("statuses")
            if st:
                i = POLLS.get(pid, 0)
                c["object"]["status"] = st[min(i, len(st) - 1)]
                POLLS[pid] = i + 1
            return self.envelope(200, c["object"])
        return self.envelope(405, None, [{"code": 10405,
                                          "message": "Method not allowed"}])

    # ---- GCS JSON API -------------------------------------------------
    def gcs(self, path, query):
        m = re.match(r"^/storage/v1/b/([^/]+)/o(?:/(.+))?$", path)
        if not m or m.group(1) not in CONF.get("gcs", {}):
            return self.send(404, b'{"error":{"code":404,'
                             b'"message":"The specified bucket does not '
                             b'exist."}}')
        root = CONF["gcs"][m.group(1)]
        names = []
        for d, _, fs in os.walk(root):
            for f in fs:
                names.append(os.path.relpath(os.path.join(d, f), root))
        extra = CONF.get("gcs_extra", {})
        names = sorted(names + list(extra))
        if m.group(2) is None:
            prefix = query.get("prefix", [""])[0]
            per = int(query.get("maxResults", ["1000"])[0])
            start = int(query.get("pageToken", ["0"])[0])
            sel = [n for n in names if n.startswith(prefix)]
            items = []
            for n in sel[start:start + per]:
                data = (extra[n].encode() if n in extra else
                        open(os.path.join(root, n), "rb").read())
                items.append({
                    "kind": "storage#object", "name": n,
                    "generation": str(crc32c(data)),
                    "bucket": m.group(1), "size": str(len(data)),
                    "md5Hash": base64.b64encode(
                        hashlib.md5(data).digest()).decode(),
                    "crc32c": base64.b64encode(
                        struct.pack(">I", crc32c(data))).decode()})
            doc = {"kind": "storage#objects", "items": items}
            if start + per < len(sel):
                doc["nextPageToken"] = str(start + per)
            return self.send(200, json.dumps(doc).encode())
        name = urllib.parse.unquote(m.group(2))
        if name not in names or query.get("alt") != ["media"]:
            return self.send(404, b'{"error":{"code":404,'
                             b'"message":"No such object"}}')
        data = (extra[name].encode() if name in extra else
                open(os.path.join(root, name), "rb").read())
        faults = CONF.setdefault("gcs_faults", {}).setdefault(name, [])
        h = "crc32c=%s,md5=%s" % (
            base64.b64encode(struct.pack(">I", crc32c(data))).decode(),
            base64.b64encode(hashlib.md5(data).digest()).decode())
        gen = crc32c(data)
        m = query.get("ifGenerationMatch")
        if m and m[0] != str(gen):
            return self.send(412, b'{"error":{"code":412,'
                             b'"message":"Precondition Failed"}}')
        self.body(data, faults, [("x-goog-hash", h)], gen)

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path.startswith("/client/v4/"):
            return self.api(method, u.path, q)
        if u.path.startswith("/storage/v1/"):
            return self.gcs(u.path, q)
        self.send(404, b"no such path", "text/plain")

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = S(("127.0.0.1", 0), H)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
