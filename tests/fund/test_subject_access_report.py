"""The subject access report (GDPR Art 15) holds everything about the person (issue #14, defect 6).

One person with every kind of data: a komplettering, an attestation, a statutory assessment
with a legal basis and an evidence reference, a payment to their own payee, a follow-up and
an auditor's read with a stated reason; a protected person for the grants.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from accounting.models import PayeeKind
from audit.models import AuditEvent
from core.exceptions import ValidationFailed
from fund import models as fund_models
from fund import privacy
from fund.models import ProtectedAccessReason
from fund.protected_access import grant_protected_access
from privacy.erasure import erase_person
from privacy.retention import retention_of
from privacy.subject_access import subject_access_report
from tests.fixtures import approved_payee
from workflows import services
from workflows.models import FollowUpOutcome, LegalBasis, Obligation
from workflows.services import NeedInput

NAME = "Ingrid Artfemtonsdottir"
NEED = "Glasögon efter misshandeln"
MESSAGE = "Bifoga kvittot från optikern"
EVIDENCE = "Avslag soc dnr 2026-0117"
FOLLOW_UP = "Kvitto Synsam 88412"
REASON = "Stickprov 2026: kontroll av utbetalning till person"


@pytest.fixture
def full_case(world):
    person = services.register_beneficiary(
        actor=world.ombud.user, name=NAME, personal_number="19811218-9876"
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[NeedInput(category="glasses", amount="1500", description=NEED)],
    )
    app = world.run(app, "submit", world.ombud.user)
    app = world.run(app, "request_completion", world.officer, message=MESSAGE)
    app = world.run(app, "resubmit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    app = world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    app = world.run(app, "start_statutory_check", world.officer)
    world.assess_all(
        app,
        outcome=Obligation.PARTLY,
        authority="social_services",
        legal_basis=LegalBasis.SOL_4_1,
        evidence_reference=EVIDENCE,
        grantable_amount="1000",
    )
    app = world.run(app, "clear", world.officer)
    app = world.run(app, "approve_partly", world.decider, reason="reduced_to_remainder")
    payee = approved_payee(
        world.treasurer,
        world.treasurer2,
        kind=PayeeKind.PERSON,
        person_name=NAME,
        method="bank_account",
        clearing_number="6789",
        account="123456703",
        beneficiary=person,
    )
    app = world.run(app, "schedule_payout", world.treasurer, payee=payee.pk)
    world.send_payouts(app)
    app = world.run(app, "confirm_paid", world.treasurer)
    services.record_follow_up(
        app,
        actor=world.officer,
        outcome=FollowUpOutcome.USED_AS_INTENDED,
        evidence_reference=FOLLOW_UP,
    )
    privacy.read_personal_data(person, actor=world.auditor, purpose="audit", reason=REASON)
    app.refresh_from_db()
    return app, payee


def _report(world, app):
    return subject_access_report(app.beneficiary, actor=world.admin)


def test_the_report_lists_the_payment_orders_with_the_persons_own_account(world, full_case):
    app, payee = full_case
    [case] = _report(world, app)["applications"]
    [order] = case["payment_orders"]
    assert order["amount"] == "1000.00" and order["status"] == "paid"
    assert order["paid_at"] and order["created_at"] and order["batch"]
    assert order["payee"]["reference"] == payee.reference
    assert order["payee"]["kind"] == PayeeKind.PERSON
    assert order["payee"]["account"] == "123456703"
    assert order["payee"]["clearing_number"] == "6789"


def test_an_organisations_account_is_not_part_of_the_persons_data(world):
    app = world.to_paid(world.new_application("500", name=NAME))
    [order] = _report(world, app)["applications"][0]["payment_orders"]
    assert order["payee"]["kind"] == PayeeKind.ORGANISATION
    assert "account" not in order["payee"]


def test_the_report_holds_the_attestation_who_when_and_how(world, full_case):
    app, _payee = full_case
    [attestation] = _report(world, app)["applications"][0]["attestations"]
    assert attestation["method"] == "portal" and attestation["method_label"]
    assert attestation["ombud_organisation"] == world.ombud.organisation.name
    assert attestation["ombud_id"] == world.ombud.pk and attestation["attested_at"]


def test_the_report_holds_the_statutory_assessment_with_code_label_and_evidence(world, full_case):
    app, _payee = full_case
    [item] = _report(world, app)["applications"][0]["need_items"]
    assessment = item["statutory_assessment"]
    assert assessment["outcome"] == Obligation.PARTLY
    assert assessment["authority"] == "social_services" and assessment["authority_label"]
    assert assessment["legal_basis"] == LegalBasis.SOL_4_1
    assert assessment["legal_basis_label"] == str(LegalBasis.SOL_4_1.label)
    assert assessment["evidence_reference"] == EVIDENCE
    assert assessment["grantable"] == "1000.00"
    assert item["description"] == NEED


def test_the_report_holds_the_komplettering_messages(world, full_case):
    app, _payee = full_case
    [request] = _report(world, app)["applications"][0]["completion_requests"]
    assert request["message"] == MESSAGE and request["requested_at"] and request["resolved_at"]


def test_the_report_holds_the_follow_ups(world, full_case):
    app, _payee = full_case
    [follow_up] = _report(world, app)["applications"][0]["follow_ups"]
    assert follow_up["outcome"] == FollowUpOutcome.USED_AS_INTENDED
    assert follow_up["evidence_reference"] == FOLLOW_UP and follow_up["recorded_at"]


def test_the_report_holds_the_persons_payees(world, full_case):
    app, payee = full_case
    [own] = _report(world, app)["payees"]
    assert own["reference"] == payee.reference and own["name"] == NAME
    assert own["account"] == "123456703" and own["method"] == "bank_account"


def test_the_report_holds_the_protected_identity_grants_on_the_persons_cases(world):
    person = services.register_beneficiary(
        actor=world.ombud.user, name=NAME, protected_identity=True
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[NeedInput(category="glasses", amount="500")],
    )
    grant_protected_access(
        app, actor=world.decider, grantee=world.officer, reason=ProtectedAccessReason.PAYMENT
    )
    [grant] = _report(world, app)["applications"][0]["protected_identity_grants"]
    assert grant["grantee_id"] == world.officer.pk and grant["granted_by_id"] == world.decider.pk
    assert grant["reason"] == ProtectedAccessReason.PAYMENT and grant["granted_at"]
    assert grant["revoked_at"] is None


def test_the_report_holds_who_read_the_data_with_the_stated_reason(world, full_case):
    app, _payee = full_case
    accesses = _report(world, app)["accesses"]
    audit_reads = [a for a in accesses if a["purpose"] == "audit"]
    assert [a["reason"] for a in audit_reads] == [REASON]
    assert audit_reads[0]["actor_id"] == world.auditor.pk and audit_reads[0]["role"] == "auditor"
    assert all(a["reason"] == "" for a in accesses if a["purpose"] != "audit")


def test_the_report_gives_the_article_15_information(world, full_case):
    app, _payee = full_case
    info = _report(world, app)["information"]
    assert info["purposes"] and all(p["purpose"] and p["legal_basis"] for p in info["purposes"])
    assert any("6(1)(c)" in p["legal_basis"] for p in info["purposes"])  # bookkeeping law
    recipients = " ".join(info["recipients"])
    assert "bank" in recipients.lower() and world.ombud.organisation.name in recipients
    retention = retention_of(app.beneficiary)
    assert info["retention"]["reason"] == retention.reason
    assert info["retention"]["hold_until"] == (
        retention.hold_until.isoformat() if retention.hold_until else None
    )
    assert world.ombud.organisation.name in info["source"]
    rights = " ".join(info["rights"])
    assert "IMY" in rights and "16" in rights and "17" in rights


def test_the_whole_report_is_json_and_names_no_one_else(world, full_case, tmp_path):
    app, _payee = full_case
    text = json.dumps(_report(world, app), ensure_ascii=False)
    for value in (NAME, NEED, MESSAGE, EVIDENCE, FOLLOW_UP, REASON):
        assert value in text


def test_an_auditors_stated_reason_is_stored_encrypted_outside_the_log(world):
    app = world.new_application("500", name=NAME)
    privacy.read_personal_data(app.beneficiary, actor=world.auditor, purpose="audit", reason=REASON)
    [event] = privacy.access_log(app.beneficiary)
    stored = fund_models.PersonalDataReadReason.objects.get(event=event)
    assert stored.beneficiary_id == app.beneficiary.pk
    assert stored.reason == REASON
    assert REASON not in stored.encrypted_reason
    assert REASON not in json.dumps(list(AuditEvent.objects.values("payload")), ensure_ascii=False)
    assert event.payload["reason_given"] is True


def test_the_stated_reason_is_unreadable_after_erasure(world):
    app = world.run(
        world.new_application("500", name=NAME), "withdraw", world.ombud.user, reason="other"
    )
    privacy.read_personal_data(app.beneficiary, actor=world.auditor, purpose="audit", reason=REASON)
    erase_person(app.beneficiary, actor=world.admin, today=date(2100, 1, 1))
    stored = fund_models.PersonalDataReadReason.objects.get(beneficiary=app.beneficiary)
    assert stored.encrypted_reason and stored.reason == ""


def test_a_stated_reason_longer_than_500_characters_is_refused(world):
    app = world.new_application("500", name=NAME)
    with pytest.raises(ValidationFailed, match="500"):
        privacy.read_personal_data(
            app.beneficiary, actor=world.auditor, purpose="audit", reason="x" * 501
        )
    assert not privacy.access_log(app.beneficiary).exists()
    assert not fund_models.PersonalDataReadReason.objects.exists()


def test_a_stated_reason_is_never_changed(world):
    app = world.new_application("500", name=NAME)
    privacy.read_personal_data(app.beneficiary, actor=world.auditor, purpose="audit", reason=REASON)
    stored = fund_models.PersonalDataReadReason.objects.get()
    stored.encrypted_reason = ""
    with pytest.raises(ValidationFailed):
        stored.save()


# --- review of issue #14: bank exceptions, reminders, and the report file -----------------


def test_the_report_holds_the_bank_exceptions_on_the_persons_orders(world, full_case):
    from decimal import Decimal

    from accounting.bank_exceptions import record_bank_exception, resolve_bank_exception
    from accounting.models import BankExceptionKind, BankExceptionResolution

    app, _payee = full_case
    order = app.payment_orders.get()
    exception = record_bank_exception(
        order,
        actor=world.treasurer,
        kind=BankExceptionKind.RETURNED_AFTER_PAYMENT,
        amount=Decimal("1000.00"),
        booking_date=date(2026, 3, 2),
        source="camt054:0123456789abcdef",
    )
    assert exception is not None
    resolve_bank_exception(
        exception, actor=world.treasurer2, resolution=BankExceptionResolution.RETURNED_TO_FUND
    )
    [reported] = _report(world, app)["applications"][0]["payment_orders"][0]["bank_exceptions"]
    assert reported["kind"] == BankExceptionKind.RETURNED_AFTER_PAYMENT
    assert reported["kind_label"] == str(BankExceptionKind.RETURNED_AFTER_PAYMENT.label)
    assert reported["status"] == "resolved" and reported["amount"] == "1000.00"
    assert reported["booking_date"] == "2026-03-02" and reported["recorded_at"]
    assert reported["resolution"] == BankExceptionResolution.RETURNED_TO_FUND
    assert reported["resolution_label"] and reported["resolved_at"]


def test_an_order_without_bank_exceptions_reports_none(world, full_case):
    app, _payee = full_case
    [order] = _report(world, app)["applications"][0]["payment_orders"]
    assert order["bank_exceptions"] == []


def test_the_report_holds_the_reminders_sent_about_the_persons_cases(world):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from reminders.models import ReminderKind
    from reminders.services import create_reminders

    app = world.run(world.new_application("500", name=NAME), "submit", world.ombud.user)
    app = world.run(app, "request_completion", world.officer, message=MESSAGE)
    with transaction.atomic():
        [made] = create_reminders(timezone.now() + timedelta(days=60))
    [reminder] = _report(world, app)["applications"][0]["reminders"]
    assert reminder["kind"] == ReminderKind.NEEDS_COMPLETION and reminder["kind_label"]
    assert reminder["recipient_id"] == world.ombud.user.pk
    assert reminder["days"] == made.days and reminder["created_at"] and reminder["waiting_since"]
    assert reminder["emailed_at"] is None and reminder["dismissed_at"] is None


def test_the_report_file_is_created_readable_by_its_owner_only(world, tmp_path, monkeypatch):
    """Created 0600, not chmod-ed afterwards: the report is never readable by others, not
    even for a moment, and an existing file in its place is tightened before it is written."""
    import os
    from pathlib import Path

    from django.core.management import call_command

    app = world.new_application("500", name=NAME)
    world.admin.username = "dpo"
    world.admin.save()
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)  # no tightening afterwards
    old_umask = os.umask(0o022)
    try:
        fresh = tmp_path / "report.json"
        existing = tmp_path / "old-report.json"
        existing.write_text("{}")
        os.chmod(existing, 0o644)
        for output in (fresh, existing):
            call_command(
                "privacy_report", app.beneficiary.reference, "--as", "dpo", "--output", str(output)
            )
            assert os.stat(output).st_mode & 0o777 == 0o600, output
            assert NAME in output.read_text(encoding="utf-8")
    finally:
        os.umask(old_umask)
