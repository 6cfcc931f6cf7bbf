#!/usr/bin/env python3
"""Drives hello_server and upgrade_echo (examples-c/) with real clients.

    python3 capi-tests/examples_smoke.py

examples_check.py covers file_server, form_app and external_select (and
the capi-tests' test_websocket_chat covers websocket_chat); this covers the
other two, so that `make check-asan` and `make check-valgrind` run every
example under the sanitizer: hello_server in select, poll and epoll (GET
with an argument, a 200 KiB POST echoed back, a 404, keep-alive), and
upgrade_echo over HTTP and HTTPS in several modes (101, then bytes sent
in several writes come back in order).  Each server is stopped with SIGTERM
and must exit 0 (so LeakSanitizer or valgrind see a clean stop).

Environment: EXAMPLES_BINDIR (default build/examples), EXAMPLES_WRAPPER (a
command put before each program), EXAMPLES_SLOW (factor for every wait).
Prints one PASS/FAIL line per check and "N passed, M failed" last.
"""
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BINDIR = os.path.abspath(os.environ.get("EXAMPLES_BINDIR") or os.path.join(ROOT, "build", "examples"))
WRAPPER = os.environ.get("EXAMPLES_WRAPPER", "").split()
SLOW = float(os.environ.get("EXAMPLES_SLOW") or 1)
TIMEOUT = 10.0 * SLOW
TLS = os.path.join(HERE, "tls")

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + name, flush=True)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, detail), flush=True)
    return ok


class Server:
    def __init__(self, argv):
        self.p = subprocess.Popen(WRAPPER + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        line = b""
        deadline = time.monotonic() + TIMEOUT
        fd = self.p.stdout.fileno()
        while b"\n" not in line:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            d = os.read(fd, 4096)
            if not d:
                break
            line += d
        m = re.search(rb"port (\d+)", line)
        if not m:
            self.kill()
            raise RuntimeError("no port printed: %r, stderr %r" % (line, self.p.stderr.read()[-2000:]))
        self.port = int(m.group(1))

    def stop(self):
        """SIGTERM; returns the exit status (None: did not exit in time) and stderr."""
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, b""
        return rc, self.p.stderr.read()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def connect(port, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    if tls:
        ctx = ssl.create_default_context(cafile=os.path.join(TLS, "ca.pem"))
        ctx.check_hostname = False
        s = ctx.wrap_socket(s)
    return s


def read_response(s, buf=b""):
    """(status code, headers dict, body, rest); Content-Length bodies only."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before the response head: %r" % buf)
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    n = int(hdrs.get("content-length", "0"))
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed in the body")
        buf += d
    return code, hdrs, buf[:n], buf[n:]


def run_hello(mode):
    name = "hello_server[%s]" % mode
    try:
        srv = Server([os.path.join(BINDIR, "hello_server"), "0", mode])
    except Exception as e:  # noqa: BLE001
        check(name + ": start", False, str(e))
        return
    try:
        s = connect(srv.port, False)
        s.sendall(b"GET /hello?name=sanitizer HTTP/1.1\r\nHost: x\r\n\r\n")
        code, _, body, rest = read_response(s)
        check(name + ": GET /hello?name=sanitizer", code == 200 and body == b"Hello, sanitizer!\n",
              "%r %r" % (code, body))
        payload = bytes((i * 7 + 3) & 0xFF for i in range(200 * 1024))
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
        code, _, body, rest = read_response(s, rest)
        check(name + ": POST /echo 200 KiB on the same connection", code == 200 and body == payload,
              "%r, %d bytes" % (code, len(body)))
        s.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        code, _, _, rest = read_response(s, rest)
        check(name + ": 404", code == 404, repr(code))
        s.close()
    except Exception as e:  # noqa: BLE001
        check(name + ": no exception", False, repr(e))
    rc, err = srv.stop()
    check(name + ": SIGTERM: exits 0", rc == 0, "rc=%r stderr=%r" % (rc, err[-2000:]))


def run_upgrade(mode, tls):
    name = "upgrade_echo[%s%s]" % (mode, ", HTTPS" if tls else "")
    argv = [os.path.join(BINDIR, "upgrade_echo"), "0", mode]
    if tls:
        argv += [os.path.join(TLS, "server-chain.pem"), os.path.join(TLS, "server.key")]
    try:
        srv = Server(argv)
    except Exception as e:  # noqa: BLE001
        check(name + ": start", False, str(e))
        return
    try:
        clients = [connect(srv.port, tls) for _ in range(3)]
        for i, s in enumerate(clients):
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    raise EOFError("closed before 101")
                buf += d
            head, _, buf = buf.partition(b"\r\n\r\n")
            ok = head.startswith(b"HTTP/1.1 101")
            sent = b""
            for k in range(20):
                chunk = (b"client %d part %d " % (i, k)) * (k + 1)
                s.sendall(chunk)
                sent += chunk
            while len(buf) < len(sent):
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            check(name + ": client %d: 101, 20 writes echoed in order" % i, ok and buf == sent,
                  "%r, %d of %d bytes" % (head[:40], len(buf), len(sent)))
        for s in clients:
            s.close()
    except Exception as e:  # noqa: BLE001
        check(name + ": no exception", False, repr(e))
    rc, err = srv.stop()
    check(name + ": SIGTERM: exits 0", rc == 0, "rc=%r stderr=%r" % (rc, err[-2000:]))


def main():
    for mode in ("select", "poll", "epoll"):
        run_hello(mode)
    for mode, tls in (("epoll", False), ("thread-per-connection", False), ("pool", True), ("select", True)):
        run_upgrade(mode, tls)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
