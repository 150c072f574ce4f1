"""One row of every kind of encrypted column in ``fund.token_fields``, and a generic reader.

Rotation, re-keying and the raw scans after erasure walk the registry; their tests build data
with :func:`build_every_encrypted_row` and fail (``missing_token_fields``) when a registered
column has no row here — add the new kind of data to the builder when you register a column.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from accounting.payees import create_payee
from core.crypto import decrypt_json, unwrap_with_master_keys
from fund.token_fields import KEY_HOLDERS, MASTER_WRAPPED, TOKEN_FIELDS, MasterWrapped, TokenField

PERSON_NAME = "Vera Rotationsdottir"
PERSONKONTO_CLEARING = "3300"
PERSONKONTO_ACCOUNT = "8112189876"  # Nordea personkonto: clearing 3300 + the personnummer


def build_every_encrypted_row(world: Any) -> dict[str, Any]:
    """A person with every kind of encrypted data: values, need description, komplettering
    (the officer's message and the ombud's answer), evidence references (assessment,
    follow-up), a decision's written-out reason, an auditor's stated reason, an own payee;
    an exported batch (its file's nonce is wrapped by the master keys); the key canaries."""
    from fund.privacy import AccessPurpose, read_personal_data
    from workflows import services

    app = world.new_application("900", name=PERSON_NAME)
    app = world.run(app, "submit", world.ombud.user)
    app = world.run(app, "request_completion", world.officer, message="Bifoga hyreskontraktet")
    from workflows.completion import answer_completion

    answer_completion(
        app.completion_requests.get(), actor=world.ombud.user, text="Kontraktet är inskannat"
    )
    app = world.run(app, "resubmit", world.ombud.user)
    app = world.run(app, "request_attestation", world.officer)
    app = world.run(app, "attest", world.ombud.user, method="portal", need_confirmed=True)
    app = world.run(app, "start_statutory_check", world.officer)
    world.assess_all(app, evidence_reference="Soc avslag dnr 4711")
    app = world.run(app, "clear", world.officer)
    item = app.items.get()
    app = world.run(
        app,
        "approve_partly",
        world.decider,
        items=[
            {"item": item.pk, "amount": "800", "reason": "other", "text": "Delvis enligt avtal"}
        ],
    )
    app = world.run(app, "schedule_payout", world.treasurer)
    world.send_payouts(app)
    app = world.run(app, "confirm_paid", world.treasurer)
    services.record_follow_up(
        app, actor=world.officer, outcome="used_as_intended", evidence_reference="Kvitto 2026-03-02"
    )
    read_personal_data(
        app.beneficiary, actor=world.auditor, purpose=AccessPurpose.AUDIT, reason="Stickprov"
    )
    payee = create_payee(
        actor=world.treasurer,
        kind="person",
        person_name=PERSON_NAME,
        method="bank_account",
        clearing_number=PERSONKONTO_CLEARING,
        account=PERSONKONTO_ACCOUNT,
        beneficiary=app.beneficiary,
    )
    from operations.key_canary import write_missing_canaries

    write_missing_canaries()  # as a server's first start does: a constant wrapped by the keys
    return {"application": app, "person": app.beneficiary, "payee": payee}


def _rows(token: TokenField) -> list[tuple[int, str, str]]:
    """(pk, token, holder's wrapped key) of every row with a token in this column."""
    model = apps.get_model(token.model)
    key = f"{token.key_path}__wrapped_key" if token.key_path else "wrapped_key"
    return list(model.objects.exclude(**{token.field: ""}).values_list("pk", token.field, key))


def missing_token_fields() -> list[TokenField | MasterWrapped]:
    """Registered columns that no row in the database fills."""
    missing: list[TokenField | MasterWrapped] = [t for t in TOKEN_FIELDS if not _rows(t)]
    return missing + [w for w in MASTER_WRAPPED if not master_wrapped_values(w)]


def master_wrapped_values(
    only: MasterWrapped | None = None,
) -> dict[tuple[str, str, int], str]:
    """Every secret wrapped by the master keys, as stored (wrapped)."""
    found: dict[tuple[str, str, int], str] = {}
    for column in [only] if only else MASTER_WRAPPED:
        rows = apps.get_model(column.model).objects.exclude(**{column.field: ""})
        for pk, value in rows.values_list("pk", column.field):
            found[(column.model, column.field, pk)] = value
    return found


def read_every_master_wrapped() -> dict[tuple[str, str, int], str]:
    """Every master-wrapped secret, unwrapped with the configured master keys."""
    return {ref: unwrap_with_master_keys(value) for ref, value in master_wrapped_values().items()}


def read_every_token() -> dict[tuple[str, str, int], dict[str, Any]]:
    """Every encrypted value in the database, decrypted with its holder's data key."""
    return {
        (token.model, token.field, pk): decrypt_json(wrapped, value)
        for token in TOKEN_FIELDS
        for pk, value, wrapped in _rows(token)
    }


def wrapped_keys() -> dict[tuple[str, int], str]:
    found: dict[tuple[str, int], str] = {}
    for holder in KEY_HOLDERS:
        model = apps.get_model(holder.model)
        for pk, wrapped in model.objects.exclude(**{holder.field: ""}).values_list(
            "pk", holder.field
        ):
            found[(holder.model, pk)] = wrapped
    return found
