# The two commands of the README: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Local runs use DEBUG (demo data, runserver); the test suite runs with production settings.
RUN_ENV := DEBUG=true

.PHONY: run test lint pytest install clean

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

pytest: $(INSTALLED)
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
