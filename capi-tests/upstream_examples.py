#!/usr/bin/env python3
"""libmicrohttpd 0.9.75's example programs (src/examples of its source),
built against Debian's header and library, run once with Debian's library
and once with ours: each answers the same requests (curl), and the answers
must be the same bytes but for the Date header, digest nonces and a
random session id.

usage: upstream_examples.py EXAMPLES_DIR OUR_LIB_DIR WWW_DIR
(capi-tests/upstream_suite.sh builds the programs; the file servers serve
WWW_DIR). The socket-based upgrade examples are left out (the exported
MHD_create_response_for_upgrade is the event-mask API:
shared/design/UPGRADE.md). Last line: "N passed, M failed"; an example
that did not build is skipped."""
import os
import re
import socket
import subprocess
import sys
import time
EX, OURS, WWW = (os.path.abspath(a) for a in sys.argv[1:4])
REF = '/usr/lib/x86_64-linux-gnu'
# Below Linux's ephemeral range (32768 on): a client's socket there, in
# TIME_WAIT, makes the examples' bind fail (they do not set SO_REUSEADDR).
port = [20000 + os.getpid() % 8000]
def curl(url, *args):
    # Connection: close on every request: 0.9.75 closes after a response
    # queued in the access handler's first call (README, intended
    # differences), ours keeps the connection; the answers are compared.
    cmd = ['curl', '-s', '-S', '-i', '--max-time', '5', '-k', '-H', 'Connection: close'] + list(args) + [url]
    p = subprocess.run(cmd, capture_output=True)
    out = p.stdout
    # normalise: drop Date, nonce/opaque values, and post_example's session
    # id (rand() seeded with the second it started)
    out = re.sub(rb'(?im)^date: .*\r\n', b'', out)
    out = re.sub(rb'nonce="[^"]*"', b'nonce=N', out)
    out = re.sub(rb'opaque="[^"]*"', b'opaque=O', out)
    out = re.sub(rb'(?im)^(set-cookie: session=)[0-9A-F]+', rb'\1SID', out)
    return p.returncode, out
CASES = {
 'minimal_example': [('/', [])],
 'minimal_example_empty': [('/', [])],
 'querystring_example': [('/?q=hello', [])],
 'chunked_example': [('/', [])],
 'authorization_example': [('/', []), ('/', ['-u', 'Aladdin:open sesame']), ('/', ['-u', 'Aladdin:wrong'])],
 'digest_auth_example': [('/', []), ('/', ['--digest', '-u', 'testuser:testpass']), ('/', ['--digest', '-u', 'testuser:bad'])],
 'fileserver_example': [('/hello.txt', []), ('/nope', []), ('/hello.txt', ['-I'])],
 'fileserver_example_dirs': [('/hello.txt', []), ('/', [])],
 'fileserver_example_external_select': [('/hello.txt', []), ('/nope', [])],
 'http_compression': [('/', ['-H', 'Accept-Encoding: deflate']), ('/', [])],
 # compressed a block at a time, as the library asks: the blocks' sizes
 # are the library's choice, so the bodies are compared decompressed
 'http_chunked_compression': [('/', ['--compressed'])],
 'post_example': [('/', []), ('/2', ['-d', 'v1=abc&v2=def']), ('/', ['-X', 'PUT'])],
 'refuse_post_example': [('/', []), ('/', ['-d', 'a=b'])],
 'demo': [('/', []), ('/', ['-F', 'category=books', '-F', 'upload=@/tmp/upex/www/hello.txt'])],
 'dual_stack_example': [('/', [])],
 'benchmark': [('/', [])],
 'suspend_resume_epoll': [('/', [])],
 'https_fileserver_example': [('/hello.txt', [])],
 'minimal_example_empty_tls': [('/', [])],
 'benchmark_https': [('/', [])],
 'demo_https': [('/', [])],
 # an endless stream: its head and first bytes
 'minimal_example_comet': [('/', ['--max-time', '1'])],
}
# Endless streams: only their start is compared.
CUT = {'minimal_example_comet': 400}
TLS = {'https_fileserver_example', 'minimal_example_empty_tls', 'benchmark_https', 'demo_https'}
same = differ = 0
for name, reqs in CASES.items():
    if not os.access(os.path.join(EX, name), os.X_OK):
        print(f'SKIP   {name}: not built')
        continue
    res = {}
    for lib, L in (('ref', REF), ('ours', OURS)):
        port[0] += 1
        argv = [os.path.join(EX, name), str(port[0])]
        if name == 'fileserver_example_external_select': argv.append('30')
        env = dict(os.environ, LD_LIBRARY_PATH=L)
        # The examples run until a key is pressed: stdin is a pipe we never write.
        p = subprocess.Popen(argv, env=env, cwd=WWW, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):  # up to 5 s for the server to listen
            try:
                socket.create_connection(('127.0.0.1', port[0]), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            print(f'FAIL   {name} ({lib}): not listening on port {port[0]}')
            differ += 1
        scheme = 'https' if name in TLS else 'http'
        res[lib] = [curl(f'{scheme}://127.0.0.1:{port[0]}{path}', *args) for path, args in reqs]
        if name in CUT:
            res[lib] = [(0, out[:CUT[name]]) for _, out in res[lib]]
        p.terminate()
        try: p.wait(3)
        except subprocess.TimeoutExpired: p.kill()
    for i, (a, b) in enumerate(zip(res['ref'], res['ours'])):
        if not a[1].startswith(b'HTTP/1.'):
            differ += 1
            print(f'FAIL   {name} #{i}: no HTTP answer from Debian\'s library: {a!r:.200}')
        elif a == b:
            same += 1; print(f'same   {name} #{i}')
        else:
            differ += 1; print(f'DIFFER {name} #{i} {reqs[i]}\n  ref:  {a!r:.600}\n  ours: {b!r:.600}')
print(f'{same} passed, {differ} failed')
sys.exit(1 if differ else 0)
