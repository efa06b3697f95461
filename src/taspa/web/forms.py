"""The web forms of the court's staff pages: they only parse, with the limits of
``taspa.limits`` (the same the API and the actions apply), so a wrong value is answered next to
its field in the user's language. What is then done is decided by the areas' actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa import limits
from taspa.courts.models import Case, Courtroom, User
from taspa.courts.policy import CIRCUMSTANCES, Instance

INSTANCE_LABELS = {
    Instance.FIRST: _("first instance"),
    Instance.APPEAL: _("appeal"),
    Instance.CASSATION: _("cassation"),
    Instance.SUPREME: _("Supreme Court"),
}

CIRCUMSTANCE_LABELS = {
    "writ_proceedings": _("writ proceedings"),
    "simplified_written_proceedings": _("simplified written proceedings"),
    "guilt_fully_admitted": _("the accused fully admits guilt"),
    "evidence_examination_requested": _("a party asked for the evidence to be examined"),
    "equipment_unavailable": _("no recording equipment in the court"),
    "all_participants_absent": _("none of the participants has come"),
    "no_new_evidence": _("no new evidence is examined"),
    "preparation_stage": _("preparation of the case for trial"),
    "minutes_requested": _("a participant asked for minutes to be kept"),
    "decision_on_merits_at_preparation": _("the case is decided on the merits at preparation"),
    "first_instance_rules": _("heard under the rules of the first instance"),
    "new_evidence_examined": _("new evidence is examined"),
    "persons_questioned": _("persons are questioned"),
    "additional_materials_examined": _("additional materials are examined"),
    "court_initiative": _("on the court's own initiative"),
    "person_motion": _("on a participant's motion"),
}


class LimitedText(forms.CharField):
    """Text with the shared limits: its length and no U+0000, said in the user's language."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        self.limit = max_length
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)
        # The browser may count differently; the server's check is the one that decides.
        self.widget.attrs["maxlength"] = str(max_length)
        # Django's own NUL validator speaks of "null characters"; ours says the same as the API.
        self.validators = [v for v in self.validators if "Null" not in type(v).__name__]

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        problem = limits.text_problem(text, self.limit)
        if problem:
            raise forms.ValidationError(problem, code="limit")
        return text


class MomentField(forms.DateTimeField):
    """A date and time within the court's calendar (years 2000–2100), local time."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is not None:
            problem = limits.moment_problem(moment)
            if problem:
                raise forms.ValidationError(problem, code="date_out_of_range")
        return moment


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return user.full_name or user.username


class HearingForm(forms.Form):
    """R3–R5: the facts a hearing's recording depends on, and who sits in it."""

    case = forms.ModelChoiceField(queryset=Case.objects.none(), label=_("Case"))
    courtroom = forms.ModelChoiceField(queryset=Courtroom.objects.none(), label=_("Courtroom"))
    instance = forms.ChoiceField(
        label=_("Instance"), choices=list(INSTANCE_LABELS.items()), initial=Instance.FIRST
    )
    scheduled_at = MomentField(label=_("Date and time"))
    judge = PersonChoice(queryset=User.objects.none(), label=_("Judge"))
    secretary = PersonChoice(queryset=User.objects.none(), label=_("Secretary"))
    closed = forms.BooleanField(label=_("Closed hearing"), required=False)
    participants = forms.CharField(
        label=_("Participants"),
        help_text=_("One per line: full name, a comma, the procedural role."),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    circumstances = forms.MultipleChoiceField(
        label=_("Circumstances"),
        choices=[(name, CIRCUMSTANCE_LABELS[name]) for name in CIRCUMSTANCES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, cases: Any, rooms: Any, judges: Any, secretaries: Any,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases
        self.fields["courtroom"].queryset = rooms
        self.fields["judge"].queryset = judges
        self.fields["secretary"].queryset = secretaries

    def clean_participants(self) -> list[dict[str, str]]:
        people = []
        lines = [line.strip() for line in self.cleaned_data["participants"].splitlines()]
        for line in filter(None, lines):
            name, _sep, role = line.rpartition(",") if "," in line else (line, "", "")
            name, role = name.strip(), role.strip()
            if not name or not role:
                raise forms.ValidationError(
                    _("“%(line)s”: give the name, a comma and the procedural role."),
                    params={"line": line[:80]},
                )
            for text, limit in ((name, limits.PERSON_NAME), (role, limits.PROCEDURAL_ROLE)):
                problem = limits.text_problem(text, limit)
                if problem:
                    raise forms.ValidationError(f"“{text[:80]}”: {problem}")
            people.append({"name": name, "role": role})
        if len(people) > limits.PARTICIPANTS:
            raise forms.ValidationError(
                _("At most %(limit)d participants."), params={"limit": limits.PARTICIPANTS}
            )
        return people

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        case, room = data.get("case"), data.get("courtroom")
        if case is not None and room is not None and room.court_id != case.court_id:
            self.add_error("courtroom", _("This courtroom belongs to another court."))
        judge, secretary = data.get("judge"), data.get("secretary")
        if judge is not None and judge == secretary:
            self.add_error("secretary", _("The judge cannot also be the secretary."))
        return data

    def action_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        moment = data["scheduled_at"]
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return {
            "courtroom": data["courtroom"],
            "instance": data["instance"],
            "closed": data["closed"],
            "judge": data["judge"],
            "secretary": data["secretary"],
            "scheduled_at": moment,
            "participants": data["participants"],
            "circumstances": {name: True for name in data["circumstances"]},
        }


class ForwardForm(forms.Form):
    note = LimitedText(
        label=_("Note to the regional staff"),
        max_length=limits.FORWARD_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class IncidentReasonForm(forms.Form):
    """The reason of an incident as it goes into the minutes and the act (R9, R17)."""

    detail = LimitedText(
        label=_("Reason"),
        max_length=limits.INCIDENT_DETAIL,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MountForm(forms.Form):
    mount = LimitedText(
        label=_("Where the medium is mounted on the court server"),
        max_length=limits.MOUNT_PATH,
        initial="/media/",
    )


class HandoverForm(forms.Form):
    to = PersonChoice(queryset=User.objects.none(), label=_("Archivist"))

    def __init__(self, *args: Any, archivists: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = archivists


class VisualCheckForm(forms.Form):
    intact = forms.TypedChoiceField(
        label=_("The medium is"),
        choices=[("yes", _("intact")), ("no", _("damaged"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    note = LimitedText(
        label=_("What is wrong with it"),
        max_length=limits.VISUAL_CHECK_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("intact") is False and not data.get("note"):
            self.add_error("note", _("Describe what is wrong with the medium."))
        return data


class JudgmentForm(forms.Form):
    """R24: the day the judgment took legal effect starts the retention period."""

    effective_on = MomentField(
        label=_("The judgment took legal effect on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )
