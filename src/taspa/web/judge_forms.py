"""The judge's forms (issue 16): they only parse — an hh:mm:ss offset into the recording, a
decision's text within the API's limits — so a wrong value is answered next to its field in the
user's language. Whether the decision may be taken is for the actions (``incidents.actions``,
``recorder.portions``), exactly as the API calls them."""

from __future__ import annotations

import math
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from taspa.web.forms import LimitedText

# The API's limits on the same texts (incidents.api.MinutesDecisionIn.note, the action's own
# check; recorder.api.PortionIn.reason).
MINUTES_NOTE = 2000
PORTION_DECISION = 4000

# "01:02:03", "1:02:03.5", "02:03", "75" (seconds); hours up to 999.
OFFSET = re.compile(r"^(?:(?:(\d{1,3}):)?([0-5]?\d):)?(\d{1,6}(?:[.,]\d{1,3})?)$")


def parse_offset(text: str) -> float | None:
    """``text`` as seconds from the start of the recording, or None when it is not a time."""
    match = OFFSET.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    value = float(seconds.replace(",", "."))
    if (hours or minutes) and value >= 60:
        return None  # "01:75" is not a time
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + value


def offset_text(seconds: float | None) -> str:
    """Seconds as the field shows them: hh:mm:ss, a tenth of a second where there is one."""
    if seconds is None:
        return ""
    tenths = math.floor(seconds * 10 + 1e-6)
    whole, tenth = divmod(tenths, 10)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{text}.{tenth}" if tenth else text


class OffsetField(forms.CharField):
    """A moment of the recording as hh:mm:ss from its start (what the player shows)."""

    MAX_LENGTH = 16

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # (no max_length validator: the value is a number)
        self.widget.attrs.update(
            {
                "placeholder": "00:00:00",
                "inputmode": "decimal",
                "autocomplete": "off",
                "maxlength": str(self.MAX_LENGTH),
            }
        )

    def to_python(self, value: Any) -> float | None:
        text = super().to_python(value)
        if not text:
            return None
        seconds = parse_offset(text) if len(text) <= self.MAX_LENGTH else None
        if seconds is None:
            raise forms.ValidationError(
                _("Write the time from the start of the recording as hh:mm:ss, e.g. 00:12:30."),
                code="offset",
            )
        return seconds

    def prepare_value(self, value: Any) -> Any:
        return offset_text(value) if isinstance(value, int | float) else value


class MinutesDecisionForm(forms.Form):
    """R3.4: the judge's decision whether minutes (and so the recording) are kept."""

    keep_minutes = forms.ChoiceField(
        label=_("Minutes of the hearing"),
        choices=[
            ("yes", _("Minutes are kept: the hearing is recorded")),
            ("no", _("Minutes are not kept")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether minutes are kept.")},
    )
    note = LimitedText(
        label=_("The decision's grounds"),
        max_length=MINUTES_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PortionForm(forms.Form):
    """R32 for part of a hearing: ``[start, end)`` of a sealed recording closed by the judge's
    decision (no end: to the end of the recording)."""

    start = OffsetField(label=_("Closed from"))
    end = OffsetField(
        label=_("Closed until"),
        required=False,
        help_text=_("Empty: to the end of the recording."),
    )
    reason = LimitedText(
        label=_("The judge's decision"),
        max_length=PORTION_DECISION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if correcting:  # an empty decision keeps the corrected one's (as the action does)
            self.fields["reason"].help_text = _("Empty: the decision stays as it was.")


class PortionEndForm(forms.Form):
    """The moment a closed part that was left open ends."""

    end = OffsetField(label=_("Closed until"))
