"""The legal basis becomes a code from a closed list; recognisable old texts map to codes.

Texts that name no known statute and paragraph become ``other``. Audit events written before
stay as they were: the log is append-only.
"""

import re

from django.db import migrations, models

#: Old free-text forms of each code, matched after lower-casing and removing spaces and dots.
_PATTERNS = (
    ("sol_2_1", r"sol(\(2001:453\))?2kap1§"),
    ("sol_4_1", r"sol(\(2001:453\))?4kap1§"),
    ("sol_5_11", r"sol(\(2001:453\))?5kap11§"),
    ("lma_17", r"lma(\(1994:137\))?17§"),
    ("lma_18", r"lma(\(1994:137\))?18§"),
    ("lss_9", r"lss(\(1993:387\))?9§"),
    ("hsl_8_1", r"hsl(\(2017:30\))?8kap1§"),
    ("mmm", r"mmm"),
)


def code_for(text: str) -> str:
    """The code an old legal-basis text stands for; ``other`` when it is not recognisable."""
    compact = re.sub(r"[\s.]", "", text or "").lower()
    if not compact:
        return ""
    for code, pattern in _PATTERNS:
        if re.fullmatch(pattern, compact):
            return code
    return "other"


def texts_to_codes(apps, schema_editor):
    StatutoryAssessment = apps.get_model("workflows", "StatutoryAssessment")
    for row in StatutoryAssessment.objects.exclude(legal_basis=""):
        row.legal_basis = code_for(row.legal_basis)
        row.save(update_fields=["legal_basis"])


class Migration(migrations.Migration):
    dependencies = [("workflows", "0003_completion_message_encrypted")]

    operations = [
        migrations.RunPython(texts_to_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="statutoryassessment",
            name="legal_basis",
            field=models.CharField(
                blank=True,
                choices=[
                    ("sol_2_1", "SoL (2001:453) 2 kap. 1 §: the municipality's ultimate responsibility"),
                    ("sol_4_1", "SoL (2001:453) 4 kap. 1 §: financial assistance"),
                    ("sol_5_11", "SoL (2001:453) 5 kap. 11 §: support to victims of crime"),
                    ("lma_17", "LMA (1994:137) 17 §: daily allowance for asylum seekers"),
                    ("lma_18", "LMA (1994:137) 18 §: special allowance for asylum seekers"),
                    ("lss_9", "LSS (1993:387) 9 §: support for people with certain disabilities"),
                    ("hsl_8_1", "HSL (2017:30) 8 kap. 1 §: the region's health care"),
                    ("mmm", "MMM: support for victims of trafficking (programme, no statute)"),
                    ("other", "Other legal basis"),
                ],
                max_length=20,
                verbose_name="legal basis",
            ),
        ),
    ]
