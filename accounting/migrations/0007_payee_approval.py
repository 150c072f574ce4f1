"""Payee approval (four eyes on new bank accounts), who scheduled an order, payees fixed.

Existing payees get ``registered_by`` from the audit log's ``payout.payee_registered`` event
(null where there is none) and stay unapproved: a second treasurer approves each before the
next payout to it. Existing orders keep ``scheduled_by`` null; ``approve_batch`` then asks the
audit log who scheduled the case's payouts. Last, the database starts refusing payee edits
(``accounting.db_guards.install_payee_guard``).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def registrars_from_the_audit_log(apps, schema_editor):
    Payee = apps.get_model("accounting", "Payee")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    registered = dict(
        AuditEvent.objects.filter(action="payout.payee_registered", actor_id__isnull=False)
        .order_by("sequence")
        .values_list("object_ref", "actor_id")
    )
    users = set(User.objects.filter(pk__in=set(registered.values())).values_list("pk", flat=True))
    for payee in Payee.objects.filter(registered_by__isnull=True).only("pk", "reference"):
        actor = registered.get(payee.reference)
        if actor in users:
            Payee.objects.filter(pk=payee.pk).update(registered_by_id=actor)


def install_payee_guard(apps, schema_editor):
    from accounting import db_guards

    db_guards.install_payee_guard(schema_editor.connection)


def uninstall_payee_guard(apps, schema_editor):
    from accounting import db_guards

    db_guards.uninstall_payee_guard(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('accounting', '0006_export_job'),
        ('audit', '0004_payload_canonical_text'),
        ('fund', '0005_application_waiting_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='payee',
            name='approved_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='approved at'),
        ),
        migrations.AddField(
            model_name='payee',
            name='approved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='approved by'),
        ),
        migrations.AddField(
            model_name='payee',
            name='registered_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='registered by'),
        ),
        migrations.AddField(
            model_name='paymentorder',
            name='scheduled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='scheduled by'),
        ),
        migrations.AddConstraint(
            model_name='payee',
            constraint=models.CheckConstraint(condition=models.Q(('approved_by__isnull', True), models.Q(('approved_by', models.F('registered_by')), _negated=True), _connector='OR'), name='payee_four_eyes'),
        ),
        migrations.AddConstraint(
            model_name='payee',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('approved_at__isnull', True), ('approved_by__isnull', True)), models.Q(('approved_at__isnull', False), ('approved_by__isnull', False)), _connector='OR'), name='payee_approval_has_time'),
        ),
        migrations.RunPython(registrars_from_the_audit_log, migrations.RunPython.noop),
        migrations.RunPython(install_payee_guard, uninstall_payee_guard),
    ]
