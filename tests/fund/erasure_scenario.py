"""A person who had every kind of data, then erased: run as a script on a fresh database.

``python -m tests.fund.erasure_scenario`` migrates the database named by DATABASE_URL, gives
one person every kind of personal data the system keeps (encrypted values, free text, a
personkonto payee, an exported bank file, ledger exports, evidence references, komplettering,
follow-up, an auditor's stated reason), erases them, and runs ``privacy_compact``.
tests/fund/test_erasure_raw_scan.py then reads the raw files for the values below.
"""

from __future__ import annotations

import os
from datetime import date

#: Every value typed about the person; none may survive erasure anywhere.
NAME = "Zelda Qwertyuiopsson"
PERSONNUMMER = "19811218-9876"
PHONE = "070-555 12 34"
DESCRIPTION = "Nya glasögon efter misshandeln i Malmö"
KOMPLETTERING = "Skicka kvitto för Zeldas glasögon"
EVIDENCE = "Soc Malmö avslag Zelda dnr 4711"
FOLLOW_UP = "Kvitto Synsam Zelda 2026-03-02"
AUDIT_REASON = "Granskning av Zeldas ärende efter tips"
PAYEE_NAME = "Zelda Q. Qwertyuiopsson"
PERSONKONTO = ("3300", "8112189876")  # Nordea personkonto: clearing 3300 + the personnummer

SEARCHED = {
    "name": NAME,
    "surname": "Qwertyuiopsson",
    "personnummer": PERSONNUMMER,
    "personnummer (12 digits)": "198112189876",
    "personnummer (10 digits)": "8112189876",
    "phone": PHONE,
    "need description": DESCRIPTION,
    "komplettering": KOMPLETTERING,
    "evidence reference": EVIDENCE,
    "follow-up evidence": FOLLOW_UP,
    "auditor's reason": AUDIT_REASON,
    "payee name": PAYEE_NAME,
}


def run() -> str:
    """Build, pay, export and erase; returns the person's reference (the scan's control)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from accounting.exports.jobs import start_export
    from accounting.payouts import batches
    from accounting.tasks import generate_payout_file
    from fund import privacy
    from fund.models import Application
    from privacy.erasure import erase_person
    from tests.fixtures import approved_payee, make_world
    from workflows import services
    from workflows.models import Obligation

    world = make_world()
    world.fund.follow_up_required = True
    world.fund.save(update_fields=["follow_up_required"])
    person = services.register_beneficiary(
        actor=world.ombud.user, name=NAME, personal_number=PERSONNUMMER, contact=PHONE, region="AB"
    )
    app = services.create_application(
        actor=world.ombud.user,
        fund=world.fund,
        beneficiary=person,
        items=[services.NeedInput(category="glasses", amount="1500", description=DESCRIPTION)],
    )
    app = world.run(app, "submit", world.ombud.user)
    app = world.run(app, "request_completion", world.officer, message=KOMPLETTERING)
    app = world.run(app, "resubmit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    app = world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    app = world.run(app, "start_statutory_check", world.officer)
    world.assess_all(app, Obligation.NOT_OBLIGED, evidence_reference=EVIDENCE)
    app = world.run(app, "clear", world.officer)
    app = world.run(app, "approve", world.decider)

    payee = approved_payee(
        world.treasurer,
        world.treasurer2,
        kind="person",
        method="bank_account",
        clearing_number=PERSONKONTO[0],
        account=PERSONKONTO[1],
        person_name=PAYEE_NAME,
        beneficiary=person,
    )
    app = world.run(app, "schedule_payout", world.treasurer, payee=payee.pk)
    batch = batches.create_batch(actor=world.treasurer, applications=[app])
    batches.approve_batch(batch, actor=world.treasurer2)
    generate_payout_file.delay(batch.message_id, world.treasurer.pk)  # the file on disk
    batches.mark_sent(batch, actor=world.treasurer)
    app = world.run(app, "confirm_paid", world.treasurer)
    services.record_follow_up(
        app, actor=world.officer, outcome="used_as_intended", evidence_reference=FOLLOW_UP
    )
    app = world.run(app, "close", world.officer)

    privacy.read_personal_data(
        person, actor=world.auditor, purpose=privacy.AccessPurpose.AUDIT, reason=AUDIT_REASON
    )
    year = date.today().year
    jobs = [
        start_export(actor=world.treasurer, kind=kind, year=year)
        for kind in ("sie4i", "ledger_csv", "ledger_jsonl", "ledger_xlsx")
    ]
    for job in jobs:
        job.refresh_from_db()
        assert job.status == "done", (job.kind, job.status, job.error)

    erase_person(person, actor=world.admin, today=date(2100, 1, 1))
    call_command("privacy_compact", verbosity=0)
    assert Application.objects.get(pk=app.pk).state == "closed"
    return person.reference


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(f"ERASED {run()}")  # the test reads the reference from stdout
