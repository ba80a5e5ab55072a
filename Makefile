# Thin wrapper over Meson + Ninja.  `make check` and `make demo` are the two
# commands a new machine needs; both install missing Debian packages first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15
MESON_OPTS ?= --werror

.PHONY: all deps build check test asan fuzz demo bench clean

all: build

deps:
	@scripts/install-deps
	@scripts/browser-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Unit and integration tests, then the same under ASan+UBSan, then a short
# run of every fuzz harness.  scripts/test-summary prints "N passed, N failed".
check: build
	scripts/run-tests $(BUILD)
	$(MAKE) asan
	$(MAKE) fuzz

test: build
	scripts/run-tests $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false

# Every suite again under the sanitizers, but the integration scripts on
# PostgreSQL: they repeat the SQLite ones through the same server code, and
# the PostgreSQL backend itself runs under the sanitizers in store-pg.  That
# keeps `make check` well under half an hour on two cores.
asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  scripts/run-tests $(ASAN_BUILD) --no-suite integration-pg

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	scripts/demo $(BUILD)/tessera var/demo

# Issuance, the HTTPS API, retrieval, OCSP and CRLs, then issuance and OCSP on
# SQLite and PostgreSQL with one and two nodes, each next to references
# measured in the same run (bench/README.md).  BENCH_SECONDS per figure:
# about 10 minutes in all at the default; `make bench BENCH_SECONDS=30` for
# steadier figures.
BENCH_SECONDS ?= 10
bench: build
	bench/issue $(BUILD) $(BENCH_SECONDS)
	bench/api $(BUILD) $(BENCH_SECONDS)
	bench/retrieve $(BUILD)
	bench/ocsp $(BUILD) $(BENCH_SECONDS)
	bench/cluster $(BUILD) $(BENCH_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
