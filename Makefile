# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# Python >= 3.11 first, in one line, before pip can fail deep inside a resolver.
PY_OK := $(shell $(PYTHON) -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null)
ifneq ($(PY_OK),1)
$(error Python >= 3.11 is needed; '$(PYTHON)' is $(or $(shell $(PYTHON) --version 2>&1),not found): run make PYTHON=python3.11 (or newer))
endif
# The stamp names the requirements and the interpreter (path and version): a change of either,
# or an install that never finished, rebuilds .venv from scratch.
PY_ID  := $(shell $(PYTHON) -c 'import sys; print(sys.executable, sys.version)' | cksum | cut -d' ' -f1)
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)-$(PY_ID)

.PHONY: install demo test lint bench chaos samples dist clean chromium screenshots

$(STAMP): requirements.txt requirements-dev.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo.py
	@echo "Web console: $(BIN)/python connector.py console --emulator   (then open the URL it prints first)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The console's browser tests drive the system's Chromium (Debian package; never a download).
chromium:
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

test: $(STAMP) lint chromium
	$(BIN)/python connector.py validate > /dev/null
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/bench_cold_start.py
	$(BIN)/python bench/bench_mapping.py
	$(BIN)/python bench/bench_emulator.py
	$(BIN)/python bench/bench_client.py
	$(BIN)/python bench/bench_job.py
	$(BIN)/python bench/bench_map_memory.py
	$(BIN)/python bench/bench_list_memory.py
	$(BIN)/python bench/bench_perf.py

# Wheel and sdist in dist/ (the wheel is built from the sdist, so both are checked).
dist: $(STAMP)
	rm -rf dist build *.egg-info
	$(BIN)/python -m build --outdir dist .

samples: $(STAMP)
	$(BIN)/python demo.py --samples sample_outputs > /dev/null

chaos: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m slow tests/job

screenshots: $(STAMP) chromium
	$(BIN)/python -m tests.console.screenshots docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis dist build *.egg-info
