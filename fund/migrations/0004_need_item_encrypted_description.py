"""Need descriptions move under the person's key; old master-key tokens get a person key.

Rows written before per-person keys (0002) hold a token under the master key directly; they
get their own data key here, so every person can be erased by destroying one key.
"""

import json

from django.db import migrations, models


def encrypt_descriptions(apps, schema_editor):
    from core.crypto import encrypt_json, master_cipher, new_wrapped_key

    Beneficiary = apps.get_model("fund", "Beneficiary")
    NeedItem = apps.get_model("fund", "NeedItem")
    for person in Beneficiary.objects.filter(wrapped_key="").exclude(encrypted_personal_data=""):
        data = json.loads(master_cipher().decrypt(person.encrypted_personal_data.encode()))
        person.wrapped_key = new_wrapped_key()
        person.encrypted_personal_data = encrypt_json(person.wrapped_key, data)
        person.save(update_fields=["wrapped_key", "encrypted_personal_data"])
    for item in NeedItem.objects.exclude(description="").select_related("application__beneficiary"):
        person = item.application.beneficiary
        if not person.wrapped_key:
            person.wrapped_key = new_wrapped_key()
            person.save(update_fields=["wrapped_key"])
        item.encrypted_description = encrypt_json(person.wrapped_key, {"text": item.description})
        item.save(update_fields=["encrypted_description"])


class Migration(migrations.Migration):
    dependencies = [("fund", "0003_fund_retention_years")]

    operations = [
        migrations.AddField(
            model_name="needitem",
            name="encrypted_description",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt_descriptions, migrations.RunPython.noop),
        migrations.RemoveField(model_name="needitem", name="description"),
    ]
