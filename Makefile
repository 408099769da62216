# `make demo` and `make test` bootstrap their own virtualenv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit resilience bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "recruit needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recruit demo --dir recruit-demo

lint: $(STAMP)
	$(BIN)/ruff check recruit_cli tests bench
	$(BIN)/ruff format --check recruit_cli tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test: lint typecheck unit

resilience: $(STAMP)
	RECRUIT_RESILIENCE_FULL=1 $(BIN)/python -m pytest -q tests/resilience

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) recruit-demo test-artifacts .pytest_cache .mypy_cache .ruff_cache
