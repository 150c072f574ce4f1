"""The chart mapping the books use, recorded (issue #16, review 16b).

A remap is a step of its own (``accounting.chart.apply_mapping``). The first record is
the installation's starting point: the roles ``settings.LEDGER_ACCOUNTS`` maps away from their
BAS default (configured when this release is installed: it introduced the mapping) are recorded
as in use, with no one as ``recorded_by``. A foundation's existing chart may use a default
account for something else, so nobody is asked to move that account's balance. Where the
default account already has postings (the services booked it before this release), it is kept
as an account the role used before, so readers of cumulative figures still find what was
booked there.
"""

import django.db.models.deletion
from django.utils import timezone
from django.conf import settings
from django.db import migrations, models


def record_the_settings_mapping(apps, schema_editor):
    from accounting.chart import DEFAULTS

    Posting = apps.get_model("accounting", "Posting")
    ChartRoleMapping = apps.get_model("accounting", "ChartRoleMapping")
    mapped = getattr(settings, "LEDGER_ACCOUNTS", {}) or {}
    now = timezone.now()
    rows = []
    for role, number in sorted(mapped.items()):
        default = DEFAULTS[role].number if role in DEFAULTS else None
        if default is None or str(number) == default:
            continue
        used = Posting.objects.filter(account__number=default).exists()
        rows.append(
            ChartRoleMapping(
                role=role,
                account_number=str(number),
                earlier_accounts=[default] if used else [],
                recorded_at=now,
                recorded_by=None,
            )
        )
    ChartRoleMapping.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('accounting', '0015_restricted_account_guard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ChartRoleMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(max_length=40, unique=True, verbose_name='role')),
                ('account_number', models.CharField(max_length=4, verbose_name='account')),
                ('earlier_accounts', models.JSONField(blank=True, default=list, verbose_name='accounts used before')),
                ('recorded_at', models.DateTimeField(verbose_name='recorded at')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'chart role mapping',
                'verbose_name_plural': 'chart role mappings',
                'ordering': ['role'],
            },
        ),
        migrations.RunPython(record_the_settings_mapping, migrations.RunPython.noop),
    ]
