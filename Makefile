# The two set-up commands of the README. Both work on a fresh machine: they create .venv,
# install the project and its test tools, then run.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The paper report the demo rebuilds (kept outside the repository); checked only if it is there.
SEED ?= ../shared/seed/bao-cao-cchc-quy-III-2023-xa-vinh-thanh.txt

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cchc demo --out out/demo $(if $(wildcard $(SEED)),--seed $(SEED))

test: $(STAMP)
	bash scripts/services.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
