"""Dashboards per role: what each person has to attend to, and a participant's portal."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from taspa.web.dashboards import panels_for


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/dashboard.html", {"panels": panels_for(request.user)})
