# Fundflow: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench lock clean worker beat run-prod migrate-prod evidence security-audit

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	bash scripts/test.sh

# Production (see README "Deployment"): CELERY_BROKER_URL=redis://… and the production env.
worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2} \
		--prefetch-multiplier=1 -O fair

# Exactly one beat process per deployment.
beat: install
	$(BIN)/celery -A config beat --loglevel=INFO \
		--schedule=$${CELERY_BEAT_SCHEDULE_FILE:-var/celerybeat-schedule}

# Migrations run as the migration (owner) role: DATABASE_URL=$$MIGRATION_DATABASE_URL; then
# the application role (DATABASE_APP_ROLE, else the user of DATABASE_URL) gets its grants.
migrate-prod: install
	DATABASE_URL="$${MIGRATION_DATABASE_URL:?set MIGRATION_DATABASE_URL}" \
		$(BIN)/python manage.py migrate --noinput
	APP_DATABASE_URL="$${DATABASE_URL:-}" DATABASE_URL="$${MIGRATION_DATABASE_URL}" \
		$(BIN)/python manage.py apply_database_grants

# Refuses DEBUG, missing keys, the demo users and key or database files others may read.
run-prod: install
	$(BIN)/python manage.py check_production
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn config.wsgi:application --config config/gunicorn.conf.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# ruff S, bandit and pip-audit as JSON in var/evidence/ (exit 2: dependencies not audited).
security-audit: install
	bash scripts/security_audit.sh

bench: install
	$(BIN)/python -m bench

# Regenerate the full lock after changing pyproject.toml's pins.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^fundflow' > requirements.lock

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# docs/evidence.md: every check and benchmark of issue #9, rerun (under 20 minutes on 2 cores).
# With POSTGRES_TEST_URL and CELERY_TEST_BROKER_URL set (as .ci/run does) it covers PostgreSQL
# and the real Celery worker too. EVIDENCE_QUICK=1 checks the pipeline with tiny sizes.
evidence: install
	$(BIN)/python scripts/evidence.py
