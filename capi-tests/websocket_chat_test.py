#!/usr/bin/python3
"""Drives examples-c/websocket_chat with a third-party WebSocket client
(Python's `websockets` package, Debian's python3-websockets) over ws:// and
wss://, in several threading modes.

    websocket_chat_test.py PATH/TO/websocket_chat TLS_DIR

Per server (mode, transport): the HTML page; three clients join and see
each other's join notices; a broadcast reaches everyone (the sender
included) in the same order; a 1 MiB message in one frame and a 3 MiB
message sent in 64 KiB fragments come back intact (the server sends long
messages in 16 KiB fragments); ping/pong; the close handshake with the
client's code echoed (1000 and 4001); a binary message is refused with
close code 1003 and a frame from a client without masking (raw socket)
with 1002; ten clients sending twenty messages each at once all see the
same 200 messages in the same order; SIGTERM with live clients ends the
server cleanly (1001 close to everyone, exit status 0).
Prints one PASS/FAIL line per scenario; exit 0 when all passed.
"""
import asyncio
import os
import random
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
import urllib.request

import websockets

SERVER, TLS_DIR = sys.argv[1], sys.argv[2]
TIMEOUT = 20
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL", what, flush=True)
    return cond


class Server:
    def __init__(self, mode, tls):
        args = [SERVER, "0", mode]
        if tls:
            args += [os.path.join(TLS_DIR, "server-chain.pem"),
                     os.path.join(TLS_DIR, "server.key")]
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        # "websocket_chat: HTTP on port N (mode): open ..."
        self.port = int(line.split(" on port ")[1].split()[0])
        self.tls = tls
        self.ctx = None
        if tls:
            self.ctx = ssl.create_default_context(cafile=os.path.join(TLS_DIR, "ca.pem"))
        scheme = "wss" if tls else "ws"
        self.url = "%s://localhost:%d/chat" % (scheme, self.port)
        self.http = "%s://localhost:%d/" % ("https" if tls else "http", self.port)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -999


async def join(srv, name):
    return await websockets.connect(srv.url + "?name=" + name, ssl=srv.ctx,
                                    max_size=None, open_timeout=TIMEOUT,
                                    close_timeout=TIMEOUT)


async def recv_chat(ws, n=1):
    """The next n chat messages ("[...] ..."), skipping notices."""
    out = []
    while len(out) < n:
        m = await asyncio.wait_for(ws.recv(), TIMEOUT)
        if not m.startswith("* "):
            out.append(m)
    return out


async def recv_until(ws, text):
    seen = []
    while True:
        m = await asyncio.wait_for(ws.recv(), TIMEOUT)
        seen.append(m)
        if m == text:
            return seen


def rnd_text(n, seed):
    r = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " äöü€✓"
    return "".join(r.choice(alphabet) for _ in range(n))


async def scenario_basic(srv):
    a = await join(srv, "alice")
    b = await join(srv, "bob")
    c = await join(srv, "carol")
    for ws in (a, b, c):
        await recv_until(ws, "* carol joined")
    await a.send("hello, everyone")
    for ws in (a, b, c):
        got = await recv_chat(ws)
        check(got == ["[alice] hello, everyone"], "broadcast: %r" % got[:1])
    # a large message in one frame, a larger one in client fragments
    big1 = rnd_text(1024 * 1024, 1)
    await b.send(big1)
    for ws in (a, b, c):
        got = (await recv_chat(ws))[0]
        check(got == "[bob] " + big1, "1 MiB message intact (%d chars)" % len(got))
    big2 = rnd_text(3 * 1024 * 1024, 2)
    await c.send(big2[i:i + 65536] for i in range(0, len(big2), 65536))
    for ws in (a, b, c):
        got = (await recv_chat(ws))[0]
        check(got == "[carol] " + big2, "3 MiB fragmented message intact (%d chars)" % len(got))
    # ping / pong
    t0 = time.monotonic()
    waiter = await a.ping(b"are-you-there")
    await asyncio.wait_for(waiter, TIMEOUT)
    check(time.monotonic() - t0 < 2, "pong took %.2f s" % (time.monotonic() - t0))
    # close handshakes: the server echoes the client's code
    await c.close(4001, "bye")
    check(c.close_code == 4001, "close 4001 echoed, got %r" % c.close_code)
    for ws in (a, b):
        await recv_until(ws, "* carol left")
    # binary messages are refused: 1003
    await b.send(b"\x00\x01binary")
    try:
        await asyncio.wait_for(b.recv(), TIMEOUT)
        while True:
            await asyncio.wait_for(b.recv(), TIMEOUT)
    except websockets.ConnectionClosed:
        pass
    check(b.close_code == 1003, "binary message: close code %r, expected 1003" % b.close_code)
    await recv_until(a, "* bob left")
    await a.close()
    check(a.close_code == 1000, "close 1000 echoed, got %r" % a.close_code)


async def scenario_many(srv):
    n, per = 10, 20
    clients = [await join(srv, "c%d" % i) for i in range(n)]
    for ws in clients:
        await recv_until(ws, "* c%d joined" % (n - 1))

    async def talk(i):
        for k in range(per):
            await clients[i].send("m-%d-%d" % (i, k))

    async def listen(ws):
        return await recv_chat(ws, n * per)

    listeners = [asyncio.ensure_future(listen(ws)) for ws in clients]
    await asyncio.gather(*(talk(i) for i in range(n)))
    results = await asyncio.gather(*listeners)
    expected = sorted("[c%d] m-%d-%d" % (i, i, k) for i in range(n) for k in range(per))
    check(sorted(results[0]) == expected, "every message reached client 0")
    check(all(r == results[0] for r in results), "all clients saw the same order")
    for i in range(n):
        mine = [m for m in results[0] if m.startswith("[c%d] " % i)]
        check(mine == ["[c%d] m-%d-%d" % (i, i, k) for k in range(per)],
              "client %d's messages in the order sent" % i)
    for ws in clients:
        await ws.close()


def raw_unmasked_frame(srv):
    """A client frame without a mask: the server must close with 1002."""
    s = socket.create_connection(("127.0.0.1", srv.port), TIMEOUT)
    if srv.tls:
        s = srv.ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(b"GET /chat?name=raw HTTP/1.1\r\nHost: localhost\r\n"
              b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 101 "), "raw handshake: %r" % head[:40])
    # RFC 6455's own example key and accept value
    check(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, "Sec-WebSocket-Accept of the RFC example")
    s.sendall(b"\x81\x05hello")          # text frame, not masked
    data = rest
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    # skip the join notice; find the close frame
    i, code = 0, None
    while i + 2 <= len(data):
        op, ln = data[i] & 0x0F, data[i + 1] & 0x7F
        if op == 0x8 and ln >= 2:
            code = int.from_bytes(data[i + 2:i + 4], "big")
            break
        i += 2 + ln
    check(code == 1002, "unmasked frame: close code %r, expected 1002" % code)
    s.close()


async def scenario_stop(srv):
    a = await join(srv, "last")
    await recv_until(a, "* last joined")
    rc = srv.stop()
    check(rc == 0, "server exit status %r after SIGTERM" % rc)
    try:
        while True:
            await asyncio.wait_for(a.recv(), TIMEOUT)
    except websockets.ConnectionClosed:
        pass
    check(a.close_code == 1001, "server stop: close code %r, expected 1001" % a.close_code)


def run(mode, tls):
    global failures
    before = failures
    srv = Server(mode, tls)
    label = "%s %s" % ("wss" if tls else "ws", mode)
    try:
        ctx = srv.ctx
        page = urllib.request.urlopen(srv.http, timeout=TIMEOUT, context=ctx).read().decode()
        check("new WebSocket(" in page, "%s: the HTML page" % label)
        asyncio.run(asyncio.wait_for(scenario_basic(srv), 120))
        asyncio.run(asyncio.wait_for(scenario_many(srv), 120))
        raw_unmasked_frame(srv)
        asyncio.run(asyncio.wait_for(scenario_stop(srv), 60))
    except Exception as e:  # any exception is a failure of this server run
        failures += 1
        print("FAIL %s: %s: %r" % (label, type(e).__name__, e), flush=True)
    finally:
        if srv.p.poll() is None:
            srv.stop()
    print("%s %s" % ("PASS" if failures == before else "FAIL", label), flush=True)


def main():
    print("websockets %s" % websockets.__version__, flush=True)
    for mode, tls in (("epoll", False), ("thread-per-connection", True),
                      ("external", False), ("pool", True), ("select", False)):
        run(mode, tls)
    print("%s" % ("all passed" if failures == 0 else "%d failure(s)" % failures))
    sys.exit(0 if failures == 0 else 1)


main()
