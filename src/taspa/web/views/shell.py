"""The web shell: home (the user's hearings) and the language switch that remembers the choice."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from taspa.courts import selectors
from taspa.web import selectors as web_selectors
from taspa.web.actions import remember_language


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Today's hearings first (the secretary's day), then every hearing the user sees."""
    hearings = (
        selectors.visible_hearings(request.user)
        .select_related("recording")
        .order_by("-scheduled_at")[:200]
    )
    today = web_selectors.todays_hearings(request.user).select_related("recording")
    staff = web_selectors.may_play(request.user)
    context = {"hearings": hearings, "today": today, "staff": staff}
    return render(request, "web/home.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/"
    response = redirect(next_url)
    if language not in {code for code, _ in settings.LANGUAGES}:
        return response
    if request.user.is_authenticated:
        remember_language(actor=request.user, language=language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response
