#!/bin/sh
# capi-tests/run.sh LIBDIR [label]
# Runs every built test program with LD_LIBRARY_PATH=LIBDIR.
#  label "reference" (or LIBDIR being Debian's library dir) sets
#  MHD_TEST_REFERENCE=1 so tests use the reference column where the
#  reference library deliberately differs from the RFC.
# Env: BINDIR (default: build/ next to this script), TEST_TIMEOUT (120),
#      MHD_TEST_MODES (see common.c), MHD_TEST_VERBOSE.
set -u
if [ $# -lt 1 ]; then
  echo "usage: $0 LIBDIR [label]" >&2
  exit 2
fi
LIBDIR=$1
LABEL=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
BINDIR=${BINDIR:-$HERE/build}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
case "$BINDIR" in /*) ;; *) BINDIR=$(pwd)/$BINDIR ;; esac

REF=0
if [ "$LABEL" = "reference" ] || [ "$LIBDIR" = "/usr/lib/x86_64-linux-gnu" ]; then
  REF=1
fi

if [ "$REF" = 0 ] && [ ! -e "$LIBDIR/libmicrohttpd.so.12" ]; then
  # without it the system's library would be loaded silently
  echo "$LIBDIR/libmicrohttpd.so.12 not found" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0; failed=0; skipped=0
LOGDIR=$BINDIR/logs${LABEL:+-$LABEL}
mkdir -p "$LOGDIR"
found=0
for t in "$BINDIR"/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.o|*.log) continue ;; esac
  found=1
  name=$(basename "$t")
  log=$LOGDIR/$name.log
  if [ "$REF" = 1 ]; then
    LD_LIBRARY_PATH=$LIBDIR MHD_TEST_REFERENCE=1 timeout -k 5 "$TEST_TIMEOUT" "$t" >"$log" 2>&1
  else
    LD_LIBRARY_PATH=$LIBDIR timeout -k 5 "$TEST_TIMEOUT" "$t" >"$log" 2>&1
  fi
  rc=$?
  case $rc in
    0) echo "PASS $name"; passed=$((passed+1)) ;;
    77) echo "SKIP $name"; skipped=$((skipped+1)); grep '^SKIP' "$log" | head -5 | sed 's/^/    /' ;;
    *)
      if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then what="timeout"; else what="exit $rc"; fi
      echo "FAIL $name ($what)"; failed=$((failed+1))
      grep -E '^(FAIL|ERROR)' "$log" | head -30 | sed 's/^/    /'
      ;;
  esac
  # intentional differences from the RFC, reported by the tests
  grep '^DIFF' "$log" | sed 's/^/    /'
done
if [ $found = 0 ]; then
  echo "no test programs in $BINDIR (run make -C capi-tests first)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if [ $skipped -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
