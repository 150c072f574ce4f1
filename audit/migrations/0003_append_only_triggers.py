"""Make the audit tables append-only in the database itself (SQLite and PostgreSQL)."""

from django.db import migrations

from audit import triggers


#: The tables that existed at this migration (later ones install their own tables' triggers).
TABLES = ("audit_auditevent", "audit_auditcheckpoint")


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, TABLES)


def drop(apps, schema_editor):
    triggers.drop(schema_editor.connection, TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_checkpoint"),
    ]

    operations = [
        migrations.RunPython(install, drop, elidable=False),
    ]
