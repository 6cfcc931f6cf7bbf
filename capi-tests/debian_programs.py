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
- systemd-journal-remote, over HTTP and over HTTPS: journal entries
  uploaded with POST (with a length and chunked, from curl and from
  systemd-journal-upload), the same entries written with both libraries;
- Janus (WebRTC server), its REST API over HTTP and HTTPS: a session with
  the echotest plugin, whose long poll is suspended until another thread
  resumes it, and the admin API;
- kiwix-serve (a thread pool) serving a ZIM file made with zimwriterfs:
  pages, a 1 MiB file whole and by range, gzip, HEAD, search, 404s;
- olad (Open Lighting Architecture): its web UI, run from its own loop
  with MHD_run, answering JSON pages after an RPC to itself with
  MHD_queue_response outside the access handler, and a form POST;
- collectd with its write_prometheus plugin: /metrics as text and as
  protobuf (the values change; the status, headers and metric names not);
- motion's web control without a camera: its main page and a camera's
  detection status (the pages name the instance's own port and paths,
  which are replaced before the comparison);
- idwcc (iddawc's OAuth2 test client), built on the Ulfius web framework:
  its web app, its session API read and written with JSON (POST and PUT,
  one body of 100 KiB), a form and a multipart upload, HEAD, DELETE, 404s,
  and 50 parallel requests.

usage: debian_programs.py OUR_LIB_DIR WORK_DIR   (make check-debian-programs)
Last line: "N passed, M failed".
"""
import concurrent.futures
import http.client
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


def start(argv, lib, stdin=None):
    """A server program with `lib` first on its library path."""
    return subprocess.Popen(argv, env=dict(os.environ, LD_LIBRARY_PATH=lib), stdin=stdin,
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


def came_up(p, lib, who, probe, seconds, serves):
    """Whether `probe()` held within `seconds` (checked as "`who`: `serves`");
    then checks that the program `p` mapped `lib`."""
    up = wait_until(probe, seconds)
    check(up, f'{who}: {serves}')
    if up:
        check(lib in mapped_library(p.pid), f'{who}: maps {lib}')
    return up


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
            if not came_up(p, lib, f'debuginfod with {name}', lambda: get(base + '/metrics', timeout=1)[0] == 200, 15,
                           'serves /metrics'):
                continue
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
            if not came_up(p, lib, f'{what} with {name}', lambda: get(base + '/machine', timeout=1)[0] != 0, 10,
                           'answers'):
                continue
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
            if not came_up(p, lib, f'collectd write_prometheus with {name}', lambda: b'collectd_memory' in get(url, timeout=1)[2], 15,
                           'serves /metrics'):
                continue
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
            if not came_up(p, lib, f'motion with {name}', lambda: get(base + '/', timeout=1)[0] == 200, 15,
                           'serves its web control'):
                continue
            own = lambda page: (page[0], without_length(page[1]),
                                page[2].replace(str(port).encode(), b'PORT').replace(d.encode(), b'DIR'))
            pages[name] = (own(get(base + '/')), own(get(base + '/0/detection/status')), get(base + '/nothing/here')[0])
    finally:
        for p in procs:
            stop(p)
    if len(pages) == 2:
        check(pages['Debian'] == pages['ours'], 'motion: the same pages with both libraries')


def fetch(url, *args, headers=None, method=None):
    """(status, headers without Date, ETag and Connection, body) of one
    request with curl, `args` added to its command line (curl keeps what
    it got of a cut answer; status 0 when nothing). Connection: a response
    queued in the handler's first call closes the connection in 0.9.75,
    not in ours (README, "Differences")."""
    argv = ['curl', '-s', '--max-time', '20', '--cacert', os.path.join(TLS_DIR, 'ca.pem'), '-D', '-', '-o', '-']
    for k, v in (headers or {}).items():
        argv += ['-H', f'{k}: {v}']
    if method == 'HEAD':
        argv.append('-I')
    r = subprocess.run(argv + list(args) + [url], capture_output=True)
    head, _, body = r.stdout.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    m = re.match(r'HTTP/1\.[01] (\d+)', lines[0])
    hdrs = [tuple(l.split(': ', 1)) for l in lines[1:] if ': ' in l]
    return (int(m.group(1)) if m else 0, [h for h in hdrs if h[0].lower() not in ('date', 'etag', 'connection')], body)


def journal_remote(https):
    """systemd-journal-remote receives journal entries uploaded with POST:
    bodies with a length and chunked, one entry and 3,000 (about 700 KiB),
    from curl and from systemd-journal-upload (libcurl streaming a journal
    file); the entries written must be the same with both libraries."""
    what = 'systemd-journal-remote' + (' over HTTPS' if https else '')
    scheme = 'https' if https else 'http'
    export = os.path.join(WORK, 'journal-entries.export')
    with open(export, 'w') as f:
        for i in range(3000):
            f.write(f'__REALTIME_TIMESTAMP={1700000000000000 + i}\n__MONOTONIC_TIMESTAMP={i + 1}\n'
                    f'_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=h\nMESSAGE=entry {i} {"x" * 100}\n\n')
    one = os.path.join(WORK, 'journal-one.export')
    with open(one, 'w') as f:
        f.write('__REALTIME_TIMESTAMP=1600000000000000\n__MONOTONIC_TIMESTAMP=1\n'
                '_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=h\nMESSAGE=one entry\n\n')
    # The journal file that systemd-journal-upload sends, made without HTTP.
    source = os.path.join(WORK, f'journal-source-{scheme}.journal')
    if os.path.exists(source):
        os.unlink(source)
    subprocess.run(['/lib/systemd/systemd-journal-remote', '--split-mode=none', '--output=' + source, export],
                   capture_output=True, check=True)
    tls_args = []
    if https:
        key = os.path.join(WORK, 'journal-remote.key')  # it refuses a key others may read
        shutil.copy(os.path.join(TLS_DIR, 'server.key'), key)
        os.chmod(key, 0o600)
        tls_args = ['--key=' + key, '--cert=' + os.path.join(TLS_DIR, 'server-chain.pem')]
    typ = ['-H', 'Content-Type: application/vnd.fdo.journal']
    seen = {}
    for name, lib in LIBS:
        port = 19900 + (os.getpid() + len(seen) + 2 * https) % 90
        out = os.path.join(WORK, f'journal-remote-{name}-{scheme}.journal')
        state = os.path.join(WORK, f'journal-upload-{name}-{scheme}.state')  # where to start uploading
        for old in (out, state):
            if os.path.exists(old):
                os.unlink(old)
        p = start(['/lib/systemd/systemd-journal-remote', '--split-mode=none', '--output=' + out,
                   f'--listen-{scheme}=127.0.0.1:{port}'] + tls_args, lib)
        url = f'{scheme}://localhost:{port}/upload'
        try:
            if not came_up(p, lib, f'{what} with {name}', lambda: fetch(url)[0] != 0, 10,
                           'answers'):
                continue
            answers = [
                fetch(url, *typ, '--data-binary', '@' + one),
                fetch(url, *typ, '--data-binary', '@' + export),
                fetch(url, *typ, '-H', 'Transfer-Encoding: chunked', '--data-binary', '@' + export),
                fetch(url),  # GET: refused
                fetch(url, '-H', 'Content-Type: text/plain', '--data-binary', '@' + one),  # refused
            ]
            check([a[0] for a in answers[:3]] == [202] * 3, f'{what} with {name}: three uploads accepted')
            upload = subprocess.run(['/lib/systemd/systemd-journal-upload', '--follow=no', '--url=' + url[:-7],
                                     '--save-state=' + state,
                                     '--trust=' + os.path.join(TLS_DIR, 'ca.pem'), '--file=' + source] + tls_args,
                                    capture_output=True, timeout=60)
            check(upload.returncode == 0, f'{what} with {name}: systemd-journal-upload sends a journal file')
        finally:
            stop(p)
        exported = subprocess.run(['journalctl', '--file=' + out, '-o', 'export'], capture_output=True).stdout
        messages = re.findall(rb'^MESSAGE=(.*)$', exported, re.M)
        check(len(messages) == 1 + 3 * 3000, f'{what} with {name}: {len(messages)} of 9001 entries written')
        seen[name] = (answers, messages)
    if len(seen) == 2:
        check(seen['Debian'] == seen['ours'], f'{what}: the same answers and entries with both libraries')


def janus():
    """The Janus WebRTC server's REST API (thread per connection, with
    MHD_ALLOW_SUSPEND_RESUME): a session with the echotest plugin over HTTP
    and HTTPS, its long poll (a GET suspended until another thread has an
    event for it and resumes it), and the admin API."""
    import json
    import threading
    folder = '/usr/lib/x86_64-linux-gnu/janus'
    plugins = sorted(f for f in os.listdir(folder + '/plugins') if f.endswith('.so'))
    transports = sorted(f for f in os.listdir(folder + '/transports') if f.endswith('.so'))
    post = lambda url, msg: request(url, json.dumps(msg).encode())

    def request(url, data=None, method=None):
        req = urllib.request.Request(url, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=20, context=TLS_CLIENT) as r:
                st, hdrs, body = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            st, hdrs, body = e.code, list(e.headers.items()), e.read()
        except (OSError, http.client.HTTPException):  # no answer, or a cut one
            return 0, [], None
        hdrs = [(k, v) for k, v in hdrs if k.lower() not in ('date', 'connection')]
        return st, hdrs, json.loads(body) if body else None

    def session(base, admin):
        """The exchanges of one session, ids replaced by names."""
        ids = {}
        out = [('info', post(base, {'janus': 'info', 'transaction': 'i'})[:2])]
        st, hdrs, created = post(base, {'janus': 'create', 'transaction': 'c'})
        sid = (created or {}).get('data', {}).get('id')
        if not sid:
            return out + [('create', st, created)]
        ids[str(sid)] = 'SESSION'
        out.append(('create', st, hdrs, created))
        st, hdrs, attached = post(f'{base}/{sid}', {'janus': 'attach', 'plugin': 'janus.plugin.echotest', 'transaction': 'a'})
        hid = (attached or {}).get('data', {}).get('id')
        ids[str(hid)] = 'HANDLE'
        out.append(('attach', st, hdrs, attached))
        polled = []
        poll = threading.Thread(target=lambda: polled.append(request(f'{base}/{sid}?maxev=1')))
        poll.start()
        time.sleep(0.5)  # the long poll is suspended by now; the event resumes it, whenever it comes
        out.append(('message', post(f'{base}/{sid}/{hid}', {'janus': 'message', 'body': {'audio': True}, 'transaction': 'm'})))
        poll.join(25)
        out.append(('long poll', polled))
        out.append(('keepalive', post(f'{base}/{sid}', {'janus': 'keepalive', 'transaction': 'k'})))
        out.append(('sessions', post(admin, {'janus': 'list_sessions', 'transaction': 's', 'admin_secret': 'janusoverlord'})))
        out.append(('destroy', post(f'{base}/{sid}', {'janus': 'destroy', 'transaction': 'd'})))
        out.append(('gone', request(f'{base}/{sid}?maxev=1')))
        out.append(('options', request(base, method='OPTIONS')))
        text = json.dumps(out, sort_keys=True)
        for value, name in ids.items():
            text = re.sub(rf'\b{value}\b', f'"{name}"', text)
        return json.loads(text)

    seen = {}
    for name, lib in LIBS:
        ports = [19700 + (os.getpid() + 3 * len(seen) + i) % 180 for i in range(3)]
        conf = os.path.join(WORK, f'janus-{name}')
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, 'janus.jcfg'), 'w') as f:
            f.write(f'general: {{\n configs_folder = "{conf}"\n plugins_folder = "{folder}/plugins"\n'
                    f' transports_folder = "{folder}/transports"\n events_folder = "{folder}/events"\n'
                    f' loggers_folder = "{folder}/loggers"\n admin_secret = "janusoverlord"\n}}\n'
                    'nat: {\n ice_ignore_list = "vmnet"\n}\n'
                    f'plugins: {{\n disable = "{",".join(p for p in plugins if "echotest" not in p)}"\n}}\n'
                    f'transports: {{\n disable = "{",".join(t for t in transports if "http" not in t)}"\n}}\n'
                    'loggers: {\n disable = "libjanus_jsonlog.so"\n}\n')
        with open(os.path.join(conf, 'janus.transport.http.jcfg'), 'w') as f:
            f.write(f'general: {{\n base_path = "/janus"\n http = true\n ip = "127.0.0.1"\n port = {ports[0]}\n'
                    f' https = true\n secure_ip = "127.0.0.1"\n secure_port = {ports[1]}\n}}\n'
                    f'admin: {{\n admin_base_path = "/admin"\n admin_http = true\n admin_ip = "127.0.0.1"\n'
                    f' admin_port = {ports[2]}\n}}\n'
                    f'certificates: {{\n cert_pem = "{TLS_DIR}/server-chain.pem"\n cert_key = "{TLS_DIR}/server.key"\n}}\n')
        with open(os.path.join(conf, 'janus.plugin.echotest.jcfg'), 'w') as f:
            f.write('general: {\n}\n')
        p = start(['janus', '-F', conf, '-o', '-N'], lib)
        plain, secure = f'http://127.0.0.1:{ports[0]}/janus', f'https://localhost:{ports[1]}/janus'
        admin = f'http://127.0.0.1:{ports[2]}/admin'
        try:
            if not came_up(p, lib, f'janus with {name}', lambda: request(plain, method='OPTIONS')[0] == 200, 15,
                           'answers'):
                continue
            seen[name] = [session(plain, admin), session(secure, admin)]
            for scheme, s in zip(('HTTP', 'HTTPS'), seen[name]):
                polled = dict((e[0], e[1:]) for e in s).get('long poll', [[]])[0]
                got = polled and polled[0] and (polled[0][2] or {}).get('plugindata', {}).get('data', {})
                check(got == {'echotest': 'event', 'result': 'ok'}, f'janus with {name} over {scheme}: the long poll gets the event')
        finally:
            stop(p)
    if len(seen) == 2:
        check(seen['Debian'] == seen['ours'], 'janus: the same answers with both libraries, HTTP and HTTPS')


def kiwix():
    """kiwix-serve (a thread pool) serving a ZIM file made here: pages,
    a 1 MiB file whole, by range, gzip-compressed, HEAD, search, 404s."""
    html = os.path.join(WORK, 'kiwix-html')
    os.makedirs(html, exist_ok=True)
    with open(os.path.join(html, 'index.html'), 'w') as f:
        f.write('<html><head><title>Home</title></head><body><h1>Hello</h1><a href="big.html">big</a></body></html>')
    with open(os.path.join(html, 'big.html'), 'w') as f:
        f.write('<html><head><title>Big page</title></head><body>' +
                ''.join(f'<p>line {i} {"lorem ipsum " * 8}</p>\n' for i in range(5000)) + '</body></html>')
    with open(os.path.join(html, 'data.bin'), 'wb') as f:
        f.write(bytes(range(256)) * 4096)
    # zimwriterfs wants a 48x48 PNG illustration.
    import struct
    import zlib
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    with open(os.path.join(html, 'icon.png'), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 48, 48, 8, 2, 0, 0, 0)) +
                chunk(b'IDAT', zlib.compress((b'\x00' + b'\xff\x00\x00' * 48) * 48)) +
                chunk(b'IEND', b''))
    zim = os.path.join(WORK, 't.zim')
    if os.path.exists(zim):
        os.unlink(zim)
    made = subprocess.run(['zimwriterfs', '-w', 'index.html', '-I', 'icon.png', '-l', 'eng', '-t', 'Test',
                           '-d', 'test', '-c', 'me', '-p', 'me', '-n', 'testzim', html, zim], capture_output=True)
    check(made.returncode == 0, 'kiwix: a ZIM file made with zimwriterfs')
    if made.returncode != 0:
        return
    pages = {}
    for name, lib in LIBS:
        port = 18500 + (os.getpid() + len(pages)) % 400
        p = start(['kiwix-serve', '-i', '127.0.0.1', '-p', str(port), '-t', '4', zim], lib)
        base = f'http://127.0.0.1:{port}'
        try:
            if not came_up(p, lib, f'kiwix-serve with {name}', lambda: fetch(base + '/t/index.html')[0] == 200, 15,
                           'serves the ZIM file'):
                continue
            whole = fetch(base + '/t/data.bin')
            check(whole[2] == bytes(range(256)) * 4096, f'kiwix-serve with {name}: 1 MiB byte for byte')
            pages[name] = [fetch(base + u) for u in ('/t', '/t/index.html', '/t/big.html', '/t/missing', '/nothing',
                                                      '/search?content=t&pattern=lorem', '/suggest?content=t&term=Big',
                                                      '/catalog/v2/illustration/t/?size=48')]
            pages[name] += [whole, fetch(base + '/t/data.bin', headers={'Range': 'bytes=100-199'}),
                            fetch(base + '/t/big.html', headers={'Accept-Encoding': 'gzip, deflate'}),
                            fetch(base + '/t/data.bin', method='HEAD')]
        finally:
            stop(p)
    if len(pages) == 2:
        check(pages['Debian'] == pages['ours'], 'kiwix-serve: the same answers with both libraries')


def ola():
    """olad, the Open Lighting Architecture daemon: its web UI in a loop of
    its own (MHD_run, no internal thread), JSON pages it answers after an
    RPC to itself (MHD_queue_response outside the access handler), a form
    POST through the post processor."""
    pages = {}
    for name, lib in LIBS:
        port = 18900 + (os.getpid() + 2 * len(pages)) % 400
        cfg = os.path.join(WORK, f'ola-{name}')
        os.makedirs(cfg, exist_ok=True)
        os.chmod(cfg, 0o777)
        argv = ['olad', '-c', cfg, '-p', str(port), '-r', str(port + 1), '--no-register-with-dns-sd', '-l', '1']
        if os.getuid() == 0:
            # It refuses to run as root.
            argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] + argv
        p = start(argv, lib)
        base = f'http://127.0.0.1:{port}'
        try:
            # setpriv execs olad: its maps are p.pid's
            if not came_up(p, lib, f'olad with {name}', lambda: fetch(base + '/')[0] == 200, 15,
                           'serves its web UI'):
                continue
            stats = fetch(base + '/json/server_stats')  # its values change, its keys not
            pages[name] = [(stats[0], without_length(stats[1]), sorted(re.findall(rb'"(\w+)":', stats[2])))]
            own = lambda page: (page[0], without_length(page[1]),  # its JSON writes / as \/
                                page[2].replace(cfg.encode(), b'CONFIG').replace(cfg.replace('/', '\\/').encode(), b'CONFIG'))
            pages[name] += [own(fetch(base + u)) for u in ('/', '/ola.html', '/json/universe_plugin_list', '/json/plugin_info?id=1',
                                                           '/help', '/nothing', '/new/', '/reload', '/get_dmx?u=1')]
            pages[name].append(fetch(base + '/set_dmx', '-d', 'u=1&d=1,2,3'))  # through the post processor
            check(all(pg[0] for pg in pages[name]), f'olad with {name}: every page answered')
        finally:
            stop(p)
    if len(pages) == 2:
        check(pages['Debian'] == pages['ours'], 'olad: the same answers with both libraries')


def idwcc():
    pages = {}
    big = os.path.join(WORK, 'idwcc-big.json')
    with open(big, 'w') as f:
        f.write('{"client_id":"big","additional_parameters":{"x":"%s"}}' % ('y' * 100_000))
    for name, lib in LIBS:
        port = 19300 + (os.getpid() + 7) % 600
        # It quits on a line (or the end) of its standard input.
        p = start(['idwcc', '-p', str(port), '-b', 'true'], lib, stdin=subprocess.PIPE)
        base = f'http://127.0.0.1:{port}'
        try:
            if not came_up(p, lib, f'idwcc with {name}', lambda: fetch(base + '/')[0] == 200, 15,
                           'serves its web app'):
                continue
            session = base + '/api/session'
            json_type = ('-H', 'Content-Type: application/json')
            answers = [fetch(base + '/'), fetch(session),
                       fetch(session, '-X', 'POST', *json_type, '--data', '{"client_id":"abc","redirect_uri":"http://x/cb","token_exp":900}')]
            stored = fetch(session)
            check(b'"client_id":"abc"' in stored[2] and b'"token_exp":900' in stored[2],
                  f'idwcc with {name}: the session written with POST reads back')
            answers += [stored, fetch(session, '-X', 'PUT', *json_type, '--data', '{"client_id":"put"}'),
                        fetch(session, '-X', 'POST', *json_type, '--data-binary', '@' + big)]
            stored = fetch(session)
            check(b'"x":"' + b'y' * 100_000 + b'"' in stored[2], f'idwcc with {name}: a 100 KiB JSON body reads back')
            answers += [stored, fetch(base + '/api/generate', '--data', 'a=b&c=d'),
                        fetch(base + '/api/message', '-F', 'file=@/etc/hostname'),
                        fetch(session, method='HEAD'), fetch(session, '-X', 'DELETE'),
                        fetch(base + '/nothing/here'), fetch(base + '/api/configDownload')]
            with concurrent.futures.ThreadPoolExecutor(10) as pool:
                statuses = list(pool.map(lambda _: fetch(base + '/css/bootstrap.min.css')[0], range(50)))
            check(statuses.count(200) == 50, f'idwcc with {name}: 50 of 50 parallel requests')
            pages[name] = answers
        finally:
            p.stdin.close()
            stop(p)
    if len(pages) == 2:
        check(pages['Debian'] == pages['ours'], 'idwcc: the same answers with both libraries')


debuginfod()
janus()
kiwix()
ola()
gatewayd(https=False)
gatewayd(https=True)
journal_remote(https=False)
journal_remote(https=True)
collectd()
motion()
idwcc()
print(f'{passed} passed, {failed} failed')
sys.exit(1 if failed else 0)
