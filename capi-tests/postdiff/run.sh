#!/bin/sh
# capi-tests/postdiff/run.sh [BUILD_DIR]: the POST processor, differentially against
# Debian's libmicrohttpd 0.9.75, over cases.txt plus random bodies.
# Prints SAME or the first differences.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cc -O1 -w -o "$T/ref" "$HERE/pptrace.c" -lmicrohttpd -lcurl
cc -O1 -w -I"$HERE/../../include" -o "$T/ours" "$HERE/pptrace.c" -L"$BUILD" -lmicrohttpd -lcurl
python3 "$HERE/gen_random.py" > "$T/random.txt"
cat "$HERE/cases.txt" "$T/random.txt" > "$T/all.txt"
"$T/ref" "$T/all.txt" > "$T/ref.out"
LD_LIBRARY_PATH="$BUILD" "$T/ours" "$T/all.txt" > "$T/ours.out"
if cmp -s "$T/ref.out" "$T/ours.out"; then
  echo "SAME ($(grep -c ' ev ' "$T/ref.out") iterator calls)"
else
  diff "$T/ref.out" "$T/ours.out" | head -40
  exit 1
fi
