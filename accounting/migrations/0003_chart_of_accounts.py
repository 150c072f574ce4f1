"""Seed the chart of accounts (BAS 2026, the accounts a fundraising foundation uses here),
the dimensions (SIE numbering: 1 cost centre, 6 project, 20 fund/programme) and the cost
centres of the functional statement (purpose, fundraising, administration).

Fund objects are created from ``Fund.accounting_dimension`` when a fund first books.
"""

from django.db import migrations

ACCOUNTS = [
    ("1910", "Kassa", "asset"),
    ("1930", "Företagskonto / bank", "asset"),
    ("1940", "Övriga bankkonton", "asset"),
    ("2061", "Stiftelsekapital", "equity"),
    ("2067", "Balanserat kapital", "equity"),
    ("2069", "Årets resultat", "equity"),
    ("2070", "Ändamålsbestämda medel", "equity"),
    ("2071", "Ändamålsbestämda medel, fond 1", "equity"),
    ("2072", "Ändamålsbestämda medel, fond 2", "equity"),
    ("2440", "Leverantörsskulder", "liability"),
    ("2880", "Erhållna bidrag med villkor som ännu inte uppfyllts", "liability"),
    ("2970", "Förutbetalda intäkter", "liability"),
    ("3981", "Erhållna EU-bidrag", "income"),
    ("3985", "Erhållna statliga bidrag", "income"),
    ("3987", "Erhållna kommunala bidrag", "income"),
    ("3993", "Erhållna gåvor och donationer", "income"),
    ("5010", "Lokalhyra", "expense"),
    ("6110", "Kontorsmateriel", "expense"),
    ("6570", "Bankkostnader", "expense"),
    ("6710", "Lämnade bidrag", "expense"),
    ("6993", "Lämnade gåvor", "expense"),
    ("7010", "Löner", "expense"),
    ("7510", "Arbetsgivaravgifter", "expense"),
    ("8310", "Ränteintäkter", "income"),
]

DIMENSIONS = [(1, "Kostnadsställe"), (6, "Projekt"), (20, "Fond / program")]

COST_CENTRES = [
    ("100", "Ändamål"),
    ("200", "Insamling"),
    ("300", "Administration"),
]


def seed(apps, schema_editor):
    Account = apps.get_model("accounting", "Account")
    Dimension = apps.get_model("accounting", "Dimension")
    DimensionObject = apps.get_model("accounting", "DimensionObject")
    for number, name, kind in ACCOUNTS:
        Account.objects.update_or_create(number=number, defaults={"name": name, "type": kind})
    for number, name in DIMENSIONS:
        Dimension.objects.update_or_create(number=number, defaults={"name": name})
    cost_centre = Dimension.objects.get(number=1)
    for code, name in COST_CENTRES:
        DimensionObject.objects.update_or_create(
            dimension=cost_centre, code=code, defaults={"name": name}
        )


class Migration(migrations.Migration):
    dependencies = [("accounting", "0002_ledger_guards")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
