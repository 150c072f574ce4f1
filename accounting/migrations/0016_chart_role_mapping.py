"""The chart mapping the books use, recorded (issue #16, review 16b).

A remap is a step of its own (``accounting.chart.apply_mapping``). The first record is
automatic for a ledger without postings, where no account can strand anything: the roles
``settings.LEDGER_ACCOUNTS`` maps away from their BAS default are recorded as in use, with no
one as ``recorded_by``. A ledger with postings records nothing here: a treasurer applies the
settings with ``manage.py chart_mapping --apply --user U``, which runs the checks.
"""

import django.db.models.deletion
from django.utils import timezone
from django.conf import settings
from django.db import migrations, models


def record_settings_for_an_empty_ledger(apps, schema_editor):
    from accounting.chart import DEFAULTS

    Posting = apps.get_model("accounting", "Posting")
    ChartRoleMapping = apps.get_model("accounting", "ChartRoleMapping")
    if Posting.objects.exists():
        return
    mapped = getattr(settings, "LEDGER_ACCOUNTS", {}) or {}
    now = timezone.now()
    ChartRoleMapping.objects.bulk_create(
        ChartRoleMapping(
            role=role,
            account_number=str(number),
            earlier_accounts=[],
            recorded_at=now,
            recorded_by=None,
        )
        for role, number in sorted(mapped.items())
        if role in DEFAULTS and str(number) != DEFAULTS[role].number
    )


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
        migrations.RunPython(record_settings_for_an_empty_ledger, migrations.RunPython.noop),
    ]
