"""People in the trail (issue #15): a change to a user is an audit event, by field name only."""

from __future__ import annotations

import json
from io import StringIO
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory

from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.signin import sign_in


def _user(**kw: object) -> User:
    return cast(User, UserFactory(**kw))


def _events(action: str, user: User) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, object_type="user", object_ref=str(user.pk)
        ).order_by("sequence")
    )


def _stored() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def test_making_a_user_superuser_records_an_event_with_field_names_and_no_name(db):
    user = _user(username="karin.lind", first_name="Karin", last_name="Lind")
    user.is_superuser = True
    user.is_staff = True
    user.save()
    (event,) = _events("user.changed", user)
    assert event.payload == {
        "fields": ["is_staff", "is_superuser"],
        "values": {"is_staff": True, "is_superuser": True},
    }
    assert "Karin" not in _stored() and "karin" not in _stored()


def test_deactivating_a_user_records_an_event_with_the_new_flag(db):
    user = _user()
    user.is_active = False
    user.save()
    (event,) = _events("user.changed", user)
    assert event.payload == {"fields": ["is_active"], "values": {"is_active": False}}


def test_renaming_a_user_records_the_field_names_and_never_the_name(db):
    user = _user(username="anna.berg", first_name="Anna", last_name="Berg")
    user.first_name, user.last_name = "Annika", "Bergström"
    user.username, user.email = "annika.bergstrom", "annika@example.org"
    user.save()
    (event,) = _events("user.changed", user)
    assert event.payload == {
        "fields": ["email", "first_name", "last_name", "username"],
        "values": {},
    }
    stored = _stored()
    for value in ("Anna", "Annika", "Berg", "anna.berg", "annika", "example.org"):
        assert value not in stored, value


def test_creating_a_user_records_an_event_without_personal_values(db):
    user = User.objects.create_user("sara.ek", "sara@example.org", "pw", first_name="Sara")
    (event,) = _events("user.created", user)
    assert event.payload == {
        "fields": ["email", "first_name", "is_active", "username"],
        "values": {"is_active": True, "is_staff": False, "is_superuser": False},
    }
    assert "sara" not in _stored().lower()


def test_saving_a_user_unchanged_records_nothing(db):
    user = _user()
    count = AuditEvent.objects.count()
    User.objects.get(pk=user.pk).save()
    user.set_password("another-long-password")
    user.save(update_fields=["password"])
    assert AuditEvent.objects.count() == count


def test_last_login_at_sign_in_records_no_event(db):
    user = _user(username="inloggad")
    count = AuditEvent.objects.count()
    from django.contrib.auth import login

    request = RequestFactory().get("/")
    request.session = Client().session
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    user.refresh_from_db()
    assert user.last_login is not None
    assert AuditEvent.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_a_user_saved_outside_a_transaction_is_still_recorded():
    user = _user()
    user.is_active = False
    user.save()
    (event,) = _events("user.changed", user)
    assert event.payload == {"fields": ["is_active"], "values": {"is_active": False}}


def test_a_user_changed_in_the_admin_names_who_did_it(db):
    admin = _user(roles=["administrator"], is_staff=True, is_superuser=True)
    user = _user(username="byts", first_name="Bo", last_name="Ek", email="bo@example.org")
    response = sign_in(Client(), admin).post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "byts",
            "first_name": "Bo",
            "last_name": "Eklund",
            "email": "bo@example.org",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    (event,) = _events("user.changed", user)
    assert event.payload == {"fields": ["last_name"], "values": {}}
    assert (event.actor_id, event.actor_role) == (admin.pk, "administrator")
    assert "Eklund" not in _stored()


def test_createsuperuser_still_works_and_is_recorded(db):
    call_command(
        "createsuperuser",
        username="rot",
        email="rot@example.org",
        interactive=False,
        stdout=StringIO(),
    )
    user = User.objects.get(username="rot")
    (event,) = _events("user.created", user)
    assert event.payload["values"] == {"is_active": True, "is_staff": True, "is_superuser": True}
