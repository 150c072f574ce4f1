"""Komplettering messages move under the person's key, carrying existing rows over."""

from django.db import migrations, models


def encrypt_messages(apps, schema_editor):
    from core.crypto import encrypt_json

    CompletionRequest = apps.get_model("workflows", "CompletionRequest")
    for request in CompletionRequest.objects.select_related("application__beneficiary"):
        person = request.application.beneficiary
        request.encrypted_message = encrypt_json(person.wrapped_key, {"text": request.message})
        request.save(update_fields=["encrypted_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_roles"),
        ("fund", "0004_need_item_encrypted_description"),
    ]

    operations = [
        migrations.AddField(
            model_name="completionrequest",
            name="encrypted_message",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt_messages, migrations.RunPython.noop),
        migrations.RemoveField(model_name="completionrequest", name="message"),
    ]
