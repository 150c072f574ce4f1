"""Queries for the pages, tuned so a page costs a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.roles import Role, has_role
from fund.models import Application, Fund, NeedItem, Ombud, OmbudStatus
from fund.person_search import cases_of_person, looks_like_personnummer
from fund.states import FINAL_STATES, State
from workflows.models import Decision, DecisionStatus

PAGE_SIZE = 25

#: Sort keys offered to people, and the columns they mean.
SORTS: dict[str, tuple[str, ...]] = {
    "waiting": ("waiting_since", "pk"),
    "-waiting": ("-waiting_since", "-pk"),
    "reference": ("reference",),
    "-reference": ("-reference",),
    "state": ("state", "waiting_since", "pk"),
}
CLOSED_STATES = (*FINAL_STATES, State.CLOSED)
#: How long a case has waited: since its last step, or since it was created.
WAITING_SINCE = Coalesce("state_changed_at", "created_at")


@dataclass(frozen=True)
class WorklistQuery:
    fund: int | None = None
    state: str = ""  # "" open cases, "all", or a state
    officer: str = ""  # "" anyone, "none" unassigned, or a user id
    waiting_days: int | None = None
    ombud_revoked: bool = False  # only cases whose ombud's registration is revoked
    sort: str = "waiting"
    page: int = 1
    search: str = ""  # a reference (or part), a person's name or personnummer, an ombud
    mine: bool = False  # only the cases assigned to the user
    awaiting_signature: bool = False  # only decisions waiting for their second signature


#: A reference or a part of one, as typed: "0042", "2026-00", "A-2026-000042".
REFERENCE_PART = re.compile(r"(?:[Aa]-?)?[\d-]*\d[\d-]*", re.ASCII)


def awaiting_signature_ids() -> QuerySet[Decision, int]:
    """The cases whose decision waits for a second decision-maker's signature."""
    return Decision.objects.filter(status=DecisionStatus.AWAITING_SIGNATURE).values_list(
        "application_id", flat=True
    )


def search_condition(user: Any, rows: QuerySet[Application], text: str) -> Q:
    """What a typed search matches among ``rows`` (the user's cases, already filtered).

    A reference or part of one matches references; a personnummer finds its person; words
    find the person by name (only those the privacy core lets the user see, and logged) and
    the ombud by name, user name or organisation.
    """
    text = " ".join(text.split())
    if looks_like_personnummer(text):
        return Q(pk__in=cases_of_person(rows, text, actor=user))
    if REFERENCE_PART.fullmatch(text):
        return Q(reference__icontains=text.upper())
    return Q(pk__in=cases_of_person(rows, text, actor=user)) | Q(ombud_id__in=ombuds_named(text))


def ombuds_named(text: str) -> QuerySet[Ombud, int]:
    """Ombud whose name, user name or organisation holds every typed word."""
    ombuds = Ombud.objects.all()
    for word in text.split():
        ombuds = ombuds.filter(
            Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__username__icontains=word)
            | Q(organisation__name__icontains=word)
        )
    return ombuds.values_list("pk", flat=True)


def funds_of(user: Any) -> QuerySet[Fund]:
    """The funds an officer or decision-maker works in."""
    return Fund.objects.filter(handlers=user).order_by("name")


def officers_in(funds: QuerySet[Fund]) -> QuerySet[Any]:
    """Officers who work in any of these funds (for the assign and filter lists)."""
    return (
        get_user_model()
        .objects.filter(groups__name=Role.OFFICER, funds_handled__in=funds, is_active=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def worklist(user: Any, query: WorklistQuery, funds: list[Fund] | None = None) -> Page:
    """One page of the applications in the user's funds, in four queries whatever the size.

    The user's fund ids (unless the page passes the funds it read); the count; the page's
    ids, sorted and sliced on the applications table alone (no joins before the LIMIT); then
    those rows with their fund, officer, item count and requested total (correlated
    subqueries, evaluated for the page's rows only). A search by person adds its own reads
    (``fund.person_search``).
    """
    fund_ids = (
        [fund.pk for fund in funds]
        if funds is not None  # the page read them already (``funds_of(user)``)
        else list(funds_of(user).values_list("pk", flat=True))
    )
    rows = Application.objects.filter(fund_id__in=fund_ids)
    if query.fund:
        rows = rows.filter(fund_id=query.fund)
    if query.state == "" and query.search:
        pass  # a search finds a case in any state unless a state is chosen
    elif query.state == "":
        rows = rows.exclude(state__in=CLOSED_STATES)
    elif query.state != "all":
        rows = rows.filter(state=query.state)
    if query.officer == "none":
        rows = rows.filter(assigned_officer__isnull=True)
    elif query.officer.isdigit():
        rows = rows.filter(assigned_officer_id=int(query.officer))
    if query.ombud_revoked:
        # A subquery, not a join: the page's ids are still sorted on the applications alone.
        rows = rows.filter(ombud_id__in=revoked_ombud_ids())
    if query.waiting_days is not None:
        cutoff = timezone.now() - timedelta(days=query.waiting_days)
        rows = rows.filter(
            Q(state_changed_at__lte=cutoff)
            | Q(state_changed_at__isnull=True, created_at__lte=cutoff)
        )
    if query.mine:
        rows = rows.filter(assigned_officer_id=user.pk)
    if query.awaiting_signature:
        rows = rows.filter(pk__in=awaiting_signature_ids())
    if query.search.strip():
        # Last, so a search by person logs the reads of exactly the cases the list shows.
        rows = rows.filter(search_condition(user, rows, query.search))
    ordered = rows.annotate(waiting_since=WAITING_SINCE).order_by(
        *SORTS.get(query.sort, SORTS["waiting"])
    )
    page = Paginator(ordered.values_list("pk", flat=True), PAGE_SIZE).get_page(query.page)
    ids = list(page.object_list)
    items = NeedItem.objects.filter(application=OuterRef("pk")).order_by().values("application")
    details = (
        Application.objects.filter(pk__in=ids)
        .annotate(
            waiting_since=WAITING_SINCE,
            awaiting_signature=Exists(
                Decision.objects.filter(
                    application=OuterRef("pk"), status=DecisionStatus.AWAITING_SIGNATURE
                )
            ),
            item_count=Subquery(items.annotate(n=Count("pk")).values("n")),
            requested_total=Subquery(
                items.annotate(total=Sum("requested_amount")).values("total"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )
        .select_related("fund", "assigned_officer")
        .only(
            "reference",
            "state",
            "created_at",
            "state_changed_at",
            "assigned_officer_id",
            "fund__name",
            "assigned_officer__username",
            "assigned_officer__first_name",
            "assigned_officer__last_name",
        )
        .in_bulk()
        if ids
        else {}
    )
    page.object_list = [details[pk] for pk in ids]
    return page


def visible_application(user: Any, reference: str) -> Application | None:
    """The application if the user may open its page, else None (a 404, not a hint)."""
    app = (
        Application.objects.select_related(
            "fund", "beneficiary", "ombud__user", "ombud__organisation", "assigned_officer"
        )
        .filter(reference=reference)
        .first()
    )
    if app is None:
        return None
    ombud = getattr(user, "ombud", None) if has_role(user, Role.OMBUD) else None
    if ombud is not None and app.ombud_id == ombud.pk and app.ombud.status != OmbudStatus.REVOKED:
        return app
    if (has_role(user, Role.OFFICER) or has_role(user, Role.DECISION_MAKER)) and (
        app.fund.handlers.filter(pk=user.pk).exists()
    ):
        return app
    if has_role(user, Role.TREASURER) and app.state in (
        State.APPROVED,
        State.PAYOUT_SCHEDULED,
        State.PAID,
        State.CLOSED,
    ):
        return app
    return None


def revoked_ombud_ids() -> QuerySet[Ombud, int]:
    return Ombud.objects.filter(status=OmbudStatus.REVOKED).values_list("pk", flat=True)


def revoked_ombud_case_count(user: Any) -> int:
    """How many open cases in the user's funds wait to be handed to another ombud."""
    return (
        Application.objects.filter(fund__handlers=user, ombud_id__in=revoked_ombud_ids())
        .exclude(state__in=CLOSED_STATES)
        .count()
    )


def ombud_cases(user: Any) -> QuerySet[Application]:
    """An ombud's own applications, newest first, with the open komplettering flagged.

    None once the ombud's registration is revoked (their cases wait for another ombud)."""
    ombud = getattr(user, "ombud", None)
    if ombud is None:
        return Application.objects.none()
    return (
        Application.objects.filter(ombud=ombud)
        .exclude(ombud__status=OmbudStatus.REVOKED)
        .select_related("fund")
        .annotate(
            open_requests=Count(
                "completion_requests", filter=Q(completion_requests__resolved_at__isnull=True)
            )
        )
        .order_by("-created_at")
    )


def own_cases_matching(cases: list[Application], search: str) -> list[Application]:
    """The ombud's cases whose reference holds what was typed ("0042", "2026-00")."""
    wanted = search.strip().upper()
    return [case for case in cases if wanted in case.reference]


def people_who_may_be_given_access(app: Application, giver: Any) -> QuerySet[Any]:
    """Officers and decision-makers in the case's fund, but not the giver (no self-grants)."""
    return (
        get_user_model()
        .objects.filter(
            funds_handled=app.fund_id,
            groups__name__in=(Role.OFFICER, Role.DECISION_MAKER),
            is_active=True,
        )
        .exclude(pk=giver.pk)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def verified_ombuds() -> QuerySet[Ombud]:
    """Ombud a case can be handed to: verified, at a verified organisation."""
    return (
        Ombud.objects.filter(status=OmbudStatus.VERIFIED, organisation__verified_at__isnull=False)
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__last_name", "user__username")
    )
