# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install demo test lint bench chaos samples clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python connector.py validate > /dev/null
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/bench_cold_start.py
	$(BIN)/python bench/bench_mapping.py
	$(BIN)/python bench/bench_emulator.py
	$(BIN)/python bench/bench_client.py
	$(BIN)/python bench/bench_job.py

samples: $(STAMP)
	$(BIN)/python demo.py --samples sample_outputs > /dev/null

chaos: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m slow tests/job

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
