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
    personal_data_warning_acknowledged = forms.BooleanField(
        required=False,
        label=_(
            "I have been warned of liability for the unlawful use of personal data (Code of "
            "Administrative Offences art. 79, Criminal Code art. 147) and will use the copy only "
            "for the purposes the law allows."
        ),
    )
    medium_formatting_consent = forms.BooleanField(
        required=False,
        label=_("I am informed and agree that the medium I supply will be formatted."),
    )

    def __init__(self, *args, hearings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hearing"].queryset = hearings
