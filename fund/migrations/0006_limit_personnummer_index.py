"""Recompute the personnummer index from twelve digits, so a 10- and a 12-digit registration
of one person find each other (and count against one yearly limit)."""

from django.db import migrations


def reindex(apps, schema_editor):
    from stdnum.se import personnummer

    from core.crypto import DecryptionFailed, blind_index, decrypt_json, twelve_digits

    Beneficiary = apps.get_model("fund", "Beneficiary")
    people = Beneficiary.objects.exclude(personnummer_index="").exclude(encrypted_personal_data="")
    for person in people.filter(erased_at__isnull=True):
        try:
            number = decrypt_json(person.wrapped_key, person.encrypted_personal_data).get(
                "personnummer", ""
            )
        except DecryptionFailed:
            continue  # unreadable without its key: the old index stays
        if number and personnummer.is_valid(number):
            person.personnummer_index = blind_index(twelve_digits(number))
            person.save(update_fields=["personnummer_index"])


class Migration(migrations.Migration):
    dependencies = [("fund", "0005_application_waiting_index")]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
