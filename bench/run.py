#!/usr/bin/env python3
"""make bench: libmicrohttpd-rs against Debian's libmicrohttpd12.

The same C programs (build/bench/) run with Debian's library and with ours
(LD_LIBRARY_PATH), interleaved A B A B, the server pinned to CPU 0 and the
load generator to CPU 1. Every server's loaded library is checked in
/proc/PID/maps. Server CPU time (utime+stime from /proc/PID/stat) is read
before each load run and after it, once the server is idle again. One table is printed and written to
bench/RESULTS.md. See bench/README.md.

Environment:
  BENCH_QUICK=1   about a minute: fewer points, shorter runs, no repeats
  BENCH_FULL=1    the whole HTTPS grid too (longer than 10 minutes)
  BENCH_SECONDS   length of one load run, whole seconds (default 1)
  BENCH_TLS_STORM_SECONDS  length of the HTTPS runs at 1,000 connections
                  (default 10, never below BENCH_SECONDS)
  BENCH_REPS      repeats of A B per point (default 3, quick 1)
  BENCH_REPS_CLOSE_CALLS  repeats for the points whose target is a close
                  call on this machine: p99 at 1,000 keep-alive connections,
                  HTTPS keep-alive CPU, upgrade round trips (default 5,
                  never below BENCH_REPS)
  BENCH_NOTE      a line added to RESULTS.md (e.g. "machine shared with builds")
  BENCH_AUTOGROUP_NICE  e.g. -10: run in a new session whose scheduler
                  autogroup gets this nice value (needs CAP_SYS_NICE below 0)
Python 3 standard library only.
"""

import json
import math
import os
import platform
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
BIN = os.path.join(BUILD, "bench")
# Ours is copied here at the start of a run, so that a `make build` by
# someone else during the run cannot change (or truncate) the library under
# the running servers.
OURS_DIR = os.path.join(BIN, "lib")
DEBIAN_DIR = "/usr/lib/x86_64-linux-gnu"
SONAME = "libmicrohttpd.so.12"

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
FULL = os.environ.get("BENCH_FULL", "") not in ("", "0")
SECONDS = int(os.environ.get("BENCH_SECONDS", "1"))  # wrk takes whole seconds
# HTTPS at 1,000 connections opens with 1,000 RSA handshakes, more CPU than
# one core has in a second: a 1 s run would measure only that storm (its
# p99 is the handshake queue). These points run longer; the storm is still
# inside every run, it just no longer is the whole of it.
TLS_STORM_SECONDS = max(SECONDS, int(os.environ.get("BENCH_TLS_STORM_SECONDS",
                                                    "10")))
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
# Where a target is decided within this shared machine's run-to-run noise
# (p99 at 1,000 connections moved 17-25 ms between back-to-back runs of the
# same server), a median of three runs was not enough to decide it.
REPS_CLOSE_CALLS = max(REPS, int(os.environ.get("BENCH_REPS_CLOSE_CALLS",
                                                "1" if QUICK else "5")))
SERVER_CPU = "0"
LOAD_CPU = "1"
TCK = os.sysconf("SC_CLK_TCK")

MODES = ["select", "poll", "epoll", "pool", "thread", "external"]
MODE_NAMES = {
    "select": "internal select",
    "poll": "internal poll",
    "epoll": "internal epoll",
    "pool": "thread pool (epoll, 2)",
    "thread": "thread per connection",
    "external": "external select",
}

LIBS = {
    "debian": {"dir": DEBIAN_DIR, "label": "Debian"},
    "ours": {"dir": OURS_DIR, "label": "ours"},
}

_port = [21000 + (os.getpid() % 500) * 20]


def next_port():
    _port[0] += 1
    if _port[0] > 60000:
        _port[0] = 21000
    return _port[0]


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# processes


class Server:
    """One server process pinned to SERVER_CPU."""

    def __init__(self, argv, lib=None, name=""):
        self.name = name
        self.lib = lib
        self.port = next_port()
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        if lib:
            env["LD_LIBRARY_PATH"] = LIBS[lib]["dir"]
        self.template = list(argv)
        argv = [a if a != "{port}" else str(self.port) for a in argv]
        self.argv = argv
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU] + argv,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env)
        self.status = self._first_line(10.0)
        self.loaded = None
        if self.status.startswith("READY"):
            time.sleep(0.05)
            self.loaded = self.check_library()

    def _first_line(self, timeout):
        end = time.time() + timeout
        buf = b""
        while time.time() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                ch = os.read(self.proc.stdout.fileno(), 256)
                if not ch:
                    break
                buf += ch
                if b"\n" in buf:
                    return buf.split(b"\n")[0].decode(errors="replace")
            elif self.proc.poll() is not None:
                break
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode(errors="replace").strip()
            return "EXITED %s %s %s" % (self.proc.returncode,
                                        buf.decode(errors="replace").strip(),
                                        err[-300:])
        return "TIMEOUT"

    @property
    def ok(self):
        return self.status.startswith("READY")

    def alive(self):
        return self.proc.poll() is None

    def check_library(self):
        """The libmicrohttpd mapped into the process, checked against lib."""
        path = None
        with open("/proc/%d/maps" % self.proc.pid) as f:
            for line in f:
                if "libmicrohttpd" in line:
                    path = line.split()[-1]
                    break
        if self.lib is not None:
            want = os.path.realpath(os.path.join(LIBS[self.lib]["dir"],
                                                 SONAME))
            if path is None or os.path.realpath(path) != want:
                self.stop()
                raise SystemExit("bench: %s loaded %s, expected %s"
                                 % (self.name, path, want))
        return path

    def cpu(self):
        """utime+stime of the whole process, seconds."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / TCK

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except OSError:
                pass


def settle(server, quiet=0.1, limit=10.0):
    """Waits until the server has used no CPU for `quiet` s (at most
    `limit` s) and returns its CPU time then. The load generator has left,
    but the server may still be closing its connections: 0.9.75's thread
    per connection takes seconds to wind down 1,000 threads, and on the
    shared core that work landed in the next server's run (ours right after
    it: p99 45-94 ms instead of 18-20). It counts as the run's cost."""
    end = time.time() + limit
    last = server.cpu()
    while time.time() < end:
        time.sleep(quiet)
        now = server.cpu()
        if now == last:
            break
        last = now
    return last


def run_load(argv, timeout):
    """Run a load generator on LOAD_CPU; returns its stdout."""
    try:
        p = subprocess.run(["taskset", "-c", LOAD_CPU] + argv,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return ""
    return p.stdout.decode(errors="replace")


# ---------------------------------------------------------------------------
# wrk

UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if not m:
        return None
    res = {"requests": int(m.group(1)),
           "seconds": float(m.group(2)) * UNIT[m.group(3)]}
    m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)", out, re.M)
    res["p99"] = float(m.group(1)) * UNIT[m.group(2)] if m else None
    errs = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errs += int(m.group(1))
    res["errors"] = errs
    return res


def wrk_seconds(conns, https):
    return TLS_STORM_SECONDS if https and conns >= 1000 else SECONDS


def wrk(server, conns, close, https):
    url = "%s://127.0.0.1:%d/" % ("https" if https else "http", server.port)
    secs = wrk_seconds(conns, https)
    argv = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % secs, "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    c0 = server.cpu()
    out = run_load(argv + [url], secs + 30)
    c1 = settle(server)
    res = parse_wrk(out)
    if res is None:
        log("bench: wrk failed: " + " ".join(argv) + "\n" + out[-500:])
        return None
    res["cpu"] = c1 - c0
    return res


def loadclient(server, args, https, timeout=60):
    argv = [os.path.join(BIN, "loadclient")] + [str(a) for a in args]
    argv[2:2] = [str(server.port)]
    if https:
        argv.append("--tls")
    c0 = server.cpu()
    out = run_load(argv, timeout)
    c1 = settle(server)
    kv = dict(re.findall(r"(\w+)=([\d.]+)", out))
    if not kv:
        return None
    res = {k: float(v) for k, v in kv.items()}
    res["cpu"] = c1 - c0
    return res


# ---------------------------------------------------------------------------
# aggregation of repeated runs


def med(xs):
    """Median of the repeats: one run disturbed by the host (this is a
    shared VM) moves a point less than it moves a pooled total."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def per_run(runs, amount, scale=1.0):
    """Rate and CPU per unit of each run, as medians over the runs."""
    rates = [r[amount] / scale / r["seconds"] for r in runs
             if r.get("seconds")]
    cpus = [1e6 * r["cpu"] / (r[amount] / scale) for r in runs
            if r.get(amount)]
    return (med(rates) or 0), med(cpus)


def agg_wrk(runs):
    runs = [r for r in runs if r]
    if not runs:
        return None
    value, cpu = per_run(runs, "requests")
    p99s = [r["p99"] for r in runs if r["p99"] is not None]
    return {"value": value, "unit": "req/s",
            "cpu_us": cpu, "cpu_unit": "µs/req",
            "p99": statistics.median(p99s) if p99s else None,
            "errors": sum(r["errors"] for r in runs),
            "n": sum(r["requests"] for r in runs)}


def agg_bytes(runs, key="bytes"):
    runs = [r for r in runs if r and r.get(key) is not None]
    if not runs:
        return None
    value, cpu = per_run(runs, key, 1e6)
    return {"value": value, "unit": "MB/s",
            "cpu_us": cpu, "cpu_unit": "µs/MB", "p99": None,
            "errors": int(sum(r.get("errors", 0) for r in runs))}


def agg_rtt(runs):
    runs = [r for r in runs if r and r.get("roundtrips") is not None]
    if not runs:
        return None
    value, cpu = per_run(runs, "roundtrips")
    return {"value": value, "unit": "rt/s",
            "cpu_us": cpu, "cpu_unit": "µs/rt",
            "p50": statistics.median(r["p50_us"] / 1e6 for r in runs),
            "p99": statistics.median(r["p99_us"] / 1e6 for r in runs),
            "errors": int(sum(r.get("errors", 0) for r in runs))}


# ---------------------------------------------------------------------------
# the table

GIT = "?"
ROWS = []          # dicts: group, case, debian, ours, ceiling, note
LOADED = {}        # lib -> path seen in /proc/PID/maps


def add_row(group, case, debian=None, ours=None, ceiling=None, note=""):
    row = {"group": group, "case": case, "debian": debian, "ours": ours,
           "ceiling": ceiling, "note": note}
    ROWS.append(row)
    log("  %-34s %-34s D=%s O=%s C=%s %s" % (
        group, case, fmt_val(debian), fmt_val(ours), fmt_val(ceiling), note))
    return row


def fmt_num(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e4:
        return "%.1fk" % (v / 1e3)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_val(r):
    if not r:
        return "—"
    return "%s %s" % (fmt_num(r["value"]), r["unit"])


def fmt_cpu(r):
    if not r or r.get("cpu_us") is None:
        return "—"
    return "%s %s" % (fmt_num(r["cpu_us"]), r["cpu_unit"])


def fmt_time(t):
    if t is None:
        return "—"
    if t >= 1:
        return "%.2f s" % t
    if t >= 1e-3:
        return "%.2f ms" % (t * 1e3)
    return "%.0f µs" % (t * 1e6)


def fmt_lat(r):
    if not r or r.get("p99") is None:
        return "—"
    if r.get("p50") is not None:
        return "%s / %s" % (fmt_time(r["p50"]), fmt_time(r["p99"]))
    return fmt_time(r["p99"])


def fmt_ceil_lat(c):
    """The ceiling's latency, appended to its cell: what the machine allows
    at that point (at 1,000 connections, Little's law)."""
    if not c or c.get("p99") is None:
        return ""
    return (", p99 " if c.get("p50") is None else ", ") + fmt_lat(c)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    return "—" if x is None else "%.2f" % x


def fmt_frac(r, c):
    """r as a fraction of its ceiling c: throughput, and CPU efficiency."""
    if not r or not c:
        return "—"
    if r["unit"] == "KiB/conn":  # smaller is better
        f = ratio(c["value"], r["value"])
        return "—" if f is None else "%.0f%%" % (100 * f)
    parts = []
    f = ratio(r["value"], c["value"])
    if f is not None:
        parts.append("%.0f%%" % (100 * f))
    f = ratio(c.get("cpu_us"), r.get("cpu_us"))
    if f is not None:
        parts.append("CPU %.0f%%" % (100 * f))
    return ", ".join(parts) if parts else "—"


HEADER = ["benchmark", "case", "Debian", "ours", "ours÷Debian",
          "Debian CPU", "ours CPU", "CPU ours÷Debian", "Debian p99",
          "ours p99", "raw ceiling", "Debian of ceiling", "ours of ceiling",
          "note"]


def table_lines():
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "|".join("---" for _ in HEADER) + "|"]
    for name in ("debian", "ours"):
        lines.append("| library loaded (/proc/PID/maps) | %s | %s | | | | | "
                     "| | | | | | every server checked |" % (
                         LIBS[name]["label"], LOADED.get(name, "—")))
    for r in ROWS:
        d, o, c = r["debian"], r["ours"], r["ceiling"]
        vr = ratio(o["value"], d["value"]) if d and o else None
        if d and o and d["unit"] == "KiB/conn":
            vr = ratio(o["value"], d["value"])
        cr = ratio(o.get("cpu_us"), d.get("cpu_us")) if d and o else None
        cells = [r["group"], r["case"], fmt_val(d), fmt_val(o),
                 fmt_ratio(vr), fmt_cpu(d), fmt_cpu(o), fmt_ratio(cr),
                 fmt_lat(d), fmt_lat(o),
                 fmt_val(c) + ("" if not c or c.get("cpu_us") is None
                               else ", " + fmt_cpu(c)) + fmt_ceil_lat(c),
                 fmt_frac(d, c), fmt_frac(o, c), r["note"]]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# ---------------------------------------------------------------------------
# the benchmarks


def cert_args():
    return ["--tls", os.path.join(BIN, "cert.pem"), os.path.join(BIN, "key.pem")]


def start_pair(argv, https, names=("debian", "ours")):
    """Start ours first (it may refuse, e.g. TLS), then Debian's."""
    tls = cert_args() if https else []
    servers = {}
    o = Server(argv + tls, "ours", "ours " + argv[0])
    if not o.ok:
        o.stop()
        return None, o.status
    servers["ours"] = o
    LOADED["ours"] = o.loaded
    d = Server(argv + tls, "debian", "Debian " + argv[0])
    if not d.ok:
        d.stop()
        o.stop()
        return None, "Debian's: " + d.status
    servers["debian"] = d
    LOADED["debian"] = d.loaded
    return servers, None


def refused_note(status, what):
    if status.startswith("REFUSED"):
        return "skipped: ours refuses %s (MHD_start_daemon returned NULL)" % what
    if status.startswith("NOUPGRADE"):
        return ("skipped: ours has no upgrade API yet "
                "(MHD_create_response_for_upgrade returned NULL)")
    return "skipped: " + status[:120]


def bench_reqresp(https):
    proto = "HTTPS" if https else "HTTP"
    if QUICK and https:
        points = [("epoll", False, 100), ("epoll", True, 100)]
    elif QUICK:
        points = [(m, False, 100) for m in MODES] + \
                 [("epoll", True, 100), ("epoll", False, 1000)]
    elif https and not FULL:
        points = [(m, c, 100) for m in MODES for c in (False, True)] + \
                 [("epoll", c, n) for c in (False, True) for n in (1, 10, 1000)]
    else:
        points = [(m, c, n) for m in MODES for c in (False, True)
                  for n in (1, 10, 100, 1000)]
    by_mode = {}
    for m, c, n in points:
        by_mode.setdefault(m, []).append((c, n))
    group = "%s request/response" % proto
    # The ceiling runs beside each point, as often as each library (A B C
    # A B C), so that it sees the same machine as the libraries do and its
    # ratio to ours is as steady as ours to Debian's.
    raw = Server([os.path.join(BIN, "raw_server"), "{port}", "http"]
                 + (cert_args() if https else []), None, "raw http")
    for mode in MODES:
        if mode not in by_mode:
            continue
        servers, status = start_pair([os.path.join(BIN, "mhd_server"),
                                      "{port}", mode], https)
        for close, conns in by_mode[mode]:
            case = "%s, %s, %d conn" % (MODE_NAMES[mode],
                                        "close" if close else "keep-alive",
                                        conns)
            if servers is None:
                add_row(group, case,
                        note=refused_note(status, "MHD_USE_TLS" if https
                                          else "this mode"))
                continue
            runs = {"debian": [], "ours": []}
            ceil = []
            note = []
            if wrk_seconds(conns, https) != SECONDS:
                note.append("%d s runs (BENCH_TLS_STORM_SECONDS): each "
                            "opens with %d TLS handshakes" % (
                                wrk_seconds(conns, https), conns))
            close_call = not close and (conns == 1000 if not https
                                        else conns == 100)
            for rep in range(REPS_CLOSE_CALLS if close_call else REPS):
                for lib in ("debian", "ours"):  # A B A B
                    s = servers[lib]
                    if not s.alive():
                        continue
                    runs[lib].append(wrk(s, conns, close, https))
                if raw.ok and raw.alive():
                    ceil.append(wrk(raw, conns, close, https))
            res = {}
            for lib in ("debian", "ours"):
                res[lib] = agg_wrk(runs[lib])
                if not servers[lib].alive():
                    note.append("%s server died (status %s)" % (
                        LIBS[lib]["label"], servers[lib].proc.returncode))
                    try:
                        err = servers[lib].proc.stderr.read()
                    except (OSError, ValueError):
                        err = b""
                    servers[lib].stop()
                    log("bench: %s server died (status %s); stderr: %s" % (
                        LIBS[lib]["label"], servers[lib].proc.returncode,
                        err[-500:].decode(errors="replace")))
                    servers[lib] = Server(servers[lib].template, lib,
                                          servers[lib].name)
                elif res[lib] is None:
                    note.append("%s: wrk gave no result" % LIBS[lib]["label"])
                elif res[lib]["errors"]:
                    note.append("%s: %d wrk errors" % (LIBS[lib]["label"],
                                                       res[lib]["errors"]))
            add_row(group, case, res["debian"], res["ours"], agg_wrk(ceil),
                    "; ".join(note))
        if servers:
            for s in servers.values():
                s.stop()
    raw.stop()


def bench_large():
    path = os.path.join(BIN, "file100m.bin")
    size = 100 * 1024 * 1024
    if not os.path.exists(path) or os.path.getsize(path) != size:
        with open(path + ".tmp", "wb") as f:
            block = os.urandom(1024 * 1024)
            for i in range(100):
                f.write(block[i:] + block[:i])
        os.rename(path + ".tmp", path)
    servers, status = start_pair([os.path.join(BIN, "mhd_server"), "{port}",
                                  "epoll", "--file", path], False)
    secs = SECONDS if QUICK else max(SECONDS, 2)
    for url, label, bsize in (("/file", "100 MiB file, from_fd, 1 conn", size),
                              ("/buf", "1 MiB buffer, 1 conn", 1024 * 1024)):
        if servers is None:
            add_row("HTTP large response", label, note=refused_note(status, ""))
            continue
        runs = {"debian": [], "ours": []}
        for _ in range(REPS):
            for lib in ("debian", "ours"):
                runs[lib].append(loadclient(servers[lib],
                                            ["get", url, 1, secs], False))
        raw = Server([os.path.join(BIN, "raw_server"), "{port}", "blob",
                      "--size", str(bsize)], None, "raw blob")
        ceil = agg_bytes([loadclient(raw, ["get", "/", 1, secs], False)
                          for _ in range(REPS)]) if raw.ok else None
        raw.stop()
        res = {lib: agg_bytes(runs[lib]) for lib in runs}
        note = []
        for lib in ("debian", "ours"):
            if res[lib] is None:
                note.append("%s: no result" % LIBS[lib]["label"])
            elif res[lib]["errors"]:
                note.append("%s: %d responses cut short or failed" % (
                    LIBS[lib]["label"], res[lib]["errors"]))
        note.append("ceiling: raw byte pump (write() from memory)")
        add_row("HTTP large response", label, res["debian"], res["ours"],
                ceil, "; ".join(note))
    if servers:
        for s in servers.values():
            s.stop()


def bench_upgrade(https):
    proto = "HTTPS" if https else "HTTP"
    group = "%s upgrade echo" % proto
    tls = cert_args() if https else []
    ours = Server([os.path.join(BIN, "upgrade_echo_ours"), "{port}"] + tls,
                  "ours", "upgrade_echo_ours")
    theirs = Server([os.path.join(BIN, "upgrade_echo_theirs"), "{port}"] + tls,
                    "debian", "upgrade_echo_theirs")
    raw = Server([os.path.join(BIN, "raw_server"), "{port}", "echo"] + tls,
                 None, "raw echo")
    if theirs.ok:
        LOADED["debian"] = theirs.loaded
    if ours.ok:
        LOADED["ours"] = ours.loaded
    note_ours = "" if ours.ok else refused_note(
        ours.status, "MHD_USE_TLS" if https else "the upgrade server")
    secs = max(SECONDS, 1.0)
    tests = [("bulk stream, 1 conn", ["upbulk", 1, secs], agg_bytes),
             ("bulk stream, 10 conn", ["upbulk", 10, secs], agg_bytes),
             ("64-byte round trips, 1 conn (p50 / p99)",
              ["uprtt", secs, "--size", "64"], agg_rtt)]
    for label, args, agg in tests:
        runs = {"debian": [], "ours": []}
        ceil_runs = []
        note = [note_ours] if note_ours else []
        # The ceiling runs beside each pair (A B C A B C), as in
        # request/response: run after all of them, it saw another minute
        # of this shared machine.
        for _ in range(REPS_CLOSE_CALLS if agg is agg_rtt else REPS):
            for lib, s in (("debian", theirs), ("ours", ours)):
                if s.ok and s.alive():
                    runs[lib].append(loadclient(s, args, https))
            if raw.ok and raw.alive():
                ceil_runs.append(loadclient(raw, args, https))
        res = {}
        for lib in ("debian", "ours"):
            good = [r for r in runs[lib]
                    if r and r.get("upgraded", 0) >= (10 if "10" in label
                                                      else 1)]
            if runs[lib] and not good:
                note.append("%s: no 101 / upgrade failed, skipped"
                            % LIBS[lib]["label"])
            res[lib] = agg(good) if good else None
            if res[lib] and res[lib]["errors"]:
                note.append("%s: %d errors" % (LIBS[lib]["label"],
                                               res[lib]["errors"]))
        ceil = agg(ceil_runs) if ceil_runs else None
        add_row(group, label, res["debian"], res["ours"], ceil,
                "; ".join(note))
    for s in (ours, theirs, raw):
        s.stop()


def hold(server, conns):
    """Open conns idle keep-alive connections; RSS while they are open."""
    argv = ["taskset", "-c", LOAD_CPU, os.path.join(BIN, "loadclient"),
            "hold", str(server.port), str(conns)]
    base = server.rss_kib()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    res = {"base": base}
    try:
        line = b""
        end = time.time() + 60
        while b"\n" not in line and time.time() < end:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if r:
                ch = os.read(p.stdout.fileno(), 256)
                if not ch:
                    break
                line += ch
        res["line"] = line.decode(errors="replace").strip()
        kv = dict(re.findall(rb"(\w+)=(\d+)", line))
        res["connected"] = int(kv.get(b"connected", 0))
        res["answered"] = int(kv.get(b"answered", 0))
        time.sleep(0.3)
        res["rss"] = server.rss_kib()
        out, _ = p.communicate(b"go\n", timeout=60)
        kv = dict(re.findall(rb"(\w+)=(\d+)", out))
        res["answered2"] = int(kv.get(b"answered", 0))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        res.setdefault("rss", server.rss_kib())
        res["answered2"] = 0
    return res


def mem_result(h, conns):
    return {"value": (h["rss"] - h["base"]) / conns, "unit": "KiB/conn",
            "cpu_us": None, "p99": None, "rss": h["rss"]}


def bench_memory():
    group = "memory (internal epoll)"
    for conns in ((2000, 10000)):
        res, notes = {}, []
        for lib in ("debian", "ours"):
            s = Server([os.path.join(BIN, "mhd_server"), "{port}", "epoll",
                        "--limit", "20000"], lib, "mhd_server memory")
            if not s.ok:
                notes.append("%s: %s" % (LIBS[lib]["label"], s.status))
                s.stop()
                continue
            h = hold(s, conns)
            s.stop()
            res[lib] = mem_result(h, conns)
            notes.append("%s: RSS %.1f MiB, answered %d+%d of %d" % (
                LIBS[lib]["label"], h["rss"] / 1024, h["answered"],
                h["answered2"], conns))
            if h["answered"] < conns or h["answered2"] < conns:
                notes.append("%s client said: %s" % (LIBS[lib]["label"],
                                                     h.get("line", "")[:80]))
                log("bench: hold %d on %s: %r" % (conns, lib, h))
        raw = Server([os.path.join(BIN, "raw_server"), "{port}", "http"],
                     None, "raw memory")
        ceil = mem_result(hold(raw, conns), conns) if raw.ok else None
        raw.stop()
        add_row(group, "%d idle keep-alive connections (RSS growth)" % conns,
                res.get("debian"), res.get("ours"), ceil, "; ".join(notes))


# ---------------------------------------------------------------------------
# headline and output


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def headline_reqresp(proto):
    lines = []
    http = [r for r in ROWS if r["group"] == proto + " request/response"
            and r["debian"] and r["ours"] and r["ours"].get("cpu_us")
            and r["debian"].get("cpu_us")]
    if http:
        allcpu = geomean(r["ours"]["cpu_us"] / r["debian"]["cpu_us"]
                         for r in http)
        allrps = geomean(r["ours"]["value"] / r["debian"]["value"]
                         for r in http)
        lines.append("- %s request/response, all %d points: ours uses "
                     "**%.2f×** Debian's server CPU per request and serves "
                     "**%.2f×** its req/s (geometric means)."
                     % (proto, len(http), allcpu, allrps))
        for mode in MODES:
            rs = [r for r in http if r["case"].startswith(MODE_NAMES[mode])]
            if not rs:
                continue
            d = geomean(r["debian"]["cpu_us"] for r in rs)
            o = geomean(r["ours"]["cpu_us"] for r in rs)
            # issue 7's target is against the raw server (the ceiling)
            withc = [r for r in rs if r.get("ceiling")
                     and r["ceiling"].get("cpu_us")]
            vs_raw = ""
            if withc:
                vs_raw = ", ours÷raw %.2f" % geomean(
                    r["ours"]["cpu_us"] / r["ceiling"]["cpu_us"]
                    for r in withc)
            p = [r for r in rs if r["case"].endswith(" 1000 conn")
                 and "keep-alive" in r["case"]]
            extra = ""
            if p and p[0]["debian"]["p99"] and p[0]["ours"]["p99"]:
                extra = "; p99 at 1,000 keep-alive conns: ours %s, Debian %s" % (
                    fmt_time(p[0]["ours"]["p99"]),
                    fmt_time(p[0]["debian"]["p99"]))
                c = p[0].get("ceiling")
                if c and c.get("p99") is not None:
                    extra += ", raw %s" % fmt_time(c["p99"])
            lines.append("  - %s: ours %.2f, Debian %.2f µs CPU/request "
                         "(ours÷Debian %.2f%s)%s" % (MODE_NAMES[mode], o, d,
                                                    o / d, vs_raw, extra))
    return lines


def headline():
    lines = []
    for proto in ("HTTP", "HTTPS"):
        lines += headline_reqresp(proto)
    for r in ROWS:
        if r["group"] in ("HTTP large response", "memory (internal epoll)",
                          "HTTP upgrade echo", "HTTPS upgrade echo") \
                and r["debian"] and r["ours"] and r["debian"]["value"]:
            lines.append("- %s, %s: ours %s vs Debian %s (%.2f×)" % (
                r["group"], r["case"], fmt_val(r["ours"]), fmt_val(r["debian"]),
                r["ours"]["value"] / r["debian"]["value"]))
    skipped = [r for r in ROWS if not (r["debian"] and r["ours"])]
    if skipped:
        lines.append("- %d rows skipped (see their notes)." % len(skipped))
    return lines


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPUs (nproc), %s, Linux %s" % (os.cpu_count(), model,
                                               platform.release())


def snapshot_ours():
    src = os.path.join(BUILD, SONAME)
    if not os.path.exists(src):
        raise SystemExit("bench: %s missing; run `make bench`" % src)
    os.makedirs(OURS_DIR, exist_ok=True)
    tmp = os.path.join(OURS_DIR, SONAME + ".tmp")
    # Another `make build` may be rewriting the file: take a copy only when
    # two reads a moment apart agree.
    for _ in range(20):
        with open(src, "rb") as f:
            data = f.read()
        time.sleep(0.5)
        with open(src, "rb") as f:
            if f.read() == data:
                break
    else:
        raise SystemExit("bench: %s keeps changing; try again" % src)
    with open(tmp, "wb") as g:
        g.write(data)
    os.chmod(tmp, 0o755)
    os.rename(tmp, os.path.join(OURS_DIR, SONAME))


def git_version():
    try:
        out = subprocess.run(["git", "-C", ROOT, "describe", "--always",
                              "--dirty"], capture_output=True, timeout=10)
        return out.stdout.decode().strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def update_readme(lines, date):
    path = os.path.join(ROOT, "bench", "README.md")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return
    a, b = "<!-- headline:start -->", "<!-- headline:end -->"
    if a not in text or b not in text:
        return
    head, rest = text.split(a, 1)
    _, tail = rest.split(b, 1)
    body = "\n".join(["", "From bench/RESULTS.md (%s%s):" % (
        date, ", BENCH_QUICK=1" if QUICK else ""), ""] + lines + [""])
    with open(path, "w") as f:
        f.write(head + a + body + b + tail)


def boost_autogroup():
    """With autogroup scheduling (kernel.sched_autogroup_enabled=1) a
    `nice 19` job in another session still gets a full session's share of
    a CPU: niceness only orders tasks within one autogroup. On a machine
    shared with such jobs the pinned servers then lose most of their CPU
    and the wake-up latency of thread-per-connection servers explodes.
    BENCH_AUTOGROUP_NICE gives this run a session (autogroup) of its own
    with that nice value; both libraries and the ceilings run in it alike.
    Returns a note for RESULTS.md, or ""."""
    want = os.environ.get("BENCH_AUTOGROUP_NICE", "")
    if not want:
        return ""
    try:
        if os.getsid(0) != os.getpid():
            os.setsid()
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(int(want)))
        with open("/proc/self/autogroup") as f:
            got = f.read().strip()
    except (OSError, ValueError) as e:
        log("bench: BENCH_AUTOGROUP_NICE=%s not applied: %s" % (want, e))
        return ""
    log("bench: scheduler autogroup: %s" % got)
    return "the run had a scheduler autogroup of its own (%s, " \
           "BENCH_AUTOGROUP_NICE)" % got


def main():
    group_note = boost_autogroup()
    try:
        os.sched_setaffinity(0, {int(LOAD_CPU)})
    except OSError:
        pass
    # 10,000 connections: the server and the client each need > 10,000 fds.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    for lim in ((max(soft, want), max(hard, want)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, lim)
            break
        except (ValueError, OSError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < 10100:
        log("bench: fd limit %d is below 10,100: the 10,000-connection row "
            "will fail (raise it with ulimit -n as root)" % soft)
    snapshot_ours()
    for prog in ("mhd_server", "raw_server", "loadclient",
                 "upgrade_echo_ours", "upgrade_echo_theirs"):
        if not os.path.exists(os.path.join(BIN, prog)):
            raise SystemExit("bench: %s missing; run `make bench`" % prog)
    global GIT
    GIT = git_version()
    t0 = time.time()
    date = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load0 = loadavg()
    log("bench: %s; %gs per load run, %d× A B per point%s" % (
        machine(), SECONDS, REPS, " (BENCH_QUICK)" if QUICK else ""))
    log("bench: HTTP request/response")
    bench_reqresp(False)
    log("bench: HTTPS request/response")
    bench_reqresp(True)
    log("bench: large responses")
    bench_large()
    log("bench: upgrade")
    bench_upgrade(False)
    bench_upgrade(True)
    log("bench: memory")
    bench_memory()
    meta = {"date": date, "elapsed": time.time() - t0, "machine": machine(),
            "load0": load0, "load1": loadavg(), "git": GIT, "quick": QUICK,
            "seconds": SECONDS, "reps": REPS,
            "reps_close_calls": REPS_CLOSE_CALLS,
            "note": "; ".join(n for n in (os.environ.get("BENCH_NOTE", ""),
                                           group_note) if n),
            "loaded": LOADED,
            "rows": ROWS}
    with open(os.path.join(BIN, "results.json"), "w") as f:
        json.dump(meta, f, indent=1, default=str)
    write_outputs(meta)


MARKED = re.compile(r"<!-- ([A-Za-z0-9_-]+):start -->.*?<!-- \1:end -->",
                    re.S)


def kept_sections(path):
    """Sections that other tools or people wrote into RESULTS.md between
    `<!-- NAME:start -->` and `<!-- NAME:end -->` (a soak run, hostile-client
    tests, hand-written profile notes): a new benchmark run must not drop
    them.  `headline` is ours and is regenerated."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    return [m.group(0) for m in MARKED.finditer(text)
            if m.group(1) != "headline"]


def write_outputs(meta):
    """Print the table, write bench/RESULTS.md, refresh bench/README.md."""
    global QUICK
    QUICK = meta["quick"]
    LOADED.update(meta["loaded"])
    ROWS[:] = meta["rows"]
    table = table_lines()
    head = headline()
    md = ["# Benchmark results", "",
          "Generated by `make bench`%s on %s in %.0f s." % (
              " with BENCH_QUICK=1" if QUICK else "", meta["date"],
              meta["elapsed"]), "",
          "- Machine: %s; load average %s at the start, %s at the end."
          % (meta["machine"], meta["load0"], meta["load1"]),
          "- Libraries: Debian's `%s` and ours `%s` (paths as mapped in "
          "/proc/PID/maps of the servers); ours is a copy of build/%s "
          "taken at the start, built from commit %s."
          % (LOADED.get("debian", "?"), LOADED.get("ours", "?"), SONAME,
             meta["git"]),
          "- Server pinned to CPU %s, load generator (wrk -t1, loadclient) to "
          "CPU %s; %g s per load run; each point runs Debian, ours, "
          "%d× in turn (A B A B), %d× for the close calls (keep-alive at "
          "1,000 connections, HTTPS keep-alive at 100, upgrade round trips); "
          "the request/response and upgrade ceilings "
          "run as often, after each pair (A B C A B C); each figure is the median over "
          "those repeats." % (SERVER_CPU, LOAD_CPU, meta["seconds"],
                              meta["reps"], meta.get("reps_close_calls",
                                                     meta["reps"])),
          "- CPU = utime+stime of the server process over the load run "
          "and until it is idle again (/proc/PID/stat), per request / per MB / per round trip. "
          "Ratios below 1 in `CPU ours÷Debian` mean ours is cheaper.",
          "- `of ceiling`: throughput as a fraction of the raw C server's "
          "(bench/raw_server.c) and CPU efficiency (raw CPU ÷ library CPU); "
          "for memory, raw RSS growth ÷ library RSS growth."]
    if meta["note"]:
        md.append("- Note: " + meta["note"])
    md += ["", "## Headline", ""] + head + ["", "## Table", ""] + table + [""]
    results = os.path.join(ROOT, "bench", "RESULTS.md")
    for section in kept_sections(results):
        md += [section, ""]
    print("\n".join(table))
    print()
    print("\n".join(head))
    with open(results, "w") as f:
        f.write("\n".join(md))
    update_readme(head, meta["date"])
    log("bench: wrote bench/RESULTS.md (%.0f s)" % meta["elapsed"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--render"]:
        # Re-render RESULTS.md from the last run's build/bench/results.json.
        with open(os.path.join(BIN, "results.json")) as f:
            write_outputs(json.load(f))
    else:
        main()
