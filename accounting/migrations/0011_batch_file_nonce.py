"""A secret nonce per payment batch, written into its pain.001 file (issue #14).

The nonce is stored only wrapped by the master keys (``wrapped_file_nonce``, a Fernet token):
in plain text next to the file's digest it would let a copy of the database alone brute-force
a living person's personkonto. Existing batches keep an empty value, so they produce exactly
the bytes they did before; a batch not yet exported gets its nonce at its first export.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0010_person_payee_account_encrypted"),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentbatch",
            name="wrapped_file_nonce",
            field=models.TextField(blank=True, default="", editable=False),
            preserve_default=False,
        ),
    ]
