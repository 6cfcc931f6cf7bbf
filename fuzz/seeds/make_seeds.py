#!/usr/bin/env python3
"""Writes the hand-made seed inputs into seeds/<target>/.

Each target's input layout is described in its module in src/. Run from
fuzz/: python3 seeds/make_seeds.py (the files are committed; this script
documents how they were made).
"""
import os

def piece(b):
    assert len(b) < 256
    return bytes([len(b)]) + b

def write(target, name, data):
    d = os.path.join("seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# request_head: flags, cut seed piece, bytes
heads = {
    "get": b"GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n",
    "post-cl": b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    "chunked": b"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "te-cl": b"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    "bare-lf": b"\r\n\nGET / HTTP/1.0\nConnection: keep-alive\n\n",
    "obs-fold": b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n",
    "upgrade": b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n\r\n",
    "dup-cl": b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 03\r\n\r\n",
    "http2": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "cookie": b"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=b; c=\"d\"\r\nX:\r\n\r\n",
}
for i, (n, h) in enumerate(heads.items()):
    write("request_head", n, bytes([i & 1]) + piece(bytes([7, 0, 20, 0])) + h)

# chunked: mode, limit/64, cut seed piece, body (mode even) or recipe (odd)
raw = {
    "trailers": b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nExpires: x\r\nX-Sum: 1\r\n\r\nGET / HTTP/1.1\r\n",
    "zeros": b"0004\r\nabcd\r\n00\r\n\r\n",
    "overflow": b"fffffffffffffffff\r\n",
    "bare-lf": b"3\nabc\n0\n\n",
    "trailer-lf": b"1\r\na\r\n0\r\nT: v\n\n",
    "ws": b"2 ;x\r\nab\r\n0\r\n\r\n",
}
for n, b in raw.items():
    write("chunked", n, bytes([0, 4]) + piece(bytes([3, 0, 9, 0])) + b)
recipe = bytes([3, 0x0c]) + piece(b"abc") + bytes([5]) + piece(b"x" * 40) + bytes([2]) + piece(b"") + bytes([2]) + piece(b"Name") + piece(b"val") + piece(b"Other") + piece(b"2")
write("chunked", "recipe", bytes([1, 2]) + piece(bytes([1, 0, 30, 0])) + recipe + b"NEXT")

# post_processor: mode, bufsize byte, boundary/ct piece, cut seed piece, body
url = [b"a=b%20c&d+e=f&x&y=", b"name=%41%4", b"k=" + b"v" * 600 + b"&z=1", b"=z", b"a=1\r\n"]
for i, b in enumerate(url):
    write("post_processor", "url-%d" % i, bytes([0, 0]) + piece(b"") + piece(bytes([5, 0, 1, 0])) + b)
mp = (b"--AaB03x\r\n"
      b"Content-Disposition: form-data; name=\"field1\"\r\n\r\n"
      b"Joe Blow\r\n"
      b"--AaB03x\r\n"
      b"Content-Disposition: form-data; name=\"pics\"\r\n"
      b"Content-Type: multipart/mixed; boundary=BbC04y\r\n\r\n"
      b"--BbC04y\r\n"
      b"Content-Disposition: file; filename=\"file1.txt\"\r\n"
      b"Content-Type: text/plain\r\n\r\n"
      b"... contents of file1.txt ...\r\n"
      b"--BbC04y\r\n"
      b"Content-Disposition: file; filename=\"file2.gif\"\r\n"
      b"Content-Type: image/gif\r\n"
      b"Content-Transfer-Encoding: binary\r\n\r\n"
      b"...contents of file2.gif...\r\n"
      b"--BbC04y--\r\n"
      b"--AaB03x--\r\n")
write("post_processor", "mp-nested", bytes([1, 0]) + piece(b"AaB03x") + piece(bytes([50, 0, 200, 0, 201, 0])) + mp)
mp2 = b"--xy\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\r\nval--x\r\n--xy--\r\n"
write("post_processor", "mp-simple", bytes([2, 0]) + piece(b"xy") + piece(bytes([20, 0])) + mp2)
write("post_processor", "mp-stop", bytes([0x91, 0]) + piece(b"xy") + piece(bytes([20, 0])) + mp2)
write("post_processor", "ct-raw", bytes([3, 0]) + piece(b"multipart/form-data; boundary=\"q\"") + piece(b"") + b"--q\r\n\r\nx\r\n--q--\r\n")

# auth: mode 0 any header (size, key index, header); 1 basic; 2 digest
write("auth", "basic-hdr", bytes([0, 128, 0]) + b"Basic dXNlcjpwYXNz")
write("auth", "digest-hdr", bytes([0, 100, 2]) + b'Digest username="user", realm="realm", nonce="abc", uri="/p", response="00", qop=auth, nc=00000001, cnonce="c"')
write("auth", "basic-rt", bytes([1]) + piece(b"Aladdin") + piece(b"open sesame"))
write("auth", "digest-rt", bytes([2, 0]) + piece(b"user") + piece(b"realm") + piece(b"pw") + piece(b"cn") + piece(b"path") + piece(b"arg") + bytes([1, 0, 0, 0, 9, 0, 0, 0, 44, 1, 3]))
write("auth", "digest-rt-sha", bytes([2, 3]) + piece(b"u") + piece(b"r") + piece(b"") + piece(b"c") + piece(b"") + piece(b"") + bytes([255] * 4 + [255] * 4 + [255, 255, 0]))

# unescape: the bytes
for i, s in enumerate([b"/a%20b+c%2f", b"%41%4%", b"x%00y", b"a=1&b&&=c&d=e=f&", b"%zz%%41", b"k%3D=v%26w"]):
    write("unescape", "s%d" % i, s)

# tls_priorities: mode, string or word picks
for i, s in enumerate([b"NORMAL", b"NORMAL:-VERS-TLS1.3:+AES-128-CBC:+SHA256", b"NONE:+VERS-TLS1.3:+AES-256-GCM:+ECDHE-RSA:+AEAD:-GROUP-ALL:+GROUP-X25519",
                       b"SECURE256:%NO_TICKETS", b"PFS:+PSK", b"@SYSTEM", b"NORMAL:+3DES-CBC", b"PERFORMANCE:-CIPHER-ALL:+CHACHA20-POLY1305"]):
    write("tls_priorities", "s%d" % i, bytes([(i & 1) * 2]) + s)
write("tls_priorities", "words", bytes([1, 0, 1, 0, 9, 1, 38, 0]))

# connection: cfg, memory-limit byte, u16 client length (LE), client bytes, decisions
def conn(name, client, dec=b"", cfg=0, mem=16):
    write("connection", name, bytes([cfg, mem]) + len(client).to_bytes(2, "little") + client + dec)
conn("get-pipelined", b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n")
conn("post-cl", b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", bytes([3, 0, 0, 5, 3, 0, 0, 4, 0, 0, 2, 0, 20, 1]))
conn("chunked-trailers", b"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes([2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 2, 9, 0]))
conn("upgrade", b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: fuzz\r\n\r\nhello upgraded world", bytes([0, 0, 7, 0, 0, 0, 0, 1, 3, 10, 3, 0, 0, 5, 9, 0, 0, 0, 0, 2]))
conn("upgrade-external", b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: fuzz\r\n\r\nping", bytes([0, 0, 0, 0, 7, 0, 0, 0, 5, 4, 1, 1, 2, 7, 0, 1, 0, 0, 0, 0]), cfg=1)
conn("suspend", b"GET /s HTTP/1.1\r\nHost: x\r\n\r\nGET /t HTTP/1.1\r\nHost: x\r\n\r\n", bytes([0, 0, 5, 0, 1, 0, 1, 0, 0, 0, 2, 40, 0]))
conn("http10-unknown-size", b"GET / HTTP/1.0\r\n\r\n", bytes([0, 0, 0, 0, 0, 2, 0, 50, 0, 3]))
conn("chunked-out", b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", bytes([0, 0, 0, 0, 0, 2, 0, 50, 0, 3, 0, 0, 0, 3, 0, 9, 0, 9]))
conn("bad-request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /\x01 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
conn("expect-100", b"PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", bytes([0, 0, 0, 0]), cfg=4)
conn("early-response", b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes([0, 0, 0, 0, 6, 0, 0, 30, 0]))
conn("head-too-big", b"GET /" + b"a" * 1500 + b" HTTP/1.1\r\nHost: x\r\n\r\n", mem=0)
conn("slow-bytes", b"GET /slow HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 60 + b"\r\n\r\n", bytes([1, 1] * 30))
conn("abort", b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes([0, 0, 6]))
