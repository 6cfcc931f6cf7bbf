# Random bodies for capi-tests/postdiff (deterministic).
import random
random.seed(7)
def esc(b):
    m = {'\r': '\\r', '\n': '\\n', '\\': '\\\\', '\t': '\\x09', '\0': '\\0'}
    return ''.join(m.get(c, c) for c in b)
lines = []
for i in range(250):
    n = random.randint(1, 40)
    lines.append('256\tapplication/x-www-form-urlencoded\t' + esc(''.join(random.choice('ab%=&+\r\n0F4g') for _ in range(n))))
frags = ['--xy', '\r\n', '\n', '\r', '-', 'Content-Disposition: form-data; name="a"', 'content-type: multipart/mixed; boundary=zz',
         '--zz', 'filename="f"', 'v', 'x', '--', 'Content-Type: t/p', ' ']
for i in range(350):
    n = random.randint(1, 14)
    lines.append('256\tmultipart/form-data; boundary=xy\t' + esc(''.join(random.choice(frags) for _ in range(n))))
for i in range(100):
    parts = []
    for j in range(random.randint(1, 3)):
        val = ''.join(random.choice('ab\r\n-x') for _ in range(random.randint(0, 12)))
        parts.append('--xy\r\nContent-Disposition: form-data; name="k%d"\r\n\r\n%s\r\n' % (j, val))
    lines.append('256\tmultipart/form-data; boundary=xy\t' + esc(''.join(parts) + '--xy--\r\n'))
print('\n'.join(lines))
