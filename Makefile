# The two commands in the README's quick start: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
FUZZ_STAMP := $(VENV)/.installed-fuzz
MINUTES ?= 10

.PHONY: demo test lint typecheck pytest bench bench-quick clean fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

$(FUZZ_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[fuzz]'
	touch $(STAMP) $@

demo: $(STAMP)
	$(BIN)/dialogdata build examples/raw out/demo --overwrite
	@echo ""
	@echo "Outputs:  out/demo/ (train.jsonl, validation.jsonl, dataset_info.json, rejects.jsonl, issues.jsonl, manifest.json)"
	@echo "Report:   out/demo/reports/summary.html"

lint: $(DEV_STAMP)
	$(BIN)/ruff check dialogdata tests benchmarks fuzz
	$(BIN)/ruff format --check dialogdata tests benchmarks fuzz

typecheck: $(DEV_STAMP)
	$(BIN)/mypy --strict dialogdata

pytest: $(DEV_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# Coverage-guided fuzzing (atheris) of the ingest containers, encodings, formats and the Reader:
# `make fuzz MINUTES=30` splits the minutes between the harnesses (fuzz/run.py); crashes go to
# fuzz/crashes/<harness>/, to be fixed and kept as tests/fuzz_regressions/<harness>/<name>.bin.
fuzz: $(FUZZ_STAMP)
	$(BIN)/python -m fuzz.run --minutes $(MINUTES)

# Peers (pydantic, ...) go into their own venv, never into the project's; the ones that clash with
# the project's dependencies (datatrove, data-juicer) get a venv each under .bench/peers.
# benchmarks/run.py runs every benchmark and writes .bench/RESULTS.md; bench-quick is its smoke run.
BENCH_VENV := .bench/venv
$(BENCH_VENV)/.installed: pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -e '.[bench]'
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/run.py

bench-quick: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/run.py --quick

clean:
	rm -rf $(VENV) out .mypy_cache .pytest_cache .ruff_cache .hypothesis
