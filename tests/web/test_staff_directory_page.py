"""The staff directory on the auditors' pages (issue #15): auditors only, a logged download."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.signing import verifier_key
from audit.staff_directory import verify_directory
from tests.fixtures import World
from tests.signin import sign_in

URL = "web:audit_staff_directory"


def _period() -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today}


def test_a_non_auditor_gets_403_on_the_staff_directory_download(world: World) -> None:
    for user in (world.officer, world.decider, world.treasurer, world.admin, world.ombud.user):
        response = sign_in(Client(), user).get(reverse(URL), _period())
        assert response.status_code == 403, user
    assert not AuditEvent.objects.filter(action="audit.staff_directory_exported").exists()


def test_the_auditor_downloads_a_signed_directory_of_the_period(world: World) -> None:
    world.to_statutory_check(world.new_application("500"))
    client = sign_in(Client(), world.auditor)
    page = client.get(reverse("web:audit_checkpoints")).content.decode()
    assert reverse(URL) in page  # linked from the auditors' pages
    form = client.get(reverse(URL))
    assert form.status_code == 200
    assert not AuditEvent.objects.filter(action="audit.staff_directory_exported").exists()
    response = client.get(reverse(URL), _period())
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="staff-directory-')
    directory = verify_directory(response.content.decode(), verifier_key())
    assert world.officer.pk in {u.user_id for u in directory.users}
    event = AuditEvent.objects.get(action="audit.staff_directory_exported")
    assert (event.actor_id, event.actor_role) == (world.auditor.pk, "auditor")


def test_a_period_ending_before_it_starts_is_refused_on_the_page(world: World) -> None:
    client = sign_in(Client(), world.auditor)
    response = client.get(reverse(URL), {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()


def test_the_staff_directory_page_speaks_swedish(world: World) -> None:
    client = sign_in(Client(), world.auditor)
    client.post(reverse("set_language"), {"language": "sv"})
    response = client.get(reverse(URL), {"start": "2026-02-01", "end": "2026-01-01"})
    html = response.content.decode()
    assert "Hämta personalförteckningen" in html
    assert "Perioden slutar innan den börjar." in html
