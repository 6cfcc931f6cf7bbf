#!/bin/sh
# The body of `make check`: runs every check, counts each C test program and
# each Rust test as one test, and ends with one line "N passed, M failed".
# Usage: check-all.sh   (run from the repository root by the Makefile)
set -u
MAKE=${MAKE:-make}
CARGO=${CARGO:-cargo}
passed=0
failed=0
failures=""

step() { # name command...
  name=$1; shift
  if "$@" >"build/check-$name.log" 2>&1; then
    echo "PASS $name"; passed=$((passed+1))
  else
    echo "FAIL $name (log: build/check-$name.log)"; tail -20 "build/check-$name.log" | sed 's/^/    /'
    failed=$((failed+1)); failures="$failures $name"
  fi
}

# Adds the "N passed, M failed" counts a runner printed last to the totals.
tally() { # name log status
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/'); p=${p:-0}
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/'); f=${f:-0}
  if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed+p)); failed=$((failed+f))
  [ "$f" -eq 0 ] || failures="$failures $1"
  echo "$1: $line"
}

mkdir -p build
step header-check   $MAKE --no-print-directory header-check
step check-exports  $MAKE --no-print-directory check-exports
step abi-check      $MAKE --no-print-directory abi-check
step compile-only   $MAKE --no-print-directory compile-only
step shim-test      $MAKE --no-print-directory shim-test
step check-install  $MAKE --no-print-directory check-install
step examples       $MAKE --no-print-directory examples

# Rust unit tests: one test each.
$CARGO test --release >build/check-cargo.log 2>&1; rc=$?
rp=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' build/check-cargo.log)
rf=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' build/check-cargo.log)
rp=${rp:-0}; rf=${rf:-0}
if [ $rc -ne 0 ] && [ "$rf" -eq 0 ]; then rf=1; tail -30 build/check-cargo.log; fi
echo "cargo test: $rp passed, $rf failed"
passed=$((passed+rp)); failed=$((failed+rf))
[ "$rf" -eq 0 ] || failures="$failures cargo-test"

# The fuzz corpora (fuzz/corpus/<target>/) replayed through the fuzz
# targets' bodies and invariants, on stable without libFuzzer.
step fuzz-replay    $MAKE --no-print-directory fuzz-replay

# The C API tests, built against our header and run on our library...
if $MAKE --no-print-directory -C capi-tests BINDIR="$PWD/build/capi-ours" INCDIR="$PWD/include" LIBDIR="$PWD/build" >build/check-capi-build.log 2>&1; then
  BINDIR="$PWD/build/capi-ours" capi-tests/run.sh "$PWD/build" ours | tee build/check-capi-ours.log
  tally capi-ours build/check-capi-ours.log 0
else
  echo "FAIL capi-tests build (log: build/check-capi-build.log)"; tail -20 build/check-capi-build.log
  failed=$((failed+1)); failures="$failures capi-build"
fi
# The panic boundary (src/ffi/guard.rs): test_panic against our library
# built with deliberate panics (`make fault`, build/fault/), every mode. In
# the other runs test_panic skips: their libraries have no fault trigger.
step fault-build    $MAKE --no-print-directory fault
if [ -x build/capi-ours/test_panic ] && [ -e build/fault/libmicrohttpd.so.12 ]; then
  step panic-boundary env MHD_TEST_FAULT=1 MHD_TEST_MODES=all LD_LIBRARY_PATH="$PWD/build/fault" \
    timeout -k 5 180 build/capi-ours/test_panic
fi
# ...and the same programs built against Debian's header and run on Debian's
# library: a test that only passes on ours encodes a difference.
if $MAKE --no-print-directory -C capi-tests BINDIR="$PWD/build/capi-ref" >build/check-capi-ref-build.log 2>&1; then
  BINDIR="$PWD/build/capi-ref" capi-tests/run.sh /usr/lib/x86_64-linux-gnu reference | tee build/check-capi-ref.log
  tally capi-reference build/check-capi-ref.log 0
else
  echo "FAIL capi-tests reference build (log: build/check-capi-ref-build.log)"
  failed=$((failed+1)); failures="$failures capi-ref-build"
fi

# Binary drop-in: the programs built against Debian's header and library
# run unchanged with our libmicrohttpd.so.12 put in front.
if [ -d build/capi-ref ]; then
  BINDIR="$PWD/build/capi-ref" MHD_TEST_DROPIN=1 capi-tests/run.sh "$PWD/build" dropin | tee build/check-capi-dropin.log
  tally capi-dropin build/check-capi-dropin.log 0
fi

# The example programs (file_server, form_app, external_select) driven by
# real clients: ours on ours, built against Debian's on Debian's, and those
# binaries on ours (capi-tests/examples_check.py).
${PYTHON:-python3} capi-tests/examples_check.py >build/check-examples-run.log 2>&1; rc=$?
grep -E '^(FAIL|XFAIL|run )' build/check-examples-run.log | head -40
tally examples-run build/check-examples-run.log $rc

# libmicrohttpd 0.9.75's own tests, built against Debian's library,
# ending the same with ours as with Debian's (capi-tests/upstream_suite.sh).
sh capi-tests/upstream_suite.sh >build/check-upstream.log 2>&1; rc=$?
grep -E 'DIFFERS|SKIP|upstream:' build/check-upstream.log | head -20
tally upstream-suite build/check-upstream.log $rc

# Programs Debian ships linked against libmicrohttpd.so.12, with both
# libraries (capi-tests/debian_programs.py).
$MAKE --no-print-directory check-debian-programs >build/check-debian-programs.log 2>&1; rc=$?
grep -E '^FAIL|need:' build/check-debian-programs.log | head -20
tally debian-programs build/check-debian-programs.log $rc

[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
