#!/bin/sh
# bench/need.sh PACKAGE:COMMAND...  -- the Debian packages a make target
# needs. Missing ones are installed with apt-get as root; otherwise we stop
# with the exact command to run (the `deps` pattern of the Makefile).
# COMMAND is a program the package installs, pc=NAME for a library that
# pkg-config knows as NAME, or f=PATH for a file the package installs.
missing=""
for pc in "$@"; do
  pkg=${pc%%:*}; cmd=${pc#*:}
  case $cmd in
    pc=*) pkg-config --exists "${cmd#pc=}" 2>/dev/null || missing="$missing $pkg";;
    f=*) [ -e "${cmd#f=}" ] || missing="$missing $pkg";;
    *) command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg";;
  esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "need: installing$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
else
  echo "need: missing packages:$missing"
  echo "      run: sudo apt-get install -y$missing"
  exit 1
fi
