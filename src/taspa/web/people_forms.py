"""The forms of the administrators' pages (issue 16): courts, courtrooms with their capture
sources, people and their roles, signing keys. They only parse, with the API's limits
(``taspa.limits``: lengths, no U+0000), so a wrong value is answered next to its field in the
user's language; what is then done is decided by ``courts.actions`` / ``sealing.actions``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from taspa import limits
from taspa.courts.models import Court
from taspa.courts.policy import SOURCE_FORMATS, CourtLevel, Role
from taspa.web.forms import LimitedText

ROLE_LABELS = {
    Role.SECRETARY: _("Secretary of the court session"),
    Role.JUDGE: _("Judge"),
    Role.COURT_ADMIN: _("Court administrator"),
    Role.ARCHIVIST: _("Archivist"),
    Role.REGIONAL_STAFF: _("Staff of the regional judicial administration"),
    Role.REGIONAL_HEAD: _("Head of the regional judicial administration"),
    Role.PARTICIPANT: _("Participant of a case"),
    Role.REPRESENTATIVE: _("Representative of a participant"),
    Role.SYSTEM_ADMIN: _("System administrator"),
}

LEVEL_LABELS = {
    CourtLevel.DISTRICT: _("district court"),
    CourtLevel.REGIONAL: _("regional court"),
    CourtLevel.CASSATION: _("cassation court"),
    CourtLevel.SUPREME: _("Supreme Court"),
}

SOURCE_KIND_LABELS = {"audio": _("sound"), "video": _("picture")}

# How the recorder reads the source (ffmpeg's input format), said as a reader knows it.
SOURCE_FORMAT_LABELS = {
    "alsa": _("sound card of the server"),
    "pulse": _("sound server of the computer"),
    "rtsp": _("network camera or encoder"),
    "lavfi": _("test signal"),
    "file": _("file"),
    "v4l2": _("camera connected to the server"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def level_label(level: str) -> str:
    return str(LEVEL_LABELS.get(level, level))


class CourtChoice(forms.ModelChoiceField):
    def label_from_instance(self, court: Court) -> str:
        return f"{court.code} — {court.name}"


class CourtForm(forms.Form):
    code = LimitedText(
        label=_("Code"),
        max_length=limits.COURT_CODE,
        help_text=_("Small Latin letters, digits, “-” and “_”; it cannot be changed later."),
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9_-]+$",
                _("Use small Latin letters, digits, “-” and “_” (at least two characters)."),
            )
        ],
    )
    name = LimitedText(label=_("Name"), max_length=limits.COURT_NAME)
    level = forms.ChoiceField(label=_("Level"), choices=list(LEVEL_LABELS.items()))
    region = LimitedText(label=_("Region"), max_length=limits.REGION)


class CourtEditForm(forms.Form):
    name = LimitedText(label=_("Name"), max_length=limits.COURT_NAME)
    region = LimitedText(label=_("Region"), max_length=limits.REGION)


class SourceForm(forms.Form):
    """One capture source: an ffmpeg input of sound or picture (R20: administrators only)."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("audio", _("sound")), ("video", _("picture"))]
    )
    format = forms.ChoiceField(
        label=_("How it is read"),
        choices=[("", _("recognised automatically"))]
        + [(f, SOURCE_FORMAT_LABELS[f]) for f in SOURCE_FORMATS],
        required=False,
    )
    input = LimitedText(label=_("Input"), max_length=limits.SOURCE_INPUT, required=False)
    label = LimitedText(
        label=_("Label on the console"), max_length=limits.SOURCE_LABEL, required=False
    )

    def source(self) -> dict[str, str] | None:
        data = self.cleaned_data
        if not data.get("input"):
            return None
        found = {"kind": data["kind"], "input": data["input"]}
        if data.get("format"):
            found["format"] = data["format"]
        if data.get("label"):
            found["label"] = data["label"]
        return found


class BaseSources(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            if form.cleaned_data.get("label") and not form.cleaned_data.get("input"):
                form.add_error("input", _("Give the input of this source, or clear its label."))

    def sources(self) -> list[dict[str, str]]:
        return [s for s in (f.source() for f in self.forms) if s is not None]


SourceFormSet = forms.formset_factory(
    SourceForm,
    formset=BaseSources,
    extra=2,
    max_num=limits.SOURCES,
    validate_max=True,
    absolute_max=limits.SOURCES,
)


def source_formset(data: Any = None, sources: list[dict[str, Any]] | None = None) -> BaseSources:
    initial = [
        {
            "kind": s.get("kind", "audio"),
            "format": s.get("format", ""),
            "input": s.get("input", ""),
            "label": s.get("label", ""),
        }
        for s in (sources or [])
    ]
    return SourceFormSet(data, initial=initial, prefix="src")


class CourtroomForm(forms.Form):
    court = CourtChoice(queryset=Court.objects.none(), label=_("Court"))
    name = LimitedText(label=_("Name of the room"), max_length=limits.COURTROOM_NAME)

    def __init__(self, *args: Any, courts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = courts


class CourtroomEditForm(forms.Form):
    name = LimitedText(label=_("Name of the room"), max_length=limits.COURTROOM_NAME)


class RoleForm(forms.Form):
    """One role of a person in one court (the system administrator's role has no court)."""

    role = forms.ChoiceField(label=_("Role"))
    court = CourtChoice(queryset=Court.objects.none(), label=_("Court"), required=False)

    def __init__(self, *args: Any, courts: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = courts
        self.fields["role"].choices = [(r, role_label(r)) for r in roles]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        role, court = data.get("role"), data.get("court")
        if role and role != Role.SYSTEM_ADMIN and court is None:
            self.add_error("court", _("Choose the court where the person holds this role."))
        if role == Role.SYSTEM_ADMIN and court is not None:
            self.add_error("court", _("The system administrator's role is not tied to a court."))
        return data


class PasswordField(LimitedText):
    """A new password: the shared text limits (``limits.PASSWORD``, no U+0000), kept as typed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.PasswordInput(attrs={"autocomplete": "new-password"}))
        super().__init__(max_length=limits.PASSWORD, **kwargs)


class PersonForm(RoleForm):
    username = LimitedText(
        label=_("User name (for signing in)"),
        max_length=limits.USERNAME,
    )
    full_name = LimitedText(label=_("Full name"), max_length=limits.FULL_NAME)
    email = LimitedText(
        label=_("E-mail"),
        max_length=limits.EMAIL,
        required=False,
    )
    password = PasswordField(label=_("Password"))

    field_order = ["username", "full_name", "email", "password", "role", "court"]


class PasswordForm(forms.Form):
    password = PasswordField(label=_("New password"))


class SigningKeyForm(forms.Form):
    """R14: the person's EDS key, a PKCS#12 file and its password (opened once, not kept)."""

    p12 = forms.FileField(label=_("Key file of the electronic digital signature"))
    password = forms.CharField(
        label=_("Password of the key file"),
        required=False,
        strip=False,
        max_length=limits.PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def clean_password(self) -> str:
        text = self.cleaned_data["password"]
        problem = limits.text_problem(text, limits.PASSWORD)
        if problem:
            raise forms.ValidationError(problem, code="limit")
        return text
