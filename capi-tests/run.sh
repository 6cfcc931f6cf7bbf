#!/bin/sh
# capi-tests/run.sh LIBDIR [label]
# Runs every built test program with LD_LIBRARY_PATH=LIBDIR.
#  label "reference" (or LIBDIR being Debian's library dir) sets
#  MHD_TEST_REFERENCE=1 so tests use the reference column where the
#  reference library deliberately differs from the RFC.
# Env: BINDIR (default: build/ next to this script), TEST_TIMEOUT (180 s per
#      program), TEST_JOBS (programs run at once, default 4: most of their
#      time is spent waiting for timeouts), MHD_TEST_MODES (see common.c),
#      MHD_TEST_VERBOSE.
# Results are printed in name order once all programs finished; the slowest
# programs of the previous run start first.
set -u
if [ "${1:-}" = "--one" ]; then
  # internal: run one program (from xargs); writes "rc seconds" to .result
  t=$2
  name=$(basename "$t")
  log=$LOGDIR/$name.log
  t0=$(date +%s)
  if [ "$REF" = 1 ]; then
    LD_LIBRARY_PATH=$LIBDIR MHD_TEST_REFERENCE=1 timeout -k 5 "$TEST_TIMEOUT" "$t" >"$log" 2>&1
  else
    LD_LIBRARY_PATH=$LIBDIR timeout -k 5 "$TEST_TIMEOUT" "$t" >"$log" 2>&1
  fi
  rc=$?
  echo "$rc $(( $(date +%s) - t0 ))" >"$LOGDIR/$name.result"
  exit 0
fi
if [ $# -lt 1 ]; then
  echo "usage: $0 LIBDIR [label]" >&2
  exit 2
fi
LIBDIR=$1
LABEL=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
BINDIR=${BINDIR:-$HERE/build}
TEST_TIMEOUT=${TEST_TIMEOUT:-180}
TEST_JOBS=${TEST_JOBS:-4}
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
progs=""
for t in "$BINDIR"/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.o|*.log) continue ;; esac
  progs="$progs $t"
done
if [ -z "$progs" ]; then
  echo "no test programs in $BINDIR (run make -C capi-tests first)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# slowest first (durations of the previous run), then run TEST_JOBS at once
order=$(for t in $progs; do
  name=$(basename "$t")
  secs=$(cut -d' ' -f2 "$LOGDIR/$name.result" 2>/dev/null)
  echo "${secs:-9999} $t"
  rm -f "$LOGDIR/$name.result"
done | sort -k1,1nr | cut -d' ' -f2)
export LIBDIR REF LOGDIR TEST_TIMEOUT
t0=$(date +%s)
printf '%s\n' $order | xargs -P "$TEST_JOBS" -n 1 sh "$HERE/run.sh" --one

for t in $progs; do
  name=$(basename "$t")
  log=$LOGDIR/$name.log
  if [ -f "$LOGDIR/$name.result" ]; then
    read -r rc secs <"$LOGDIR/$name.result"
  else
    rc=99; secs=0
  fi
  case $rc in
    0) echo "PASS $name (${secs}s)"; passed=$((passed+1)) ;;
    77) echo "SKIP $name (${secs}s)"; skipped=$((skipped+1)); grep '^SKIP' "$log" | head -5 | sed 's/^/    /' ;;
    *)
      if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then what="timeout"; else what="exit $rc"; fi
      echo "FAIL $name ($what, ${secs}s)"; failed=$((failed+1))
      grep -E '^(FAIL|ERROR)' "$log" | head -30 | sed 's/^/    /'
      ;;
  esac
  # intentional differences from the RFC, reported by the tests
  grep '^DIFF' "$log" | sed 's/^/    /'
done
echo "(${TEST_JOBS} at a time, $(( $(date +%s) - t0 ))s in all)"
if [ $skipped -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
