# The two commands of the README: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Local runs use DEBUG (demo data, runserver); the test suite runs with production settings.
RUN_ENV := DEBUG=true

.PHONY: run test lint pytest fuzz install clean bench bench-smoke bench-scale bench-log

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(INSTALLED)
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py demo
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: lint pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(RUN_ENV) $(VENV)/bin/mypy .
	$(RUN_ENV) $(PY) manage.py makemigrations --check --dry-run

# PYTEST_ARGS passes options, e.g. make pytest PYTEST_ARGS="tests/scim -x".
pytest: $(INSTALLED)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The SCIM API's property tests at length (thousands of inputs per test, random each run; CI runs
# a short, fixed selection of them in `make pytest`). Prints how many inputs each test tried.
fuzz: $(INSTALLED)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest tests/scim/test_fuzz.py --hypothesis-show-statistics

# The benchmark (bench/README.md): its own PostgreSQL database, the app under gunicorn. BENCH_ARGS
# passes options, e.g. make bench BENCH_ARGS="--users 20000 --keep-db".
BENCH_INSTALLED := $(VENV)/.bench-installed

$(BENCH_INSTALLED): $(INSTALLED) bench/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: $(BENCH_INSTALLED)
	$(PY) -m bench $(BENCH_ARGS)

# CI's smoke run: 2,000 people, a few requests per endpoint, query-count budgets only.
bench-smoke: $(BENCH_INSTALLED)
	$(PY) -m bench --users 2000 --smoke

# Issue 19's scale mode (bench/README.md, "The scale mode"): the size-sensitive requests at each
# size in one run, and one organisation among many. Smaller, e.g.
# make bench-scale BENCH_SCALE=20000,100000 BENCH_MANY=100x1000 BENCH_ARGS="--database mine".
BENCH_SCALE ?= 100000,1000000
BENCH_MANY ?= 1000x1000

bench-scale: $(BENCH_INSTALLED)
	$(PY) -m bench --scale $(BENCH_SCALE) --many-organisations $(BENCH_MANY) $(BENCH_ARGS)

# Issue 19's request log (bench/README.md, "The request log at ten million entries"): 10,000,000
# SCIM log entries, the Activity tab and the prune on indexes and on monthly partitions. Smaller,
# e.g. make bench-log BENCH_ARGS="--entries 200000 --people 2000".
bench-log: $(BENCH_INSTALLED)
	$(PY) -m bench.request_log $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
