"""Need-to-know, access logging, erasure by crypto-shredding and master-key rotation."""

import json
from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from core.crypto import DecryptionFailed, reset_key_cache
from core.exceptions import PermissionDenied, ValidationFailed
from fund import privacy
from fund.models import Beneficiary, NeedItem, ProtectedAccessReason
from fund.protected_access import grant_protected_access
from privacy.erasure import erase_person
from privacy.retention import retention_of, retention_report
from tests.factories import OmbudFactory, UserFactory
from workflows import services

NAME = "Xenia Protectedottir"


@pytest.fixture
def case(world):
    app = world.new_application("700", name=NAME)
    return app


def test_the_case_ombud_and_fund_officers_see_the_person_and_each_look_is_logged(world, case):
    person = case.beneficiary
    for actor in (world.ombud.user, world.officer, world.decider):
        assert privacy.read_personal_data(person, actor=actor, application=case)["name"] == NAME
    log = list(privacy.access_log(person))
    assert [e.actor_id for e in log] == [world.ombud.user.pk, world.officer.pk, world.decider.pk]
    assert {e.payload["application"] for e in log} == {case.reference}
    assert NAME not in json.dumps([e.payload for e in log])


def test_an_ombud_on_another_case_sees_nothing(world, case):
    other = OmbudFactory()
    with pytest.raises(PermissionDenied, match="do not work with this case"):
        privacy.read_personal_data(case.beneficiary, actor=other.user, application=case)
    assert not privacy.access_log(case.beneficiary).exists()


def test_an_officer_outside_the_fund_sees_nothing(world, case):
    outsider = UserFactory(roles=["officer"])
    with pytest.raises(PermissionDenied):
        privacy.read_personal_data(case.beneficiary, actor=outsider, application=case)


def test_personal_data_is_only_shown_through_a_case_of_that_person(world, case):
    other_case = world.new_application("100")
    with pytest.raises(PermissionDenied, match="through a case"):
        privacy.read_personal_data(case.beneficiary, actor=world.officer, application=other_case)


def test_protected_identity_is_seen_only_by_the_ombud_and_those_given_access(world):
    person = services.register_beneficiary(
        actor=world.ombud.user, name=NAME, protected_identity=True
    )
    app = world.new_application("500")
    app.beneficiary = person
    app.save()
    app = world.run(
        world.run(app, "submit", world.ombud.user), "request_attestation", world.officer
    )
    assert (
        privacy.read_personal_data(person, actor=world.ombud.user, application=app)["name"] == NAME
    )
    for not_given in (world.officer, world.officer2, world.decider):
        with pytest.raises(PermissionDenied, match="protected identity"):
            privacy.read_personal_data(person, actor=not_given, application=app)
    grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.CASE_HANDLING
    )
    assert privacy.read_personal_data(person, actor=world.officer, application=app)["name"] == NAME


def test_auditors_see_personal_data_only_with_a_logged_reason(world, case):
    with pytest.raises(PermissionDenied, match="State why"):
        privacy.read_personal_data(case.beneficiary, actor=world.auditor, purpose="audit")
    data = privacy.read_personal_data(
        case.beneficiary, actor=world.auditor, purpose="audit", reason="Stickprov 2026"
    )
    assert data["name"] == NAME
    [event] = privacy.access_log(case.beneficiary)
    assert event.actor_role == "auditor" and event.payload["reason_given"] is True


def test_treasurers_do_not_see_personal_data(world, case):
    with pytest.raises(PermissionDenied):
        privacy.read_personal_data(case.beneficiary, actor=world.treasurer, application=case)


def test_a_person_with_an_open_case_cannot_be_erased(world, case):
    with pytest.raises(ValidationFailed, match="Open cases"):
        erase_person(case.beneficiary, actor=world.admin)


def test_erasure_waits_for_the_end_of_the_seventh_year(world):
    app = world.run(world.to_paid(world.new_application("500", name=NAME)), "close", world.officer)
    year = app.state_changed_at.year
    retention = retention_of(app.beneficiary)
    assert retention.hold_until == date(year + 7, 12, 31) and not retention.due
    with pytest.raises(ValidationFailed, match="cannot be erased yet"):
        erase_person(app.beneficiary, actor=world.admin, today=date(year + 7, 12, 31))
    with pytest.raises(PermissionDenied):
        erase_person(app.beneficiary, actor=world.officer, today=date(year + 8, 1, 1))
    person = erase_person(app.beneficiary, actor=world.admin, today=date(year + 8, 1, 1))
    assert person.is_erased


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_erasure_no_personal_value_or_key_remains_and_the_case_stays(world, tmp_path):
    from tests.fund.test_no_plaintext_personal_data import _raw_database_bytes

    app = world.new_application("500", name=NAME)
    item = app.items.get()
    item.description = "Hyra för skyddat boende"
    item.save()
    app = world.run(app, "withdraw", world.ombud.user, reason="applicant_request")
    person = Beneficiary.objects.get(pk=app.beneficiary_id)
    old_key, old_token = person.wrapped_key, person.encrypted_personal_data
    erase_person(person, actor=world.admin, today=date(2100, 1, 1))

    person = Beneficiary.objects.get(pk=person.pk)
    with pytest.raises(PermissionDenied, match="erased"):
        privacy.read_personal_data(person, actor=world.officer, application=app)
    assert person.personal_data == {}
    fresh_item = NeedItem.objects.get(pk=item.pk)
    assert fresh_item.description == ""
    assert fresh_item.encrypted_description  # the token stays; its key is gone
    with pytest.raises(DecryptionFailed):
        from core.crypto import decrypt_json

        decrypt_json(person.wrapped_key, old_token)
    raw = _raw_database_bytes(tmp_path)
    assert old_key.encode() not in raw and old_token.encode() not in raw
    assert NAME.encode() not in raw
    assert app.reference.encode() in raw and person.reference.encode() in raw
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete")
            assert cursor.fetchone()[0] == 1


def test_retention_report_lists_due_and_held_people(world):
    open_case = world.new_application("500")
    withdrawn = world.run(
        world.new_application("500"), "withdraw", world.ombud.user, reason="other"
    )
    rows = {r.beneficiary: r for r in retention_report(today=date(2100, 1, 1))}
    assert rows[open_case.beneficiary.reference].due is False
    assert rows[withdrawn.beneficiary.reference].due is True


def test_key_rotation_rewraps_every_key_and_old_master_keys_can_be_retired(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    reset_key_cache()
    try:
        people = [
            services.register_beneficiary(actor=world.ombud.user, name=f"P{n}") for n in range(3)
        ]
        settings.FIELD_ENCRYPTION_KEYS = [new, old]
        assert privacy.rotate_master_keys() == 3
        settings.FIELD_ENCRYPTION_KEYS = [new]
        reset_key_cache()
        for n, person in enumerate(people):
            assert Beneficiary.objects.get(pk=person.pk).personal_data["name"] == f"P{n}"
        settings.FIELD_ENCRYPTION_KEYS = [old]
        reset_key_cache()
        with pytest.raises(DecryptionFailed):
            _ = Beneficiary.objects.get(pk=people[0].pk).personal_data
    finally:
        settings.FIELD_ENCRYPTION_KEYS = []
        reset_key_cache()


def test_subject_access_report_holds_everything_about_the_person(world, case, tmp_path):
    world.admin.username = "dpo"
    world.admin.save()
    privacy.read_personal_data(case.beneficiary, actor=world.officer, application=case)
    output = tmp_path / "report.json"
    call_command(
        "privacy_report", case.beneficiary.reference, "--as", "dpo", "--output", str(output)
    )
    report = json.loads(output.read_text())
    assert report["personal_data"]["name"] == NAME
    assert [a["reference"] for a in report["applications"]] == [case.reference]
    assert report["accesses"][0]["actor_id"] == world.officer.pk
    assert oct(output.stat().st_mode)[-3:] == "600"


def test_erasure_also_shreds_the_persons_own_payee(world):
    from accounting.models import Payee
    from accounting.payees import create_payee

    app = world.run(
        world.new_application("500", name=NAME), "withdraw", world.ombud.user, reason="other"
    )
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name=NAME,
        method="bank_account",
        clearing_number="6789",
        account="123456703",
        beneficiary=app.beneficiary,
    )
    assert Payee.objects.get(pk=payee.pk).personal_data["name"] == NAME
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    stored = Payee.objects.get(pk=payee.pk)
    assert stored.personal_data == {} and stored.account == "" and not stored.active


def test_a_person_payee_cannot_be_used_for_someone_elses_case(world):
    from accounting.payees import create_payee

    mine = world.to_approved(world.new_application("500"))
    other = world.new_application("300")
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name="Annan Person",
        method="bank_account",
        clearing_number="6789",
        account="123456703",
        beneficiary=other.beneficiary,
    )
    with pytest.raises(ValidationFailed, match="belongs to another person"):
        world.run(mine, "schedule_payout", world.treasurer, payee=payee.pk)


def test_after_erasure_the_chain_verifies_the_books_balance_and_exports_still_work(world, tmp_path):
    from accounting.exports import sie
    from accounting.exports.services import export_ledger_file, export_sie_file
    from accounting.ledger import trial_balance
    from audit.verification import verify_chain

    app = world.run(world.to_paid(world.new_application("1500", name=NAME)), "close", world.officer)
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))

    outcome = verify_chain()
    assert outcome.ok, outcome.line()
    assert sum(trial_balance().values()) == 0
    year = app.state_changed_at.year
    export_sie_file(tmp_path / "books.se", year=year, sie_type=sie.TYPE_4I, actor=world.treasurer)
    export_ledger_file(tmp_path / "ledger.csv", fmt="csv", actor=world.treasurer)
    sie_text = (tmp_path / "books.se").read_bytes().decode("cp437")
    csv_text = (tmp_path / "ledger.csv").read_text(encoding="utf-8")
    assert app.reference in sie_text and app.reference in csv_text
    assert NAME not in sie_text and NAME not in csv_text
