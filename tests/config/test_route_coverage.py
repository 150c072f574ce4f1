"""Every route of the site falls under a permission rule, so none can ship unguarded.

The web pages have their table (tests/web/test_permissions.py), the API endpoints theirs
(tests/api/test_permissions.py); every admin route is tried here without the second factor;
only the language switch and the admin's sign-in pages are public; /metrics answers only its
scraper (tests/operations/test_metrics.py). A route anywhere else fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from tests.api.test_permissions import PUBLIC as API_PUBLIC
from tests.api.test_permissions import RULES as API_RULES
from tests.factories import UserFactory
from tests.web.test_permissions import PAGES

#: Routes anyone may open: (namespace, url name). The probes for load balancers answer
#: without login and show no data (tests/operations/test_health.py).
PUBLIC_ROUTES = {
    (None, "set_language"),
    ("admin", "login"),
    ("admin", "logout"),
    (None, "healthz"),
    (None, "readyz"),
    # The API's catch-all: the JSON 404 for any unknown route under /api/ (no data).
    ("api", "unknown"),
}
#: Monitoring routes, each with its own guard, tested in tests/operations/.
MONITORING_ROUTES: dict[tuple[str | None, str | None], str] = {
    (None, "metrics"): "scraper only: METRICS_TOKEN or a direct allowed address",
}


def routes(patterns: list[Any] | None = None) -> list[tuple[str | None, URLPattern]]:
    """(namespace, pattern) of every route of the site (or of ``patterns``)."""
    found = []

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern):
                found.append((namespace, entry))

    walk(get_resolver().url_patterns if patterns is None else patterns, None)
    return found


def rule_for(namespace: str | None, name: str | None) -> str | None:
    """Which rule guards this route, or None."""
    if (namespace, name) in PUBLIC_ROUTES:
        return "public"
    if (namespace, name) in MONITORING_ROUTES:
        return MONITORING_ROUTES[(namespace, name)]
    if namespace == "web" and name in PAGES:
        return "web page table"
    if namespace == "api" and (name in API_PUBLIC or any(name == n for n, _m in API_RULES)):
        return "API table"
    if namespace == "admin":
        return "admin site: staff with a one-time code (each route tried below)"
    return None


def unguarded(patterns: list[Any] | None = None) -> list[str]:
    return sorted(
        f"{namespace}:{pattern.name}"
        for namespace, pattern in routes(patterns)
        if rule_for(namespace, pattern.name) is None
    )


@pytest.mark.evidence("security")
def test_every_route_of_the_site_has_a_rule(evidence: Any) -> None:
    """Every URL route of the site is public by name, in a permission table, or admin-guarded."""
    counts: dict[str, int] = {}
    for namespace, pattern in routes():
        rule = rule_for(namespace, pattern.name) or "none"
        counts[rule] = counts.get(rule, 0) + 1
    for rule, count in sorted(counts.items()):
        evidence.row(tried=f"routes guarded by: {rule}", outcome=str(count))
    assert unguarded() == []
    assert counts["web page table"] == len(PAGES)


@pytest.mark.evidence("security")
def test_a_new_route_without_a_rule_is_detected(evidence: Any) -> None:
    """A route added outside the tables (or an API route outside the API table) is named."""

    def view(request: Any) -> Any:
        raise AssertionError("never called")

    extra = [
        path("debug/", view, name="debug"),
        path("api/", include(([path("v1/stats/", view, name="stats")], "api"))),
    ]
    found = unguarded([*get_resolver().url_patterns, *extra])
    evidence.row(tried="the site plus two routes without a rule", outcome=", ".join(found))
    assert found == ["None:debug", "api:stats"]


@pytest.mark.evidence("security")
def test_every_admin_route_needs_staff_signed_in_with_a_one_time_code(
    db: None, rf: Any, evidence: Any
) -> None:
    """Every admin route refuses a superuser who signed in with a password only."""
    user = UserFactory(roles=["administrator"], is_staff=True, is_superuser=True)
    user.is_verified = lambda: False  # what django-otp's middleware sets without a code
    sign_in_page = reverse("admin:login")
    tried: dict[str, dict[str, int]] = {}
    for namespace, pattern in routes():
        if namespace != "admin" or (namespace, pattern.name) in PUBLIC_ROUTES:
            continue
        request = rf.get("/admin/")
        request.user = user
        # The guard answers before the view reads its arguments: any value will do.
        kwargs = dict.fromkeys(pattern.pattern.regex.groupindex, "1")
        response = pattern.callback(request, **kwargs)
        location = response.get("Location", "") if response.status_code == 302 else ""
        answer = "to the sign-in" if location.startswith(sign_in_page) else str(response)
        model_admin = getattr(pattern.callback, "model_admin", None)
        group = model_admin.model._meta.app_label if model_admin else "the admin site"
        tried.setdefault(group, {}).setdefault(answer, 0)
        tried[group][answer] += 1
    for group, answers in sorted(tried.items()):
        evidence.row(
            tried=f"every admin route of {group}, signed in with a password only",
            outcome=", ".join(f"{answer} x{count}" for answer, count in sorted(answers.items())),
        )
    assert {answer for answers in tried.values() for answer in answers} == {"to the sign-in"}
