"""Operations endpoints (CONTRACT.md): liveness, readiness, metrics. No token: the server
listens for them where only the proxy and the monitoring reach it."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from taspa.ops.checks import readiness
from taspa.ops.metrics import exposition


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    down = [check.name for check in checks if not check.ok]
    body: dict = {"status": "down" if down else "ok", "down": down}
    if down:
        body["error"] = "not_ready"
        body["detail"] = "; ".join(
            f"{check.name} is down: {check.detail}" for check in checks if not check.ok
        )
    body["checks"] = {check.name: asdict(check) for check in checks}
    return JsonResponse(body, status=503 if down else 200)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
