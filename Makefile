# Masthead: `make run` serves the demo site on http://127.0.0.1:8080; `make test` runs every test,
# on SQLite and again on a private PostgreSQL server (scripts/with-postgres.sh).
SWIFT  ?= swift
BIN    := .build/debug/masthead
VENV   := .venv
PYTHON := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run build deps install test test-swift test-site test-deps bench bench-smoke fuzz clean

run: build
	$(BIN) serve --host $(HOST) --port $(PORT) --demo-if-empty

build: deps
	$(SWIFT) build --product masthead

deps:
	@scripts/install-deps.sh

# The release binary in $(PREFIX)/bin, the themes, newsroom files and demo in $(PREFIX)/share/masthead.
PREFIX ?= /usr/local
install: deps
	$(SWIFT) build -c release --product masthead --scratch-path .build-release
	scripts/install.sh $(PREFIX) .build-release/release/masthead

# Every page the tests render is also rendered by swift-mustache and compared (see docs/themes.md).
test test-swift test-site: export MASTHEAD_CHECK_TEMPLATES := 1

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/with-postgres.sh $(SWIFT) test --skip-build
	$(PYTHON) -m pytest -p no:cacheprovider tests/site
	scripts/with-postgres.sh $(PYTHON) -m pytest -p no:cacheprovider tests/site
	$(MAKE) bench-smoke

# The benchmarks, briefly, on the debug build: they prove the scripts and the
# paths they drive still work (their figures mean nothing in a debug build).
bench-smoke:
	@scripts/install-deps.sh bench
	MASTHEAD_BIN=$(BIN) bench/scale.sh 300 --smoke
	MASTHEAD_BIN=$(BIN) bench/soak.sh --smoke
	MASTHEAD_BIN=$(BIN) bench/import.sh 300 --smoke
	MASTHEAD_BIN=$(BIN) bench/publish.sh 300 --smoke
	MASTHEAD_BIN=$(BIN) bench/export.sh 300 --smoke

test-swift: deps
	$(SWIFT) test

test-site: test-deps
	$(SWIFT) build --product masthead
	$(PYTHON) -m pytest -p no:cacheprovider tests/site

test-deps:
	@scripts/install-deps.sh test
	@[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	@$(PYTHON) -m pip install -q --disable-pip-version-check -r tests/site/requirements.txt

bench: build
	@scripts/install-deps.sh bench
	bench/pages.sh
	bench/images.sh
	bench/scale.sh $${N:-100000}
	bench/export.sh 10000

# Coverage-guided fuzzing with libFuzzer: each parser that reads what strangers send, for
# FUZZ_SECONDS each (FUZZ_TARGETS to choose). Findings land in fuzz/crashes/; add each as a
# regression input under Tests/MastheadFuzzingTests/Regressions/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= markdown filter consent form image
fuzz: deps
	$(SWIFT) build --product masthead-fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER -Xswiftc -use-ld=lld
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target fuzz/crashes/$$target; \
	  echo "== fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  MASTHEAD_FUZZ_TARGET=$$target .build-fuzz/debug/masthead-fuzz fuzz/corpus/$$target \
	    Tests/MastheadFuzzingTests/Regressions -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -rss_limit_mb=1024 \
	    -artifact_prefix=fuzz/crashes/$$target/ -print_final_stats=1 > fuzz/$$target.log 2>&1 \
	    || { grep -v "^0x" fuzz/$$target.log | tail -40; echo "fuzzing $$target found a failure: see fuzz/crashes/$$target/"; exit 1; }; \
	  grep -E "stat::number_of_executed_units|cov:" fuzz/$$target.log | tail -2; \
	done

clean:
	rm -rf .build $(VENV) data
