"""The case timeline and the auditor's log read as people read them (issue #19, item 6).

Reads of personal data collapse to one counted line, codes show as labels in the page's
language, amounts are written the Swedish way; the auditor filters the log by readable event
type, sees staff names, and opens an event for its payload and hashes; the dashboard's bars
link to the lists they count.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from fund.privacy import read_personal_data
from fund.states import State
from tests.fixtures import World
from tests.web.conftest import sign_in
from workflows import services
from workflows.assignment import assign_officer
from workflows.decision_trail import ACTION_LABELS, summarise
from workflows.models import Authority, LegalBasis, Obligation

NBSP = "\u00a0"


def _client(user: Any, language: str = "en") -> Client:
    client = sign_in(Client(), user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _timeline(html: str) -> str:
    """The timeline's markup: the ordered list and the collapsed reads after it."""
    start = html.index('<ol class="timeline">')
    end = html.index("</section>", start) if "</section>" in html[start:] else len(html)
    return html[start:end]


def _assessed_and_decided(world: World) -> Any:
    """A case assigned, assessed (one item partly obliged: social services, SoL 4:1) and
    decided."""
    app = world.to_statutory_check(world.new_application("6000", "1000"))
    assign_officer(app, actor=world.officer, officer=world.officer2)
    first, second = app.items.order_by("position")
    services.record_statutory_assessment(first, actor=world.officer, outcome=Obligation.NOT_OBLIGED)
    services.record_statutory_assessment(
        second,
        actor=world.officer,
        outcome=Obligation.PARTLY,
        authority=Authority.SOCIAL_SERVICES,
        legal_basis=LegalBasis.SOL_4_1,
        grantable_amount=Decimal("400"),
    )
    app = world.run(app, "clear", world.officer)
    return world.run(app, "approve_partly", world.decider)


def test_personal_data_reads_collapse_into_one_line_with_their_count(world: World) -> None:
    app = world.to_statutory_check(world.new_application("1500"))
    for _ in range(3):
        read_personal_data(app.beneficiary, actor=world.officer, application=app)
    reads = AuditEvent.objects.filter(
        action="personal_data.viewed", object_ref=app.beneficiary.reference
    ).count()
    assert reads == 3
    html = (
        _client(world.auditor)
        .get(reverse("web:audit_home"), {"reference": app.reference})
        .content.decode()
    )
    timeline = _timeline(html)
    listed, collapsed = timeline.split("<details", 1)
    assert "Personal data viewed" not in listed
    assert "Submitted" in listed
    assert "Personal data viewed 3 times" in unescape(collapsed)
    assert collapsed.count("<li>") == reads


def test_a_single_read_is_counted_in_the_singular_in_swedish(world: World) -> None:
    app = world.to_statutory_check(world.new_application("1500"))
    read_personal_data(app.beneficiary, actor=world.officer, application=app)
    html = (
        _client(world.auditor, "sv")
        .get(reverse("web:audit_home"), {"reference": app.reference})
        .content.decode()
    )
    assert "Personuppgifter visade 1 gång" in unescape(_timeline(html))


def test_a_swedish_timeline_shows_labels_not_codes(world: World) -> None:
    app = _assessed_and_decided(world)
    html = (
        _client(world.officer, "sv")
        .get(reverse("web:application", args=[app.reference]))
        .content.decode()
    )
    timeline = unescape(_timeline(html))
    for code in ("partly", "social_services", "sol_4_1", "within_rules", "approve", "utfall: "):
        assert not re.search(rf"\b{code}\b", timeline), code
    assert "Assigned to an officer" not in timeline
    assert "Tilldelat en handläggare" in timeline
    with translation.override("sv"):
        for label in (Obligation.PARTLY.label, Authority.SOCIAL_SERVICES.label):
            assert str(label) in timeline


def test_every_action_label_has_a_swedish_translation() -> None:
    untranslated = []
    for action, label in ACTION_LABELS.items():
        with translation.override("en"):
            english = str(label)
        with translation.override("sv"):
            swedish = str(label)
        if swedish == english:
            untranslated.append(action)
    assert untranslated == []


def test_timeline_amounts_are_written_the_swedish_way_in_swedish(world: World) -> None:
    with translation.override("sv"):
        assert f"6{NBSP}000,00{NBSP}kr" in summarise({"grantable": "6000.00"})
        assert "SEK" not in summarise({"grantable": "6000.00"})
    with translation.override("en"):
        assert "SEK 6,000.00" in summarise({"grantable": "6000.00"})
    app = _assessed_and_decided(world)
    html = (
        _client(world.officer, "sv")
        .get(reverse("web:application", args=[app.reference]))
        .content.decode()
    )
    timeline = _timeline(html)
    assert f"6{NBSP}000,00{NBSP}kr" in timeline or "6&nbsp;000,00&nbsp;kr" in timeline
    assert "6 000.00 SEK" not in timeline


def test_the_audit_log_filters_by_a_readable_event_type(world: World) -> None:
    world.to_approved(world.new_application("1500"))
    client = _client(world.auditor)
    html = client.get(reverse("web:audit_log")).content.decode()
    assert '<select name="action"' in html
    assert '<option value="application.submit">Submitted</option>' in html
    filtered = client.get(reverse("web:audit_log"), {"action": "application.submit"})
    assert filtered.status_code == 200
    rows = filtered.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    submits = AuditEvent.objects.filter(action="application.submit").count()
    assert submits >= 1
    assert rows.count("<tr>") == submits
    assert "Submitted" in rows
    assert "Approved" not in rows


def test_the_audit_log_names_staff_not_ids_and_never_the_people_in_cases(
    world: World,
) -> None:
    world.to_approved(world.new_application("1500"))
    world.officer.first_name, world.officer.last_name = "Olle", "Officer"
    world.officer.save()
    html = _client(world.auditor).get(reverse("web:audit_log")).content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "Olle Officer" in rows
    assert "Testa Testsson" not in html  # the person in the case (world.new_application)
    assert "Actor id" not in html


def test_the_event_page_shows_the_payload_and_the_hashes(world: World) -> None:
    world.to_approved(world.new_application("1500"))
    event = AuditEvent.objects.filter(action="application.approve").get()
    response = _client(world.auditor).get(reverse("web:audit_event", args=[event.sequence]))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    pretty = json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False)
    assert pretty in html
    assert event.hash in html and event.prev_hash in html
    assert f"#{event.sequence}" in html
    log = _client(world.auditor).get(reverse("web:audit_log")).content.decode()
    assert reverse("web:audit_event", args=[event.sequence]) in log


def test_the_event_page_is_for_auditors_only(world: World) -> None:
    world.new_application("1500")
    event = AuditEvent.objects.order_by("sequence").first()
    assert event is not None
    url = reverse("web:audit_event", args=[event.sequence])
    for user in (world.officer, world.decider, world.treasurer, world.admin, world.ombud.user):
        assert _client(user).get(url).status_code == 403
    missing = reverse("web:audit_event", args=[event.sequence + 10_000])
    assert _client(world.auditor).get(missing).status_code == 404


def test_dashboard_bars_link_to_worklists_that_show_the_same_count(world: World) -> None:
    world.to_approved(world.new_application("1500"))
    world.to_statutory_check(world.new_application("700"))
    world.to_statutory_check(world.new_application("800"))
    world.run(world.new_application("500"), "submit", world.ombud.user)
    world.new_application("300")  # a draft
    client = _client(world.officer)
    html = client.get(reverse("web:dashboard")).content.decode()
    states = html.split('id="states-title"', 1)[1].split("</svg>", 1)[0]
    links = re.findall(r'<a href="([^"]+)"[^>]*>.*?class="value">(\d+)</text>', states, re.S)
    assert len(links) == len(State.choices)
    checked = 0
    for href, shown in links:
        href = unescape(href)
        assert href.startswith(reverse("web:worklist") + "?")
        listed = client.get(href).content.decode()
        found = re.search(r"Applications found: (\d+)", listed)
        assert found is not None, href
        assert found.group(1) == shown, href
        checked += int(shown) > 0
    assert checked >= 4
    assert f"state={State.STATUTORY_CHECK.value}" in states


def test_dashboard_bars_link_nowhere_for_those_without_the_worklist(world: World) -> None:
    world.run(world.new_application("500"), "submit", world.ombud.user)
    for user in (world.treasurer, world.auditor, world.admin):
        html = _client(user).get(reverse("web:dashboard")).content.decode()
        assert reverse("web:worklist") not in html
        assert 'role="img"' in html


def test_the_checkpoints_page_explains_how_checkpoints_are_made(
    world: World, settings: Any
) -> None:
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 250
    settings.AUDIT_CHECKPOINT_EVERY_MINUTES = 30
    settings.AUDIT_CHECKPOINT_RECIPIENTS = []
    html = unescape(_client(world.auditor).get(reverse("web:audit_checkpoints")).content.decode())
    assert "How checkpoints are made" in html
    assert "when 250 new events have been recorded" in html
    assert "the last one is 30 minutes old" in html
    assert "no auditors' address is set up" in html
    assert "Who signs: the server" in html
    assert "check the exported log against your copies" in html


def test_the_auditors_trail_opens_each_event_and_the_case_page_does_not(world: World) -> None:
    app = world.to_approved(world.new_application("1500"))
    approved = AuditEvent.objects.get(action="application.approve", object_ref=app.reference)
    event_url = reverse("web:audit_event", args=[approved.sequence])
    trail = _client(world.auditor).get(reverse("web:audit_home"), {"reference": app.reference})
    assert f'<a href="{event_url}">Approved</a>' in trail.content.decode()
    case_page = _client(world.officer).get(reverse("web:application", args=[app.reference]))
    assert event_url not in case_page.content.decode()
