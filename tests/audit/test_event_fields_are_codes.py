"""Not only the payload: an event's action, object type, role and object reference are
hash-chained and never erased too, so they hold codes and references only (review of
issue #14, M4 and L1)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from audit.models import AuditEvent
from audit.services import AuditPayloadError, record_event
from tests.factories import UserFactory

FREE_TEXT = {
    "action": "x.test Zelda Qwertyuiopsson",
    "role": "Zelda 811218-9876",
    "object_type": "MMM polisanm K-123456-26",
    "object_ref": "Zelda Qwertyuiopsson 19811218-9876",
}


@pytest.mark.parametrize("field", sorted(FREE_TEXT))
def test_the_audit_log_refuses_free_text_in_action_role_object_type_and_object_ref(chain, field):
    fields = {"action": "x.test", field: FREE_TEXT[field]}
    with pytest.raises(AuditPayloadError) as refused, transaction.atomic():
        record_event(**fields)
    assert field in str(refused.value)
    assert "Zelda" not in str(refused.value) and "9876" not in str(refused.value)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "Application.Submit"),
        ("action", ""),
        ("action", "a" * 65),
        ("object_type", "Ärende"),
        ("role", "Handläggare"),
        ("object_ref", "19811218-9876"),
        ("object_ref", "811218-9876"),
        ("object_ref", "Zelda"),
        ("object_ref", "PO-1 Zelda"),
    ],
)
def test_action_role_and_object_type_are_codes_and_object_ref_a_reference(chain, field, value):
    fields = {"action": "x.test", field: value}
    with pytest.raises(AuditPayloadError), transaction.atomic():
        record_event(**fields)


@pytest.mark.parametrize(
    ("action", "role", "object_type", "object_ref"),
    [
        ("application.submit", "officer", "application", "A-2026-000001"),
        ("ledger.dimensionobject_created", "administrator", "dimensionobject", "P100"),
        ("payout.batch_exported", "treasurer", "payment_batch", "FF-20260105-1a2b3c"),
        ("export.sie", "auditor", "export", "SIE4/2026"),
        ("export.ledger", "", "export", "ledger/csv"),
        ("auth.login_failed", "", "user", ""),
        ("fund.created", "superuser", "fund", "barn"),
        ("cofinancing.time_sheets_imported", "owner", "time_sheets", "0123456789abcdef"),
        ("ledger.period_closed", "treasurer", "period", "2026-01"),
    ],
)
def test_the_codes_and_references_real_events_use_are_accepted(
    chain, action, role, object_type, object_ref
):
    with transaction.atomic():
        event = record_event(
            action=action, role=role, object_type=object_type, object_ref=object_ref
        )
    assert (event.action, event.actor_role, event.object_ref) == (action, role, object_ref)


def _stored_log() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_swedish_group_name_works_and_never_reaches_the_log(db):
    user = UserFactory()
    group = Group.objects.create(name="Handläggare Malmö")
    with transaction.atomic():
        user.groups.add(group)
    event = AuditEvent.objects.filter(action="auth.roles_changed").latest("sequence")
    assert event.payload == {"change": "added", "group": [group.pk]}
    group.permissions.add(Permission.objects.get(codename="view_fund"))
    event = AuditEvent.objects.filter(action="auth.group_permissions_changed").latest("sequence")
    assert (event.object_type, event.object_ref) == ("group", str(group.pk))
    group.user_set.remove(user)
    stored = _stored_log()
    assert "Handläggare" not in stored and "Malm" not in stored


def test_group_names_that_look_like_codes_are_logged_by_id_not_name(db):
    user = UserFactory()
    group = Group.objects.create(name="zelda_qwertyuiopsson_mmm")
    with transaction.atomic():
        user.groups.add(group, Group.objects.get(name="officer"))
    event = AuditEvent.objects.filter(action="auth.roles_changed").latest("sequence")
    assert event.payload == {"change": "added", "group": sorted([group.pk, "officer"], key=str)}
    assert "zelda" not in _stored_log()
