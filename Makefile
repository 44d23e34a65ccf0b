# The README's two commands: `make demo` and `make test`.
# Both create .venv on first use and install what they need, so a machine with
# nothing but Python 3.11+ and pip is enough.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
OUT    ?= demo-output

.PHONY: demo test test-compat test-fuzz install dev lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

demo: install
	$(BIN)/python -m mllife demo --out $(OUT)

lint: dev
	$(BIN)/ruff check src tests benchmarks

typecheck: dev
	$(BIN)/mypy

# -n auto: one pytest worker per core (pytest-xdist); --dist loadfile keeps a file's tests,
# and its module fixtures, on one worker.
PYTEST_JOBS ?= -n auto --dist loadfile

pytest: dev
	$(BIN)/python -m pytest $(PYTEST_JOBS)

test: lint typecheck pytest

# Every property test (hypothesis' own ``hypothesis`` marker: each test using @given) on fresh
# random examples, ten times as many as `make test`, which replays the same ones on every run.
test-fuzz: dev
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -m hypothesis tests

# The oldest versions we support (pandas 2.2, scikit-learn 1.6, numpy 2.2, scipy 1.14, skops 0.13),
# in a second environment: `make test` runs the newest ones.
COMPAT     ?= .venv-compat
COMPAT_PIN := "pandas==2.2.3" "scikit-learn==1.6.1" "numpy>=2,<2.3" "scipy<1.15" "skops==0.13.0"

$(COMPAT)/.installed: pyproject.toml
	$(PYTHON) -m venv $(COMPAT)
	$(COMPAT)/bin/python -m pip install --quiet --upgrade pip
	$(COMPAT)/bin/python -m pip install --quiet $(COMPAT_PIN) -e ".[dev]"
	touch $@

test-compat: $(COMPAT)/.installed
	$(COMPAT)/bin/python -m pytest -q $(PYTEST_JOBS)

bench: dev
	for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(COMPAT) $(OUT) .pytest_cache .mypy_cache .ruff_cache
