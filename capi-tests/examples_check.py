#!/usr/bin/env python3
"""Runs the example programs of examples-c/ with real clients, both ways.

    python3 capi-tests/examples_check.py [-k SUBSTRING]   (from anywhere)

Programs: file_server, form_app, external_select.  Three runs, with the
same checks in each:

  ours    built against include/microhttpd.h, linked to build/libmicrohttpd.so.12
          (build/examples/, as `make examples` builds them)
  ref     built against Debian's /usr/include/microhttpd.h and linked to
          Debian's libmicrohttpd.so.12 (build/examples-ref/)
  dropin  the ref binaries with LD_LIBRARY_PATH=build (binary drop-in)

Each program is started on a free loopback port (it prints the port; the
port is then polled), /proc/PID/maps tells which library it loaded, and
the clients (raw sockets, a digest client written here, curl) check status
lines, header sets and values, and body bytes.  Prints one PASS/FAIL line
per check and ends with "N passed, M failed"; exit status 1 on failure.
-k reports only the checks whose "run program: check" name contains SUBSTRING
(every check still runs: later checks depend on the state earlier ones left).

Environment (used by `make check-asan` and `make check-valgrind`):
  EXAMPLES_BINDIR   where the "ours" binaries are (default build/examples);
                    they are built there only when missing
  EXAMPLES_RUNS     comma list of runs (ours,ref,dropin; default all three)
  EXAMPLES_PROGRAMS comma list of programs (default all three)
  EXAMPLES_WRAPPER  a command put before each program, e.g. "valgrind -q"
  EXAMPLES_SLOW     factor for every wait (default 1; e.g. 10 under valgrind)
"""
import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
EXAMPLES = ["file_server", "form_app", "external_select"]
PROGRAMS = [p for p in (os.environ.get("EXAMPLES_PROGRAMS") or ",".join(EXAMPLES)).split(",") if p]
RUNS = [r for r in (os.environ.get("EXAMPLES_RUNS") or "ours,ref,dropin").split(",") if r]
OURS_DIR = os.path.abspath(os.environ.get("EXAMPLES_BINDIR") or os.path.join(BUILD, "examples"))
DEBIAN_LIBDIR = "/usr/lib/x86_64-linux-gnu"
CC = os.environ.get("CC", "cc")
# The Makefile's flags for examples, minus the include and library paths.
CFLAGS = ["-O2", "-g", "-Wall", "-Wextra", "-Werror"]
SLOW = float(os.environ.get("EXAMPLES_SLOW") or 1)
TIMEOUT = 10.0 * SLOW  # seconds: any single wait (start, response, exit)
WRAPPER = os.environ.get("EXAMPLES_WRAPPER", "").split()

passed = 0
failed = 0
known = 0
only = None

# Where our library differs from Debian's 0.9.75 on purpose (README,
# "Intended differences"): the checks whose name contains a key describe
# 0.9.75's behaviour. On our library (runs "ours" and "dropin") such a check
# must fail, which is counted as a pass of our behaviour; if it passed, our
# behaviour changed and that is a failure. The reference run checks them like
# any other.
FIRST_CALL_CLOSE = "answered on the handler's first call: Connection: close, closed"
KNOWN_DIFFS = {
    FIRST_CALL_CLOSE:
        "a request without a body that the access handler answers on its first call "
        "(MHD_queue_response before returning from the first call): 0.9.75 adds "
        "'Connection: close' and closes the connection after the response; ours keeps it "
        "alive, as nothing of the request is left unread (src/conn/mod.rs: `early` only "
        "while a body is still to come)",
}


def result(ok, name, detail=""):
    global passed, failed, known
    if only is not None and only not in name:
        return ok
    diff = next((v for k, v in KNOWN_DIFFS.items() if k in name), None)
    if diff is not None and not name.startswith("ref "):
        if ok:
            failed += 1
            print("FAIL " + name + ": behaves like 0.9.75, but ours is meant to differ: " + diff,
                  flush=True)
        else:
            passed += 1
            known += 1
            print("PASS " + name + " (intended difference from 0.9.75: " + detail + ")", flush=True)
        return ok
    if ok:
        passed += 1
        print("PASS " + name, flush=True)
    else:
        failed += 1
        print("FAIL " + name + (": " + detail if detail else ""), flush=True)
    return ok


# --------------------------------------------------------------------------
# HTTP over a raw socket: exact bytes out, exact bytes in.

class Resp:
    def __init__(self, status, headers, body):
        self.status = status            # "HTTP/1.1 200 OK"
        self.code = int(status.split()[1])
        self.headers = headers          # [(lowercase name, value)]
        self.body = body

    def h(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def names(self):
        return sorted(k for k, _ in self.headers)

    def __repr__(self):
        return "%r %r %r" % (self.status, self.headers, self.body[:200])


class Conn:
    def __init__(self, port, timeout=TIMEOUT):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(1 << 16)
        if not d:
            raise EOFError("connection closed by the server")
        self.buf += d

    def read_until(self, sep):
        while sep not in self.buf:
            self._fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_n(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_to_eof(self):
        try:
            while True:
                self._fill()
        except EOFError:
            pass
        out, self.buf = self.buf, b""
        return out

    def response(self, head=False):
        raw = self.read_until(b"\r\n\r\n")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        r = Resp(lines[0], headers, b"")
        te = r.h("transfer-encoding")
        cl = r.h("content-length")
        if head or r.code in (204, 304) or 100 <= r.code < 200:
            pass
        elif te is not None and te.lower() == "chunked":
            body = b""
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    while self.read_until(b"\r\n") != b"\r\n":
                        pass  # trailer fields
                    break
                body += self.read_n(size)
                self.read_n(2)
            r.body = body
        elif cl is not None:
            r.body = self.read_n(int(cl))
        else:
            r.body = self.read_to_eof()
        return r

    def closed_by_server(self, wait=TIMEOUT):
        """True when the server closes the connection (and sends nothing
        more) within WAIT seconds."""
        if self.buf:
            return False
        self.s.settimeout(wait)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        finally:
            self.s.settimeout(TIMEOUT)


def req(method, target, headers=(), body=b"", version="HTTP/1.1", port=None):
    lines = ["%s %s %s" % (method, target, version)]
    if version == "HTTP/1.1":
        lines.append("Host: 127.0.0.1:%d" % port)
    lines.extend(headers)
    if body or method in ("POST", "PUT"):
        if not any(h.lower().startswith(("content-length:", "transfer-encoding:"))
                   for h in headers):
            lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def fetch(port, method, target, headers=(), body=b"", version="HTTP/1.1", probe=None):
    """One request on a new connection; returns (Resp, closed afterwards).
    PROBE "open" or "closed" is what the caller expects of the connection
    after the response: "closed" waits up to half a second for the server
    to close it (a server under load may take a moment; external_select's
    idle timeout is 1 s), "open" a quarter of a second; without PROBE
    closed is None."""
    c = Conn(port)
    try:
        try:
            c.send(req(method, target, headers, body, version, port))
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the whole body went out
        r = c.response(head=(method == "HEAD"))
        if probe is None:
            return r, None
        return r, c.closed_by_server(wait=(0.5 if probe == "closed" else 0.25) * SLOW)
    finally:
        c.close()


def http_date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


# --------------------------------------------------------------------------
# The programs under test.

class Server:
    """One program started on port 0: reads the port it prints, polls it,
    reads which libmicrohttpd it mapped."""

    def __init__(self, argv, env, stdin=False):
        self.argv = argv
        self.p = subprocess.Popen(WRAPPER + argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.out = b""
        self.port = None
        line = self.read_line(TIMEOUT)
        m = re.search(rb"127\.0\.0\.1:(\d+)/", line or b"")
        if not m:
            self.kill()
            raise RuntimeError("%s printed no port: %r, stderr %r"
                               % (argv[0], line, self.p.stderr.read()))
        self.port = int(m.group(1))
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.p.poll() is not None:
                    self.kill()
                    raise RuntimeError("%s: port %d never accepted" % (argv[0], self.port))
                time.sleep(0.02)

    def read_line(self, timeout):
        """The next line of its stdout, or None after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.out:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            d = os.read(fd, 4096)
            if not d:
                return None
            self.out += d
        line, _, self.out = self.out.partition(b"\n")
        return line

    def libraries(self):
        paths = set()
        with open("/proc/%d/maps" % self.p.pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and "libmicrohttpd" in parts[5]:
                    paths.add(parts[5])
        return paths

    def stop(self, how="SIGTERM"):
        """Asks it to stop; returns (exit status or None, rest of stdout)."""
        if how == "SIGTERM":
            self.p.send_signal(signal.SIGTERM)
        else:
            self.p.stdin.write(how.encode() + b"\n")
            self.p.stdin.flush()
        try:
            rc = self.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, b""
        rest = self.out + self.p.stdout.read()
        return rc, rest

    def post_mortem(self):
        """How the program ended, if it did, and the end of its stderr."""
        try:
            rc = self.p.wait(0.5)
        except subprocess.TimeoutExpired:
            return "still running"
        err = self.p.stderr.read()[-400:].decode("latin-1", "replace")
        what = ("killed by signal %d" % -rc) if rc < 0 else ("exited %d" % rc)
        return "%s, stderr: %r" % (what, err)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


# --------------------------------------------------------------------------
# file_server

FILE_MTIME = 1700000000  # Tue, 14 Nov 2023 22:13:20 GMT


def make_docroot(top):
    rnd = random.Random(12)
    files = {
        "index.html": b"<!DOCTYPE html>\n<title>files</title>\n<p>Hello from file_server.</p>\n",
        "big.bin": rnd.randbytes(3 * 1024 * 1024),
        "notes.txt": b"one\ntwo\nthree\n",
        "empty.txt": b"",
        "hello world.txt": b"spaces are fine\n",
        "style.css": b"body { color: #333; }\n",
        "sub/index.html": b"<p>sub directory</p>\n",
        ".secret": b"not for you\n",
    }
    for name, data in files.items():
        path = os.path.join(top, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (FILE_MTIME, FILE_MTIME))
    return files


def check_file_server(t, port, files):
    big = files["big.bin"]
    n = len(big)
    lm = http_date(FILE_MTIME)
    file_names = ["accept-ranges", "content-length", "content-type", "date", "last-modified"]

    r, closed = fetch(port, "GET", "/index.html", probe="open")
    t("GET /index.html: 200, headers, body",
      r.status == "HTTP/1.1 200 OK" and r.names() == file_names
      and r.h("content-type") == "text/html; charset=utf-8"
      and r.h("last-modified") == lm and r.h("accept-ranges") == "bytes"
      and r.h("content-length") == str(len(files["index.html"]))
      and r.body == files["index.html"] and not closed, repr(r))

    r, _ = fetch(port, "GET", "/big.bin")
    t("GET /big.bin: 3 MiB from the fd, every byte",
      r.code == 200 and r.h("content-length") == str(n)
      and r.h("content-type") == "application/octet-stream" and r.body == big,
      "%s, %d bytes, equal=%s" % (r.status, len(r.body), r.body == big))

    r, _ = fetch(port, "GET", "/style.css")
    t("GET /style.css: Content-Type text/css", r.code == 200 and r.h("content-type") == "text/css"
      and r.body == files["style.css"], repr(r))

    # HEAD: same header, no body; the next request on the connection
    # proves that no body bytes followed.
    c = Conn(port)
    c.send(req("HEAD", "/big.bin", port=port))
    r = c.response(head=True)
    c.send(req("GET", "/notes.txt", port=port))
    r2 = c.response()
    c.close()
    t("HEAD /big.bin: GET's header without the body",
      r.status == "HTTP/1.1 200 OK" and r.names() == file_names
      and r.h("content-length") == str(n) and r2.code == 200 and r2.body == files["notes.txt"],
      "%r / %r" % (r, r2))

    for rng, first, last in (("bytes=100-199", 100, 199), ("bytes=-500", n - 500, n - 1),
                             ("bytes=3145000-", 3145000, n - 1),
                             ("bytes=1048576-2097151", 1048576, 2097151),
                             ("bytes=3145000-9999999", 3145000, n - 1)):
        r, closed = fetch(port, "GET", "/big.bin", ["Range: " + rng], probe="open")
        t("GET /big.bin Range %s: 206, Content-Range, the slice" % rng,
          r.status == "HTTP/1.1 206 Partial Content"
          and r.names() == sorted(file_names + ["content-range"])
          and r.h("content-range") == "bytes %d-%d/%d" % (first, last, n)
          and r.h("content-length") == str(last - first + 1)
          and r.body == big[first:last + 1] and not closed,
          "%s %r %s" % (r.status, r.headers, len(r.body)))

    r, closed = fetch(port, "GET", "/notes.txt", ["Range: bytes=-99999"])
    t("Range bytes=-99999 on a small file: 206 with all of it",
      r.code == 206 and r.h("content-range") == "bytes 0-13/14" and r.body == files["notes.txt"],
      repr(r))

    for target, rng, total in (("/big.bin", "bytes=%d-" % n, n), ("/big.bin", "bytes=-0", n),
                               ("/empty.txt", "bytes=0-", 0)):
        r, closed = fetch(port, "GET", target, ["Range: " + rng], probe="open")
        t("GET %s Range %s: 416, bytes */%d" % (target, rng, total),
          r.status == "HTTP/1.1 416 Range Not Satisfiable"
          and r.names() == ["content-length", "content-range", "date"]
          and r.h("content-range") == "bytes */%d" % total
          and r.h("content-length") == "0" and r.body == b"" and not closed, repr(r))

    for rng in ("bytes=0-0,5-9", "bytes=9-5", "lines=1-2", "bytes=abc"):
        r, _ = fetch(port, "GET", "/notes.txt", ["Range: " + rng])
        t("Range %s is ignored: 200, whole file" % rng,
          r.code == 200 and r.h("content-range") is None and r.body == files["notes.txt"], repr(r))

    r, closed = fetch(port, "GET", "/empty.txt", probe="open")
    t("GET /empty.txt: 200, Content-Length 0",
      r.status == "HTTP/1.1 200 OK" and r.names() == file_names
      and r.h("content-length") == "0" and r.body == b"" and not closed, repr(r))

    r, _ = fetch(port, "GET", "/hello%20world.txt")
    t("GET /hello%20world.txt: the URL arrives decoded",
      r.code == 200 and r.body == files["hello world.txt"]
      and r.h("content-type") == "text/plain; charset=utf-8", repr(r))

    r, closed = fetch(port, "GET", "/sub", probe="open")
    t("GET /sub: 301 to /sub/",
      r.status == "HTTP/1.1 301 Moved Permanently" and r.h("location") == "/sub/"
      and r.names() == ["content-length", "date", "location"] and r.body == b"" and not closed,
      repr(r))
    r, _ = fetch(port, "GET", "/sub/")
    t("GET /sub/: its index.html", r.code == 200 and r.body == files["sub/index.html"], repr(r))

    for target in ("/.secret", "/%2e%2e/etc/passwd", "/sub/../.secret", "/sub/..%2f.secret"):
        r, closed = fetch(port, "GET", target, probe="open")
        t("GET %s: 403" % target,
          r.status == "HTTP/1.1 403 Forbidden" and r.body == b"Forbidden\n"
          and r.names() == ["content-length", "content-type", "date"] and not closed, repr(r))

    r, closed = fetch(port, "GET", "/missing.txt", probe="open")
    t("GET /missing.txt: 404",
      r.status == "HTTP/1.1 404 Not Found" and r.body == b"Not Found\n"
      and r.names() == ["content-length", "content-type", "date"] and not closed, repr(r))
    r, _ = fetch(port, "GET", "/notes.txt/x")
    t("GET /notes.txt/x: 404 (ENOTDIR)", r.code == 404, repr(r))

    # Answered on the first call, before the body is read: 0.9.75 then
    # closes the connection.
    r, closed = fetch(port, "POST", "/index.html", ["Content-Type: text/plain"], b"x" * 100, probe="closed")
    t("POST: 405, Allow, connection closed",
      r.status == "HTTP/1.1 405 Method Not Allowed" and r.h("allow") == "GET, HEAD"
      and r.h("connection") == "close" and r.body == b"Method Not Allowed\n"
      and r.names() == ["allow", "connection", "content-length", "content-type", "date"]
      and closed, "%r closed=%s" % (r, closed))

    r, _ = fetch(port, "GET", "/notes.txt", ["If-Modified-Since: " + lm])
    t("If-Modified-Since = mtime: 304, no body",
      r.status == "HTTP/1.1 304 Not Modified" and r.h("last-modified") == lm
      and r.names() == ["content-length", "date", "last-modified"] and r.h("content-length") == "0"
      and r.body == b"", repr(r))
    for ims in (http_date(FILE_MTIME - 1), "yesterday"):
        r, _ = fetch(port, "GET", "/notes.txt", ["If-Modified-Since: " + ims])
        t("If-Modified-Since %s: 200" % ims, r.code == 200 and r.body == files["notes.txt"], repr(r))

    # Keep-alive, then pipelining: several requests, one connection.
    c = Conn(port)
    ok = True
    for target, hdrs, want in (("/notes.txt", [], files["notes.txt"]),
                               ("/big.bin", ["Range: bytes=10-19"], big[10:20]),
                               ("/index.html", [], files["index.html"])):
        c.send(req("GET", target, hdrs, port=port))
        r = c.response()
        ok = ok and r.body == want and r.h("connection") is None
    c.send(req("GET", "/notes.txt", port=port) + req("GET", "/big.bin", ["Range: bytes=-3"], port=port)
           + req("GET", "/empty.txt", port=port))
    rs = [c.response() for _ in range(3)]
    ok = ok and [x.body for x in rs] == [files["notes.txt"], big[-3:], b""]
    c.close()
    t("keep-alive and pipelining: 6 requests on one connection", ok)

    # The pool (or the epoll thread) serves 8 downloads at once.
    bodies = [None] * 8

    def download(i):
        try:
            bodies[i] = fetch(port, "GET", "/big.bin")[0].body
        except Exception as e:  # noqa: BLE001 - reported below
            bodies[i] = repr(e)
    threads = [threading.Thread(target=download, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(4 * TIMEOUT)
    t("8 concurrent downloads of /big.bin", all(b == big for b in bodies),
      str([len(b) if isinstance(b, bytes) else b for b in bodies]))

    # HTTP/1.0: 0.9.75 answers as HTTP/1.1 and closes the connection.
    r, closed = fetch(port, "GET", "/notes.txt", version="HTTP/1.0", probe="closed")
    t("HTTP/1.0 request: answered as HTTP/1.1, Connection: close, closed",
      r.status == "HTTP/1.1 200 OK" and r.body == files["notes.txt"] and r.h("connection") == "close"
      and r.names() == sorted(file_names + ["connection"]) and closed,
      "%r closed=%s" % (r, closed))

    # curl, the command-line client.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "dl")
        cp = subprocess.run(["curl", "-sS", "-o", out, "-w", "%{http_code} %{size_download}",
                             "http://127.0.0.1:%d/big.bin" % port],
                            capture_output=True, timeout=4 * TIMEOUT)
        got = open(out, "rb").read() if os.path.exists(out) else b""
        t("curl download of /big.bin", cp.stdout == b"200 %d" % n and got == big,
          "%r %r" % (cp.stdout, cp.stderr))
        cp = subprocess.run(["curl", "-sS", "-r", "1000-1999", "-o", out, "-w", "%{http_code}",
                             "http://127.0.0.1:%d/big.bin" % port],
                            capture_output=True, timeout=TIMEOUT)
        got = open(out, "rb").read() if os.path.exists(out) else b""
        t("curl -r 1000-1999", cp.stdout == b"206" and got == big[1000:2000],
          "%r %r" % (cp.stdout, cp.stderr))
        cp = subprocess.run(["curl", "-sS", "-I", "http://127.0.0.1:%d/index.html" % port],
                            capture_output=True, timeout=TIMEOUT)
        t("curl -I", cp.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
          and b"\r\nContent-Length: %d\r\n" % len(files["index.html"]) in cp.stdout,
          "%r %r" % (cp.stdout, cp.stderr))


def run_file_server(label, binary, env, lib_ok, docroot, files):
    for mode in ("pool", "epoll"):
        name = "%s file_server[%s]" % (label, mode)

        def t(check, ok, detail=""):
            return result(ok, "%s: %s" % (name, check), detail)
        try:
            s = Server([binary, "-p", "0", "-m", mode, "-t", "4", docroot], env)
        except Exception as e:  # noqa: BLE001
            t("start", False, str(e))
            continue
        try:
            libs = s.libraries()
            t("loads " + " ".join(sorted(libs)), lib_ok(libs))
            check_file_server(t, s.port, files)
            # Clean shutdown with a download in progress.
            c = Conn(s.port)
            c.send(req("GET", "/big.bin", port=s.port))
            c.read_n(1000)
            rc, rest = s.stop("SIGTERM")
            c.close()
            t("SIGTERM during a download: exits 0", rc == 0 and b"stopped (signal 15)" in rest,
              "rc=%r out=%r" % (rc, rest))
        except Exception as e:  # noqa: BLE001
            t("no exception", False, "%r; server: %s" % (e, s.post_mortem()))
        finally:
            s.kill()


# --------------------------------------------------------------------------
# form_app

USER, PASSWORD = "alice", "wonderland"
REALM = "form_app@example.org"
OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"


def parse_challenge(h):
    if h is None or not h.startswith("Digest "):
        return None
    params = {}
    for m in re.finditer(r'([a-zA-Z]+)=(?:"([^"]*)"|([^,\s]*))', h[7:]):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return params


def authorization(algo, method, uri, nonce, nc=1, user=USER, password=PASSWORD,
                  cnonce="0a4f113b", realm=REALM):
    hf = hashlib.sha256 if algo == "sha256" else hashlib.md5

    def H(s):
        return hf(s.encode()).hexdigest()
    ha1 = H("%s:%s:%s" % (user, realm, password))
    ha2 = H("%s:%s" % (method, uri))
    resp = H("%s:%s:%08x:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'algorithm=%s, response="%s", opaque="%s", qop=auth, nc=%08x, cnonce="%s"'
            % (user, realm, nonce, uri, "SHA-256" if algo == "sha256" else "MD5",
               resp, OPAQUE, nc, cnonce))


def challenge(port, method, uri, headers=(), body=b""):
    """Sends the request without credentials and, as curl does, without
    its body; returns (401 Resp, nonce)."""
    r, _ = fetch(port, method, uri, headers, body)
    ch = parse_challenge(r.h("www-authenticate"))
    return r, (ch or {}).get("nonce")


def multipart(parts, boundary="----formappboundary7MA4YWxkTrZu0gW"):
    out = b""
    for name, filename, ctype, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disp = 'Content-Disposition: form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return "multipart/form-data; boundary=" + boundary, out


def expected_reply(fields, files):
    lines = ["Received from %s: %d field%s, %d file%s" % (
        USER, len(fields), "" if len(fields) == 1 else "s", len(files), "" if len(files) == 1 else "s")]
    for k, v in fields:
        esc = "".join(chr(b) if 0x20 <= b < 0x7f and b != 0x5c else "\\x%02x" % b for b in v)
        lines.append("field %s (%d bytes): %s" % (k, len(v), esc))
    for k, fn, ct, data in files:
        lines.append('file %s "%s" %s: %d bytes, crc32 %08x' % (k, fn, ct or "(no type)", len(data),
                                                                 zlib.crc32(data)))
    return ("\n".join(lines) + "\n").encode()


def post_authed(port, algo, uri, ctype, body, extra=()):
    """A POST the way a browser does it: without credentials, 401, again
    with them.  Returns the final Resp."""
    _, nonce = challenge(port, "POST", uri, ["Content-Type: " + ctype])
    r, _ = fetch(port, "POST", uri, [authorization(algo, "POST", uri, nonce),
                                     "Content-Type: " + ctype] + list(extra), body)
    return r


def check_form_app(t, port, algo, expiry):
    algname = "SHA-256" if algo == "sha256" else "MD5"
    # The exact challenge 0.9.75 writes (MHD_queue_auth_fail_response2).
    www_auth = ('Digest realm="%s",qop="auth",nonce="[0-9a-f]{%d}",opaque="%s",algorithm=%s'
                % (re.escape(REALM), (64 if algo == "sha256" else 32) + 8, OPAQUE,
                   "sha-256" if algo == "sha256" else "md5"))
    auth_names = ["content-length", "content-type", "date", "www-authenticate"]

    r, closed = fetch(port, "GET", "/", probe="closed")
    ch = parse_challenge(r.h("www-authenticate")) or {}
    t("GET / without credentials: 401 with a digest challenge",
      r.status == "HTTP/1.1 401 Unauthorized"
      and sorted(set(r.names()) - {"connection"}) == auth_names
      and ch.get("realm") == REALM and ch.get("qop") == "auth" and ch.get("opaque") == OPAQUE
      and (ch.get("algorithm") or "").upper() == algname and "stale" not in ch
      and re.fullmatch(www_auth, r.h("www-authenticate"))
      and r.body == b"Authentication required\n", "%r closed=%s" % (r, closed))
    t(FIRST_CALL_CLOSE + " (401 to a GET)", r.h("connection") == "close" and closed,
      "Connection: %s, closed=%s" % (r.h("connection"), closed))
    nonce = ch.get("nonce")

    r, closed = fetch(port, "GET", "/", [authorization(algo, "GET", "/", nonce)], probe="open")
    t("GET / with credentials: 200, the form",
      r.status == "HTTP/1.1 200 OK" and r.names() == ["content-length", "content-type", "date"]
      and r.h("content-type") == "text/html; charset=utf-8"
      and b'<form method="post" action="/submit" enctype="multipart/form-data">' in r.body
      and r.h("content-length") == str(len(r.body)) and not closed, repr(r))

    r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", nonce, nc=2)])
    t("same nonce, next nc: 200", r.code == 200, repr(r))
    r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", nonce, nc=2)])
    ch = parse_challenge(r.h("www-authenticate")) or {}
    t("replayed nc: 401, not stale", r.code == 401 and ch.get("stale") is None and ch.get("nonce"),
      repr(r))

    _, nonce = challenge(port, "GET", "/")
    r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", nonce, password="wrong")])
    ch = parse_challenge(r.h("www-authenticate")) or {}
    t("wrong password: 401, not stale", r.code == 401 and "stale" not in ch, repr(r))
    r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", nonce, user="mallory")])
    t("unknown user: 401", r.code == 401 and "stale" not in (parse_challenge(r.h("www-authenticate")) or {}),
      repr(r))

    # A nonce this server never issued (right shape, wrong hash).
    forged = "0" * (len(nonce) - 8) + nonce[-8:]
    r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", forged)])
    ch = parse_challenge(r.h("www-authenticate")) or {}
    t("forged nonce: 401 with stale=true and a new nonce",
      r.code == 401 and re.fullmatch(www_auth + ',stale="true"', r.h("www-authenticate") or "")
      and ch.get("nonce") not in (None, forged), repr(r))
    r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", ch.get("nonce") or "")])
    t("retry with the new nonce: 200", r.code == 200, repr(r))

    # The nonce is bound to the method and URI it was issued for.
    _, nonce = challenge(port, "GET", "/")
    r, _ = fetch(port, "GET", "/submit", [authorization(algo, "GET", "/submit", nonce)])
    t("nonce of GET / used for GET /submit: 401 stale",
      r.code == 401 and (parse_challenge(r.h("www-authenticate")) or {}).get("stale", "").lower() == "true",
      repr(r))

    if expiry:
        # form_app runs with -n 2: a nonce is stale 2 s after the second
        # it was issued in.
        r0, nonce = challenge(port, "GET", "/")
        time.sleep(3.1)
        r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", nonce)])
        ch = parse_challenge(r.h("www-authenticate")) or {}
        t("expired nonce (after 3 s, -n 2): 401 with stale=true",
          r.code == 401 and (ch.get("stale") or "").lower() == "true", repr(r))
        r, _ = fetch(port, "GET", "/", [authorization(algo, "GET", "/", ch.get("nonce") or "")])
        t("retry with the fresh nonce: 200", r.code == 200, repr(r))

    # url-encoded
    body = b"name=J%C3%BCrgen&comment=one+two%26three%0D%0Aline&empty=&tag=1&tag=2"
    r = post_authed(port, algo, "/submit", "application/x-www-form-urlencoded", body)
    want = expected_reply([("name", "Jürgen".encode()), ("comment", b"one two&three\r\nline"),
                           ("empty", b""), ("tag", b"1"), ("tag", b"2")], [])
    t("POST /submit url-encoded: every field",
      r.status == "HTTP/1.1 200 OK" and r.h("content-type") == "text/plain; charset=utf-8"
      and r.names() == ["content-length", "content-type", "date"] and r.body == want,
      "%r\nwant %r" % (r, want))

    # multipart with two files, one of 2 MiB
    blob = random.Random(7).randbytes(2 * 1024 * 1024 + 17)
    parts = [("name", None, None, b"Bob"), ("comment", None, None, b"--not a boundary\r\nsecond line"),
             ("upload", "data.bin", "application/octet-stream", blob),
             ("notes", "notes.txt", "text/plain", b"hello\n")]
    ctype, body = multipart(parts)
    r = post_authed(port, algo, "/submit", ctype, body)
    want = expected_reply([(k, v) for k, f, _, v in parts if f is None],
                          [p for p in parts if p[1] is not None])
    t("POST /submit multipart, 2 MiB upload streamed: sizes and CRC-32",
      r.code == 200 and r.body == want, "%r\nwant %r" % (r, want))

    # The same multipart body delivered in small pieces.
    parts = [("name", None, None, b"Slow"), ("upload", "s.bin", "application/octet-stream", blob[:3000])]
    ctype, body = multipart(parts)
    _, nonce = challenge(port, "POST", "/submit", ["Content-Type: " + ctype])
    c = Conn(port)
    c.send(req("POST", "/submit", [authorization(algo, "POST", "/submit", nonce),
                                   "Content-Type: " + ctype, "Content-Length: %d" % len(body)],
               port=port))
    for i in range(0, len(body), 97):
        c.send(body[i:i + 97])
        time.sleep(0.002)
    r = c.response()
    c.close()
    t("POST /submit multipart in 97-byte pieces",
      r.code == 200 and r.body == expected_reply([("name", b"Slow")], [parts[1]]), repr(r))

    # Expect: 100-continue: refused before the body when unauthorized,
    # "100 Continue" and then the answer when authorized.
    ctype, body = multipart([("name", None, None, b"Expect")])
    c = Conn(port)
    c.send(req("POST", "/submit", ["Content-Type: " + ctype, "Expect: 100-continue",
                                   "Content-Length: %d" % len(body)], port=port))
    r = c.response()
    nonce = (parse_challenge(r.h("www-authenticate")) or {}).get("nonce")
    closed = c.closed_by_server()
    c.close()
    t("Expect: 100-continue without credentials: 401 at once, closed",
      r.code == 401 and closed, "%r closed=%s" % (r, closed))
    c = Conn(port)
    c.send(req("POST", "/submit", [authorization(algo, "POST", "/submit", nonce),
                                   "Content-Type: " + ctype, "Expect: 100-continue",
                                   "Content-Length: %d" % len(body)], port=port))
    r1 = c.response()
    c.send(body)
    r = c.response()
    c.close()
    t("Expect: 100-continue with credentials: 100, then 200",
      r1.status == "HTTP/1.1 100 Continue" and r.code == 200
      and r.body == expected_reply([("name", b"Expect")], []), "%r / %r" % (r1, r))

    # A client that gives up halfway through an upload: the request's
    # state is freed (completion callback) and the server goes on.
    ctype, body = multipart([("upload", "part.bin", "application/octet-stream", blob[:300000])])
    _, nonce = challenge(port, "POST", "/submit", ["Content-Type: " + ctype])
    c = Conn(port)
    c.send(req("POST", "/submit", [authorization(algo, "POST", "/submit", nonce),
                                   "Content-Type: " + ctype, "Content-Length: %d" % len(body)],
               port=port) + body[:len(body) // 2])
    c.close()
    r = post_authed(port, algo, "/submit", "application/x-www-form-urlencoded", b"after=abort")
    t("an upload abandoned halfway, then the next request",
      r.code == 200 and r.body == expected_reply([("after", b"abort")], []), repr(r))

    r = post_authed(port, algo, "/submit", "text/plain", b"hello")
    t("POST /submit text/plain: 415", r.status == "HTTP/1.1 415 Unsupported Media Type", repr(r))
    r = post_authed(port, algo, "/submit", "application/x-www-form-urlencoded",
                    b"big=" + b"x" * (70 * 1024))
    t("POST /submit with 70 KiB of fields: 413",
      r.status == "HTTP/1.1 413 Content Too Large" and r.body == b"Too much data\n", repr(r))
    _, nonce = challenge(port, "GET", "/submit")
    r, _ = fetch(port, "GET", "/submit", [authorization(algo, "GET", "/submit", nonce)])
    t("GET /submit: 405, Allow", r.code == 405 and r.h("allow") == "GET, POST", repr(r))
    _, nonce = challenge(port, "GET", "/nothing")
    r, _ = fetch(port, "GET", "/nothing", [authorization(algo, "GET", "/nothing", nonce)])
    t("GET /nothing: 404", r.status == "HTTP/1.1 404 Not Found" and r.body == b"Not Found\n", repr(r))

    # curl: its own digest implementation, multipart encoder and retries.
    with tempfile.TemporaryDirectory() as tmp:
        up = os.path.join(tmp, "upload.bin")
        with open(up, "wb") as f:
            f.write(blob[:500000])
        cp = subprocess.run(["curl", "-sS", "--digest", "-u", "%s:%s" % (USER, PASSWORD),
                             "-F", "name=Curl User", "-F", "comment=via curl -F",
                             "-F", "upload=@%s;type=application/x-test" % up,
                             "http://127.0.0.1:%d/submit" % port],
                            capture_output=True, timeout=4 * TIMEOUT)
        want = expected_reply([("name", b"Curl User"), ("comment", b"via curl -F")],
                              [("upload", "upload.bin", "application/x-test", blob[:500000])])
        t("curl --digest -F with a 500 kB file", cp.stdout == want, "%r %r" % (cp.stdout, cp.stderr))
        cp = subprocess.run(["curl", "-sS", "--digest", "-u", "%s:%s" % (USER, PASSWORD),
                             "--data-urlencode", "comment=a&b=c", "-d", "name=x",
                             "http://127.0.0.1:%d/submit" % port],
                            capture_output=True, timeout=TIMEOUT)
        want = expected_reply([("comment", b"a&b=c"), ("name", b"x")], [])
        t("curl --digest --data-urlencode", cp.stdout == want, "%r %r" % (cp.stdout, cp.stderr))
        cp = subprocess.run(["curl", "-sS", "--digest", "-u", "%s:nope" % USER, "-o", "/dev/null",
                             "-w", "%{http_code}", "http://127.0.0.1:%d/" % port],
                            capture_output=True, timeout=TIMEOUT)
        t("curl --digest with a wrong password: 401", cp.stdout == b"401", repr(cp))


def run_form_app(label, binary, env, lib_ok):
    for algo in ("sha256", "md5"):
        name = "%s form_app[%s]" % (label, algo)

        def t(check, ok, detail=""):
            return result(ok, "%s: %s" % (name, check), detail)
        argv = [binary, "-p", "0", "-a", algo, "-u", "%s:%s" % (USER, PASSWORD)]
        if algo == "sha256":
            argv += ["-n", "2"]
        try:
            s = Server(argv, env)
        except Exception as e:  # noqa: BLE001
            t("start", False, str(e))
            continue
        try:
            libs = s.libraries()
            t("loads " + " ".join(sorted(libs)), lib_ok(libs))
            check_form_app(t, s.port, algo, expiry=(algo == "sha256"))
            rc, rest = s.stop("SIGTERM")
            t("SIGTERM: exits 0", rc == 0 and b"stopped (signal 15)" in rest, "rc=%r out=%r" % (rc, rest))
        except Exception as e:  # noqa: BLE001
            t("no exception", False, "%r; server: %s" % (e, s.post_mortem()))
        finally:
            s.kill()


# --------------------------------------------------------------------------
# external_select

def check_external_select(t, s):
    port = s.port
    plain = ["cache-control", "content-length", "content-type", "date"]
    for i in (1, 2):
        r, closed = fetch(port, "GET", "/", probe="open")
        t("GET / #%d: visitor number %d" % (i, i),
          r.status == "HTTP/1.1 200 OK" and r.names() == plain
          and r.h("content-type") == "text/html; charset=utf-8" and r.h("cache-control") == "no-store"
          and ("You are visitor number %d." % i).encode() in r.body and not closed, repr(r))
    r, _ = fetch(port, "GET", "/counter")
    t("GET /counter: 2", r.status == "HTTP/1.1 200 OK" and r.names() == plain and r.body == b"2\n", repr(r))
    for body, code, want in ((b"40", 200, b"42\n"), (b"n=-2", 200, b"40\n"), (b"abc", 400, None),
                             (b"9" * 40, 413, b"Body too large\n")):
        r, _ = fetch(port, "POST", "/counter", ["Content-Type: application/x-www-form-urlencoded"], body)
        t("POST /counter %r: %d" % (body[:12], code), r.code == code and (want is None or r.body == want),
          repr(r))
    r, closed = fetch(port, "PUT", "/counter", body=b"1", probe="closed")
    t("PUT /counter: 405, Allow, closed",
      r.status == "HTTP/1.1 405 Method Not Allowed" and r.h("allow") == "GET, POST"
      and r.h("connection") == "close" and closed, repr(r))
    r, closed = fetch(port, "GET", "/elsewhere", probe="closed")
    t("GET /elsewhere: 404", r.status == "HTTP/1.1 404 Not Found" and r.body == b"Not Found\n", repr(r))
    t(FIRST_CALL_CLOSE + " (404 to a GET)", r.h("connection") == "close" and closed,
      "Connection: %s, closed=%s" % (r.h("connection"), closed))

    # A half-sent request does not hold up another connection: one thread
    # serves both.
    a = Conn(port)
    a.send(b"GET /counter HTTP/1.1\r\nHost: x\r\n")
    r, _ = fetch(port, "POST", "/counter", body=b"2")
    a.send(b"\r\n")
    ra = a.response()
    a.close()
    t("a slow client does not block another", r.body == b"42\n" and ra.body == b"42\n", "%r / %r" % (r, ra))

    c = Conn(port)
    c.send(req("POST", "/counter", ["Expect: 100-continue"], b"", port=port).replace(
        b"Content-Length: 0", b"Content-Length: 1"))
    r1 = c.response()
    c.send(b"8")
    r = c.response()
    c.send(req("GET", "/counter", port=port) + req("GET", "/counter", port=port))
    r3, r4 = c.response(), c.response()
    c.close()
    t("Expect: 100-continue, then pipelined requests on the connection",
      r1.status == "HTTP/1.1 100 Continue" and r.body == b"50\n" and r3.body == r4.body == b"50\n",
      "%r / %r / %r" % (r1, r, r3))

    # -t 1: an idle connection is closed after about a second, which needs
    # the loop to wake up when MHD_get_timeout() says.
    c = Conn(port)
    t0 = time.monotonic()
    closed = c.closed_by_server(wait=5)
    dt = time.monotonic() - t0
    c.close()
    t("idle connection closed after the 1 s timeout", closed and 0.5 <= dt <= 3.5,
      "closed=%s after %.2f s" % (closed, dt))

    cp = subprocess.run(["curl", "-sS", "-d", "-10", "http://127.0.0.1:%d/counter" % port],
                        capture_output=True, timeout=TIMEOUT)
    t("curl -d -10", cp.stdout == b"40\n", repr(cp))
    cp = subprocess.run(["curl", "-sS", "http://127.0.0.1:%d/" % port, "http://127.0.0.1:%d/counter" % port],
                        capture_output=True, timeout=TIMEOUT)
    t("curl, two URLs on one connection", b"You are visitor number 41." in cp.stdout
      and cp.stdout.endswith(b"</html>\n41\n"), repr(cp))

    def stats():
        s.p.stdin.write(b"stats\n")
        s.p.stdin.flush()
        line = s.read_line(TIMEOUT) or b""
        m = re.fullmatch(rb"counter=(-?\d+) requests=\d+ ticks=\d+ wakeups=(\d+)", line)
        return line, (int(m.group(1)), int(m.group(2))) if m else (None, None)
    line, (count, w0) = stats()
    t("stdin 'stats' answered from the same loop", count == 41, repr(line))

    # The loop sleeps as long as MHD_get_timeout() allows: no busy loop
    # while idle, nor with an idle keep-alive connection (until its timeout).
    time.sleep(1.5)
    line, (_, w1) = stats()
    c = Conn(port)
    c.send(req("GET", "/counter", port=port))
    c.response()
    time.sleep(1.5)
    line2, (_, w2) = stats()
    c.close()
    t("no busy loop: few wakeups in 1.5 s idle and 1.5 s with an idle connection",
      w0 is not None and w1 is not None and w2 is not None and w1 - w0 <= 6 and w2 - w1 <= 12,
      "wakeups %s -> %s -> %s" % (w0, w1, w2))
    s.p.stdin.write(b"bogus\n")
    s.p.stdin.flush()
    line = s.read_line(TIMEOUT) or b""
    t("stdin unknown command", line.startswith(b"unknown command: bogus"), repr(line))


def run_external_select(label, binary, env, lib_ok):
    name = "%s external_select" % label

    def t(check, ok, detail=""):
        return result(ok, "%s: %s" % (name, check), detail)
    try:
        s = Server([binary, "-p", "0", "-t", "1"], env, stdin=True)
    except Exception as e:  # noqa: BLE001
        t("start", False, str(e))
        return
    try:
        libs = s.libraries()
        t("loads " + " ".join(sorted(libs)), lib_ok(libs))
        check_external_select(t, s)
        rc, rest = s.stop("quit")
        t("stdin 'quit': exits 0", rc == 0 and b"stopped after" in rest, "rc=%r out=%r" % (rc, rest))
    except Exception as e:  # noqa: BLE001
        t("no exception", False, "%r; server: %s" % (e, s.post_mortem()))
    finally:
        s.kill()
    # SIGTERM goes through the self-pipe into the same loop.
    try:
        s = Server([binary, "-p", "0"], env, stdin=True)
        rc, rest = s.stop("SIGTERM")
        t("SIGTERM: exits 0", rc == 0 and b"signal 15, stopping" in rest, "rc=%r out=%r" % (rc, rest))
    except Exception as e:  # noqa: BLE001
        t("SIGTERM: exits 0", False, repr(e))


# --------------------------------------------------------------------------

def compile_examples():
    """Builds the Debian-header binaries (and ours if `make examples` has
    not); returns False when a build failed."""
    ok = True
    ref_dir = os.path.join(BUILD, "examples-ref")
    ours_dir = OURS_DIR
    os.makedirs(ref_dir, exist_ok=True)
    os.makedirs(ours_dir, exist_ok=True)
    for ex in PROGRAMS:
        src = os.path.join(ROOT, "examples-c", ex + ".c")
        # Debian's header and library: no -I, no -L.
        if RUNS != ["ours"]:
            cmd = [CC] + CFLAGS + ["-o", os.path.join(ref_dir, ex), src, "-lmicrohttpd"]
            cp = subprocess.run(cmd, capture_output=True, text=True)
            ok &= result(cp.returncode == 0, "build %s against Debian's header and library" % ex,
                         cp.stderr.strip())
        binary = os.path.join(ours_dir, ex)
        if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(src):
            cmd = [CC] + CFLAGS + ["-I" + os.path.join(ROOT, "include"), "-o", binary, src,
                                   "-L" + BUILD, "-lmicrohttpd", "-Wl,-rpath,$ORIGIN/.."]
            cp = subprocess.run(cmd, capture_output=True, text=True)
            ok &= result(cp.returncode == 0, "build %s against our header and library" % ex,
                         cp.stderr.strip())
        for hdr, inc in (("our", os.path.join(ROOT, "include")), ("Debian's", "/usr/include")):
            cp = subprocess.run([CC, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror",
                                 "-I" + inc, "-fsyntax-only", src], capture_output=True, text=True)
            result(cp.returncode == 0, "%s is -std=c99 -pedantic clean with %s header" % (ex, hdr),
                   cp.stderr.strip())
    return ok


def main():
    global only
    if len(sys.argv) == 3 and sys.argv[1] == "-k":
        only = sys.argv[2]
    elif len(sys.argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    t_start = time.monotonic()
    ours_lib = os.path.realpath(os.path.join(BUILD, "libmicrohttpd.so.12"))
    debian_lib = os.path.realpath(os.path.join(DEBIAN_LIBDIR, "libmicrohttpd.so.12"))
    if not os.path.exists(ours_lib) or not os.path.exists(debian_lib):
        result(False, "setup", "need %s and %s" % (ours_lib, debian_lib))
        print("%d passed, %d failed" % (passed, failed))
        return 1
    compile_examples()

    base_env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "LD_PRELOAD")}
    dropin_env = dict(base_env, LD_LIBRARY_PATH=BUILD)
    runs = [("ours", OURS_DIR, base_env, ours_lib),
            ("ref", os.path.join(BUILD, "examples-ref"), base_env, debian_lib),
            ("dropin", os.path.join(BUILD, "examples-ref"), dropin_env, ours_lib)]
    runs = [r for r in runs if r[0] in RUNS]

    docroot = tempfile.mkdtemp(prefix="examples-docroot-", dir=BUILD)
    try:
        files = make_docroot(docroot)
        for label, bindir, env, lib in runs:
            t0 = time.monotonic()
            p0, f0 = passed, failed

            def lib_ok(libs, lib=lib):
                return libs == {lib}
            if "file_server" in PROGRAMS:
                run_file_server(label, os.path.join(bindir, "file_server"), env, lib_ok, docroot, files)
            if "form_app" in PROGRAMS:
                run_form_app(label, os.path.join(bindir, "form_app"), env, lib_ok)
            if "external_select" in PROGRAMS:
                run_external_select(label, os.path.join(bindir, "external_select"), env, lib_ok)
            print("run %s: %d passed, %d failed in %.1f s"
                  % (label, passed - p0, failed - f0, time.monotonic() - t0), flush=True)
    finally:
        shutil.rmtree(docroot, ignore_errors=True)
    print("examples: %.1f s" % (time.monotonic() - t_start))
    if known:
        print("%d checks passed as intended differences of our library from 0.9.75:" % known)
        for v in KNOWN_DIFFS.values():
            print("  - " + v)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
