"""Pages of the access area: the staff dashboard of petitions due and overdue (R34)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from taspa.access import selectors
from taspa.access.calendar import local_today

WINDOWS = ("overdue", "today", "tomorrow", "week", "all")


@login_required
@require_GET
def petitions(request: HttpRequest) -> HttpResponse:
    """Open petitions by deadline, for the court staff who fulfil them (R34)."""
    due = request.GET.get("due", "all")
    due = due if due in WINDOWS else "all"
    today = local_today()
    rows = [
        selectors.petition_answer(p, today)
        for p in selectors.petitions_due(request.user, due, today)[:500]
    ]
    context = {"rows": rows, "due": due, "windows": WINDOWS, "today": today}
    return render(request, "access/petitions.html", context)
