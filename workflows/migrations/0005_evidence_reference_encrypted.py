"""Evidence references move under the person's key (issue #14), carrying existing rows over.

A person already erased has no key left: their evidence references become empty tokens, as
erasure would have made them had the column been encrypted then.
"""

from django.db import migrations, models

#: (model, the lookup from its row to the person)
MODELS = (
    ("StatutoryAssessment", "need_item__application__beneficiary"),
    ("FollowUp", "application__beneficiary"),
)


def _person(row, path):
    for step in path.split("__"):
        row = getattr(row, step)
    return row


def encrypt_evidence(apps, schema_editor):
    from core.crypto import encrypt_json, new_wrapped_key

    for model_name, path in MODELS:
        model = apps.get_model("workflows", model_name)
        for row in model.objects.select_related(path).iterator(chunk_size=500):
            person = _person(row, path)
            text = (row.evidence_reference or "").strip()
            sealed = ""  # nothing to keep, or the person is erased
            if text and person.erased_at is None:
                if not person.wrapped_key:
                    person.wrapped_key = new_wrapped_key()
                    person.save(update_fields=["wrapped_key"])
                sealed = encrypt_json(person.wrapped_key, {"text": text})
            row.encrypted_evidence_reference = sealed
            row.evidence_reference = ""
            row.save(update_fields=["encrypted_evidence_reference", "evidence_reference"])


def decrypt_evidence(apps, schema_editor):
    from core.crypto import decrypt_json

    for model_name, path in MODELS:
        model = apps.get_model("workflows", model_name)
        for row in model.objects.select_related(path).iterator(chunk_size=500):
            person = _person(row, path)
            token = row.encrypted_evidence_reference
            if token and person.erased_at is None and person.wrapped_key:
                row.evidence_reference = decrypt_json(person.wrapped_key, token).get("text", "")
                row.save(update_fields=["evidence_reference"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0004_legal_basis_code"),
        ("fund", "0007_protected_identity_grant"),
    ]

    operations = [
        migrations.AddField(
            model_name="statutoryassessment",
            name="encrypted_evidence_reference",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="followup",
            name="encrypted_evidence_reference",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt_evidence, decrypt_evidence),
        migrations.RemoveField(model_name="statutoryassessment", name="evidence_reference"),
        migrations.RemoveField(model_name="followup", name="evidence_reference"),
    ]
