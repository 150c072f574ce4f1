"""Make the audit tables append-only in the database itself (SQLite and PostgreSQL)."""

from django.db import migrations

from audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection)


def drop(apps, schema_editor):
    triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_checkpoint"),
    ]

    operations = [
        migrations.RunPython(install, drop, elidable=False),
    ]
