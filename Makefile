# Counsel Room: `make run` serves a working room on http://127.0.0.1:8000; `make test` runs everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# torch first and pinned (a CPU build), or a dependency pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar on torch==2.13.0
	$(BIN)/python -m pip install --progress-bar on -e '.[openai,test]'
	$(BIN)/python -m pip install --progress-bar on --no-deps openai-whisper==20250625
	touch $@

install: $(STAMP)

run: install
	$(BIN)/counsel-room db upgrade
	$(BIN)/counsel-room models install whisper-base
	$(BIN)/counsel-room demo
	$(BIN)/counsel-room serve

system-packages:
	bash scripts/system-packages.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: system-packages lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
