#!/usr/bin/env python3
"""make soak: half an hour of mixed load on two threading modes at once.

One bench/soak_server process per mode (each runs a plain and an HTTPS
daemon of our library) gets traffic from a bounded number of client
threads at a bounded rate: keep-alive and `Connection: close` requests,
pipelined requests, uploads (Content-Length, chunked, `Expect:
100-continue`), fd responses (whole file and an offset range), a chunked
callback response, HTTPS for all of it, and upgraded echo connections
opening and closing; some clients give up in the middle of a download, an
upload or an echo. Every response is checked byte for byte: status line,
framing, body (the upload's answer is the SHA-256 and length the server
computed from what it received).

The server's VmRSS, open fds (/proc/PID/fd) and threads are sampled every
few seconds. After the warm-up RSS must be flat (max - min <= the
tolerance), and once the clients stop, fds and threads must come back to
the idle baseline taken before the load. Errors must be 0. The summary is
printed and written into bench/RESULTS.md between `<!-- soak:start -->` and
`<!-- soak:end -->`; the samples go to build/soak/samples-MODE.csv.
Exit status 0 only if every check passed.

Environment:
  SOAK_MINUTES   duration in minutes (default 30; 1 is a smoke run)
  SOAK_MODES     comma-separated soak_server modes (default epoll,thread)
  SOAK_WORKERS   client threads per mode (default 4)
  SOAK_RATE      operations per second per client thread, at most (default 4)
  SOAK_WARMUP    warm-up minutes (default 3, at most a fifth of the run)
  SOAK_SAMPLE    seconds between samples (default 5)
  SOAK_RSS_TOLERANCE_KIB   allowed RSS max - min after warm-up (default 2048)
  SOAK_NO_RESULTS=1        do not touch bench/RESULTS.md
Python 3 standard library only. Everything talks to 127.0.0.1.
"""

import hashlib
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
BIN = os.path.join(BUILD, "bench")
OUT = os.path.join(BUILD, "soak")
LIBDIR = os.path.join(OUT, "lib")  # a copy: a rebuild cannot touch it
SONAME = "libmicrohttpd.so.12"

MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
MODES = [m for m in os.environ.get("SOAK_MODES", "epoll,thread").split(",")
         if m]
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
RATE = float(os.environ.get("SOAK_RATE", "4"))
WARMUP = min(float(os.environ.get("SOAK_WARMUP", "3")), MINUTES / 5.0)
SAMPLE = float(os.environ.get("SOAK_SAMPLE", "5"))
RSS_TOL_KIB = int(os.environ.get("SOAK_RSS_TOLERANCE_KIB", "2048"))
NO_RESULTS = os.environ.get("SOAK_NO_RESULTS", "") not in ("", "0")

MODE_NAMES = {
    "epoll": "internal epoll",
    "thread": "thread per connection",
    "pool": "thread pool (epoll, 2)",
    "select": "internal select",
    "poll": "internal poll",
}

IO_TIMEOUT = 20.0  # every socket operation; a stall is an error
FILE_SIZE = 1 << 20
PART_OFFSET, PART_SIZE = 4096, 65536
SMALL = b"Hello, world!"
CHUNKED = bytes(ord("a") + i % 26 for i in range(20000))


def log(msg):
    sys.stderr.write("soak: %s\n" % msg)
    sys.stderr.flush()


class Failure(Exception):
    """A response that is not what the server must send."""


# ---------------------------------------------------------------------------
# A minimal HTTP/1.1 client over a plain or TLS socket, strict about framing.

class Conn:
    def __init__(self, port, tls_ctx):
        s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ctx is not None:
            s = tls_ctx.wrap_socket(s, server_hostname="127.0.0.1")
        s.settimeout(IO_TIMEOUT)
        self.sock = s
        self.tls = tls_ctx is not None
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Failure("connection closed early")
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            if len(self.buf) > 16384:
                raise Failure("line too long")
            self._fill()

    def read_head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head, self.buf = self.buf[:i], self.buf[i + 4:]
                break
            if len(self.buf) > 65536:
                raise Failure("head too long")
            self._fill()
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or parts[0] != b"HTTP/1.1":
            raise Failure("bad status line %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise Failure("bad header line %r" % line)
            key = name.strip().lower().decode()
            if key in headers:
                raise Failure("duplicate header %s" % key)
            headers[key] = value.strip().decode("latin-1")
        return int(parts[1]), headers

    def read_response(self):
        status, headers = self.read_head()
        te = headers.get("transfer-encoding")
        if te is not None:
            if te != "chunked" or "content-length" in headers:
                raise Failure("bad framing %r" % headers)
            body = b""
            while True:
                size = int(self.read_line().split(b";")[0], 16)
                if size == 0:
                    while self.read_line() != b"":
                        pass  # trailers
                    break
                body += self.read_exact(size)
                if self.read_line() != b"":
                    raise Failure("chunk not followed by CRLF")
        elif "content-length" in headers:
            body = self.read_exact(int(headers["content-length"]))
        else:
            raise Failure("response without framing %r" % headers)
        return status, headers, body

    def expect_eof(self):
        """After a `Connection: close` response: nothing more, then EOF."""
        if self.buf:
            raise Failure("bytes after a closing response: %r" % self.buf[:40])
        try:
            data = self.sock.recv(1)
        except ssl.SSLEOFError:
            data = b""  # TLS peer closed without close_notify
        if data:
            raise Failure("bytes after a closing response")


def request(method, path, close=False, extra=b""):
    return (b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s\r\n" % (
        method.encode(), path.encode(), extra,
        b"Connection: close\r\n" if close else b""))


# ---------------------------------------------------------------------------
# The operations. Each returns {kind: count} of verified exchanges.

class Client:
    def __init__(self, server, rng):
        self.s = server
        self.rng = rng

    def conn(self, tls):
        return Conn(self.s.tls_port if tls else self.s.plain_port,
                    self.s.tls_ctx if tls else None)

    def check(self, got, want_status, want_body, what, close=False):
        status, headers, body = got
        if status != want_status:
            raise Failure("%s: status %d, want %d" % (what, status,
                                                      want_status))
        if body != want_body:
            raise Failure("%s: body of %d bytes differs (want %d)" % (
                what, len(body), len(want_body)))
        if close and headers.get("connection", "").lower() != "close":
            raise Failure("%s: no Connection: close in %r" % (what, headers))

    def get(self, c, path, close=False):
        c.send(request("GET", path, close))
        want = {"/small": SMALL, "/file": self.s.file_data,
                "/part": self.s.part_data, "/chunked": CHUNKED}[path]
        self.check(c.read_response(), 200, want, "GET " + path, close)
        return "get" + path.replace("/", " ")

    def upload(self, c, close=False):
        rng = self.rng
        n = rng.choice([0, 1, 100, 4096, rng.randrange(1, 600000)])
        body = rng.randbytes(n)
        style = rng.choice(["length", "chunked", "expect"])
        if style == "chunked":
            c.send(request("POST", "/upload", close,
                           b"Transfer-Encoding: chunked\r\n"))
            pos = 0
            out = []
            while pos < n:
                k = min(n - pos, rng.choice([1, 10, 1000, 65536]))
                out.append(b"%x\r\n%s\r\n" % (k, body[pos:pos + k]))
                pos += k
            out.append(b"0\r\n\r\n")
            c.send(b"".join(out))
        elif style == "expect" and n > 0:
            c.send(request("POST", "/upload", close,
                           b"Content-Length: %d\r\nExpect: 100-continue\r\n"
                           % n))
            status, headers = c.read_head()
            if status != 100:
                raise Failure("Expect: status %d, want 100" % status)
            c.send(body)
        else:
            style = "length"
            c.send(request("POST", "/upload", close,
                           b"Content-Length: %d\r\n" % n) + body)
        want = b"%s %d\n" % (hashlib.sha256(body).hexdigest().encode(), n)
        self.check(c.read_response(), 200, want, "POST /upload (%s, %d)" % (
            style, n), close)
        return "upload " + style

    def one(self, c, close=False):
        r = self.rng.random()
        if r < 0.4:
            return self.get(c, "/small", close)
        if r < 0.55:
            return self.get(c, "/part", close)
        if r < 0.65:
            return self.get(c, "/chunked", close)
        if r < 0.75:
            return self.get(c, "/file", close)
        return self.upload(c, close)

    def op_keepalive(self, tls):
        """A few requests on one connection; the last may ask to close."""
        done = {}
        c = self.conn(tls)
        try:
            n = self.rng.randint(1, 8)
            close_last = self.rng.random() < 0.5
            for i in range(n):
                last = close_last and i == n - 1
                k = self.one(c, last)
                done[k] = done.get(k, 0) + 1
            if close_last:
                c.expect_eof()
        finally:
            c.close()
        return done

    def op_close(self, tls):
        c = self.conn(tls)
        try:
            k = self.one(c, True)
            c.expect_eof()
        finally:
            c.close()
        return {k: 1}

    def op_pipeline(self, tls):
        """Three GETs sent at once, answered in order."""
        paths = [self.rng.choice(["/small", "/part", "/chunked"])
                 for _ in range(3)]
        want = {"/small": SMALL, "/part": self.s.part_data,
                "/chunked": CHUNKED}
        c = self.conn(tls)
        try:
            c.send(b"".join(request("GET", p) for p in paths))
            for p in paths:
                self.check(c.read_response(), 200, want[p], "pipelined " + p)
        finally:
            c.close()
        return {"get pipelined": 3}

    def op_upgrade(self, tls):
        """Upgrade to echo, a few messages each echoed exactly, close."""
        c = self.conn(tls)
        try:
            c.send(request("GET", "/echo", False,
                           b"Connection: Upgrade\r\nUpgrade: echo\r\n"))
            status, headers = c.read_head()
            if status != 101 or headers.get("upgrade") != "echo":
                raise Failure("upgrade: status %d %r" % (status, headers))
            for _ in range(self.rng.randint(1, 6)):
                msg = self.rng.randbytes(self.rng.choice(
                    [1, 64, 1000, self.rng.randrange(1, 200000)]))
                c.send(msg)
                if c.read_exact(len(msg)) != msg:
                    raise Failure("upgrade: echo differs")
            if self.rng.random() < 0.3:
                c.send(self.rng.randbytes(5000))  # and leave without reading
        finally:
            c.close()
        return {"upgrade echo": 1}

    def op_abort(self, tls):
        """Give up half-way: in a download, an upload or before a 100."""
        c = self.conn(tls)
        try:
            r = self.rng.random()
            if r < 0.4:
                c.send(request("GET", "/file"))
                status, headers = c.read_head()
                if status != 200:
                    raise Failure("abort: status %d" % status)
                c.read_exact(min(len(c.buf) + 1, 1000))
            elif r < 0.8:
                c.send(request("POST", "/upload", False,
                               b"Content-Length: 200000\r\n")
                       + self.rng.randbytes(self.rng.randrange(0, 100000)))
            else:
                c.send(b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        finally:
            c.close()
        return {"aborted": 1}

    def run_one(self):
        rng = self.rng
        tls = rng.random() < 0.35
        r = rng.random()
        if r < 0.35:
            op = self.op_keepalive
        elif r < 0.6:
            op = self.op_close
        elif r < 0.7:
            op = self.op_pipeline
        elif r < 0.9:
            op = self.op_upgrade
        else:
            op = self.op_abort
        self.current = "%s %s" % ("https" if tls else "http",
                                  op.__name__[3:])
        kinds = op(tls)
        prefix = "https " if tls else "http "
        return {prefix + k: v for k, v in kinds.items()}


# ---------------------------------------------------------------------------
# Servers and sampling.

def proc_sample(pid):
    rss = threads = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return rss, fds, threads


class Server:
    def __init__(self, mode, file_path, file_data):
        self.mode = mode
        self.file_data = file_data
        self.part_data = file_data[PART_OFFSET:PART_OFFSET + PART_SIZE]
        env = dict(os.environ, LD_LIBRARY_PATH=LIBDIR)
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "soak_server"), mode,
             os.path.join(BIN, "cert.pem"), os.path.join(BIN, "key.pem"),
             file_path], stdout=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().split()
        if len(line) != 3 or line[0] != b"READY":
            raise SystemExit("soak: %s server did not start: %r" % (mode,
                                                                    line))
        self.plain_port, self.tls_port = int(line[1]), int(line[2])
        with open("/proc/%d/maps" % self.proc.pid) as f:
            if os.path.join(LIBDIR, SONAME) not in f.read():
                raise SystemExit("soak: %s server did not load %s" % (
                    mode, os.path.join(LIBDIR, SONAME)))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.tls_ctx = ctx
        self.samples = []  # (seconds since start, rss KiB, fds, threads)
        self.counts = {}
        self.errors = []
        self.lock = threading.Lock()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after 30 s"


def worker(server, seed, deadline, stop):
    client = Client(server, random.Random(seed))
    interval = 1.0 / RATE
    next_t = time.monotonic()
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            kinds = client.run_one()
            with server.lock:
                for k, v in kinds.items():
                    server.counts[k] = server.counts.get(k, 0) + v
        except (Failure, OSError, ValueError) as e:
            with server.lock:
                server.errors.append("%.0f s (%s UTC), %s: %s: %s" % (
                    time.monotonic() - START,
                    time.strftime("%H:%M:%S", time.gmtime()),
                    getattr(client, "current", "?"), type(e).__name__, e))
        next_t = max(next_t + interval, time.monotonic() - 1.0)
        delay = next_t - time.monotonic()
        if delay > 0:
            stop.wait(min(delay, 1.0))


def kernel_tcp_oom():
    """How many "TCP: out of memory" lines the kernel log holds (the kernel
    resets sockets then, whoever used up tcp_mem); None if unreadable."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, timeout=5,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.count(b"TCP: out of memory")


def wait_idle(server, baseline, limit=30.0):
    """Bounded wait for fds and threads to come back to the idle baseline
    (thread-per-connection threads and closing sockets take a moment)."""
    end = time.monotonic() + limit
    while True:
        s = proc_sample(server.proc.pid)
        if (s[1], s[2]) == (baseline[1], baseline[2]) or \
                time.monotonic() > end:
            return s
        time.sleep(0.5)


def slope_kib_per_min(points):
    """Least-squares slope of (seconds, KiB) points, KiB per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    if den == 0:
        return 0.0
    return 60.0 * sum((p[0] - mx) * (p[1] - my) for p in points) / den


def analyse(server, baseline, final, exit_code):
    post = [s for s in server.samples if s[0] >= WARMUP * 60]
    rss = [s[1] for s in post]
    r = {
        "mode": server.mode,
        "requests": sum(v for k, v in server.counts.items()
                        if "aborted" not in k),
        "counts": dict(sorted(server.counts.items())),
        "errors": len(server.errors),
        "baseline": baseline,
        "final": final,
        "exit": exit_code,
        "samples": len(server.samples),
        "post_samples": len(post),
        "rss_warm": post[0][1] if post else None,
        "rss_end": post[-1][1] if post else None,
        "rss_min": min(rss) if rss else None,
        "rss_max": max(rss) if rss else None,
        "rss_peak": max(s[1] for s in server.samples),
        "fd_max": max(s[2] for s in server.samples),
        "threads_max": max(s[3] for s in server.samples),
        "slope": slope_kib_per_min([(s[0], s[1]) for s in post]),
    }
    r["drift"] = (r["rss_max"] - r["rss_min"]) if rss else None
    checks = []
    checks.append(("errors 0", r["errors"] == 0))
    checks.append(("RSS max - min after warm-up <= %d KiB" % RSS_TOL_KIB,
                   r["drift"] is not None and r["drift"] <= RSS_TOL_KIB))
    checks.append(("fds back to the idle %d" % baseline[1],
                   final[1] == baseline[1]))
    checks.append(("threads back to the idle %d" % baseline[2],
                   final[2] == baseline[2]))
    checks.append(("server stopped cleanly", exit_code == 0))
    r["checks"] = checks
    r["ok"] = all(ok for _, ok in checks)
    return r


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0) if kib is not None else "—"


def render(results, meta):
    lines = [
        "## Soak (`make soak`, bench/soak.py)",
        "",
        "%s UTC, %.1f minutes (SOAK_MINUTES=%g), modes %s at the same time, "
        "each with %d client threads at most %g operations/s each, run at "
        "`nice -n 10` on a machine shared with other jobs. Warm-up %g min; "
        "RSS, fds and threads sampled every %g s. Library: %s." % (
            meta["date"], meta["elapsed"] / 60.0, MINUTES,
            ", ".join(MODE_NAMES.get(m, m) for m in MODES), WORKERS, RATE,
            WARMUP, SAMPLE, meta["lib"]),
        "",
        "| mode | verified exchanges | aborted on purpose | errors | RSS idle "
        "| RSS at warm-up | RSS at end | RSS max - min after warm-up | slope "
        "| fds idle / max / after | threads idle / max / after | result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- |",
    ]
    for r in results:
        aborted = sum(v for k, v in r["counts"].items() if "aborted" in k)
        lines.append(
            "| %s | %d | %d | %d | %s | %s | %s | %s | %+.1f KiB/min "
            "| %d / %d / %d | %d / %d / %d | %s |" % (
                MODE_NAMES.get(r["mode"], r["mode"]), r["requests"], aborted,
                r["errors"], mib(r["baseline"][0]), mib(r["rss_warm"]),
                mib(r["rss_end"]),
                "%d KiB" % r["drift"] if r["drift"] is not None else "—",
                r["slope"], r["baseline"][1], r["fd_max"], r["final"][1],
                r["baseline"][2], r["threads_max"], r["final"][2],
                "pass" if r["ok"] else "FAIL: " + "; ".join(
                    n for n, ok in r["checks"] if not ok)))
    lines.append("")
    lines.append("Exchanges by kind (each one verified byte for byte):")
    lines.append("")
    kinds = sorted({k for r in results for k in r["counts"]})
    lines.append("| kind | " + " | ".join(
        MODE_NAMES.get(r["mode"], r["mode"]) for r in results) + " |")
    lines.append("| --- |" + " --- |" * len(results))
    for k in kinds:
        lines.append("| %s | %s |" % (k, " | ".join(
            str(r["counts"].get(k, 0)) for r in results)))
    lines.append("")
    lines.append(
        "Flat means: after the warm-up, the largest and smallest RSS sample "
        "differ by at most %d KiB; when the clients stop, open fds and "
        "threads return (within 30 s) to the count the idle server had "
        "before any load; the server exits 0 on SIGTERM. `aborted` "
        "exchanges are clients leaving in the middle of a download, an "
        "upload or a request head (not verified, they test clean-up)."
        % RSS_TOL_KIB)
    if meta["oom"]:
        lines.append("")
        lines.append(
            "The kernel logged `TCP: out of memory` %d time(s) during the run "
            "(tcp_mem exhausted machine-wide; the kernel then resets sockets)."
            % meta["oom"])
    errs = [(r["mode"], e) for r in results for e in r["errors_list"][:10]]
    if errs:
        lines.append("")
    for mode, e in errs:
        lines.append("- %s error: %s" % (mode, e))
    return "\n".join(lines)


def write_results(text):
    path = os.path.join(ROOT, "bench", "RESULTS.md")
    a, b = "<!-- soak:start -->", "<!-- soak:end -->"
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    block = "%s\n%s\n%s" % (a, text, b)
    if a in old and b in old:
        new = old[:old.index(a)] + block + old[old.index(b) + len(b):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(new)


START = time.monotonic()


def main():
    global START
    os.makedirs(LIBDIR, exist_ok=True)
    shutil.copy2(os.path.join(BUILD, SONAME), os.path.join(LIBDIR, SONAME))
    file_data = random.Random(20261204).randbytes(FILE_SIZE)
    file_path = os.path.join(OUT, "file.bin")
    with open(file_path, "wb") as f:
        f.write(file_data)

    oom_before = kernel_tcp_oom()
    servers = [Server(m, file_path, file_data) for m in MODES]
    time.sleep(0.5)
    baselines = [proc_sample(s.proc.pid) for s in servers]
    log("%g min, modes %s, %d workers x %g ops/s each; idle: %s" % (
        MINUTES, ",".join(MODES), WORKERS, RATE,
        ", ".join("%s rss %d KiB fds %d threads %d" % ((s.mode,) + b)
                  for s, b in zip(servers, baselines))))

    START = time.monotonic()
    deadline = START + MINUTES * 60
    stop = threading.Event()
    threads = []
    for si, s in enumerate(servers):
        for w in range(WORKERS):
            t = threading.Thread(target=worker, daemon=True,
                                 args=(s, 1000 * si + w, deadline, stop))
            t.start()
            threads.append(t)

    next_report = START + 60
    while time.monotonic() < deadline:
        now = time.monotonic()
        for s in servers:
            try:
                s.samples.append((now - START,) + proc_sample(s.proc.pid))
            except OSError:
                stop.set()
                raise SystemExit("soak: %s server is gone" % s.mode)
        if now >= next_report:
            next_report += 60
            log("%.0f min: " % ((now - START) / 60) + "; ".join(
                "%s %d exchanges, %d errors, rss %d KiB, fds %d" % (
                    s.mode, sum(s.counts.values()), len(s.errors),
                    s.samples[-1][1], s.samples[-1][2]) for s in servers))
        time.sleep(max(0.0, min(SAMPLE, deadline - time.monotonic())))
    stop.set()
    for t in threads:
        t.join(timeout=2 * IO_TIMEOUT + 10)
    stuck = sum(1 for t in threads if t.is_alive())
    if stuck:
        servers[0].errors.append("%d client threads did not finish" % stuck)

    results = []
    for s, b in zip(servers, baselines):
        final = wait_idle(s, b)
        code = s.stop()
        r = analyse(s, b, final, code)
        r["errors_list"] = list(s.errors)
        results.append(r)
        with open(os.path.join(OUT, "samples-%s.csv" % s.mode), "w") as f:
            f.write("seconds,rss_kib,fds,threads\n")
            for row in s.samples:
                f.write("%.1f,%d,%d,%d\n" % row)
    oom_after = kernel_tcp_oom()
    meta = {
        "oom": (None if oom_before is None or oom_after is None
                else oom_after - oom_before),
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "elapsed": time.monotonic() - START,
        "lib": "our build/%s (copied to build/soak/lib)" % SONAME,
    }
    text = render(results, meta)
    print(text)
    if not NO_RESULTS:
        write_results(text)
        log("wrote the soak section of bench/RESULTS.md")
    ok = all(r["ok"] for r in results)
    log("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
