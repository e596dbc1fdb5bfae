# pcapkit - one non-recursive Makefile.
#
#   make            build the tools into build/
#   make check      set up packages, build, run every test
#   make demo       set up packages, build, run the whole pipeline locally
#   make bench      compare speed with the reference tools (ratios)
#   make asan       rebuild with ASan+UBSan into build-asan/ and run the tests
#   make install    PREFIX=/usr/local DESTDIR=
#
# WERROR=1 turns warnings into errors (CI sets it).

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
# The libraries' version, from their headers (the one place it is set).
VERSION := $(shell sed -n 's/^\#define PM_VERSION_STRING "\(.*\)"/\1/p' libmerge/merge.h)
SOVERSION = $(firstword $(subst ., ,$(VERSION)))
BUILD   ?= build
CC      ?= cc
# Link-time optimization lets the merge inline the reader's per-packet
# path across files (about 5% of pcap-merge's time; make bench).
CFLAGS  ?= -O2 -g -flto=auto
LDFLAGS ?= -flto=auto

PKGS      = libpcap libzstd zlib jansson libcrypto libcurl expat
# Deferred (=): evaluated when a recipe runs, after the set-up step.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs libzstd zlib 2>/dev/null || echo -lzstd -lz)
PCAP_LIBS  = $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
JSON_LIBS  = $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
CRYPTO_LIBS = $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
CURL_LIBS  = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
EXPAT_LIBS = $(shell pkg-config --libs expat 2>/dev/null || echo -lexpat)

WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif
ALL_CFLAGS = $(WARN) -D_GNU_SOURCE -Ilibmerge -Ilibfilter -Itools -Itools/fetch -Itools/summary $(PKG_CFLAGS) $(CFLAGS)

LIBMERGE_SRC = libmerge/src.c libmerge/reader.c libmerge/writer.c \
               libmerge/merge.c libmerge/dedup.c libmerge/crc32c.c \
               libmerge/scan.c
LIBMERGE_OBJ = $(LIBMERGE_SRC:%.c=$(BUILD)/%.o)
LIBFILTER_SRC = libfilter/dissect.c libfilter/tuple.c libfilter/match.c
LIBFILTER_OBJ = $(LIBFILTER_SRC:%.c=$(BUILD)/%.o)
COMMON_OBJ   = $(BUILD)/tools/msg.o $(BUILD)/tools/text.o $(BUILD)/tools/output.o \
               $(BUILD)/tools/inputs.o $(BUILD)/tools/progress.o $(BUILD)/tools/capio.o \
               $(BUILD)/tools/split.o
# The filter options and the capture object (jansson, libfilter's tuples):
# for the tools that take a filter_v1, not pcap-merge.
FILTEROPT_OBJ = $(BUILD)/tools/filteropt.o $(BUILD)/tools/capture.o

TOOLS      = pcap-merge pcap-filter pcap-summary pcap-fetch
TOOL_BINS  = $(TOOLS:%=$(BUILD)/%)
FUZZERS    = reader dissect filter_v1 s3xml apijson summary
TEST_BINS  = $(FUZZERS:%=$(BUILD)/tests/fuzz/replay-%) $(BUILD)/tests/gencap $(BUILD)/tests/pktdump \
             $(BUILD)/tests/rrread \
             $(BUILD)/tests/unit/test_merge $(BUILD)/tests/unit/test_filter \
             $(BUILD)/tests/unit/test_fetch $(BUILD)/tests/unit/test_loss

.PHONY: all tools tests libs check check-run demo bench asan tsan fuzz \
        valgrind sweep install uninstall clean setup
.SUFFIXES:
# Keep the harness objects, which only pattern rules name.
.SECONDARY:

all: tools
tools: $(TOOL_BINS)
tests: $(TEST_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The libraries export only what their header marks PM_API / PF_API, and
# are position-independent, so that the same objects make the .a the tools
# link and the .so that make install ships.  -fno-semantic-interposition keeps
# calls inside a library inlinable (with -fPIC alone, GCC may not inline a
# call to an exported function, which cost pcap-merge 6%; make bench
# BASELINE=REV).
LIB_CFLAGS = -fPIC -fvisibility=hidden -fno-semantic-interposition
$(BUILD)/libmerge/%.o: libmerge/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/libfilter/%.o: libfilter/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libmerge.a: $(LIBMERGE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libfilter.a: $(LIBFILTER_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libpcapkit-merge.so.$(VERSION): $(LIBMERGE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libpcapkit-merge.so.$(SOVERSION) -o $@ $^ $(PKG_LIBS) -pthread

$(BUILD)/libpcapkit-filter.so.$(VERSION): $(LIBFILTER_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libpcapkit-filter.so.$(SOVERSION) -o $@ $^ $(PCAP_LIBS) $(JSON_LIBS)

$(BUILD)/pcapkit.pc: Makefile
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' \
	    'libdir=$(patsubst $(PREFIX)%,$${prefix}%,$(LIBDIR))' \
	    'includedir=$(patsubst $(PREFIX)%,$${prefix}%,$(INCLUDEDIR))' \
	    '' 'Name: pcapkit' \
	    'Description: capture I/O and k-way merge (libpcapkit-merge), packet dissection and filter_v1/BPF matching (libpcapkit-filter)' \
	    'Version: $(VERSION)' 'Requires.private: libzstd zlib libpcap jansson' \
	    'Cflags: -I$${includedir}' \
	    'Libs: -L$${libdir} -lpcapkit-filter -lpcapkit-merge' \
	    'Libs.private: -pthread' >$@

LIBS = $(BUILD)/libmerge.a $(BUILD)/libfilter.a \
       $(BUILD)/libpcapkit-merge.so.$(VERSION) \
       $(BUILD)/libpcapkit-filter.so.$(VERSION) $(BUILD)/pcapkit.pc
libs: $(LIBS)

$(BUILD)/pcap-merge: $(BUILD)/tools/pcap-merge.o $(COMMON_OBJ) $(BUILD)/libfilter.a $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(JSON_LIBS) -lm

$(BUILD)/pcap-filter: $(BUILD)/tools/pcap-filter.o $(COMMON_OBJ) $(FILTEROPT_OBJ) $(BUILD)/libfilter.a $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(JSON_LIBS) $(PKG_LIBS) -lm

SUMMARY_OBJ = $(BUILD)/tools/summary/tally.o $(BUILD)/tools/summary/scan.o \
              $(BUILD)/tools/summary/checks.o $(BUILD)/tools/summary/report.o \
              $(BUILD)/tools/summary/loss.o $(BUILD)/tools/summary/coverage.o \
              $(BUILD)/tools/summary/clock.o $(BUILD)/tools/summary/table.o

$(BUILD)/pcap-summary: $(BUILD)/tools/pcap-summary.o $(SUMMARY_OBJ) $(COMMON_OBJ) $(FILTEROPT_OBJ) $(BUILD)/libfilter.a $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(JSON_LIBS) $(PKG_LIBS) -lm -pthread

FETCH_OBJ = $(BUILD)/tools/fetch/sigv4.o $(BUILD)/tools/fetch/util.o \
            $(BUILD)/tools/fetch/http.o $(BUILD)/tools/fetch/store.o \
            $(BUILD)/tools/fetch/s3.o $(BUILD)/tools/fetch/gcs.o \
            $(BUILD)/tools/fetch/dl.o $(BUILD)/tools/fetch/api.o \
            $(BUILD)/tools/fetch/outdir.o
FETCH_LIBS = $(CURL_LIBS) $(EXPAT_LIBS) $(JSON_LIBS) $(CRYPTO_LIBS)

# pcap-fetch's commands, which print (the other fetch modules do not)
FETCH_CMD_OBJ = $(BUILD)/tools/fetch/cmd_api.o $(BUILD)/tools/fetch/cmd_get.o

# pcap-fetch reads no capture: of libmerge it links pm_crc32c alone, and
# neither zstd nor zlib.
$(BUILD)/pcap-fetch: $(BUILD)/tools/pcap-fetch.o $(FETCH_CMD_OBJ) $(FETCH_OBJ) $(BUILD)/tools/msg.o $(BUILD)/tools/text.o $(BUILD)/tools/progress.o $(FILTEROPT_OBJ) $(BUILD)/libfilter.a $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FETCH_LIBS) $(PCAP_LIBS) -lm -pthread

$(BUILD)/tests/gencap: $(BUILD)/tests/gencap.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/rrread: $(BUILD)/tests/rrread.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/pktdump: $(BUILD)/tests/pktdump.o $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit/test_merge: $(BUILD)/tests/unit/test_merge.o $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(PKG_LIBS) $(CHECK_LIBS) -pthread

$(BUILD)/tests/unit/test_loss: $(BUILD)/tests/unit/test_loss.o $(BUILD)/tools/summary/loss.o \
    $(BUILD)/tools/summary/clock.o $(BUILD)/tools/summary/table.o \
    $(BUILD)/tools/summary/coverage.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/unit/test_filter: $(BUILD)/tests/unit/test_filter.o $(BUILD)/libfilter.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(JSON_LIBS) $(CHECK_LIBS) -lm

$(BUILD)/tests/unit/test_fetch: $(BUILD)/tests/unit/test_fetch.o $(FETCH_OBJ) $(BUILD)/tools/capture.o $(BUILD)/tools/text.o $(BUILD)/tools/msg.o $(BUILD)/libfilter.a $(BUILD)/libmerge.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FETCH_LIBS) $(PCAP_LIBS) $(PKG_LIBS) $(CHECK_LIBS) -lm -pthread

# Fuzz harnesses (tests/fuzz/).  The same harness object links with
# driver.c into replay-NAME, which make check runs over the committed seed
# and crash inputs, and with libFuzzer into fuzz-NAME (make fuzz, clang).
FUZZ_DEPS  = $(FETCH_OBJ) $(COMMON_OBJ) $(FILTEROPT_OBJ) $(FUZZ_SUMMARY_OBJ) \
    $(BUILD)/libfilter.a $(BUILD)/libmerge.a
FUZZ_SUMMARY_OBJ = $(BUILD)/tools/summary/loss.o $(BUILD)/tools/summary/clock.o \
    $(BUILD)/tools/summary/table.o $(BUILD)/tools/summary/coverage.o
FUZZ_LIBS  = $(FETCH_LIBS) $(PCAP_LIBS) $(PKG_LIBS) -lm -pthread

$(BUILD)/tests/fuzz/replay-%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/driver.o $(FUZZ_DEPS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

$(BUILD)/tests/fuzz/fuzz-%: $(BUILD)/tests/fuzz/%.o $(FUZZ_DEPS)
	$(CC) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

setup:
	@sh tests/setup.sh

check: setup
	@$(MAKE) --no-print-directory check-run

check-run: tools tests
	$(BUILD)/tests/unit/test_merge
	$(BUILD)/tests/unit/test_filter
	$(BUILD)/tests/unit/test_fetch
	$(BUILD)/tests/unit/test_loss
	BUILD=$(BUILD) bash tests/fuzz/replay.sh
	BUILD=$(BUILD) bash tests/e2e/run.sh
	BUILD=$(BUILD) bash tests/fetch/run.sh
	BUILD=$(BUILD) bash tests/readme.sh
	BUILD=$(BUILD) CC="$(CC)" CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" bash tests/install.sh

demo: setup
	@$(MAKE) --no-print-directory tools tests
	BUILD=$(BUILD) bash tests/demo.sh

bench: setup
	@$(MAKE) --no-print-directory tools tests
	BUILD=$(BUILD) BASELINE=$(BASELINE) BENCH_ONLY=$(BENCH_ONLY) bash tests/bench.sh

SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
	    CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" tools tests
	@bash tests/asan.sh $(MAKE) --no-print-directory BUILD=build-asan \
	    CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" check-run

# make tsan: libmerge's unit tests and the e2e suite against a
# ThreadSanitizer build (build-tsan/); pm_scan's workers (pcap-summary's)
# and a writer's write-behind thread are the threads pcapkit starts.
# Check's 4-second timeout per test is too short for the tests that
# write 24 MB through that thread under TSan (about 10x slower).
TSAN = -fsanitize=thread
tsan: setup
	@$(MAKE) --no-print-directory BUILD=build-tsan \
	    CFLAGS="-O1 -g $(TSAN)" LDFLAGS="$(TSAN)" tools tests
	@bash tests/asan.sh env BUILD=build-tsan CK_DEFAULT_TIMEOUT=60 sh -c \
	    'build-tsan/tests/unit/test_merge && bash tests/e2e/run.sh'

# make valgrind: the pcap-fetch suite (where libcurl's resolver runs
# threads) with every tool under memcheck; VG_SUITES="fetch e2e" for more.
valgrind: setup
	@$(MAKE) --no-print-directory tools tests
	bash tests/valgrind.sh

# make fuzz FUZZ_SECONDS=N: every harness for N seconds with libFuzzer
# (clang), FUZZ_JOBS at a time; findings go to build-fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= $(shell nproc 2>/dev/null || echo 1)
fuzz: setup
	@FUZZ=1 sh tests/setup.sh
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	    CFLAGS="-O1 -g $(SAN) -fsanitize=fuzzer-no-link" LDFLAGS="$(SAN)" \
	    $(FUZZERS:%=build-fuzz/tests/fuzz/fuzz-%)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) bash tests/fuzz/run.sh $(FUZZERS)

# make sweep SWEEP_DIR=DIR: every tool over every capture in DIR under
# ASan+UBSan, packet counts checked against capinfos (tests/sweep.sh).
sweep: setup
	@$(MAKE) --no-print-directory BUILD=build-asan \
	    CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" tools tests
	BUILD=build-asan bash tests/sweep.sh

LIBMAN = libpcapkit-merge libpcapkit-filter
install: tools libs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCLUDEDIR)/pcapkit
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(TOOLS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(LIBMAN:%=man/%.3) $(DESTDIR)$(MANDIR)/man3
	install -m 644 libmerge/merge.h libfilter/filter.h $(DESTDIR)$(INCLUDEDIR)/pcapkit
	install -m 644 $(BUILD)/libmerge.a $(DESTDIR)$(LIBDIR)/libpcapkit-merge.a
	install -m 644 $(BUILD)/libfilter.a $(DESTDIR)$(LIBDIR)/libpcapkit-filter.a
	for l in merge filter; do \
	    install -m 755 $(BUILD)/libpcapkit-$$l.so.$(VERSION) $(DESTDIR)$(LIBDIR) && \
	    ln -sf libpcapkit-$$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libpcapkit-$$l.so.$(SOVERSION) && \
	    ln -sf libpcapkit-$$l.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libpcapkit-$$l.so || exit 1; \
	done
	install -m 644 $(BUILD)/pcapkit.pc $(DESTDIR)$(LIBDIR)/pkgconfig
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	for t in $(TOOLS); do \
	    install -m 644 tools/completion/pcapkit.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t || exit 1; \
	done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(TOOLS:%=$(DESTDIR)$(MANDIR)/man1/%.1)
	rm -f $(LIBMAN:%=$(DESTDIR)$(MANDIR)/man3/%.3)
	rm -rf $(DESTDIR)$(INCLUDEDIR)/pcapkit
	rm -f $(DESTDIR)$(LIBDIR)/libpcapkit-* $(DESTDIR)$(LIBDIR)/pkgconfig/pcapkit.pc
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/share/bash-completion/completions/%)

clean:
	rm -rf build build-asan build-tsan build-fuzz build-vg build-sweep

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
