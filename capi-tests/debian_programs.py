#!/usr/bin/env python3
"""Programs Debian ships linked against libmicrohttpd.so.12, run unchanged
with Debian's library and with ours (LD_LIBRARY_PATH): the answers must be
the same.

- debuginfod (elfutils): scans a directory holding one executable and serves
  it by build-id (a file response), its /metrics page, 404s, and 200
  requests from 20 parallel clients;
- systemd-journal-gatewayd, over HTTP and over HTTPS (--cert/--key, the
  test certificate of capi-tests/tls): /machine, /browse and the first
  lines of /entries (chunked) from this machine's journal;
- collectd with its write_prometheus plugin: /metrics as text and as
  protobuf (the values change; the status, headers and metric names not);
- motion's web control without a camera: its main page and a camera's
  detection status (the pages name the instance's own port and paths,
  which are replaced before the comparison).

usage: debian_programs.py OUR_LIB_DIR WORK_DIR   (make check-debian-programs)
Last line: "N passed, M failed".
"""
import concurrent.futures
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

OURS, WORK = (os.path.abspath(a) for a in sys.argv[1:3])
REF = '/usr/lib/x86_64-linux-gnu'
LIBS = (('Debian', REF), ('ours', OURS))
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f'ok     {what}')
    else:
        failed += 1
        print(f'FAIL   {what}')


TLS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tls')
# Clients of the HTTPS runs trust the test root CA (capi-tests/tls/README).
TLS_CLIENT = ssl.create_default_context(cafile=os.path.join(TLS_DIR, 'ca.pem'))


def get(url, headers=None, timeout=10):
    """(status, headers without Date, body); status 0 when nothing came."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=TLS_CLIENT) as r:
            return r.status, [(k, v) for k, v in r.getheaders() if k.lower() != 'date'], r.read()
    except urllib.error.HTTPError as e:
        return e.code, [(k, v) for k, v in e.headers.items() if k.lower() != 'date'], e.read()
    except OSError:
        return 0, [], b''


def wait_until(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def start(argv, lib):
    """A server program with `lib` first on its library path."""
    return subprocess.Popen(argv, env=dict(os.environ, LD_LIBRARY_PATH=lib),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def without_length(headers):
    """The headers but Content-Length (of pages whose values change)."""
    return [h for h in headers if h[0].lower() != 'content-length']


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def mapped_library(pid):
    with open(f'/proc/{pid}/maps') as f:
        for line in f:
            if 'libmicrohttpd.so' in line:
                return line.split()[-1]
    return ''


def debuginfod():
    exe_dir = os.path.join(WORK, 'debuginfod-files')
    os.makedirs(exe_dir, exist_ok=True)
    exe = os.path.join(exe_dir, 'curl')
    shutil.copy('/usr/bin/curl', exe)
    notes = subprocess.run(['readelf', '-n', exe], capture_output=True, text=True).stdout
    build_id = re.search(r'Build ID: ([0-9a-f]+)', notes).group(1)
    data = open(exe, 'rb').read()
    results = {}
    for name, lib in LIBS:
        port = 20500 + (os.getpid() + len(results)) % 5000
        db = os.path.join(WORK, f'debuginfod-{name}.sqlite')
        if os.path.exists(db):
            os.unlink(db)
        p = start(['debuginfod', '-p', str(port), '-d', db, '-F', exe_dir], lib)
        base = f'http://127.0.0.1:{port}'
        try:
            up = wait_until(lambda: get(base + '/metrics', timeout=1)[0] == 200, 15)
            check(up, f'debuginfod with {name}: serves /metrics')
            if not up:
                continue
            check(lib in mapped_library(p.pid), f'debuginfod with {name}: maps {lib}')
            url = f'{base}/buildid/{build_id}/executable'
            found = wait_until(lambda: get(url, timeout=2)[0] == 200, 30)
            st, hdrs, body = get(url)
            check(found and body == data, f'debuginfod with {name}: the executable by build-id ({len(body)} bytes)')
            missing = get(f'{base}/buildid/{"0" * 40}/debuginfo')
            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                statuses = list(pool.map(lambda _: get(url)[0], range(200)))
            check(statuses.count(200) == 200, f'debuginfod with {name}: 200 of 200 parallel requests')
            results[name] = (st, hdrs, missing[0], missing[1])
        finally:
            stop(p)
    if len(results) == 2:
        check(results['Debian'] == results['ours'], 'debuginfod: the same status lines and headers with both libraries')


def gatewayd(https):
    exe = '/lib/systemd/systemd-journal-gatewayd'
    argv = [exe]
    if https:
        # It refuses a key others may read.
        key = os.path.join(WORK, 'gatewayd.key')
        shutil.copy(os.path.join(TLS_DIR, 'server.key'), key)
        os.chmod(key, 0o600)
        argv += ['--cert=' + os.path.join(TLS_DIR, 'server-chain.pem'), '--key=' + key]
    what = 'systemd-journal-gatewayd' + (' over HTTPS' if https else '')
    pages = {}
    for name, lib in LIBS:
        # It listens on 19531 (no socket activation here): one at a time.
        p = start(argv, lib)
        base = ('https://localhost:19531' if https else 'http://127.0.0.1:19531')
        try:
            up = wait_until(lambda: get(base + '/machine', timeout=1)[0] != 0, 10)
            check(up, f'{what} with {name}: answers')
            if not up:
                continue
            check(lib in mapped_library(p.pid), f'{what} with {name}: maps {lib}')
            machine = get(base + '/machine')
            browse = get(base + '/browse')
            st, hdrs, body = get(base + '/entries', {'Accept': 'application/json', 'Range': 'entries=:5'})
            pages[name] = (machine, browse, (st, hdrs, body.split(b'\n')[:3]))
        finally:
            stop(p)
            wait_until(lambda: get(base + '/machine', timeout=1)[0] == 0, 10)
    if len(pages) == 2:
        for i, page in enumerate(('/machine', '/browse', '/entries')):
            check(pages['Debian'][i] == pages['ours'][i], f'{what}: {page} the same with both libraries')


def collectd():
    pages = {}
    procs = []
    try:
        for name, lib in LIBS:
            port = 19100 + (os.getpid() + len(procs)) % 800
            base_dir = os.path.join(WORK, f'collectd-{name}')
            os.makedirs(base_dir, exist_ok=True)
            conf = os.path.join(WORK, f'collectd-{name}.conf')
            with open(conf, 'w') as f:
                f.write(f'Interval 1\nBaseDir "{base_dir}"\nPIDFile "{base_dir}/pid"\n'
                        'PluginDir "/usr/lib/collectd"\nTypesDB "/usr/share/collectd/types.db"\n'
                        'LoadPlugin load\nLoadPlugin memory\nLoadPlugin write_prometheus\n'
                        f'<Plugin write_prometheus>\n  Port "{port}"\n</Plugin>\n')
            p = start(['collectd', '-f', '-C', conf], lib)
            procs.append(p)
            url = f'http://127.0.0.1:{port}/metrics'
            # up once the first values (1 s interval) are in
            up = wait_until(lambda: b'collectd_memory' in get(url, timeout=1)[2], 15)
            check(up, f'collectd write_prometheus with {name}: serves /metrics')
            if not up:
                continue
            check(lib in mapped_library(p.pid), f'collectd with {name}: maps {lib}')
            st, hdrs, body = get(url)
            names = sorted(set(re.findall(rb'^# TYPE (\S+)', body, re.M)))
            pb = get(url, {'Accept': 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited'})
            pages[name] = (st, without_length(hdrs), names, pb[0], without_length(pb[1]))
    finally:
        for p in procs:
            stop(p)
    if len(pages) == 2:
        check(pages['Debian'] == pages['ours'], 'collectd write_prometheus: the same status, headers and metrics with both libraries')


def motion():
    pages = {}
    procs = []
    try:
        for name, lib in LIBS:
            port = 19300 + (os.getpid() + len(procs)) % 600
            d = os.path.join(WORK, f'motion-{name}')
            os.makedirs(d, exist_ok=True)
            conf = os.path.join(WORK, f'motion-{name}.conf')
            with open(conf, 'w') as f:
                f.write(f'daemon off\nsetup_mode off\nwebcontrol_port {port}\nwebcontrol_localhost on\n'
                        f'webcontrol_parms 2\nstream_port 0\ntarget_dir {d}\npid_file {d}/pid\n')
            p = start(['motion', '-n', '-c', conf], lib)
            procs.append(p)
            base = f'http://127.0.0.1:{port}'
            up = wait_until(lambda: get(base + '/', timeout=1)[0] == 200, 15)
            check(up, f'motion with {name}: serves its web control')
            if not up:
                continue
            check(lib in mapped_library(p.pid), f'motion with {name}: maps {lib}')
            own = lambda page: (page[0], without_length(page[1]),
                                page[2].replace(str(port).encode(), b'PORT').replace(d.encode(), b'DIR'))
            pages[name] = (own(get(base + '/')), own(get(base + '/0/detection/status')), get(base + '/nothing/here')[0])
    finally:
        for p in procs:
            stop(p)
    if len(pages) == 2:
        check(pages['Debian'] == pages['ours'], 'motion: the same pages with both libraries')


debuginfod()
gatewayd(https=False)
gatewayd(https=True)
collectd()
motion()
print(f'{passed} passed, {failed} failed')
sys.exit(1 if failed else 0)
