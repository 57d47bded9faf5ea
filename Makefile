# Every target sets up what it needs on a fresh machine: a .venv with python3 and the pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
# Development mode for the local targets (run, setup, bench, ...) unless DEBUG is set: settings default it off.
DEBUG ?= true
export DEBUG
PORT ?= 8000

.PHONY: setup run test test-fast bench backup restore clearsessions lint format chromium postgres redis

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py load_initial_data

run: setup
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests drive Debian's Chromium; install it when missing and apt-get can be used.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Browser tests need Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium', then 'make test' again."; exit 1; fi

# The outage tests start a throwaway PostgreSQL server; install Debian's when missing and apt-get can be used.
postgres:
	@if [ -x /usr/lib/postgresql/15/bin/initdb ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's postgresql for the database outage tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "The outage tests need PostgreSQL 15: run 'sudo apt-get install postgresql', then 'make test' again."; exit 1; fi

# The shared-cache tests start a throwaway Redis.
redis:
	@if [ -x /usr/bin/redis-server ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's redis-server for the shared-cache tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else echo "The shared-cache tests need Redis: run 'sudo apt-get install redis-server', then 'make test' again."; exit 1; fi

test: $(STAMP) chromium postgres redis
	$(PY) -m pytest -n 2

# The inner loop: no browser, no servers, no 107,000-name dictionary (curated content only).
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 --reuse-db -m "not browser and not processes and not dictionary"

bench: setup
	$(PY) manage.py bench

# Content backup: every patient content model plus the staff groups, as JSON with natural keys, so it
# loads into any database (manage.py backup_content; the list is settings.PATIENT_CONTENT_MODELS). Not
# included: staff accounts, the edit history and pending revisions (they point at database ids, which a
# natural-key restore does not keep); back up the database itself for those (docs/deploy.md).
# BACKUP=path overrides the default timestamped file.
backup: $(STAMP)
	@out='$(BACKUP)'; [ -n "$$out" ] || out="backups/content-$$(date +%Y%m%d-%H%M%S).json"; \
	echo "Writing $$out (this takes a few minutes with the full dictionary)..."; \
	$(PY) manage.py backup_content "$$out"

# Restore a content backup: make restore FILE=backups/content-YYYYmmdd-HHMMSS.json. One transaction: a bad
# file writes nothing. Authors and reviewers missing here become inactive placeholder accounts that
# cannot sign in until claimed (manage.py create_staff USERNAME --claim --role editor|reviewer).
restore: $(STAMP)
	@[ -n '$(FILE)' ] || { echo "Usage: make restore FILE=backups/content-YYYYmmdd-HHMMSS.json"; exit 2; }
	@[ -f '$(FILE)' ] || { echo "No such file: $(FILE)"; exit 2; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py restore_content '$(FILE)'

# Delete expired staff sessions (Django keeps them until told): run daily, see docs/deploy.md.
clearsessions: $(STAMP)
	$(PY) manage.py clearsessions

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
