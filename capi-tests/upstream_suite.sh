#!/bin/sh
# make check-upstream: libmicrohttpd 0.9.75's own test programs
# (src/testcurl and src/testcurl/https of its source, and those tests of
# src/microhttpd that use the library as a shared library) and its example
# servers (src/examples, driven by upstream_examples.py), built once against
# Debian's library and run twice: with it, and with ours put in front by
# LD_LIBRARY_PATH, the way a program built for Debian's library meets ours.
# The source (LGPL) is fetched from Debian's archive into build/upstream and
# never committed. Needs libcurl's and GnuTLS's dev packages (the tests'
# TLS clients use GnuTLS). Last line: "N passed, M failed", where a test
# passes when ours ends it as Debian's does (or as listed in known()).
# Without the network the run is skipped ("0 passed, 0 failed", status 0).
set -u
ROOT=$(pwd)
B=$ROOT/build/upstream
V=0.9.75
TARBALL=libmicrohttpd_$V.orig.tar.xz
SHA256=796e7e217a4802679fcac667a4e98501c53185dcf50ca0583870e84192620131
URL=http://deb.debian.org/debian/pool/main/libm/libmicrohttpd/$TARBALL
OURS=$ROOT/build
REF=/usr/lib/x86_64-linux-gnu
SRC=$B/libmicrohttpd-$V

# Where ours knowingly fails a test Debian's passes: the test, and why.
known() {
  case $1 in
    test_https_sni) echo "MHD_OPTION_HTTPS_CERT_CALLBACK takes GnuTLS callbacks (refused at start: src/tls/README.md)";;
    test_tls_options) echo "asks for TLS 1.0 and 1.1, which are not offered (src/tls/README.md)";;
    test_postprocessor*) echo "builds a struct MHD_Connection by hand from libmicrohttpd's internal headers";;
    test_upgrade*) echo "the socket-based upgrade API: the exported MHD_create_response_for_upgrade is the event-mask one (shared/design/UPGRADE.md); its client also omits Host";;
    *) return 1;;
  esac
}

sh bench/need.sh libgnutls28-dev:pc=gnutls libcurl4-openssl-dev:curl-config xz-utils:xz \
  zlib1g-dev:pc=zlib libmagic-dev:pc=libmagic curl:curl || exit 1

mkdir -p "$B"
if [ ! -f "$B/$TARBALL" ]; then
  if ! curl -fsS --max-time 120 -o "$B/$TARBALL.part" "$URL"; then
    echo "SKIP upstream: cannot fetch $URL"
    echo "0 passed, 0 failed"
    exit 0
  fi
  mv "$B/$TARBALL.part" "$B/$TARBALL"
fi
echo "$SHA256  $B/$TARBALL" | sha256sum -c --quiet - || { echo "upstream: $TARBALL: checksum mismatch"; exit 1; }
if [ ! -f "$SRC/.built-v2" ]; then
  rm -rf "$SRC"
  tar -C "$B" -xf "$B/$TARBALL" || exit 1
  echo "upstream: building libmicrohttpd $V's tests (log: $B/build.log)"
  ( cd "$SRC" && ./configure --disable-doc --disable-examples &&
    make -j"$(nproc)" && make -j"$(nproc)" -C src/testcurl check TESTS= &&
    make -j"$(nproc)" -C src/testcurl/https check TESTS= &&
    make -j"$(nproc)" -C src/microhttpd check TESTS= ) >"$B/build.log" 2>&1 ||
    { echo "upstream: build failed, see $B/build.log"; exit 1; }
  touch "$SRC/.built-v2"
fi

# The programs libtool left in .libs link libmicrohttpd.so.12 without a
# run path: LD_LIBRARY_PATH picks the library.
run() { # dir lib -> "name rc" lines
  for t in "$1"/.libs/test_*; do
    [ -x "$t" ] || continue
    # src/microhttpd's unit tests link the library's objects statically
    readelf -d "$t" 2>/dev/null | grep -q 'libmicrohttpd\.so' || continue
    n=$(basename "$t")
    ( cd "$1" && LD_LIBRARY_PATH=$2 timeout 120 "$t" >"$B/log/$n.$3.log" 2>&1 ) 2>/dev/null
    echo "$n $?"
  done
}
mkdir -p "$B/log"
same=0; differ=0
for dir in "$SRC/src/testcurl" "$SRC/src/testcurl/https" "$SRC/src/microhttpd"; do
  run "$dir" "$REF" ref >"$B/ref.txt"
  run "$dir" "$OURS" ours >"$B/ours.txt"
  while read -r n rc_ref; do
    rc_ours=$(awk -v n="$n" '$1 == n { print $2 }' "$B/ours.txt")
    if [ "$rc_ref" = "$rc_ours" ]; then
      same=$((same + 1))
      printf '%-42s Debian %-3s ours %-3s\n' "$n" "$rc_ref" "$rc_ours"
    elif why=$(known "$n"); then
      same=$((same + 1))
      printf '%-42s Debian %-3s ours %-3s known: %s\n' "$n" "$rc_ref" "$rc_ours" "$why"
    else
      differ=$((differ + 1))
      printf '%-42s Debian %-3s ours %-3s DIFFERS (log: %s)\n' "$n" "$rc_ref" "$rc_ours" "$B/log/$n.ours.log"
    fi
  done <"$B/ref.txt"
done
# The example programs of src/examples, built against Debian's header and
# library, answer the same with ours (capi-tests/upstream_examples.py).
EX=$B/examples
mkdir -p "$EX" "$B/www"
echo "hello file" >"$B/www/hello.txt"
for f in "$SRC"/src/examples/*.c; do
  n=$(basename "$f" .c)
  [ -x "$EX/$n" ] || cc -O1 -o "$EX/$n" "$f" -I"$SRC/src/include" -I"$SRC" -I"$SRC/src/microhttpd" \
    -lmicrohttpd -lpthread -lz -lmagic >"$B/log/$n.build.log" 2>&1
done
${PYTHON:-python3} "$ROOT/capi-tests/upstream_examples.py" "$EX" "$OURS" "$B/www" >"$B/examples.log" 2>&1
grep -E '^(DIFFER|SKIP)' "$B/examples.log"
line=$(tail -1 "$B/examples.log")
case $line in
  *" passed, "*" failed")
    same=$((same + ${line%% passed*}))
    f=${line#* passed, }; differ=$((differ + ${f%% failed}));;
  *) echo "upstream: the examples run ended early (log: $B/examples.log)"; differ=$((differ + 1));;
esac
echo "examples: $line"
# UPSTREAM_ZZUF=1 (make check-upstream-zzuf): src/testzzuf, where zzuf
# garbles the bytes between curl and the server (through socat, on fixed
# ports 11080 and 11081); a test passes when the server neither crashes nor
# hangs, whatever curl gets. With ours only: about 80 s.
if [ "${UPSTREAM_ZZUF:-0}" = 1 ]; then
  sh bench/need.sh zzuf:zzuf socat:socat || exit 1
  make -C "$SRC/src/testzzuf" check TESTS= >"$B/log/testzzuf.build.log" 2>&1 ||
    { echo "upstream: building src/testzzuf failed, see $B/log/testzzuf.build.log"; exit 1; }
  for t in "$SRC"/src/testzzuf/.libs/test_*; do
    n=$(basename "$t")
    ( cd "$SRC/src/testzzuf" && LD_LIBRARY_PATH=$OURS timeout 300 "$t" >"$B/log/$n.zzuf.log" 2>&1 )
    rc=$?
    if [ "$rc" = 0 ]; then
      same=$((same + 1))
      printf '%-42s zzuf, ours %s\n' "$n" "$rc"
    else
      differ=$((differ + 1))
      printf '%-42s zzuf, ours %s FAILS (log: %s)\n' "$n" "$rc" "$B/log/$n.zzuf.log"
    fi
  done
fi
echo "$same passed, $differ failed"
[ "$differ" = 0 ]
