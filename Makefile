# Makefile - ringalloc: library, replay tool, tests, benchmarks, fuzzers
#
#   make                          libringalloc.a, libringalloc.so.0, ringalloc.pc, replay, ringcat,
#                                 ringstat, ringfeed, ratrace
#   make demo                     replay the bundled sample (data/sample.pcap) and print the report
#   make check                    build and run every test (unit, stress, CLI, fuzz corpora)
#   make SANITIZE=address,undefined check   the same under ASan+UBSan (build/address-undefined)
#   make SANITIZE=thread check    the same under TSan (in build/thread)
#   make bench                    benchmarks against the peers (not a test); CSV in build/.../bench-results
#   make plot                     charts of the last `make bench` into docs/img (scripts/plot.sh)
#   make fuzz / fuzz-run FUZZ_SECONDS=N     libFuzzer targets (clang 14), FUZZ_JOBS at a time
#   make valgrind                 ring and allocator tests under Valgrind memcheck
#   make soak SOAK_MINUTES=N      replay in a loop + ring with readers of different speeds
#   make install / uninstall      honours PREFIX, LIBDIR, INCLUDEDIR and DESTDIR (the installed
#                                 ringalloc.pc is written for them at install time)
#   make format-check / format    clang-format 14
#   WERROR=1                      warnings are errors (CI)
#
# Modules are found by wildcard: ringalloc/*.c form the library, replay/*.c the tool (main.c holds
# main(), the rest also form build/.../librp.a for tests), tools/ringcat/*.c, tools/ringstat/*.c, tools/ringfeed/*.c
# the shared-ring tools (with tools/common/*.c), tests/test_*.c are cmocka programs,
# tests/cli/*.sh CLI tests, tests/fuzz/fuzz_*.c fuzz targets, bench/bench_*.c benchmarks. What
# tests and fuzz targets share is header-only, in tests/support/*.h.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

SANITIZE ?=
WERROR   ?= 0
FUZZ_SECONDS ?= 30
FUZZ_CC  ?= clang-14

comma := ,
ifeq ($(strip $(SANITIZE)),)
BUILD := build/release
else
BUILD := build/$(subst $(comma),-,$(SANITIZE))
endif

VERSION_MAJOR := $(shell awk '$$2=="RA_VERSION_MAJOR"{print $$3}' include/ringalloc/status.h)
VERSION_MINOR := $(shell awk '$$2=="RA_VERSION_MINOR"{print $$3}' include/ringalloc/status.h)
VERSION_PATCH := $(shell awk '$$2=="RA_VERSION_PATCH"{print $$3}' include/ringalloc/status.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wformat=2 -Wcast-align
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifeq ($(strip $(SANITIZE)),)
OPT      := -O2 -g
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
HARDLD   := -Wl,-z,relro,-z,now
else
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
HARDEN   :=
HARDLD   := -fsanitize=$(SANITIZE)
endif
# TSan does not model standalone fences (gcc says so with -Wtsan). The ring's fences order only
# the audited racy copies, which are not instrumented (docs/ring.md), so the warning is noise.
ifneq ($(findstring thread,$(SANITIZE)),)
OPT      += -Wno-tsan
endif

CPPFLAGS_ALL := -Iinclude -D_GNU_SOURCE $(CPPFLAGS)
CFLAGS_ALL   := -std=c11 $(OPT) $(WARN) $(HARDEN) -pthread $(CFLAGS)
LDFLAGS_ALL  := $(HARDLD) -pthread $(LDFLAGS)
LIB_LIBS     := -lzstd -lpthread
TOOL_LIBS    := -lpcap -lzstd -lpthread -lm
TEST_LIBS    := -lcmocka $(TOOL_LIBS)
BENCH_LIBS   := -lck $(TOOL_LIBS)

LIB_SRCS   := $(sort $(wildcard ringalloc/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
RP_SRCS    := $(sort $(wildcard replay/*.c))
RP_LIBSRCS := $(filter-out replay/main.c,$(RP_SRCS))
RP_OBJS    := $(RP_SRCS:%.c=$(BUILD)/obj/%.o)
RP_LIBOBJS := $(RP_LIBSRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS  := $(sort $(wildcard tests/test_*.c))
TEST_BINS  := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
TL_SRCS    := $(sort $(wildcard tools/common/*.c))
RC_SRCS    := $(sort $(wildcard tools/ringcat/*.c))
RS_SRCS    := $(sort $(wildcard tools/ringstat/*.c))
RF_SRCS    := $(sort $(wildcard tools/ringfeed/*.c))
TL_LIBSRCS := $(TL_SRCS) $(filter-out %/main.c,$(RC_SRCS) $(RS_SRCS) $(RF_SRCS))
TL_LIBOBJS := $(TL_LIBSRCS:%.c=$(BUILD)/obj/%.o)
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

LIB_A      := $(BUILD)/libringalloc.a
SONAME     := libringalloc.so.$(VERSION_MAJOR)
LIB_SO     := $(BUILD)/libringalloc.so.$(VERSION)
RP_A       := $(BUILD)/librp.a
REPLAY     := $(if $(RP_SRCS),$(BUILD)/replay)
TL_A       := $(if $(TL_LIBSRCS),$(BUILD)/libtools.a)
RINGCAT    := $(if $(RC_SRCS),$(BUILD)/ringcat)
RINGSTAT   := $(if $(RS_SRCS),$(BUILD)/ringstat)
RINGFEED   := $(if $(RF_SRCS),$(BUILD)/ringfeed)
PC         := $(BUILD)/ringalloc.pc
DEPS_STAMP := $(BUILD)/.deps-build

.PHONY: all lib demo check test bench fuzz fuzz-run install uninstall clean format format-check deps \
        tests soak valgrind plot FORCE
.DEFAULT_GOAL := all

all: lib $(REPLAY) $(RINGCAT) $(RINGSTAT) $(RINGFEED)
lib: $(LIB_A) $(LIB_SO) $(PC)

# Missing Debian packages are installed once per build directory (one line says which).
$(DEPS_STAMP): scripts/ensure-deps.sh
	@mkdir -p $(@D)
	@sh scripts/ensure-deps.sh build
	@touch $@
deps: $(DEPS_STAMP)

$(BUILD)/obj/ringalloc/%.o: ringalloc/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Iringalloc -DRA_BUILDING_LIB $(CFLAGS_ALL) -fPIC -fvisibility=hidden \
		-MMD -MP -c $< -o $@

$(BUILD)/obj/replay/%.o: replay/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fPIE -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS_ALL) -o $@ $^ $(LIB_LIBS)
	ln -sf libringalloc.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libringalloc.so

$(RP_A): $(RP_LIBOBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/replay: $(RP_OBJS) $(LIB_A)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $(RP_OBJS) $(LIB_A) $(TOOL_LIBS)

# ringalloc.pc for the PREFIX, LIBDIR and INCLUDEDIR of this make run: $(call write_pc,FILE).
# `make install` writes the installed one with it, so it always names the directories it went to;
# the copy in the build directory is remade whenever those values change (PC_STAMP holds them and
# is rewritten only when they differ).
define write_pc
printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
  'Name: ringalloc' \
  'Description: tick ring, pool, slab and arena allocators for market data' \
  'Version: $(VERSION)' 'Libs: -L$${libdir} -lringalloc' \
  'Libs.private: $(LIB_LIBS)' 'Cflags: -I$${includedir}' > $(1)
endef
PC_VARS  := $(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(VERSION)
PC_STAMP := $(BUILD)/.pc-vars

$(PC_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(PC_VARS)' | cmp -s - $@ || echo '$(PC_VARS)' > $@

$(PC): Makefile $(PC_STAMP)
	@mkdir -p $(@D)
	@$(call write_pc,$@)
	@cp $@ ringalloc.pc

# cmocka tests link the static library (internal ra__ symbols reachable), the replay objects and
# the shared-ring tools' objects.
$(BUILD)/tests/%: tests/%.c $(LIB_A) $(if $(RP_LIBOBJS),$(RP_A)) $(TL_A) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Iringalloc -Ireplay $(TL_CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -o $@ $< \
		$(TL_A) $(if $(RP_LIBOBJS),$(RP_A)) $(LIB_A) $(LDFLAGS_ALL) $(TEST_LIBS)

# Each fuzz target also builds with a plain main() that replays its corpus (no libFuzzer).
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/driver.c $(wildcard tests/fuzz/*.h tests/support/*.h) \
		$(LIB_A) $(if $(RP_LIBOBJS),$(RP_A))
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Iringalloc -Ireplay $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ \
		$< tests/fuzz/driver.c $(if $(RP_LIBOBJS),$(RP_A)) $(LIB_A) $(LDFLAGS_ALL) $(TOOL_LIBS)

# examples/*.c use the public headers only: `make check` builds them against the tree's headers
# (examples/Makefile builds them against an installed ringalloc through pkg-config).
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
$(BUILD)/examples/%: examples/%.c $(LIB_A) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIB_A) $(LDFLAGS_ALL) $(LIB_LIBS)

tests: $(TEST_BINS) $(FUZZ_REPLAY_BINS) $(REPLAY) $(RINGCAT) $(RINGSTAT) $(RINGFEED) $(EXAMPLE_BINS)

check: all tests
	@BUILD=$(BUILD) REPLAY=$(abspath $(BUILD))/replay sh tests/run.sh $(TEST_BINS) -- $(FUZZ_REPLAY_BINS)
test: check

# The README's main job: replay the bundled sample through the ring and print the report.
DEMO_INPUT ?= data/sample.pcap
demo: all
	$(BUILD)/replay --readers 1 $(DEMO_INPUT)

# ---- benchmarks: always optimised, never sanitized -------------------------------------------
$(BUILD)/bench/%: bench/%.c $(LIB_A) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Iringalloc $(CFLAGS_ALL) -O3 -march=native -o $@ $< $(LIB_A) \
		$(LDFLAGS_ALL) $(BENCH_LIBS)

# bench_shm also links the IPC peers it measures (ZeroMQ, nng): only `make bench` builds it
$(BUILD)/bench/bench_shm: BENCH_LIBS += -lzmq -lnng

bench: all
	@sh scripts/ensure-deps.sh bench
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	@for s in bench/run-*.sh; do [ -f "$$s" ] || continue; \
		BUILD=$(BUILD) REPLAY=$(abspath $(BUILD))/replay sh "$$s" || exit 1; done

# Charts of the CSV files that the last `make bench` wrote (docs/benchmarks.md, "Charts").
plot:
	@bash scripts/plot.sh bench $(BUILD)/bench-results docs/img

# ---- fuzzing (clang 14, libFuzzer) -------------------------------------------------------------
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -std=c11 -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE -Iinclude -Iringalloc -Ireplay \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIBSRCS := $(LIB_SRCS) $(RP_LIBSRCS)
FUZZ_DEPS  := $(FUZZ_LIBSRCS) $(wildcard tests/fuzz/*.h tests/support/*.h include/ringalloc/*.h \
              ringalloc/*.h replay/*.h)
# The allocator targets once more without ASan (UBSan only): under ASan the pool and the arena
# always take their checked out-of-line paths, so only these builds fuzz the inline fast paths.
FUZZ_FAST  := $(filter $(FUZZ_BUILD)/fast/fuzz_pool $(FUZZ_BUILD)/fast/fuzz_slab \
                $(FUZZ_BUILD)/fast/fuzz_arena,$(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/fast/%))
FUZZ_JOBS  ?= 1

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_DEPS)
	@sh scripts/ensure-deps.sh fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBSRCS) $(TOOL_LIBS)

$(FUZZ_BUILD)/fast/%: tests/fuzz/%.c $(FUZZ_DEPS)
	@sh scripts/ensure-deps.sh fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) $(subst address$(comma),,$(FUZZ_FLAGS)) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_LIBSRCS) $(TOOL_LIBS)

fuzz: $(FUZZ_BINS) $(FUZZ_FAST)

# Each target for FUZZ_SECONDS on a scratch corpus in build/fuzz/corpus (the committed seeds are
# only read); FUZZ_JOBS targets at a time. See tests/fuzz/run_fuzzers.sh.
fuzz-run: fuzz
	@FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_OUT=$(FUZZ_BUILD) sh tests/fuzz/run_fuzzers.sh $(FUZZ_SECONDS) \
		$(FUZZ_BINS) $(FUZZ_FAST)

# ---- Valgrind memcheck: the allocator and ring tests, zero errors and no definite leaks ---------
# Release binaries (Valgrind does not run sanitized ones); each test from a scratch directory so
# that the death tests' children leave no vgcore files; the stress test with fewer messages and
# fair scheduling (its threads spin on each other, which Valgrind's default scheduler starves).
VALGRIND_TESTS := test_ring test_pool test_slab test_arena test_stats test_osmem test_ring_stress
VALGRIND_FLAGS ?= -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                  --fair-sched=yes
VALGRIND_STRESS_MSGS ?= 20000
valgrind:
	@$(MAKE) --no-print-directory SANITIZE= $(VALGRIND_TESTS:%=build/release/tests/%)
	@command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
	@d=$$(mktemp -d); fail=0; for t in $(VALGRIND_TESTS); do \
		start=$$(date +%s); \
		( cd $$d && RA_STRESS_MSGS=$(VALGRIND_STRESS_MSGS) valgrind $(VALGRIND_FLAGS) \
		  $(abspath build/release/tests)/$$t >$$d/$$t.out 2>$$d/$$t.err ); rc=$$?; \
		if [ $$rc -eq 0 ]; then printf 'valgrind  %-20s clean  %4ss\n' $$t $$(($$(date +%s) - start)); \
		else printf 'valgrind  %-20s FAILED (exit %s)\n' $$t $$rc; tail -n 40 $$d/$$t.err; \
		  tail -n 20 $$d/$$t.out; fail=1; fi; done; rm -rf $$d; exit $$fail

# ---- soak (not in CI): replay in a loop, then the ring with readers of different speeds -----
SOAK_MINUTES ?= 10
$(BUILD)/soak_ring: tests/soak/soak_ring.c $(LIB_A) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIB_A) $(LDFLAGS_ALL) $(LIB_LIBS)

soak: all $(BUILD)/soak_ring
	@SOAK_MINUTES=$(SOAK_MINUTES) BUILD=$(BUILD) REPLAY=$(abspath $(BUILD))/replay \
		sh tests/soak/soak.sh

# ---- ratrace: allocation tracer (docs/ratrace.md) -----------------------------------------------
# build/.../ratrace (the tool, ratrace/*.c, links libdw) and build/.../libringalloc-trace.so (the
# LD_PRELOAD interposer, ratrace/preload/*.c, links libunwind). The interposer and the test
# programs of tests/ratrace/ are built the same way in every build, never sanitized: a preloaded
# library cannot run inside an ASan or TSan program. The tool itself takes the build's flags.
RT_TOOL_SRCS  := $(sort $(wildcard ratrace/*.c))
RT_PRE_SRCS   := $(sort $(wildcard ratrace/preload/*.c))
RT_TOOL_OBJS  := $(RT_TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
RT_PRE_OBJS   := $(RT_PRE_SRCS:%.c=$(BUILD)/obj/%.o)
RATRACE       := $(if $(RT_TOOL_SRCS),$(BUILD)/ratrace)
RT_SO         := $(if $(RT_PRE_SRCS),$(BUILD)/libringalloc-trace.so)
RT_TEST_SRCS  := $(sort $(wildcard tests/ratrace/*.c tests/ratrace/*.cpp))
RT_TEST_BINS  := $(addprefix $(BUILD)/ratrace-tests/,$(basename $(notdir $(RT_TEST_SRCS))))
RT_PRE_CFLAGS := -std=c11 -O2 -g $(WARN) -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC \
                 -fvisibility=hidden -fno-builtin -ftls-model=initial-exec -pthread
RT_TEST_FLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -fno-builtin -pthread -Wall -Wextra

all: $(RT_SO) $(RATRACE)
tests: $(RT_TEST_BINS)
bench: $(RT_TEST_BINS) # bench/run-ratrace.sh runs tests/ratrace/stdmap.cpp
# ... and reads ratrace against two floors: forwarding alone, and forwarding with a 16-byte header
RT_FLOORS := $(BUILD)/bench/libfloor_fwd.so $(BUILD)/bench/libfloor_hdr.so
bench: $(RT_FLOORS)
$(BUILD)/bench/libfloor_fwd.so: bench/ratrace_floor.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(RT_PRE_CFLAGS) -shared -o $@ $< -ldl
$(BUILD)/bench/libfloor_hdr.so: bench/ratrace_floor.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(RT_PRE_CFLAGS) -DFLOOR_HDR -shared -o $@ $< -ldl

$(BUILD)/obj/ratrace/preload/%.o: ratrace/preload/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(RT_PRE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(RT_SO): $(RT_PRE_OBJS)
	$(CC) -shared -Wl,-soname,libringalloc-trace.so -Wl,-z,relro,-z,now -pthread $(LDFLAGS) \
		-o $@ $^ -lunwind -ldl -lm

$(BUILD)/obj/ratrace/%.o: ratrace/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -fPIE -MMD -MP -c $< -o $@

$(BUILD)/ratrace: $(RT_TOOL_OBJS)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $^ -ldw -lelf -ldl -lm

$(BUILD)/ratrace-tests/%: tests/ratrace/%.c include/ringalloc/ratrace.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(CPPFLAGS_ALL) $(RT_TEST_FLAGS) -o $@ $<

$(BUILD)/ratrace-tests/%: tests/ratrace/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -o $@ $<

.PHONY: install-ratrace uninstall-ratrace
install: install-ratrace
install-ratrace: $(RT_SO) $(RATRACE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ringalloc
	$(if $(RT_SO),install -m 755 $(RT_SO) $(DESTDIR)$(LIBDIR)/)
	$(if $(RATRACE),install -m 755 $(RATRACE) $(DESTDIR)$(BINDIR)/ratrace)
uninstall: uninstall-ratrace
uninstall-ratrace:
	rm -f $(DESTDIR)$(BINDIR)/ratrace $(DESTDIR)$(LIBDIR)/libringalloc-trace.so

# ---- the shared-ring tools: ringcat and ringstat (docs/tools.md) -------------------------------
# tools/common/*.c (command line, attaching by name) and one directory per tool, whose main.c
# holds main(); the rest form build/.../libtools.a, which the cmocka tests link too. The tools
# reuse replay's librp.a helpers (histogram, JSON, dump lines, clock, stop flag, output files).
TL_CPPFLAGS := -Itools/common -Itools/ringcat -Itools/ringstat -Itools/ringfeed

$(BUILD)/obj/tools/%.o: tools/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -Ireplay $(TL_CPPFLAGS) $(CFLAGS_ALL) -fPIE -MMD -MP -c $< -o $@

$(TL_A): $(TL_LIBOBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/ringcat $(BUILD)/ringstat $(BUILD)/ringfeed: $(BUILD)/%: $(BUILD)/obj/tools/%/main.o $(TL_A) $(RP_A) $(LIB_A)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $^ $(TOOL_LIBS)

.PHONY: install-tools uninstall-tools
install: install-tools
install-tools: $(RINGCAT) $(RINGSTAT) $(RINGFEED)
	install -d $(DESTDIR)$(BINDIR)
	$(if $(RINGCAT),install -m 755 $(RINGCAT) $(DESTDIR)$(BINDIR)/ringcat)
	$(if $(RINGSTAT),install -m 755 $(RINGSTAT) $(DESTDIR)$(BINDIR)/ringstat)
	$(if $(RINGFEED),install -m 755 $(RINGFEED) $(DESTDIR)$(BINDIR)/ringfeed)
uninstall: uninstall-tools
uninstall-tools:
	rm -f $(DESTDIR)$(BINDIR)/ringcat $(DESTDIR)$(BINDIR)/ringstat $(DESTDIR)$(BINDIR)/ringfeed

# ---- install ------------------------------------------------------------------------------------
install: $(LIB_A) $(LIB_SO) $(REPLAY)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ringalloc $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(BINDIR)
	install -m 644 include/ringalloc/*.h $(DESTDIR)$(INCLUDEDIR)/ringalloc/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libringalloc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libringalloc.so
	$(call write_pc,$(DESTDIR)$(PKGCONFIGDIR)/ringalloc.pc)
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/ringalloc.pc
	$(if $(REPLAY),install -m 755 $(REPLAY) $(DESTDIR)$(BINDIR)/replay)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libringalloc.a $(DESTDIR)$(LIBDIR)/libringalloc.so \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libringalloc.so.$(VERSION) \
		$(DESTDIR)$(PKGCONFIGDIR)/ringalloc.pc $(DESTDIR)$(BINDIR)/replay
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ringalloc

# ---- formatting ---------------------------------------------------------------------------------
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
CLANG_FORMAT ?= clang-format
format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)
format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build ringalloc.pc

-include $(shell find $(BUILD) -name "*.d" 2>/dev/null)
