# Builds the benchmark's programs into $(BUILD)/bench (called by `make bench`).
#   mhd_server           our header, linked against libmicrohttpd.so.12 by
#                        soname only: LD_LIBRARY_PATH picks Debian's or ours
#   upgrade_echo_ours    our header (event-mask upgrade API), run with ours
#   upgrade_echo_theirs  Debian's /usr/include/microhttpd.h (socket-based
#                        upgrade API), run with Debian's libmicrohttpd12
#   raw_server           the ceilings (plain and OpenSSL)
#   loadclient           load generator for upgrade, large and memory tests
#   soak_server          (target `soak` only) the server of bench/soak.py
BUILD  ?= build
CC     ?= cc
OUT    := $(BUILD)/bench
CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11
DEBIAN_LIBDIR ?= /usr/lib/x86_64-linux-gnu

all: $(OUT)/mhd_server $(OUT)/upgrade_echo_ours $(OUT)/upgrade_echo_theirs \
     $(OUT)/raw_server $(OUT)/loadclient $(OUT)/cert.pem

$(OUT):
	mkdir -p $(OUT)

$(OUT)/mhd_server: bench/mhd_server.c bench/mhd_common.h include/microhttpd.h $(BUILD)/libmicrohttpd.so | $(OUT)
	$(CC) $(CFLAGS) -Iinclude -o $@ $< -L$(BUILD) -lmicrohttpd

$(OUT)/upgrade_echo_ours: bench/upgrade_echo_ours.c bench/upgrade_common.h bench/mhd_common.h include/microhttpd.h $(BUILD)/libmicrohttpd.so | $(OUT)
	$(CC) $(CFLAGS) -Iinclude -o $@ $< -L$(BUILD) -lmicrohttpd

# No -Iinclude: <microhttpd.h> is Debian's /usr/include/microhttpd.h.
$(OUT)/upgrade_echo_theirs: bench/upgrade_echo_theirs.c bench/upgrade_common.h bench/mhd_common.h /usr/include/microhttpd.h | $(OUT)
	$(CC) $(CFLAGS) -o $@ $< -L$(DEBIAN_LIBDIR) -lmicrohttpd -lpthread

$(OUT)/raw_server: bench/raw_server.c bench/common.h | $(OUT)
	$(CC) $(CFLAGS) -DBENCH_TLS -o $@ $< -lssl -lcrypto

$(OUT)/loadclient: bench/loadclient.c bench/common.h | $(OUT)
	$(CC) $(CFLAGS) -DBENCH_TLS -o $@ $< -lssl -lcrypto

soak: $(OUT)/soak_server $(OUT)/cert.pem

$(OUT)/soak_server: bench/soak_server.c bench/mhd_common.h include/microhttpd.h $(BUILD)/libmicrohttpd.so | $(OUT)
	$(CC) $(CFLAGS) -Iinclude -o $@ $< -L$(BUILD) -lmicrohttpd -lcrypto

# A throwaway self-signed certificate for 127.0.0.1 (HTTPS rows).
$(OUT)/cert.pem: | $(OUT)
	openssl req -x509 -newkey rsa:2048 -nodes -keyout $(OUT)/key.pem \
	  -out $@ -days 3650 -subj /CN=127.0.0.1 2>/dev/null

.PHONY: all soak
