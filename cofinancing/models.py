"""Co-financed projects: the grant decision's figures, the partners, and their time sheets.

A project's costs are not stored here: they are the ledger's postings tagged with the
project dimension (dimension 6, object code = ``Project.code``). What is stored here is what
the ledger does not know: the decision (rates, budget per cost category, funding sources),
the partners, and the in-kind contributions as time sheets.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.validators import validate_loggable_code
from fund.models import validate_orgnr
from fund.money import money_field, quantize

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]

#: A pseudonymous person id in a time sheet: letters, digits and dashes, never a personnummer.
PERSON_REF = re.compile(r"^[A-Z][A-Z0-9-]{0,19}$")
_PERSONNUMMER = re.compile(r"(19|20)?\d{6}[-+]?\d{4}")


def validate_person_ref(value: str) -> None:
    if not PERSON_REF.match(value) or _PERSONNUMMER.search(value):
        raise ValidationError(
            _(
                "The person must be a pseudonymous id (e.g. P-017: capital letters, digits, "
                "dashes), never a name or personal identity number."
            )
        )


class CostModel(models.TextChoices):
    ACTUAL = "actual", _("Actual costs")
    UNIT = "unit", _("Unit costs")
    FLAT_RATE = "flat_rate", _("Flat rate")


class ProgrammePeriod(models.TextChoices):
    P2000_2006 = "2000-2006", _("ESF 2000-2006")
    P2007_2013 = "2007-2013", _("ESF 2007-2013")
    P2014_2020 = "2014-2020", _("ESF 2014-2020")
    P2021_2027 = "2021-2027", _("ESF+ 2021-2027")


class RateBasis(models.TextChoices):
    SALARY = "salary", _("Monthly salary x 12 / 1 720 hours, social fees included")
    UNIT_COST = "unit_cost", _("The programme's unit cost per hour")
    MARKET = "market", _("Market price of the same work")


class Project(models.Model):
    """A co-financed project as decided by the funder."""

    code = models.CharField(
        _("project code (dimension 6 object)"),
        max_length=20,
        unique=True,
        validators=[validate_loggable_code],
    )
    case_number = models.CharField(_("funder's case number"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    programme_period = models.CharField(
        _("programme period"),
        max_length=9,
        choices=ProgrammePeriod.choices,
        blank=True,
        help_text=_("Decides the cost models allowed and the rules the report applies."),
    )
    cost_model = models.CharField(
        _("cost model"), max_length=10, choices=CostModel.choices, default=CostModel.ACTUAL
    )
    flat_rate_percent = models.DecimalField(
        _("flat rate (cost model flat rate), %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
    )
    indirect_rate_percent = models.DecimalField(
        _("indirect costs, % of staff costs"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT,
    )
    esf_rate_percent = models.DecimalField(
        _("decided ESF rate, %"), max_digits=7, decimal_places=4, validators=PERCENT
    )
    market_hourly_rate = money_field(
        _("market value of an hour given in kind (ceiling)"),
        null=True,
        blank=True,
        help_text=_("In-kind time is valued at most at this rate; required for in-kind time."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("co-financed project")
        verbose_name_plural = _("co-financed projects")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="project_period_order"),
            models.CheckConstraint(
                condition=Q(esf_rate_percent__gte=0) & Q(esf_rate_percent__lte=100),
                name="project_esf_rate_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def esf_rate(self) -> Decimal:
        return self.esf_rate_percent / 100

    @property
    def indirect_rate(self) -> Decimal:
        return self.indirect_rate_percent / 100


class PartnerRole(models.TextChoices):
    OWNER = "owner", _("Project owner")
    PARTNER = "partner", _("Partner")


class Partner(models.Model):
    """An organisation in the project (never a person)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="partners")
    organisation_name = models.CharField(_("organisation"), max_length=120)
    org_number = models.CharField(
        _("organisation number"), max_length=11, validators=[validate_orgnr]
    )
    role = models.CharField(_("role"), max_length=10, choices=PartnerRole.choices)

    class Meta:
        ordering = ["project", "role", "organisation_name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "org_number"], name="partner_once_per_project"
            ),
            models.UniqueConstraint(
                fields=["project"], condition=Q(role="owner"), name="one_owner_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_name} ({self.get_role_display()})"


class FundingKind(models.TextChoices):
    ESF = "esf", _("ESF support")
    PUBLIC_CASH = "public_cash", _("Public cash")
    PRIVATE_CASH = "private_cash", _("Private cash")
    PUBLIC_IN_KIND = "public_in_kind", _("Public in-kind")
    PRIVATE_IN_KIND = "private_in_kind", _("Private in-kind")
    PARTICIPANT_ALLOWANCE = "participant_allowance", _("Participant allowances")
    OWN_CASH = "own_cash", _("Owner's own cash")


IN_KIND = (FundingKind.PUBLIC_IN_KIND, FundingKind.PRIVATE_IN_KIND)


class FundingSource(models.Model):
    """One financing row of the decision: a kind, its decided amount or rate, its partner."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="funding")
    kind = models.CharField(_("kind"), max_length=24, choices=FundingKind.choices)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="funding"
    )
    decided_amount = money_field(_("decided amount"), null=True, blank=True)
    decided_rate_percent = models.DecimalField(
        _("decided rate, %"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=PERCENT,
    )
    budgeted_hours_min = models.PositiveIntegerField(
        _("budgeted hours in kind, at least"), null=True, blank=True
    )
    budgeted_hours_max = models.PositiveIntegerField(
        _("budgeted hours in kind, at most"), null=True, blank=True
    )
    hourly_rate_basis = models.CharField(
        _("basis of the hourly rate"), max_length=10, choices=RateBasis.choices, blank=True
    )

    class Meta:
        ordering = ["project", "kind"]
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_amount__isnull=False) | Q(decided_rate_percent__isnull=False),
                name="funding_has_amount_or_rate",
            ),
            models.CheckConstraint(
                condition=Q(decided_amount__isnull=True) | Q(decided_amount__gte=0),
                name="funding_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.partner_id and self.partner and self.partner.project_id != self.project_id:
            raise ValidationError({"partner": _("The partner belongs to another project.")})


class CostCategory(models.TextChoices):
    STAFF = "staff", _("Staff")
    EXTERNAL_SERVICES = "external_services", _("External services")
    PREMISES = "premises", _("Premises")
    TRAVEL = "travel", _("Travel and lodging")
    EQUIPMENT = "equipment", _("Equipment and material")
    INVESTMENTS = "investments", _("Investments and depreciation")
    OTHER = "other", _("Other costs")
    INDIRECT = "indirect", _("Indirect costs (flat rate)")
    PARTICIPANT = "participant", _("Participant costs")
    LESS_INCOME = "less_income", _("Less project income")


class BudgetLine(models.Model):
    """The decided budget of one cost category, for the whole project or for one year."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="budget")
    category = models.CharField(_("cost category"), max_length=20, choices=CostCategory.choices)
    year = models.PositiveSmallIntegerField(
        _("year (empty: the whole project)"), null=True, blank=True
    )
    amount = money_field(_("budget"))

    class Meta:
        ordering = ["project", "year", "category"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "category", "year"], name="budget_line_once"
            ),
            models.UniqueConstraint(
                fields=["project", "category"],
                condition=Q(year__isnull=True),
                name="budget_line_once_whole_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.category} {self.year or ''}: {self.amount}"


class TimeSheetEntry(models.Model):
    """A month of a partner's staff time given in kind: whole hours at an hourly rate."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="time_sheets")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="time_sheets")
    person_ref = models.CharField(
        _("person (pseudonymous id)"), max_length=20, validators=[validate_person_ref]
    )
    pay_group = models.CharField(_("role / pay group"), max_length=40, blank=True)
    month = models.DateField(_("month (first day)"))
    hours = models.PositiveIntegerField(_("whole hours"))
    hourly_rate = money_field(_("hourly rate (salary + social fees)"))
    attestation_ref = models.CharField(_("attestation reference"), max_length=40)
    import_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["project", "month", "partner", "person_ref"]
        verbose_name = _("time sheet entry")
        verbose_name_plural = _("time sheet entries")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "partner", "person_ref", "month"],
                name="time_sheet_once_per_person_month",
            ),
            models.CheckConstraint(condition=Q(hours__gt=0), name="time_sheet_hours_positive"),
            models.CheckConstraint(condition=Q(hourly_rate__gt=0), name="time_sheet_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.person_ref} {self.month:%Y-%m}: {self.hours} h"

    @property
    def amount(self) -> Decimal:
        return quantize(self.hours * self.hourly_rate.amount)


#: A claim's reference as the co-financier knows it: a code with a digit, never a name.
CLAIM_REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9.:-]{0,39}$")


def validate_claim_reference(value: str) -> None:
    if not CLAIM_REFERENCE.match(value) or not any(c.isdigit() for c in value):
        raise ValidationError(
            _(
                "The claim's reference must be a code (capital letters, digits, - . : and at "
                "least one digit, e.g. ESF-ANS-3), never a name."
            )
        )
    validate_loggable_code(value)


class EsfClaim(models.Model):
    """A payment claim to the co-financier (ansökan om utbetalning), as submitted.

    Claims cover the project's period one after another without gaps or overlaps and are
    never changed once recorded (the database refuses it): a controller corrects a claim in
    the next one, so a correction is a later claim whose amount may be negative.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="esf_claims")
    number = models.PositiveIntegerField(_("claim number"))
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    amount = money_field(_("amount claimed"))
    submitted_on = models.DateField(_("submitted on"))
    reference = models.CharField(
        _("reference"), max_length=40, validators=[validate_claim_reference]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("Empty: recorded by the demo seed."),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["project", "number"]
        verbose_name = _("ESF payment claim")
        verbose_name_plural = _("ESF payment claims")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="esf_claim_number_once"),
            # A claim's reference names it: the same reference again is the same claim.
            # (Not one claim per period end: the final claim is corrected by a later claim
            # over the same, final period.)
            models.UniqueConstraint(
                fields=["project", "reference"], name="esf_claim_reference_once"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="esf_claim_number_positive"),
            models.CheckConstraint(
                condition=Q(period_to__gte=F("period_from")), name="esf_claim_period_order"
            ),
            models.CheckConstraint(
                condition=Q(submitted_on__gt=F("period_to")),
                name="esf_claim_submitted_after_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} #{self.number} {self.period_from} - {self.period_to}"
