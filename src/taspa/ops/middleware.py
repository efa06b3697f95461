"""One structured log line and one latency observation per request."""

from __future__ import annotations

import json
import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from taspa.ops.metrics import REQUEST_SECONDS

log = logging.getLogger("taspa.requests")


class RequestLog:
    """Logs method, path (never the query string: it may carry a token), status, duration and
    user id as one JSON line on ``taspa.requests``; observes ``taspa_request_duration_seconds``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        started = time.monotonic()
        response = self.get_response(request)
        _finish(request, response, started)
        return response

    async def _acall(self, request: HttpRequest):
        started = time.monotonic()
        response = await self.get_response(request)
        _finish(request, response, started)
        return response


def _user_id(request: HttpRequest) -> int | None:
    # The session's user (AuthenticationMiddleware) or the bearer token's (taspa.api).
    user = request.__dict__.get("user")
    return user.pk if user is not None and user.is_authenticated else None


def _finish(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    seconds = time.monotonic() - started
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match is not None and match.view_name else "unmatched"
    # The URL pattern, not the path: one series per route, whatever the ids in it.
    route = "/" + match.route if match is not None and match.route else "unmatched"
    REQUEST_SECONDS.labels(request.method or "", route, str(response.status_code)).observe(seconds)
    log.info(
        json.dumps(
            {
                "event": "request",
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "user": _user_id(request),
                "view": view,
            },
            ensure_ascii=False,
        )
    )
