# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PRESET ?= ci
JOBS ?= $(shell nproc)

.PHONY: deps configure build test demo bench fuzz install clean format lint

deps:
	@scripts/install-deps.sh

configure: deps
	@test -f build/build.ninja || cmake --preset $(PRESET) >/dev/null

build: configure
	cmake --build build -j $(JOBS)

# The skipped tests are listed at the end; in CI (CI=true) a skip not on tests/ci-skip-allowlist.txt
# fails the run (scripts/check-skips.py).
test: build
	@rm -f build/test-results.xml
	@ctest --test-dir build --output-on-failure -j $(JOBS) --output-junit test-results.xml $(CTEST_ARGS); rc=$$?; \
	  scripts/check-skips.py build/test-results.xml tests/ci-skip-allowlist.txt || rc=1; exit $$rc

# The demo builds only the warden binary (not the tests), with progress on the terminal.
demo: configure
	@echo "== building warden (only what the demo needs)"
	cmake --build build -j $(JOBS) --target warden
	scripts/demo.sh

bench: deps
	cmake --preset release >/dev/null && cmake --build build-release -j $(JOBS)
	bench/run.sh

fuzz: deps
	cmake --preset fuzz >/dev/null && cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	tests/fuzz/run.sh $(FUZZ_SECONDS)

install: build
	cmake --install build

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

lint: build
	run-clang-tidy -p build -quiet src

clean:
	rm -rf build build-dev build-release build-fuzz
