"""The search page across recordings (#16 point 3): a GET form over
``taspa.recorder.search.search_recordings``, which applies who may see what."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from taspa.recorder.search import MIN_TEXT, RecordingQuery, search_recordings
from taspa.web.selectors import may_play

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class SearchForm(forms.Form):
    case_number = forms.CharField(label=gettext_lazy("Case number"), max_length=64, required=False)
    party = forms.CharField(label=gettext_lazy("Party's name"), max_length=255, required=False)
    mark_text = forms.CharField(
        label=gettext_lazy("Text of a mark"), max_length=255, required=False
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def _text(self, name: str) -> str:
        value = " ".join(self.cleaned_data.get(name, "").split())
        if value and len(value) < MIN_TEXT:
            raise forms.ValidationError(_("Give at least 3 characters."))
        return value

    def clean_case_number(self) -> str:
        return self._text("case_number")

    def clean_party(self) -> str:
        return self._text("party")

    def clean_mark_text(self) -> str:
        return self._text("mark_text")

    def _day(self, name: str) -> date | None:
        value = self.cleaned_data.get(name)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(_("Give a date between 2000 and 2100."))
        return value

    def clean_date_from(self) -> date | None:
        return self._day("date_from")

    def clean_date_to(self) -> date | None:
        return self._day("date_to")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the range comes before its start."))
        return data


def _page(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) < 6 else 1


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    result, query = None, None
    if form.is_bound and form.is_valid():
        query = RecordingQuery(**form.cleaned_data)
        if not query.empty:
            result = search_recordings(request.user, query, _page(request.GET.get("page", "")))
    page = _page(request.GET.get("page", ""))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "result": result,
        "page": page,
        "params": params.urlencode(),
        "may_play": may_play(request.user),
    }
    return render(request, "web/search.html", context)
