# Breather — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench screenshots inventory clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Breather needs Python 3.11 or newer (set PYTHON=python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools notes at every editable install that a folder named like a package could shadow
	@# it; here those folders are the packages. Informational, not a deprecation: not shown.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/breather demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# The suite runs in TEST_WORKERS processes (pytest-xdist, 4 unless set): it mostly waits on
# sockets, subprocesses and the database, so more workers than this machine's 2 cores still
# helps (2,590 tests: 11 min 18 s in one process, 4 min with four). Each worker has its own
# SQLite files and PostgreSQL schema. `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 4
MYPY_LOG := $(VENV)/mypy-beside-tests.log

# mypy from a fresh clone takes about 35 s of one core while the tests mostly wait: it runs
# beside them, and what it finds is printed after them (and fails the target); when it finds
# nothing, pytest's summary stays the last line.
test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "mypy . runs beside the tests; it reports after them only if it finds something"
	@$(BIN)/mypy . > $(MYPY_LOG) 2>&1 & mypy=$$!; \
	$(BIN)/pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal); tests=$$?; \
	if ! wait $$mypy; then cat $(MYPY_LOG); echo "make test: mypy found problems (above)"; exit 1; fi; \
	exit $$tests

# Refreshes the README's and docs' pictures: the browser tests save their screenshots there.
screenshots: venv
	BREATHER_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -m browser

# The data inventory (docs/privacy/data-inventory.md, and the table in docs/privacy/dpia.md) is
# generated from bot/data_inventory.py.
inventory: venv
	$(BIN)/python -m bot.data_inventory > docs/privacy/data-inventory.md
	$(BIN)/python -m bot.data_inventory --dpia < docs/privacy/dpia.md > docs/privacy/dpia.md.new
	mv docs/privacy/dpia.md.new docs/privacy/dpia.md

# Benchmarks, not tests: each prints one JSON line last (see docs/benchmarks.md).
bench: venv
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/scrub.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/rotate.py
	$(BIN)/python bench/crash.py
	$(BIN)/python bench/outage.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
