"""A person payee's bank details move into their encrypted token (issue #14).

A personkonto is clearing 3300 + the personnummer: a person payee's account, clearing number
and BIC are personal data. They move into ``encrypted_personal_data`` under the payee's own
key (which erasure destroys), the plain columns are blanked, and a check constraint keeps them
empty. The token names its payee (``reference``), person, kind, method and registrar and, once
approved, its approver, so a token copied onto another row, or a row moved to another person,
is refused (``Payee.own_personal_data``). Payees already erased lose the clearing number
erasure could not blank before. The
payee guard (migration 0007) is lifted for the move and installed again at the end (SQLite
rebuilds the table for the constraints, which drops its triggers anyway); as installed here it
also refuses to delete a payee or to insert one already approved.
"""

from django.db import migrations, models


def uninstall_payee_guard(apps, schema_editor):
    from accounting import db_guards

    db_guards.uninstall_payee_guard(schema_editor.connection)


def install_payee_guard(apps, schema_editor):
    from accounting import db_guards

    db_guards.install_payee_guard(schema_editor.connection)


def _legacy_data(token):
    """A token from before person payees had their own key (master key directly), or {}."""
    import json

    from cryptography.fernet import InvalidToken

    from core.crypto import master_cipher

    try:
        return json.loads(master_cipher().decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError):
        return {}


def accounts_into_the_token(apps, schema_editor):
    from core.crypto import decrypt_json, encrypt_json, new_wrapped_key

    Payee = apps.get_model("accounting", "Payee")
    for payee in Payee.objects.filter(kind="person").order_by("pk"):
        details = {
            "account": payee.account,
            "clearing_number": payee.clearing_number,
            "bic": payee.bic,
            # The binding (accounting.models.BOUND_* / Payee._binding), spelled out here: a
            # migration does not follow later changes of the models.
            "payee": payee.reference,
            "beneficiary": payee.beneficiary_id,
            "kind": payee.kind,
            "method": payee.method,
            "registered_by": payee.registered_by_id,
        }
        if payee.approved_by_id is not None:
            details["approved_by"] = payee.approved_by_id
        if payee.wrapped_key:
            data = (
                decrypt_json(payee.wrapped_key, payee.encrypted_personal_data)
                if payee.encrypted_personal_data
                else {}
            )
            payee.encrypted_personal_data = encrypt_json(payee.wrapped_key, {**data, **details})
        elif payee.account:  # registered before payees had their own key: give it one
            data = (
                _legacy_data(payee.encrypted_personal_data) if payee.encrypted_personal_data else {}
            )
            payee.wrapped_key = new_wrapped_key()
            payee.encrypted_personal_data = encrypt_json(payee.wrapped_key, {**data, **details})
        else:  # erased (its account blanked, its key destroyed): nothing of it may stay
            payee.encrypted_personal_data = ""
        payee.account = payee.clearing_number = payee.bic = ""
        payee.save(
            update_fields=[
                "wrapped_key",
                "encrypted_personal_data",
                "account",
                "clearing_number",
                "bic",
            ]
        )


def accounts_out_of_the_token(apps, schema_editor):
    from core.crypto import decrypt_json, encrypt_json

    Payee = apps.get_model("accounting", "Payee")
    for payee in Payee.objects.filter(kind="person").exclude(wrapped_key="").order_by("pk"):
        data = decrypt_json(payee.wrapped_key, payee.encrypted_personal_data)
        payee.account = data.pop("account", "")
        payee.clearing_number = data.pop("clearing_number", "")
        payee.bic = data.pop("bic", "")
        for binding in ("payee", "approved_by", "beneficiary", "kind", "method", "registered_by"):
            data.pop(binding, None)
        payee.encrypted_personal_data = encrypt_json(payee.wrapped_key, data)
        payee.save(update_fields=["encrypted_personal_data", "account", "clearing_number", "bic"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0009_payout_lifecycle"),
        ("fund", "0007_protected_identity_grant"),
    ]

    operations = [
        migrations.RunPython(uninstall_payee_guard, install_payee_guard),
        migrations.RemoveConstraint(
            model_name="payee",
            name="bank_account_has_clearing",
        ),
        migrations.AlterField(
            model_name="payee",
            name="account",
            field=models.CharField(
                blank=True,
                help_text="Bankgiro or Plusgiro number, account number, or IBAN (digits, compact); empty for a person: their account is kept encrypted.",
                max_length=34,
                verbose_name="account",
            ),
        ),
        migrations.RunPython(accounts_into_the_token, accounts_out_of_the_token),
        migrations.AddConstraint(
            model_name="payee",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("method", "bank_account"), _negated=True),
                    models.Q(("clearing_number", ""), _negated=True),
                    ("kind", "person"),
                    _connector="OR",
                ),
                name="bank_account_has_clearing",
            ),
        ),
        migrations.AddConstraint(
            model_name="payee",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "person"), _negated=True),
                    models.Q(("account", ""), ("bic", ""), ("clearing_number", "")),
                    _connector="OR",
                ),
                name="person_payee_account_encrypted",
            ),
        ),
        migrations.RunPython(install_payee_guard, uninstall_payee_guard),
    ]
