#!/bin/sh
# capi-tests/sanitize.sh asan|asan-rust|valgrind -- the body of `make
# check-asan`, `make check-asan-rust` and `make check-valgrind` (run from the repository root after the Makefile
# built what it needs). Fails on any sanitizer or memcheck report, even
# when the program itself passed.
#
#  asan      every C test (build/capi-asan, built with
#            -fsanitize=address,undefined) in every threading mode, the
#            examples (build/examples-asan) driven by examples_check.py and
#            examples_smoke.py. Reports of AddressSanitizer, UBSan and
#            LeakSanitizer go to build/asan-reports/ (one file per process
#            with a finding); the library itself is not instrumented, but
#            LeakSanitizer sees every allocation it makes (Rust's allocator
#            is malloc), so a leak inside the library is reported too.
#  asan-rust the same C programs (every mode) against the library itself
#            built with -Zsanitizer=address (build/asan-rs/)
#  valgrind  a representative subset under memcheck: VALGRIND_TESTS
#            (default below) in VALGRIND_MODES, and the file_server,
#            hello_server and upgrade_echo examples; one log per process in
#            build/valgrind-reports/. Definite and indirect leaks are errors;
#            capi-tests/valgrind.supp lists what is intended (with why).
#
# Env: TEST_JOBS (asan: programs at once, default 4), VALGRIND_TESTS,
#      VALGRIND_MODES, VALGRIND_TIMEOUT (seconds per program, default 600).
set -u
kind=${1:-}
ROOT=$(pwd)
HERE=$ROOT/capi-tests
PYTHON=${PYTHON:-python3}
REPORTS=$ROOT/build/$kind-reports
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
failed=""
t0=$(date +%s)

case $kind in
asan)
  # log_path: one report file per process with a finding (the tests'
  # own output stays readable); exitcode: a leak also fails the program.
  export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:exitcode=86:strict_string_checks=1:check_initialization_order=1"
  export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=0"
  export LSAN_OPTIONS="exitcode=86"
  # The check must be able to fail: a leak of the library's memory on
  # purpose has to be reported (not counted with the others).
  mkdir -p "$REPORTS/../asan-selftest"
  rm -f "$REPORTS/../asan-selftest/"*
  ASAN_OPTIONS="log_path=$REPORTS/../asan-selftest/asan:detect_leaks=1:exitcode=86" \
    LD_LIBRARY_PATH="$ROOT/build" "$ROOT/build/capi-asan/sanitizer_selftest"
  rc=$?
  if [ $rc -eq 86 ] && grep -qs 'microhttpd::' "$REPORTS/../asan-selftest/"asan.*; then
    echo "  selftest: a leak inside the library is reported (exit 86)"
  else
    echo "  selftest: FAILED: a deliberate leak of the library's memory was not reported (exit $rc)"
    failed="$failed selftest"
  fi
  BINDIR="$ROOT/build/capi-asan" TEST_JOBS=${TEST_JOBS:-4} MHD_TEST_MODES=all \
    sh "$HERE/run.sh" "$ROOT/build" asan >"$REPORTS/../asan-capi.log" 2>&1 || failed="$failed capi-tests"
  grep -E '^(PASS|FAIL|SKIP|[0-9]+ passed)' "$REPORTS/../asan-capi.log" | sed 's/^/  /'
  # The panic boundary with the fault build: nothing leaks when a panic
  # is caught (the forked child that aborts is not leak-checked).
  MHD_TEST_FAULT=1 MHD_TEST_MODES=all LD_LIBRARY_PATH="$ROOT/build/fault" timeout -k 5 300 \
    "$ROOT/build/capi-asan/test_panic" >"$REPORTS/../asan-panic.log" 2>&1
  rc=$?
  echo "  test_panic on build/fault: exit $rc"
  [ $rc -eq 0 ] || failed="$failed test_panic"
  EXAMPLES_BINDIR="$ROOT/build/examples-asan" EXAMPLES_RUNS=ours \
    $PYTHON "$HERE/examples_check.py" >"$REPORTS/../asan-examples.log" 2>&1 || failed="$failed examples_check"
  echo "  examples_check: $(tail -1 "$REPORTS/../asan-examples.log")"
  EXAMPLES_BINDIR="$ROOT/build/examples-asan" \
    $PYTHON "$HERE/examples_smoke.py" >"$REPORTS/../asan-smoke.log" 2>&1 || failed="$failed examples_smoke"
  echo "  examples_smoke: $(tail -1 "$REPORTS/../asan-smoke.log")"
  reports=$(find "$REPORTS" -type f | wc -l)
  ;;
asan-rust)
  # The same C programs against the library built with
  # -Zsanitizer=address (make check-asan-rust, build/asan-rs/): the
  # library's own code (its unsafe FFI layer included) is instrumented.
  export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:exitcode=86:strict_string_checks=1"
  export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=0"
  export LSAN_OPTIONS="exitcode=86"
  BINDIR="$ROOT/build/capi-asan" TEST_JOBS=${TEST_JOBS:-4} MHD_TEST_MODES=all \
    sh "$HERE/run.sh" "$ROOT/build/asan-rs" asan-rust >"$REPORTS/../asan-rust-capi.log" 2>&1 || failed="$failed capi-tests"
  grep -E '^(PASS|FAIL|SKIP|[0-9]+ passed)' "$REPORTS/../asan-rust-capi.log" | sed 's/^/  /'
  reports=$(find "$REPORTS" -type f | wc -l)
  ;;
valgrind)
  SUPP=$HERE/valgrind.supp
  VG="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
      --errors-for-leak-kinds=definite,indirect --error-exitcode=97 --num-callers=40
      --suppressions=$SUPP --gen-suppressions=all --child-silent-after-fork=yes
      --log-file=$REPORTS/vg.%p.log"
  tests=${VALGRIND_TESTS:-test_basic test_responses test_post test_tls test_upgrade test_stop test_panic}
  modes=${VALGRIND_MODES:-epoll,thread-per-connection,external-select}
  bindir=$ROOT/build/capi-valgrind
  # The check must be able to fail: the deliberate leak of the library's
  # memory (sanitizer_selftest.c) has to be reported (log kept apart).
  # shellcheck disable=SC2086
  LD_LIBRARY_PATH="$ROOT/build" $(echo $VG | sed "s|--log-file=[^ ]*|--log-file=$REPORTS/../valgrind-selftest.log|") \
    "$bindir/sanitizer_selftest"
  rc=$?
  if [ $rc -eq 97 ] && grep -q 'definitely lost' "$REPORTS/../valgrind-selftest.log" &&
     grep -q 'microhttpd::' "$REPORTS/../valgrind-selftest.log"; then
    echo "  selftest: a leak inside the library is reported (exit 97)"
  else
    echo "  selftest: FAILED: a deliberate leak of the library's memory was not reported (exit $rc)"
    failed="$failed selftest"
  fi
  for t in $tests; do
    s=$(date +%s)
    lib=$ROOT/build
    # test_panic needs the library with deliberate panics (make fault)
    [ "$t" = test_panic ] && lib=$ROOT/build/fault
    # shellcheck disable=SC2086
    LD_LIBRARY_PATH="$lib" MHD_TEST_FAULT=1 MHD_TEST_MODES=$modes timeout -k 5 "${VALGRIND_TIMEOUT:-600}" \
      $VG "$bindir/$t" >"$REPORTS/$t.out" 2>&1
    rc=$?
    case $rc in
      0) what="ok" ;;
      97) what="MEMCHECK ERRORS"; failed="$failed $t" ;;
      124|137) what="TIMEOUT"; failed="$failed $t" ;;
      *) what="FAILED (exit $rc)"; failed="$failed $t"; grep -E '^(FAIL|ERROR)' "$REPORTS/$t.out" | head -10 ;;
    esac
    echo "  $t [$modes]: $what ($(( $(date +%s) - s ))s)"
  done
  s=$(date +%s)
  EXAMPLES_WRAPPER="$VG" EXAMPLES_SLOW=10 EXAMPLES_RUNS=ours EXAMPLES_PROGRAMS=file_server \
    $PYTHON "$HERE/examples_check.py" >"$REPORTS/examples_check.out" 2>&1 || failed="$failed examples_check"
  echo "  examples_check file_server: $(tail -1 "$REPORTS/examples_check.out") ($(( $(date +%s) - s ))s)"
  s=$(date +%s)
  EXAMPLES_WRAPPER="$VG" EXAMPLES_SLOW=10 \
    $PYTHON "$HERE/examples_smoke.py" >"$REPORTS/examples_smoke.out" 2>&1 || failed="$failed examples_smoke"
  echo "  examples_smoke: $(tail -1 "$REPORTS/examples_smoke.out") ($(( $(date +%s) - s ))s)"
  # Every process's summary: errors (leaks counted as errors) must be 0.
  reports=0
  for f in "$REPORTS"/vg.*.log; do
    [ -f "$f" ] || continue
    if grep -q 'ERROR SUMMARY: [1-9]' "$f"; then
      reports=$((reports + 1))
    fi
  done
  echo "  memcheck: $(ls "$REPORTS"/vg.*.log 2>/dev/null | wc -l) processes, $reports with errors"
  ;;
*)
  echo "usage: $0 asan|asan-rust|valgrind" >&2
  exit 2
  ;;
esac

if [ "$reports" -gt 0 ]; then
  echo "$kind: $reports report(s) in $REPORTS:"
  for f in "$REPORTS"/*; do
    case $f in *.out) continue ;; esac
    if [ "$kind" != valgrind ] || grep -q 'ERROR SUMMARY: [1-9]' "$f"; then
      echo "==> $f"
      grep -v '^==[0-9]*== *$' "$f" | head -60
    fi
  done
  failed="$failed reports"
fi
echo "$kind: $(( $(date +%s) - t0 ))s"
if [ -n "$failed" ]; then
  echo "$kind: FAILED:$failed"
  exit 1
fi
echo "$kind: OK, no reports"
