"""Forms: input checking only; the services decide and explain refusals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from core.uploads import validate_upload_size
from fund.models import NeedCategory, ProtectedAccessReason
from fund.references import APPLICATION_REFERENCE
from fund.states import State
from workflows.models import (
    AttestationMethod,
    Authority,
    ClosingReason,
    FollowUpOutcome,
    GiveUpReason,
    LegalBasis,
    Obligation,
    ReasonCode,
)
from workflows.services import Verdict
from workflows.services.intake import county_code_problems, personal_number_problems


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("User name"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    otp_token = forms.CharField(
        label=_("One-time code"),
        required=False,
        max_length=8,
        help_text=_("Staff: the six digits from your authenticator app."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class WorklistFilterForm(forms.Form):
    OPEN = ""
    ALL = "all"
    SORTS = [
        ("waiting", _("Waiting longest first")),
        ("-waiting", _("Waiting shortest first")),
        ("reference", _("Reference")),
        ("-reference", _("Reference, newest first")),
        ("state", _("State")),
    ]

    fund = forms.TypedChoiceField(label=_("Fund"), required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[(OPEN, _("Open cases")), (ALL, _("All")), *State.choices],
    )
    officer = forms.ChoiceField(label=_("Assigned officer"), required=False)
    waiting = forms.IntegerField(
        label=_("Waiting at least (days)"), required=False, min_value=0, max_value=3650
    )
    ombud_revoked = forms.BooleanField(label=_("Only cases whose ombud is revoked"), required=False)
    mine = forms.BooleanField(label=_("Only my cases"), required=False)
    awaiting_signature = forms.BooleanField(
        label=_("Only decisions awaiting a second signature"), required=False
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_(
            "A reference or part of it (e.g. 0042), the person's name or personal identity "
            "number, or the ombud's name or organisation. A search for a person is logged."
        ),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    #: The parameters a saved filter keeps: the filters, never the search text (a name or a
    #: personnummer must not be stored in the clear), nor the page.
    SAVED = (
        "fund",
        "state",
        "officer",
        "waiting",
        "ombud_revoked",
        "mine",
        "awaiting_signature",
        "sort",
    )
    field_order = ["q"]

    def __init__(self, *args: Any, funds: Any = (), officers: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["fund"]).choices = [
            ("", _("All my funds")),
            *((f.pk, f.name) for f in funds),
        ]
        cast(forms.ChoiceField, self.fields["officer"]).choices = [
            ("", _("Anyone")),
            ("none", _("Nobody (unassigned)")),
            *((str(u.pk), u.get_full_name() or u.get_username()) for u in officers),
        ]


class SavedFilterForm(forms.Form):
    """Save the worklist's current filter under a name of the user's choosing."""

    name = forms.CharField(label=_("Name of the filter"), max_length=80)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


class AssessmentForm(forms.Form):
    """One item's statutory assessment; the outcome starts unchosen, so the officer decides."""

    outcome = forms.ChoiceField(
        label=_("Is an authority obliged to pay?"),
        choices=[("", _("— Choose —")), *Obligation.choices],
        error_messages={"required": _("Choose whether an authority is obliged to pay.")},
    )
    authority = forms.ChoiceField(
        label=_("Authority"), required=False, choices=[("", "—"), *Authority.choices]
    )
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"), required=False, choices=[("", "—"), *LegalBasis.choices]
    )
    evidence_reference = forms.CharField(
        label=_("Evidence reference"), required=False, max_length=120
    )
    grantable_amount = forms.CharField(
        label=_("Remainder that can be granted (kr)"),
        required=False,
        max_length=20,
        help_text=_("Only when an authority pays part: what the fund may grant."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class FollowUpForm(forms.Form):
    """How the paid support was used; the outcome starts unchosen, so the officer decides.

    A wrong or missing outcome is refused in the service's words."""

    outcome = forms.ChoiceField(
        label=_("How was the support used?"),
        choices=[("", _("— Choose —")), *FollowUpOutcome.choices],
        error_messages={
            "required": _("Choose how the support was used."),
            "invalid_choice": _("Choose how the support was used."),
        },
    )
    evidence_reference = forms.CharField(
        label=_("Evidence reference"),
        required=False,
        max_length=120,
        help_text=_(
            "Optional: where the evidence is, such as a receipt's number or a document's "
            "reference — not a description of the person or their situation."
        ),
    )


class AttestForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How was the need attested?"),
        choices=AttestationMethod.choices,
        initial=AttestationMethod.PORTAL,
    )
    need_confirmed = forms.BooleanField(
        label=_("I have seen the need described in the application and confirm it."),
        required=False,
    )


class GrantAccessForm(forms.Form):
    """A decision-maker gives someone in the fund access to the case's protected person."""

    grantee = forms.TypedChoiceField(label=_("Give access to"), coerce=int)
    reason = forms.ChoiceField(label=_("Why they need it"), choices=ProtectedAccessReason.choices)

    def __init__(self, *args: Any, people: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["grantee"]).choices = [
            (u.pk, u.get_full_name() or u.get_username()) for u in people
        ]


class RevokeAccessForm(forms.Form):
    grant = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ReassignOmbudForm(forms.Form):
    """An officer hands a case whose ombud was revoked to another verified ombud."""

    ombud = forms.TypedChoiceField(label=_("New ombud"), coerce=int)

    def __init__(self, *args: Any, ombuds: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ombud"]).choices = [(o.pk, str(o)) for o in ombuds]


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ClosingReason.choices)


class PayoutFailedForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why did the payout fail?"),
        choices=[
            ("account_closed", _("The account is closed")),
            ("wrong_account", _("Wrong account")),
            ("rejected_by_bank", _("Rejected by the bank")),
            ("other", _("Other")),
        ],
    )


class GiveUpPayoutForm(forms.Form):
    """Giving up a payout cannot be undone, so the officer confirms what it does."""

    reason = forms.ChoiceField(label=_("Why is the payout given up?"), choices=GiveUpReason.choices)
    confirmed = forms.BooleanField(
        label=_(
            "I confirm: the items not paid are released back to the fund and the case is "
            "closed; what was paid stays paid."
        ),
        error_messages={"required": _("Confirm that the payout is given up.")},
    )


class CompletionForm(forms.Form):
    message = forms.CharField(
        label=_("What does the ombud need to add?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionItemForm(forms.Form):
    """One need item's verdict; the services turn the verdicts into one decision."""

    verdict = forms.ChoiceField(
        label=_("Decision"),
        choices=[("", _("— Choose —")), *Verdict.choices],
        error_messages={"required": _("Choose approve, reduce or reject.")},
    )
    amount = forms.CharField(
        label=_("Amount to grant if reduced (kr)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", "—"), *ReasonCode.choices]
    )
    reason_text = forms.CharField(
        label=_("The reason written out (for “Other reason”)"),
        required=False,
        max_length=500,
    )


class PersonForm(forms.Form):
    name = forms.CharField(label=_("The person's name"), max_length=200)
    personal_number = forms.CharField(
        label=_("Personal identity number (optional)"), required=False, max_length=13
    )
    contact = forms.CharField(label=_("Contact (optional)"), required=False, max_length=200)
    region = forms.CharField(label=_("County code (e.g. AB)"), required=False, max_length=2)
    protected_identity = forms.BooleanField(label=_("Protected identity"), required=False)

    def clean_personal_number(self) -> str:
        """Checked as the service checks it, so the problem shows at the field."""
        value = str(self.cleaned_data.get("personal_number") or "")
        for problem in personal_number_problems(value):
            self.add_error("personal_number", problem)
        return value

    def clean_region(self) -> str:
        value = str(self.cleaned_data.get("region") or "")
        for problem in county_code_problems(value):
            self.add_error("region", problem)
        return value


NEED_ROWS = 3


class CategoryField(forms.ChoiceField):
    """The fund's categories to choose from; any value passes here, because the fund's rule
    (``workflows.fund_rules.category_problems``) refuses it in words at the field."""

    def valid_value(self, value: Any) -> bool:
        return True


class NeedForm(forms.Form):
    #: The existing item this row shows (empty for a new one).
    item = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    category = CategoryField(
        label=_("Category"), required=False, choices=[("", "—"), *NeedCategory.choices]
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    amount = forms.CharField(
        label=_("Amount (kr)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    remove = forms.BooleanField(label=_("Remove this item"), required=False)

    def __init__(self, *args: Any, categories: Iterable[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if categories is not None:
            allowed = set(categories)
            cast(forms.ChoiceField, self.fields["category"]).choices = [
                ("", "—"),
                *((value, label) for value, label in NeedCategory.choices if value in allowed),
            ]

    def is_entered(self) -> bool:
        """A row the ombud filled in and did not remove (an emptied row is no item)."""
        data = getattr(self, "cleaned_data", {})
        if data.get("remove"):
            return False
        return any(
            str(data.get(name) or "").strip() for name in ("category", "amount", "description")
        )


NeedFormSet = forms.formset_factory(NeedForm, extra=NEED_ROWS, max_num=10)
#: Editing: the items there are, and two empty rows to add one (ten at most).
NeedEditFormSet = forms.formset_factory(NeedForm, extra=2, max_num=10)


class CompletionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer to the komplettering"),
        required=False,
        max_length=2000,
        help_text=_("What you added or changed, in words. Only those who handle the case see it."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReferencesField(forms.MultipleChoiceField):
    """Application references (``A-2026-000123``) ticked in a list; nothing else."""

    default_error_messages = {
        "required": _("Choose one or more applications."),
        "invalid_choice": _("Choose applications from the list."),
    }

    def valid_value(self, value: Any) -> bool:
        return bool(APPLICATION_REFERENCE.fullmatch(str(value)))


class BulkActionForm(forms.Form):
    """The worklist's bulk actions: which action, on which cases, and for assign, to whom."""

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("assign", _("Assign")),
            ("request_attestation", _("Ask the ombud to attest")),
        ],
        error_messages={"required": _("Choose an action.")},
    )
    applications = ReferencesField(label=_("Applications"))
    officer = forms.TypedChoiceField(
        label=_("Officer"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose the officer from the list.")},
    )
    back = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, officers: Any = (), host: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.host = host
        cast(forms.ChoiceField, self.fields["officer"]).choices = [
            ("", "—"),
            *((str(u.pk), u.get_full_name() or u.get_username()) for u in officers),
        ]

    def clean_back(self) -> str:
        """Where to return: a page of this site only (never another host, nor a header)."""
        return self._safe_back(self.cleaned_data["back"])

    def cleaned_back(self) -> str:
        """Where to return, read even when the rest of the form is refused (keeps the filters)."""
        return self._safe_back(str(self.data.get("back", ""))[:2000])

    def _safe_back(self, back: str) -> str:
        # A path of this site: redirect() would take anything else for a view's name.
        if (
            back.startswith("/")
            and back.isprintable()
            and url_has_allowed_host_and_scheme(back, allowed_hosts={self.host})
        ):
            return back
        return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "assign" and not data.get("officer"):
            self.add_error("officer", _("Choose the officer to assign."))
        return data


class BatchForm(forms.Form):
    """The payment orders ticked for a new batch (none ticked: every waiting order)."""

    orders = forms.TypedMultipleChoiceField(
        label=_("Payment orders"),
        required=False,
        coerce=int,
        error_messages={
            "invalid_choice": _(
                "Choose payment orders from the list; one of them is not waiting for a batch."
            )
        },
    )

    def __init__(self, *args: Any, waiting: Iterable[int] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["orders"]).choices = [
            (str(pk), f"PO-{pk}") for pk in waiting
        ]


# --------------------------------------------------------------------------------------
# Co-financing (the treasurer's page): the services parse amounts and references and word
# the refusals; the forms only check that the dates are dates.
# --------------------------------------------------------------------------------------


def _date_field(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


class _ProjectForm(forms.Form):
    project = forms.CharField(max_length=20, widget=forms.HiddenInput)


class EsfAccrualForm(_ProjectForm):
    up_to = _date_field(_("Accrue income up to"))


class EsfReceiptForm(_ProjectForm):
    amount = forms.CharField(label=_("Amount received (SEK)"), max_length=20)
    date = _date_field(_("Date received"))
    reference = forms.CharField(label=_("Payment reference"), max_length=40)


class EsfClaimForm(_ProjectForm):
    period_to = _date_field(_("Claim covers costs up to"))
    amount = forms.CharField(label=_("Amount claimed (SEK)"), max_length=20)
    submitted_on = _date_field(_("Date submitted"))
    reference = forms.CharField(label=_("Claim reference"), max_length=40)


class CofinancingReportForm(forms.Form):
    """The project report for a period, as a file (a GET: nothing changes but the log)."""

    project = forms.ChoiceField(label=_("Project"))
    date_from = _date_field(_("From date"))
    date_to = _date_field(_("To date"))
    fmt = forms.ChoiceField(label=_("Format"), choices=[("xlsx", "Excel (xlsx)"), ("csv", "CSV")])
    draft = forms.BooleanField(label=_("Draft: write it even though a check fails"), required=False)

    def __init__(self, *args: Any, projects: Iterable[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [(c, c) for c in projects]


class BankFileForm(forms.Form):
    """The bank's answer to a payout file, as the bank sent it (pain.002 or camt.054)."""

    file = forms.FileField(
        label=_("Bank file (pain.002 or camt.054)"),
        help_text=_("The XML file as the bank sent it. A file with any problem books nothing."),
        validators=[validate_upload_size],
    )
