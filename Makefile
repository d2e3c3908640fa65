# The two set-up-and-go commands of the README; both work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv services test run lint bench-validate

$(BIN)/notifierd: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/notifierd

# Start the local PostgreSQL and Redis when they are not answering (no-op otherwise).
services:
	@scripts/ensure-services

test: venv services
	$(BIN)/ruff check notifierd tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

run: venv services
	$(BIN)/notifierd validate config
	$(BIN)/notifierd run --config config --dry-run

lint: venv
	$(BIN)/ruff check notifierd tests bench
	$(BIN)/ruff format --check notifierd tests bench
	$(BIN)/mypy

bench-validate: venv
	$(BIN)/python bench/validate.py
