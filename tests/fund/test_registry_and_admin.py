"""Organisation and ombud verification, and the admin pages for the registry."""

import pytest

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from fund import services
from fund.models import OmbudStatus
from tests.factories import OmbudFactory, OrganisationFactory
from tests.signin import sign_in


def test_only_an_administrator_verifies_an_organisation(world):
    org = OrganisationFactory(verified_at=None)
    with pytest.raises(PermissionDenied):
        services.verify_organisation(org, actor=world.officer, method="call")
    services.verify_organisation(org, actor=world.admin, method="Call to switchboard")
    org.refresh_from_db()
    assert org.is_verified and org.verified_by == world.admin
    assert AuditEvent.objects.filter(action="organisation.verified").count() == 1


def test_an_ombud_is_verified_only_at_a_verified_organisation(world):
    ombud = OmbudFactory(
        status=OmbudStatus.PENDING, organisation=OrganisationFactory(verified_at=None)
    )
    with pytest.raises(ValidationFailed, match="organisation first"):
        services.set_ombud_status(ombud, actor=world.admin, status="verified", method="call")
    services.verify_organisation(ombud.organisation, actor=world.admin, method="call")
    services.set_ombud_status(ombud, actor=world.admin, status="verified", method="call back")
    assert ombud.may_attest


def test_admin_pages_for_the_registry_answer(world, client):
    world.admin.is_staff = True
    world.admin.save()
    sign_in(client, world.admin)
    for url in (
        "/admin/fund/fund/",
        "/admin/fund/organisation/",
        "/admin/fund/ombud/",
        "/admin/fund/protectedidentitygrant/",
        "/admin/auth/user/",
    ):
        assert client.get(url).status_code == 200, url


def test_admin_action_verifies_through_the_service(world, client):
    world.admin.is_staff = True
    world.admin.save()
    sign_in(client, world.admin)
    org = OrganisationFactory(verified_at=None)
    response = client.post(
        "/admin/fund/organisation/",
        {"action": "mark_verified", "_selected_action": [org.pk]},
        follow=True,
    )
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.is_verified


def test_admin_requires_the_second_factor(world, client):
    world.admin.is_staff = True
    world.admin.save()
    client.force_login(world.admin)  # password only, no OTP device verified
    response = client.get("/admin/fund/fund/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
