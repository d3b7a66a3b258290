# uvfs — one Makefile for the library, the CLI, tests, fuzzers and benches.
#
#   make            build/libuvfs{,-fuse,-boot}.{a,so}, build/uvfs (CLI)
#   make run        install missing deps of the build and demo (as root), build, run the demo job
#   make check      install missing deps of every test too (as root), then every test:
#                   criterion suites under ASan+UBSan, stress under TSan,
#                   shell-level tests, a short libFuzzer run per target
#   make bench      benchmarks (bench/), results in build/bench-run/bench/results
#                   (QUICK=1 short runs; SAVE=1 writes the committed bench/results/)
#   make install PREFIX=/usr/local
#   make deps       apt-get the Debian packages we need (root only)
#
# Sources are found by convention, so adding a file needs no Makefile edit:
#   libuvfs      : vfs/*.c fsimpl/*/*.c fsimpl/*/*/*.c devices/*.c   (the engine;
#                  links liburcu, xxhash, libcrypto only)
#   libuvfs-fuse : fuse/*.c   (the FUSE export; adds libfuse3)
#   libuvfs-boot : boot/*.c   (container trees; adds jansson)
#   CLI          : cli/*.c    (links all three)
#   tests   : tests/<suite>/test_*.c  -> one criterion binary per file
#             (extra link flags, e.g. -Wl,--wrap=malloc, in tests/<suite>/test_*.ldflags)
#   stress  : tests/stress/*.c        -> TSan binaries
#   fuzz    : tests/fuzz/fuzz_*.c     -> libFuzzer binaries (clang), corpus in tests/fuzz/corpus/<name>/
#   shell   : tests/sh/*.sh           -> run by tests/sh/run.sh
#   bench   : bench/bench_*.c         -> one binary per file; bench/*_bench.sh scripts run after them

CC      ?= cc
ifeq ($(origin CC),default)
CC      := gcc
endif
CLANG   ?= clang
PREFIX  ?= /usr/local
# The version lives in vfs/uvfs_version.h; the SONAME follows its major.
VERSION := $(shell sed -n 's/^\#define UVFS_VERSION_STRING "\(.*\)"/\1/p' vfs/uvfs_version.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
LIBDIR  ?= $(PREFIX)/lib
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
B       := build

CORE_PKGS = liburcu-memb liburcu-cds libxxhash libcrypto
PKGS     = $(CORE_PKGS) fuse3 jansson
PKG_CF   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lseccomp
CORE_LIBS = $(shell pkg-config --libs $(CORE_PKGS) 2>/dev/null) -lpthread
FUSE_LIBS = $(shell pkg-config --libs fuse3 2>/dev/null)
BOOT_LIBS = $(shell pkg-config --libs jansson 2>/dev/null)
CRIT_LIBS = $(shell pkg-config --libs criterion 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wvla
BASE_CF  = -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -Ivfs $(PKG_CF) -DUVFS_VERSION='"$(VERSION)"'
REL_CF   = $(BASE_CF) -O2 -g -fPIC -fvisibility=hidden
SAN_CF   = $(BASE_CF) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -DUVFS_DEBUG=1
TSAN_CF  = $(BASE_CF) -O1 -g -fsanitize=thread -DUVFS_DEBUG=1
FUZZ_CF  = $(BASE_CF) -O1 -g -fsanitize=fuzzer,address,undefined -DUVFS_DEBUG=1

CORE_SRCS := $(wildcard vfs/*.c fsimpl/*/*.c fsimpl/*/*/*.c devices/*.c sandbox/*.c)
FUSE_SRCS := $(wildcard fuse/*.c)
BOOT_SRCS := $(wildcard boot/*.c)
# uvfs run's supervisor (libseccomp): in the CLI and the sanitizer archive.
RUN_SRCS  := $(wildcard sandbox/run/*.c)
LIB_SRCS  := $(CORE_SRCS) $(FUSE_SRCS) $(BOOT_SRCS) $(RUN_SRCS)
CLI_SRCS  := $(wildcard cli/*.c)
HDRS      := $(wildcard vfs/*.h sandbox/*.h fsimpl/*/*.h fsimpl/*/*/*.h devices/*.h fuse/*.h boot/*.h cli/*.h sandbox/run/*.h)
TEST_SRCS := $(wildcard tests/*/test_*.c)
STRESS_SRCS := $(wildcard tests/stress/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard bench/bench_*.c)
TEST_HELPERS := $(wildcard tests/lib/*.c)

CORE_OBJS := $(CORE_SRCS:%.c=$(B)/rel/%.o)
FUSE_OBJS := $(FUSE_SRCS:%.c=$(B)/rel/%.o)
BOOT_OBJS := $(BOOT_SRCS:%.c=$(B)/rel/%.o)
SAN_OBJS  := $(LIB_SRCS:%.c=$(B)/san/%.o)
TSAN_OBJS := $(LIB_SRCS:%.c=$(B)/tsan/%.o)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(B)/fuzzlib/%.o)
TEST_BINS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))
STRESS_BINS := $(patsubst tests/stress/%.c,$(B)/stress/%,$(STRESS_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))

.PHONY: all lib cli run check check-build check-run test-unit test-stress test-shell test-fuzz \
        bench install uninstall deps clean tests-built

all: lib cli
LIBS_A  := $(B)/libuvfs-boot.a $(B)/libuvfs-fuse.a $(B)/libuvfs.a
lib: $(LIBS_A) $(B)/libuvfs.so $(B)/libuvfs-fuse.so $(B)/libuvfs-boot.so
cli: $(B)/uvfs

deps:
	@scripts/deps.sh check

# ---------------------------------------------------------------- release
$(B)/rel/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CF) -c $< -o $@

$(B)/libuvfs.a: $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(B)/libuvfs-fuse.a: $(FUSE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(B)/libuvfs-boot.a: $(BOOT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Shared libraries: the real file libX.so.VERSION with SONAME libX.so.MAJOR,
# and the two links (libX.so.MAJOR for the loader, libX.so for -lX).
SOLINK = ln -sf $(notdir $@).$(VERSION) $@.$(SOMAJOR) && ln -sf $(notdir $@).$(SOMAJOR) $@
$(B)/libuvfs.so: $(CORE_OBJS)
	$(CC) -shared -Wl,-soname,libuvfs.so.$(SOMAJOR) -o $@.$(VERSION) $^ $(CORE_LIBS)
	$(SOLINK)
$(B)/libuvfs-fuse.so: $(FUSE_OBJS) $(B)/libuvfs.so
	$(CC) -shared -Wl,-soname,libuvfs-fuse.so.$(SOMAJOR) -o $@.$(VERSION) $(FUSE_OBJS) -L$(B) -luvfs $(FUSE_LIBS) $(CORE_LIBS)
	$(SOLINK)
$(B)/libuvfs-boot.so: $(BOOT_OBJS) $(B)/libuvfs.so
	$(CC) -shared -Wl,-soname,libuvfs-boot.so.$(SOMAJOR) -o $@.$(VERSION) $(BOOT_OBJS) -L$(B) -luvfs $(BOOT_LIBS) $(CORE_LIBS)
	$(SOLINK)

$(B)/uvfs: $(CLI_SRCS) $(RUN_SRCS) $(LIBS_A) $(HDRS)
	$(CC) $(REL_CF) -o $@ $(CLI_SRCS) $(RUN_SRCS) $(LIBS_A) $(PKG_LIBS)

# The README's run command: set up, build, and show the engine working.
run:
	@scripts/deps.sh run
	@$(MAKE) --no-print-directory all
	@$(B)/uvfs demo

# ---------------------------------------------------------------- tests
$(B)/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CF) -c $< -o $@
$(B)/tsan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CF) -c $< -o $@
$(B)/fuzzlib/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(BASE_CF) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -DUVFS_DEBUG=1 -c $< -o $@

$(B)/libuvfs-san.a: $(SAN_OBJS)
	rm -f $@ && ar rcs $@ $^
$(B)/libuvfs-tsan.a: $(TSAN_OBJS)
	rm -f $@ && ar rcs $@ $^
$(B)/libuvfs-fuzz.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/tests/%: tests/%.c $(TEST_HELPERS) $(B)/libuvfs-san.a $(HDRS) $(wildcard tests/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CF) -Itests/lib -o $@ $< $(TEST_HELPERS) $(B)/libuvfs-san.a $(PKG_LIBS) $(CRIT_LIBS) \
		$(shell cat tests/$*.ldflags 2>/dev/null)

$(B)/stress/%: tests/stress/%.c $(B)/libuvfs-tsan.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_CF) -o $@ $< $(B)/libuvfs-tsan.a $(PKG_LIBS)

$(B)/fuzz/%: tests/fuzz/%.c $(B)/libuvfs-fuzz.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CF) -o $@ $< $(B)/libuvfs-fuzz.a $(PKG_LIBS)

$(B)/bench/%: bench/%.c $(LIBS_A) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CF) -O3 -march=native -o $@ $< $(LIBS_A) $(PKG_LIBS) -lm

tests-built: $(TEST_BINS) $(STRESS_BINS) $(FUZZ_BINS) all

# The README's test command. Installs deps first (root), then runs everything
# in a fresh make so pkg-config sees the freshly installed packages.
check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory check-run

check-run: tests-built
	@scripts/run-tests.sh $(TEST_BINS) -- $(STRESS_BINS) -- $(FUZZ_BINS)

# make bench [QUICK=1] [SAVE=1]: results go to build/bench-run/bench/results
# (a scratch tree whose bench/ links to ours, so every bench's relative
# bench/results lands there) unless SAVE=1, which writes the committed
# bench/results. QUICK=1 shortens every bench (BENCH_QUICK=1). After the
# lookup bench, the instructions per lookup (callgrind, machine independent)
# from bench/profile_lookup.sh, when valgrind is installed.
BENCH_SCRIPTS ?= $(wildcard bench/*_bench.sh)
BENCH_RUN := $(if $(SAVE),$(CURDIR),$(CURDIR)/$(B)/bench-run)
bench: $(BENCH_BINS) $(B)/bench/portable/bench_lookup all
	@if [ -z "$(SAVE)" ]; then mkdir -p $(BENCH_RUN)/bench/results && \
		for f in bench/*; do [ "$$f" = bench/results ] || ln -sfn $(CURDIR)/$$f $(BENCH_RUN)/$$f; done; fi
	@mkdir -p $(BENCH_RUN)/bench/results
	@cd $(BENCH_RUN) && for b in $(BENCH_BINS); do echo "== $$b"; $(if $(QUICK),BENCH_QUICK=1) $(CURDIR)/$$b || exit 1; done
	@cd $(BENCH_RUN) && for s in $(BENCH_SCRIPTS); do [ -x "$$s" ] || continue; echo "== $$s"; \
		$(if $(QUICK),BENCH_QUICK=1) UVFS=$(CURDIR)/$(B)/uvfs $$s || exit 1; done
	@if command -v valgrind >/dev/null; then echo "== bench/profile_lookup.sh depth8 depth64"; \
		bench/profile_lookup.sh depth8 depth64 | tee $(BENCH_RUN)/bench/results/lookup_ir.txt; fi
	@echo "results: $(BENCH_RUN)/bench/results$(if $(SAVE),, (make bench SAVE=1 to replace the committed ones))"

# The profiled lookup bench: no -march=native, so valgrind (3.19 cannot
# decode every AVX-512 instruction) runs it on any x86-64 we build on.
$(B)/bench/portable/%: bench/%.c $(LIBS_A) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CF) -O2 -o $@ $< $(LIBS_A) $(PKG_LIBS) -lm

# ---------------------------------------------------------------- install
# Public headers: the API, each filesystem's, device, FUSE export and boot
# headers, never an internal.h. They include each other as "vfs/uvfs.h",
# "uvfs.h" or "fsimpl/x/x.h", so they keep their tree under include/uvfs/
# (the API headers at its top, vfs/ a link to it) and uvfs.pc adds
# -I$(includedir)/uvfs: <uvfs/uvfs.h> and every internal spelling resolve to
# the one file.
PUB_HDRS := $(filter-out %internal.h %_int.h %/p9_conn.h %/p9_wire.h,$(wildcard fsimpl/*/*.h fsimpl/*/*/*.h devices/*.h)) fuse/fuse_export.h boot/boot.h
SYSTEM_PREFIX := $(filter /usr /usr/local,$(PREFIX))
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include/uvfs $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 $(LIBS_A) $(DESTDIR)$(LIBDIR)/
	for l in libuvfs libuvfs-fuse libuvfs-boot; do \
		install -m 755 $(B)/$$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/ && \
		ln -sf $$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$$l.so.$(SOMAJOR) && \
		ln -sf $$l.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/$$l.so || exit 1; done
	install -m 644 vfs/uvfs.h vfs/uvfs_fs.h vfs/uvfs_version.h $(DESTDIR)$(PREFIX)/include/uvfs/
	ln -sfn . $(DESTDIR)$(PREFIX)/include/uvfs/vfs
	for h in $(PUB_HDRS); do install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/uvfs/$$h || exit 1; done
	install -m 755 $(B)/uvfs $(DESTDIR)$(PREFIX)/bin/
	install -m 644 doc/uvfs.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 cli/uvfs.bash-completion $(DESTDIR)$(BASHCOMPDIR)/uvfs
	for pc in uvfs uvfs-static; do sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		scripts/$$pc.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/$$pc.pc || exit 1; done
	@if [ -z "$(DESTDIR)" ] && [ -n "$(SYSTEM_PREFIX)" ] && [ "$$(id -u)" = 0 ]; then echo ldconfig; ldconfig; fi

uninstall:
	cd $(DESTDIR)$(LIBDIR) && rm -f libuvfs*.a libuvfs*.so libuvfs*.so.$(SOMAJOR) libuvfs*.so.$(VERSION) pkgconfig/uvfs.pc pkgconfig/uvfs-static.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/uvfs
	rm -f $(DESTDIR)$(PREFIX)/bin/uvfs $(DESTDIR)$(MANDIR)/man1/uvfs.1 $(DESTDIR)$(BASHCOMPDIR)/uvfs

clean:
	rm -rf $(B)
