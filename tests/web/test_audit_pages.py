"""Auditor pages read only: GET works, every other method is refused and changes nothing."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.fixtures import World
from tests.web.conftest import sign_in

AUDIT_PAGES = (
    "audit_home",
    "audit_log",
    "audit_verify",
    "audit_checkpoints",
    "audit_export",
    "audit_staff_directory",
)


def urls(reference: str) -> list[str]:
    return [
        reverse(f"web:{name}", args=[reference] if name == "audit_export" else [])
        for name in AUDIT_PAGES
    ]


def test_every_auditor_page_is_get_only_and_changes_nothing(world: World) -> None:
    app = world.new_application("500")
    client = sign_in(Client(), world.auditor)
    for url in urls(app.reference):
        assert client.get(url).status_code == 200, url
    count = AuditEvent.objects.count()
    for url in urls(app.reference):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)(url).status_code == 405, (method, url)
    assert AuditEvent.objects.count() == count


def test_the_auditor_sees_the_trail_and_exports_it(world: World) -> None:
    app = world.to_approved(world.new_application("1500"))
    client = sign_in(Client(), world.auditor)
    html = client.get(reverse("web:audit_home"), {"reference": app.reference}).content.decode()
    for label in ("Application created", "Submitted", "Cleared for decision", "Approved"):
        assert label in html
    response = client.get(reverse("web:audit_export", args=[app.reference]))
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert lines[0]["type"] == "trail"
    assert {line["type"] for line in lines[1:]} <= {"event", "checkpoint"}
    assert any(line.get("object_ref") == app.reference for line in lines)


def test_an_unknown_reference_says_so(world: World) -> None:
    client = sign_in(Client(), world.auditor)
    html = client.get(reverse("web:audit_home"), {"reference": "A-1999-000001"}).content.decode()
    assert "No application with that reference." in html


def test_verify_shows_an_intact_chain(world: World) -> None:
    world.new_application("500")
    html = sign_in(Client(), world.auditor).get(reverse("web:audit_verify")).content.decode()
    assert "The chain is intact" in html
    assert "audit chain intact" in html


def test_the_log_filters_by_action_and_object(world: World) -> None:
    app = world.run(world.new_application("500"), "submit", world.ombud.user)
    client = sign_in(Client(), world.auditor)
    response = client.get(
        reverse("web:audit_log"), {"action": "application.submit", "object_ref": app.reference}
    )
    rows = list(response.context["rows"])
    assert [r.action for r in rows] == ["application.submit"]
    response = client.get(reverse("web:audit_log"), {"actor": world.ombud.user.pk})
    assert {r.actor_id for r in response.context["rows"]} == {world.ombud.user.pk}


def test_the_auditor_sees_every_grant_and_revocation_of_protected_access(world: World) -> None:
    from fund.protected_access import grant_protected_access, revoke_protected_access
    from workflows import services

    person = services.register_beneficiary(
        actor=world.ombud.user, name="Dold", protected_identity=True
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="500")],
    )
    grant = grant_protected_access(
        app, actor=world.decider, grantee=world.officer2, reason="statutory_check"
    )
    revoke_protected_access(grant, actor=world.decider2)
    client = sign_in(Client(), world.auditor)
    html = client.get(reverse("web:audit_home"), {"reference": app.reference}).content.decode()
    assert "Access to a protected identity granted" in html
    assert "Access to a protected identity revoked" in html
    assert f"given to: {world.officer2.get_full_name()}" in html
    assert "reason: The statutory obligation check needs the identity" in html
    assert "Dold" not in html
    for event_type in ("privacy.access_granted", "privacy.access_revoked"):
        log = client.get(reverse("web:audit_log"), {"action": event_type}).content.decode()
        assert log.count(app.reference) == 1


def test_the_auditor_downloads_a_checkpoint_file_that_verifies_with_its_own_key(
    world: World, tmp_path
) -> None:
    from audit.checkpoint_file import read_held_checkpoints
    from audit.checkpoints import create_checkpoint

    world.new_application("500")
    checkpoint = create_checkpoint()
    assert checkpoint is not None
    client = sign_in(Client(), world.auditor)
    page = client.get(reverse("web:audit_checkpoints")).content.decode()
    assert reverse("web:audit_checkpoint_file") in page
    response = client.get(reverse("web:audit_checkpoint_file"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    kept = tmp_path / "kept.txt"
    kept.write_bytes(response.content)
    vkey, held = read_held_checkpoints(kept)
    assert [h.body.tree_size for h in held] == [checkpoint.sequence]
    assert vkey.fingerprint == checkpoint.key_fingerprint
    assert vkey.fingerprint in page


def test_a_failed_verification_shows_on_the_auditors_pages_and_the_dashboard(
    world: World,
) -> None:
    from audit.checkpoints import record_run

    record_run("verify", False, "audit chain BROKEN at sequence 7: modified", 7)
    auditor = sign_in(Client(), world.auditor)
    for name in ("audit_checkpoints", "audit_log", "dashboard"):
        html = auditor.get(reverse(f"web:{name}")).content.decode()
        assert 'id="audit-alert"' in html, name
        assert "First broken entry: 7." in html, name
    officer = sign_in(Client(), world.officer)
    assert 'id="audit-alert"' not in officer.get(reverse("web:dashboard")).content.decode()
    record_run("verify", True, "audit chain intact")
    assert 'id="audit-alert"' not in auditor.get(reverse("web:dashboard")).content.decode()
