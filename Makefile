# optref: one non-recursive Makefile.
#
#   make                  liboptref (static and shared) and the optref command
#   make check            every unit test (Check framework) and the reproducibility job
#   make conform          the main job: the conformance gate on the default suite
#   make repro            optref output identical across gcc -O0, gcc -O3 -march=native, clang -O2
#   make bench            benchmarks (speed is measured here, never in tests)
#   make install PREFIX=  library, headers, pkg-config file and command
#
# BUILD, CC and OPT select a build directory, compiler and optimisation level
# (the reproducibility job builds three such trees side by side).

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
PREFIX  ?= /usr/local
VERSION := $(shell cat VERSION)

WARN     = -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
PKGS     = mpfr gmp json-c nettle openblas lapacke fftw3 fftw3f
CPPFLAGS = -Iinclude -DOPTREF_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   = -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) -fPIC -MMD -MP
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
TESTLIBS = $(shell pkg-config --libs check 2>/dev/null)

LIB_SRC  = $(sort $(wildcard core/*.c ref/mp/*.c ref/rng/*.c ref/optim/*.c quadratics/*.c fast/*.c \
                             conformance/*.c))
# fast/cpu/ is compiled twice: binary64 (cpu64) and binary32 (cpu32), with
# the loop vectoriser on at any -O level and sqrt free of errno (so loops
# with sqrt vectorise); IEEE semantics are otherwise kept (no -ffast-math:
# the conformance bounds assume correctly rounded operations).
FAST_TPL = $(sort $(wildcard fast/cpu/*.c))
FAST_CFLAGS = -ftree-vectorize -fno-math-errno \
    $(shell $(CC) -fvect-cost-model=dynamic -E -x c /dev/null >/dev/null 2>&1 && \
        echo -fvect-cost-model=dynamic)
CLI_SRC  = $(sort $(wildcard cli/*.c))
TEST_SRC = $(sort $(wildcard ref/tests/t-*.c quadratics/tests/t-*.c fast/tests/t-*.c \
                             conformance/tests/t-*.c tests/t-*.c))

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(FAST_TPL:%.c=$(BUILD)/obj/%.64.o) \
           $(FAST_TPL:%.c=$(BUILD)/obj/%.32.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN = $(TEST_SRC:%.c=$(BUILD)/%)
TEST_SUPPORT_OBJ = $(BUILD)/obj/tests/support/check_main.o $(BUILD)/obj/tests/support/testlib.o

DEPS_STAMP = build/.deps-ok

$(TEST_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_SUPPORT_OBJ): CPPFLAGS += -Itests/support

.PHONY: all deps check unit repro conform bench install clean
all: $(DEPS_STAMP) $(BUILD)/liboptref.a $(BUILD)/liboptref.so $(BUILD)/optref

# Installs missing Debian packages once; cheap when they are present.
deps $(DEPS_STAMP): ci/install-deps.sh
	@ci/install-deps.sh
	@mkdir -p build && touch $(DEPS_STAMP)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.64.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DFAST_REAL_BITS=64 $(CFLAGS) $(FAST_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.32.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DFAST_REAL_BITS=32 $(CFLAGS) $(FAST_CFLAGS) -c $< -o $@

$(BUILD)/liboptref.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The test library of mutants (fast/mutants.h): the binary64 instances of
# fast/cpu/ built with -DOPTREF_MUTANTS in place of the correct ones.
MUTANT_OBJ = $(FAST_TPL:%.c=$(BUILD)/obj/mutants/%.64.o)
$(BUILD)/obj/mutants/%.64.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DFAST_REAL_BITS=64 -DOPTREF_MUTANTS $(CFLAGS) $(FAST_CFLAGS) -c $< -o $@

$(BUILD)/liboptref-mutants.a: $(filter-out $(FAST_TPL:%.c=$(BUILD)/obj/%.64.o),$(LIB_OBJ)) $(MUTANT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/conformance/tests/t-mutants: $(BUILD)/obj/conformance/tests/t-mutants.o $(TEST_SUPPORT_OBJ) \
		$(BUILD)/liboptref-mutants.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/liboptref-mutants.a $(TESTLIBS) $(LDLIBS)

$(BUILD)/liboptref.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,liboptref.so.0 -o $@ $^ $(LDLIBS)

$(BUILD)/optref: $(CLI_OBJ) $(BUILD)/liboptref.a
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/liboptref.a $(LDLIBS)

$(BUILD)/%: $(BUILD)/obj/%.o $(TEST_SUPPORT_OBJ) $(BUILD)/liboptref.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/liboptref.a $(TESTLIBS) $(LDLIBS)

unit: all $(TEST_BIN)
	@OPTREF=$(BUILD)/optref ci/run-tests.sh $(TEST_BIN)

check: unit repro

repro: $(DEPS_STAMP)
	@ci/repro.sh

BENCH_SRC = $(sort $(wildcard bench/*.c))
BENCH_BIN = $(BENCH_SRC:%.c=$(BUILD)/%)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/liboptref.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/liboptref.a $(LDLIBS)

bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

conform: all
	$(BUILD)/optref conform --suite default --json $(BUILD)/conform.json

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/optref \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/liboptref.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/liboptref.so $(DESTDIR)$(PREFIX)/lib/liboptref.so.$(VERSION)
	ln -sf liboptref.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/liboptref.so.0
	ln -sf liboptref.so.0 $(DESTDIR)$(PREFIX)/lib/liboptref.so
	install -m 644 include/optref/*.h $(DESTDIR)$(PREFIX)/include/optref/
	install -m 755 $(BUILD)/optref $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' optref.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/optref.pc

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_SRC:%.c=$(BUILD)/obj/%.d) \
    $(BENCH_SRC:%.c=$(BUILD)/obj/%.d)
