# Masthead: `make run` serves the demo site on http://127.0.0.1:8080; `make test` runs every test.
SWIFT  ?= swift
BIN    := .build/debug/masthead
VENV   := .venv
PYTHON := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run build deps test test-swift test-site test-deps bench clean

run: build
	$(BIN) serve --host $(HOST) --port $(PORT) --demo-if-empty

build: deps
	$(SWIFT) build --product masthead

deps:
	@scripts/install-deps.sh

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(PYTHON) -m pytest -p no:cacheprovider tests/site

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

clean:
	rm -rf .build $(VENV) data
