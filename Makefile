# The store's everyday commands. `make run` and `make test` work from a clean clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The suite runs against real PostgreSQL and Redis. A dedicated Redis database keeps the
# suite's cache flushes away from a development cache on the same server.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shop
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := ENV_FILE= \
	DEBUG=false \
	DATABASE_URL=$(TEST_DATABASE_URL) \
	REDIS_URL=$(TEST_REDIS_URL) \
	SECRET_KEY=test-only-secret-key-not-for-any-real-deployment-0123456789 \
	ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	EMAIL_URL=consolemail:// \
	STRIPE_SECRET_KEY=sk_test_suite \
	STRIPE_WEBHOOK_SECRET=whsec_test_suite \
	STRIPE_API_BASE=http://127.0.0.1:9 \
	STRIPE_MAX_NETWORK_RETRIES=0 \
	SECURE_SSL_REDIRECT=false

.PHONY: run test lint format migrations-check migrations-lint venv clean browser screenshots prod-check pgbouncer-check cluster-check bench backup-check

$(VENV)/.installed-run: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed-dev

# Browser tests use Debian's Chromium (Playwright never downloads a browser here), axe-core and
# the Nu HTML checker from npm, and Java to run the checker.
browser:
	@command -v chromium >/dev/null && command -v java >/dev/null || { \
		echo "Installing Chromium and Java from Debian (needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium default-jre-headless >/dev/null; }

e2e/node_modules/.installed: e2e/package.json
	npm install --prefix e2e --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

.env:
	$(PY) -m shop.devenv .env

# The development server and, beside it, the email worker that sends what the outbox queued
# (printed here with the development EMAIL_URL); when the server stops (Ctrl+C), so does the worker.
run: $(VENV)/.installed-run .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_admin
	$(PY) manage.py seed_demo --if-empty
	@echo "The admin password is DJANGO_SUPERUSER_PASSWORD in .env."
	$(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev browser e2e/node_modules/.installed
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# The production configuration without Docker (see deploy/prod-check.sh), on the database
# PROD_CHECK_DB (dropped and created again; default shop_prod_check) and the Redis database
# PROD_CHECK_REDIS_URL (default redis://127.0.0.1:6379/14).
prod-check: $(VENV)/.installed-run
	bash deploy/prod-check.sh

# Rehearse a restore (deploy/backup_check.py, about 15 s): a seeded store dumped with pg_dump,
# restored with pg_restore into a fresh database, compared table by table and total by total,
# and served by gunicorn from the copy. The databases BACKUP_CHECK_DB_source and _copy (default
# shop_backup_check_...) are dropped and made again, and dropped after. pg_dump and pg_restore
# must be the server's version or newer: when they are not, Debian's are installed.
backup-check: $(VENV)/.installed-dev
	@package=$$($(PY) deploy/backup_check.py --missing-client) && { [ -z "$$package" ] || { \
		echo "Installing $$package from Debian (needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$package >/dev/null; }; }
	$(PY) deploy/backup_check.py

# Two app hosts behind nginx (Debian's, installed if needed) with S3 storage, the worker and a
# Stripe stand-in, proved over HTTP (deploy/cluster_check.py); everything stopped afterwards.
cluster-check: $(VENV)/.installed-dev
	@command -v nginx >/dev/null || { \
		echo "Installing nginx from Debian (needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }
	$(PY) deploy/cluster_check.py

# The suite's concurrency tests again, every connection through PgBouncer (Debian's, installed if
# needed) in transaction pooling, as the store runs with PGBOUNCER=true: no oversell, no lost or
# doubled order, no double refund through the pooler. Left out: the two tests that pause a
# checkout with a session-level advisory lock on the test's own connection, a tool transaction
# pooling cannot carry (the lock and its release land on different server connections).
PGBOUNCER_TESTS := cart/tests/test_concurrency.py orders/tests/test_concurrency.py \
	orders/tests/test_stock_guards.py orders/tests/test_invoices.py orders/tests/test_returns.py \
	payments/tests/test_webhooks.py payments/tests/test_refunds.py \
	pricing/tests/test_voucher_concurrency.py pricing/tests/test_voucher_locks.py \
	pricing/tests/test_voucher_edits.py pricing/tests/test_give_back.py \
	accounts/tests/test_addresses.py
pgbouncer-check: $(VENV)/.installed-dev browser e2e/node_modules/.installed
	bash deploy/pgbouncer.sh start 6432
	$(TEST_ENV) TEST_PGBOUNCER_PORT=6432 $(PY) -m pytest -q $(PGBOUNCER_TESTS) \
		-k "not checkout_in_progress and not does_not_wait_for_a_checkout"; \
		status=$$?; bash deploy/pgbouncer.sh stop; exit $$status

# Lighthouse for the bench's page audit, pinned (version 13 needs a newer Node than Debian's).
bench/node_modules/.installed: bench/package.json
	npm install --prefix bench --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

# Load and capacity benchmark (about 12 minutes, with the machine); writes bench/results/<date>.md.
bench: $(VENV)/.installed-dev browser bench/node_modules/.installed
	$(PY) bench/run.py

# Desktop and phone screenshots of the main pages, into docs/screenshots/.
screenshots: $(VENV)/.installed-dev browser
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(PY) -m pytest -q e2e/screenshots.py

migrations-check: $(VENV)/.installed-dev
	$(TEST_ENV) DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

# Migrations newer than the baseline in pyproject.toml must leave a schema the release still
# running can use (see Deploying). It asks the local PostgreSQL for the SQL of each migration
# and applies nothing, so the server's own maintenance database will do.
MIGRATIONS_LINT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
migrations-lint: $(VENV)/.installed-dev
	$(TEST_ENV) DATABASE_URL=$(MIGRATIONS_LINT_DATABASE_URL) $(PY) manage.py lint_migrations

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache e2e/node_modules bench/node_modules
