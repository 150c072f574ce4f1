"""What was done to a case: attestations, statutory assessments, decisions and their signatures,
komplettering requests and follow-ups. Written only by ``workflows.services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.crypto import decrypt_json, encrypt_json
from fund.models import Application, Beneficiary, NeedCategory, NeedItem, Ombud
from fund.money import money_field


def read_person_text(person: Beneficiary, token: str) -> str:
    """A free text kept under the person's key; empty once the person is erased."""
    if not token or person.is_erased:
        return ""
    return str(decrypt_json(person.wrapped_key, token).get("text", ""))


def person_text_token(person: Beneficiary, text: str) -> str:
    """Free text about a person's case as a token under their key (empty text, no token)."""
    text = (text or "").strip()
    if not text:
        return ""
    if not person.wrapped_key:
        person.set_personal_data(person.personal_data)
        person.save(update_fields=["wrapped_key", "encrypted_personal_data"])
    return encrypt_json(person.wrapped_key, {"text": text})


class AttestationMethod(models.TextChoices):
    PORTAL = "portal", _("Signed in the ombud portal")
    SIGNED_FORM = "signed_form", _("Signed paper form, verified by phone")
    VERIFIED_CALL = "verified_call", _("Phone call to a verified switchboard number")


class Attestation(models.Model):
    """An ombud's confirmation of the application's need: who, when, how."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="attestations"
    )
    ombud = models.ForeignKey(Ombud, on_delete=models.PROTECT, related_name="attestations")
    method = models.CharField(_("method"), max_length=20, choices=AttestationMethod.choices)
    attested_at = models.DateTimeField(_("attested at"))

    class Meta:
        ordering = ["-attested_at"]
        verbose_name = _("attestation")
        verbose_name_plural = _("attestations")

    def __str__(self) -> str:
        return f"{self.application.reference} attested {self.attested_at:%Y-%m-%d}"


class Obligation(models.TextChoices):
    OBLIGED = "obliged", _("Society is obliged: refer")
    NOT_OBLIGED = "not_obliged", _("Not obliged")
    PARTLY = "partly", _("Partly obliged: only the remainder can be granted")


class Authority(models.TextChoices):
    SOCIAL_SERVICES = "social_services", _("Municipal social services")
    MIGRATION_AGENCY = "migration_agency", _("Migrationsverket")
    MMM = "mmm", _("MMM support for victims who report to the police")
    REGION_HEALTHCARE = "region_healthcare", _("Regional health care")
    SOCIAL_INSURANCE = "social_insurance", _("Försäkringskassan")
    OTHER = "other", _("Other authority")


class LegalBasis(models.TextChoices):
    """The statute and paragraph an authority's obligation rests on.

    A code from a closed list, never free text: the assessment is audited, and a name typed
    into the audit log would stay there for good.
    """

    SOL_2_1 = "sol_2_1", _("SoL (2001:453) 2 kap. 1 §: the municipality's ultimate responsibility")
    SOL_4_1 = "sol_4_1", _("SoL (2001:453) 4 kap. 1 §: financial assistance")
    SOL_5_11 = "sol_5_11", _("SoL (2001:453) 5 kap. 11 §: support to victims of crime")
    LMA_17 = "lma_17", _("LMA (1994:137) 17 §: daily allowance for asylum seekers")
    LMA_18 = "lma_18", _("LMA (1994:137) 18 §: special allowance for asylum seekers")
    LSS_9 = "lss_9", _("LSS (1993:387) 9 §: support for people with certain disabilities")
    HSL_8_1 = "hsl_8_1", _("HSL (2017:30) 8 kap. 1 §: the region's health care")
    MMM = "mmm", _("MMM: support for victims of trafficking (programme, no statute)")
    OTHER = "other", _("Other legal basis")


class StatutoryAssessment(models.Model):
    """For one need item: is an authority obliged to pay instead of the foundation?"""

    need_item = models.OneToOneField(
        NeedItem, on_delete=models.CASCADE, related_name="statutory_assessment"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Obligation.choices)
    authority = models.CharField(
        _("authority"), max_length=20, choices=Authority.choices, blank=True
    )
    legal_basis = models.CharField(
        _("legal basis"), max_length=20, choices=LegalBasis.choices, blank=True
    )
    #: E.g. the reference of a refusal from social services: it may name the person, so it is
    #: kept under the person's key (``evidence_reference``) and goes with them at erasure.
    encrypted_evidence_reference = models.TextField(blank=True, editable=False)
    grantable_amount = money_field(_("amount the foundation may grant"))
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("statutory assessment")
        verbose_name_plural = _("statutory assessments")

    def __str__(self) -> str:
        return f"{self.need_item}: {self.outcome}"

    @property
    def evidence_reference(self) -> str:
        """The evidence's reference (empty once the person is erased)."""
        return read_person_text(
            self.need_item.application.beneficiary, self.encrypted_evidence_reference
        )

    @evidence_reference.setter
    def evidence_reference(self, text: str) -> None:
        self.encrypted_evidence_reference = person_text_token(
            self.need_item.application.beneficiary, text
        )


class DecisionOutcome(models.TextChoices):
    APPROVE = "approve", _("Approve")
    APPROVE_PARTLY = "approve_partly", _("Approve partly")
    REJECT = "reject", _("Reject")


class DecisionStatus(models.TextChoices):
    AWAITING_SIGNATURE = "awaiting_signature", _("Awaiting a second decision-maker")
    EFFECTIVE = "effective", _("In force")
    SUPERSEDED = "superseded", _("Superseded by reconsideration")


class ReasonCode(models.TextChoices):
    WITHIN_RULES = "within_rules", _("Within the fund's rules")
    REDUCED_TO_LIMIT = "reduced_to_limit", _("Reduced to the fund's limit")
    REDUCED_TO_REMAINDER = "reduced_to_remainder", _("Reduced to what society does not cover")
    SOCIETY_OBLIGED = "society_obliged", _("An authority is obliged to pay")
    OUTSIDE_PURPOSE = "outside_purpose", _("Outside the fund's purpose")
    INSUFFICIENT_BUDGET = "insufficient_budget", _("The fund's budget is not sufficient")
    NEED_NOT_SHOWN = "need_not_shown", _("The need is not shown")
    OTHER = "other", _("Other reason (written out)")


class Decision(models.Model):
    """A decision on an application; above the fund's threshold it needs two signatures."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("outcome"), max_length=16, choices=DecisionOutcome.choices)
    status = models.CharField(_("status"), max_length=20, choices=DecisionStatus.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=ReasonCode.choices)
    total_approved = money_field(_("total approved"))
    required_signatures = models.PositiveSmallIntegerField(default=1)
    reconsiders = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reconsidered_by"
    )
    created_at = models.DateTimeField()
    effective_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.application.reference}: {self.outcome} ({self.status})"

    def signer_ids(self) -> set[int]:
        return set(self.signatures.values_list("signer_id", flat=True))


class DecisionItem(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="items")
    need_item = models.ForeignKey(NeedItem, on_delete=models.PROTECT, related_name="decision_items")
    outcome = models.CharField(max_length=10, choices=NeedItem.Outcome.choices)
    amount = money_field(_("approved amount"))
    reason = models.CharField(max_length=20, choices=ReasonCode.choices)
    #: The reason written out ("Other reason"): it is about the person's case, so it is kept
    #: under the person's key (``reason_text``) and goes with them at erasure.
    encrypted_reason_text = models.TextField(blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "need_item"], name="decision_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.need_item}: {self.outcome} {self.amount}"

    @property
    def reason_text(self) -> str:
        """The reason as the decision-maker wrote it (empty once the person is erased)."""
        return read_person_text(self.need_item.application.beneficiary, self.encrypted_reason_text)

    @reason_text.setter
    def reason_text(self, text: str) -> None:
        self.encrypted_reason_text = person_text_token(self.need_item.application.beneficiary, text)


class DecisionSignature(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "signer"], name="one_signature_per_signer")
        ]

    def __str__(self) -> str:
        return f"{self.decision_id} signed by {self.signer_id}"


class CompletionRequest(models.Model):
    """Komplettering: what the ombud is asked to add; the case waits for it."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="completion_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    from_state = models.CharField(max_length=32)
    #: Free text about the case may name the person: kept under the person's key.
    encrypted_message = models.TextField(blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: The ombud's answer in words: free text about the case, under the person's key.
    encrypted_answer = models.TextField(blank=True, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.application.reference} komplettering {self.requested_at:%Y-%m-%d}"

    @property
    def message(self) -> str:
        """What the ombud is asked to add (empty once the person is erased)."""
        person = self.application.beneficiary
        if not self.encrypted_message or person.is_erased:
            return ""
        return str(decrypt_json(person.wrapped_key, self.encrypted_message).get("text", ""))

    @message.setter
    def message(self, text: str) -> None:
        person = self.application.beneficiary
        self.encrypted_message = encrypt_json(person.wrapped_key, {"text": (text or "").strip()})

    @property
    def answer(self) -> str:
        """The ombud's answer in words (empty once the person is erased)."""
        return read_person_text(self.application.beneficiary, self.encrypted_answer)

    @answer.setter
    def answer(self, text: str) -> None:
        self.encrypted_answer = person_text_token(self.application.beneficiary, text)


class ItemChangeKind(models.TextChoices):
    ADDED = "added", _("Added")
    CHANGED = "changed", _("Changed")
    REMOVED = "removed", _("Removed")


class CompletionItemChange(models.Model):
    """What the ombud changed in one need item while answering a komplettering, so the officer
    sees before and after. Codes and amounts only: a description is the person's data, so only
    the fact that it changed is kept here."""

    request = models.ForeignKey(
        CompletionRequest, on_delete=models.CASCADE, related_name="item_changes"
    )
    #: The item as it is now; empty once it was removed.
    need_item = models.ForeignKey(
        NeedItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=ItemChangeKind.choices)
    category_before = models.CharField(max_length=20, choices=NeedCategory.choices, blank=True)
    category_after = models.CharField(max_length=20, choices=NeedCategory.choices, blank=True)
    amount_before = money_field(_("amount before"), null=True, blank=True)
    amount_after = money_field(_("amount after"), null=True, blank=True)
    description_changed = models.BooleanField(default=False)

    class Meta:
        ordering = ["request", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id} item {self.position} {self.kind}"


class FollowUpOutcome(models.TextChoices):
    USED_AS_INTENDED = "used_as_intended", _("Support used as intended")
    PARTLY_USED = "partly_used", _("Support partly used")
    NOT_USED = "not_used", _("Support not used")


class FollowUp(models.Model):
    """Follow-up that the support was used, required before closing in some funds."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="follow_ups"
    )
    outcome = models.CharField(max_length=20, choices=FollowUpOutcome.choices)
    #: Free text about the case (a receipt's reference, …): under the person's key.
    encrypted_evidence_reference = models.TextField(blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.application.reference} follow-up {self.outcome}"

    @property
    def evidence_reference(self) -> str:
        """The evidence's reference (empty once the person is erased)."""
        return read_person_text(self.application.beneficiary, self.encrypted_evidence_reference)

    @evidence_reference.setter
    def evidence_reference(self, text: str) -> None:
        self.encrypted_evidence_reference = person_text_token(self.application.beneficiary, text)


class ClosingReason(models.TextChoices):
    """Why a case was withdrawn or its attestation declined (codes, never free text)."""

    NEED_MET_ELSEWHERE = "need_met_elsewhere", _("The need was met elsewhere")
    APPLICANT_REQUEST = "applicant_request", _("At the applicant's request")
    NO_CONTACT = "no_contact", _("No contact with the applicant")
    NEED_NOT_CONFIRMED = "need_not_confirmed", _("The ombud could not confirm the need")
    DUPLICATE = "duplicate", _("Duplicate application")
    OTHER = "other", _("Other")


class GiveUpReason(models.TextChoices):
    """Why a decided payout is given up (codes, never free text: the reason is audited)."""

    PAYEE_UNREACHABLE = "payee_unreachable", _("The payee cannot be reached or paid")
    NEED_MET_ELSEWHERE = "need_met_elsewhere", _("The need was met elsewhere")
    SUPPORT_DECLINED = "support_declined", _("The person declined the support")
    OTHER = "other", _("Other")
