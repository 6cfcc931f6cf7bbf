#!/bin/sh
# test_websocket_chat: examples-c/websocket_chat driven by a third-party
# WebSocket client, Python's websockets package (Debian: python3-websockets,
# installed by `make deps`), over ws:// and wss:// in several modes.  The
# capi-tests Makefile copies this script to $BINDIR/test_websocket_chat so
# run.sh runs and counts it like the C tests.
here=$(cd "$(dirname "$0")" && pwd)
if [ "${MHD_TEST_REFERENCE:-0}" = 1 ]; then
  echo "SKIP: websocket_chat uses the event-mask upgrade API (design/UPGRADE.md); Debian's libmicrohttpd has the socket-based one"
  exit 77
fi
if [ ! -x "$here/websocket_chat" ]; then
  echo "SKIP: websocket_chat was not built (this <microhttpd.h> has no event-mask upgrade API)"
  exit 77
fi
PY=/usr/bin/python3
if ! "$PY" -c 'import websockets' 2>/dev/null; then
  echo "ERROR: $PY cannot import websockets: run 'make deps' (apt-get install python3-websockets)"
  exit 99
fi
exec "$PY" "$here/websocket_chat_test.py" "$here/websocket_chat" "@TLS_DIR@"
