#!/usr/bin/env python3
"""make bench's S3 stand-in: serves the files of one directory as the
objects of one bucket, path-style, so that pcap-fetch and aws-cli are timed
against a server that is not the bottleneck (s3rver, one Node process, was).

    benchserve.py DIR BUCKET PORTFILE

ListObjectsV2 (prefix, max-keys, continuation), GetObject and HeadObject,
with Range (aws-cli fetches large objects in 8 MiB parts).  Bodies go out
with sendfile(2), one thread per connection, HTTP/1.1 keep-alive.  The
ETag is each file's MD5 (computed once, cached beside the files), so both
clients verify what they get.  Requests are not authenticated: a bench
server on 127.0.0.1, never anything else.
"""
import hashlib
import http.server
import json
import os
import socketserver
import sys
import time
import urllib.parse
from email.utils import formatdate
from xml.sax.saxutils import escape

ROOT, BUCKET, PORTFILE = sys.argv[1], sys.argv[2], sys.argv[3]


def load_objects():
    cache = os.path.join(ROOT, '.md5.json')
    try:
        with open(cache) as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    objs = {}
    for dirpath, _, files in os.walk(ROOT):
        for n in sorted(files):
            if n.startswith('.'):
                continue
            path = os.path.join(dirpath, n)
            key = os.path.relpath(path, ROOT)
            st = os.stat(path)
            tag = '%d:%d' % (st.st_size, st.st_mtime_ns)
            if key in old and old[key][0] == tag:
                md5 = old[key][1]
            else:
                h = hashlib.md5()
                with open(path, 'rb') as f:
                    for b in iter(lambda: f.read(1 << 20), b''):
                        h.update(b)
                md5 = h.hexdigest()
            objs[key] = (path, st.st_size, md5, tag, st.st_mtime)
    with open(cache, 'w') as f:
        json.dump({k: [v[3], v[2]] for k, v in objs.items()}, f)
    return objs


OBJS = load_objects()
KEYS = sorted(OBJS)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def reply(self, code, body=b'', ctype='application/xml', extra=()):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(u.path).lstrip('/')
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        bucket, _, key = path.partition('/')
        if bucket != BUCKET:
            return self.reply(404, b'<Error><Code>NoSuchBucket</Code></Error>')
        if key == '':
            return self.list(q)
        if key not in OBJS:
            return self.reply(404, b'<Error><Code>NoSuchKey</Code></Error>')
        fpath, size, md5, _, mtime = OBJS[key]
        start, end, code = 0, size - 1, 200
        rng = self.headers.get('Range')
        if rng and rng.startswith('bytes='):
            a, _, b = rng[6:].partition('-')
            if a == '':
                start = max(0, size - int(b))
            else:
                start = int(a)
                end = min(size - 1, int(b)) if b else size - 1
            if start >= size:
                return self.reply(416, b'')
            code = 206
        n = end - start + 1
        self.send_response(code)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(n))
        self.send_header('ETag', '"%s"' % md5)
        self.send_header('Last-Modified', formatdate(mtime, usegmt=True))
        self.send_header('Accept-Ranges', 'bytes')
        if code == 206:
            self.send_header('Content-Range',
                             'bytes %d-%d/%d' % (start, end, size))
        self.end_headers()
        if self.command == 'HEAD':
            return
        self.wfile.flush()
        with open(fpath, 'rb') as f:
            off, left = start, n
            while left > 0:
                sent = os.sendfile(self.connection.fileno(), f.fileno(),
                                   off, min(left, 1 << 30))
                if sent == 0:
                    break
                off += sent
                left -= sent

    def list(self, q):
        prefix = q.get('prefix', '')
        maxk = int(q.get('max-keys', '1000'))
        after = q.get('continuation-token') or q.get('start-after', '')
        keys = [k for k in KEYS if k.startswith(prefix) and k > after]
        page, more = keys[:maxk], len(keys) > maxk
        x = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix>'
             '<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>'
             '<IsTruncated>%s</IsTruncated>'
             % (BUCKET, escape(prefix), len(page), maxk,
                'true' if more else 'false')]
        if more:
            x.append('<NextContinuationToken>%s</NextContinuationToken>'
                     % escape(page[-1]))
        for k in page:
            _, size, md5, _, mtime = OBJS[k]
            x.append('<Contents><Key>%s</Key><LastModified>%s</LastModified>'
                     '<ETag>"%s"</ETag><Size>%d</Size>'
                     '<StorageClass>STANDARD</StorageClass></Contents>'
                     % (escape(k), time.strftime('%Y-%m-%dT%H:%M:%S.000Z',
                                                 time.gmtime(mtime)),
                        md5, size))
        x.append('</ListBucketResult>')
        self.reply(200, ''.join(x).encode())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


srv = Server(('127.0.0.1', 0), Handler)
with open(PORTFILE + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + '.tmp', PORTFILE)
srv.serve_forever()
