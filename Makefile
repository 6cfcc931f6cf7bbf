# Build and packaging of libmicrohttpd-rs.
#   make / make all    build/libmicrohttpd.so.12, .so link, .a
#   make header        copy the generated header to include/microhttpd.h
#   make header-check  fail when include/microhttpd.h is stale
#   make check-exports exported symbols == src/ffi/exports.txt
#   make abi-check     values/layouts/prototypes == Debian's microhttpd.h
#   make install PREFIX=/usr/local DESTDIR=
#   make shim-test     the C shim against mock Rust functions
#   make check-install install into a temp dir, build+run a C program via pkg-config
#   make check         all of the above + cargo test
#   make fuzz          every fuzz target for FUZZ_SECONDS (default 60) each (fuzz/README.md)
#   make check-asan / check-asan-rust / check-valgrind   sanitizers (not in check)
#   make fault         the library with deliberate panics (build/fault/)
#   make check-hostile slowhttptest & co. against every mode (not in check)
#   make check-tls-scan testssl.sh against the HTTPS demo (not in check)

CARGO   ?= cargo
CC      ?= cc
PYTHON  ?= python3
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include

BUILD   := build
TARGET  := $(or $(CARGO_TARGET_DIR),target)/release
GEN_HDR := $(TARGET)/include/microhttpd.h
SONAME  := libmicrohttpd.so.12
DEBIAN_HDR ?= /usr/include/microhttpd.h
# What a static link needs besides libmicrohttpd.a (rustc --print native-static-libs;
# OpenSSL for HTTPS and the auth hashes).
LIBS_PRIVATE := -lssl -lcrypto -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

.PHONY: all build header header-check check-exports abi-check compile-only shim-test \
        install uninstall check-install check check-reference deps examples demo clean

all: build examples

build:
	$(CARGO) build --release
	mkdir -p $(BUILD)
	@# Replace by rename: a program running with the old library keeps its
	@# mapping (copying over a mapped library crashes it).
	cp -f $(TARGET)/libmicrohttpd.so $(BUILD)/$(SONAME).tmp && mv -f $(BUILD)/$(SONAME).tmp $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libmicrohttpd.so
	cp -f $(TARGET)/libmicrohttpd.a $(BUILD)/libmicrohttpd.a
	cp -f $(GEN_HDR) $(BUILD)/microhttpd.h

header: build
	cp -f $(GEN_HDR) include/microhttpd.h

header-check: build
	@cmp -s $(GEN_HDR) include/microhttpd.h || { \
	  echo "include/microhttpd.h is stale: run 'make header' and commit it"; \
	  diff -u include/microhttpd.h $(GEN_HDR) | head -40; exit 1; }
	@echo "header-check: include/microhttpd.h is fresh"

check-exports: build
	@nm -D --defined-only $(BUILD)/$(SONAME) | awk '{print $$3}' | sort > $(BUILD)/exports.actual
	@sort src/ffi/exports.txt > $(BUILD)/exports.expected
	@diff -u $(BUILD)/exports.expected $(BUILD)/exports.actual || { \
	  echo "check-exports: exported symbols differ from src/ffi/exports.txt"; exit 1; }
	@echo "check-exports: exactly the $$(wc -l < $(BUILD)/exports.expected) MHD_* symbols"

# Print every enum member, macro value, struct layout and prototype check
# with Debian's header and with ours, then compare.
abi-check: build
	@test -f $(DEBIAN_HDR) || { echo "abi-check: $(DEBIAN_HDR) missing (apt install libmicrohttpd-dev)"; exit 1; }
	mkdir -p $(BUILD)/abi
	$(PYTHON) capi-tests/gen_abi_check.py $(DEBIAN_HDR) $(BUILD)/abi
	$(CC) -std=gnu11 -w -o $(BUILD)/abi/print_debian $(BUILD)/abi/abi_print.c
	$(CC) -std=gnu11 -w -Iinclude -o $(BUILD)/abi/print_ours $(BUILD)/abi/abi_print.c
	$(CC) -std=gnu11 -Wall -Werror -Iinclude -c -o $(BUILD)/abi/abi_protos.o $(BUILD)/abi/abi_protos.c
	$(BUILD)/abi/print_debian > $(BUILD)/abi/debian.txt
	$(BUILD)/abi/print_ours > $(BUILD)/abi/ours.txt
	@diff -u $(BUILD)/abi/debian.txt $(BUILD)/abi/ours.txt || { echo "abi-check: FAILED"; exit 1; }
	@echo "abi-check: $$(wc -l < $(BUILD)/abi/debian.txt) facts identical; prototypes compatible"

# A typical 0.9.75 program must compile unchanged with -Wall -Werror and link.
compile-only: build
	mkdir -p $(BUILD)/capi
	$(CC) -std=gnu11 -Wall -Wextra -Werror -Iinclude -o $(BUILD)/capi/compile_only \
	  capi-tests/compile_only.c -L$(BUILD) -lmicrohttpd
	$(CC) -std=c99 -Wall -Werror -pedantic -Iinclude -fsyntax-only capi-tests/compile_only.c
	g++ -Wall -Werror -Iinclude -x c++ -fsyntax-only capi-tests/compile_only.c

# The C shim alone, against mock mhd_rs_* functions.
shim-test: build
	mkdir -p $(BUILD)/capi
	$(CC) -std=gnu11 -Wall -Wextra -Werror -I$(BUILD) -o $(BUILD)/capi/shim_test capi-tests/shim_test.c
	$(BUILD)/capi/shim_test
	@echo "shim-test: OK"

install: build
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(BUILD)/$(SONAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmicrohttpd.so
	install -m 0644 $(BUILD)/libmicrohttpd.a $(DESTDIR)$(LIBDIR)/libmicrohttpd.a
	install -m 0644 include/microhttpd.h $(DESTDIR)$(INCDIR)/microhttpd.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	  include/libmicrohttpd.pc.in > $(BUILD)/libmicrohttpd.pc
	install -m 0644 $(BUILD)/libmicrohttpd.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libmicrohttpd.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libmicrohttpd.so \
	  $(DESTDIR)$(LIBDIR)/libmicrohttpd.a $(DESTDIR)$(INCDIR)/microhttpd.h \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/libmicrohttpd.pc

# Install into a temporary DESTDIR, then build a program with pkg-config
# (shared and static) and run it.
check-install: build
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) --no-print-directory install DESTDIR="$$tmp" PREFIX=/usr/local >/dev/null; \
	export PKG_CONFIG_SYSROOT_DIR="$$tmp" PKG_CONFIG_LIBDIR="$$tmp/usr/local/lib/pkgconfig" PKG_CONFIG_PATH=; \
	test "$$(pkg-config --modversion libmicrohttpd)" = 0.9.75; \
	$(CC) -Wall -Werror -o "$$tmp/prog" capi-tests/install_check.c $$(pkg-config --cflags --libs libmicrohttpd); \
	LD_LIBRARY_PATH="$$tmp/usr/local/lib" "$$tmp/prog"; \
	readelf -d "$$tmp/prog" | grep -q 'NEEDED.*libmicrohttpd.so.12'; \
	$(CC) -Wall -Werror -o "$$tmp/prog_static" capi-tests/install_check.c \
	  $$(pkg-config --cflags libmicrohttpd) "$$tmp/usr/local/lib/libmicrohttpd.a" \
	  $$(pkg-config --libs-only-other --static libmicrohttpd) $(LIBS_PRIVATE); \
	"$$tmp/prog_static"; \
	echo "check-install: OK (shared and static)"

# ---------------------------------------------------------------------------
# System packages the checks need. As root they are installed with apt-get;
# otherwise we stop with the exact command to run.
DEB_PACKAGES := libmicrohttpd-dev libcurl4-openssl-dev libssl-dev pkg-config curl python3 \
                python3-websockets openssl
deps:
	@missing=""; \
	test -f /usr/include/microhttpd.h || missing="$$missing libmicrohttpd-dev"; \
	test -f /usr/include/x86_64-linux-gnu/curl/curl.h -o -f /usr/include/curl/curl.h || missing="$$missing libcurl4-openssl-dev"; \
	test -f /usr/include/openssl/ssl.h || missing="$$missing libssl-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	/usr/bin/python3 -c 'import websockets' 2>/dev/null || missing="$$missing python3-websockets"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "deps: missing packages:$$missing"; \
	    echo "      run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# Example programs (examples-c/*.c), linked against our library.
EXAMPLES := $(patsubst examples-c/%.c,$(BUILD)/examples/%,$(wildcard examples-c/*.c))
examples: build $(EXAMPLES)
$(BUILD)/examples/%: examples-c/%.c include/microhttpd.h build
	@mkdir -p $(BUILD)/examples
	$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude -o $@ $< -L$(BUILD) -lmicrohttpd -lcrypto -Wl,-rpath,'$$ORIGIN/..'

# Start the example servers on localhost and tell how to try each:
# hello_server, upgrade_echo over HTTP and HTTPS, websocket_chat over ws://
# and wss:// (a self-signed certificate for localhost goes to build/demo/).
DEMO_PORT ?= 8080
DEMO_DIR := $(BUILD)/demo
demo: deps examples
	@mkdir -p $(DEMO_DIR)
	@test -f $(DEMO_DIR)/cert.pem || openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	  -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
	  -keyout $(DEMO_DIR)/key.pem -out $(DEMO_DIR)/cert.pem 2>/dev/null
	@p=$(DEMO_PORT); \
	echo "libmicrohttpd-rs demo (Ctrl-C stops every server):"; \
	echo; \
	echo "hello_server   http://127.0.0.1:$$p/"; \
	echo "  curl -v 'http://127.0.0.1:$$p/hello?name=you'"; \
	echo "  curl -v -d 'some body' http://127.0.0.1:$$p/echo"; \
	echo; \
	echo "upgrade_echo   HTTP on $$((p+1)), HTTPS on $$((p+2)) (an echo protocol after HTTP/1.1 101)"; \
	printf '%s\n' "  python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', $$((p+1)))); s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello, upgraded world'); import time; time.sleep(0.3); print(s.recv(4096).decode())\""; \
	printf '%s\n' "  python3 -c \"import socket, ssl; s = ssl._create_unverified_context().wrap_socket(socket.create_connection(('127.0.0.1', $$((p+2))))); s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello over TLS'); print(s.recv(4096).decode() + s.recv(4096).decode())\""; \
	echo; \
	echo "websocket_chat ws:// on $$((p+3)), wss:// on $$((p+4)) (self-signed: accept the warning)"; \
	echo "  browser: http://127.0.0.1:$$((p+3))/  or  https://localhost:$$((p+4))/  (open it twice and chat)"; \
	echo "  /usr/bin/python3 -m websockets 'ws://127.0.0.1:$$((p+3))/chat?name=terminal'"; \
	echo; \
	pids=""; \
	trap 'kill $$pids 2>/dev/null; wait' INT TERM EXIT; \
	$(BUILD)/examples/hello_server $$p epoll & pids="$$pids $$!"; \
	$(BUILD)/examples/upgrade_echo $$((p+1)) epoll & pids="$$pids $$!"; \
	$(BUILD)/examples/upgrade_echo $$((p+2)) thread-per-connection $(DEMO_DIR)/cert.pem $(DEMO_DIR)/key.pem & pids="$$pids $$!"; \
	$(BUILD)/examples/websocket_chat $$((p+3)) epoll & pids="$$pids $$!"; \
	$(BUILD)/examples/websocket_chat $$((p+4)) pool $(DEMO_DIR)/cert.pem $(DEMO_DIR)/key.pem & pids="$$pids $$!"; \
	wait

# The library with deliberate panics (src/ffi/fault.rs, feature
# fault-injection) for capi-tests/test_panic.c, in its own target dir:
# build/fault/libmicrohttpd.so.12. Never installed.
FAULT_DIR := $(BUILD)/fault
.PHONY: fault
fault:
	$(CARGO) build --release --features fault-injection --target-dir $(FAULT_DIR)/target
	cp -f $(FAULT_DIR)/target/release/libmicrohttpd.so $(FAULT_DIR)/$(SONAME).tmp && \
	  mv -f $(FAULT_DIR)/$(SONAME).tmp $(FAULT_DIR)/$(SONAME)
	ln -sf $(SONAME) $(FAULT_DIR)/libmicrohttpd.so

# check: every check of the project; the last line is "N passed, M failed".
check: deps build
	@MAKE="$(MAKE)" CARGO="$(CARGO)" sh capi-tests/check-all.sh

# libmicrohttpd 0.9.75's own tests, built from Debian's source against
# Debian's library, run with it and with ours (capi-tests/upstream_suite.sh;
# fetches the source from deb.debian.org into build/upstream).
.PHONY: check-upstream check-upstream-zzuf
check-upstream: deps build
	@sh capi-tests/upstream_suite.sh

# The same, plus 0.9.75's src/testzzuf (zzuf garbles the requests; the
# server must neither crash nor hang), about 80 s more. Not in make check.
check-upstream-zzuf: deps build
	@UPSTREAM_ZZUF=1 sh capi-tests/upstream_suite.sh

# Programs Debian ships linked against libmicrohttpd.so.12 (debuginfod,
# systemd-journal-gatewayd and -remote, Janus, kiwix-serve, olad, collectd's
# write_prometheus plugin, motion, idwcc), run with Debian's library and with ours
# (capi-tests/debian_programs.py; installs their packages as root).
.PHONY: check-debian-programs
check-debian-programs: build
	@sh bench/need.sh debuginfod:debuginfod systemd-journal-remote:/lib/systemd/systemd-journal-gatewayd \
	  collectd-core:collectd libprotobuf-c1:f=/usr/lib/x86_64-linux-gnu/libprotobuf-c.so.1 motion:motion \
	  janus:janus kiwix-tools:kiwix-serve zim-tools:zimwriterfs ola:olad \
	  idwcc:idwcc
	@mkdir -p $(BUILD)/debian-programs
	@$(PYTHON) capi-tests/debian_programs.py $(BUILD) $(BUILD)/debian-programs

# Only the C tests against Debian's libmicrohttpd (the reference run).
check-reference: deps
	$(MAKE) -C capi-tests BINDIR=$(CURDIR)/$(BUILD)/capi-ref
	BINDIR=$(CURDIR)/$(BUILD)/capi-ref capi-tests/run.sh /usr/lib/x86_64-linux-gnu reference

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# ---------------------------------------------------------------------------
# Benchmark: ours against Debian's libmicrohttpd12, the same C programs run
# with each library, interleaved; prints one table and writes
# bench/RESULTS.md (bench/README.md). About 15 minutes; BENCH_QUICK=1 for
# about one. Never part of `make check`.
.PHONY: bench
bench: build
	@sh bench/deps.sh
	@$(MAKE) --no-print-directory -f bench/build.mk BUILD=$(BUILD) CC=$(CC)
	BUILD=$(BUILD) $(PYTHON) bench/run.py

# ---------------------------------------------------------------------------
# Fuzzing (fuzz/README.md). `make fuzz` runs every cargo-fuzz target for
# FUZZ_SECONDS each (niced), installing cargo-fuzz if missing; cargo-fuzz
# needs nightly flags, so the stable toolchain runs with RUSTC_BOOTSTRAP=1.
# It starts from fuzz/corpus/, seeds/ and regress/<target>/; new inputs land
# in fuzz/corpus/<target>/: `make fuzz-cmin` minimizes them before committing. Not part of `make check`, which only replays
# the committed corpora on stable without libFuzzer (`make fuzz-replay`).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := request_head chunked post_processor auth unescape tls_priorities connection
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1
.PHONY: fuzz fuzz-cmin fuzz-replay fuzz-tools
fuzz-tools:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
fuzz: fuzz-tools
	@mkdir -p $(BUILD) && cd fuzz && for t in $(FUZZ_TARGETS); do \
	  extra=; [ $$t = connection ] && extra=-max_len=16384; \
	  dirs=corpus/$$t; for d in seeds/$$t regress/$$t; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $(BUILD)/fuzz-$$t.log)"; \
	  RUSTC_BOOTSTRAP=1 nice -n 19 $(CARGO) fuzz run -O -a $$t $$dirs -- $(FUZZ_FLAGS) $$extra >../$(BUILD)/fuzz-$$t.log 2>&1; rc=$$?; \
	  grep -E '^stat::(number_of_executed_units|new_units_added)|panicked|SUMMARY|Test unit written' ../$(BUILD)/fuzz-$$t.log; \
	  [ $$rc -eq 0 ] || { echo "fuzz: $$t FAILED (reproducer in fuzz/artifacts/$$t/)"; exit 1; }; \
	done; echo "fuzz: no finding"
fuzz-cmin: fuzz-tools
	cd fuzz && for t in $(FUZZ_TARGETS); do RUSTC_BOOTSTRAP=1 nice -n 19 $(CARGO) fuzz cmin -O -a $$t || exit 1; done
# In the main target directory: the library is reused from `make build`.
fuzz-replay:
	$(CARGO) test --release --no-default-features --manifest-path fuzz/Cargo.toml --target-dir $(or $(CARGO_TARGET_DIR),target)

# ---------------------------------------------------------------------------
# Sanitizers (never part of `make check`; capi-tests/sanitize.sh).
#   make check-asan      every C test in every mode and every example, built
#                        with ASan+UBSan against our library; any ASan, UBSan
#                        or LeakSanitizer report fails (about 3 minutes)
#   make check-asan-rust the same with the library built -Zsanitizer=address
#   make check-valgrind  a subset under valgrind memcheck, zero errors and
#                        zero definite/indirect leaks (about 3 minutes)
SAN_CC    ?= gcc
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_CFLAGS := -O1 -g -Wall -Wextra -Werror $(SAN_FLAGS)
SAN_DEB_PACKAGES := $(if $(findstring clang,$(SAN_CC)),clang libclang-rt-14-dev,gcc libasan8 libubsan1)
.PHONY: deps-asan deps-valgrind check-asan check-asan-rust check-valgrind
deps-asan:
	@echo 'int main(void){return 0;}' | $(SAN_CC) $(SAN_FLAGS) -x c -o /dev/null - 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "deps-asan: installing $(SAN_DEB_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SAN_DEB_PACKAGES) >/dev/null || exit 1; \
	  else \
	    echo "deps-asan: $(SAN_CC) cannot build with $(SAN_FLAGS)"; \
	    echo "      run: sudo apt-get install -y $(SAN_DEB_PACKAGES)"; exit 1; \
	  fi; }
deps-valgrind:
	@command -v valgrind >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "deps-valgrind: installing valgrind"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null || exit 1; \
	  else \
	    echo "deps-valgrind: valgrind missing"; echo "      run: sudo apt-get install -y valgrind"; exit 1; \
	  fi; }

SAN_EXAMPLES := $(patsubst examples-c/%.c,$(BUILD)/examples-asan/%,$(wildcard examples-c/*.c))
$(BUILD)/examples-asan/%: examples-c/%.c include/microhttpd.h build
	@mkdir -p $(BUILD)/examples-asan
	$(SAN_CC) $(SAN_CFLAGS) -Iinclude -o $@ $< -L$(BUILD) -lmicrohttpd -lcrypto -Wl,-rpath,'$$ORIGIN/..'

check-asan: deps deps-asan build fault
	$(MAKE) -C capi-tests BINDIR=$(CURDIR)/$(BUILD)/capi-asan INCDIR=$(CURDIR)/include \
	  LIBDIR=$(CURDIR)/$(BUILD) CC=$(SAN_CC) CFLAGS="$(SAN_CFLAGS)"
	$(MAKE) --no-print-directory $(SAN_EXAMPLES)
	$(SAN_CC) $(SAN_CFLAGS) -Iinclude -o $(BUILD)/capi-asan/sanitizer_selftest capi-tests/sanitizer_selftest.c \
	  -L$(BUILD) -lmicrohttpd
	PYTHON=$(PYTHON) sh capi-tests/sanitize.sh asan

# The library itself instrumented too (nightly-only rustc flag, enabled on a
# stable toolchain with RUSTC_BOOTSTRAP; its own target dir so the shipped
# build is never touched), then the ASan-built C tests against it.
ASAN_RS_DIR := $(BUILD)/asan-rs
check-asan-rust: deps deps-asan build
	RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Zsanitizer=address $(CARGO) build --release \
	  --target x86_64-unknown-linux-gnu --target-dir $(ASAN_RS_DIR)/target
	cp -f $(ASAN_RS_DIR)/target/x86_64-unknown-linux-gnu/release/libmicrohttpd.so $(ASAN_RS_DIR)/$(SONAME)
	$(MAKE) -C capi-tests BINDIR=$(CURDIR)/$(BUILD)/capi-asan INCDIR=$(CURDIR)/include \
	  LIBDIR=$(CURDIR)/$(BUILD) CC=$(SAN_CC) CFLAGS="$(SAN_CFLAGS)"
	PYTHON=$(PYTHON) sh capi-tests/sanitize.sh asan-rust

check-valgrind: deps deps-valgrind build examples fault
	$(MAKE) -C capi-tests BINDIR=$(CURDIR)/$(BUILD)/capi-valgrind INCDIR=$(CURDIR)/include LIBDIR=$(CURDIR)/$(BUILD)
	$(CC) -O1 -g -Wall -Wextra -Werror -Iinclude -o $(BUILD)/capi-valgrind/sanitizer_selftest \
	  capi-tests/sanitizer_selftest.c -L$(BUILD) -lmicrohttpd
	PYTHON=$(PYTHON) sh capi-tests/sanitize.sh valgrind
# Hostile clients (bench/hostile.py): slowhttptest's slowloris, slow read and
# slow body, clients that never read a 100 MiB response, 10,000 half-open
# connections, in six modes, with a probe client every 100 ms; results into
# bench/RESULTS.md. About 7 minutes (15 at most). Not part of `make check`.
# TLS scan (bench/tls_scan.py): testssl.sh against the HTTPS demo server;
# fails on anything VULNERABLE or weak. 2-4 minutes. Not part of `make check`.
.PHONY: check-hostile check-tls-scan
HOSTILE_FDS ?= 65536
check-hostile: build
	@sh bench/need.sh slowhttptest:slowhttptest python3:python3
	@mkdir -p $(BUILD)/bench
	$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 -Iinclude -o $(BUILD)/bench/hostile_server \
	  bench/hostile_server.c -L$(BUILD) -lmicrohttpd
	@ulimit -n $(HOSTILE_FDS) 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	BUILD=$(BUILD) timeout -k 10 900 $(PYTHON) bench/hostile.py

check-tls-scan: build examples
	@sh bench/need.sh testssl.sh:testssl openssl:openssl python3:python3
	BUILD=$(BUILD) $(PYTHON) bench/tls_scan.py
# Soak: SOAK_MINUTES (default 30) of mixed load on two threading modes at
# once, RSS and open fds sampled; writes its section of bench/RESULTS.md
# (bench/README.md). SOAK_MINUTES=1 is a smoke run. Never part of `make check`.
SOAK_MINUTES ?= 30
.PHONY: soak
soak: build
	@sh bench/deps.sh
	@$(MAKE) --no-print-directory -f bench/build.mk BUILD=$(BUILD) CC=$(CC) soak
	BUILD=$(BUILD) SOAK_MINUTES=$(SOAK_MINUTES) nice -n 10 $(PYTHON) bench/soak.py
