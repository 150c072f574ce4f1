"""The blind index of a person's name words (``fund.name_index``), so staff find a person by
name, filled in for the people already registered.

The data step needs the keys, as ``0006_limit_personnummer_index`` did: the field-encryption
keys to read each name and the blind-index key to hash its words. Where they cannot be read
(a key not configured where migrations run, or a person's key that does not open), the index
stays empty for those people, they are only not found by name, and
``manage.py rebuild_blind_index`` fills it in once the keys are there.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models


def index_names(apps, schema_editor):
    from core.crypto import DecryptionFailed, decrypt_json
    from fund.name_index import name_index

    Beneficiary = apps.get_model("fund", "Beneficiary")
    people = Beneficiary.objects.filter(erased_at__isnull=True).exclude(encrypted_personal_data="")
    skipped = 0
    for person in people.order_by("pk").iterator():
        try:
            name = decrypt_json(person.wrapped_key, person.encrypted_personal_data).get("name", "")
            person.name_index = name_index(str(name or ""))
        except (DecryptionFailed, ImproperlyConfigured):
            skipped += 1
            continue
        person.save(update_fields=["name_index"])
    if skipped:
        print(  # noqa: T201 - a migration's only way to tell the operator
            f"\n  {skipped} people have no name index yet (their keys could not be read): "
            "run `manage.py rebuild_blind_index` once the keys are configured."
        )


class Migration(migrations.Migration):
    dependencies = [("fund", "0010_key_canary")]

    operations = [
        migrations.AddField(
            model_name="beneficiary",
            name="name_index",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(index_names, migrations.RunPython.noop),
    ]
