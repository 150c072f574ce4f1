"""A secret nonce per payment batch, written into its pain.001 file (issue #14).

Existing batches keep an empty nonce, so they produce exactly the bytes they did before; a
batch not yet exported gets its nonce at its first export.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0010_person_payee_account_encrypted"),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentbatch",
            name="file_nonce",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
            preserve_default=False,
        ),
    ]
