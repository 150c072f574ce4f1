"""Checkpoints carry their signed note, Merkle root and frontier (issue #15).

Added with ALTER TABLE ... ADD COLUMN on both backends: Django's own AddField would rebuild
the table on SQLite and drop the append-only triggers of 0003. Existing (first-format)
checkpoints get empty values and keep verifying as before.
"""

from django.db import migrations, models

_COLUMNS = (
    ("note", "text"),
    ("root_hash", "varchar(64)"),
    ("frontier", "text"),
)


def _add(apps, schema_editor):
    for name, sql_type in _COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE audit_auditcheckpoint ADD COLUMN {name} {sql_type} NOT NULL DEFAULT ''"
        )


def _drop(apps, schema_editor):
    for name, _ in _COLUMNS:
        schema_editor.execute(f"ALTER TABLE audit_auditcheckpoint DROP COLUMN {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_payload_canonical_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_add, _drop, elidable=False)],
            state_operations=[
                migrations.AddField(
                    model_name="auditcheckpoint",
                    name="note",
                    field=models.TextField(blank=True, verbose_name="signed checkpoint note"),
                ),
                migrations.AddField(
                    model_name="auditcheckpoint",
                    name="root_hash",
                    field=models.CharField(blank=True, max_length=64, verbose_name="Merkle root"),
                ),
                migrations.AddField(
                    model_name="auditcheckpoint",
                    name="frontier",
                    field=models.TextField(blank=True),
                ),
            ],
        ),
    ]
