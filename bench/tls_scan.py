#!/usr/bin/env python3
"""make check-tls-scan: testssl.sh against the HTTPS demo server.

Starts examples-c/upgrade_echo over HTTPS (as `make demo` does: thread per
connection, a fresh self-signed certificate for localhost/127.0.0.1) with
our library and the default TLS settings (no MHD_OPTION_HTTPS_PRIORITIES),
runs Debian's testssl.sh against 127.0.0.1 and fails when it finds:

  - anything VULNERABLE (or "potentially vulnerable");
  - a protocol other than TLS 1.2 and TLS 1.3 offered, or either missing;
  - a cipher that is not a forward-secret AEAD suite (every cipher_x*
    line: ECDHE/DHE key exchange or a TLS 1.3 suite, with GCM, CCM or
    CHACHA20-POLY1305);
  - any other finding of severity LOW or above, except the ones about the
    self-signed test certificate (cert_*, OCSP, CAA) and the HTTP
    application behind it (HSTS, security headers, status code: the demo
    answers 426 without an Upgrade header), which are not the TLS layer's.

The summary goes to bench/RESULTS.md between the tlsscan markers (unless
TLSSCAN_NO_RESULTS=1); the full output stays in build/tlsscan/.  Takes 2-4
minutes; bounded by a 15-minute timeout.  Last line "N passed, M failed".
"""
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
OUT = os.path.join(BUILD, "tlsscan")
SERVER = os.path.join(BUILD, "examples", "upgrade_echo")
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
MARK_A, MARK_B = "<!-- tlsscan:start -->", "<!-- tlsscan:end -->"

# Findings about the certificate or the HTTP application, not the TLS layer.
NOT_TLS = re.compile(r"^(cert|certs_|OCSP_|DNS_CAArecord|certificate_transparency|HTTP_|HSTS|HPKP|"
                     r"security_headers|banner_|cookie_|clientsimulation-|scanTime|BREACH)")
FS_AEAD = re.compile(r"TLS_(AES_(128|256)_(GCM|CCM)_SHA\d+|CHACHA20_POLY1305_SHA256|"
                     r"(ECDHE|DHE)_(RSA|ECDSA|PSK)_WITH_(AES_(128|256)_(GCM|CCM)\w*|CHACHA20_POLY1305\w*))\s*$")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    os.makedirs(OUT, exist_ok=True)
    cert, key = os.path.join(OUT, "cert.pem"), os.path.join(OUT, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, stderr=subprocess.DEVNULL)
    port = free_port()
    env = dict(os.environ, LD_LIBRARY_PATH=BUILD)
    srv = subprocess.Popen([SERVER, str(port), "thread-per-connection", cert, key], env=env,
                           stdout=open(os.path.join(OUT, "server.log"), "w"), stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        js = os.path.join(OUT, "scan.json")
        txt = os.path.join(OUT, "scan.txt")
        for f in (js, txt):
            if os.path.exists(f):
                os.unlink(f)
        t0 = time.monotonic()
        try:
            subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off",
                            "--openssl-timeout", "10", "--jsonfile", js, "--logfile", txt,
                            "127.0.0.1:%d" % port], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=900)
        except subprocess.TimeoutExpired:
            print("tls-scan: testssl.sh did not finish within 15 minutes")
            print("0 passed, 1 failed")
            return 1
        elapsed = time.monotonic() - t0
        alive = srv.poll() is None
    finally:
        srv.terminate()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
    findings = json.load(open(js))
    by_id = {f["id"]: f for f in findings}
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    need(alive, "the server died during the scan")
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        f = by_id.get(proto, {}).get("finding", "?")
        need(f.startswith("not offered"), "%s: %s" % (proto, f))
    for proto in ("TLS1_2", "TLS1_3"):
        f = by_id.get(proto, {}).get("finding", "?")
        need(f.startswith("offered"), "%s: %s" % (proto, f))
    ciphers = [f for f in findings if f["id"].startswith("cipher_x")]
    need(len(ciphers) > 0, "no cipher_x* findings (did the per-cipher scan run?)")
    for f in ciphers:
        need(FS_AEAD.search(f["finding"]) is not None,
             "not a forward-secret AEAD suite: %s" % " ".join(f["finding"].split()))
    need(by_id.get("PFS", {}).get("finding", "").startswith("offered"), "forward secrecy not offered")
    for f in findings:
        text = f.get("finding", "")
        if re.search(r"vulnerable", text, re.I) and not re.search(r"not vulnerable", text, re.I):
            problems.append("%s: %s" % (f["id"], text))
        elif not NOT_TLS.match(f["id"]) and f.get("severity") in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
            problems.append("%s (%s): %s" % (f["id"], f["severity"], text))
    for p in problems:
        print("FAIL tls-scan: " + p)

    offered = [p for p in ("TLS1_2", "TLS1_3") if by_id.get(p, {}).get("finding", "").startswith("offered")]
    suites = [" ".join(f["finding"].split()).split()[-1] for f in ciphers]
    vulns = [f for f in findings if f["id"] in (
        "heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS",
        "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4")]
    ignored = sorted({f["id"] for f in findings if NOT_TLS.match(f["id"]) and
                      f.get("severity") in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN")})
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "testssl.sh"], capture_output=True,
                             text=True).stdout or "?"
    lines = [MARK_A, "", "## TLS scan (`make check-tls-scan`)", "",
             "Run %s: testssl.sh %s (Debian) against `examples-c/upgrade_echo` over HTTPS (thread per "
             "connection, RSA-2048 self-signed certificate, default TLS settings: no "
             "`MHD_OPTION_HTTPS_PRIORITIES`) on 127.0.0.1, %.0f s. Result: **%s**."
             % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), version, elapsed,
                "nothing VULNERABLE, no weak finding" if not problems else "%d problem(s)" % len(problems)),
             "",
             "- Protocols offered: %s; SSLv2, SSLv3, TLS 1.0, TLS 1.1 not offered." % ", ".join(
                 p.replace("TLS1_", "TLS 1.") for p in offered),
             "- Ciphers offered (%d, all forward-secret AEAD): %s." % (len(suites), ", ".join(suites)),
             "- Forward secrecy: %s; groups: %s." % (
                 by_id.get("PFS", {}).get("finding", "?"),
                 by_id.get("PFS_ECDHE_curves", {}).get("finding", "?")),
             "- Vulnerability checks: %s." % "; ".join(
                 "%s %s" % (f["id"], f["finding"].split(",")[0]) for f in vulns),
             "- Not counted (about the self-signed test certificate or the demo's HTTP answers, not "
             "the TLS layer): %s." % ", ".join(ignored)]
    if problems:
        lines += ["- Problems:"] + ["  - " + p for p in problems]
    lines += ["", MARK_B]
    if os.environ.get("TLSSCAN_NO_RESULTS") != "1":
        section = "\n".join(lines)
        text = open(RESULTS).read() if os.path.exists(RESULTS) else ""
        if MARK_A in text and MARK_B in text:
            text = text[:text.index(MARK_A)] + section + text[text.index(MARK_B) + len(MARK_B):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        with open(RESULTS, "w") as f:
            f.write(text)
        print("tls-scan: wrote %s" % RESULTS)
    print("\n".join(lines[4:-2]))
    checks = 7 + len(ciphers)
    print("%d passed, %d failed" % (max(checks - len(problems), 0), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
