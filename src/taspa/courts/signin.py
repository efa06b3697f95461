"""Sign-in throttling (R20: servers are protected from unauthorised access).

django-axes counts failed sign-ins per user name and address (settings ``AXES_*``); this is
the page a locked-out person sees, on the web login and on the admin site alike.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKED_OUT_STATUS = 429


class SignInThrottle(AxesStandaloneBackend):
    """The axes check for sign-ins over HTTP. A call of ``authenticate`` without a request is
    the server's own code (the test client's ``login``, a management command): no address to
    count, so nothing to throttle; the password backends after this one still decide."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def lockout_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page's place, saying why and for how long."""
    context = {"minutes": lockout_minutes(), "limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "registration/locked_out.html", context, status=LOCKED_OUT_STATUS)
