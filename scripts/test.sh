#!/usr/bin/env bash
# The whole suite: on SQLite, then on PostgreSQL when POSTGRES_TEST_URL is set.
# Locally, tests needing PostgreSQL or a Celery worker skip with their reason; with
# FUNDFLOW_STRICT=1 (CI) a skipped test fails the run instead.
#
# TEST_SELECTION picks the tests: "not slow" (the default, `make test`) or "slow" (the long
# fault and soak scenarios, `make test-slow`; .ci/run runs both).
set -uo pipefail
cd "$(dirname "$0")/.."
SELECTION="${TEST_SELECTION:-not slow}"
PYTEST=(.venv/bin/python -m pytest -p no:cacheprovider -n "${TEST_WORKERS:-2}" "$@")

status=0
echo "== tests on SQLite (-m '$SELECTION')"
if [ "${FUNDFLOW_STRICT:-0}" = "1" ]; then
  # Those run in the PostgreSQL pass below, with the Celery worker.
  env -u DATABASE_URL "${PYTEST[@]}" -m "($SELECTION) and not postgres and not celery" || status=$?
else
  env -u DATABASE_URL "${PYTEST[@]}" -m "$SELECTION" || status=$?
fi
# pytest exits 5 when the selection is empty: nothing to run on this backend is no failure.
[ $status -eq 5 ] && status=0
[ $status -eq 0 ] || exit $status

if [ -n "${POSTGRES_TEST_URL:-}" ]; then
  echo "== tests on PostgreSQL (-m '$SELECTION'; real Celery worker on ${CELERY_TEST_BROKER_URL:-<none>})"
  DATABASE_URL="$POSTGRES_TEST_URL" "${PYTEST[@]}" -m "$SELECTION" || status=$?
  [ $status -eq 5 ] && status=0
elif [ "${FUNDFLOW_STRICT:-0}" = "1" ]; then
  echo "FUNDFLOW_STRICT=1 but POSTGRES_TEST_URL is not set: the PostgreSQL pass cannot run" >&2
  exit 1
fi
exit $status
