#!/bin/sh
# What `make bench` needs on the machine. As root, missing packages are
# installed with apt-get; otherwise we stop with the exact command to run.
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
test -f /usr/include/openssl/ssl.h || missing="$missing libssl-dev"
test -f /usr/include/microhttpd.h || missing="$missing libmicrohttpd-dev"
test -e /usr/lib/x86_64-linux-gnu/libmicrohttpd.so.12 || missing="$missing libmicrohttpd12"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
  else
    echo "bench: missing packages:$missing"
    echo "       run: sudo apt-get install -y$missing"
    exit 1
  fi
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 cores (server on CPU 0, load generator on CPU 1); nproc=$(nproc)"
  exit 1
fi
