"""Chart of accounts, vouchers and postings, budgets and commitments, payouts.

Models hold data and invariants; every write goes through ``accounting.services`` (and its
submodules ``ledger``, ``commitments``, ``payees``, ``payouts``). The ledger's invariants
are also enforced by the database (see ``accounting/db_guards.py`` and migration 0002):
every voucher balances to exactly zero at commit, and vouchers, seals and postings are never
updated or deleted. Payees are never edited either (migration 0007): a changed account is a
new payee, which a second treasurer approves before anything is paid to it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.validators import validate_loggable_code
from core.append_only import AppendOnly
from core.crypto import decrypt_json, encrypt_json, new_wrapped_key, unwrap_with_master_keys
from core.exceptions import ValidationFailed
from fund.models import Application, Fund, NeedItem
from fund.money import format_money, money_field


class AccountType(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity (foundation capital, restricted funds)")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


class ReferenceData(models.Model):
    """Data the books depend on: saved and deleted in one transaction with its audit event.

    The audit receivers (``accounting.reference_audit``) run on ``post_save``/``post_delete``;
    the transaction here makes the change and its event commit together, or neither.
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(using=kwargs.get("using")):
            return super().delete(*args, **kwargs)


class Account(ReferenceData):
    """One account of the BAS chart (kontoplan). Once it has postings, its number and type
    are fixed (the database refuses a change; see ``accounting/reference_guards.py``)."""

    number = models.CharField(_("account"), max_length=4, unique=True)
    name = models.CharField(_("name"), max_length=120)
    type = models.CharField(_("type"), max_length=10, choices=AccountType.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("account")
        verbose_name_plural = _("chart of accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(number__regex=r"^[1-8][0-9]{3}$"), name="account_number_bas"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ChartRoleMapping(models.Model):
    """The account a chart role (``accounting.chart``) books on, as the books recorded it.

    No row: the role's BAS default is in use. Rows change only through
    ``chart.apply_mapping``, which refuses a remap that would strand what the old account
    holds; ``earlier_accounts`` keeps every account the role booked on before (oldest first),
    so readers of earlier years and of balances across years still find them.
    """

    role = models.CharField(_("role"), max_length=40, unique=True)
    account_number = models.CharField(_("account"), max_length=4)
    earlier_accounts = models.JSONField(_("accounts used before"), default=list, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["role"]
        verbose_name = _("chart role mapping")
        verbose_name_plural = _("chart role mappings")

    def __str__(self) -> str:
        return f"{self.role} -> {self.account_number}"


class Dimension(ReferenceData):
    """An accounting dimension, numbered as in SIE (1 cost centre, 6 project, 20+ free)."""

    FUND = 20
    COST_CENTRE = 1
    PROJECT = 6

    number = models.PositiveSmallIntegerField(_("SIE number"), unique=True)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["number"]
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class DimensionObject(ReferenceData):
    """An object in a dimension: a fund/programme, a project, a cost centre.

    Once postings reference it, its dimension, code and fund are fixed: changing them would
    move those postings (and a fund's balance) elsewhere.
    """

    dimension = models.ForeignKey(
        Dimension, on_delete=models.PROTECT, related_name="dimension_objects"
    )
    code = models.CharField(_("code"), max_length=20, validators=[validate_loggable_code])
    name = models.CharField(_("name"), max_length=120)
    fund = models.OneToOneField(
        Fund,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dimension_object",
        help_text=_("For the fund dimension: the fund this object books."),
    )

    class Meta:
        ordering = ["dimension", "code"]
        verbose_name = _("dimension object")
        verbose_name_plural = _("dimension objects")
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="dimension_object_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dimension.number}/{self.code}"


class FiscalYear(ReferenceData):
    start = models.DateField(_("start"), unique=True)
    end = models.DateField(_("end"))

    class Meta:
        ordering = ["start"]
        verbose_name = _("fiscal year")
        verbose_name_plural = _("fiscal years")
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="year_order")]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}-{self.end:%Y-%m-%d}"


class Period(ReferenceData):
    """A month of a fiscal year; once closed it takes no vouchers."""

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="periods")
    start = models.DateField(_("start"), unique=True)
    end = models.DateField(_("end"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["start"]
        verbose_name = _("period")
        verbose_name_plural = _("periods")

    def __str__(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class PeriodCloseRequest(models.Model):
    """A treasurer's proposal to close a period; a second treasurer approves and closes it.

    At most one open (unapproved) proposal per period; the proposer never approves their own.
    """

    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="close_requests", verbose_name=_("period")
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["period__start"]
        verbose_name = _("proposal to close a period")
        verbose_name_plural = _("proposals to close a period")
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("proposed_by")),
                name="period_close_two_treasurers",
            ),
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(approved_at__isnull=True),
                name="period_close_one_open_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period}"


class YearEndClosing(models.Model):
    """A fiscal year's closing: one treasurer prepares it, a second approves, books and locks.

    ``figures`` keeps what was prepared (result, restricted-funds transfers, the ledger's
    fingerprint) so that the approval can refuse when the books changed in between. Once
    ``locked_at`` is set the year takes no voucher again, and the row cannot change (database
    guards in ``accounting/year_end_guards.py``).
    """

    fiscal_year = models.OneToOneField(
        FiscalYear, on_delete=models.PROTECT, related_name="closing", verbose_name=_("fiscal year")
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(_("prepared at"))
    figures = models.JSONField(_("figures as prepared"))
    disposition_date = models.DateField(_("date of the disposition of the result"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    vouchers = models.JSONField(_("vouchers booked"), default=list, blank=True)

    class Meta:
        verbose_name = _("year-end closing")
        verbose_name_plural = _("year-end closings")
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                name="year_end_two_treasurers",
            ),
            models.CheckConstraint(
                condition=Q(locked_at__isnull=True)
                | Q(approved_at__isnull=False, approved_by__isnull=False),
                name="year_end_locked_when_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year.start:%Y}"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class VoucherSeries(models.TextChoices):
    MANUAL = "A", _("A: manual vouchers and corrections")
    INCOME = "B", _("B: income")
    PAYOUT = "C", _("C: payouts")
    GRANTS = "D", _("D: grants decided (cost and liability) and released")
    YEAR_END = "E", _("E: year-end closing")


class VoucherCounter(models.Model):
    """The last number used per fiscal year and series; locked to number without gaps."""

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=2, choices=VoucherSeries.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "series"], name="voucher_counter_once")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.fiscal_year}: {self.last_number}"


class Voucher(AppendOnly, models.Model):
    """A verifikation. Its text never names a person: it carries case references only."""

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="vouchers")
    series = models.CharField(_("series"), max_length=2, choices=VoucherSeries.choices)
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    text = models.CharField(_("text"), max_length=120)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered at"))

    class Meta:
        ordering = ["fiscal_year", "series", "number"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.UniqueConstraint(
                fields=["fiscal_year", "series", "number"], name="voucher_number_once"
            ),
            models.CheckConstraint(condition=Q(number__gt=0), name="voucher_number_positive"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.series}{self.number} ({self.fiscal_year.start:%Y})"


class VoucherSeal(AppendOnly, models.Model):
    """Proof that a voucher was complete and balanced when its postings were written.

    Every posting references its voucher's seal through a deferred foreign key, so a
    transaction that writes postings without sealing them cannot commit; the seal's insert
    trigger refuses an unbalanced voucher, and no posting may be added once sealed.
    """

    voucher = models.OneToOneField(
        Voucher, primary_key=True, on_delete=models.PROTECT, related_name="seal"
    )
    sealed_at = models.DateTimeField()

    class Meta:
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"seal of {self.voucher_id}"


class VoucherSealDue(models.Model):
    """Written by the database for every new voucher: its seal must exist at COMMIT.

    ``seal`` is a deferred foreign key (like a posting's), so a voucher committed without a
    seal (and so without balanced postings) fails on SQLite too, which has no deferred
    triggers. Nothing in Python writes these rows.
    """

    voucher = models.OneToOneField(
        Voucher, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    seal = models.ForeignKey(VoucherSeal, on_delete=models.PROTECT, related_name="+")

    class Meta:
        default_permissions = ()
        constraints = [
            models.CheckConstraint(condition=Q(seal=F("voucher")), name="seal_due_is_voucher")
        ]

    def __str__(self) -> str:
        return f"seal due for {self.voucher_id}"


class Posting(AppendOnly, models.Model):
    """A kontering: debit positive, credit negative, in SEK öre."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="postings")
    # Indexed: SQLite checks a deferred foreign key by looking up the child rows, and
    # without an index every seal insert would scan the whole posting table.
    seal = models.ForeignKey(VoucherSeal, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = money_field(_("amount (debit +, credit -)"))
    fund_object = models.ForeignKey(
        DimensionObject,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_postings",
        verbose_name=_("fund / programme"),
    )
    project = models.ForeignKey(
        DimensionObject,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="project_postings",
        verbose_name=_("project"),
    )
    cost_centre = models.ForeignKey(
        DimensionObject,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cost_centre_postings",
        verbose_name=_("cost centre"),
    )

    class Meta:
        ordering = ["voucher", "id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_not_zero"),
            models.CheckConstraint(condition=Q(seal=F("voucher")), name="posting_seal_is_voucher"),
            models.CheckConstraint(condition=Q(amount_currency="SEK"), name="posting_in_sek"),
        ]
        indexes = [models.Index(fields=["account", "fund_object"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"


class Ceiling(models.TextChoices):
    BALANCE = "balance", _("The fund's balance")
    BUDGET = "budget", _("The fund's budget for the year")


class FundAccountingSettings(models.Model):
    """How a fund is held back: by its balance (default) or by its yearly budget."""

    fund = models.OneToOneField(Fund, on_delete=models.PROTECT, related_name="accounting_settings")
    ceiling = models.CharField(
        _("decisions are limited by"), max_length=10, choices=Ceiling.choices
    )

    class Meta:
        verbose_name = _("fund accounting settings")
        verbose_name_plural = _("fund accounting settings")

    def __str__(self) -> str:
        return f"{self.fund}: {self.ceiling}"


class FundBudget(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="budgets")
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="budgets")
    amount = money_field(_("budget for grants"))

    class Meta:
        verbose_name = _("fund budget")
        verbose_name_plural = _("fund budgets")
        constraints = [
            models.UniqueConstraint(fields=["fund", "fiscal_year"], name="fund_budget_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fund_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} {self.fiscal_year}: {self.amount}"


class CommitmentStatus(models.TextChoices):
    OPEN = "open", _("Open (decided, not paid)")
    RELEASED = "released", _("Released")
    EXPENSED = "expensed", _("Paid out (expense)")


class Commitment(models.Model):
    """An approved amount a decision has reserved from a fund until it is paid or released."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="commitments")
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="commitments"
    )
    need_item = models.ForeignKey(NeedItem, on_delete=models.PROTECT, related_name="commitments")
    decision = models.ForeignKey(
        "workflows.Decision", on_delete=models.PROTECT, related_name="commitments"
    )
    amount = money_field(_("amount"))
    status = models.CharField(
        _("status"), max_length=10, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=30, blank=True)
    #: The voucher that booked the grant as a cost and a liability when the decision took
    #: effect (empty for a commitment made before grants were accrued: it is booked at payout).
    accrued_by = models.ForeignKey(
        "Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: The voucher that reversed the liability and the cost for a released commitment.
    released_by = models.ForeignKey(
        "Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        constraints = [
            models.UniqueConstraint(
                fields=["need_item"],
                condition=Q(status="open"),
                name="one_open_commitment_per_item",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_positive"),
        ]
        indexes = [models.Index(fields=["fund", "status"])]

    def __str__(self) -> str:
        return f"{self.need_item}: {self.amount} {self.status}"


class PayeeKind(models.TextChoices):
    SUPPLIER = "supplier", _("Supplier (optician, pharmacy, landlord …)")
    ORGANISATION = "organisation", _("The ombud's organisation")
    PERSON = "person", _("The person (rarely)")


class PaymentMethod(models.TextChoices):
    BANKGIRO = "bankgiro", _("Bankgiro")
    PLUSGIRO = "plusgiro", _("Plusgiro")
    BANK_ACCOUNT = "bank_account", _("Bank account (clearing and account number)")
    IBAN = "iban", _("IBAN")


#: Keys inside a person payee's token: the payee it was written for, and who approved it.
BOUND_PAYEE = "payee"
BOUND_APPROVER = "approved_by"
#: Also bound: whose money it is and how it is paid, so a row moved to another person (DELETE
#: and INSERT by someone who drops the payee guard) or another method is recognised.
BOUND_PERSON = "beneficiary"
BOUND_KIND = "kind"
BOUND_METHOD = "method"
BOUND_REGISTRAR = "registered_by"
#: Every key of the token that binds it rather than holding the person's values.
BINDING_KEYS = (
    BOUND_PAYEE,
    BOUND_APPROVER,
    BOUND_PERSON,
    BOUND_KIND,
    BOUND_METHOD,
    BOUND_REGISTRAR,
)


class Payee(models.Model):
    """Who a payment order pays. A person payee's name and bank details are encrypted only.

    A person's account names them (a personkonto is clearing 3300 + the personnummer), so
    for a person payee ``account``, ``clearing_number`` and ``bic`` stay empty and the values
    live in ``encrypted_personal_data`` under the payee's own key, which erasure destroys.
    Read the destination with :meth:`destination`. In bank files a person is named by
    ``reference`` (P-…), never by name.
    """

    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=PayeeKind.choices)
    name = models.CharField(
        _("name (supplier or organisation)"),
        max_length=70,
        blank=True,
        help_text=_("Empty for a person: their name is kept encrypted."),
    )
    encrypted_personal_data = models.TextField(blank=True, editable=False)
    #: A person payee's own data key (wrapped by the master keys), destroyed at erasure.
    wrapped_key = models.TextField(blank=True, editable=False)
    beneficiary = models.ForeignKey(
        "fund.Beneficiary",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payees",
        help_text=_("For a person payee: the person, so erasing them erases this too."),
    )
    organisation = models.ForeignKey(
        "fund.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payees",
        help_text=_("For the ombud's organisation: used by default for its cases."),
    )
    method = models.CharField(_("paid by"), max_length=12, choices=PaymentMethod.choices)
    account = models.CharField(
        _("account"),
        max_length=34,
        blank=True,
        help_text=_(
            "Bankgiro or Plusgiro number, account number, or IBAN (digits, compact); empty for "
            "a person: their account is kept encrypted."
        ),
    )
    clearing_number = models.CharField(_("clearing number"), max_length=5, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Null only for payees registered before this was recorded (see migration 0007).
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    #: A second treasurer; until then nothing is scheduled, batched or exported to the payee.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["reference"]
        verbose_name = _("payee")
        verbose_name_plural = _("payees")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="person") | Q(name=""), name="person_payee_name_encrypted"
            ),
            models.CheckConstraint(
                condition=~Q(method="bank_account") | ~Q(clearing_number="") | Q(kind="person"),
                name="bank_account_has_clearing",
            ),
            models.CheckConstraint(
                condition=~Q(kind="person") | Q(account="", clearing_number="", bic=""),
                name="person_payee_account_encrypted",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("registered_by")),
                name="payee_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_at__isnull=True)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="payee_approval_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.reference if self.kind == PayeeKind.PERSON else f"{self.reference} {self.name}"

    @property
    def personal_data(self) -> dict[str, Any]:
        """The person's own values (name, account), without the binding; {} when erased or
        when the token was written for another row: it is then not this payee's person's data,
        and showing it (a subject access report) would hand one person another's account."""
        if not (self.encrypted_personal_data and self.wrapped_key):
            return {}
        try:
            data = self.own_personal_data()
        except ValidationFailed:
            return {}
        return {key: value for key, value in data.items() if key not in BINDING_KEYS}

    def _binding(self) -> dict[str, Any]:
        return {
            BOUND_PAYEE: self.reference,
            BOUND_PERSON: self.beneficiary_id,
            BOUND_KIND: self.kind,
            BOUND_METHOD: self.method,
            BOUND_REGISTRAR: self.registered_by_id,
        }

    def set_personal_data(self, data: dict[str, Any]) -> None:
        """Encrypt ``data`` bound to this row: the token names the payee's reference, person,
        kind, method and registrar, so a token copied onto another row, or a row moved to
        another person (an UPDATE or INSERT needs no master key), is recognised."""
        if not self.wrapped_key:
            self.wrapped_key = new_wrapped_key()
        self.encrypted_personal_data = encrypt_json(self.wrapped_key, {**data, **self._binding()})

    def own_personal_data(self) -> dict[str, Any]:
        """The decrypted values, refused when the token was written for another payee.

        Fernet authenticates the token, so without the master key nobody can write one that
        names this row: a mismatch means the row was changed around the application.
        """
        data = decrypt_json(self.wrapped_key, self.encrypted_personal_data)
        if any(data.get(key) != value for key, value in self._binding().items()):
            raise ValidationFailed(
                gettext(
                    "The stored account does not belong to this payee: the encrypted bank "
                    "details of %(ref)s were written for another payee. Nothing is paid to it; "
                    "tell the administrator, the record was changed outside Fundflow."
                )
                % {"ref": self.reference}
            )
        return data

    @property
    def approval_is_sealed(self) -> bool:
        """A person payee's approval is also in its token (written by ``approve_payee``), so
        an UPDATE that sets ``approved_by`` without the master key is not an approval."""
        if self.kind != PayeeKind.PERSON or self.approved_by_id is None:
            return True
        return self.own_personal_data().get(BOUND_APPROVER) == self.approved_by_id

    @property
    def is_erased(self) -> bool:
        """A person payee whose key was destroyed: its account is gone for good."""
        return self.kind == PayeeKind.PERSON and not self.wrapped_key

    def destination(self) -> Any:
        """Where the money goes, validated (``accounting.payees.Account``), decrypted for a
        person. Raises ``ValidationFailed`` when the stored account does not validate and
        ``DecryptionFailed`` when the person's key is gone."""
        from accounting.payees import validate_account

        if self.kind == PayeeKind.PERSON:
            data = self.own_personal_data()
            account, clearing = str(data.get("account", "")), str(data.get("clearing_number", ""))
            bic = str(data.get("bic", ""))
        else:
            account, clearing, bic = self.account, self.clearing_number, self.bic
        return validate_account(self.method, account, clearing_number=clearing, bic=bic)

    @property
    def account_ending(self) -> str:
        """The account's last four characters, to recognise it; empty once erased."""
        if self.kind != PayeeKind.PERSON:
            return self.account[-4:]
        if self.is_erased or not self.encrypted_personal_data:
            return ""
        return str(self.personal_data.get("account", ""))[-4:]

    @property
    def bank_file_name(self) -> str:
        """The name written to a bank file: a supplier's name, a person's reference."""
        return self.reference if self.kind == PayeeKind.PERSON else self.name


class OrderStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed (bank rejected)")
    CANCELLED = "cancelled", _("Cancelled (its file was declared void)")


#: Statuses in which an order still holds its need item.
ACTIVE_ORDER_STATUSES = (OrderStatus.SCHEDULED, OrderStatus.PAID)


class PaymentOrder(models.Model):
    """A betalningsorder: one approved need item paid to one payee."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="payment_orders"
    )
    need_item = models.ForeignKey(NeedItem, on_delete=models.PROTECT, related_name="payment_orders")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="payment_orders")
    commitment = models.ForeignKey(
        Commitment, on_delete=models.PROTECT, related_name="payment_orders"
    )
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="payment_orders")
    amount = money_field(_("amount"))
    remittance = models.CharField(_("remittance (case reference)"), max_length=16)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.SCHEDULED
    )
    batch = models.ForeignKey(
        "PaymentBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    voucher = models.OneToOneField(
        Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_order"
    )
    #: Set when the batch's file is exported with this order in it: from then on the bank may
    #: have it, so it can only fail by the bank's word or by voiding the whole file.
    in_file = models.BooleanField(_("in an exported file"), default=False)
    #: Paid on the bank's own word (a bank file), not on a treasurer's confirmation.
    paid_by_bank = models.BooleanField(_("paid according to the bank"), default=False)
    #: Null only for orders scheduled before this was recorded (see ``approve_batch``).
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    failure_code = models.CharField(_("bank reason code"), max_length=8, blank=True)
    failure_reason = models.CharField(_("reason"), max_length=20, blank=True)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("payment order")
        verbose_name_plural = _("payment orders")
        constraints = [
            models.UniqueConstraint(
                fields=["need_item"],
                condition=Q(status__in=["scheduled", "paid"]),
                name="one_active_order_per_item",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(voucher__isnull=False, batch__isnull=False),
                name="paid_order_has_voucher_and_batch",
            ),
        ]
        indexes = [models.Index(fields=["status", "batch"])]

    def __str__(self) -> str:
        return f"PO-{self.pk} {self.remittance} {self.amount}"


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("Created, awaiting approval")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent to the bank")
    CANCELLED = "cancelled", _("Cancelled before export")
    VOIDED = "voided", _("File void: the bank did not receive it")


class PaymentBatch(models.Model):
    """Payment orders paid together in one bank file; a second treasurer approves it."""

    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    execution_date = models.DateField(_("requested execution date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_sha256 = models.CharField(max_length=64, blank=True)
    #: 128 random bits (hex) written into the file's ``PmtInfId``, so the digest above cannot
    #: be recomputed from the database alone, kept only wrapped by the master keys (read it
    #: with :attr:`file_nonce`): next to the digest in plain text it would let a database copy
    #: brute-force a living person's personkonto. Rotation and re-keying re-wrap it, never
    #: change it (the file's bytes stay the same); destroyed when a person the file paid is
    #: erased. Empty for batches exported before it existed (their file stays what it was).
    wrapped_file_nonce = models.TextField(blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: When a bank file first showed that the bank has this file (any pain.002 status for it,
    #: any camt.054 entry for one of its orders): from then on it cannot be declared void.
    bank_acknowledged_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("created_by")),
                name="batch_four_eyes",
            )
        ]

    def __str__(self) -> str:
        return self.message_id

    @property
    def file_nonce(self) -> str:
        """The nonce in this batch's file, unwrapped; empty when there is none (any more)."""
        return unwrap_with_master_keys(self.wrapped_file_nonce) if self.wrapped_file_nonce else ""

    @property
    def at_the_bank(self) -> bool:
        """Its file was exported and not declared void: the bank may pay it."""
        return self.exported_at is not None and self.status != BatchStatus.VOIDED

    def _figures(self) -> dict[str, Any]:
        """Orders counted per status and their total: annotated by
        ``accounting.selectors.batches_with_figures``, else read once."""
        cached: dict[str, Any] | None = self.__dict__.get("_figure_cache")
        if cached is not None:
            return cached
        annotated = self.__dict__
        if "order_count" in annotated:
            figures = {
                "count": annotated["order_count"],
                "total": annotated["order_total"],
                "open": annotated["open_orders"],
                "paid": annotated["paid_orders"],
            }
        else:
            figures = self.orders.aggregate(
                count=models.Count("pk"),
                total=models.Sum("amount"),
                open=models.Count("pk", filter=Q(status=OrderStatus.SCHEDULED)),
                paid=models.Count("pk", filter=Q(status=OrderStatus.PAID)),
            )
        figures["total"] = figures["total"] or 0
        self._figure_cache = figures
        return figures

    @property
    def display_name(self) -> str:
        """The batch as people name it: its date, how many payments and how much."""
        figures = self._figures()
        return ngettext(
            "Batch %(date)s with %(count)s payment, %(total)s",
            "Batch %(date)s with %(count)s payments, %(total)s",
            figures["count"],
        ) % {
            "date": self.execution_date.isoformat(),
            "count": figures["count"],
            "total": format_money(figures["total"]),
        }

    @property
    def is_paid(self) -> bool:
        """Sent, and the bank's payments are all booked (none still waiting)."""
        figures = self._figures()
        return self.status == BatchStatus.SENT and figures["open"] == 0 and figures["paid"] > 0

    @property
    def awaits_payment(self) -> bool:
        """Sent with orders still waiting for the bank: "confirm paid" is still to do."""
        return self.status == BatchStatus.SENT and self._figures()["open"] > 0

    @property
    def status_label(self) -> str:
        """The status as the treasurer reads it: paid once the bank paid it all."""
        figures = self._figures()
        if self.status == BatchStatus.SENT and figures["open"] == 0:
            if figures["paid"] == 0:
                return gettext("Not paid: the bank rejected its payments")
            if figures["paid"] < figures["count"]:
                return gettext("Paid, except the payments the bank rejected")
            return gettext("Paid")
        if self.status == BatchStatus.APPROVED and self.exported_at is not None:
            return gettext("Approved, file downloaded")
        return str(self.get_status_display())


class BankExceptionKind(models.TextChoices):
    PAID_AFTER_FAILURE = (
        "paid_after_failure",
        _("The bank paid an order we had marked failed or void"),
    )
    RETURNED_AFTER_PAYMENT = (
        "returned_after_payment",
        _("The bank returned money for an order booked as paid"),
    )
    REJECTED_AFTER_CONFIRMATION = (
        "rejected_after_confirmation",
        _("The bank rejected an order a treasurer had confirmed as paid"),
    )


class BankExceptionResolution(models.TextChoices):
    RECOVERED = "recovered", _("The money came back to our account")
    ACCEPTED_AS_GRANT = "accepted_as_grant", _("Accepted: the payment stands as a grant")
    RETURNED_TO_FUND = "returned_to_fund", _("The grant is reversed: the money is the fund's again")


class BankException(models.Model):
    """Money the bank moved against our intentions: booked at once, resolved by a treasurer.

    The import books what the bank did to 1689 (bank differences under investigation), so the
    books follow the bank; resolving it moves the amount to where it belongs.
    """

    kind = models.CharField(_("kind"), max_length=30, choices=BankExceptionKind.choices)
    order = models.ForeignKey(
        PaymentOrder, on_delete=models.PROTECT, related_name="bank_exceptions"
    )
    amount = money_field(_("amount"))
    booking_date = models.DateField(_("booking date"))
    #: Where the bank said it first (file digest, entry, end-to-end id), for the treasurer.
    source = models.CharField(max_length=100, blank=True)
    voucher = models.OneToOneField(Voucher, on_delete=models.PROTECT, related_name="bank_exception")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=BankExceptionResolution.choices, blank=True
    )
    resolution_voucher = models.OneToOneField(
        Voucher,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bank_exception_resolved",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("bank exception")
        verbose_name_plural = _("bank exceptions")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_exception_positive"),
            # The bank pays (or returns) one end-to-end id once: a second file saying the same
            # (a status report and a notification, an intraday and a resent notification)
            # is the same money, never booked twice.
            models.UniqueConstraint(fields=["order", "kind"], name="bank_exception_once"),
            models.CheckConstraint(
                condition=Q(resolved_by__isnull=True) | ~Q(resolved_by=F("recorded_by")),
                name="bank_exception_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} PO-{self.order_id} {self.amount}"

    @property
    def is_open(self) -> bool:
        return not self.resolution


class ExportKind(models.TextChoices):
    SIE4 = "sie4", _("SIE 4")
    SIE4I = "sie4i", _("SIE 4I")
    LEDGER_CSV = "ledger_csv", _("Ledger (CSV)")
    LEDGER_XLSX = "ledger_xlsx", _("Ledger (XLSX)")
    LEDGER_JSONL = "ledger_jsonl", _("Ledger (JSON Lines)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportError(models.TextChoices):
    """Why an export job failed: the code stored on the job, and the message people see."""

    REFUSED = "refused", _("The export was refused: check the year and that the vouchers balance.")
    FORBIDDEN = "forbidden", _("Whoever started the export may no longer export.")
    NO_SPACE = (
        "no_space",
        _(
            "There was not enough disk space for the export file; nothing was saved. "
            "Ask an administrator to free space, then start the export again."
        ),
    )
    FAILED = "failed", _("The export failed. Try again or ask an administrator.")


class ExportJob(models.Model):
    """One accounting export run by a worker (see ``accounting.tasks.run_export``).

    ``error`` is a short code (:class:`ExportError`), never free text: messages may carry
    personal data.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def error_message(self) -> str:
        """Why the job failed, for people (empty unless it failed)."""
        if self.status != ExportStatus.FAILED:
            return ""
        known = self.error if self.error in ExportError.values else ExportError.FAILED
        return str(ExportError(known).label)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


class PayoutFileError(models.TextChoices):
    """Why a payout file job failed: the code; the job keeps the refusal's words besides."""

    REFUSED = "refused", _("The payout file was refused.")
    FORBIDDEN = "forbidden", _("Whoever asked for the payout file may no longer handle payouts.")
    FAILED = "failed", _("The payout file could not be written; try again or ask for help.")


class PayoutFileJob(models.Model):
    """A treasurer's request that a worker export an approved batch's pain.001 file
    (``accounting.generate_payout_file``), so an integrator can follow it to the end.

    At most one job per batch is queued or running at a time: asking again while one is
    open answers that job.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="file_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=40, blank=True)
    #: The refusal as the export service worded it, in the language of whoever asked.
    error_message = models.TextField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch"],
                condition=Q(status__in=["queued", "running"]),
                name="one_open_payout_file_job_per_batch",
            )
        ]

    def __str__(self) -> str:
        return f"payout file {self.id}"
