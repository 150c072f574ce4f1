"""Finding a person's cases by name or personnummer without decrypting anyone.

The typed words (or number) are hashed like the stored blind indexes (``fund.name_index``,
``Beneficiary.personnummer_index``) and compared in the database. A match is shown only when
the privacy core lets the searcher see that person through that case
(:func:`fund.privacy.access_problem`): a protected identity stays invisible, with no hint, to
whoever has no access. A search is a read of the people it finds: each found person's read is
logged as ``personal_data.viewed`` (channel ``search``), and the search itself as
``personal_data.searched`` with what it was by, how many words and the references found —
never what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.views.decorators.debug import sensitive_variables
from stdnum.se import personnummer

from audit.services import record_event
from core.crypto import blind_index, twelve_digits
from core.roles import Role, has_role
from fund.case_scope import scope_read_once
from fund.models import Application, Beneficiary
from fund.name_index import name_word_hashes
from fund.privacy import AccessPurpose, access_problem, read_personal_data

#: The most candidate cases one search looks at (a name shared by more is narrowed by typing
#: more of it, or another filter).
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class PersonQuery:
    """What a search for a person compares: hashes only, never the typed text."""

    by: str  # "name" or "personnummer"
    hashes: tuple[str, ...]

    def condition(self, prefix: str = "") -> Q:
        """Every typed word must be a whole word of the name; a number must be the number."""
        if self.by == "personnummer":
            return Q(**{f"{prefix}personnummer_index": self.hashes[0]})
        condition = Q()
        for digest in self.hashes:
            condition &= Q(**{f"{prefix}name_index__contains": digest})
        return condition


@sensitive_variables()
def person_query(text: str) -> PersonQuery | None:
    """A valid personnummer searches by its index, anything else with letters by name."""
    text = (text or "").strip()
    if not text:
        return None
    if personnummer.is_valid(text):
        return PersonQuery("personnummer", (blind_index(twelve_digits(text)),))
    hashes = tuple(name_word_hashes(text))
    return PersonQuery("name", hashes) if hashes else None


def looks_like_personnummer(text: str) -> bool:
    return personnummer.is_valid((text or "").strip())


@sensitive_variables()
def cases_of_person(
    applications: QuerySet[Application], text: str, *, actor: Any, channel: str = "page"
) -> list[int]:
    """Ids of the cases among ``applications`` whose person matches ``text`` and whom ``actor``
    may see; the search and each found person's read are logged in one transaction."""
    query = person_query(text)
    if query is None:
        return []
    candidates = (
        applications.filter(query.condition("beneficiary__"), beneficiary__erased_at__isnull=True)
        .select_related("fund", "beneficiary")
        .order_by("pk")[:MAX_CANDIDATES]
    )
    found: list[int] = []
    people: dict[int, Beneficiary] = {}
    first_case: dict[int, Application] = {}
    with scope_read_once(actor):
        for app in candidates:
            person = people.setdefault(app.beneficiary_id, app.beneficiary)
            app.beneficiary = person  # one decryption per person, however many cases
            problem = access_problem(
                person,
                actor=actor,
                application=app,
                purpose=AccessPurpose.CASE_HANDLING,
                reason="",
            )
            if problem is None:
                found.append(app.pk)
                first_case.setdefault(person.pk, app)
        with transaction.atomic():
            for app in first_case.values():
                read_personal_data(app.beneficiary, actor=actor, application=app, channel="search")
            record_event(
                action="personal_data.searched",
                actor=actor,
                role=_searching_role(actor),
                object_type="search",
                payload={
                    "by": query.by,
                    "words": len(query.hashes),
                    "people": sorted(app.beneficiary.reference for app in first_case.values()),
                    "applications": len(found),
                    "channel": channel,
                },
            )
    return found


def _searching_role(actor: Any) -> str:
    for role in (Role.OFFICER, Role.DECISION_MAKER, Role.OMBUD):
        if has_role(actor, role):
            return role
    return ""
