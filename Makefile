# uvfs — one Makefile for the library, the CLI, tests, fuzzers and benches.
#
#   make            build/libuvfs{,-fuse,-boot}.{a,so}, build/uvfs (CLI)
#   make run        install missing deps (as root), build, run the demo job
#   make check      install missing deps (as root), then every test:
#                   criterion suites under ASan+UBSan, stress under TSan,
#                   shell-level tests, a short libFuzzer run per target
#   make bench      benchmarks (bench/), results in bench/results/
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
VERSION := 0.1.0
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
        bench install deps clean tests-built

all: lib cli
LIBS_A  := $(B)/libuvfs-boot.a $(B)/libuvfs-fuse.a $(B)/libuvfs.a
lib: $(LIBS_A) $(B)/libuvfs.so $(B)/libuvfs-fuse.so $(B)/libuvfs-boot.so
cli: $(B)/uvfs

deps:
	@scripts/deps.sh

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

$(B)/libuvfs.so: $(CORE_OBJS)
	$(CC) -shared -o $@ $^ $(CORE_LIBS)
$(B)/libuvfs-fuse.so: $(FUSE_OBJS) $(B)/libuvfs.so
	$(CC) -shared -o $@ $(FUSE_OBJS) -L$(B) -luvfs $(FUSE_LIBS) $(CORE_LIBS)
$(B)/libuvfs-boot.so: $(BOOT_OBJS) $(B)/libuvfs.so
	$(CC) -shared -o $@ $(BOOT_OBJS) -L$(B) -luvfs $(BOOT_LIBS) $(CORE_LIBS)

$(B)/uvfs: $(CLI_SRCS) $(RUN_SRCS) $(LIBS_A) $(HDRS)
	$(CC) $(REL_CF) -o $@ $(CLI_SRCS) $(RUN_SRCS) $(LIBS_A) $(PKG_LIBS)

# The README's run command: set up, build, and show the engine working.
run:
	@scripts/deps.sh
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

$(B)/tests/%: tests/%.c $(TEST_HELPERS) $(B)/libuvfs-san.a $(HDRS) $(wildcard tests/lib/*.h)
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
	@scripts/deps.sh
	@$(MAKE) --no-print-directory check-run

check-run: tests-built
	@scripts/run-tests.sh $(TEST_BINS) -- $(STRESS_BINS) -- $(FUZZ_BINS)

bench: $(BENCH_BINS) all
	@mkdir -p bench/results
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	@for s in bench/*_bench.sh; do [ -x "$$s" ] || continue; echo "== $$s"; UVFS=$(CURDIR)/$(B)/uvfs $$s || exit 1; done

# ---------------------------------------------------------------- install
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/uvfs $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIBS_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libuvfs.so $(B)/libuvfs-fuse.so $(B)/libuvfs-boot.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 vfs/uvfs.h vfs/uvfs_fs.h $(DESTDIR)$(PREFIX)/include/uvfs/
	install -m 755 $(B)/uvfs $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' scripts/uvfs.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/uvfs.pc

clean:
	rm -rf $(B)
