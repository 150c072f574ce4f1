"""``/healthz`` and ``/readyz`` for load balancers, systemd and Kubernetes.

``/healthz``: the process answers (no database). ``/readyz``: this process can serve — the
database answers and is migrated, the keys open their canaries, the broker answers (when
tasks go to one) and the audit chain was verified recently. Both are read-only and cheap: a
few small queries, no chain walk. Only the operator (whom ``may_scrape`` lets read
``/metrics``: the token, or a direct connection from an allowed address) learns which checks
failed, and even then no key, no personal data and no database error text; anyone else, the
internet through the proxy included, gets the status code and a bare status word.

:class:`HealthProbeMiddleware` answers them after the security headers' middleware and before
sessions, CSRF, the idle-tail checkpoint and the HTTPS redirect (the probes are in
``SECURE_REDIRECT_EXEMPT``), so a probe never writes, never sets a cookie and never follows a
redirect; the routes in ``config/urls.py`` serve the same views if it is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from operations.views import may_scrape

logger = logging.getLogger("fundflow.operations")

#: How long the broker may take to accept a connection before /readyz calls it unreachable.
BROKER_TIMEOUT_SECONDS = 1

OK = "ok"

#: The probes answer before the framing and CSP middleware run, so they set their own: nothing
#: in a probe's answer is ever to be framed, run or loaded.
PROBE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

#: Once a process has seen every migration applied it stays so (a new release is a new
#: process): the migration graph is read from disk, which is the one costly part.
_migrated: list[bool] = []


def database_problem() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.debug("readyz: database not reachable (%s)", type(exc).__name__)
        return "not reachable"
    return OK


def migrations_problem() -> str:
    if _migrated:
        return OK
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if unapplied:
        return f"{len(unapplied)} migrations not applied"
    _migrated.append(True)
    return OK


def keys_problem() -> str:
    """The configured keys against the canaries (written at start-up: a database migrated
    after this process started has none, and the keys are then unchecked)."""
    from fund.models import KeyCanary, KeyCanaryKind
    from operations.key_canary import canary_problems_by_kind

    wrong = canary_problems_by_kind()
    if wrong:
        return "do not fit the database: " + ", ".join(sorted(wrong))
    present = set(KeyCanary.objects.values_list("kind", flat=True))
    missing = sorted(set(KeyCanaryKind.values) - present)
    if missing:
        return "no canary for " + ", ".join(missing) + " (restart the server to check the keys)"
    return OK


def broker_problem() -> str:
    """Only when tasks go to a broker (not run in-process): can it be reached now?"""
    url = str(settings.CELERY_BROKER_URL or "")
    if not url or settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used (tasks run in-process)"
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(
                max_retries=1, timeout=BROKER_TIMEOUT_SECONDS, interval_start=0, interval_step=0
            )
    except Exception as exc:  # any transport's error means: cannot take tasks now
        logger.debug("readyz: broker not reachable (%s)", type(exc).__name__)
        return "not reachable"
    return OK


def audit_problem() -> str:
    """The last verification run is good and recent; a log never verified is given the same
    time from its first event (a new installation before its first nightly run)."""
    from audit.checkpoints import last_verification
    from audit.models import AuditEvent

    within = timedelta(hours=float(settings.AUDIT_VERIFIED_WITHIN_HOURS))
    since = timezone.now() - within
    last = last_verification()
    if last is not None:
        ran_at, ok = last
        if not ok:
            return "the last verification found the chain broken"
        if ran_at < since:
            return f"not verified in the last {within.total_seconds() / 3600:g} hours"
        return OK
    first = AuditEvent.objects.order_by("sequence").values_list("occurred_at", flat=True).first()
    if first is not None and first < since:
        return f"never verified, and the log is older than {within.total_seconds() / 3600:g} hours"
    return OK


#: The checks in the order they are answered; each returns "ok" or what is wrong.
CHECKS: dict[str, Callable[[], str]] = {
    "migrations": migrations_problem,
    "keys": keys_problem,
    "audit": audit_problem,
}


def readiness() -> dict[str, str]:
    """Each check's outcome; the database ones are skipped when the database does not answer."""
    outcome = {"database": database_problem()}
    for name, check in CHECKS.items():
        if outcome["database"] != OK:
            outcome[name] = "not checked (no database)"
            continue
        try:
            outcome[name] = check()
        except DatabaseError as exc:
            logger.debug("readyz: %s check failed (%s)", name, type(exc).__name__)
            outcome[name] = "failed (database error)"
    outcome["broker"] = broker_problem()
    return outcome


def failed_checks(outcome: dict[str, str]) -> list[str]:
    return [
        name
        for name, value in outcome.items()
        if value != OK and not (name == "broker" and value.startswith("not used"))
    ]


def with_probe_headers(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    @wraps(view)
    def answer(request: HttpRequest) -> HttpResponse:
        response = view(request)
        for header, value in PROBE_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return answer


@csrf_exempt
@with_probe_headers
@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive; nothing else is asked (a load balancer restarts on this)."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


#: This process's last readiness, as probed: its failed checks (empty before the first probe).
_last_failed: list[list[str]] = []


def forget_last_readiness() -> None:
    """Back to 'never probed' (tests)."""
    _last_failed.clear()


def _log_readiness_change(failed: list[str]) -> None:
    """One line when readiness is lost or its reasons change, one when it is back: an
    orchestrator probes every few seconds, and a line per probe would bury the log."""
    before = _last_failed[0] if _last_failed else []
    if failed == before:
        return
    _last_failed[:] = [failed]
    if failed:
        logger.warning("not ready: %s", ", ".join(failed))
    else:
        logger.info("ready again")


@csrf_exempt
@with_probe_headers
@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when this process can serve, 503 when not. Which check failed tells an insider
    who altered the history whether it was noticed, so only the operator is told."""
    outcome = readiness()
    failed = failed_checks(outcome)
    _log_readiness_change(failed)
    body: dict[str, object] = {"status": "not ready" if failed else "ready"}
    if may_scrape(request):
        body |= {"failed": failed, "checks": outcome}
    response = JsonResponse(body, status=503 if failed else 200)
    # Logged above, once per change, instead of Django's line for every 503.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthProbeMiddleware:
    """Answers the probes after the security headers are in place (it sits below
    SecurityMiddleware and PermissionsPolicyMiddleware) and before sessions, CSRF and
    checkpoints can run.

    The Host header is still checked against ALLOWED_HOSTS (``get_host`` raises as for any
    page), so a probe must send an allowed Host.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is None:
            return self.get_response(request)
        request.get_host()
        return probe(request)
