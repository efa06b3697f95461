"""The online petition (Appendix 1 and 2 accepted online, R31): what the participant fills in.

The form only parses. Whether the petition is granted, what the copy carries and when it is due
are decided by ``actions.register_petition`` with the rules of ``policy.py`` — the same call
the API makes.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.access.policy import Delivery, PetitionKind
from taspa.courts.models import Hearing


class HearingChoice(forms.ModelChoiceField):
    def label_from_instance(self, hearing: Hearing) -> str:
        when = timezone.localtime(hearing.scheduled_at).strftime("%d.%m.%Y %H:%M")
        parts = [f"{hearing.case.number}", when, hearing.case.court.name]
        recording = getattr(hearing, "recording", None)
        if recording is not None and recording.state == "sealed":
            parts.append(str(_("recorded")))
        if hearing.closed:
            parts.append(str(_("closed session")))
        return " · ".join(parts)


class PetitionForm(forms.Form):
    hearing = HearingChoice(queryset=Hearing.objects.none(), label=_("Hearing"), empty_label=None)
    kind = forms.ChoiceField(
        label=_("I ask for"),
        choices=[
            (PetitionKind.COPY.value, _("a copy of the recording")),
            (PetitionKind.REVIEW.value, _("to listen to / view the recording in court")),
        ],
        widget=forms.RadioSelect,
        initial=PetitionKind.COPY.value,
    )
    delivery = forms.ChoiceField(
        label=_("Delivery of the copy"),
        choices=[
            (Delivery.ONLINE.value, _("through the information service (download)")),
            (Delivery.MEDIUM.value, _("on a medium I bring to the court")),
        ],
        widget=forms.RadioSelect,
        initial=Delivery.ONLINE.value,
    )
    applicant_name = forms.CharField(label=_("Full name"), max_length=255)
    address = forms.CharField(label=_("Address"), max_length=500, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=64, required=False)
    # Appendix 1 and 2, word for word (R31): the undertakings («Обязуюсь: …») are rendered with
    # the form's text for the case kind (``undertakings_texts``); these three are what the
    # applicant ticks in place of signing them.
    undertakings_accepted = forms.BooleanField(required=False, label=_("I undertake so."))
    personal_data_warning_acknowledged = forms.BooleanField(
        required=False,
        label=_(
            "I have been warned of the administrative (article 79 of the Code of Administrative "
            "Offences) and criminal (article 147 of the Criminal Code) liability established by "
            "law for violating citizens' constitutional rights, and for violating the Law of the "
            'Republic of Kazakhstan "On personal data and their protection".'
        ),
    )
    medium_formatting_consent = forms.BooleanField(
        required=False,
        label=_(
            "I am informed and agree that the attached material (electronic) medium will be "
            "formatted and the information on it will be deleted."
        ),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == PetitionKind.COPY.value:
            if not data.get("undertakings_accepted"):
                self.add_error(
                    "undertakings_accepted", _("A copy is given only with these undertakings.")
                )
            if not data.get("personal_data_warning_acknowledged"):
                self.add_error(
                    "personal_data_warning_acknowledged",
                    _("A copy is given only to an applicant who has been warned."),
                )
            if data.get("delivery") == Delivery.MEDIUM.value and not data.get(
                "medium_formatting_consent"
            ):
                self.add_error(
                    "medium_formatting_consent",
                    _("The medium you bring is formatted before the copy is written on it."),
                )
        return data

    def __init__(self, *args, hearings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hearing"].queryset = hearings


# The undertakings of Appendix 1 (criminal cases: audio and video) and Appendix 2 (civil,
# administrative and administrative-offence cases: audio only), as the forms word them.
UNDERTAKINGS = {
    "appendix1": (
        _(
            "to use the audio and video recording of the court hearing provided only for the "
            "purposes of legal proceedings and for establishing factual data;"
        ),
        _(
            "not to allow the dissemination of personal data where this violates the rights and "
            "freedoms of the data subject or affects the lawful interests of other natural and "
            "(or) legal persons."
        ),
    ),
    "appendix2": (
        _(
            "to use the audio recording of the court hearing provided only for the purposes of "
            "legal proceedings and for establishing factual data;"
        ),
        _(
            "not to allow the dissemination of personal data where this violates the rights and "
            "freedoms of the data subject or affects the lawful interests of other natural and "
            "(or) legal persons."
        ),
    ),
}


def undertakings_texts(hearings) -> list[tuple[str, tuple]]:
    """The undertakings to show for the hearings a person may petition about: Appendix 1's for
    criminal cases, Appendix 2's for the others (both, each with its heading, when both occur)."""
    from taspa.courts.policy import CaseKind

    kinds = {h.case.kind for h in hearings}
    forms_needed = []
    if CaseKind.CRIMINAL.value in kinds:
        forms_needed.append("appendix1")
    if kinds - {CaseKind.CRIMINAL.value}:
        forms_needed.append("appendix2")
    return [(name, UNDERTAKINGS[name]) for name in forms_needed]


class MediumWriteForm(forms.Form):
    """R33: the applicant's medium as the court server sees it — the block device and the folder
    it is mounted at — and, once the action has named them, the typed confirmation (the device,
    its size and its label). Lengths as the API's ``MediumWrittenIn``; the action decides."""

    device = forms.CharField(label=_("Device"), max_length=255)
    mount = forms.CharField(label=_("Folder where the medium is mounted"), max_length=1000)
    confirmation = forms.CharField(
        label=_("Confirmation"), max_length=500, required=False, strip=False
    )
