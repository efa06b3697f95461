"""The server's answer to an error no view handled (``handler500``).

While the database is unreachable (restarting, failing over) every request fails the same way:
that is a temporary outage, not a fault of the request, so the answer is 503 with Retry-After —
a proxy then tries another process (nginx ``proxy_next_upstream http_503``) and a client tries
again later. Anything else is a 500. API paths answer in the contract's JSON error shape, pages
with the court's own page in the user's language (templates/500.html); no traceback either way.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

DATABASE_RETRY_AFTER_S = 5


def _database_down() -> bool:
    error = sys.exc_info()[1]
    while error is not None:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    down = _database_down()
    status = 503 if down else 500
    api = request.path.startswith("/api/")
    if api:
        code, detail = (
            ("database_unavailable", _("The database is not reachable now; try again shortly."))
            if down
            else ("server_error", _("The server could not answer; the error was recorded."))
        )
        response: HttpResponse = JsonResponse({"error": code, "detail": detail}, status=status)
    else:
        response = HttpResponse(loader.get_template("500.html").render(), status=status)
    if down:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response
