"""Create the six roles as groups, with the model permissions each role needs in the admin.

Case-level rights (an ombud's own cases, an officer's funds) are enforced by the services;
these permissions only open the admin's doors.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "ombud": [],
    "officer": [
        "fund.view_fund",
        "fund.view_organisation",
        "fund.view_ombud",
        "fund.view_application",
    ],
    "decision_maker": ["fund.view_fund", "fund.view_application"],
    "treasurer": ["fund.view_fund", "fund.view_application"],
    "auditor": [
        "audit.view_auditevent",
        "fund.view_fund",
        "fund.view_organisation",
        "fund.view_ombud",
        "fund.view_application",
    ],
    "administrator": [
        "fund.add_fund",
        "fund.change_fund",
        "fund.view_fund",
        "fund.add_organisation",
        "fund.change_organisation",
        "fund.view_organisation",
        "fund.add_ombud",
        "fund.change_ombud",
        "fund.view_ombud",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_initial"),
        ("fund", "0001_initial"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
