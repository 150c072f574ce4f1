"""Events beyond the workflow: failed logins, role and permission changes, fund rules."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import cast

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.test import Client, RequestFactory

from audit.models import AuditEvent
from audit.receivers import username_hash
from fund.models import Fund
from tests.factories import FundFactory, UserFactory
from tests.signin import sign_in


def _user(**kw: object) -> User:
    return cast(User, UserFactory(**kw))


def _fund(**kw: object) -> Fund:
    return cast(Fund, FundFactory(**kw))


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_a_failed_login_records_a_keyed_hash_never_the_username(db):
    _user(username="maria.handlaggare")
    request = RequestFactory().post("/login/")  # axes' backend needs the request
    assert authenticate(request, username="maria.handlaggare", password="wrong-password") is None
    (event,) = _events("auth.login_failed")
    assert event.payload == {"username_hash": username_hash("maria.handlaggare")}
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "maria" not in stored
    assert "wrong-password" not in stored


def test_failed_logins_through_the_login_page_are_recorded(db):
    client = Client()
    response = client.post("/login/", {"username": "nobody@example.org", "password": "x" * 12})
    assert response.status_code == 400
    (event,) = _events("auth.login_failed")
    assert event.payload["username_hash"] == username_hash("Nobody@example.org ")
    assert "nobody" not in json.dumps(event.payload)


def test_role_granted_and_revoked_are_recorded_by_role_name_and_user_id(db):
    user = _user()
    officer = Group.objects.get(name="officer")
    auditor = Group.objects.get(name="auditor")
    user.groups.add(officer, auditor)
    user.groups.remove(auditor)
    added, removed = _events("auth.roles_changed")[-2:]
    assert (added.object_type, added.object_ref) == ("user", str(user.pk))
    assert added.payload == {"change": "added", "group": ["auditor", "officer"]}
    assert removed.payload == {"change": "removed", "group": ["auditor"]}


def test_clearing_roles_records_which_were_taken(db):
    user = _user(roles=["treasurer", "auditor"])
    user.groups.clear()
    assert _events("auth.roles_changed")[-1].payload == {
        "change": "cleared",
        "group": ["auditor", "treasurer"],
    }


def test_adding_users_to_a_role_from_the_group_side_is_recorded(db):
    first, second = _user(), _user()
    Group.objects.get(name="decision_maker").user_set.add(first, second)
    event = _events("auth.roles_changed")[-1]
    assert (event.object_type, event.object_ref) == ("group", "decision_maker")
    assert event.payload == {"change": "added", "user": sorted([first.pk, second.pk])}


def test_emptying_a_role_records_whose_it_was(db):
    first, second = _user(roles=["treasurer"]), _user(roles=["treasurer"])
    Group.objects.get(name="treasurer").user_set.clear()
    event = _events("auth.roles_changed")[-1]
    assert (event.object_type, event.object_ref) == ("group", "treasurer")
    assert event.payload == {"change": "cleared", "user": sorted([first.pk, second.pk])}


def test_permission_changes_of_a_role_are_recorded(db):
    group = Group.objects.get(name="ombud")
    permission = Permission.objects.get(codename="view_fund")
    group.permissions.add(permission)
    event = _events("auth.group_permissions_changed")[-1]
    assert (event.object_type, event.object_ref) == ("group", "ombud")
    assert event.payload == {"change": "added", "permission": ["fund.view_fund"]}


def test_a_role_change_shares_the_transaction_of_the_change(db):
    user = _user()
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        user.groups.add(Group.objects.get(name="officer"))
        raise RuntimeError("rolled back")
    assert AuditEvent.objects.count() == before
    assert not user.groups.exists()


def test_fund_rule_changes_record_field_names_and_rule_values(db):
    fund = _fund(code="barn", name="Barnfonden")
    created = _events("fund.created")[-1]
    assert created.object_ref == "barn"
    assert "max_per_item" in created.payload["fields"]
    fund.max_per_item = Decimal("2500")
    fund.geographic_scope = ["AB"]
    fund.save()
    changed = _events("fund.rules_changed")[-1]
    assert changed.payload == {
        "fields": ["geographic_scope", "max_per_item"],
        "values": {"geographic_scope": ["AB"], "max_per_item": "2500.00"},
    }
    fund.name = "Barnfonden (Stockholm)"
    fund.save()
    renamed = _events("fund.rules_changed")[-1]
    assert renamed.payload == {"fields": ["name"], "values": {}}
    count = AuditEvent.objects.count()
    Fund.objects.get(pk=fund.pk).save()
    assert AuditEvent.objects.count() == count  # nothing changed, nothing recorded


@pytest.mark.django_db(transaction=True)
def test_a_fund_saved_outside_a_transaction_is_still_recorded():
    fund = _fund(code="vagar", max_per_item=Decimal("1000"))
    fund.active = False
    fund.save()
    event = _events("fund.rules_changed")[-1]
    assert event.payload == {"fields": ["active"], "values": {"active": False}}


def test_who_works_in_a_fund_is_recorded(db):
    fund = _fund(code="allm")
    officer = _user(roles=["officer"])
    fund.handlers.add(officer)
    event = _events("fund.handlers_changed")[-1]
    assert (event.object_type, event.object_ref) == ("fund", str(fund.pk))
    assert event.payload == {"change": "added", "user": [officer.pk]}


def test_a_role_edited_in_the_admin_names_who_did_it(db):
    admin = _user(roles=["administrator"], is_staff=True, is_superuser=True)
    group = Group.objects.get(name="auditor")
    kept = list(group.permissions.values_list("pk", flat=True))
    added = Permission.objects.get(codename="view_auditcheckpoint")
    client = sign_in(Client(), admin)
    response = client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "auditor", "permissions": [*kept, added.pk]},
    )
    assert response.status_code == 302, response.content[:2000]
    event = _events("auth.group_permissions_changed")[-1]
    assert event.payload == {"change": "added", "permission": ["audit.view_auditcheckpoint"]}
    assert (event.actor_id, event.actor_role) == (admin.pk, "administrator")


def test_changes_during_a_request_name_the_user_outside_they_do_not(db, rf):
    from django.http import HttpResponse

    from audit.context import AuditActorMiddleware, current_actor

    admin = _user(roles=["administrator"])
    fund = _fund(code="req")

    def view(request: object) -> HttpResponse:
        with transaction.atomic():
            fund.active = False
            fund.save()
        return HttpResponse()

    request = rf.post("/")
    request.user = admin
    AuditActorMiddleware(view)(request)
    event = _events("fund.rules_changed")[-1]
    assert (event.actor_id, event.actor_role) == (admin.pk, "administrator")
    assert current_actor() is None
    fund.active = True
    fund.save()
    assert _events("fund.rules_changed")[-1].actor_id is None
