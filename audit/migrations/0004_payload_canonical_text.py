"""Payloads are stored as canonical JSON text (``CanonicalJSONEncoder``).

State only: the column type does not change, and on SQLite Django would otherwise rebuild
the table, dropping the append-only triggers of 0003. Rows written before keep their old
spelling; the verifier canonicalises those (see ``audit.canonical.stored_text_bytes``).
"""

from django.db import migrations, models

import audit.canonical


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_append_only_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="payload",
                    field=models.JSONField(
                        default=dict,
                        encoder=audit.canonical.CanonicalJSONEncoder,
                        verbose_name="payload",
                    ),
                ),
            ],
        ),
    ]
