#!/usr/bin/env bash
# The whole suite: on SQLite, then on PostgreSQL when POSTGRES_TEST_URL is set.
# Locally, tests needing PostgreSQL or a Celery worker skip with their reason; with
# FUNDFLOW_STRICT=1 (CI) a skipped test fails the run instead.
#
# TEST_SELECTION (a pytest -m expression, e.g. "evidence") narrows the run; default: all.
set -uo pipefail
cd "$(dirname "$0")/.."
SELECTION="${TEST_SELECTION:-}"
PYTEST=(.venv/bin/python -m pytest -p no:cacheprovider -n "${TEST_WORKERS:-2}" "$@")

status=0
echo "== tests on SQLite ${SELECTION:+(-m '$SELECTION')}"
if [ "${FUNDFLOW_STRICT:-0}" = "1" ]; then
  # Those run in the PostgreSQL pass below, with the Celery worker.
  env -u DATABASE_URL "${PYTEST[@]}" -m "${SELECTION:+($SELECTION) and }not postgres and not celery" \
    || status=$?
else
  env -u DATABASE_URL "${PYTEST[@]}" ${SELECTION:+-m "$SELECTION"} || status=$?
fi
[ $status -eq 0 ] || exit $status

if [ -n "${POSTGRES_TEST_URL:-}" ]; then
  echo "== tests on PostgreSQL ${SELECTION:+(-m '$SELECTION') }(real Celery worker on ${CELERY_TEST_BROKER_URL:-<none>})"
  DATABASE_URL="$POSTGRES_TEST_URL" "${PYTEST[@]}" ${SELECTION:+-m "$SELECTION"} || status=$?
elif [ "${FUNDFLOW_STRICT:-0}" = "1" ]; then
  echo "FUNDFLOW_STRICT=1 but POSTGRES_TEST_URL is not set: the PostgreSQL pass cannot run" >&2
  exit 1
fi
exit $status
