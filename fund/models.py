"""Case data: funds and their rules, ombud and organisations, beneficiaries, applications.

Models hold data and invariants only; what happens to a case is in ``workflows``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.se import orgnr

from audit.validators import validate_loggable_code
from core.crypto import decrypt_json, encrypt_json, new_wrapped_key
from fund.lifecycle import ApplicationWorkflow
from fund.money import money_field
from fund.name_index import name_index
from fund.references import ReferenceCounter

__all__ = [
    "Application",
    "Beneficiary",
    "Fund",
    "NeedCategory",
    "NeedItem",
    "Ombud",
    "Organisation",
    "PersonalDataReadReason",
    "ProtectedAccessReason",
    "ProtectedIdentityGrant",
    "ReferenceCounter",
]


class NeedCategory(models.TextChoices):
    CLOTHES = "clothes", _("Clothes")
    SHOES = "shoes", _("Shoes")
    CHILD_EQUIPMENT = "child_equipment", _("Child equipment (pram, cot …)")
    SCHOOL_MATERIAL = "school_material", _("School material")
    LEISURE = "leisure", _("Leisure activities")
    THERAPY = "therapy", _("Therapy")
    EDUCATION = "education", _("Education")
    COURSE = "course", _("Course")
    COMPUTER = "computer", _("Computer")
    WORK_EQUIPMENT = "work_equipment", _("Work equipment")
    CHILDCARE = "childcare", _("Childcare during studies")
    GLASSES = "glasses", _("Glasses")
    FOOD = "food", _("Food")
    HOUSING = "housing", _("Housing")
    MEDICINE = "medicine", _("Medicine")
    REHABILITATION = "rehabilitation", _("Rehabilitation")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial support")
    TRAVEL = "travel", _("Travel")


class FundKind(models.TextChoices):
    CHILDREN = "children", _("Fund for children (Barnfonden)")
    SELF_SUFFICIENCY = "self_sufficiency", _("Self-sufficiency programme")
    GENERAL = "general", _("General support")


#: Judges an account number for a fund's restricted funds: why it cannot hold them, or None.
#: The ledger's app sets it at start-up (``accounting.apps``): the chart of accounts lives
#: there, and funds sit below the ledger.
RestrictedAccountCheck = Callable[[str], "str | None"]
_restricted_account_check: RestrictedAccountCheck | None = None


def register_restricted_account_check(check: RestrictedAccountCheck) -> None:
    global _restricted_account_check
    _restricted_account_check = check


def restricted_funds_account_problem(number: str) -> str | None:
    """Why ``number`` cannot hold a fund's restricted funds (None: it can); without a chart of
    accounts to judge it by, no account can."""
    if _restricted_account_check is None:
        return str(_("No chart of accounts is installed to hold restricted funds."))
    return _restricted_account_check(number)


class Fund(models.Model):
    """A fund or programme; its rules are data, so variants need no copy of the machine."""

    code = models.SlugField(
        _("code"), max_length=32, unique=True, validators=[validate_loggable_code]
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=FundKind.choices)
    active = models.BooleanField(_("open for applications"), default=True)
    allowed_categories = models.JSONField(_("allowed need categories"), default=list)
    max_per_item = money_field(_("max per need item"), null=True, blank=True)
    max_per_application = money_field(_("max per application"), null=True, blank=True)
    max_per_person_year = money_field(_("max per person and year"), null=True, blank=True)
    geographic_scope = models.JSONField(
        _("geographic scope (county codes, empty = all of Sweden)"), default=list, blank=True
    )
    two_signature_threshold = money_field(_("two decision-makers above"), null=True, blank=True)
    accounting_dimension = models.CharField(_("accounting object (fund dimension)"), max_length=20)
    restricted_funds_account = models.CharField(
        _("restricted funds account"), max_length=4, default="2070"
    )
    instalments_allowed = models.BooleanField(_("instalments allowed"), default=False)
    follow_up_required = models.BooleanField(_("follow-up required before closing"), default=False)
    retention_years = models.PositiveSmallIntegerField(
        _("years personal data is kept after the last accounting year"),
        default=7,
        help_text=_("Swedish accounting law: to the end of the 7th year after the financial year."),
    )
    awaiting_ombud_reminder_days = models.PositiveSmallIntegerField(default=14)
    completion_reminder_days = models.PositiveSmallIntegerField(default=30)
    unpaid_reminder_days = models.PositiveSmallIntegerField(default=10)
    handlers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="funds_handled",
        verbose_name=_("officers and decision-makers working in this fund"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("fund")
        verbose_name_plural = _("funds")

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        """The restricted-funds account is checked as a field, so a form that shows it
        read-only (fixed once used) does not re-judge it."""
        errors: dict[str, list[str]] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.message_dict
        if "restricted_funds_account" not in (exclude or ()) and (
            "restricted_funds_account" not in errors
        ):
            problem = restricted_funds_account_problem(self.restricted_funds_account)
            if problem:
                errors["restricted_funds_account"] = [problem]
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        unknown = set(self.allowed_categories) - set(NeedCategory.values)
        if unknown:
            raise ValidationError(
                {"allowed_categories": _("Unknown categories: %s") % ", ".join(sorted(unknown))}
            )


class OrganisationKind(models.TextChoices):
    SOCIAL_SERVICES = "social_services", _("Municipal social services")
    SHELTER = "shelter", _("Shelter")
    NGO = "ngo", _("Non-governmental organisation")
    POLICE = "police", _("Police")
    MIGRATION_AGENCY = "migration_agency", _("Migrationsverket")
    OTHER = "other", _("Other")


def validate_orgnr(value: str) -> None:
    if not orgnr.is_valid(value):
        raise ValidationError(
            _("“%(value)s” is not a valid organisation number."), params={"value": value}
        )


class Organisation(models.Model):
    """Where an ombud works. Verified out of band before its ombud can attest."""

    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(
        _("organisation number"), max_length=11, unique=True, validators=[validate_orgnr]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verification_method = models.CharField(_("how it was verified"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class OmbudStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REVOKED = "revoked", _("Revoked")


class Ombud(models.Model):
    """A caseworker or representative who applies for and attests a person's need."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ombud"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="ombud")
    title = models.CharField(_("title"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OmbudStatus.choices, default=OmbudStatus.PENDING
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verification_method = models.CharField(_("how it was verified"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ombud")
        verbose_name_plural = _("ombud")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()} ({self.organisation})"

    @property
    def may_attest(self) -> bool:
        return self.status == OmbudStatus.VERIFIED and self.organisation.is_verified


class Beneficiary(models.Model):
    """The person the support is for (stödmottagare), known everywhere by ``reference`` only.

    Name, personnummer, contact and the protected-identity flag are one token encrypted with
    the person's own data key (``wrapped_key``, itself encrypted by the master keys).
    ``personnummer_index`` is a keyed hash to find duplicates without the value;
    ``name_index`` the keyed hashes of the name's words (``fund.name_index``), so staff find a
    person by name. Both follow the name and number wherever they are set
    (:meth:`set_personal_data`). Erasure blanks the key, the token, both indexes and the
    region: nothing personal can be recovered,
    while the reference keeps cases, ledger and audit chain intact.
    """

    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    wrapped_key = models.TextField(editable=False, blank=True)
    encrypted_personal_data = models.TextField(editable=False, blank=True)
    personnummer_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    name_index = models.TextField(blank=True, editable=False)
    region = models.CharField(
        _("county code"),
        max_length=2,
        blank=True,
        help_text=_("For funds with a geographic scope."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")

    def __str__(self) -> str:
        return self.reference

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def personal_data(self) -> dict[str, Any]:
        """Decrypted values. Pages and APIs read them through ``fund.privacy`` (logged)."""
        cached = getattr(self, "_personal_cache", None)
        if cached is None:
            cached = (
                decrypt_json(self.wrapped_key, self.encrypted_personal_data)
                if self.encrypted_personal_data
                else {}
            )
            self._personal_cache = cached
        return cached

    def set_personal_data(self, data: dict[str, Any]) -> None:
        if not self.wrapped_key:
            self.wrapped_key = new_wrapped_key()
        self.encrypted_personal_data = encrypt_json(self.wrapped_key, data)
        self.name_index = name_index(str(data.get("name", "") or ""))
        self._personal_cache = dict(data)

    @property
    def protected_identity(self) -> bool:
        return bool(self.personal_data.get("protected_identity", False))


class Application(ApplicationWorkflow):
    """An application to a fund for one beneficiary, made by an ombud."""

    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="applications")
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="applications"
    )
    ombud = models.ForeignKey(Ombud, on_delete=models.PROTECT, related_name="applications")
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_applications",
        verbose_name=_("assigned officer"),
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prepared_applications",
        verbose_name=_("prepared by"),
        help_text=_("The officer who prepared the case; they may not decide it."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [
            models.Index(fields=["fund", "state"]),
            # The worklist's default order: longest waiting first (web.selectors.worklist).
            models.Index(
                Coalesce("state_changed_at", "created_at"), "id", name="application_waiting_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class NeedItem(models.Model):
    """One need (behovspost): category, description, amount requested and granted."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REDUCED = "reduced", _("Approved with a reduced amount")
        REJECTED = "rejected", _("Rejected")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=1)
    category = models.CharField(_("category"), max_length=20, choices=NeedCategory.choices)
    #: Free text about a person's need is personal data: encrypted with that person's key,
    #: so erasing the person erases it too. Read and write it through ``description``.
    encrypted_description = models.TextField(blank=True, editable=False)
    requested_amount = money_field(_("requested amount"))
    approved_amount = money_field(_("approved amount"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["application", "position"]
        verbose_name = _("need item")
        verbose_name_plural = _("need items")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(requested_amount__gt=0), name="need_item_requested_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(approved_amount__isnull=True) | models.Q(approved_amount__gte=0),
                name="need_item_approved_not_negative",
            ),
            models.UniqueConstraint(
                fields=["application", "position"], name="need_item_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference}/{self.position}"

    @property
    def description(self) -> str:
        if not self.encrypted_description:
            return ""
        person = self.application.beneficiary
        if person.is_erased:
            return ""
        return str(decrypt_json(person.wrapped_key, self.encrypted_description).get("text", ""))

    @description.setter
    def description(self, text: str) -> None:
        text = (text or "").strip()
        if len(text) > 500:
            raise ValidationError(_("A need description is at most 500 characters."))
        person = self.application.beneficiary
        if not person.wrapped_key:
            person.set_personal_data(person.personal_data)
            person.save(update_fields=["wrapped_key", "encrypted_personal_data"])
        self.encrypted_description = (
            encrypt_json(person.wrapped_key, {"text": text}) if text else ""
        )


class ProtectedAccessReason(models.TextChoices):
    """Why someone needs to see a person with protected identity (codes, never free text)."""

    CASE_HANDLING = "case_handling", _("Handles the case and needs to contact the person")
    STATUTORY_CHECK = "statutory_check", _("The statutory obligation check needs the identity")
    DECISION = "decision", _("The decision needs the identity (e.g. the limit per person)")
    PAYMENT = "payment", _("Arranging the payment through a supplier or the ombud")
    COVER = "cover", _("Covers for the case's handler while they are away")


class ProtectedIdentityGrant(models.Model):
    """One person's access to a protected identity in one case, given by a decision-maker.

    It lives here, beside the person and the case, because :mod:`fund.privacy` decides every
    read of personal data and must not depend on the workflow layer's models. A grant is never
    edited or deleted: revoking it stamps ``revoked_at``/``revoked_by``, so the history stays.
    """

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="protected_access_grants"
    )
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="protected_access_grants",
        verbose_name=_("given to"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("given by"),
    )
    reason = models.CharField(_("reason"), max_length=32, choices=ProtectedAccessReason.choices)
    granted_at = models.DateTimeField(_("given at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("access to a protected identity")
        verbose_name_plural = _("accesses to protected identities")
        constraints = [
            # Nobody grants themselves access (issue #13, defect 7), whatever the caller.
            models.CheckConstraint(
                condition=~models.Q(grantee=models.F("granted_by")),
                name="protected_grant_not_to_oneself",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | models.Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="protected_grant_revoked_with_whom",
            ),
            models.UniqueConstraint(
                fields=["application", "grantee"],
                condition=models.Q(revoked_at__isnull=True),
                name="protected_grant_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference}: {self.grantee_id}"


class PersonalDataReadReason(models.Model):
    """Why someone read a person's data (an auditor's stated reason), beside the log entry.

    The reason is free text that may name the person, so it never goes into the hash-chained
    log: it is kept here under the person's key, linked to the read's audit event, and becomes
    unreadable when the person is erased. Written once, never changed.
    """

    event = models.OneToOneField(
        "audit.AuditEvent", on_delete=models.PROTECT, related_name="read_reason"
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="read_reasons"
    )
    encrypted_reason = models.TextField(editable=False)

    class Meta:
        verbose_name = _("stated reason for reading personal data")
        verbose_name_plural = _("stated reasons for reading personal data")

    def __str__(self) -> str:
        return f"{self.beneficiary.reference} read #{self.event_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from core.exceptions import ValidationFailed

        if not self._state.adding:
            raise ValidationFailed(_("A stated reason is kept as it was given; it is not changed."))
        super().save(*args, **kwargs)

    @property
    def reason(self) -> str:
        """The stated reason (empty once the person is erased)."""
        person = self.beneficiary
        if not self.encrypted_reason or person.is_erased:
            return ""
        return str(decrypt_json(person.wrapped_key, self.encrypted_reason).get("text", ""))


class KeyCanaryKind(models.TextChoices):
    FIELD_ENCRYPTION = "field_encryption", _("field-encryption master keys")
    BLIND_INDEX = "blind_index", _("blind-index key")
    AUDIT_SIGNING = "audit_signing", _("audit signing key")


class KeyCanary(models.Model):
    """Data made with each configured key, so a server never starts with the wrong one.

    A database restored without its keys would otherwise start, make new keys and mix two
    keys' data. None of these values is secret or personal: a known constant wrapped by the
    master keys (``wrapped_marker``, listed in ``fund.token_fields.MASTER_WRAPPED`` so
    rotation re-wraps it), the blind-index HMAC of a known marker, the audit public key's
    fingerprint (``digest``). Written once per kind at start-up (``operations.key_canary``).
    """

    kind = models.CharField(_("key"), max_length=20, choices=KeyCanaryKind.choices, unique=True)
    wrapped_marker = models.TextField(_("marker wrapped by the master keys"), blank=True)
    digest = models.CharField(_("digest made with the key"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("key canary")
        verbose_name_plural = _("key canaries")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.kind
